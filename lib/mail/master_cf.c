/*
 * master_cf - master.cf, the service table
 *
 * A pure parser over a buffer (master_cf_parse(), the fuzz target) and a
 * loader around it. Every field is checked; nothing is guessed.
 * Errors: NULL with "FILE, line N: field F: ..." in why; nothing logs.
 * Trust: master.cf is written by the administrator and read by master as
 * root, so it is read as if hostile: bounded lines (textfile.h), no NUL
 * bytes or control characters, command names without '/', and "-o"
 * overrides only for known parameters with values of the right type.
 */
#include "mail/master_cf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/params.h"
#include "util/safe_file.h"
#include "util/sbuf.h"
#include "util/strutil.h"
#include "util/textfile.h"
#include "util/xmalloc.h"

#define MASTER_CF_FILE		"master.cf"
#define MASTER_FIELDS		7	/* before the command */
#define MASTER_PORT_NAME_MAX	32	/* bytes of a port name */
#define MASTER_HOST_MAX		255

static const char *const master_type_names[] = {
	[MASTER_INET] = "inet",
	[MASTER_UNIX] = "unix",
	[MASTER_FIFO] = "fifo",
};

static const char *const master_field_names[] = {
	"service", "type", "private", "unpriv", "chroot", "wakeup", "maxproc",
	"command",
};

struct master_parse {
	const char *name;		/* file name for messages */
	long default_maxproc;
	struct master_service *services;
	size_t count, cap;
	int lineno;			/* of the line being parsed */
};

const char *
master_type_name(enum master_type type)
{
	return master_type_names[type];
}

int
master_type_parse(const char *s, enum master_type *type_r)
{
	for (size_t i = 0; i < sizeof(master_type_names) /
	    sizeof(master_type_names[0]); i++) {
		if (strcmp(s, master_type_names[i]) == 0) {
			*type_r = (enum master_type)i;
			return 0;
		}
	}
	return -1;
}

/* Sets why to "FILE, line N: field F: ..." and returns -1. */
static int
master_error(const struct master_parse *mp, int field, struct sbuf *why,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
master_error(const struct master_parse *mp, int field, struct sbuf *why,
    const char *fmt, ...)
{
	va_list ap;

	sbuf_setf(why, "%s, line %d: field %s: ", mp->name, mp->lineno,
	    master_field_names[field]);
	va_start(ap, fmt);
	sbuf_vprintf(why, fmt, ap);
	va_end(ap);
	return -1;
}

/* True when every byte of s is a letter, digit or one of extra. */
static bool
master_chars_ok(const char *s, const char *extra)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && strchr(extra, *s) == NULL)
			return false;
	return true;
}

/* Reads a whole decimal number from 0 to max; 0 or -1. */
static int
master_number(const char *s, long max, long *n_r)
{
	long n = 0;

	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		if (n > (max - (*s - '0')) / 10)
			return -1;
		n = n * 10 + (*s - '0');
	}
	if (*s != '\0')
		return -1;
	*n_r = n;
	return 0;
}

static bool
master_port_ok(const char *port)
{
	long n;

	if (isdigit((unsigned char)*port))
		return master_number(port, 65535, &n) == 0 && n > 0;
	return strlen(port) <= MASTER_PORT_NAME_MAX &&
	    isalpha((unsigned char)*port) && master_chars_ok(port, "-");
}

static bool
master_host_ok(const char *host)
{
	struct in_addr a4;

	if (strlen(host) > MASTER_HOST_MAX || !master_chars_ok(host, ".-") ||
	    *host == '.' || *host == '-')
		return false;
	/* All digits and dots: it must be an IPv4 address. */
	if (strspn(host, "0123456789.") == strlen(host))
		return inet_pton(AF_INET, host, &a4) == 1;
	return true;
}

/* Splits and checks an inet service name into s->host and s->port. */
static int
master_inet_name(const struct master_parse *mp, struct master_service *s,
    struct sbuf *why)
{
	const char *name = s->name, *colon;
	char *host = NULL;
	struct in6_addr a6;

