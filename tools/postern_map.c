/*
 * postern-map - build and query lookup tables (like postmap)
 *
 *	postern-map [-afv] type:file ...	build each table
 *	postern-map [-afv] -q key type:name ...	print the first value
 *	postern-map [-afv] -q - type:name ...	the same, keys on stdin
 *	postern-map [-afv] -s type:name		list every entry
 *
 * Errors: one line on stderr and a <sysexits.h> status: EX_USAGE (bad
 * command line, malformed table name, a type that cannot be built or
 * listed), EX_NOINPUT (a source or table cannot be opened), EX_DATAERR
 * (malformed source, corrupt table, bad key on stdin), EX_CANTCREAT (the
 * indexed file cannot be written), EX_IOERR (stdin or stdout failed).
 * A query that finds nothing exits 1 and prints nothing, as postmap does.
 * Trust: run by an administrator on tables they name; sources and keys on
 * stdin may hold anything and are bounded by the readers.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "util/dict.h"
#include "util/dict_source.h"
#include "util/msg.h"
#include "util/sbuf.h"
#include "util/textfile.h"
#include "util/xmalloc.h"

#define MAP_NOTFOUND	1	/* exit status of a query that found nothing */

/* Prints the usage text; returns EX_USAGE. */
static int
map_usage(void)
{
	fputs("usage: postern-map [-afv] type:file ...\n"
	    "       postern-map [-afv] -q key|- type:name ...\n"
	    "       postern-map [-afv] -s type:name\n", stderr);
	return EX_USAGE;
}

/* Passes a builder's warning (duplicate keys) to stderr. */
static void
map_warn(const char *text, void *ctx)
{
	msg_warn("%s", text);
}

/* Accepts every entry: map_build_status() only wants the parse result. */
static int
map_check_entry(const char *key, const char *value, const char *file,
    int line, void *ctx, struct sbuf *why)
{
	return 0;
}

/*
 * The exit status for a failed dict_build(spec): the spec is unusable,
 * the source cannot be opened, the source is malformed, or else the
 * indexed file could not be written.
 */
