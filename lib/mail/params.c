/*
 * params - the parameter table, value parsers and computed defaults
 *
 * The table is generated from params.def. Values are parsed strictly: a
 * number with junk after it, a sign, or a value out of range is refused,
 * never truncated or wrapped.
 * Errors: -1 with "parameter NAME: bad TYPE value \"...\": expected ..."
 * in why (params_fill() adds the file and line); nothing logs.
 * Trust: values come from main.cf, master.cf -o overrides or the command
 * line of postern-conf, written by the administrator but checked as if
 * hostile; the host name comes from the system resolver and is checked.
 */
#include "mail/params.h"

#include <ctype.h>
#include <limits.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "mail/main_cf.h"
#include "util/sbuf.h"
#include "util/strutil.h"
#include "util/xmalloc.h"

/* Domain of a host name with no dot, and the fallback host name. */
#define PARAMS_LOCAL_DOMAIN	"localdomain"
#define PARAMS_LOCAL_HOST	"localhost"
/* Longest piece of a refused value quoted in a reason. */
#define PARAMS_QUOTE_MAX	60

const struct param_def params_table[PARAM_COUNT] = {
#define PARAM(type, name, def, desc) \
	{#name, PARAM_##type, def, desc, offsetof(struct params, name)},
#include "mail/params.def"
#undef PARAM
};

static const char *const params_type_names[] = {
	[PARAM_STR] = "string",
	[PARAM_INT] = "integer",
	[PARAM_BOOL] = "boolean",
	[PARAM_TIME] = "time",
	[PARAM_SIZE] = "size",
	[PARAM_LIST] = "list",
	[PARAM_MAPS] = "lookup tables",
};

/* A name that need not be NUL-terminated, as bsearch() key. */
struct params_key {
	const char *name;
	size_t len;
};

static int
params_compare(const void *key, const void *elem)
{
	const struct params_key *k = key;
	const struct param_def *def = elem;
	int r = strncmp(k->name, def->name, k->len);

	if (r != 0)
		return r;
	return def->name[k->len] == '\0' ? 0 : -1;
}

const struct param_def *
params_find_len(const char *name, size_t len)
{
	struct params_key key = {name, len};

	if (memchr(name, '\0', len) != NULL)
		return NULL;
	return bsearch(&key, params_table, PARAM_COUNT,
	    sizeof(params_table[0]), params_compare);
}

const struct param_def *
params_find(const char *name)
{
	return params_find_len(name, strlen(name));
}

const char *
params_type_name(enum param_type type)
{
	if ((size_t)type >= sizeof(params_type_names) /
	    sizeof(params_type_names[0]))
		return "unknown";
	return params_type_names[type];
}

/* Sets why to "parameter NAME: bad TYPE value "VALUE": " and returns -1. */
static int
params_bad(const struct param_def *def, const char *value, const char *hint,
    struct sbuf *why)
{
	size_t len = strlen(value);
	int show = len > PARAMS_QUOTE_MAX ? PARAMS_QUOTE_MAX : (int)len;

	sbuf_setf(why, "parameter %s: bad %s value \"%.*s%s\": %s", def->name,
	    params_type_name(def->type), show, value,
	    len > (size_t)show ? "..." : "", hint);
	return -1;
}

/*
 * Reads the decimal digits at *s into *n, advancing *s: 0, or -1 when
 * there is no digit or the number passes max.
 */
static int
params_digits(const char **s, unsigned long long max,
    unsigned long long *n_r)
{
	const char *p = *s;
	unsigned long long n = 0;

	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');

		if (n > (max - d) / 10)
			return -1;
		n = n * 10 + d;
	}
	*s = p;
	*n_r = n;
	return 0;
}

bool
params_has_ctl(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			return true;
	return false;
}

static int
params_parse_int(const struct param_def *def, const char *value,
    union param_value *r, struct sbuf *why)
{
	const char *p = value;
	unsigned long long n = 0;

	if (params_digits(&p, PARAM_INT_MAX, &n) < 0 || *p != '\0')
		return params_bad(def, value,
		    "expected a decimal number from 0 to 2147483647", why);
	r->number = (long)n;
	return 0;
}

static int
params_parse_bool(const struct param_def *def, const char *value,
    union param_value *r, struct sbuf *why)
{
	if (strcasecmp(value, "yes") == 0 || strcasecmp(value, "true") == 0)
		r->flag = true;
	else if (strcasecmp(value, "no") == 0 ||
	    strcasecmp(value, "false") == 0)
		r->flag = false;
	else
		return params_bad(def, value, "expected yes or no", why);
	return 0;
}

