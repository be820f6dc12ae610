/*
 * test_dict_text - the in-memory tables: texthash:, inline: and static:
 *
 * One table of rows (table, key, expected status, value or reason) walked
 * by one function; texthash sources are written to a private directory.
 * Walk order and first-entry-wins are checked through dict_iterate().
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "util/dict.h"
#include "util/sbuf.h"
#include "util/textfile.h"
#include "util/xmalloc.h"

struct row {
	const char *name;
	const char *spec;	/* with source or missing: the type prefix */
	const char *source;	/* texthash source text, or NULL */
	size_t source_len;	/* 0: strlen(source) */
	size_t pad;		/* bytes of 'x' (and a newline) added */
	bool missing;		/* name a file that does not exist */
	int flags;
	const char *key;
	enum dict_status status;
	const char *value;	/* on DICT_FOUND */
	const char *reason;	/* open must fail with this in the reason */
};

#define NOT DICT_NOTFOUND
#define FOUND DICT_FOUND

static const struct row rows[] = {
	/* texthash: */
	{"texthash plain", "texthash:", "alice alice@example.com\n", 0, 0,
	    false, 0, "alice", FOUND, "alice@example.com", NULL},
	{"texthash key folded at lookup", "texthash:", "alice a@x\n", 0, 0,
	    false, 0, "ALICE", FOUND, "a@x", NULL},
	{"texthash key folded in source", "texthash:", "Bob B@X\n", 0, 0,
	    false, 0, "bob", FOUND, "B@X", NULL},
	{"texthash no fold: case differs", "texthash:", "Bob b\n", 0, 0,
	    false, DICT_FLAG_NO_FOLD, "bob", NOT, NULL, NULL},
	{"texthash no fold: same case", "texthash:", "Bob b\n", 0, 0,
	    false, DICT_FLAG_NO_FOLD, "Bob", FOUND, "b", NULL},
	{"texthash continuation lines", "texthash:",
	    "list a,\n  b,\n\tc\nnext n\n", 0, 0, false, 0, "list", FOUND,
	    "a, b, c", NULL},
	{"texthash comments", "texthash:",
	    "# comment\nk v\n  # indented comment\nk2 v2\n", 0, 0, false, 0,
	    "k", FOUND, "v", NULL},
	{"texthash comment is not a key", "texthash:", "# comment\nk v\n",
	    0, 0, false, 0, "#", NOT, NULL, NULL},
	{"texthash duplicate: first wins", "texthash:",
	    "a first\nb x\na second\n", 0, 0, false, 0, "a", FOUND, "first",
	    NULL},
	{"texthash folded duplicate: first wins", "texthash:",
	    "A first\na second\n", 0, 0, false, 0, "a", FOUND, "first", NULL},
	{"texthash absent key", "texthash:", "a b\n", 0, 0, false, 0,
	    "c", NOT, NULL, NULL},
	{"texthash empty key looked up", "texthash:", "a b\n", 0, 0, false,
	    0, "", NOT, NULL, NULL},
	{"texthash hostile key", "texthash:", "a b\n", 0, 0, false, 0,
	    "a\r\n\xff", NOT, NULL, NULL},
	{"texthash alias format", "texthash:", "postmaster: root\n", 0, 0,
	    false, DICT_FLAG_ALIAS, "postmaster", FOUND, "root", NULL},
	{"texthash empty file", "texthash:", "", 0, 0, false, 0, "a", NOT,
	    NULL, NULL},
	{"texthash CRLF lines", "texthash:", "a b\r\nc d\r\n", 0, 0, false,
	    0, "a", FOUND, "b", NULL},
	{"texthash malformed line", "texthash:", "a x\nb y\nbadline\n", 0,
	    0, false, 0, "a", NOT, NULL, "line 3: expected format"},
	{"texthash malformed after continuation", "texthash:",
	    "a x\n  y\n\nlonely\n", 0, 0, false, 0, "a", NOT, NULL, "line 4"},
	{"texthash NUL byte", "texthash:", "a x\nb y\0z\n", 10, 0, false, 0,
	    "a", NOT, NULL, "line 2: NUL byte"},
	{"texthash over-long line", "texthash:", "ok 1\nbig ", 0,
	    TEXTFILE_LINE_MAX, false, 0, "ok", NOT, NULL,
	    "line 2: line longer than"},
	{"texthash missing file", "texthash:", NULL, 0, 0, true, 0, "a",
	    NOT, NULL, "No such file"},
	/* inline: */
	{"inline plain", "inline:{a=b}", NULL, 0, 0, false, 0, "a", FOUND,
	    "b", NULL},
	{"inline spaces around =", "inline:{ a = b , c =d, e= f }", NULL, 0,
	    0, false, 0, "e", FOUND, "f", NULL},
	{"inline space before =", "inline:{ a = b , c =d, e= f }", NULL, 0,
	    0, false, 0, "c", FOUND, "d", NULL},
	{"inline whitespace separates", "inline:{a=1 b=2\tc=3}", NULL, 0, 0,
	    false, 0, "c", FOUND, "3", NULL},
	{"inline braced entry with comma", "inline:{ {a = x, y }, b=c }",
	    NULL, 0, 0, false, 0, "a", FOUND, "x, y", NULL},
	{"inline entry after braced one", "inline:{ {a = x, y }, b=c }",
	    NULL, 0, 0, false, 0, "b", FOUND, "c", NULL},
	{"inline braced key with space", "inline:{{my key = v}}", NULL, 0,
	    0, false, 0, "my key", FOUND, "v", NULL},
	{"inline nested braces", "inline:{ {k = v{w, x}z} }", NULL, 0, 0,
	    false, 0, "k", FOUND, "v{w, x}z", NULL},
	{"inline value with =", "inline:{a=b=c}", NULL, 0, 0, false, 0, "a",
	    FOUND, "b=c", NULL},
	{"inline empty value", "inline:{a=, b=c}", NULL, 0, 0, false, 0,
	    "a", FOUND, "", NULL},
	{"inline key folded", "inline:{Key=Value}", NULL, 0, 0, false, 0,
	    "KEY", FOUND, "Value", NULL},
	{"inline no fold", "inline:{Key=Value}", NULL, 0, 0, false,
	    DICT_FLAG_NO_FOLD, "key", NOT, NULL, NULL},
	{"inline duplicate: first wins", "inline:{a=1, A=2, a=3}", NULL, 0,
	    0, false, 0, "a", FOUND, "1", NULL},
	{"inline absent key", "inline:{a=1}", NULL, 0, 0, false, 0, "b", NOT,
	    NULL, NULL},
	{"inline missing braces", "inline:a=b", NULL, 0, 0, false, 0, "a",
	    NOT, NULL, "expected {key=value"},
	{"inline missing closing brace", "inline:{a=b", NULL, 0, 0, false, 0,
	    "a", NOT, NULL, "unbalanced braces: missing '}'"},
	{"inline inner brace unclosed", "inline:{ {a=b }", NULL, 0, 0, false,
	    0, "a", NOT, NULL, "unbalanced braces: missing '}'"},
	{"inline extra closing brace", "inline:{a=b}}", NULL, 0, 0, false, 0,
	    "a", NOT, NULL, "unbalanced braces: unexpected '}'"},
	{"inline text after table", "inline:{a=b} c=d", NULL, 0, 0, false, 0,
	    "a", NOT, NULL, "text after the closing '}'"},
	{"inline entry without =", "inline:{a, b=c}", NULL, 0, 0, false, 0,
	    "b", NOT, NULL, "missing '=' after \"a\""},
	{"inline words without =", "inline:{a b=c}", NULL, 0, 0, false, 0,
	    "b", NOT, NULL, "missing '=' after \"a\""},
	{"inline braced entry without =", "inline:{ {a b} }", NULL, 0, 0,
	    false, 0, "a", NOT, NULL, "missing '=' in entry \"{a b}\""},
	{"inline empty key", "inline:{=b}", NULL, 0, 0, false, 0, "a", NOT,
	    NULL, "empty key"},
	{"inline braced empty key", "inline:{{ = b}}", NULL, 0, 0, false, 0,
	    "a", NOT, NULL, "empty key in entry"},
	{"inline empty table", "inline:{}", NULL, 0, 0, false, 0, "a", NOT,
	    NULL, "empty table"},
	{"inline only separators", "inline:{ , ,\t}", NULL, 0, 0, false, 0,
	    "a", NOT, NULL, "empty table"},
	{"inline brace inside entry", "inline:{a=x{y}}", NULL, 0, 0, false, 0,
	    "a", NOT, NULL, "wrap the whole entry in braces"},
	{"inline text after braced entry", "inline:{{a=b}c}", NULL, 0, 0,
	    false, 0, "a", NOT, NULL, "text after entry"},
	/* static: */
	{"static plain", "static:value", NULL, 0, 0, false, 0, "anything",
	    FOUND, "value", NULL},
	{"static empty key", "static:value", NULL, 0, 0, false, 0, "", FOUND,
	    "value", NULL},
	{"static braces", "static:{ value with spaces }", NULL, 0, 0, false,
	    0, "k", FOUND, "value with spaces", NULL},
	{"static nested braces", "static:{a{b}c}", NULL, 0, 0, false, 0, "k",
	    FOUND, "a{b}c", NULL},
	{"static empty braces", "static:{}", NULL, 0, 0, false, 0, "k",
	    FOUND, "", NULL},
	{"static keeps case", "static:MiXeD", NULL, 0, 0, false, 0, "K",
	    FOUND, "MiXeD", NULL},
	{"static unclosed brace", "static:{abc", NULL, 0, 0, false, 0, "k",
	    NOT, NULL, "missing '}'"},
	{"static text after brace", "static:{a}b", NULL, 0, 0, false, 0, "k",
	    NOT, NULL, "text after the closing '}'"},
};

