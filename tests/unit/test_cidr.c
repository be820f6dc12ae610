/*
 * test_cidr - network lists: parsing items, matching client addresses
 */
#include "testutil.h"

#include <string.h>

#include "util/cidr.h"
#include "util/sbuf.h"

struct match_row {
	const char *name;
	const char *list;
	const char *addr;
	bool match;
};

static const struct match_row match_rows[] = {
	{ "in v4 /8", "127.0.0.0/8", "127.1.2.3", true },
	{ "out of v4 /8", "127.0.0.0/8", "128.0.0.1", false },
	{ "v4 /0 takes all v4", "0.0.0.0/0", "203.0.113.9", true },
	{ "v4 /0 takes no v6", "0.0.0.0/0", "2001:db8::1", false },
	{ "v4 /32", "192.0.2.7/32", "192.0.2.7", true },
	{ "v4 /32 neighbour", "192.0.2.7/32", "192.0.2.6", false },
	{ "v4 plain address", "192.0.2.7", "192.0.2.7", true },
	{ "v4 plain neighbour", "192.0.2.7", "192.0.2.8", false },
	{ "v4 odd prefix in", "192.0.2.64/26", "192.0.2.127", true },
	{ "v4 odd prefix below", "192.0.2.64/26", "192.0.2.63", false },
	{ "v4 odd prefix above", "192.0.2.64/26", "192.0.2.128", false },
	{ "v4 mapped in v6", "192.0.2.0/24", "::ffff:192.0.2.1", true },
	{ "second item", "10.0.0.0/8, 192.168.0.0/16", "192.168.4.4", true },
	{ "whitespace list", "10.0.0.0/8\t[::1]/128  172.16.0.0/12",
	    "172.31.255.255", true },
	{ "v6 loopback", "127.0.0.0/8 [::1]/128", "::1", true },
	{ "v6 loopback other", "[::1]/128", "::2", false },
	{ "v6 bracket plain", "[2001:db8::5]", "2001:db8::5", true },
	{ "v6 /32", "[2001:db8::]/32", "2001:db8:ffff::1", true },
	{ "v6 /32 out", "[2001:db8::]/32", "2001:db9::1", false },
	{ "v6 /33 bit", "[2001:db8:8000::]/33", "2001:db8:7fff::1", false },
	{ "v6 bare", "2001:db8::/32", "2001:DB8::abcd", true },
	{ "v6 scope dropped", "[fe80::]/10", "fe80::1%eth0", true },
	{ "v6 takes no v4", "[::]/0", "192.0.2.1", false },
	{ "empty list", "", "127.0.0.1", false },
	{ "not an address", "0.0.0.0/0", "unknown", false },
	{ "unix client", "0.0.0.0/0", "local", false },
	{ "empty address", "0.0.0.0/0", "", false },
	{ "address with junk", "0.0.0.0/0", "1.2.3.4x", false },
	{ "over-long address", "[::]/0",
	    "0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000", false },
};

static void
test_match(void **state)
{
	struct sbuf *why = sbuf_new();

	for (size_t i = 0; i < sizeof(match_rows) / sizeof(match_rows[0]);
	    i++) {
		const struct match_row *r = &match_rows[i];
		struct cidr_list *l = cidr_list_new(r->list, why);

		if (l == NULL)
			fail_msg("%s: list refused: %s", r->name,
			    sbuf_str(why));
		if (cidr_list_match(l, r->addr) != r->match)
			fail_msg("%s: %s in %s should be %s", r->name, r->addr,
			    r->list, r->match ? "true" : "false");
		cidr_list_free(&l);
		assert_null(l);
	}
	sbuf_free(&why);
}

struct bad_row {
	const char *list;
	const char *reason;	/* part of the expected reason */
};

static const struct bad_row bad_rows[] = {
	{ "10.0.0.0/33", "\"10.0.0.0/33\" is not an address" },
	{ "[::]/129", "is not an address" },
	{ "10.0.0.0/", "is not an address" },
	{ "10.0.0.0/-1", "is not an address" },
	{ "10.0.0.0/+8", "is not an address" },
	{ "10.0.0.0/8x", "is not an address" },
	{ "10.0.0/8", "is not an address" },
	{ "256.0.0.0/8", "is not an address" },
	{ "example.com", "\"example.com\" is not an address" },
	{ "[::1", "is not an address" },
	{ "[::1]x", "is not an address" },
	{ "[]", "is not an address" },
	{ "[10.0.0.1]", "is not an address" },
	{ "127.0.0.0/8, texthash:/etc/nets", "\"texthash:/etc/nets\"" },
	{ "10.1.2.3/8", "\"10.1.2.3/8\" has bits set past its prefix; "
	    "perhaps you mean 10.0.0.0/8" },
	{ "[2001:db8::1]/32", "perhaps you mean [2001:db8::]/32" },
	{ "192.0.2.65/26", "perhaps you mean 192.0.2.64/26" },
};

static void
test_bad_items(void **state)
{
	struct sbuf *why = sbuf_new();

	for (size_t i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
		struct cidr_list *l;

		sbuf_reset(why);
		l = cidr_list_new(bad_rows[i].list, why);
		if (l != NULL)
			fail_msg("%s: accepted", bad_rows[i].list);
		if (strstr(sbuf_str(why), bad_rows[i].reason) == NULL)
			fail_msg("%s: reason \"%s\", want \"%s\"",
			    bad_rows[i].list, sbuf_str(why),
			    bad_rows[i].reason);
	}
	sbuf_free(&why);
}

static void
test_null_and_free(void **state)
{
	struct sbuf *why = sbuf_new();
	struct cidr_list *l = cidr_list_new(NULL, why);

	assert_non_null(l);
	assert_false(cidr_list_match(l, "127.0.0.1"));
	cidr_list_free(&l);
	cidr_list_free(&l);
	assert_null(l);
	sbuf_free(&why);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_bad_items),
		cmocka_unit_test(test_null_and_free),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
