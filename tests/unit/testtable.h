/*
 * testtable - a lookup-table fixture shared by the dict unit tests
 *
 * A source file in a private temporary directory, built into db, btree or
 * cdb tables with dict_build(), opened, and damaged on purpose.
 */
#ifndef POSTERN_TESTTABLE_H
#define POSTERN_TESTTABLE_H

#include "testutil.h"

struct dict;

/* A table source dir/src and what dict_build() makes of it. */
struct test_table {
	char *dir;		/* from test_tmpdir() */
	char *src;		/* dir/src */
	struct sbuf *why;
	struct sbuf *warnings;	/* one line per builder warning */
	struct sbuf *value;
};

/* A fresh temporary directory with no source in it yet. */
struct test_table *test_table_new(void);
/* Removes the directory, frees the table and sets *tt to NULL. */
void test_table_free(struct test_table **tt);
/* cmocka setup and teardown: a struct test_table in *state. */
int test_table_setup(void **state);
int test_table_teardown(void **state);
/* Appends text and a newline to the sbuf ctx: a dict_warn_fn. */
void test_table_warning(const char *text, void *ctx);
/* "type:dir/src", malloc'ed. */
char *test_table_spec(struct test_table *tt, const char *type);
/* "dir/src" followed by suffix (".db"), malloc'ed. */
char *test_table_path(struct test_table *tt, const char *suffix);
/*
 * Writes len bytes of source text and builds it as type; dict_build's
 * result, with warnings and why reset first.
 */
int test_table_build(struct test_table *tt, const char *type,
    const char *text, size_t len, int flags);
/* Builds text as type and fails the test if that fails. */
void test_table_build_ok(struct test_table *tt, const char *type,
    const char *text, int flags);
/* dict_open() of type:dir/src, with why reset first. */
struct dict *test_table_open(struct test_table *tt, const char *type,
    int flags);
/* The same, failing the test if the table does not open. */
struct dict *test_table_open_ok(struct test_table *tt, const char *type,
    int flags);
/*
 * Fails unless type:dir/src fails to open with a reason naming path and
 * without a word on stderr; what names the case in the failure.
 */
void test_table_open_fails(struct test_table *tt, const char *type,
    const char *path, const char *what);
/* A way to damage the file a table was built into. */
struct test_damage {
	const char *name;
	void (*damage)(const char *path);
};

/*
 * For each of the n rows: builds text as type, checks that the table
 * opens, damages path (the built file) and checks with
 * test_table_open_fails() that the table no longer opens; then removes
 * whatever the damage left at path.
 */
void test_table_damage(struct test_table *tt, const char *type,
    const char *path, const char *text, const struct test_damage *rows,
    size_t n);
/* A source of n numbered entries, "key-I value-I" lines, malloc'ed. */
char *test_numbered_source(int n);

#endif
