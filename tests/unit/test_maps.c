/*
 * test_maps - lists of lookup tables searched in order
 *
 * Rows for maps_split() (braces group, unbalanced braces fail) and for
 * maps_open()/maps_find() over real tables (inline, static, texthash,
 * pcre): search order, empty lists, open errors, and a table error that
 * must stop the search and name the table. "@DIR@" in a row stands for
 * the test's private directory, which holds the files below.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "mail/maps.h"
#include "util/sbuf.h"

struct split_row {
	const char *name;
	const char *list;
	const char *specs;	/* joined with '|', or NULL on error */
	const char *reason;
};

static const struct split_row split_rows[] = {
	{"empty", "", "", NULL},
	{"only separators", " ,\t, \n", "", NULL},
	{"one", "hash:/etc/aliases", "hash:/etc/aliases", NULL},
	{"commas and spaces", "a:b, c:d e:f,,g:h", "a:b|c:d|e:f|g:h", NULL},
	{"braces group commas", "inline:{a=b, c=d}, static:x",
	    "inline:{a=b, c=d}|static:x", NULL},
	{"nested braces", "inline:{ {a = b, c}, d=e }\tstatic:{x y}",
	    "inline:{ {a = b, c}, d=e }|static:{x y}", NULL},
	{"missing closing brace", "static:x, inline:{a=b", NULL,
	    "unbalanced braces: missing '}'"},
	{"unexpected closing brace", "static:x}, inline:{a=b}", NULL,
	    "unbalanced braces: unexpected '}'"},
};

static void
test_split(void **state)
{
	struct sbuf *why = sbuf_new(), *joined = sbuf_new();

	for (size_t i = 0; i < sizeof(split_rows) / sizeof(split_rows[0]);
	    i++) {
		const struct split_row *row = &split_rows[i];
		char **specs = NULL;
		size_t count = 0;
		int ret = maps_split(row->list, &specs, &count, why);

		if (row->specs == NULL) {
			if (ret != -1)
				fail_msg("%s: split, expected an error",
				    row->name);
			if (strstr(sbuf_str(why), row->reason) == NULL ||
			    strstr(sbuf_str(why), row->list) == NULL)
				fail_msg("%s: reason \"%s\", expected \"%s\"",
				    row->name, sbuf_str(why), row->reason);
			continue;
		}
		if (ret != 0)
			fail_msg("%s: %s", row->name, sbuf_str(why));
		sbuf_reset(joined);
		for (size_t j = 0; j < count; j++)
			sbuf_printf(joined, "%s%s", j ? "|" : "", specs[j]);
		if (strcmp(sbuf_str(joined), row->specs) != 0)
			fail_msg("%s: \"%s\", expected \"%s\"", row->name,
			    sbuf_str(joined), row->specs);
		maps_split_free(&specs, count);
		assert_null(specs);
	}
	sbuf_free(&why);
	sbuf_free(&joined);
}

struct find_row {
	const char *name;
	const char *list;	/* @DIR@ is the private directory */
	const char *key;
	enum dict_status status;
	const char *value;	/* DICT_FOUND: value; DICT_ERROR: reason */
	const char *open_error;	/* maps_open must fail with this */
};

#define NOT DICT_NOTFOUND
#define FOUND DICT_FOUND
#define ERROR DICT_ERROR

/* 40 'a's and a '!': too much work for /^(a+)+$/. */
#define BOOM "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!"

