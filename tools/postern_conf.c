/*
 * postern-conf - show and edit the Postern configuration, like postconf
 *
 *   postern-conf [-c dir] [-d | -n] [-hx] [name ...]
 *   postern-conf [-c dir] -e name=value ...
 *   postern-conf [-c dir] -X name ...
 *   postern-conf [-c dir] -M [service[/type] ...]
 *
 * Prints "name = value" for every parameter (sorted by name) or for the
 * names given; -n only what main.cf sets, -d the defaults, -h the values
 * alone, -x values expanded. -e and -X edit main.cf in place (comments and
 * order kept, the file replaced atomically); -M prints master.cf services.
 * The configuration directory is -c DIR, else $MAIL_CONFIG, else the
 * compiled-in default. See postern-conf(1).
 *
 * Errors: sysexits codes: EX_USAGE for bad options, EX_DATAERR for a -e
 * value its parameter refuses, EX_CONFIG for a main.cf or master.cf that
 * cannot be read or parsed, for a value that its parameter refuses and
 * for an unknown parameter or service name (reported after everything
 * else is printed), EX_IOERR when standard output or main.cf cannot be
 * written.
 * Trust: the caller may edit main.cf (file permissions decide); values
 * are checked by type before main.cf is changed.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "mail/main_cf.h"
#include "mail/master_cf.h"
#include "mail/params.h"
#include "util/msg.h"
#include "util/sbuf.h"
#include "util/strutil.h"
#include "util/xmalloc.h"

#define SHOW_DEFAULTS	(1 << 0)	/* -d */
#define SHOW_SET	(1 << 1)	/* -n */
#define SHOW_VALUES	(1 << 2)	/* -h */
#define SHOW_EXPANDED	(1 << 3)	/* -x */

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
	    "usage: postern-conf [-c dir] [-d | -n] [-hx] [name ...]\n"
	    "       postern-conf [-c dir] -e name=value ...\n"
	    "       postern-conf [-c dir] -X name ...\n"
	    "       postern-conf [-c dir] -M [service[/type] ...]\n");
	exit(EX_USAGE);
}