static int
map_build_status(const char *spec, int flags)
{
	char *source = NULL, *path = dict_indexed_path(spec, &source);
	struct sbuf *why = sbuf_new();
	struct stat st;
	int fd, status;

	fd = -1;
	if (dict_spec_check(spec, true, why) < 0 || path == NULL) {
		status = EX_USAGE;
	} else if ((fd = open(source, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0 ||
	    fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		status = EX_NOINPUT;
	} else {
		status = dict_source_read(source, flags, map_check_entry, NULL,
		    why) < 0 ? EX_DATAERR : EX_CANTCREAT;
	}
	if (fd >= 0)
		close(fd);
	sbuf_free(&why);
	free(path);
	free(source);
	return status;
}

/* Builds each table in turn; stops at the first failure. */
static int
map_build(char **specs, int count, int flags)
{
	struct sbuf *why = sbuf_new();
	int status = EX_OK;

	for (int i = 0; i < count && status == EX_OK; i++) {
		msg_debug("building %s", specs[i]);
		if (dict_build(specs[i], flags, map_warn, NULL, why) < 0) {
			status = map_build_status(specs[i], flags);
			msg_error("%s", sbuf_str(why));
		}
	}
	sbuf_free(&why);
	return status;
}

/* The exit status for a table that dict_open(spec) refused. */
static int
map_open_status(const char *spec)
{
	char *source = NULL, *path;
	struct sbuf *why = sbuf_new();
	int status = EX_NOINPUT;

	if (dict_spec_check(spec, false, why) < 0) {
		status = EX_USAGE;
	} else {
		/* An indexed file that exists but will not open is corrupt. */
		if ((path = dict_indexed_path(spec, &source)) != NULL &&
		    access(path, R_OK) == 0)
			status = EX_DATAERR;
		free(path);
		free(source);
	}
	sbuf_free(&why);
	return status;
}

/* Closes count tables and frees the array. */
static void
map_close_all(struct dict **tables, int count)
{
	for (int i = 0; i < count; i++)
		dict_free(&tables[i]);
	free(tables);
}

/* Opens every table; EX_OK with *tables_r set, or an error status. */
static int
map_open_all(char **specs, int count, int flags, struct dict ***tables_r)
{
	struct dict **tables = xcalloc((size_t)count, sizeof(*tables));
	struct sbuf *why = sbuf_new();
	int status = EX_OK;

	for (int i = 0; i < count; i++) {
		msg_debug("opening %s", specs[i]);
		if ((tables[i] = dict_open(specs[i], flags, why)) == NULL) {
			msg_error("%s", sbuf_str(why));
			status = map_open_status(specs[i]);
			map_close_all(tables, i);
			tables = NULL;
			break;
		}
	}
	sbuf_free(&why);
	*tables_r = tables;
	return status;
}

/*
 * Looks key up in each table in order: EX_OK with the first value found
 * in value, MAP_NOTFOUND, or EX_DATAERR after reporting a failed lookup.
 */
static int
map_lookup(struct dict **tables, int count, const char *key,
    struct sbuf *value)
{
	struct sbuf *why = sbuf_new();
	int status = MAP_NOTFOUND;

	for (int i = 0; i < count && status == MAP_NOTFOUND; i++) {
		switch (dict_lookup(tables[i], key, value, why)) {
		case DICT_FOUND:
			msg_debug("%s:%s: \"%s\" found", tables[i]->type,
			    tables[i]->name, key);
			status = EX_OK;
			break;
		case DICT_NOTFOUND:
			msg_debug("%s:%s: \"%s\" not found", tables[i]->type,
			    tables[i]->name, key);
			break;
		case DICT_ERROR:
			msg_error("%s", sbuf_str(why));
			status = EX_DATAERR;
			break;
		}
	}
	sbuf_free(&why);
	return status;
}

/* Queries one key given on the command line and prints its value. */
static int
map_query_key(struct dict **tables, int count, const char *key)
{
	struct sbuf *value = sbuf_new();
	int status = map_lookup(tables, count, key, value);

	if (status == EX_OK) {
		fwrite(sbuf_str(value), 1, sbuf_len(value), stdout);
		putchar('\n');
	}
	sbuf_free(&value);
	return status;
}

/*
 * Reads one line of stdin into line, without its newline (and CR): 1, or 0
 * at the end, or -1 after reporting a read error or a line that is too
 * long or holds a NUL byte.
 */
static int
map_read_key(struct sbuf *line, int lineno, int *status_r)
{
	bool too_long = false;
	int c;

	sbuf_reset(line);
	while ((c = getchar()) != EOF && c != '\n')
		if (sbuf_catc(line, c) < 0)
			too_long = true;
	if (c == EOF && ferror(stdin)) {
		msg_error("read standard input: %m");
		*status_r = EX_IOERR;
		return -1;
	}
	if (c == EOF && sbuf_len(line) == 0 && !too_long)
		return 0;
	if (too_long) {
		msg_error("standard input, line %d: key longer than %d bytes",
		    lineno, TEXTFILE_LINE_MAX);
		*status_r = EX_DATAERR;
		return -1;
	}
	if (strlen(sbuf_str(line)) != sbuf_len(line)) {
		msg_error("standard input, line %d: NUL byte in key", lineno);
		*status_r = EX_DATAERR;
		return -1;
	}
	if (sbuf_len(line) > 0 && sbuf_str(line)[sbuf_len(line) - 1] == '\r')
		sbuf_truncate(line, sbuf_len(line) - 1);
	return 1;
}

/*
 * Queries each non-empty line of stdin, printing "key<TAB>value" for the
 * keys found; EX_OK when at least one was found, else MAP_NOTFOUND.
 */
static int
map_query_stdin(struct dict **tables, int count)
{
	struct sbuf *line = sbuf_new(), *value = sbuf_new();
	int lineno = 0, status = MAP_NOTFOUND, ret, found;

	sbuf_set_limit(line, TEXTFILE_LINE_MAX);
	while ((ret = map_read_key(line, ++lineno, &status)) > 0) {
		if (sbuf_len(line) == 0)
			continue;
		found = map_lookup(tables, count, sbuf_str(line), value);
		if (found == EX_OK) {
			status = EX_OK;
			printf("%s\t", sbuf_str(line));
			fwrite(sbuf_str(value), 1, sbuf_len(value), stdout);
			putchar('\n');
			if (ferror(stdout))
				break;
		} else if (found != MAP_NOTFOUND) {
			status = found;
			break;
		}
	}
	sbuf_free(&line);
	sbuf_free(&value);
	return status;
}

/* Prints one entry; stops the walk once stdout has failed. */
static int
map_print_entry(const char *key, const char *value, void *ctx)
{
	printf("%s\t%s\n", key, value);
	return ferror(stdout) ? 1 : 0;
}

/* Lists every entry of the table spec. */
static int
map_dump(char *spec, int flags)
{
	struct dict **tables;
	struct sbuf *why;
	int status;

	if ((status = map_open_all(&spec, 1, flags, &tables)) != EX_OK)
		return status;
	why = sbuf_new();
	if (dict_iterate(tables[0], map_print_entry, NULL, why) < 0) {
		msg_error("%s", sbuf_str(why));
		status = tables[0]->iterate == NULL ? EX_USAGE : EX_DATAERR;
	}
	sbuf_free(&why);
	map_close_all(tables, 1);
	return status;
}

/* Queries key ("-": keys on stdin) in the tables named by specs. */
static int
map_query(const char *key, char **specs, int count, int flags)
{
	struct dict **tables;
	int status;

	if ((status = map_open_all(specs, count, flags, &tables)) != EX_OK)
		return status;
	if (strcmp(key, "-") == 0)
		status = map_query_stdin(tables, count);
	else
		status = map_query_key(tables, count, key);
	map_close_all(tables, count);
	return status;
}

/* Flushes stdout; a failed write anywhere turns status into EX_IOERR. */
static int
map_flush(int status)
{
	if (fflush(stdout) == EOF || ferror(stdout)) {
		msg_error("write standard output: %m");
		return EX_IOERR;
	}
	return status;
}

int
main(int argc, char **argv)
{
	const char *key = NULL;
	bool dump = false;
	int ch, flags = 0, status;

	msg_init("postern-map", MSG_TO_STDERR | MSG_BRIEF);
	while ((ch = getopt(argc, argv, "afq:sv")) != -1) {
		switch (ch) {
		case 'a':
			flags |= DICT_FLAG_ALIAS;
			break;
		case 'f':
			flags |= DICT_FLAG_NO_FOLD;
			break;
		case 'q':
			key = optarg;
			break;
		case 's':
			dump = true;
			break;
		case 'v':
			msg_verbose++;
			break;
		default:
			return map_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0 || (key != NULL && dump) || (dump && argc != 1))
		return map_usage();
	if (dump)
		status = map_dump(argv[0], flags);
	else if (key != NULL)
		status = map_query(key, argv, argc, flags);
	else
		status = map_build(argv, argc, flags);
	return map_flush(status);
}
