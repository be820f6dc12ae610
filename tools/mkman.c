/*
 * mkman - put the parameter table into a manual page template
 *
 *   mkman TEMPLATE > page
 *
 * Copies the roff template to standard output, replacing a line
 * "@PARAMETERS@" with one entry per parameter (name, type, default and
 * description from params.def) and a line "@PARAMETER_NAMES@" with a
 * compact comma-separated list of the names, and "@CONFIG_DIR@" anywhere
 * with the compiled-in configuration directory, so that the pages never
 * drift from the code. Run at build time only.
 * Errors: sysexits codes: EX_USAGE, EX_NOINPUT when the template cannot
 * be read, EX_IOERR when standard output cannot be written.
 * Trust: the template and the table come from the source tree; text from
 * the table is escaped for roff all the same.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "mail/params.h"
#include "util/msg.h"
#include "util/safe_file.h"
#include "util/sbuf.h"

#define MKMAN_TEMPLATE_MAX	(1024 * 1024)

/* Appends s escaped for roff: backslashes, and a '.' or '\'' in front. */
static void
roff_text(struct sbuf *out, const char *s)
{
	if (*s == '.' || *s == '\'')
		sbuf_cat(out, "\\&");
	for (; *s; s++) {
		if (*s == '\\')
			sbuf_cat(out, "\\e");
		else if (*s == '-')
			sbuf_cat(out, "\\-");
		else
			sbuf_catc(out, *s);
	}
}

/* One .TP entry per parameter. */
static void
put_parameters(struct sbuf *out)
{
	for (size_t i = 0; i < PARAM_COUNT; i++) {
		const struct param_def *d = &params_table[i];

		sbuf_cat(out, ".TP\n.B ");
		roff_text(out, d->name);
		sbuf_printf(out, "\n(%s", params_type_name(d->type));
		if (d->def == NULL)
			sbuf_cat(out, ", computed");
		else if (*d->def == '\0')
			sbuf_cat(out, ", default: empty");
		else {
			sbuf_cat(out, ", default: ");
			roff_text(out, d->def);
		}
		sbuf_cat(out, ")\n.br\n");
		roff_text(out, d->desc);
		sbuf_catc(out, '\n');
	}
}

/* The names in bold, separated by commas, not hyphenated. */
static void
put_names(struct sbuf *out)
{
	sbuf_cat(out, ".nh\n");
	for (size_t i = 0; i < PARAM_COUNT; i++) {
		sbuf_cat(out, i + 1 < PARAM_COUNT ? ".BR " : ".B ");
		roff_text(out, params_table[i].name);
		sbuf_cat(out, i + 1 < PARAM_COUNT ? " ,\n" : "\n");
	}
	sbuf_cat(out, ".hy\n");
}

/* Copies a template line, replacing each @CONFIG_DIR@. */
static void
put_line(struct sbuf *out, const char *p, size_t n)
{
	static const char marker[] = "@CONFIG_DIR@";
	const char *end = p + n, *m;

	while ((m = memmem(p, (size_t)(end - p), marker,
	    sizeof(marker) - 1)) != NULL) {
		sbuf_catn(out, p, (size_t)(m - p));
		roff_text(out, DEF_CONFIG_DIR);
		p = m + sizeof(marker) - 1;
	}
	sbuf_catn(out, p, (size_t)(end - p));
	sbuf_catc(out, '\n');
}

int
main(int argc, char **argv)
{
	struct sbuf *in = sbuf_new(), *out = sbuf_new(), *why = sbuf_new();
	const char *p, *end;

	msg_init("mkman", MSG_TO_STDERR | MSG_BRIEF);
	if (argc != 2) {
		fprintf(stderr, "usage: mkman TEMPLATE > page\n");
		return EX_USAGE;
	}
	if (safe_file_read(argv[1], MKMAN_TEMPLATE_MAX, in, why) < 0)
		msg_fatal_status(EX_NOINPUT, "%s", sbuf_str(why));
	p = sbuf_str(in);
	end = p + sbuf_len(in);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (n == strlen("@PARAMETERS@") &&
		    memcmp(p, "@PARAMETERS@", n) == 0)
			put_parameters(out);
		else if (n == strlen("@PARAMETER_NAMES@") &&
		    memcmp(p, "@PARAMETER_NAMES@", n) == 0)
			put_names(out);
		else
			put_line(out, p, n);
		p += n + (nl != NULL);
	}
	if (fwrite(sbuf_str(out), 1, sbuf_len(out), stdout) != sbuf_len(out) ||
	    fflush(stdout) != 0)
		msg_fatal_status(EX_IOERR, "write standard output: %m");
	sbuf_free(&in);
	sbuf_free(&out);
	sbuf_free(&why);
	return EX_OK;
}