	if (name[0] == '[') {
		const char *close = strchr(name, ']');

		if (close == NULL || close[1] != ':')
			return master_error(mp, 0, why, "bad inet service "
			    "\"%.100s\": expected [address]:port", name);
		host = xstrndup(name + 1, (size_t)(close - name - 1));
		if (inet_pton(AF_INET6, host, &a6) != 1) {
			free(host);
			return master_error(mp, 0, why, "bad IPv6 address in "
			    "\"%.100s\"", name);
		}
		colon = close + 1;
	} else if ((colon = strrchr(name, ':')) != NULL) {
		host = xstrndup(name, (size_t)(colon - name));
		if (strchr(host, ':') != NULL) {
			free(host);
			return master_error(mp, 0, why, "bad inet service "
			    "\"%.100s\": write an IPv6 address in brackets, "
			    "[address]:port", name);
		}
		if (!master_host_ok(host)) {
			free(host);
			return master_error(mp, 0, why, "bad host in inet "
			    "service \"%.100s\"", name);
		}
	}
	if (!master_port_ok(colon ? colon + 1 : name)) {
		free(host);
		return master_error(mp, 0, why, "bad port in inet service "
		    "\"%.100s\": expected a number from 1 to 65535 or a "
		    "service name", name);
	}
	s->host = host;
	s->port = xstrdup(colon ? colon + 1 : name);
	return 0;
}

/* Parses a y/n/- field; "-" takes def and sets def_bit in s->defaults. */
static int
master_flag(const struct master_parse *mp, int field, const char *text,
    bool def, bool *value_r, struct master_service *s, int def_bit,
    struct sbuf *why)
{
	if (strcmp(text, "-") == 0) {
		*value_r = def;
		s->defaults |= def_bit;
	} else if (strcmp(text, "y") == 0) {
		*value_r = true;
	} else if (strcmp(text, "n") == 0) {
		*value_r = false;
	} else {
		return master_error(mp, field, why, "bad value \"%.20s\": "
		    "expected y, n or -", text);
	}
	return 0;
}

static int
master_wakeup(const struct master_parse *mp, const char *text,
    struct master_service *s, struct sbuf *why)
{
	size_t len = strlen(text);
	char *digits;
	long n;
	int ret;

	if (strcmp(text, "-") == 0) {
		s->defaults |= MASTER_DEF_WAKEUP;
		return 0;
	}
	s->wakeup_if_used = len > 0 && text[len - 1] == '?';
	digits = xstrndup(text, s->wakeup_if_used ? len - 1 : len);
	ret = master_number(digits, PARAM_TIME_MAX, &n);
	free(digits);
	if (ret < 0)
		return master_error(mp, 5, why, "bad value \"%.20s\": "
		    "expected seconds, seconds? or -", text);
	if (n > 0 && s->type == MASTER_INET)
		return master_error(mp, 5, why, "an inet service cannot be "
		    "woken up");
	s->wakeup = (int)n;
	return 0;
}

static int
master_maxproc(const struct master_parse *mp, const char *text,
    struct master_service *s, struct sbuf *why)
{
	long n;

	if (strcmp(text, "-") == 0) {
		s->defaults |= MASTER_DEF_MAXPROC;
		s->maxproc = (int)mp->default_maxproc;
		return 0;
	}
	if (master_number(text, PARAM_INT_MAX, &n) < 0)
		return master_error(mp, 6, why, "bad value \"%.20s\": "
		    "expected a number or -", text);
	s->maxproc = (int)n;
	return 0;
}

/*
 * Checks one "-o name=value" override (arg is modifiable) and returns it
 * as "name=value" with the blanks around '=' removed.
 */
