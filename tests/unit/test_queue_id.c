/*
 * test_queue_id - queue ids: encoding, time order, strict validation
 */
#include "testutil.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "mail/queue_id.h"
#include "util/sbuf.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Makes the id of (sec, usec, ino) and fails the test if that fails. */
static void
make_ok(long long sec, long usec, ino_t ino, struct sbuf *id)
{
	struct sbuf *why = sbuf_new();
	struct timeval tv = { .tv_sec = (time_t)sec, .tv_usec = usec };

	if (queue_id_make(&tv, ino, id, why) != 0)
		fail_msg("make %lld.%06ld %ju: %s", sec, usec, (uintmax_t)ino,
		    sbuf_str(why));
	sbuf_free(&why);
}

struct known_case {
	const char *name;
	long long sec;
	long usec;
	ino_t ino;
	const char *id;
};

static const struct known_case known_cases[] = {
	{ "all zero", 0, 0, 0, "000000000000" },
	{ "one digit each", 1, 1, 35, "00000010001Z" },
	{ "carries", 36, 999999, 36, "0000010LFLR10" },
	{ "header example", 1714564800, 500000, 98765, "0SCT2O0APSW247H" },
	{ "latest time, largest inode", QUEUE_ID_SEC_MAX, 999999,
	    (ino_t)-1, "ZZZZZZZLFLR3W5E11264SGSF" },
};

static void
test_known_ids(void **state)
{
	struct sbuf *id = sbuf_new();
	struct timeval tv;

	for (size_t i = 0; i < NELEM(known_cases); i++) {
		const struct known_case *c = &known_cases[i];

		make_ok(c->sec, c->usec, c->ino, id);
		if (strcmp(sbuf_str(id), c->id) != 0)
			fail_msg("%s: \"%s\", want \"%s\"", c->name,
			    sbuf_str(id), c->id);
		if (!queue_id_valid(sbuf_str(id)))
			fail_msg("%s: own id rejected", c->name);
		assert_int_equal(queue_id_time(sbuf_str(id), &tv), 0);
		if (tv.tv_sec != (time_t)c->sec || tv.tv_usec != c->usec)
			fail_msg("%s: time %lld.%06ld back", c->name,
			    (long long)tv.tv_sec, (long)tv.tv_usec);
	}
	sbuf_free(&id);
}

struct range_case {
	const char *name;
	long long sec;
	long usec;
};

static const struct range_case range_cases[] = {
	{ "before the epoch", -1, 0 },
	{ "after the last second", QUEUE_ID_SEC_MAX + 1, 0 },
	{ "negative microseconds", 5, -1 },
	{ "a whole second of microseconds", 5, 1000000 },
};

static void
test_time_out_of_range(void **state)
{
	struct sbuf *id = sbuf_new(), *why = sbuf_new();

	for (size_t i = 0; i < NELEM(range_cases); i++) {
		const struct range_case *c = &range_cases[i];
		struct timeval tv = { .tv_sec = (time_t)c->sec,
		    .tv_usec = c->usec };

		sbuf_set(id, "untouched");
		sbuf_reset(why);
		if (queue_id_make(&tv, 1, id, why) != -1)
			fail_msg("%s: accepted", c->name);
		if (strstr(sbuf_str(why), "out of range") == NULL)
			fail_msg("%s: reason \"%s\"", c->name, sbuf_str(why));
		assert_string_equal(sbuf_str(id), "untouched");
	}
	sbuf_free(&id);
	sbuf_free(&why);
}

/* Pairs of times, earlier first, across digit and field boundaries. */
struct order_case {
	long long sec_a;
	long usec_a;
	long long sec_b;
	long usec_b;
};

static const struct order_case order_cases[] = {
	{ 0, 0, 0, 1 },
	{ 0, 35, 0, 36 },
	{ 0, 999999, 1, 0 },
	{ 35, 999999, 36, 0 },
	{ 1295, 5, 1296, 0 },
	{ 1700000000, 999998, 1700000000, 999999 },
	{ 1700000000, 999999, 1700000001, 0 },
	{ QUEUE_ID_SEC_MAX - 1, 999999, QUEUE_ID_SEC_MAX, 0 },
};

/*
 * Fails unless the id of a sorts before the id of b whatever the inodes:
 * the earlier time gets the inode with the longest id.
 */
static void
assert_sorts_before(long long sec_a, long usec_a, long long sec_b,
    long usec_b)
{
	struct sbuf *a = sbuf_new(), *b = sbuf_new();

	make_ok(sec_a, usec_a, (ino_t)-1, a);
	make_ok(sec_b, usec_b, 0, b);
	if (strcmp(sbuf_str(a), sbuf_str(b)) >= 0)
		fail_msg("%lld.%06ld (%s) does not sort before %lld.%06ld (%s)",
		    sec_a, usec_a, sbuf_str(a), sec_b, usec_b, sbuf_str(b));
	sbuf_free(&a);
	sbuf_free(&b);
}

