/*
 * test_strlist - the growing list of strings: push, pop, set membership
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "util/strlist.h"

static void
test_stack_and_set(void **state)
{
	struct strlist l = { NULL, 0, 0 };
	char name[16];

	assert_false(strlist_has(&l, "a"));
	strlist_pop(&l);		/* empty: nothing happens */
	assert_true(strlist_add_unique(&l, "a"));
	assert_false(strlist_add_unique(&l, "a"));
	strlist_push(&l, "a");		/* push does not look */
	assert_int_equal(l.count, 2);
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "item%d", i);
		assert_true(strlist_add_unique(&l, name));
	}
	assert_int_equal(l.count, 102);
	assert_string_equal(l.items[101], "item99");
	assert_true(strlist_has(&l, "item50"));
	strlist_pop(&l);
	assert_false(strlist_has(&l, "item99"));
	assert_true(strlist_has(&l, "A") == false);
	strlist_free(&l);
	assert_int_equal(l.count, 0);
	assert_null(l.items);
	strlist_push(&l, "again");	/* usable after free */
	assert_true(strlist_has(&l, "again"));
	strlist_free(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stack_and_set),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