static char *
master_override(const struct master_parse *mp, char *arg, struct sbuf *why)
{
	char *eq = strchr(arg, '='), *name, *value;
	const struct param_def *def;
	union param_value v;
	struct sbuf *reason, *out;

	if (eq == NULL) {
		master_error(mp, 7, why, "-o \"%.100s\": expected name=value",
		    arg);
		return NULL;
	}
	*eq = '\0';
	name = str_trim(arg);
	value = str_trim(eq + 1);
	if ((def = params_find(name)) == NULL) {
		master_error(mp, 7, why, "-o %.100s: unknown parameter", name);
		return NULL;
	}
	/* A value with $name is checked once expanded, by the daemon. */
	reason = sbuf_new();
	if (strchr(value, '$') == NULL &&
	    params_parse_value(def, value, &v, reason) < 0) {
		master_error(mp, 7, why, "-o %s", sbuf_str(reason));
		sbuf_free(&reason);
		return NULL;
	}
	sbuf_free(&reason);
	out = sbuf_new();
	sbuf_printf(out, "%s=%s", name, value);
	value = sbuf_steal(out);
	sbuf_free(&out);
	return value;
}

/*
 * Splits line in place into fields; from the command's arguments on, a
 * field "{ text }" is the text inside, trimmed. The caller frees *tok_r.
 */
static int
master_split(const struct master_parse *mp, char *line, char ***tok_r,
    size_t *n_r, struct sbuf *why)
{
	char **tok = NULL, *p = line;
	size_t n = 0, cap = 0;

	for (;;) {
		char *start;

		p += strspn(p, " \t");
		if (*p == '\0')
			break;
		if (*p == '{' && n > MASTER_FIELDS) {
			int depth = 0;
			char *q = p;

			do {
				if (*q == '{')
					depth++;
				else if (*q == '}')
					depth--;
				else if (*q == '\0')
					break;
				q++;
			} while (depth > 0);
			if (depth > 0 || (*q != '\0' &&
			    strchr(" \t", *q) == NULL)) {
				free(tok);
				return master_error(mp, 7, why, "argument "
				    "\"%.40s\": expected { text }", p);
			}
			q[-1] = '\0';
			start = str_trim(p + 1);
			p = q;
		} else {
			start = p;
			p += strcspn(p, " \t");
		}
		if (*p != '\0')
			*p++ = '\0';
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			tok = xreallocarray(tok, cap, sizeof(*tok));
		}
		tok[n++] = start;
	}
	*tok_r = tok;
	*n_r = n;
	return 0;
}

void
master_service_copy(struct master_service *to,
    const struct master_service *from)
{
	*to = *from;
	to->name = xstrdup(from->name);
	to->host = from->host != NULL ? xstrdup(from->host) : NULL;
	to->port = from->port != NULL ? xstrdup(from->port) : NULL;
	to->argv = xcalloc(from->argc + 1, sizeof(*to->argv));
	for (size_t i = 0; i < from->argc; i++)
		to->argv[i] = xstrdup(from->argv[i]);
}

void
master_service_clear(struct master_service *s)
{
	free(s->name);
	free(s->host);
	free(s->port);
	for (size_t i = 0; i < s->argc; i++)
		free(s->argv[i]);
	free(s->argv);
	memset(s, 0, sizeof(*s));
}

/* Appends an argument to s->argv (room made by master_command()). */
static void
master_push(struct master_service *s, char *arg)
{
	s->argv[s->argc++] = arg;
	s->argv[s->argc] = NULL;
}

static bool
master_name_ok(const char *name)
{
	return strlen(name) <= MASTER_NAME_MAX &&
	    master_chars_ok(name, "_.-") && name[0] != '.' && name[0] != '-';
}