static void
test_lexical_order_is_time_order(void **state)
{
	uint64_t x = 88172645463325252ULL;

	for (size_t i = 0; i < NELEM(order_cases); i++)
		assert_sorts_before(order_cases[i].sec_a, order_cases[i].usec_a,
		    order_cases[i].sec_b, order_cases[i].usec_b);
	/* And many pseudo-random pairs (xorshift, fixed seed). */
	for (int i = 0; i < 20000; i++) {
		long long sa, sb;
		long ua, ub;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		sa = (long long)(x % (uint64_t)(QUEUE_ID_SEC_MAX + 1));
		ua = (long)((x >> 40) % 1000000);
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		sb = i % 2 ? sa : (long long)(x %
		    (uint64_t)(QUEUE_ID_SEC_MAX + 1));
		ub = (long)((x >> 40) % 1000000);
		if (sa == sb && ua == ub)
			continue;
		if (sa < sb || (sa == sb && ua < ub))
			assert_sorts_before(sa, ua, sb, ub);
		else
			assert_sorts_before(sb, ub, sa, ua);
	}
}

/* Ids made in sequence sort in sequence, even within one microsecond. */
static void
test_new_ids_sort_in_sequence(void **state)
{
	struct sbuf *prev = sbuf_new(), *id = sbuf_new(), *why = sbuf_new();
	struct timeval before, after, tv;

	gettimeofday(&before, NULL);
	for (int i = 0; i < 5000; i++) {
		/* Descending inodes: the time alone must order them. */
		assert_int_equal(queue_id_new((ino_t)(5000 - i) * 7919, id,
		    why), 0);
		assert_true(queue_id_valid(sbuf_str(id)));
		if (i > 0 && strcmp(sbuf_str(prev), sbuf_str(id)) >= 0)
			fail_msg("id %d \"%s\" does not sort after \"%s\"", i,
			    sbuf_str(id), sbuf_str(prev));
		sbuf_set(prev, sbuf_str(id));
	}
	gettimeofday(&after, NULL);
	/* The time in an id is the clock's, give or take the bumps. */
	assert_int_equal(queue_id_time(sbuf_str(id), &tv), 0);
	assert_true(tv.tv_sec >= before.tv_sec);
	assert_true(tv.tv_sec <= after.tv_sec + 1);
	sbuf_free(&prev);
	sbuf_free(&id);
	sbuf_free(&why);
}

struct valid_case {
	const char *name;
	const char *id;
	bool valid;
};

static const struct valid_case valid_cases[] = {
	{ "shortest", "000000000000", true },
	{ "typical", "0SCT2O0APSW247H", true },
	{ "longest", "ZZZZZZZLFLR3W5E11264SGSF", true },
	{ "largest microseconds", "0000000LFLR1", true },
	{ "empty", "", false },
	{ "dot dot slash", "../x", false },
	{ "dot dot slash padded", "../../../etc/passwd", false },
	{ "slash inside", "00000000000/1", false },
	{ "dot", ".", false },
	{ "time only", "00000000000", false },
	{ "one short", "0000000000", false },
	{ "over-long", "ZZZZZZZLFLR3W5E11264SGSF0", false },
	{ "far over-long",
	    "000000000001000000000001000000000001000000000001", false },
	{ "lower case", "0sct2o0apsw247h", false },
	{ "lower case inode", "0SCT2O0APSW247h", false },
	{ "temporary file", "tmp.Ab12Cd", false },
	{ "space", "0SCT2O0APSW 47H", false },
	{ "trailing newline", "0SCT2O0APSW247H\n", false },
	{ "dash", "0SCT2O0APSW-47H", false },
	{ "eight-bit", "0SCT2O0APSW\xc3\xa9", false },
	{ "microseconds one million", "0000000LFLS1", false },
	{ "microseconds all Z", "0000000ZZZZ1", false },
	{ "inode leading zero", "00000000000001", false },
	{ "inode zero twice", "0000000000000", false },
	{ "inode 2^64", "000000000003W5E11264SGSG", false },
	{ "inode all Z", "ZZZZZZZLFLRZZZZZZZZZZZZZ", false },
};

static void
test_valid(void **state)
{
	struct timeval tv;

	for (size_t i = 0; i < NELEM(valid_cases); i++) {
		const struct valid_case *c = &valid_cases[i];

		if (queue_id_valid(c->id) != c->valid)
			fail_msg("%s: \"%s\" %s", c->name, c->id,
			    c->valid ? "rejected" : "accepted");
		if ((queue_id_time(c->id, &tv) == 0) != c->valid)
			fail_msg("%s: queue_id_time disagrees", c->name);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_ids),
		cmocka_unit_test(test_time_out_of_range),
		cmocka_unit_test(test_lexical_order_is_time_order),
		cmocka_unit_test(test_new_ids_sort_in_sequence),
		cmocka_unit_test(test_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