static const struct find_row find_rows[] = {
	{"first table wins", "inline:{a=first}, inline:{a=second, b=bee}",
	    "a", FOUND, "first", NULL},
	{"second table", "inline:{a=first}, inline:{a=second, b=bee}", "b",
	    FOUND, "bee", NULL},
	{"no table has it", "inline:{a=first}, inline:{a=second, b=bee}",
	    "c", NOT, NULL, NULL},
	{"static as fallback", "inline:{a=1}, static:{default value}", "zz",
	    FOUND, "default value", NULL},
	{"empty list", "", "a", NOT, NULL, NULL},
	{"blank list", " , ", "a", NOT, NULL, NULL},
	{"folding per table", "inline:{Key=v}", "KEY", FOUND, "v", NULL},
	{"texthash", "texthash:@DIR@/aliases, static:no", "root", FOUND,
	    "admin", NULL},
	{"pcre with $1", "pcre:@DIR@/boom.pcre", "user@example.com", FOUND,
	    "user", NULL},
	{"error stops the search", "pcre:@DIR@/boom.pcre, static:fallback",
	    BOOM, ERROR, "table pcre:@DIR@/boom.pcre: @DIR@/boom.pcre, line 1",
	    NULL},
	{"error after a miss", "inline:{x=y}, pcre:@DIR@/boom.pcre, "
	    "static:fallback", BOOM, ERROR, "match limit", NULL},
	{"found before the failing table", "inline:{" BOOM "=early}, "
	    "pcre:@DIR@/boom.pcre", BOOM, FOUND, "early", NULL},
	{"no error: later table answers", "pcre:@DIR@/boom.pcre, "
	    "static:fallback", "bbb", FOUND, "fallback", NULL},
	{"unknown type", "inline:{a=b}, nosuch:x", "a", NOT, NULL,
	    "unknown table type \"nosuch\""},
	{"missing texthash file", "texthash:@DIR@/missing", "a", NOT, NULL,
	    "@DIR@/missing"},
	{"bad inline table", "static:x inline:{}", "a", NOT, NULL,
	    "empty table"},
	{"unbalanced list", "static:x, inline:{a=b", "a", NOT, NULL,
	    "missing '}'"},
	{"spec without type", "static:x, nocolon", "a", NOT, NULL,
	    "expected type:name"},
	{"bad pcre file", "pcre:@DIR@/bad.pcre", "a", NOT, NULL,
	    "bad.pcre, line 2: endif without if"},
};

/* Replaces each @DIR@ in text with dir. */
static void
expand_dir(struct sbuf *out, const char *text, const char *dir)
{
	const char *p;

	sbuf_reset(out);
	while ((p = strstr(text, "@DIR@")) != NULL) {
		sbuf_catn(out, text, (size_t)(p - text));
		sbuf_cat(out, dir);
		text = p + 5;
	}
	sbuf_cat(out, text);
}

static void
test_find(void **state)
{
	char *dir = test_tmpdir();
	char *files[3];
	struct sbuf *why = sbuf_new(), *value = sbuf_new();
	struct sbuf *list = sbuf_new(), *expect = sbuf_new();

	files[0] = test_write_text(dir, "aliases", "root admin\n");
	files[1] = test_write_text(dir, "boom.pcre",
	    "/^(a+)+$/ x\n/^(.*)@example\\.com$/ $1\n");
	files[2] = test_write_text(dir, "bad.pcre", "/a/ b\nendif\n");
	for (size_t i = 0; i < sizeof(find_rows) / sizeof(find_rows[0]);
	    i++) {
		const struct find_row *row = &find_rows[i];
		enum dict_status status;
		struct maps *m;

		expand_dir(list, row->list, dir);
		sbuf_reset(why);
		m = maps_open(sbuf_str(list), 0, why);
		if (row->open_error != NULL) {
			expand_dir(expect, row->open_error, dir);
			if (m != NULL)
				fail_msg("%s: opened, expected \"%s\"",
				    row->name, sbuf_str(expect));
			if (strstr(sbuf_str(why), sbuf_str(expect)) == NULL)
				fail_msg("%s: reason \"%s\", expected \"%s\"",
				    row->name, sbuf_str(why),
				    sbuf_str(expect));
			continue;
		}
		if (m == NULL)
			fail_msg("%s: open failed: %s", row->name,
			    sbuf_str(why));
		sbuf_set(value, "stale");
		status = maps_find(m, row->key, value, why);
		if (status != row->status)
			fail_msg("%s: status %d, expected %d (%s)", row->name,
			    status, row->status, sbuf_str(why));
		if (row->value != NULL)
			expand_dir(expect, row->value, dir);
		if (status == DICT_FOUND &&
		    strcmp(sbuf_str(value), sbuf_str(expect)) != 0)
			fail_msg("%s: value \"%s\", expected \"%s\"",
			    row->name, sbuf_str(value), sbuf_str(expect));
		if (status == DICT_ERROR &&
		    strstr(sbuf_str(why), sbuf_str(expect)) == NULL)
			fail_msg("%s: reason \"%s\", expected \"%s\"",
			    row->name, sbuf_str(why), sbuf_str(expect));
		if (status == DICT_ERROR &&
		    strcmp(sbuf_str(value), "fallback") == 0)
			fail_msg("%s: a later table answered", row->name);
		maps_free(&m);
		assert_null(m);
	}
	maps_free(&(struct maps *){NULL});
	for (size_t i = 0; i < 3; i++)
		free(files[i]);
	sbuf_free(&why);
	sbuf_free(&value);
	sbuf_free(&list);
	sbuf_free(&expect);
	test_rmtree(&dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_find),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
