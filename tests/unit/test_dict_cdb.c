/*
 * test_dict_cdb - constant database tables (cdb:)
 *
 * Real files in a temporary directory: build and look up (folded and
 * case-kept keys, duplicates, continuation lines, hostile keys), malformed
 * sources that must leave the old table in place, truncated, empty,
 * foreign and missing NAME.cdb files that must fail at open, hand-made
 * files whose offsets and lengths point outside the file or wrap around
 * (clean errors, walks that end), walks, file modes and rebuilds under an
 * open handle.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <cdb.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "util/dict.h"
#include "util/safe_file.h"
#include "util/sbuf.h"
#include "util/xmalloc.h"

static const char *const types[] = {"cdb"};
#define NTYPES (sizeof(types) / sizeof(types[0]))

struct fixture {
	char *dir;
	char *src;		/* dir/src */
	struct sbuf *why;
	struct sbuf *warnings;	/* one line per builder warning */
	struct sbuf *value;
};

static int
setup(void **state)
{
	struct fixture *fx = xcalloc(1, sizeof(*fx));
	struct sbuf *p = sbuf_new();

	fx->dir = test_tmpdir();
	sbuf_printf(p, "%s/src", fx->dir);
	fx->src = sbuf_steal(p);
	sbuf_free(&p);
	fx->why = sbuf_new();
	fx->warnings = sbuf_new();
	fx->value = sbuf_new();
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	test_rmtree(&fx->dir);
	free(fx->src);
	sbuf_free(&fx->why);
	sbuf_free(&fx->warnings);
	sbuf_free(&fx->value);
	free(fx);
	return 0;
}

static void
collect_warning(const char *text, void *ctx)
{
	sbuf_cat(ctx, text);
	sbuf_catc(ctx, '\n');
}

/* "type:dir/src", malloc'ed. */
static char *
spec_of(struct fixture *fx, const char *type)
{
	struct sbuf *s = sbuf_new();
	char *spec;

	sbuf_printf(s, "%s:%s", type, fx->src);
	spec = sbuf_steal(s);
	sbuf_free(&s);
	return spec;
}

/* "dir/src.cdb", malloc'ed. */
static char *
cdb_path(struct fixture *fx)
{
	struct sbuf *s = sbuf_new();
	char *path;

	sbuf_printf(s, "%s.cdb", fx->src);
	path = sbuf_steal(s);
	sbuf_free(&s);
	return path;
}

/* Writes len bytes of source text and builds it as type; dict_build's. */
static int
build(struct fixture *fx, const char *type, const char *text, size_t len,
    int flags)
{
	char *path = test_write_file(fx->dir, "src", text, len);
	char *spec = spec_of(fx, type);
	int ret;

	sbuf_reset(fx->warnings);
	sbuf_reset(fx->why);
	ret = dict_build(spec, flags, collect_warning, fx->warnings, fx->why);
	free(spec);
	free(path);
	return ret;
}

/* Builds text as type and fails the test if that fails. */
static void
build_ok(struct fixture *fx, const char *type, const char *text, int flags)
{
	if (build(fx, type, text, strlen(text), flags) < 0)
		fail_msg("build %s: %s", type, sbuf_str(fx->why));
}

static struct dict *
open_table(struct fixture *fx, const char *type, int flags)
{
	char *spec = spec_of(fx, type);
	struct dict *d;

	sbuf_reset(fx->why);
	d = dict_open(spec, flags, fx->why);
	free(spec);
	return d;
}

static struct dict *
open_ok(struct fixture *fx, const char *type, int flags)
{
	struct dict *d = open_table(fx, type, flags);

	if (d == NULL)
		fail_msg("open %s: %s", type, sbuf_str(fx->why));
	return d;
}