/* Checks the command and its arguments into s->argv. */
static int
master_command(const struct master_parse *mp, char **tok, size_t n,
    struct master_service *s, struct sbuf *why)
{
	/* A field gives at most two arguments ("-oname=value"). */
	s->argv = xcalloc(2 * (n - MASTER_FIELDS) + 1, sizeof(*s->argv));
	for (size_t i = MASTER_FIELDS; i < n; i++) {
		char *arg;

		if (params_has_ctl(tok[i]))
			return master_error(mp, 7, why, "control character "
			    "in argument");
		if (i == MASTER_FIELDS) {
			if (!master_name_ok(tok[i]))
				return master_error(mp, 7, why, "bad command "
				    "\"%.100s\": expected a program name in "
				    "daemon_directory, without '/'", tok[i]);
			arg = xstrdup(tok[i]);
		} else if (strncmp(tok[i], "-o", 2) == 0) {
			char *text = tok[i][2] != '\0' ? tok[i] + 2 :
			    i + 1 < n ? tok[++i] : NULL;

			if (text == NULL)
				return master_error(mp, 7, why,
				    "-o needs name=value");
			if (params_has_ctl(text))
				return master_error(mp, 7, why, "control "
				    "character in argument");
			if ((arg = master_override(mp, text, why)) == NULL)
				return -1;
			master_push(s, xstrdup("-o"));
		} else {
			arg = xstrdup(tok[i]);
		}
		master_push(s, arg);
	}
	return 0;
}

const struct master_service *
master_cf_find(const struct master_cf *mc, const char *name,
    enum master_type type)
{
	for (size_t i = 0; i < mc->count; i++)
		if (mc->services[i].type == type &&
		    strcmp(mc->services[i].name, name) == 0)
			return &mc->services[i];
	return NULL;
}

/* Parses the fields of one service into s. */
static int
master_service(struct master_parse *mp, char **tok, size_t n,
    struct master_service *s, struct sbuf *why)
{
	bool priv_default;

	if (n < MASTER_FIELDS + 1) {
		sbuf_setf(why, "%s, line %d: %zu fields: expected service "
		    "type private unpriv chroot wakeup maxproc command "
		    "[args]", mp->name, mp->lineno, n);
		return -1;
	}
	if (master_type_parse(tok[1], &s->type) < 0)
		return master_error(mp, 1, why, "bad value \"%.20s\": "
		    "expected inet, unix or fifo", tok[1]);
	s->name = xstrdup(tok[0]);
	s->lineno = mp->lineno;
	if (s->type == MASTER_INET) {
		if (master_inet_name(mp, s, why) < 0)
			return -1;
	} else if (!master_name_ok(s->name)) {
		return master_error(mp, 0, why, "bad %s service name "
		    "\"%.100s\": expected letters, digits, _, . and -",
		    tok[1], s->name);
	}
	priv_default = s->type != MASTER_INET;
	if (master_flag(mp, 2, tok[2], priv_default, &s->private_socket, s,
	    MASTER_DEF_PRIVATE, why) < 0 ||
	    master_flag(mp, 3, tok[3], true, &s->unprivileged, s,
	    MASTER_DEF_UNPRIV, why) < 0 ||
	    master_flag(mp, 4, tok[4], false, &s->chroot, s,
	    MASTER_DEF_CHROOT, why) < 0 ||
	    master_wakeup(mp, tok[5], s, why) < 0 ||
	    master_maxproc(mp, tok[6], s, why) < 0)
		return -1;
	if (s->type == MASTER_INET && s->private_socket)
		return master_error(mp, 2, why, "an inet service cannot be "
		    "private");
	return master_command(mp, tok, n, s, why);
}

static int
master_cf_line(char *line, int lineno, void *ctx, struct sbuf *why)
{
	struct master_parse *mp = ctx;
	struct master_service s = {0};
	char **tok = NULL;
	size_t n = 0;
	int ret;

	mp->lineno = lineno;
	if (master_split(mp, line, &tok, &n, why) < 0)
		return -1;
	ret = master_service(mp, tok, n, &s, why);
	free(tok);
	if (ret == 0) {
		for (size_t i = 0; i < mp->count; i++) {
			const struct master_service *o = &mp->services[i];

			if (o->type == s.type && strcmp(o->name, s.name) == 0) {
				ret = master_error(mp, 0, why, "service "
				    "\"%.100s\" of type %s already defined "
				    "at line %d", s.name,
				    master_type_name(s.type), o->lineno);
				break;
			}
		}
	}
	if (ret < 0) {
		master_service_clear(&s);
		return -1;
	}
	if (mp->count == mp->cap) {
		mp->cap = mp->cap ? mp->cap * 2 : 16;
		mp->services = xreallocarray(mp->services, mp->cap,
		    sizeof(*mp->services));
	}
	mp->services[mp->count++] = s;
	return 0;
}

