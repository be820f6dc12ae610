/*
 * test_sbuf - growable buffers: growth, limits, NUL bytes, formatting
 */
#include "testutil.h"

#include <string.h>

#include "util/sbuf.h"

static void
test_grows_and_keeps_nul(void **state)
{
	struct sbuf *sb = sbuf_new();

	for (int i = 0; i < 10000; i++)
		assert_int_equal(sbuf_catc(sb, 'a' + i % 26), 0);
	assert_int_equal(sbuf_len(sb), 10000);
	assert_int_equal(sbuf_str(sb)[10000], '\0');
	assert_int_equal(sbuf_str(sb)[9999], 'a' + 9999 % 26);
	sbuf_free(&sb);
	assert_null(sb);
	sbuf_free(&sb);
}

static void
test_binary_content(void **state)
{
	struct sbuf *sb = sbuf_new();

	assert_int_equal(sbuf_catn(sb, "a\0b\0", 4), 0);
	assert_int_equal(sbuf_len(sb), 4);
	assert_memory_equal(sbuf_str(sb), "a\0b\0", 5);
	sbuf_free(&sb);
}

struct limit_row {
	const char *name;
	size_t limit;
	const char *first, *second;
	int second_ret;
	const char *content;
};

static const struct limit_row limit_rows[] = {
	{"under the limit", 10, "abc", "def", 0, "abcdef"},
	{"exactly the limit", 6, "abc", "def", 0, "abcdef"},
	{"one over the limit", 5, "abc", "def", -1, "abc"},
	{"zero limit refuses all", 0, "", "x", -1, ""},
};

static void
test_limits(void **state)
{
	for (size_t i = 0; i < sizeof(limit_rows) / sizeof(limit_rows[0]);
	    i++) {
		const struct limit_row *r = &limit_rows[i];
		struct sbuf *sb = sbuf_new();

		sbuf_set_limit(sb, r->limit);
		assert_int_equal(sbuf_cat(sb, r->first), 0);
		if (sbuf_cat(sb, r->second) != r->second_ret)
			fail_msg("%s: unexpected return", r->name);
		assert_string_equal(sbuf_str(sb), r->content);
		sbuf_free(&sb);
	}
}

static void
test_printf_limit(void **state)
{
	struct sbuf *sb = sbuf_new();

	sbuf_set_limit(sb, 8);
	assert_int_equal(sbuf_printf(sb, "%d-%s", 12, "ab"), 0);
	assert_string_equal(sbuf_str(sb), "12-ab");
	/* Fits in the allocation but not under the limit. */
	assert_int_equal(sbuf_printf(sb, "%s", "wxyz"), -1);
	assert_string_equal(sbuf_str(sb), "12-ab");
	sbuf_set_limit(sb, 100000);
	assert_int_equal(sbuf_printf(sb, "%5000s", "x"), 0);
	assert_int_equal(sbuf_len(sb), 5005);
	assert_int_equal(sbuf_setf(sb, "%s=%d", "n", 7), 0);
	assert_string_equal(sbuf_str(sb), "n=7");
	sbuf_free(&sb);
}

static void
test_truncate_steal(void **state)
{
	struct sbuf *sb = sbuf_new();
	char *s;

	sbuf_set(sb, "hello world");
	sbuf_truncate(sb, 5);
	assert_string_equal(sbuf_str(sb), "hello");
	sbuf_truncate(sb, 50);
	assert_int_equal(sbuf_len(sb), 5);
	s = sbuf_steal(sb);
	assert_string_equal(s, "hello");
	assert_int_equal(sbuf_len(sb), 0);
	assert_string_equal(sbuf_str(sb), "");
	free(s);
	sbuf_free(&sb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grows_and_keeps_nul),
		cmocka_unit_test(test_binary_content),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_printf_limit),
		cmocka_unit_test(test_truncate_steal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
