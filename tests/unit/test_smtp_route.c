/*
 * test_smtp_route - next hop syntax, address families and their order
 */
#include <string.h>

#include "smtp_route.h"
#include "testutil.h"
#include "util/sbuf.h"

static void
test_nexthop(void **state)
{
	struct smtp_nexthop nh;
	struct sbuf *why = sbuf_new();

	(void)state;
	assert_int_equal(smtp_nexthop_parse("example.test", &nh, why), 0);
	assert_string_equal(nh.host, "example.test");
	assert_int_equal(nh.port, 25);
	assert_true(nh.mx);
	smtp_nexthop_clear(&nh);
	assert_int_equal(smtp_nexthop_parse("example.test:2525", &nh, why),
	    0);
	assert_int_equal(nh.port, 2525);
	assert_true(nh.mx);
	smtp_nexthop_clear(&nh);
	assert_int_equal(smtp_nexthop_parse("[relay.test]:587", &nh, why), 0);
	assert_string_equal(nh.host, "relay.test");
	assert_int_equal(nh.port, 587);
	assert_false(nh.mx);
	smtp_nexthop_clear(&nh);
	assert_int_equal(smtp_nexthop_parse("[IPv6:2001:db8::1]", &nh, why),
	    0);
	assert_string_equal(nh.host, "2001:db8::1");
	assert_int_equal(nh.port, 25);
	smtp_nexthop_clear(&nh);
	assert_int_equal(smtp_nexthop_parse("[relay.test", &nh, why), -1);
	assert_int_equal(smtp_nexthop_parse("[relay.test]x", &nh, why), -1);
	assert_int_equal(smtp_nexthop_parse("relay.test:0", &nh, why), -1);
	assert_int_equal(smtp_nexthop_parse("relay.test:99999", &nh, why),
	    -1);
	assert_int_equal(smtp_nexthop_parse("", &nh, why), -1);
	assert_int_equal(smtp_nexthop_parse("[]:25", &nh, why), -1);
	sbuf_free(&why);
}

static void
test_families(void **state)
{
	struct smtp_families fam;
	struct sbuf *why = sbuf_new();

	(void)state;
	assert_int_equal(smtp_families_parse("all", "any", &fam, why), 0);
	assert_true(fam.ipv4 && fam.ipv6);
	assert_int_equal(smtp_families_parse("ipv4", "ipv6", &fam, why), 0);
	assert_true(fam.ipv4 && !fam.ipv6);
	assert_int_equal(fam.pref, SMTP_PREF_IPV6);
	assert_int_equal(smtp_families_parse("ipv4, ipv6", "IPv4", &fam, why),
	    0);
	assert_true(fam.ipv4 && fam.ipv6);
	assert_int_equal(smtp_families_parse("ipx", "any", &fam, why), -1);
	assert_int_equal(smtp_families_parse("", "any", &fam, why), -1);
	assert_int_equal(smtp_families_parse("all", "both", &fam, why), -1);
	sbuf_free(&why);
}

static void
test_order(void **state)
{
	char *a[] = { "192.0.2.1", "2001:db8::1", "192.0.2.2", "2001:db8::2" };
	struct smtp_host hosts[4];
	struct smtp_families fam = { true, true, SMTP_PREF_IPV6 };

	(void)state;
	for (int i = 0; i < 4; i++)
		hosts[i] = (struct smtp_host){ .name = "h", .addr = a[i] };
	smtp_route_order(hosts, 4, &fam);
	assert_string_equal(hosts[0].addr, "2001:db8::1");
	assert_string_equal(hosts[1].addr, "2001:db8::2");
	assert_string_equal(hosts[2].addr, "192.0.2.1");
	assert_string_equal(hosts[3].addr, "192.0.2.2");
	fam.pref = SMTP_PREF_IPV4;
	smtp_route_order(hosts, 4, &fam);
	assert_string_equal(hosts[0].addr, "192.0.2.1");
	assert_string_equal(hosts[1].addr, "192.0.2.2");
	assert_string_equal(hosts[2].addr, "2001:db8::1");
	fam.pref = SMTP_PREF_ANY;	/* as found */
	smtp_route_order(hosts, 4, &fam);
	assert_string_equal(hosts[0].addr, "192.0.2.1");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nexthop),
		cmocka_unit_test(test_families),
		cmocka_unit_test(test_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
