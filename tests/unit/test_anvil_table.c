/*
 * test_anvil_table - anvil's session counts and rate windows
 *
 * A script of connects, disconnects and sweeps on a fake clock, checked
 * row by row: counts per (service, address), fixed rate windows, clients
 * forgotten only when idle and past their window, the cap on clients,
 * keys that cannot be confused, and the peaks for the statistics lines.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "anvil_table.h"

#define UNIT	60		/* the rate window of the scripted table */
#define SLOTS	8		/* sessions the script can hold open */
#define MAXCL	5		/* clients the scripted table tracks */

enum op {
	OP_CONNECT,	/* slot, service, addr, now: count and rate */
	OP_FULL,	/* service, addr, now: refused, table full */
	OP_DISCONNECT,	/* slot */
	OP_SWEEP,	/* now: expect forgotten */
	OP_SIZE		/* expect: clients tracked */
};

struct row {
	const char *name;
	enum op op;
	int slot;
	const char *service;
	const char *addr;
	long now;
	long count;		/* OP_CONNECT; OP_SWEEP/OP_SIZE: the result */
	long rate;
};

static const struct row script[] = {
	{"first connect", OP_CONNECT, 0, "smtp", "192.0.2.1", 100, 1, 1},
	{"second session", OP_CONNECT, 1, "smtp", "192.0.2.1", 101, 2, 2},
	{"other service counted apart", OP_CONNECT, 2, "submission",
	    "192.0.2.1", 101, 1, 1},
	{"other address counted apart", OP_CONNECT, 3, "smtp", "192.0.2.2",
	    102, 1, 1},
	{"three clients", OP_SIZE, 0, NULL, NULL, 0, 3, 0},
	{"one session ends", OP_DISCONNECT, 0, NULL, NULL, 0, 0, 0},
	{"count drops, rate does not", OP_CONNECT, 0, "smtp", "192.0.2.1",
	    120, 2, 3},
	{"last second of the window", OP_CONNECT, 4, "smtp", "192.0.2.1",
	    159, 3, 4},
	{"a new window", OP_CONNECT, 5, "smtp", "192.0.2.1", 160, 4, 1},
	{"nothing to sweep while open", OP_SWEEP, 0, NULL, NULL, 1000, 0, 0},
	{"end 192.0.2.2", OP_DISCONNECT, 3, NULL, NULL, 0, 0, 0},
	{"not swept inside its window", OP_SWEEP, 0, NULL, NULL, 161, 0, 0},
	{"swept once its window passed", OP_SWEEP, 0, NULL, NULL, 162, 1, 0},
	{"two clients left", OP_SIZE, 0, NULL, NULL, 0, 2, 0},
	{"forgotten client starts over", OP_CONNECT, 3, "smtp", "192.0.2.2",
	    163, 1, 1},
	{"end it again", OP_DISCONNECT, 3, NULL, NULL, 0, 0, 0},
	{"idle client keeps its window", OP_CONNECT, 3, "smtp", "192.0.2.2",
	    170, 1, 2},
	{"end it once more", OP_DISCONNECT, 3, NULL, NULL, 0, 0, 0},
	{"service with a space", OP_CONNECT, 6, "a b", "c", 170, 1, 1},
	{"same text split elsewhere", OP_CONNECT, 7, "a", "b c", 170, 1, 1},
	{"full: five clients", OP_SIZE, 0, NULL, NULL, 0, 5, 0},
	{"a sixth is refused", OP_FULL, 0, "smtp", "192.0.2.9", 171, 0, 0},
	{"known client still counted", OP_CONNECT, 3, "smtp", "192.0.2.2",
	    172, 1, 3},
	{"end it", OP_DISCONNECT, 3, NULL, NULL, 0, 0, 0},
	{"still full inside the window", OP_FULL, 0, "smtp", "192.0.2.9",
	    200, 0, 0},
	{"a full table makes room", OP_CONNECT, 3, "smtp", "192.0.2.9",
	    232, 1, 1},
	{"the idle one went", OP_SIZE, 0, NULL, NULL, 0, 5, 0},
};

