/*
 * test_dict_source - "key value" and aliases(5) table sources
 */
#include "testutil.h"

#include <string.h>

#include "util/dict.h"
#include "util/dict_source.h"
#include "util/sbuf.h"

/* Collects "line:key=value|" for each entry. */
static int
collect(const char *key, const char *value, const char *file, int line,
    void *ctx, struct sbuf *why)
{
	sbuf_printf(ctx, "%d:%s=%s|", line, key, value);
	return 0;
}

struct source_row {
	const char *name;
	int flags;
	const char *text;
	int ret;
	const char *expect;	/* entries, or a part of the reason */
};

static const struct source_row source_rows[] = {
	{"key value", 0, "Alice alice@example.com\nbob  bob@x\n", 0,
	    "1:alice=alice@example.com|2:bob=bob@x|"},
	{"no fold", DICT_FLAG_NO_FOLD, "Alice A\n", 0, "1:Alice=A|"},
	{"value with spaces", 0, "k  a b  c \n", 0, "1:k=a b  c|"},
	{"tab separated", 0, "k\tv\n", 0, "1:k=v|"},
	{"continued value", 0, "list a,\n  b,\n  c\n", 0,
	    "1:list=a, b, c|"},
	{"comments", 0, "# c\nk v\n  # c2\n", 0, "2:k=v|"},
	{"duplicates both reported", 0, "k 1\nk 2\n", 0, "1:k=1|2:k=2|"},
	{"key without value", 0, "ok 1\nlonely\n", -1,
	    "src, line 2: expected format: key whitespace value"},
	{"alias form", DICT_FLAG_ALIAS, "Root: admin, ops\n", 0,
	    "1:root=admin, ops|"},
	{"alias with spaces", DICT_FLAG_ALIAS, "postmaster :  root\n", 0,
	    "1:postmaster=root|"},
	{"alias without colon", DICT_FLAG_ALIAS, "root admin\n", -1,
	    "src, line 1: expected format: key: value"},
	{"alias empty value", DICT_FLAG_ALIAS, "root:\n", -1,
	    "src, line 1: expected format: key: value"},
	{"alias empty key", DICT_FLAG_ALIAS, " \n: x\n", -1,
	    "src, line 2: expected format"},
};

static void
test_sources(void **state)
{
	for (size_t i = 0; i < sizeof(source_rows) / sizeof(source_rows[0]);
	    i++) {
		const struct source_row *r = &source_rows[i];
		struct sbuf *out = sbuf_new(), *why = sbuf_new();
		int ret;

		ret = dict_source_parse(r->text, strlen(r->text), "src",
		    r->flags, collect, out, why);
		if (ret != r->ret)
			fail_msg("%s: returned %d (%s)", r->name, ret,
			    sbuf_str(why));
		if (ret == 0 && strcmp(sbuf_str(out), r->expect) != 0)
			fail_msg("%s: got \"%s\"", r->name, sbuf_str(out));
		if (ret < 0 && strstr(sbuf_str(why), r->expect) == NULL)
			fail_msg("%s: reason \"%s\"", r->name, sbuf_str(why));
		sbuf_free(&out);
		sbuf_free(&why);
	}
}

static void
test_nul_in_source(void **state)
{
	struct sbuf *out = sbuf_new(), *why = sbuf_new();

	assert_int_equal(dict_source_parse("a b\nc\0d e\n", 10, "src", 0,
	    collect, out, why), -1);
	assert_non_null(strstr(sbuf_str(why), "src, line 2: NUL byte"));
	sbuf_free(&out);
	sbuf_free(&why);
}

static void
test_read_file(void **state)
{
	char *dir = test_tmpdir();
	char *path = test_write_text(dir, "virtual", "A@x b@y\n");
	struct sbuf *out = sbuf_new(), *why = sbuf_new();

	assert_int_equal(dict_source_read(path, 0, collect, out, why), 0);
	assert_string_equal(sbuf_str(out), "1:a@x=b@y|");
	free(path);
	sbuf_free(&out);
	sbuf_free(&why);
	test_rmtree(&dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sources),
		cmocka_unit_test(test_nul_in_source),
		cmocka_unit_test(test_read_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