/* Logs each line of warnings; returns EX_CONFIG when there was one. */
static int
warn_lines(struct sbuf *warnings)
{
	char *cursor = warnings->data, *line;
	int status = EX_OK;

	while ((line = str_token(&cursor, "\n")) != NULL) {
		msg_warn("%s", line);
		status = EX_CONFIG;
	}
	sbuf_reset(warnings);
	return status;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * The names to show when none are given: every parameter and every
 * main.cf name that another setting refers to, or with -n what main.cf
 * sets; sorted. The caller frees the array.
 */
static const char **
all_names(const struct main_cf *cf, int flags, size_t *n_r)
{
	size_t count = main_cf_count(cf), n = 0;
	const char **names = xcalloc(PARAM_COUNT + count, sizeof(*names));

	if (!(flags & SHOW_SET))
		for (size_t i = 0; i < PARAM_COUNT; i++)
			names[n++] = params_table[i].name;
	for (size_t i = 0; i < count; i++) {
		const char *name = main_cf_entry_at(cf, i)->name;

		if ((flags & SHOW_SET) || (params_find(name) == NULL &&
		    main_cf_referenced(cf, name)))
			names[n++] = name;
	}
	qsort(names, n, sizeof(*names), name_cmp);
	*n_r = n;
	return names;
}

/*
 * The -o values of master.cf, if it parses, whose $name references keep
 * main.cf settings from being unknown; the caller frees the text.
 */
static char *
master_overrides(const char *dir)
{
	struct sbuf *text = sbuf_new(), *why = sbuf_new();
	struct master_cf *mc = master_cf_load(dir, 0, why);
	char *s;

	for (size_t i = 0; mc != NULL && i < mc->count; i++) {
		const struct master_service *svc = &mc->services[i];

		for (size_t j = 1; j < svc->argc; j++) {
			if (strcmp(svc->argv[j - 1], "-o") == 0) {
				sbuf_cat(text, svc->argv[j]);
				sbuf_catc(text, '\n');
			}
		}
	}
	master_cf_free(&mc);
	sbuf_free(&why);
	s = sbuf_steal(text);
	sbuf_free(&text);
	return s;
}

/* Prints one parameter; 0, or -1 with a reason. */
static int
show_one(struct main_cf *cf, const char *name, int flags, struct sbuf *why)
{
	struct sbuf *value = sbuf_new();
	const char *raw;
	int ret = 0;

	if (flags & SHOW_EXPANDED)
		ret = main_cf_value(cf, name, value, why);
	else if ((ret = main_cf_raw(cf, name, &raw, why)) == 0 && raw != NULL)
		sbuf_cat(value, raw);
	if (ret == 0) {
		if (flags & SHOW_VALUES)
			printf("%s\n", sbuf_str(value));
		else if (sbuf_len(value) == 0)
			printf("%s =\n", name);
		else
			printf("%s = %s\n", name, sbuf_str(value));
	}
	sbuf_free(&value);
	return ret;
}

static int
show(const char *dir, int flags, char **args, int nargs)
{
	struct sbuf *why = sbuf_new(), *warnings = sbuf_new();
	struct main_cf *cf;
	struct params *p;
	const char **names;
	char *overrides;
	size_t n;
	int status;

	if (flags & SHOW_DEFAULTS)
		cf = main_cf_parse("", 0, "defaults", why);
	else
		cf = main_cf_load(dir, why);
	if (cf == NULL)
		msg_fatal_status(EX_CONFIG, "%s", sbuf_str(why));
	overrides = flags & SHOW_DEFAULTS ? NULL : master_overrides(dir);
	main_cf_unknown(cf, overrides, warnings);
	free(overrides);
	status = warn_lines(warnings);
	if (nargs > 0) {
		names = xcalloc((size_t)nargs, sizeof(*names));
		n = 0;
		for (int i = 0; i < nargs; i++) {
			if (params_find(args[i]) == NULL &&
			    main_cf_lookup(cf, args[i]) == NULL) {
				msg_warn("%s: unknown parameter", args[i]);
				status = EX_CONFIG;
			} else if (!(flags & SHOW_SET) ||
			    main_cf_lookup(cf, args[i]) != NULL) {
				names[n++] = args[i];
			}
		}
	} else {
		names = all_names(cf, flags, &n);
	}
	for (size_t i = 0; i < n; i++)
		if (show_one(cf, names[i], flags, why) < 0)
			msg_fatal_status(EX_CONFIG, "%s", sbuf_str(why));
	/* What was shown may still not be usable: check every value. */
	p = params_new();
	if (params_fill(p, cf, why) < 0) {
		msg_error("%s", sbuf_str(why));
		status = EX_CONFIG;
	}
	params_free(&p);
	free(names);
	main_cf_free(&cf);
	sbuf_free(&why);
	sbuf_free(&warnings);
	return status;
}

/* Applies -e (values given) or -X (values NULL) edits. */
static int
edit(const char *dir, char **args, int nargs, bool remove)
{
	struct main_cf_edit *edits;
	struct sbuf *why = sbuf_new();
	int status = EX_OK;

	if (nargs == 0)
		usage();
	edits = xcalloc((size_t)nargs, sizeof(*edits));
	for (int i = 0; i < nargs; i++) {
		char *eq = strchr(args[i], '=');

		if (remove) {
			edits[i].name = str_trim(args[i]);
			continue;
		}
		if (eq == NULL)
			msg_fatal_status(EX_USAGE, "-e \"%s\": expected "
			    "name=value", args[i]);
		*eq = '\0';
		edits[i].name = str_trim(args[i]);
		edits[i].value = eq + 1;
	}
	switch (main_cf_edit(dir, edits, (size_t)nargs, why)) {
	case MAIN_CF_EDIT_OK:
		break;
	case MAIN_CF_EDIT_BAD_VALUE:
		status = EX_DATAERR;
		break;
	case MAIN_CF_EDIT_UNKNOWN:
	case MAIN_CF_EDIT_BAD_FILE:
		status = EX_CONFIG;
		break;
	case MAIN_CF_EDIT_WRITE:
		status = EX_IOERR;
		break;
	}
	if (status == EX_IOERR)
		msg_fatal_status(status, "%s", sbuf_str(why));
	if (status != EX_OK)
		msg_fatal_status(status, "%s; main.cf not changed",
		    sbuf_str(why));
	free(edits);
	sbuf_free(&why);
	return status;
}

/* A -M argument: service[/type]. */
struct selector {
	const char *name;
	bool typed;
	enum master_type type;
	bool found;
};

/* Prints the services of master.cf that the selectors name (all: none). */
static int
show_master(const char *dir, char **args, int nargs)
{
	struct sbuf *why = sbuf_new(), *warnings = sbuf_new();
	struct sbuf *line = sbuf_new();
	struct selector *sel = xcalloc((size_t)nargs + 1, sizeof(*sel));
	struct params *p;
	struct master_cf *mc;
	int status;

	for (int j = 0; j < nargs; j++) {
		char *slash = strchr(args[j], '/');

		sel[j].name = args[j];
		if (slash == NULL)
			continue;
		*slash = '\0';
		sel[j].typed = true;
		if (master_type_parse(slash + 1, &sel[j].type) < 0)
			msg_fatal_status(EX_USAGE, "%s/%s: bad service type: "
			    "expected inet, unix or fifo", args[j], slash + 1);
	}
	if ((p = params_load(dir, warnings, why)) == NULL)
		msg_fatal_status(EX_CONFIG, "%s", sbuf_str(why));
	status = warn_lines(warnings);
	mc = master_cf_load(dir, p->default_process_limit, why);
	if (mc == NULL)
		msg_fatal_status(EX_CONFIG, "%s", sbuf_str(why));
	for (size_t i = 0; i < mc->count; i++) {
		const struct master_service *s = &mc->services[i];
		bool want = nargs == 0;

		for (int j = 0; j < nargs; j++) {
			if (strcmp(s->name, sel[j].name) == 0 &&
			    (!sel[j].typed || sel[j].type == s->type))
				want = sel[j].found = true;
		}
		if (want) {
			sbuf_reset(line);
			master_service_format(s, line);
			fputs(sbuf_str(line), stdout);
		}
	}
	for (int j = 0; j < nargs; j++) {
		if (sel[j].found)
			continue;
		msg_warn("%s%s%s: no such service in %s", sel[j].name,
		    sel[j].typed ? "/" : "",
		    sel[j].typed ? master_type_name(sel[j].type) : "",
		    mc->path);
		status = EX_CONFIG;
	}
	master_cf_free(&mc);
	params_free(&p);
	free(sel);
	sbuf_free(&line);
	sbuf_free(&why);
	sbuf_free(&warnings);
	return status;
}

int
main(int argc, char **argv)
{
	const char *dir = NULL;
	int ch, flags = 0, mode = 0, status;

	msg_init("postern-conf", MSG_TO_STDERR | MSG_BRIEF);
	while ((ch = getopt(argc, argv, "c:dehMnXx")) != -1) {
		switch (ch) {
		case 'c':
			dir = optarg;
			break;
		case 'd':
			flags |= SHOW_DEFAULTS;
			break;
		case 'h':
			flags |= SHOW_VALUES;
			break;
		case 'n':
			flags |= SHOW_SET;
			break;
		case 'x':
			flags |= SHOW_EXPANDED;
			break;
		case 'e':
		case 'M':
		case 'X':
			if (mode != 0 && mode != ch)
				usage();
			mode = ch;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if ((flags & SHOW_DEFAULTS) && (flags & SHOW_SET))
		usage();
	if (mode != 0 && flags != 0)
		usage();
	if (dir == NULL && (dir = getenv("MAIL_CONFIG")) == NULL)
		dir = DEF_CONFIG_DIR;
	if (*dir == '\0')
		msg_fatal_status(EX_USAGE, "empty configuration directory");
	switch (mode) {
	case 'e':
	case 'X':
		status = edit(dir, argv, argc, mode == 'X');
		break;
	case 'M':
		status = show_master(dir, argv, argc);
		break;
	default:
		status = show(dir, flags, argv, argc);
		break;
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		msg_fatal_status(EX_IOERR, "write standard output: %m");
	return status;
}
