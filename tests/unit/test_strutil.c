/*
 * test_strutil - trimming, tokens, integers
 */
#include "testutil.h"

#include <string.h>

#include "util/strutil.h"

static void
test_trim_lower(void **state)
{
	char a[] = "  \t Mixed Case \r\n";
	char b[] = "   ";

	assert_string_equal(str_lower(str_trim(a)), "mixed case");
	assert_string_equal(str_trim(b), "");
}

static void
test_tokens(void **state)
{
	char list[] = " ,a, b\tc,,  d ";
	const char *want[] = {"a", "b", "c", "d"};
	char *cursor = list, *tok;
	size_t n = 0;

	while ((tok = str_token(&cursor, STR_LIST_DELIMS)) != NULL) {
		assert_true(n < 4);
		assert_string_equal(tok, want[n++]);
	}
	assert_int_equal(n, 4);
	assert_null(str_token(&cursor, STR_LIST_DELIMS));
}

struct long_row {
	const char *in;
	int ret;
	long value;
};

static const struct long_row long_rows[] = {
	{"0", 0, 0}, {"42", 0, 42}, {"-7", 0, -7},
	{"", -1, 0}, {" 1", -1, 0}, {"1 ", -1, 0}, {"12x", -1, 0},
	{"99999999999999999999999", -1, 0}, {"0x10", -1, 0},
};

static void
test_to_long(void **state)
{
	for (size_t i = 0; i < sizeof(long_rows) / sizeof(long_rows[0]);
	    i++) {
		long v = -999;

		if (str_to_long(long_rows[i].in, &v) != long_rows[i].ret)
			fail_msg("\"%s\": wrong status", long_rows[i].in);
		if (long_rows[i].ret == 0)
			assert_int_equal(v, long_rows[i].value);
	}
}

static void
test_ctl_and_prefix(void **state)
{
	assert_false(str_has_ctl("plain text"));
	assert_true(str_has_ctl("a\nb"));
	assert_true(str_has_ctl("del\x7f"));
	assert_true(str_starts("inline:{a=b}", "inline:"));
	assert_false(str_starts("in", "inline:"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trim_lower),
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_to_long),
		cmocka_unit_test(test_ctl_and_prefix),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
