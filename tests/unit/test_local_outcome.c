/*
 * test_local_outcome - outcomes of delivery steps and how they combine
 */
#include "testutil.h"

#include <string.h>

#include "local_outcome.h"
#include "util/sbuf.h"

static void
set(struct local_outcome *o, enum deliver_status st, const char *dsn,
    const char *reason)
{
	local_outcome_set(o, st, dsn, "%s", reason);
}

static void
test_merge(void **state)
{
	struct local_outcome all, part;

	(void)state;
	local_outcome_init(&all);
	local_outcome_init(&part);
	assert_false(all.set);
	local_outcome_merge(&all, &part);	/* unset parts do nothing */
	assert_false(all.set);

	set(&part, DELIVER_SENT, "2.0.0", "delivered to maildir");
	local_outcome_merge(&all, &part);
	set(&part, DELIVER_SENT, "2.0.0", "forwarded as X");
	local_outcome_merge(&all, &part);
	assert_int_equal(all.status, DELIVER_SENT);
	assert_string_equal(sbuf_str(all.reason),
	    "delivered to maildir; forwarded as X");

	set(&part, DELIVER_BOUNCED, "5.1.1", "unknown user: \"x\"");
	local_outcome_merge(&all, &part);
	set(&part, DELIVER_SENT, "2.0.0", "delivered to mailbox");
	local_outcome_merge(&all, &part);
	set(&part, DELIVER_BOUNCED, "5.7.1", "second bounce");
	local_outcome_merge(&all, &part);
	assert_int_equal(all.status, DELIVER_BOUNCED);
	assert_string_equal(all.dsn, "5.1.1");
	assert_string_equal(sbuf_str(all.reason), "unknown user: \"x\"");

	set(&part, DELIVER_DEFERRED, "4.2.0", "mailbox busy");
	local_outcome_merge(&all, &part);
	set(&part, DELIVER_BOUNCED, "5.1.1", "late bounce");
	local_outcome_merge(&all, &part);
	assert_int_equal(all.status, DELIVER_DEFERRED);
	assert_string_equal(all.dsn, "4.2.0");
	assert_string_equal(sbuf_str(all.reason), "mailbox busy");
	local_outcome_clear(&all);
	local_outcome_clear(&part);
}

/* Reasons are cut at their limit, also when they combine. */
static void
test_reason_limit(void **state)
{
	struct local_outcome all, part;
	char long_text[LOCAL_REASON_MAX + 50];

	(void)state;
	memset(long_text, 'r', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	local_outcome_init(&all);
	local_outcome_init(&part);
	set(&all, DELIVER_DEFERRED, "4.3.0", long_text);
	assert_int_equal(sbuf_len(all.reason), LOCAL_REASON_MAX);
	set(&all, DELIVER_SENT, "2.0.0", "delivered");
	for (int i = 0; i < 200; i++) {
		set(&part, DELIVER_SENT, "2.0.0", "delivered to maildir");
		local_outcome_merge(&all, &part);
	}
	assert_int_equal(sbuf_len(all.reason), LOCAL_REASON_MAX);
	local_outcome_clear(&all);
	local_outcome_clear(&part);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_reason_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