struct master_cf *
master_cf_parse(const char *data, size_t len, const char *name,
    long default_maxproc, struct sbuf *why)
{
	struct master_parse mp = {.name = name,
	    .default_maxproc = default_maxproc};
	struct master_cf *mc;

	if (textfile_parse(data, len, name, master_cf_line, &mp, why) < 0) {
		for (size_t i = 0; i < mp.count; i++)
			master_service_clear(&mp.services[i]);
		free(mp.services);
		return NULL;
	}
	mc = xcalloc(1, sizeof(*mc));
	mc->path = xstrdup(name);
	mc->services = mp.services;
	mc->count = mp.count;
	return mc;
}

struct master_cf *
master_cf_load(const char *config_dir, long default_maxproc,
    struct sbuf *why)
{
	struct sbuf *path = sbuf_new(), *data = sbuf_new();
	struct master_cf *mc = NULL;

	sbuf_printf(path, "%s/%s", config_dir, MASTER_CF_FILE);
	if (safe_file_read(sbuf_str(path), TEXTFILE_SIZE_MAX, data, why) == 0)
		mc = master_cf_parse(sbuf_str(data), sbuf_len(data),
		    sbuf_str(path), default_maxproc, why);
	sbuf_free(&path);
	sbuf_free(&data);
	return mc;
}

void
master_cf_free(struct master_cf **mcp)
{
	struct master_cf *mc = *mcp;

	if (mc == NULL)
		return;
	for (size_t i = 0; i < mc->count; i++)
		master_service_clear(&mc->services[i]);
	free(mc->services);
	free(mc->path);
	xfree(mcp);
}

/* A y/n field, or "-" when it took its default. */
static const char *
master_flag_text(const struct master_service *s, int bit, bool value)
{
	if (s->defaults & bit)
		return "-";
	return value ? "y" : "n";
}

void
master_service_format(const struct master_service *s, struct sbuf *out)
{
	char wakeup[16], maxproc[16];

	if (s->defaults & MASTER_DEF_WAKEUP)
		snprintf(wakeup, sizeof(wakeup), "-");
	else
		snprintf(wakeup, sizeof(wakeup), "%d%s", s->wakeup,
		    s->wakeup_if_used ? "?" : "");
	if (s->defaults & MASTER_DEF_MAXPROC)
		snprintf(maxproc, sizeof(maxproc), "-");
	else
		snprintf(maxproc, sizeof(maxproc), "%d", s->maxproc);
	sbuf_printf(out, "%-10s %-5s %-7s %-7s %-7s %-7s %-7s", s->name,
	    master_type_name(s->type),
	    master_flag_text(s, MASTER_DEF_PRIVATE, s->private_socket),
	    master_flag_text(s, MASTER_DEF_UNPRIV, s->unprivileged),
	    master_flag_text(s, MASTER_DEF_CHROOT, s->chroot), wakeup,
	    maxproc);
	for (size_t i = 0; i < s->argc; i++) {
		if (s->argv[i][0] == '\0')
			sbuf_cat(out, " {}");
		else if (strpbrk(s->argv[i], " \t") != NULL ||
		    s->argv[i][0] == '{')
			sbuf_printf(out, " { %s }", s->argv[i]);
		else
			sbuf_printf(out, " %s", s->argv[i]);
	}
	sbuf_catc(out, '\n');
}
