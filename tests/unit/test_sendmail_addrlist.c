/*
 * test_sendmail_addrlist - RFC 5322 address lists as sendmail -t reads them
 */
#include "testutil.h"

#include <string.h>

#include "sendmail_addrlist.h"
#include "util/sbuf.h"
#include "util/strlist.h"

struct addrlist_row {
	const char *in;
	const char *want;	/* the addresses joined by '|' */
};

static const struct addrlist_row good_rows[] = {
	{ "a@example.test", "a@example.test" },
	{ "a@x.test, b@y.test", "a@x.test|b@y.test" },
	{ " Jane Doe <jane@x.test>", "<jane@x.test>" },
	{ "\"Doe, Jane\" <jane@x.test>, bob", "<jane@x.test>|bob" },
	{ "a@x.test (Comment, with (nested) parens), b@x.test",
	    "a@x.test|b@x.test" },
	{ "Team: a@x.test, B <b@x.test>;, c@x.test",
	    "a@x.test|<b@x.test>|c@x.test" },
	{ "undisclosed-recipients:;", "" },
	{ "a@x.test,\n\tb@x.test,\r\n c@x.test", "a@x.test|b@x.test|c@x.test" },
	{ "\"john q\"@x.test", "\"john q\"@x.test" },
	{ "\"a\\\"b\" <\"q\\\"x\"@x.test>", "<\"q\\\"x\"@x.test>" },
	{ "<@relay.test:a@x.test>", "<@relay.test:a@x.test>" },
	{ ",,a@x.test,,", "a@x.test" },
	{ "", "" },
};

static const char *const bad_rows[] = {
	"\"unclosed@x.test",
	"a@x.test (unclosed",
	"<a@x.test",
	"a@x.test>",
	"A: B: c@x.test;;",
	"a@x.test;",
	"<a@x.test> <b@x.test>",
};

static void
test_good(void **state)
{
	struct sbuf *why = sbuf_new(), *got = sbuf_new();

	for (size_t i = 0; i < sizeof(good_rows) / sizeof(good_rows[0]);
	    i++) {
		struct strlist out = { 0 };

		if (addrlist_parse(good_rows[i].in, strlen(good_rows[i].in),
		    &out, why) < 0)
			fail_msg("\"%s\": %s", good_rows[i].in, sbuf_str(why));
		sbuf_reset(got);
		for (size_t j = 0; j < out.count; j++)
			sbuf_printf(got, "%s%s", j > 0 ? "|" : "",
			    out.items[j]);
		if (strcmp(sbuf_str(got), good_rows[i].want) != 0)
			fail_msg("\"%s\": got \"%s\", want \"%s\"",
			    good_rows[i].in, sbuf_str(got), good_rows[i].want);
		strlist_free(&out);
	}
	sbuf_free(&why);
	sbuf_free(&got);
}

static void
test_bad(void **state)
{
	struct sbuf *why = sbuf_new();

	for (size_t i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
		struct strlist out = { 0 };

		sbuf_reset(why);
		if (addrlist_parse(bad_rows[i], strlen(bad_rows[i]), &out,
		    why) == 0)
			fail_msg("\"%s\" accepted", bad_rows[i]);
		assert_true(sbuf_len(why) > 0);
		strlist_free(&out);
	}
	sbuf_free(&why);
}

static void
test_nul_refused(void **state)
{
	struct sbuf *why = sbuf_new();
	struct strlist out = { 0 };

	assert_int_equal(addrlist_parse("a@x\0b@y", 7, &out, why), -1);
	assert_string_equal(sbuf_str(why), "NUL in address list");
	strlist_free(&out);
	sbuf_free(&why);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_nul_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