/* Seconds per unit letter, or 0 for a letter that is no unit. */
static unsigned long long
params_time_unit(int c)
{
	switch (c) {
	case 's':
		return 1;
	case 'm':
		return 60;
	case 'h':
		return 3600;
	case 'd':
		return 86400;
	case 'w':
		return 604800;
	}
	return 0;
}

static int
params_parse_time(const struct param_def *def, const char *value,
    union param_value *r, struct sbuf *why)
{
	const char *p = value;
	unsigned long long n = 0, unit = 1;
	size_t dlen = def->def ? strlen(def->def) : 0;

	/* A bare number takes the unit of the default. */
	if (dlen > 0 && params_time_unit(def->def[dlen - 1]) != 0)
		unit = params_time_unit(def->def[dlen - 1]);
	if (params_digits(&p, ULLONG_MAX, &n) < 0 ||
	    (*p != '\0' && (params_time_unit(*p) == 0 || p[1] != '\0')))
		return params_bad(def, value, "expected a number with an "
		    "optional unit s, m, h, d or w", why);
	if (*p != '\0')
		unit = params_time_unit(*p);
	if (n > (unsigned long long)PARAM_TIME_MAX / unit)
		return params_bad(def, value,
		    "longer than 2147483647 seconds", why);
	r->number = (long)(n * unit);
	return 0;
}

static int
params_parse_size(const struct param_def *def, const char *value,
    union param_value *r, struct sbuf *why)
{
	const char *p = value;
	unsigned long long n = 0, mult = 1;

	if (params_digits(&p, ULLONG_MAX, &n) < 0)
		return params_bad(def, value, "expected a number of bytes "
		    "with an optional suffix k, m or g", why);
	switch (tolower((unsigned char)*p)) {
	case '\0':
		break;
	case 'k':
		mult = 1024;
		break;
	case 'm':
		mult = 1024 * 1024;
		break;
	case 'g':
		mult = 1024 * 1024 * 1024;
		break;
	default:
		return params_bad(def, value, "expected a number of bytes "
		    "with an optional suffix k, m or g", why);
	}
	if (*p != '\0' && p[1] != '\0')
		return params_bad(def, value, "expected a number of bytes "
		    "with an optional suffix k, m or g", why);
	if (n > ULLONG_MAX / mult)
		return params_bad(def, value, "too large", why);
	r->size = n * mult;
	return 0;
}

/* Checks that value is a list of "type:name" lookup tables. */
static int
params_parse_maps(const struct param_def *def, const char *value,
    union param_value *r, struct sbuf *why)
{
	const char *p = value;

	for (;;) {
		const char *type;

		p += strspn(p, STR_LIST_DELIMS);
		if (*p == '\0')
			break;
		type = p;
		while (isalnum((unsigned char)*p) || *p == '_')
			p++;
		if (p == type || *p != ':')
			return params_bad(def, value, "expected lookup "
			    "tables type:name", why);
		p++;
		if (*p == '{') {
			int depth = 0;

			do {
				if (*p == '{')
					depth++;
				else if (*p == '}')
					depth--;
				else if (*p == '\0')
					return params_bad(def, value,
					    "missing '}'", why);
				p++;
			} while (depth > 0);
			if (*p != '\0' && strchr(STR_LIST_DELIMS, *p) == NULL)
				return params_bad(def, value,
				    "text after '}'", why);
		} else {
			size_t n = strcspn(p, STR_LIST_DELIMS);

			if (n == 0)
				return params_bad(def, value, "expected lookup "
				    "tables type:name", why);
			p += n;
		}
	}
	r->text = value;
	return 0;
}

int
params_parse_value(const struct param_def *def, const char *value,
    union param_value *value_r, struct sbuf *why)
{
	if (params_has_ctl(value))
		return params_bad(def, value, "control character", why);
	switch (def->type) {
	case PARAM_INT:
		return params_parse_int(def, value, value_r, why);
	case PARAM_BOOL:
		return params_parse_bool(def, value, value_r, why);
	case PARAM_TIME:
		return params_parse_time(def, value, value_r, why);
	case PARAM_SIZE:
		return params_parse_size(def, value, value_r, why);
	case PARAM_MAPS:
		return params_parse_maps(def, value, value_r, why);
	case PARAM_STR:
	case PARAM_LIST:
		value_r->text = value;
		return 0;
	}
	return params_bad(def, value, "unknown type", why);
}

