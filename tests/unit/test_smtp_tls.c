/*
 * test_smtp_tls - the SMTP client's TLS levels and per-next-hop policy
 */
#include <string.h>

#include "mail/maps.h"
#include "smtp_tls.h"
#include "testutil.h"
#include "util/sbuf.h"

static void
test_levels(void **state)
{
	static const char *const names[] = {
		"none", "may", "encrypt", "verify", "dane"
	};
	enum smtp_tls_level level;

	(void)state;
	for (int i = 0; i < 5; i++) {
		assert_int_equal(smtp_tls_level_parse(names[i], &level), 0);
		assert_int_equal(level, i);
		assert_string_equal(smtp_tls_level_name(level), names[i]);
	}
	assert_int_equal(smtp_tls_level_parse("VERIFY", &level), 0);
	assert_int_equal(level, SMTP_TLS_VERIFY);
	assert_int_equal(smtp_tls_level_parse("secure", &level), -1);
	assert_int_equal(smtp_tls_level_parse("", &level), -1);
}

static void
test_policy_lookup(void **state)
{
	struct sbuf *why = sbuf_new();
	struct maps *maps = maps_open("inline:{ example.test=verify, "
	    "[relay.test]:587=encrypt, relay.test=none, "
	    "bad.test=sometimes, attr.test=dane match=nexthop }", 0, why);
	enum smtp_tls_level level;

	(void)state;
	assert_non_null(maps);
	assert_int_equal(smtp_tls_policy(maps, "example.test", "example.test",
	    SMTP_TLS_MAY, &level, why), 0);
	assert_int_equal(level, SMTP_TLS_VERIFY);
	/* The next hop as given wins over its bare host. */
	assert_int_equal(smtp_tls_policy(maps, "[relay.test]:587",
	    "relay.test", SMTP_TLS_MAY, &level, why), 0);
	assert_int_equal(level, SMTP_TLS_ENCRYPT);
	assert_int_equal(smtp_tls_policy(maps, "[relay.test]:25",
	    "relay.test", SMTP_TLS_MAY, &level, why), 0);
	assert_int_equal(level, SMTP_TLS_NONE);
	/* Attributes after the level are ignored. */
	assert_int_equal(smtp_tls_policy(maps, "attr.test", "attr.test",
	    SMTP_TLS_MAY, &level, why), 0);
	assert_int_equal(level, SMTP_TLS_DANE);
	/* Not in the table: the default. */
	assert_int_equal(smtp_tls_policy(maps, "other.test", "other.test",
	    SMTP_TLS_ENCRYPT, &level, why), 0);
	assert_int_equal(level, SMTP_TLS_ENCRYPT);
	assert_int_equal(smtp_tls_policy(NULL, "other.test", "other.test",
	    SMTP_TLS_NONE, &level, why), 0);
	assert_int_equal(level, SMTP_TLS_NONE);
	/* A value that is no level is an error naming the entry. */
	assert_int_equal(smtp_tls_policy(maps, "bad.test", "bad.test",
	    SMTP_TLS_MAY, &level, why), -1);
	assert_non_null(strstr(sbuf_str(why), "bad.test"));
	maps_free(&maps);
	sbuf_free(&why);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_policy_lookup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
