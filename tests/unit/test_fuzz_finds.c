/*
 * test_fuzz_finds - the crashes and hangs the fuzz targets (tests/fuzz)
 * found, one test each, written before the fix
 *
 * Each input is also a seed of its target, so the seed replay keeps
 * covering it. Every test runs under the alarm of test_child_setup(): a
 * hang fails the test instead of stopping the run.
 */
#include "testutil.h"

#include <string.h>

#include "local_item.h"
#include "sendmail_addrlist.h"
#include "util/sbuf.h"
#include "util/strlist.h"

/*
 * fuzz_local_items, seed local_items/cr-at-end: a list whose last line
 * ends in a CR without an LF (a .forward written so) made the line loop
 * step onto that CR for ever.
 */
static void
test_local_items_cr_at_end(void **state)
{
	struct local_items list = { NULL, 0 };
	struct sbuf *why = sbuf_new();

	(void)state;
	assert_int_equal(local_items_parse("jane\r", &list, why), 0);
	assert_int_equal(list.count, 1);
	assert_int_equal(list.items[0].kind, LOCAL_ITEM_ADDRESS);
	assert_string_equal(list.items[0].value, "jane");
	local_items_free(&list);

	assert_int_equal(local_items_parse("a\r\nb\r", &list, why), 0);
	assert_int_equal(list.count, 2);
	assert_string_equal(list.items[1].value, "b");
	local_items_free(&list);
	sbuf_free(&why);
}

/*
 * fuzz_addrlist, seed addrlist/escaped-nul: a NUL escaped by a backslash
 * inside quotes went into the address, which then ended there, cut in
 * the middle of its quoted string, instead of refusing the list.
 */
static void
test_addrlist_escaped_nul(void **state)
{
	static const char value[] = "a@x, \"q\\\0z\"@x";
	struct strlist out = { 0 };
	struct sbuf *why = sbuf_new();

	(void)state;
	assert_int_equal(addrlist_parse(value, sizeof(value) - 1, &out, why),
	    -1);
	assert_non_null(strstr(sbuf_str(why), "NUL"));
	strlist_free(&out);
	sbuf_free(&why);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_local_items_cr_at_end,
		    test_child_setup, test_child_teardown),
		cmocka_unit_test_setup_teardown(test_addrlist_escaped_nul,
		    test_child_setup, test_child_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
