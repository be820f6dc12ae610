/*
 * test_dict_cdb - what is particular to constant database tables (cdb:)
 *
 * Real NAME.cdb files in a temporary directory: files cut inside the
 * records or the table of contents, a Berkeley DB file in the place of
 * one, and a table of contents whose hash tables point outside the file,
 * into itself or into the records must fail at open naming the file;
 * hand-made files whose record offsets and lengths point outside the file
 * or wrap around must give clean errors and walks that end. What every
 * indexed table shares (lookups, sources, walks, modes, rebuilds, generic
 * damage) is in test_dict_indexed.c.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <cdb.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testtable.h"
#include "util/dict.h"
#include "util/sbuf.h"

#define BIG 2000	/* entries of the table that gets damaged */

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

/* Each of these must fail at open, naming the file, silently. */
static const struct test_damage damage_rows[] = {
	{"last byte cut off", damage_truncate_last_byte},
	{"only the table of contents left", damage_truncate_toc},
	{"shorter than the table of contents", damage_truncate_short},
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
	struct test_table *tt = *state;
	char *big = test_numbered_source(BIG);
	char *path = test_table_path(tt, ".cdb");

	test_table_damage(tt, "cdb", path, big, damage_rows,
	    sizeof(damage_rows) / sizeof(damage_rows[0]));
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
	struct test_table *tt = *state;
	char *path = test_table_path(tt, ".cdb");

	for (size_t i = 0; i < sizeof(crafted_rows) / sizeof(crafted_rows[0]);
	    i++) {
		const struct crafted_row *row = &crafted_rows[i];
		enum dict_status st;
		struct dict *d;
		int entries = 0, ret;

		write_crafted(path, row);
		if ((d = test_table_open(tt, "cdb", 0)) == NULL)
			fail_msg("%s: open: %s", row->name, sbuf_str(tt->why));
		sbuf_reset(tt->why);
		st = dict_lookup(d, "a", tt->value, tt->why);
		if (st != row->lookup)
			fail_msg("%s: lookup gave %d, expected %d (%s)",
			    row->name, st, row->lookup, sbuf_str(tt->why));
		if (st == DICT_FOUND)
			assert_string_equal(sbuf_str(tt->value), "x");
		if (st == DICT_ERROR && strstr(sbuf_str(tt->why), path) == NULL)
			fail_msg("%s: reason \"%s\" does not name the file",
			    row->name, sbuf_str(tt->why));
		sbuf_reset(tt->why);
		ret = dict_iterate(d, walk_count, &entries, tt->why);
		if (ret != row->iterate || entries != row->entries)
			fail_msg("%s: walk gave %d with %d entries, expected "
			    "%d with %d (%s)", row->name, ret, entries,
			    row->iterate, row->entries, sbuf_str(tt->why));
		if (ret < 0 && strstr(sbuf_str(tt->why), path) == NULL)
			fail_msg("%s: reason \"%s\" does not name the file",
			    row->name, sbuf_str(tt->why));
		dict_free(&d);
	}
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_damaged_files,
		    test_table_setup, test_table_teardown),
		cmocka_unit_test_setup_teardown(test_crafted_files,
		    test_table_setup, test_table_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
