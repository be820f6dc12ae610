/*
 * test_dict_indexed - what every table built from a source shares (db:,
 * btree:, cdb:)
 *
 * Each test runs once per table type, in a temporary directory of its
 * own, with real files: build and look up (folded and case-kept keys,
 * duplicates, continuation lines, hostile keys), malformed sources that
 * must leave the old table in place, truncated, empty, garbage and missing
 * files and files of the wrong kind that must fail at open naming the file
 * without a word on stderr, walks, file modes and rebuilds under an open
 * handle. What is particular to one format is in test_dict_db.c and
 * test_dict_cdb.c.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testtable.h"
#include "util/dict.h"
#include "util/sbuf.h"
#include "util/xmalloc.h"

/* A table type built from a source, and what differs between them. */
struct indexed_type {
	const char *name;	/* the type in "type:name" */
	const char *file;	/* what dict_build() makes of dir/src */
	bool ordered;		/* walks go in key order */
};

static const struct indexed_type types[] = {
	{"db", "src.db", false},
	{"btree", "src.db", true},
	{"cdb", "src.cdb", false},
};
#define NTYPES (sizeof(types) / sizeof(types[0]))

struct fixture {
	struct test_table *tt;
	const char *type;			/* fx->kind->name */
	const struct indexed_type *kind;
	char *path;				/* dir/src.db */
};

/* The test's initial state is its row of types[]. */
static int
setup(void **state)
{
	struct fixture *fx = xcalloc(1, sizeof(*fx));
	struct sbuf *p = sbuf_new();

	fx->kind = *state;
	fx->type = fx->kind->name;
	fx->tt = test_table_new();
	sbuf_printf(p, "%s/%s", fx->tt->dir, fx->kind->file);
	fx->path = sbuf_steal(p);
	sbuf_free(&p);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	test_table_free(&fx->tt);
	free(fx->path);
	free(fx);
	return 0;
}

/* The shared source: lines 1-9, numbered for the warnings. */
static const char source_text[] =
    "# aliases for the test\n"				/* 1 */
    "Alice\talice@example.org\n"			/* 2 */
    "alice\tduplicate@example.org\n"			/* 3 */
    "Bob bob@example.org,\n"				/* 4 */
    "    bob2@example.org\n"				/* 5 */
    "\n"						/* 6 */
    "MiXeD   Value With  Spaces  \n"			/* 7 */
    "  # a comment inside\n"				/* 8 */
    "zed z\n";						/* 9 */

struct lookup_row {
	const char *name;
	int flags;		/* at build and open */
	const char *key;
	enum dict_status status;
	const char *value;
};

static const struct lookup_row lookup_rows[] = {
	{"folded key", 0, "alice", DICT_FOUND, "alice@example.org"},
	{"lookup folds too", 0, "ALICE", DICT_FOUND, "alice@example.org"},
	{"mixed-case lookup", 0, "aLiCe", DICT_FOUND, "alice@example.org"},
	{"continuation line", 0, "bob", DICT_FOUND,
	    "bob@example.org, bob2@example.org"},
	{"inner blanks kept, ends trimmed", 0, "mixed", DICT_FOUND,
	    "Value With  Spaces"},
	{"last entry", 0, "zed", DICT_FOUND, "z"},
	{"absent key", 0, "carol", DICT_NOTFOUND, NULL},
	{"comment is no entry", 0, "#", DICT_NOTFOUND, NULL},
	{"continuation is no key", 0, "bob2@example.org", DICT_NOTFOUND, NULL},
	{"empty key", 0, "", DICT_NOTFOUND, NULL},
	{"prefix of a key", 0, "ali", DICT_NOTFOUND, NULL},
	{"key with a suffix", 0, "alicex", DICT_NOTFOUND, NULL},
	{"key with its value", 0, "alice alice@example.org", DICT_NOTFOUND,
	    NULL},
	{"high bytes", 0, "\xff\xfe\x80", DICT_NOTFOUND, NULL},
	{"control bytes", 0, "\r\n\t\x01", DICT_NOTFOUND, NULL},
	{"NO_FOLD: exact case", DICT_FLAG_NO_FOLD, "Alice", DICT_FOUND,
	    "alice@example.org"},
	{"NO_FOLD: lower case is its own entry", DICT_FLAG_NO_FOLD, "alice",
	    DICT_FOUND, "duplicate@example.org"},
	{"NO_FOLD: no folding at lookup", DICT_FLAG_NO_FOLD, "ALICE",
	    DICT_NOTFOUND, NULL},
	{"NO_FOLD: mixed case kept", DICT_FLAG_NO_FOLD, "MiXeD", DICT_FOUND,
	    "Value With  Spaces"},
	{"NO_FOLD: folded form absent", DICT_FLAG_NO_FOLD, "mixed",
	    DICT_NOTFOUND, NULL},
	{"NO_FOLD: Bob", DICT_FLAG_NO_FOLD, "Bob", DICT_FOUND,
	    "bob@example.org, bob2@example.org"},
};