/* Fails unless the directory holds exactly the names listed. */
static void
assert_dir_holds(const char *dir, const char *const *names, size_t n)
{
	DIR *dp = opendir(dir);
	struct dirent *de;
	size_t seen = 0;

	assert_non_null(dp);
	while ((de = readdir(dp)) != NULL) {
		bool known = false;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		for (size_t i = 0; i < n; i++)
			if (strcmp(de->d_name, names[i]) == 0)
				known = true;
		if (!known)
			fail_msg("unexpected file %s/%s (a leftover temporary "
			    "file?)", dir, de->d_name);
		seen++;
	}
	closedir(dp);
	assert_int_equal(seen, n);
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
check_lookup(struct fixture *fx, struct dict *d, const char *type,
    const struct lookup_row *row)
{
	enum dict_status st = dict_lookup(d, row->key, fx->value, fx->why);

	if (st != row->status)
		fail_msg("%s: %s: status %d, expected %d (%s)", type,
		    row->name, st, row->status, sbuf_str(fx->why));
	if (st == DICT_FOUND && strcmp(sbuf_str(fx->value), row->value) != 0)
		fail_msg("%s: %s: value \"%s\", expected \"%s\"", type,
		    row->name, sbuf_str(fx->value), row->value);
}

static void
test_lookup(void **state)
{
	static const int flag_sets[] = {0, DICT_FLAG_NO_FOLD};
	struct fixture *fx = *state;

	for (size_t t = 0; t < NTYPES; t++) {
		for (size_t f = 0; f < 2; f++) {
			struct dict *d;

			build_ok(fx, types[t], source_text, flag_sets[f]);
			d = open_ok(fx, types[t], flag_sets[f]);
			for (size_t i = 0; i < sizeof(lookup_rows) /
			    sizeof(lookup_rows[0]); i++)
				if (lookup_rows[i].flags == flag_sets[f])
					check_lookup(fx, d, types[t],
					    &lookup_rows[i]);
			dict_free(&d);
			assert_null(d);
		}
	}
}

/* A key of a megabyte is simply not found. */
static void
test_lookup_huge_key(void **state)
{
	struct fixture *fx = *state;
	size_t len = 1024 * 1024;
	char *key = xmalloc(len + 1);

	memset(key, 'a', len);
	key[len] = '\0';
	for (size_t t = 0; t < NTYPES; t++) {
		struct dict *d;

		build_ok(fx, types[t], source_text, 0);
		d = open_ok(fx, types[t], 0);
		assert_int_equal(dict_lookup(d, key, fx->value, fx->why),
		    DICT_NOTFOUND);
		dict_free(&d);
	}
	free(key);
}

/* A value longer than the caller's buffer allows is an error. */
static void
test_lookup_value_limit(void **state)
{
	struct fixture *fx = *state;

	for (size_t t = 0; t < NTYPES; t++) {
		struct dict *d;

		build_ok(fx, types[t], source_text, 0);
		d = open_ok(fx, types[t], 0);
		sbuf_set_limit(fx->value, 4);
		assert_int_equal(dict_lookup(d, "alice", fx->value, fx->why),
		    DICT_ERROR);
		assert_non_null(strstr(sbuf_str(fx->why), "src.cdb"));
		assert_int_equal(dict_lookup(d, "zed", fx->value, fx->why),
		    DICT_FOUND);
		assert_string_equal(sbuf_str(fx->value), "z");
		sbuf_set_limit(fx->value, SIZE_MAX);
		dict_free(&d);
	}
}

/* Duplicates: the first entry wins and the builder names file and line. */
static void
test_duplicates(void **state)
{
	struct fixture *fx = *state;
	struct sbuf *expect = sbuf_new();

	sbuf_printf(expect, "%s, line 3: duplicate entry: \"alice\"",
	    fx->src);
	for (size_t t = 0; t < NTYPES; t++) {
		const char *w;

		build_ok(fx, types[t], source_text, 0);
		w = sbuf_str(fx->warnings);
		if (strncmp(w, sbuf_str(expect), sbuf_len(expect)) != 0)
			fail_msg("%s: warning \"%s\", expected it to start "
			    "with \"%s\"", types[t], w, sbuf_str(expect));
		/* Exactly one warning. */
		assert_int_equal(strchr(w, '\n') - w + 1,
		    sbuf_len(fx->warnings));

		build_ok(fx, types[t], source_text, DICT_FLAG_NO_FOLD);
		assert_int_equal(sbuf_len(fx->warnings), 0);

		build_ok(fx, types[t], "k first\nk second\nK third\nk fourth\n",
		    0);
		w = sbuf_str(fx->warnings);
		assert_non_null(strstr(w, ", line 2: duplicate entry: \"k\""));
		assert_non_null(strstr(w, ", line 3: duplicate entry: \"k\""));
		assert_non_null(strstr(w, ", line 4: duplicate entry: \"k\""));
		{
			struct dict *d = open_ok(fx, types[t], 0);

			assert_int_equal(dict_lookup(d, "k", fx->value,
			    fx->why), DICT_FOUND);
			assert_string_equal(sbuf_str(fx->value), "first");
			dict_free(&d);
		}
	}
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
check_source_row(struct fixture *fx, const char *type,
    const struct source_row *row, const char *text, size_t len)
{
	static const char *const files[] = {"src", "src.cdb"};
	struct dict *d;
	char *at;
	enum dict_status st;

	build_ok(fx, type, "keep old-value\n", row->flags & ~DICT_FLAG_ALIAS);
	if (build(fx, type, text, len, row->flags) == 0) {
		if (row->line != 0)
			fail_msg("%s: %s: built, expected an error at line %d",
			    type, row->name, row->line);
		d = open_ok(fx, type, row->flags);
		st = dict_lookup(d, row->key, fx->value, fx->why);
		if (row->value == NULL && st != DICT_NOTFOUND)
			fail_msg("%s: %s: \"%s\" found", type, row->name,
			    row->key);
		if (row->value != NULL && (st != DICT_FOUND ||
		    strcmp(sbuf_str(fx->value), row->value) != 0))
			fail_msg("%s: %s: \"%s\" gave %d \"%s\"", type,
			    row->name, row->key, st, sbuf_str(fx->value));
		/* The old table is gone. */
		assert_int_equal(dict_lookup(d, "keep", fx->value, fx->why),
		    DICT_NOTFOUND);
		dict_free(&d);
	} else {
		struct sbuf *expect = sbuf_new();

		sbuf_printf(expect, "%s, line %d: ", fx->src, row->line);
		if (row->line == 0 || (at = strstr(sbuf_str(fx->why),
		    sbuf_str(expect))) == NULL)
			fail_msg("%s: %s: error \"%s\", expected \"%s...\"",
			    type, row->name, sbuf_str(fx->why),
			    sbuf_str(expect));
		sbuf_free(&expect);
		d = open_ok(fx, type, 0);
		assert_int_equal(dict_lookup(d, "keep", fx->value, fx->why),
		    DICT_FOUND);
		assert_string_equal(sbuf_str(fx->value), "old-value");
		dict_free(&d);
	}
	assert_dir_holds(fx->dir, files, 2);
}

static void
test_sources(void **state)
{
	struct fixture *fx = *state;

	for (size_t t = 0; t < NTYPES; t++) {
		struct source_row overlong = {"overlong line", NULL, 0, 0, 2,
		    NULL, NULL};
		char *text;
		size_t len;

		for (size_t i = 0; i < sizeof(source_rows) /
		    sizeof(source_rows[0]); i++) {
			const struct source_row *row = &source_rows[i];

			check_source_row(fx, types[t], row, row->text,
			    row->len ? row->len : strlen(row->text));
		}
		text = overlong_source(&len);
		check_source_row(fx, types[t], &overlong, text, len);
		free(text);
	}
}

/* A missing source: an error naming it, and no table appears. */
static void
test_missing_source(void **state)
{
	static const char *const none[] = {NULL};
	struct fixture *fx = *state;

	for (size_t t = 0; t < NTYPES; t++) {
		char *spec = spec_of(fx, types[t]);

		assert_int_equal(dict_build(spec, 0, collect_warning,
		    fx->warnings, fx->why), -1);
		assert_non_null(strstr(sbuf_str(fx->why), fx->src));
		assert_non_null(strstr(sbuf_str(fx->why), "No such file"));
		assert_dir_holds(fx->dir, none, 0);
		free(spec);
	}
}

/* A source of n numbered entries, malloc'ed: "key-I value-I". */
static char *
numbered_source(int n)
{
	struct sbuf *s = sbuf_new();
	char *text;

	for (int i = 0; i < n; i++)
		sbuf_printf(s, "key-%d value-%d\n", i, i);
	text = sbuf_steal(s);
	sbuf_free(&s);
	return text;
}

#define BIG 2000	/* entries of the table that gets damaged */

static void
damage_truncate_half(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(truncate(path, st.st_size / 2), 0);
}

static void
damage_truncate_last_byte(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(truncate(path, st.st_size - 1), 0);
}

static void
damage_truncate_toc(const char *path)
{
	assert_int_equal(truncate(path, 2048), 0);
}

static void
damage_truncate_short(const char *path)
{
	assert_int_equal(truncate(path, 2047), 0);
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

/* Puts a Berkeley DB hash file of the same source in the file's place. */
static void
damage_berkeley_db(const char *path)
{
	struct sbuf *spec = sbuf_new(), *db = sbuf_new(), *why = sbuf_new();
	size_t stem = strlen(path) - strlen(".cdb");

	sbuf_printf(spec, "db:%.*s", (int)stem, path);
	sbuf_printf(db, "%.*s.db", (int)stem, path);
	if (dict_build(sbuf_str(spec), 0, NULL, NULL, why) < 0)
		fail_msg("%s", sbuf_str(why));
	assert_int_equal(rename(sbuf_str(db), path), 0);
	sbuf_free(&spec);
	sbuf_free(&db);
	sbuf_free(&why);
}

/* Overwrites table of contents slot `slot` with (pos, n). */
static void
set_toc_slot(const char *path, int slot, unsigned pos, unsigned n)
{
	unsigned char entry[8];
	int fd = open(path, O_WRONLY);

	assert_true(fd >= 0);
	cdb_pack(pos, entry);
	cdb_pack(n, entry + 4);
	assert_int_equal(pwrite(fd, entry, 8, 8 * slot), 8);
	close(fd);
}

static unsigned
file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (unsigned)st.st_size;
}

static void
damage_toc_past_end(const char *path)
{
	set_toc_slot(path, 7, file_size(path) + 8, 1);
}

static void
damage_toc_runs_past_end(const char *path)
{
	set_toc_slot(path, 255, file_size(path) - 8, 2);
}

static void
damage_toc_huge_count(const char *path)
{
	set_toc_slot(path, 0, 2048, 0xffffffffu);
}

static void
damage_toc_inside_toc(const char *path)
{
	set_toc_slot(path, 3, 100, 1);
}

static void
damage_toc_inside_records(const char *path)
{
	set_toc_slot(path, 200, 2048 + 8, 1);
}

struct damage_row {
	const char *name;
	void (*damage)(const char *path);
};

/* Each of these must fail at open, naming the file. */
static const struct damage_row damage_rows[] = {
	{"cut in half", damage_truncate_half},
	{"last byte cut off", damage_truncate_last_byte},
	{"only the table of contents left", damage_truncate_toc},
	{"shorter than the table of contents", damage_truncate_short},
	{"zero length", damage_empty},
	{"64 KiB of garbage", damage_garbage},
	{"100 bytes of garbage", damage_garbage_short},
	{"missing", damage_missing},
	{"a directory", damage_directory},
	{"a FIFO", damage_fifo},
	{"a Berkeley DB file", damage_berkeley_db},
	{"hash table past the end", damage_toc_past_end},
	{"hash table running past the end", damage_toc_runs_past_end},
	{"hash table of 2^32-1 slots", damage_toc_huge_count},
	{"hash table inside the table of contents", damage_toc_inside_toc},
	{"hash table inside the records", damage_toc_inside_records},
};

static void
test_damaged_files(void **state)
{
	struct fixture *fx = *state;
	char *big = numbered_source(BIG);
	char *path = cdb_path(fx);

	for (size_t i = 0; i < sizeof(damage_rows) / sizeof(damage_rows[0]);
	    i++) {
		const struct damage_row *row = &damage_rows[i];
		struct dict *d;

		build_ok(fx, "cdb", big, 0);
		/* The undamaged file opens. */
		d = open_ok(fx, "cdb", 0);
		dict_free(&d);
		row->damage(path);
		if ((d = open_table(fx, "cdb", 0)) != NULL)
			fail_msg("%s: opened", row->name);
		if (strstr(sbuf_str(fx->why), path) == NULL)
			fail_msg("%s: reason \"%s\" does not name %s",
			    row->name, sbuf_str(fx->why), path);
		if (row->damage == damage_directory)
			assert_int_equal(rmdir(path), 0);
		else
			unlink(path);
	}
	free(path);
	free(big);
}

/*
 * Hand-made files with a sound table of contents: records (raw bytes
 * after the table of contents), then one hash table of one slot, in the
 * slot of key "a", pointing at record offset rpos.
 */
struct crafted_row {
	const char *name;
	const unsigned char *records;
	size_t rlen;
	unsigned rpos;
	enum dict_status lookup;	/* of "a" */
	int iterate;			/* dict_iterate() result */
	int entries;			/* the walk sees */
};

/* klen 1, vlen 1, "a", "x": a sound record. */
static const unsigned char rec_sound[] = {1, 0, 0, 0, 1, 0, 0, 0, 'a', 'x'};
/* klen 1, vlen 2^31 - 1: the value runs far past the end. */
static const unsigned char rec_long_value[] = {1, 0, 0, 0, 0xff, 0xff,
    0xff, 0x7f, 'a'};
/* klen 2^32 - 8: the record end wraps around to the record itself. */
static const unsigned char rec_wrapping_key[] = {0xf8, 0xff, 0xff, 0xff,
    0, 0, 0, 0, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'};
/* klen 2^32 - 8 - 2048 and vlen 2048: together they wrap to the start. */
static const unsigned char rec_wrapping_sum[] = {0xf8, 0xf7, 0xff, 0xff,
    0, 8, 0, 0, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'};

static const struct crafted_row crafted_rows[] = {
	{"sound record", rec_sound, sizeof(rec_sound), 2048, DICT_FOUND, 0,
	    1},
	{"record offset past the end", rec_sound, sizeof(rec_sound),
	    0x7ffffff0u, DICT_ERROR, 0, 1},
	{"record offset inside the hash table", rec_sound, sizeof(rec_sound),
	    2048 + sizeof(rec_sound), DICT_ERROR, 0, 1},
	{"value length past the end", rec_long_value, sizeof(rec_long_value),
	    2048, DICT_ERROR, -1, 0},
	{"key length wraps around", rec_wrapping_key,
	    sizeof(rec_wrapping_key), 2048, DICT_NOTFOUND, -1, 0},
	{"key and value lengths wrap around", rec_wrapping_sum,
	    sizeof(rec_wrapping_sum), 2048, DICT_NOTFOUND, -1, 0},
	{"no records", NULL, 0, 0x7ffffff0u, DICT_ERROR, 0, 0},
};

static void
write_crafted(const char *path, const struct crafted_row *row)
{
	unsigned char toc[2048], table[8];
	unsigned dend = 2048 + (unsigned)row->rlen;
	unsigned hval = cdb_hash("a", 1);
	int fd;

	for (int i = 0; i < 256; i++) {
		cdb_pack(dend, toc + 8 * i);
		cdb_pack(i == (int)(hval & 255), toc + 8 * i + 4);
	}
	cdb_pack(hval, table);
	cdb_pack(row->rpos, table + 4);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, toc, sizeof(toc)), sizeof(toc));
	if (row->rlen > 0)
		assert_int_equal(write(fd, row->records, row->rlen),
		    (ssize_t)row->rlen);
	assert_int_equal(write(fd, table, sizeof(table)), sizeof(table));
	close(fd);
}

static int
walk_count(const char *key, const char *value, void *ctx)
{
	(*(int *)ctx)++;
	return 0;
}

static void
test_crafted_files(void **state)
{
	struct fixture *fx = *state;
	char *path = cdb_path(fx);

	for (size_t i = 0; i < sizeof(crafted_rows) / sizeof(crafted_rows[0]);
	    i++) {
		const struct crafted_row *row = &crafted_rows[i];
		enum dict_status st;
		struct dict *d;
		int entries = 0, ret;

		write_crafted(path, row);
		if ((d = open_table(fx, "cdb", 0)) == NULL)
			fail_msg("%s: open: %s", row->name, sbuf_str(fx->why));
		sbuf_reset(fx->why);
		st = dict_lookup(d, "a", fx->value, fx->why);
		if (st != row->lookup)
			fail_msg("%s: lookup gave %d, expected %d (%s)",
			    row->name, st, row->lookup, sbuf_str(fx->why));
		if (st == DICT_FOUND)
			assert_string_equal(sbuf_str(fx->value), "x");
		if (st == DICT_ERROR && strstr(sbuf_str(fx->why), path) == NULL)
			fail_msg("%s: reason \"%s\" does not name the file",
			    row->name, sbuf_str(fx->why));
		sbuf_reset(fx->why);
		ret = dict_iterate(d, walk_count, &entries, fx->why);
		if (ret != row->iterate || entries != row->entries)
			fail_msg("%s: walk gave %d with %d entries, expected "
			    "%d with %d (%s)", row->name, ret, entries,
			    row->iterate, row->entries, sbuf_str(fx->why));
		if (ret < 0 && strstr(sbuf_str(fx->why), path) == NULL)
			fail_msg("%s: reason \"%s\" does not name the file",
			    row->name, sbuf_str(fx->why));
		dict_free(&d);
	}
	free(path);
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

	for (size_t t = 0; t < NTYPES; t++) {
		struct walk_state ws = {sbuf_new(), 0, 0};
		struct dict *d;
		char *sorted;

		build_ok(fx, types[t], source_text, 0);
		d = open_ok(fx, types[t], 0);
		assert_int_equal(dict_iterate(d, walk_collect, &ws, fx->why),
		    0);
		sorted = sorted_lines(sbuf_str(ws.seen));
		assert_string_equal(sorted, expect);
		free(sorted);

		/* A walk that the callback stops. */
		sbuf_reset(ws.seen);
		ws.count = 0;
		ws.stop_after = 2;
		assert_int_equal(dict_iterate(d, walk_collect, &ws, fx->why),
		    0);
		assert_int_equal(ws.count, 2);
		dict_free(&d);

		/* An empty table walks nothing. */
		build_ok(fx, types[t], "# empty\n", 0);
		d = open_ok(fx, types[t], 0);
		ws.count = 0;
		ws.stop_after = 0;
		assert_int_equal(dict_iterate(d, walk_collect, &ws, fx->why),
		    0);
		assert_int_equal(ws.count, 0);
		dict_free(&d);
		sbuf_free(&ws.seen);
	}
}

/* A big table: every key found, the walk sees each once. */
static void
test_big_table(void **state)
{
	struct fixture *fx = *state;
	char *big = numbered_source(BIG);
	struct sbuf *key = sbuf_new(), *value = sbuf_new();

	for (size_t t = 0; t < NTYPES; t++) {
		struct walk_state ws = {sbuf_new(), 0, 0};
		struct dict *d;

		build_ok(fx, types[t], big, 0);
		d = open_ok(fx, types[t], 0);
		for (int i = 0; i < BIG; i++) {
			sbuf_reset(key);
			sbuf_printf(key, "KEY-%d", i);
			sbuf_reset(value);
			sbuf_printf(value, "value-%d", i);
			assert_int_equal(dict_lookup(d, sbuf_str(key),
			    fx->value, fx->why), DICT_FOUND);
			assert_string_equal(sbuf_str(fx->value),
			    sbuf_str(value));
		}
		assert_int_equal(dict_iterate(d, walk_collect, &ws, fx->why),
		    0);
		assert_int_equal(ws.count, BIG);
		dict_free(&d);
		sbuf_free(&ws.seen);
	}
	sbuf_free(&key);
	sbuf_free(&value);
	free(big);
}

/* A rebuild replaces the file: an open handle keeps the old table. */
static void
test_atomic_rebuild(void **state)
{
	static const char *const files[] = {"src", "src.cdb"};
	struct fixture *fx = *state;

	for (size_t t = 0; t < NTYPES; t++) {
		struct dict *old, *new;

		build_ok(fx, types[t], "k one\ngone here\n", 0);
		old = open_ok(fx, types[t], 0);
		build_ok(fx, types[t], "k two\nfresh here\n", 0);
		assert_dir_holds(fx->dir, files, 2);

		assert_int_equal(dict_lookup(old, "k", fx->value, fx->why),
		    DICT_FOUND);
		assert_string_equal(sbuf_str(fx->value), "one");
		assert_int_equal(dict_lookup(old, "gone", fx->value, fx->why),
		    DICT_FOUND);
		assert_int_equal(dict_lookup(old, "fresh", fx->value,
		    fx->why), DICT_NOTFOUND);

		new = open_ok(fx, types[t], 0);
		assert_int_equal(dict_lookup(new, "k", fx->value, fx->why),
		    DICT_FOUND);
		assert_string_equal(sbuf_str(fx->value), "two");
		assert_int_equal(dict_lookup(new, "gone", fx->value, fx->why),
		    DICT_NOTFOUND);
		dict_free(&old);
		dict_free(&new);
	}
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
	char *path = cdb_path(fx), *spec;
	struct stat st;

	for (size_t t = 0; t < NTYPES; t++) {
		spec = spec_of(fx, types[t]);
		for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
			free(test_write_text(fx->dir, "src", "a b\n"));
			assert_int_equal(chmod(fx->src, rows[i].source), 0);
			if (dict_build(spec, 0, NULL, NULL, fx->why) < 0)
				fail_msg("%s: %s", types[t], sbuf_str(fx->why));
			assert_int_equal(stat(path, &st), 0);
			if ((st.st_mode & 07777) != rows[i].table)
				fail_msg("%s: source %04o gave table %04o, "
				    "expected %04o", types[t], rows[i].source,
				    st.st_mode & 07777, rows[i].table);
		}
		free(spec);
	}
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lookup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookup_huge_key, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_lookup_value_limit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_duplicates, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sources, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_source, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_damaged_files, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_crafted_files, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_iterate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_big_table, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_atomic_rebuild, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_file_mode, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