/* Writes the row's source (or names a missing file); returns the spec. */
static char *
row_spec(const struct row *row, const char *dir)
{
	struct sbuf *spec = sbuf_new();
	char *path = NULL;

	if (row->source != NULL) {
		struct sbuf *data = sbuf_new();

		sbuf_catn(data, row->source, row->source_len ? row->source_len :
		    strlen(row->source));
		if (row->pad > 0) {
			for (size_t i = 0; i < row->pad; i++)
				sbuf_catc(data, 'x');
			sbuf_catc(data, '\n');
		}
		path = test_write_file(dir, "source", sbuf_str(data),
		    sbuf_len(data));
		sbuf_free(&data);
	} else if (row->missing) {
		sbuf_printf(spec, "%s/missing", dir);
		path = sbuf_steal(spec);
	}
	sbuf_set(spec, row->spec);
	if (path != NULL)
		sbuf_cat(spec, path);
	free(path);
	path = sbuf_steal(spec);
	sbuf_free(&spec);
	return path;
}

static void
test_rows(void **state)
{
	struct sbuf *why = sbuf_new(), *value = sbuf_new();

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *row = &rows[i];
		char *dir = test_tmpdir();
		char *spec = row_spec(row, dir);
		struct dict *d;
		enum dict_status status;

		sbuf_reset(why);
		d = dict_open(spec, row->flags, why);
		if (row->reason != NULL) {
			if (d != NULL)
				fail_msg("%s: opened, expected \"%s\"",
				    row->name, row->reason);
			if (strstr(sbuf_str(why), row->reason) == NULL ||
			    strstr(sbuf_str(why), strchr(spec, ':') + 1) ==
			    NULL)
				fail_msg("%s: reason \"%s\", expected \"%s\" "
				    "and the table's name", row->name,
				    sbuf_str(why), row->reason);
		} else {
			if (d == NULL)
				fail_msg("%s: open failed: %s", row->name,
				    sbuf_str(why));
			sbuf_set(value, "stale");
			status = dict_lookup(d, row->key, value, why);
			if (status != row->status)
				fail_msg("%s: status %d, expected %d (%s)",
				    row->name, status, row->status,
				    sbuf_str(why));
			if (status == DICT_FOUND &&
			    strcmp(sbuf_str(value), row->value) != 0)
				fail_msg("%s: value \"%s\", expected \"%s\"",
				    row->name, sbuf_str(value), row->value);
			dict_free(&d);
			assert_null(d);
		}
		free(spec);
		test_rmtree(&dir);
	}
	sbuf_free(&why);
	sbuf_free(&value);
}

