/*
 * testtable - a lookup-table fixture shared by the dict unit tests
 */
#include "testtable.h"

#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/dict.h"
#include "util/safe_file.h"
#include "util/sbuf.h"
#include "util/xmalloc.h"

struct test_table *
test_table_new(void)
{
	struct test_table *tt = xcalloc(1, sizeof(*tt));

	tt->dir = test_tmpdir();
	tt->src = test_table_path(tt, "");
	tt->why = sbuf_new();
	tt->warnings = sbuf_new();
	tt->value = sbuf_new();
	return tt;
}

void
test_table_free(struct test_table **tt)
{
	if (*tt == NULL)
		return;
	test_rmtree(&(*tt)->dir);
	free((*tt)->src);
	sbuf_free(&(*tt)->why);
	sbuf_free(&(*tt)->warnings);
	sbuf_free(&(*tt)->value);
	xfree(tt);
}

int
test_table_setup(void **state)
{
	*state = test_table_new();
	return 0;
}

int
test_table_teardown(void **state)
{
	struct test_table *tt = *state;

	test_table_free(&tt);
	return 0;
}

char *
test_table_spec(struct test_table *tt, const char *type)
{
	struct sbuf *s = sbuf_new();
	char *spec;

	sbuf_printf(s, "%s:%s", type, tt->src);
	spec = sbuf_steal(s);
	sbuf_free(&s);
	return spec;
}

char *
test_table_path(struct test_table *tt, const char *suffix)
{
	struct sbuf *s = sbuf_new();
	char *path;

	sbuf_printf(s, "%s/src%s", tt->dir, suffix);
	path = sbuf_steal(s);
	sbuf_free(&s);
	return path;
}

void
test_table_warning(const char *text, void *ctx)
{
	sbuf_cat(ctx, text);
	sbuf_catc(ctx, '\n');
}

int
test_table_build(struct test_table *tt, const char *type, const char *text,
    size_t len, int flags)
{
	char *path = test_write_file(tt->dir, "src", text, len);
	char *spec = test_table_spec(tt, type);
	int ret;

	sbuf_reset(tt->warnings);
	sbuf_reset(tt->why);
	ret = dict_build(spec, flags, test_table_warning, tt->warnings,
	    tt->why);
	free(spec);
	free(path);
	return ret;
}

void
test_table_build_ok(struct test_table *tt, const char *type,
    const char *text, int flags)
{
	if (test_table_build(tt, type, text, strlen(text), flags) < 0)
		fail_msg("build %s: %s", type, sbuf_str(tt->why));
}

struct dict *
test_table_open(struct test_table *tt, const char *type, int flags)
{
	char *spec = test_table_spec(tt, type);
	struct dict *d;

	sbuf_reset(tt->why);
	d = dict_open(spec, flags, tt->why);
	free(spec);
	return d;
}

struct dict *
test_table_open_ok(struct test_table *tt, const char *type, int flags)
{
	struct dict *d = test_table_open(tt, type, flags);

	if (d == NULL)
		fail_msg("open %s: %s", type, sbuf_str(tt->why));
	return d;
}

void
test_table_open_fails(struct test_table *tt, const char *type,
    const char *path, const char *what)
{
	struct dict *d;
	char *said;
	int saved;

	saved = test_stderr_to_file(tt->dir);
	d = test_table_open(tt, type, 0);
	said = test_stderr_restore(tt->dir, saved);
	if (d != NULL)
		fail_msg("%s: %s: opened", type, what);
	if (strstr(sbuf_str(tt->why), path) == NULL)
		fail_msg("%s: %s: reason \"%s\" does not name %s", type, what,
		    sbuf_str(tt->why), path);
	if (*said != '\0')
		fail_msg("%s: %s: wrote to stderr: %s", type, what, said);
	free(said);
}

void
test_table_damage(struct test_table *tt, const char *type, const char *path,
    const char *text, const struct test_damage *rows, size_t n)
{
	struct stat st;

	for (size_t i = 0; i < n; i++) {
		struct dict *d;

		test_table_build_ok(tt, type, text, 0);
		/* The undamaged file opens. */
		d = test_table_open_ok(tt, type, 0);
		dict_free(&d);
		rows[i].damage(path);
		test_table_open_fails(tt, type, path, rows[i].name);
		/* Back to a good file for the next row. */
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
			assert_int_equal(rmdir(path), 0);
		else
			unlink(path);
	}
}

char *
test_numbered_source(int n)
{
	struct sbuf *s = sbuf_new();
	char *text;

	for (int i = 0; i < n; i++)
		sbuf_printf(s, "key-%d value-%d\n", i, i);
	text = sbuf_steal(s);
	sbuf_free(&s);
	return text;
}