/* Checks one lookup against a row. */
static void
check_lookup(struct fixture *fx, struct dict *d, const struct lookup_row *row)
{
	struct test_table *tt = fx->tt;
	enum dict_status st = dict_lookup(d, row->key, tt->value, tt->why);

	if (st != row->status)
		fail_msg("%s: %s: status %d, expected %d (%s)", fx->type,
		    row->name, st, row->status, sbuf_str(tt->why));
	if (st == DICT_FOUND && strcmp(sbuf_str(tt->value), row->value) != 0)
		fail_msg("%s: %s: value \"%s\", expected \"%s\"", fx->type,
		    row->name, sbuf_str(tt->value), row->value);
}

static void
test_lookup(void **state)
{
	static const int flag_sets[] = {0, DICT_FLAG_NO_FOLD};
	struct fixture *fx = *state;

	for (size_t f = 0; f < 2; f++) {
		struct dict *d;

		test_table_build_ok(fx->tt, fx->type, source_text,
		    flag_sets[f]);
		d = test_table_open_ok(fx->tt, fx->type, flag_sets[f]);
		for (size_t i = 0; i < sizeof(lookup_rows) /
		    sizeof(lookup_rows[0]); i++)
			if (lookup_rows[i].flags == flag_sets[f])
				check_lookup(fx, d, &lookup_rows[i]);
		dict_free(&d);
		assert_null(d);
	}
}

/* A key of a megabyte is simply not found. */
static void
test_lookup_huge_key(void **state)
{
	struct fixture *fx = *state;
	struct test_table *tt = fx->tt;
	size_t len = 1024 * 1024;
	char *key = xmalloc(len + 1);
	struct dict *d;

	memset(key, 'a', len);
	key[len] = '\0';
	test_table_build_ok(tt, fx->type, source_text, 0);
	d = test_table_open_ok(tt, fx->type, 0);
	assert_int_equal(dict_lookup(d, key, tt->value, tt->why),
	    DICT_NOTFOUND);
	dict_free(&d);
	free(key);
}

/* A value longer than the caller's buffer allows is an error. */
static void
test_lookup_value_limit(void **state)
{
	struct fixture *fx = *state;
	struct test_table *tt = fx->tt;
	struct dict *d;

	test_table_build_ok(tt, fx->type, source_text, 0);
	d = test_table_open_ok(tt, fx->type, 0);
	sbuf_set_limit(tt->value, 4);
	assert_int_equal(dict_lookup(d, "alice", tt->value, tt->why),
	    DICT_ERROR);
	assert_non_null(strstr(sbuf_str(tt->why), fx->kind->file));
	assert_int_equal(dict_lookup(d, "zed", tt->value, tt->why),
	    DICT_FOUND);
	assert_string_equal(sbuf_str(tt->value), "z");
	sbuf_set_limit(tt->value, SIZE_MAX);
	dict_free(&d);
}