struct walk {
	struct sbuf *seen;	/* "key=value;" for each entry */
	int stop_after;		/* 0: never stop */
	int count;
};

static int
walk_fn(const char *key, const char *value, void *ctx)
{
	struct walk *w = ctx;

	sbuf_printf(w->seen, "%s=%s;", key, value);
	return ++w->count == w->stop_after;
}

struct walk_row {
	const char *name;
	const char *spec;	/* with source: the type prefix */
	const char *source;
	int flags;
	int stop_after;
	int ret;		/* of dict_iterate() */
	const char *seen;	/* entries walked, or the reason */
};

static const struct walk_row walk_rows[] = {
	{"texthash source order, first wins", "texthash:",
	    "c 3\nA 1\nb 2\na 9\n", 0, 0, 0, "c=3;a=1;b=2;"},
	{"texthash no fold keeps both", "texthash:", "A 1\na 2\n",
	    DICT_FLAG_NO_FOLD, 0, 0, "A=1;a=2;"},
	{"texthash stopped walk", "texthash:", "a 1\nb 2\nc 3\n", 0, 2, 0,
	    "a=1;b=2;"},
	{"texthash empty", "texthash:", "", 0, 0, 0, ""},
	{"inline written order", "inline:{z=1, {y = 2 3}, x=3, Z=4}", NULL,
	    0, 0, 0, "z=1;y=2 3;x=3;"},
	{"inline stopped walk", "inline:{a=1 b=2}", NULL, 0, 1, 0, "a=1;"},
	{"static cannot be listed", "static:x", NULL, 0, 0, -1,
	    "cannot be listed"},
};