static void
test_script(void **state)
{
	struct anvil_table *t = anvil_table_new(UNIT, MAXCL);
	struct anvil_client *slot[SLOTS] = {NULL};

	(void)state;
	for (size_t i = 0; i < sizeof(script) / sizeof(script[0]); i++) {
		const struct row *r = &script[i];
		long count = -1, rate = -1;
		struct anvil_client *c;
		size_t n;

		switch (r->op) {
		case OP_CONNECT:
			slot[r->slot] = anvil_table_connect(t, r->service,
			    r->addr, r->now, &count, &rate);
			if (slot[r->slot] == NULL || count != r->count ||
			    rate != r->rate)
				fail_msg("%s: %s, count %ld rate %ld, expected "
				    "%ld %ld", r->name, slot[r->slot] == NULL ?
				    "refused" : "counted", count, rate,
				    r->count, r->rate);
			break;
		case OP_FULL:
			c = anvil_table_connect(t, r->service, r->addr,
			    r->now, &count, &rate);
			if (c != NULL)
				fail_msg("%s: counted", r->name);
			break;
		case OP_DISCONNECT:
			anvil_table_disconnect(slot[r->slot]);
			slot[r->slot] = NULL;
			break;
		case OP_SWEEP:
			n = anvil_table_sweep(t, r->now);
			if ((long)n != r->count)
				fail_msg("%s: %zu forgotten, expected %ld",
				    r->name, n, r->count);
			break;
		case OP_SIZE:
			n = anvil_table_size(t);
			if ((long)n != r->count)
				fail_msg("%s: %zu clients, expected %ld",
				    r->name, n, r->count);
			break;
		}
	}
	anvil_table_free(&t);
	assert_null(t);
}

/* Peaks: the highest count and rate, their client and time, then reset. */
static void
test_stats(void **state)
{
	struct anvil_table *t = anvil_table_new(10, 100);
	struct anvil_client *a[3];
	struct anvil_stats s;
	long count, rate;

	(void)state;
	anvil_table_stats_take(t, &s);
	assert_null(s.count.service);
	assert_null(s.rate.service);
	assert_int_equal(s.count.value, 0);
	anvil_stats_clear(&s);

	a[0] = anvil_table_connect(t, "smtp", "192.0.2.1", 5, &count, &rate);
	anvil_table_disconnect(a[0]);
	a[0] = anvil_table_connect(t, "smtp", "192.0.2.1", 6, &count, &rate);
	anvil_table_disconnect(a[0]);
	a[0] = anvil_table_connect(t, "smtp", "192.0.2.1", 7, &count, &rate);
	a[1] = anvil_table_connect(t, "submission", "192.0.2.5", 8, &count,
	    &rate);
	a[2] = anvil_table_connect(t, "submission", "192.0.2.5", 9, &count,
	    &rate);
	anvil_table_stats_take(t, &s);
	assert_int_equal(s.rate.value, 3);
	assert_string_equal(s.rate.service, "smtp");
	assert_string_equal(s.rate.addr, "192.0.2.1");
	assert_int_equal(s.rate.when, 7);
	assert_int_equal(s.count.value, 2);
	assert_string_equal(s.count.service, "submission");
	assert_string_equal(s.count.addr, "192.0.2.5");
	assert_int_equal(s.count.when, 9);
	anvil_stats_clear(&s);
	assert_null(s.count.service);

	/* Counting starts anew after a take. */
	anvil_table_stats_take(t, &s);
	assert_int_equal(s.count.value, 0);
	anvil_stats_clear(&s);
	for (int i = 0; i < 3; i++)
		anvil_table_disconnect(a[i]);
	anvil_table_free(&t);
}

/* Memory stays bounded: many one-off clients, swept as windows pass. */
static void
test_many_clients(void **state)
{
	struct anvil_table *t = anvil_table_new(2, 1000);
	struct anvil_client *c;
	long count, rate, refused = 0;
	char addr[32];
	size_t left;

	(void)state;
	for (long now = 0; now < 100; now++) {
		for (int i = 0; i < 400; i++) {
			snprintf(addr, sizeof(addr), "10.%ld.%d.%d", now,
			    i / 256, i % 256);
			c = anvil_table_connect(t, "smtp", addr, now, &count,
			    &rate);
			if (c == NULL)
				refused++;
			else
				anvil_table_disconnect(c);
		}
		assert_true(anvil_table_size(t) <= 1000);
	}
	/* Each window holds 800 clients at most: none is ever refused. */
	assert_int_equal(refused, 0);
	left = anvil_table_size(t);
	assert_true(left > 0);
	assert_int_equal(anvil_table_sweep(t, 1000), left);
	assert_int_equal(anvil_table_size(t), 0);
	anvil_table_free(&t);
}

/* A disconnect without a session is a broken invariant. */
static void
test_disconnect_twice(void **state)
{
	struct anvil_table *t = anvil_table_new(60, 10);
	struct anvil_client *c;
	long count, rate;

	(void)state;
	c = anvil_table_connect(t, "smtp", "::1", 0, &count, &rate);
	anvil_table_disconnect(c);
	test_msg_capture();
	EXPECT_FATAL(anvil_table_disconnect(c));
	assert_non_null(strstr(test_msg_captured(), "has no session"));
	anvil_table_free(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_script),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_many_clients),
		cmocka_unit_test(test_disconnect_twice),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