/* Duplicates: the first entry wins and the builder names file and line. */
static void
test_duplicates(void **state)
{
	struct fixture *fx = *state;
	struct test_table *tt = fx->tt;
	struct sbuf *expect = sbuf_new();
	struct dict *d;
	const char *w;

	sbuf_printf(expect, "%s, line 3: duplicate entry: \"alice\"",
	    tt->src);
	test_table_build_ok(tt, fx->type, source_text, 0);
	w = sbuf_str(tt->warnings);
	if (strncmp(w, sbuf_str(expect), sbuf_len(expect)) != 0)
		fail_msg("%s: warning \"%s\", expected it to start with "
		    "\"%s\"", fx->type, w, sbuf_str(expect));
	/* Exactly one warning. */
	assert_int_equal(strchr(w, '\n') - w + 1, sbuf_len(tt->warnings));

	test_table_build_ok(tt, fx->type, source_text, DICT_FLAG_NO_FOLD);
	assert_int_equal(sbuf_len(tt->warnings), 0);

	test_table_build_ok(tt, fx->type,
	    "k first\nk second\nK third\nk fourth\n", 0);
	w = sbuf_str(tt->warnings);
	assert_non_null(strstr(w, ", line 2: duplicate entry: \"k\""));
	assert_non_null(strstr(w, ", line 3: duplicate entry: \"k\""));
	assert_non_null(strstr(w, ", line 4: duplicate entry: \"k\""));
	d = test_table_open_ok(tt, fx->type, 0);
	assert_int_equal(dict_lookup(d, "k", tt->value, tt->why), DICT_FOUND);
	assert_string_equal(sbuf_str(tt->value), "first");
	dict_free(&d);
	sbuf_free(&expect);
}

struct source_row {
	const char *name;
	const char *text;
	size_t len;		/* 0: strlen(text) */
	int flags;
	int line;		/* the line the error names; 0: builds */
	const char *key;	/* when it builds: a key to find */
	const char *value;
};

static const struct source_row source_rows[] = {
	{"line without a value", "a 1\nb 2\nc 3\nnovalue\n", 0, 0, 4,
	    NULL, NULL},
	{"value-less line after continuation", "a 1\n  more\nb\n", 0, 0, 3,
	    NULL, NULL},
	{"NUL byte", "a 1\nb\0 2\n", 9, 0, 2, NULL, NULL},
	{"aliases form without a colon", "a: 1\nb 2\n", 0, DICT_FLAG_ALIAS,
	    2, NULL, NULL},
	{"aliases form without a value", "a: 1\nb:\n", 0, DICT_FLAG_ALIAS,
	    2, NULL, NULL},
	{"aliases form", "Postmaster: root\nabuse:\n  root,\n  admin\n", 0,
	    DICT_FLAG_ALIAS, 0, "abuse", "root, admin"},
	{"aliases form, folded", "Postmaster: root\n", 0, DICT_FLAG_ALIAS, 0,
	    "POSTMASTER", "root"},
	{"only comments", "# nothing\n   # at all\n", 0, 0, 0, "nothing",
	    NULL},
	{"empty source", "", 0, 0, 0, "a", NULL},
	{"CRLF line ends", "a 1\r\nb 2\r\n", 0, 0, 0, "b", "2"},
	{"no final newline", "a 1\nb 2", 0, 0, 0, "b", "2"},
};

/* The line too long for the source reader, malloc'ed: "k " + 2 MiB. */
static char *
overlong_source(size_t *len_r)
{
	size_t len = 2 * 1024 * 1024;
	char *text = xmalloc(len + 1);

	memset(text, 'v', len);
	memcpy(text, "old value\nk ", 12);
	text[len] = '\0';
	*len_r = len;
	return text;
}

/* Checks one source row: builds, or fails naming the line and keeping
 * the old table. */
