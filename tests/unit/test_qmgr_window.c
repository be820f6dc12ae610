/*
 * test_qmgr_window - a destination's concurrency window in qmgr
 *
 * Slow start from the initial window up to the limit, about one more
 * delivery per window-full of successes; narrowing on failures, never
 * below one; a destination dead after the cohort limit of failed
 * windows, never with a limit of 0; a success in between starting the
 * count afresh.
 */
#include <stdbool.h>

#include "testutil.h"
#include "qmgr_window.h"

/* The initial window is clamped to 1 .. limit. */
static void
test_window_init(void **state)
{
	struct qmgr_window w;

	(void)state;
	qmgr_window_init(&w, 5, 20, 1);
	assert_int_equal(qmgr_window_room(&w), 5);
	qmgr_window_init(&w, 5, 2, 1);
	assert_int_equal(qmgr_window_room(&w), 2);
	qmgr_window_init(&w, 0, 20, 1);
	assert_int_equal(qmgr_window_room(&w), 1);
	qmgr_window_init(&w, 3, 0, 1);
	assert_int_equal(qmgr_window_room(&w), 1);
}

/* From 1 up by 1/window per success: about one per window-full. */
static void
test_window_slow_start(void **state)
{
	static const int room_after[] = { 2, 2, 2, 3, 3, 3, 4, 4, 4, 4 };
	struct qmgr_window w;

	(void)state;
	qmgr_window_init(&w, 1, 5, 1);
	assert_int_equal(qmgr_window_room(&w), 1);
	for (size_t i = 0; i < sizeof(room_after) / sizeof(room_after[0]);
	    i++) {
		qmgr_window_success(&w);
		assert_int_equal(qmgr_window_room(&w), room_after[i]);
	}
	for (int i = 0; i < 100; i++)
		qmgr_window_success(&w);
	assert_int_equal(qmgr_window_room(&w), 5);
}

/* A window of 5 dies with its fifth failure, narrowing on the way. */
static void
test_window_failed_cohort(void **state)
{
	struct qmgr_window w;

	(void)state;
	qmgr_window_init(&w, 5, 20, 1);
	for (int i = 0; i < 4; i++)
		assert_false(qmgr_window_failure(&w));
	assert_int_equal(qmgr_window_room(&w), 4);
	assert_true(qmgr_window_failure(&w));
	/* One delivery at a time: the first failure is a whole window. */
	qmgr_window_init(&w, 1, 20, 1);
	assert_true(qmgr_window_failure(&w));
	assert_int_equal(qmgr_window_room(&w), 1);
	/* Two windows. */
	qmgr_window_init(&w, 1, 20, 2);
	assert_false(qmgr_window_failure(&w));
	assert_true(qmgr_window_failure(&w));
}

/* A success clears the failures; a cohort limit of 0 never kills. */
static void
test_window_success_forgives(void **state)
{
	struct qmgr_window w;

	(void)state;
	qmgr_window_init(&w, 2, 20, 1);
	assert_false(qmgr_window_failure(&w));
	qmgr_window_success(&w);
	assert_false(qmgr_window_failure(&w));
	qmgr_window_init(&w, 1, 20, 0);
	for (int i = 0; i < 1000; i++)
		assert_false(qmgr_window_failure(&w));
	assert_int_equal(qmgr_window_room(&w), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_init),
		cmocka_unit_test(test_window_slow_start),
		cmocka_unit_test(test_window_failed_cohort),
		cmocka_unit_test(test_window_success_forgives),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
