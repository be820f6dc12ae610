/*
 * test_dict_db - what is particular to Berkeley DB tables (db: hash,
 * btree:)
 *
 * Real NAME.db files in a temporary directory, damaged the ways a paged
 * file can be: cut off the page grid, only the meta page left, a file of
 * the other access method, one value byte flipped (caught by the page
 * checksums). Each must give a clean error naming the file, and Berkeley
 * DB must not say a word on stderr. What every indexed table shares
 * (lookups, sources, walks, modes, rebuilds, generic damage) is in
 * test_dict_indexed.c.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testtable.h"
#include "util/dict.h"
#include "util/safe_file.h"
#include "util/sbuf.h"
#include "util/xmalloc.h"

static const char *const types[] = {"db", "btree"};
#define NTYPES (sizeof(types) / sizeof(types[0]))

#define BIG 2000	/* entries of the table that gets damaged */

static void
damage_truncate_odd(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(truncate(path, st.st_size / 2 + 100), 0);
}

static void
damage_truncate_meta(const char *path)
{
	assert_int_equal(truncate(path, 4096), 0);
}

/* Flips one byte of each copy of the stored value "value-1234". */
static void
damage_flip_value(const char *path)
{
	struct sbuf *data = sbuf_new(), *why = sbuf_new();
	char *hit, *end;
	int fd, hits = 0;

	assert_int_equal(safe_file_read(path, SIZE_MAX, data, why), 0);
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	end = data->data + data->len;
	for (hit = data->data; (hit = memmem(hit, (size_t)(end - hit),
	    "value-1234", 10)) != NULL; hit++, hits++)
		assert_int_equal(pwrite(fd, "V", 1, hit - data->data), 1);
	assert_true(hits > 0);
	close(fd);
	sbuf_free(&data);
	sbuf_free(&why);
}

enum damage_result {
	OPEN_FAILS,
	LOOKUP_FAILS		/* opens; "key-1234" gives DICT_ERROR */
};

struct damage_row {
	const char *name;
	const char *built_as;	/* the type the file is built as */
	void (*damage)(const char *path);	/* NULL: none */
	enum damage_result result;
};

static const struct damage_row damage_rows[] = {
	{"cut off the page grid", NULL, damage_truncate_odd, OPEN_FAILS},
	{"only the meta page left", NULL, damage_truncate_meta, OPEN_FAILS},
	{"btree file opened as hash", "btree", NULL, OPEN_FAILS},
	{"hash file opened as btree", "db", NULL, OPEN_FAILS},
	{"one value byte flipped", NULL, damage_flip_value, LOOKUP_FAILS},
};

static void
check_damage_row(struct test_table *tt, const char *type,
    const struct damage_row *row, const char *big)
{
	char *path = test_table_path(tt, ".db");
	struct dict *d;
	char *said;
	int saved;

	test_table_build_ok(tt, row->built_as ? row->built_as : type, big, 0);
	if (row->built_as != NULL && strcmp(row->built_as, type) == 0) {
		free(path);
		return;		/* the row is about the other type */
	}
	if (row->damage != NULL)
		row->damage(path);
	if (row->result == OPEN_FAILS) {
		test_table_open_fails(tt, type, path, row->name);
	} else {
		saved = test_stderr_to_file(tt->dir);
		d = test_table_open(tt, type, 0);
		if (d == NULL) {
			test_stderr_restore(tt->dir, saved);
			fail_msg("%s: %s: open: %s", type, row->name,
			    sbuf_str(tt->why));
		}
		/* Never the damaged value: an error. */
		if (dict_lookup(d, "key-1234", tt->value, tt->why) !=
		    DICT_ERROR) {
			test_stderr_restore(tt->dir, saved);
			fail_msg("%s: %s: lookup gave \"%s\"", type, row->name,
			    sbuf_str(tt->value));
		}
		assert_non_null(strstr(sbuf_str(tt->why), path));
		dict_free(&d);
		said = test_stderr_restore(tt->dir, saved);
		if (*said != '\0')
			fail_msg("%s: %s: wrote to stderr: %s", type,
			    row->name, said);
		free(said);
	}
	/* Back to a good file for the next row. */
	unlink(path);
	free(path);
}

static void
test_damaged_files(void **state)
{
	struct test_table *tt = *state;
	char *big = test_numbered_source(BIG);

	for (size_t t = 0; t < NTYPES; t++)
		for (size_t i = 0; i < sizeof(damage_rows) /
		    sizeof(damage_rows[0]); i++)
			check_damage_row(tt, types[t], &damage_rows[i], big);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_damaged_files,
		    test_table_setup, test_table_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