static void
check_source_row(struct fixture *fx, const struct source_row *row,
    const char *text, size_t len)
{
	const char *const files[] = {"src", fx->kind->file};
	struct test_table *tt = fx->tt;
	const char *type = fx->type;
	struct dict *d;
	char *at;
	enum dict_status st;

	test_table_build_ok(tt, type, "keep old-value\n",
	    row->flags & ~DICT_FLAG_ALIAS);
	if (test_table_build(tt, type, text, len, row->flags) == 0) {
		if (row->line != 0)
			fail_msg("%s: %s: built, expected an error at line %d",
			    type, row->name, row->line);
		d = test_table_open_ok(tt, type, row->flags);
		st = dict_lookup(d, row->key, tt->value, tt->why);
		if (row->value == NULL && st != DICT_NOTFOUND)
			fail_msg("%s: %s: \"%s\" found", type, row->name,
			    row->key);
		if (row->value != NULL && (st != DICT_FOUND ||
		    strcmp(sbuf_str(tt->value), row->value) != 0))
			fail_msg("%s: %s: \"%s\" gave %d \"%s\"", type,
			    row->name, row->key, st, sbuf_str(tt->value));
		/* The old table is gone. */
		assert_int_equal(dict_lookup(d, "keep", tt->value, tt->why),
		    DICT_NOTFOUND);
		dict_free(&d);
	} else {
		struct sbuf *expect = sbuf_new();

		sbuf_printf(expect, "%s, line %d: ", tt->src, row->line);
		if (row->line == 0 || (at = strstr(sbuf_str(tt->why),
		    sbuf_str(expect))) == NULL)
			fail_msg("%s: %s: error \"%s\", expected \"%s...\"",
			    type, row->name, sbuf_str(tt->why),
			    sbuf_str(expect));
		sbuf_free(&expect);
		d = test_table_open_ok(tt, type, 0);
		assert_int_equal(dict_lookup(d, "keep", tt->value, tt->why),
		    DICT_FOUND);
		assert_string_equal(sbuf_str(tt->value), "old-value");
		dict_free(&d);
	}
	test_assert_dir_holds(tt->dir, files, 2);
}

static void
test_sources(void **state)
{
	struct fixture *fx = *state;
	struct source_row overlong = {"overlong line", NULL, 0, 0, 2, NULL,
	    NULL};
	char *text;
	size_t len;

	for (size_t i = 0; i < sizeof(source_rows) / sizeof(source_rows[0]);
	    i++) {
		const struct source_row *row = &source_rows[i];

		check_source_row(fx, row, row->text,
		    row->len ? row->len : strlen(row->text));
	}
	text = overlong_source(&len);
	check_source_row(fx, &overlong, text, len);
	free(text);
}

/* A missing source: an error naming it, and no table appears. */
static void
test_missing_source(void **state)
{
	static const char *const none[] = {NULL};
	struct fixture *fx = *state;
	struct test_table *tt = fx->tt;
	char *spec = test_table_spec(tt, fx->type);

	assert_int_equal(dict_build(spec, 0, test_table_warning, tt->warnings,
	    tt->why), -1);
	assert_non_null(strstr(sbuf_str(tt->why), tt->src));
	assert_non_null(strstr(sbuf_str(tt->why), "No such file"));
	test_assert_dir_holds(tt->dir, none, 0);
	free(spec);
}

#define BIG 2000	/* entries of the big table and of the damaged one */

static void
damage_truncate_half(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(truncate(path, st.st_size / 2), 0);
}

static void
damage_empty(const char *path)
{
	assert_int_equal(truncate(path, 0), 0);
}

/* Replaces the file with len bytes of a fixed pseudo-random sequence. */
static void
garbage(const char *path, size_t len)
{
	unsigned char *buf = xmalloc(len);
	unsigned x = 2463534242u;
	int fd;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (unsigned char)x;
	}
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
	free(buf);
}

static void
damage_garbage(const char *path)
{
	garbage(path, 64 * 1024);
}

static void
damage_garbage_short(const char *path)
{
	garbage(path, 100);
}

static void
damage_missing(const char *path)
{
	assert_int_equal(unlink(path), 0);
}

static void
damage_directory(const char *path)
{
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0700), 0);
}

static void
damage_fifo(const char *path)
{
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkfifo(path, 0600), 0);
}

/* Each of these must fail at open, naming the file, silently. */
static const struct test_damage damage_rows[] = {
	{"cut in half", damage_truncate_half},
	{"zero length", damage_empty},
	{"64 KiB of garbage", damage_garbage},
	{"100 bytes of garbage", damage_garbage_short},
	{"missing", damage_missing},
	{"a directory", damage_directory},
	{"a FIFO", damage_fifo},
};

static void
test_damaged_files(void **state)
{
	struct fixture *fx = *state;
	char *big = test_numbered_source(BIG);

	test_table_damage(fx->tt, fx->type, fx->path, big, damage_rows,
	    sizeof(damage_rows) / sizeof(damage_rows[0]));
	free(big);
}