static void
test_walks(void **state)
{
	struct sbuf *why = sbuf_new();
	struct walk w = {sbuf_new(), 0, 0};

	for (size_t i = 0; i < sizeof(walk_rows) / sizeof(walk_rows[0]);
	    i++) {
		const struct walk_row *row = &walk_rows[i];
		char *dir = test_tmpdir(), *path = NULL;
		struct sbuf *spec = sbuf_new();
		struct dict *d;
		int ret;

		sbuf_set(spec, row->spec);
		if (row->source != NULL) {
			path = test_write_text(dir, "source", row->source);
			sbuf_cat(spec, path);
		}
		if ((d = dict_open(sbuf_str(spec), row->flags, why)) == NULL)
			fail_msg("%s: open failed: %s", row->name,
			    sbuf_str(why));
		sbuf_reset(w.seen);
		w.stop_after = row->stop_after;
		w.count = 0;
		ret = dict_iterate(d, walk_fn, &w, why);
		if (ret != row->ret)
			fail_msg("%s: dict_iterate %d, expected %d", row->name,
			    ret, row->ret);
		if (strstr(sbuf_str(ret == 0 ? w.seen : why), row->seen) ==
		    NULL || (ret == 0 && strcmp(sbuf_str(w.seen), row->seen)
		    != 0))
			fail_msg("%s: walked \"%s\" (%s), expected \"%s\"",
			    row->name, sbuf_str(w.seen), sbuf_str(why),
			    row->seen);
		dict_free(&d);
		sbuf_free(&spec);
		free(path);
		test_rmtree(&dir);
	}
	sbuf_free(&w.seen);
	sbuf_free(&why);
}

/* A value longer than the caller's buffer allows is an error, not cut. */
static void
test_value_limit(void **state)
{
	static const char *const specs[] = {
		"inline:{a=0123456789}", "static:0123456789",
	};
	struct sbuf *why = sbuf_new(), *value = sbuf_new();

	sbuf_set_limit(value, 5);
	for (size_t i = 0; i < 2; i++) {
		struct dict *d = dict_open(specs[i], 0, why);

		assert_non_null(d);
		assert_int_equal(dict_lookup(d, "a", value, why), DICT_ERROR);
		assert_non_null(strstr(sbuf_str(why), "too long"));
		dict_free(&d);
	}
	sbuf_free(&why);
	sbuf_free(&value);
}

/* dict_changed() sees a rewritten, replaced or removed file, once. */
static void
test_changed(void **state)
{
	char *dir = test_tmpdir();
	char *path = test_write_file(dir, "t", "a 1\n", 4);
	struct sbuf *spec = sbuf_new(), *why = sbuf_new();
	struct dict *d, *other;

	sbuf_printf(spec, "texthash:%s", path);
	d = dict_open(sbuf_str(spec), 0, why);
	assert_non_null(d);
	assert_false(dict_changed(d));
	free(test_write_file(dir, "t", "a 22\n", 5));
	assert_true(dict_changed(d));
	dict_free(&d);
	d = dict_open(sbuf_str(spec), 0, why);
	assert_non_null(d);
	assert_false(dict_changed(d));
	assert_int_equal(unlink(path), 0);
	assert_true(dict_changed(d));
	dict_free(&d);
	other = dict_open("inline:{a=1}", 0, why);
	assert_non_null(other);
	assert_false(dict_changed(other));
	dict_free(&other);
	free(path);
	sbuf_free(&spec);
	sbuf_free(&why);
	test_rmtree(&dir);
	(void)state;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_walks),
		cmocka_unit_test(test_value_limit),
		cmocka_unit_test(test_changed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