int
params_set(struct params *p, const struct param_def *def, const char *value,
    struct sbuf *why)
{
	union param_value v;
	char *field = (char *)p + def->offset;

	if (params_parse_value(def, value, &v, why) < 0)
		return -1;
	switch (def->type) {
	case PARAM_STR:
	case PARAM_LIST:
	case PARAM_MAPS:
		free(*(char **)field);
		*(char **)field = xstrdup(v.text);
		break;
	case PARAM_INT:
	case PARAM_TIME:
		*(long *)field = v.number;
		break;
	case PARAM_BOOL:
		*(bool *)field = v.flag;
		break;
	case PARAM_SIZE:
		*(unsigned long long *)field = v.size;
		break;
	}
	return 0;
}

/* True when s is a plausible host name: letters, digits, '-' and '.'. */
static bool
params_host_ok(const char *s)
{
	if (*s == '\0' || *s == '.' || *s == '-')
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '.')
			return false;
	return true;
}

/* The system's host name, looked up once per process. */
static const char *
params_system_hostname(void)
{
	static char *cached;
	char host[256];
	struct addrinfo hints, *ai;

	if (cached != NULL)
		return cached;
	if (gethostname(host, sizeof(host)) < 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	if (!params_host_ok(host)) {
		cached = xstrdup(PARAMS_LOCAL_HOST "." PARAMS_LOCAL_DOMAIN);
		return cached;
	}
	if (strchr(host, '.') == NULL) {
		memset(&hints, 0, sizeof(hints));
		hints.ai_flags = AI_CANONNAME;
		hints.ai_socktype = SOCK_STREAM;
		if (getaddrinfo(host, NULL, &hints, &ai) == 0) {
			if (ai->ai_canonname != NULL &&
			    strchr(ai->ai_canonname, '.') != NULL &&
			    params_host_ok(ai->ai_canonname))
				cached = xstrdup(ai->ai_canonname);
			freeaddrinfo(ai);
		}
	} else {
		cached = xstrdup(host);
	}
	if (cached == NULL) {
		struct sbuf *name = sbuf_new();

		sbuf_printf(name, "%s.%s", host, PARAMS_LOCAL_DOMAIN);
		cached = sbuf_steal(name);
		sbuf_free(&name);
	}
	return cached;
}

void
params_compute(const struct param_def *def, const char *myhostname,
    struct sbuf *out)
{
	const char *dot;

	if (def == &params_table[PARAM_ID_myhostname]) {
		sbuf_cat(out, params_system_hostname());
	} else {
		dot = strchr(myhostname, '.');
		sbuf_cat(out, dot != NULL && dot[1] != '\0' ? dot + 1 :
		    PARAMS_LOCAL_DOMAIN);
	}
}

struct params *
params_new(void)
{
	return xcalloc(1, sizeof(struct params));
}

void
params_free(struct params **pp)
{
	struct params *p = *pp;

	if (p == NULL)
		return;
	for (size_t i = 0; i < PARAM_COUNT; i++) {
		const struct param_def *def = &params_table[i];

		if (def->type == PARAM_STR || def->type == PARAM_LIST ||
		    def->type == PARAM_MAPS)
			free(*(char **)((char *)p + def->offset));
	}
	xfree(pp);
}

int
params_fill(struct params *p, struct main_cf *cf, struct sbuf *why)
{
	struct sbuf *value = sbuf_new(), *reason = sbuf_new();
	int ret = 0;

	for (size_t i = 0; i < PARAM_COUNT && ret == 0; i++) {
		const struct param_def *def = &params_table[i];

		sbuf_reset(value);
		if (main_cf_value(cf, def->name, value, why) < 0) {
			ret = -1;
		} else if (params_set(p, def, sbuf_str(value), reason) < 0) {
			sbuf_reset(why);
			main_cf_where(cf, def->name, why);
			sbuf_cat(why, sbuf_str(reason));
			ret = -1;
		}
	}
	sbuf_free(&value);
	sbuf_free(&reason);
	return ret;
}

struct params *
params_load(const char *config_dir, struct sbuf *warnings, struct sbuf *why)
{
	struct main_cf *cf = main_cf_load(config_dir, why);
	struct params *p;

	if (cf == NULL)
		return NULL;
	if (warnings != NULL)
		main_cf_unknown(cf, NULL, warnings);
	p = params_new();
	if (params_fill(p, cf, why) < 0)
		params_free(&p);
	main_cf_free(&cf);
	return p;
}