struct walk_state {
	struct sbuf *seen;	/* "key=value\n" lines */
	int count;
	int stop_after;		/* 0: never stop */
};

static int
walk_collect(const char *key, const char *value, void *ctx)
{
	struct walk_state *ws = ctx;

	sbuf_printf(ws->seen, "%s=%s\n", key, value);
	ws->count++;
	return ws->stop_after != 0 && ws->count >= ws->stop_after;
}

static int
compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The lines of text sorted and joined again, malloc'ed. */
static char *
sorted_lines(const char *text)
{
	char *copy = xstrdup(text), *cursor = copy, *line, **lines = NULL;
	struct sbuf *out = sbuf_new();
	size_t n = 0;
	char *result;

	while ((line = strsep(&cursor, "\n")) != NULL)
		if (*line != '\0') {
			lines = xreallocarray(lines, n + 1, sizeof(*lines));
			lines[n++] = line;
		}
	qsort(lines, n, sizeof(*lines), compare_strings);
	for (size_t i = 0; i < n; i++)
		sbuf_printf(out, "%s\n", lines[i]);
	result = sbuf_steal(out);
	sbuf_free(&out);
	free(lines);
	free(copy);
	return result;
}

static void
test_iterate(void **state)
{
	static const char expect[] =
	    "alice=alice@example.org\n"
	    "bob=bob@example.org, bob2@example.org\n"
	    "mixed=Value With  Spaces\n"
	    "zed=z\n";
	struct fixture *fx = *state;
	struct test_table *tt = fx->tt;
	struct walk_state ws = {sbuf_new(), 0, 0};
	struct dict *d;
	char *sorted;

	test_table_build_ok(tt, fx->type, source_text, 0);
	d = test_table_open_ok(tt, fx->type, 0);
	assert_int_equal(dict_iterate(d, walk_collect, &ws, tt->why), 0);
	sorted = sorted_lines(sbuf_str(ws.seen));
	assert_string_equal(sorted, expect);
	free(sorted);
	if (fx->kind->ordered)
		assert_string_equal(sbuf_str(ws.seen), expect);

	/* A walk that the callback stops. */
	sbuf_reset(ws.seen);
	ws.count = 0;
	ws.stop_after = 2;
	assert_int_equal(dict_iterate(d, walk_collect, &ws, tt->why), 0);
	assert_int_equal(ws.count, 2);
	dict_free(&d);

	/* An empty table walks nothing. */
	test_table_build_ok(tt, fx->type, "# empty\n", 0);
	d = test_table_open_ok(tt, fx->type, 0);
	ws.count = 0;
	ws.stop_after = 0;
	assert_int_equal(dict_iterate(d, walk_collect, &ws, tt->why), 0);
	assert_int_equal(ws.count, 0);
	dict_free(&d);
	sbuf_free(&ws.seen);
}

/* A big table: every key found, the walk sees each once. */
static void
test_big_table(void **state)
{
	struct fixture *fx = *state;
	struct test_table *tt = fx->tt;
	char *big = test_numbered_source(BIG);
	struct sbuf *key = sbuf_new(), *value = sbuf_new();
	struct walk_state ws = {sbuf_new(), 0, 0};
	struct dict *d;

	test_table_build_ok(tt, fx->type, big, 0);
	d = test_table_open_ok(tt, fx->type, 0);
	for (int i = 0; i < BIG; i++) {
		sbuf_reset(key);
		sbuf_printf(key, "KEY-%d", i);
		sbuf_reset(value);
		sbuf_printf(value, "value-%d", i);
		assert_int_equal(dict_lookup(d, sbuf_str(key), tt->value,
		    tt->why), DICT_FOUND);
		assert_string_equal(sbuf_str(tt->value), sbuf_str(value));
	}
	assert_int_equal(dict_iterate(d, walk_collect, &ws, tt->why), 0);
	assert_int_equal(ws.count, BIG);
	dict_free(&d);
	sbuf_free(&ws.seen);
	sbuf_free(&key);
	sbuf_free(&value);
	free(big);
}

