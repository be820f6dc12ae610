/*
 * test_utf8 - well-formed UTF-8 sequences, hostile forms refused
 */
#include "testutil.h"

#include <string.h>

#include "util/utf8.h"

struct utf8_row {
	const char *name;
	const char *bytes;
	size_t len;
	int flags;
	size_t want;		/* sequence length, 0 when refused */
};

static const struct utf8_row utf8_rows[] = {
	{"ascii", "a", 1, 0, 1},
	{"nul is one byte", "\0", 1, 0, 1},
	{"two bytes", "\xc3\xa9", 2, 0, 2},
	{"three bytes", "\xe2\x82\xac", 3, 0, 3},
	{"four bytes", "\xf0\x9f\x98\x80", 4, 0, 4},
	{"largest code point", "\xf4\x8f\xbf\xbf", 4, 0, 4},
	{"past U+10FFFF", "\xf4\x90\x80\x80", 4, 0, 0},
	{"f5 lead", "\xf5\x80\x80\x80", 4, 0, 0},
	{"overlong two", "\xc0\xaf", 2, 0, 0},
	{"overlong c1", "\xc1\xbf", 2, 0, 0},
	{"overlong three", "\xe0\x80\xaf", 3, 0, 0},
	{"overlong four", "\xf0\x80\x80\xaf", 4, 0, 0},
	{"surrogate", "\xed\xa0\x80", 3, 0, 0},
	{"last before surrogates", "\xed\x9f\xbf", 3, 0, 3},
	{"stray continuation", "\x80", 1, 0, 0},
	{"truncated three", "\xe2\x82", 2, 0, 0},
	{"truncated four", "\xf0\x9f\x98", 3, 0, 0},
	{"bad continuation", "\xe2\x28\xa1", 3, 0, 0},
	{"fe", "\xfe", 1, 0, 0},
	{"c1 control allowed", "\xc2\x85", 2, 0, 2},
	{"c1 control refused", "\xc2\x85", 2, UTF8_NO_C1, 0},
	{"nbsp with no_c1", "\xc2\xa0", 2, UTF8_NO_C1, 2},
	{"empty", "", 0, 0, 0},
};

static void
test_rows(void **state)
{
	for (size_t i = 0; i < sizeof(utf8_rows) / sizeof(utf8_rows[0]);
	    i++) {
		const struct utf8_row *r = &utf8_rows[i];
		const unsigned char *p = (const unsigned char *)r->bytes;
		size_t got = utf8_seq_len(p, p + r->len, r->flags);

		if (got != r->want)
			fail_msg("%s: got %zu, want %zu", r->name, got,
			    r->want);
	}
}

/* Never reads at or past end: the sequence is cut at every length. */
static void
test_bounded_by_end(void **state)
{
	const unsigned char seq[] = {0xf0, 0x9f, 0x98, 0x80};

	for (size_t n = 0; n < sizeof(seq); n++) {
		unsigned char *copy = test_malloc(n ? n : 1);

		memcpy(copy, seq, n);
		assert_int_equal(utf8_seq_len(copy, copy + n, 0), 0);
		test_free(copy);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_bounded_by_end),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