/* A rebuild replaces the file: an open handle keeps the old table. */
static void
test_atomic_rebuild(void **state)
{
	struct fixture *fx = *state;
	const char *const files[] = {"src", fx->kind->file};
	struct test_table *tt = fx->tt;
	struct dict *old, *new;

	test_table_build_ok(tt, fx->type, "k one\ngone here\n", 0);
	old = test_table_open_ok(tt, fx->type, 0);
	test_table_build_ok(tt, fx->type, "k two\nfresh here\n", 0);
	test_assert_dir_holds(tt->dir, files, 2);

	assert_int_equal(dict_lookup(old, "k", tt->value, tt->why),
	    DICT_FOUND);
	assert_string_equal(sbuf_str(tt->value), "one");
	assert_int_equal(dict_lookup(old, "gone", tt->value, tt->why),
	    DICT_FOUND);
	assert_int_equal(dict_lookup(old, "fresh", tt->value, tt->why),
	    DICT_NOTFOUND);

	new = test_table_open_ok(tt, fx->type, 0);
	assert_int_equal(dict_lookup(new, "k", tt->value, tt->why),
	    DICT_FOUND);
	assert_string_equal(sbuf_str(tt->value), "two");
	assert_int_equal(dict_lookup(new, "gone", tt->value, tt->why),
	    DICT_NOTFOUND);
	dict_free(&old);
	dict_free(&new);
}

/* The table takes its group and other read bits from the source. */
static void
test_file_mode(void **state)
{
	static const struct {
		mode_t source, table;
	} rows[] = {
		{0640, 0640}, {0600, 0600}, {0644, 0644}, {0666, 0644},
		{0400, 0600}, {0604, 0604}, {0755, 0644},
	};
	struct fixture *fx = *state;
	struct test_table *tt = fx->tt;
	char *spec = test_table_spec(tt, fx->type);
	struct stat st;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		free(test_write_text(tt->dir, "src", "a b\n"));
		assert_int_equal(chmod(tt->src, rows[i].source), 0);
		if (dict_build(spec, 0, NULL, NULL, tt->why) < 0)
			fail_msg("%s: %s", fx->type, sbuf_str(tt->why));
		assert_int_equal(stat(fx->path, &st), 0);
		if ((st.st_mode & 07777) != rows[i].table)
			fail_msg("%s: source %04o gave table %04o, expected "
			    "%04o", fx->type, rows[i].source,
			    st.st_mode & 07777, rows[i].table);
	}
	free(spec);
}

/* The tests each type runs, in order. */
static const struct {
	const char *name;
	CMUnitTestFunction fn;
} shared_tests[] = {
	{"test_lookup", test_lookup},
	{"test_lookup_huge_key", test_lookup_huge_key},
	{"test_lookup_value_limit", test_lookup_value_limit},
	{"test_duplicates", test_duplicates},
	{"test_sources", test_sources},
	{"test_missing_source", test_missing_source},
	{"test_damaged_files", test_damaged_files},
	{"test_iterate", test_iterate},
	{"test_big_table", test_big_table},
	{"test_atomic_rebuild", test_atomic_rebuild},
	{"test_file_mode", test_file_mode},
};
#define NSHARED (sizeof(shared_tests) / sizeof(shared_tests[0]))

/* Runs every shared test once per type, named "type: test". */
int
main(void)
{
	struct CMUnitTest tests[NTYPES * NSHARED];
	char *names[NTYPES * NSHARED];
	size_t n = 0;
	int failed;

	for (size_t t = 0; t < NTYPES; t++)
		for (size_t i = 0; i < NSHARED; i++, n++) {
			struct sbuf *name = sbuf_new();

			sbuf_printf(name, "%s: %s", types[t].name,
			    shared_tests[i].name);
			names[n] = sbuf_steal(name);
			sbuf_free(&name);
			tests[n] = (struct CMUnitTest) {
				.name = names[n],
				.test_func = shared_tests[i].fn,
				.setup_func = setup,
				.teardown_func = teardown,
				.initial_state = (void *)&types[t],
			};
		}
	failed = cmocka_run_group_tests_name("dict_indexed", tests, NULL,
	    NULL);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	return failed;
}
