/*
 * test_smtp_sts - MTA-STS records, policy files and mx patterns, and the
 * TXT records (dns.h) they come in
 */
#include <string.h>

#include "mail/dns.h"
#include "smtp_sts.h"
#include "testutil.h"
#include "util/sbuf.h"

static int
record(const char *text, struct sbuf *id, struct sbuf *why)
{
	return smtp_sts_record_parse(text, strlen(text), id, why);
}

static void
test_record(void **state)
{
	struct sbuf *id = sbuf_new(), *why = sbuf_new();

	(void)state;
	assert_int_equal(record("v=STSv1; id=20160831085700Z;", id, why), 1);
	assert_string_equal(sbuf_str(id), "20160831085700Z");
	assert_int_equal(record("v=STSv1;id=abc", id, why), 1);
	assert_string_equal(sbuf_str(id), "abc");
	assert_int_equal(record("v=STSv1; ext=1; id=x1 ", id, why), 1);
	assert_string_equal(sbuf_str(id), "x1");
	assert_int_equal(record("v=spf1 -all", id, why), 0);
	assert_int_equal(record("v=STSv10; id=1", id, why), 0);
	assert_int_equal(record("v=STSv1;", id, why), -1);
	assert_non_null(strstr(sbuf_str(why), "id"));
	assert_int_equal(record("v=STSv1; id=not-alnum", id, why), -1);
	assert_int_equal(record("v=STSv1; id=123456789012345678901234567890123",
	    id, why), -1);
	assert_int_equal(smtp_sts_record_parse("v=STSv1; id=a\0b", 15, id,
	    why), 0);
	sbuf_free(&id);
	sbuf_free(&why);
}

/* A reply to "_mta-sts.a.test TXT" with one answer of rdata rd. */
static size_t
txt_reply(unsigned char *buf, const unsigned char *rd, size_t rdlen)
{
	static const unsigned char head[] = {
		0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
		8, '_', 'm', 't', 'a', '-', 's', 't', 's', 1, 'a', 4, 't',
		'e', 's', 't', 0, 0, 16, 0, 1,
		0xc0, 0x0c, 0, 16, 0, 1, 0, 0, 0, 60, 0
	};

	memcpy(buf, head, sizeof(head));
	buf[sizeof(head)] = (unsigned char)rdlen;
	memcpy(buf + sizeof(head) + 1, rd, rdlen);
	return sizeof(head) + 1 + rdlen;
}

static void
test_txt_record(void **state)
{
	static const unsigned char two[] = "\x08v=STSv1;\x05 id=7";
	static const unsigned char bad[] = "\x09v=STSv1;";
	unsigned char buf[128];
	struct dns_answer a;
	struct sbuf *why = sbuf_new();
	size_t len;

	(void)state;
	len = txt_reply(buf, two, sizeof(two) - 1);
	assert_int_equal(dns_parse(buf, len, DNS_T_TXT, &a, why), DNS_OK);
	assert_int_equal(a.count, 1);
	assert_int_equal(a.rrs[0].data_len, 13);
	assert_memory_equal(a.rrs[0].data, "v=STSv1; id=7", 13);
	dns_answer_clear(&a);
	/* A character-string running past the rdata. */
	len = txt_reply(buf, bad, sizeof(bad) - 1);
	assert_int_equal(dns_parse(buf, len, DNS_T_TXT, &a, why), DNS_FAIL);
	assert_string_equal(dns_type_name(DNS_T_TXT), "TXT");
	sbuf_free(&why);
}

static int
policy(const char *text, struct smtp_sts_policy *pol, struct sbuf *why)
{
	return smtp_sts_policy_parse(text, strlen(text), pol, why);
}

static void
test_policy(void **state)
{
	struct smtp_sts_policy pol;
	struct sbuf *why = sbuf_new();

	(void)state;
	assert_int_equal(policy("version: STSv1\r\nmode: enforce\r\n"
	    "mx: mail.example.com\r\nmx: *.example.net\r\n"
	    "mx: Backupmx.Example.com\r\nmax_age: 604800\r\n", &pol, why), 0);
	assert_int_equal(pol.mode, SMTP_STS_ENFORCE);
	assert_int_equal(pol.max_age, 604800);
	assert_int_equal(pol.mx_count, 3);
	assert_string_equal(pol.mx[2], "backupmx.example.com");
	smtp_sts_policy_clear(&pol);

	assert_int_equal(policy("version: STSv1\nmode: testing\nmx: a.test\n"
	    "max_age: 86400\nfuture: ignored\n", &pol, why), 0);
	assert_int_equal(pol.mode, SMTP_STS_TESTING);
	smtp_sts_policy_clear(&pol);
	assert_int_equal(policy("version: STSv1\nmode: none\nmax_age: 1\n",
	    &pol, why), 0);
	assert_int_equal(pol.mode, SMTP_STS_NONE);
	smtp_sts_policy_clear(&pol);

	assert_int_equal(policy("mode: enforce\nmx: a.test\nmax_age: 1\n",
	    &pol, why), -1);
	assert_non_null(strstr(sbuf_str(why), "version"));
	assert_int_equal(policy("version: STSv2\nmode: enforce\n", &pol, why),
	    -1);
	assert_int_equal(policy("version: STSv1\nmode: enforce\nmax_age: 1\n",
	    &pol, why), -1);
	assert_non_null(strstr(sbuf_str(why), "mx"));
	assert_int_equal(policy("version: STSv1\nmode: strict\nmx: a.test\n"
	    "max_age: 1\n", &pol, why), -1);
	assert_int_equal(policy("version: STSv1\nmode: enforce\nmx: a.test\n",
	    &pol, why), -1);
	assert_non_null(strstr(sbuf_str(why), "max_age"));
	assert_int_equal(policy("version: STSv1\nmode: enforce\nmx: a.test\n"
	    "max_age: 31557601\n", &pol, why), -1);
	assert_int_equal(policy("version: STSv1\nmode: enforce\nmx: a.test\n"
	    "max_age: -5\n", &pol, why), -1);
	assert_int_equal(policy("version: STSv1\ngarbage line\n", &pol, why),
	    -1);
	assert_int_equal(smtp_sts_policy_parse("version: STSv1\n\0", 16, &pol,
	    why), -1);
	sbuf_free(&why);
}

static void
test_mx_match(void **state)
{
	struct smtp_sts_policy pol;
	struct sbuf *why = sbuf_new();

	(void)state;
	assert_int_equal(policy("version: STSv1\nmode: enforce\n"
	    "mx: mail.example.com\nmx: *.example.net\nmax_age: 60\n", &pol,
	    why), 0);
	assert_true(smtp_sts_mx_match(&pol, "mail.example.com"));
	assert_true(smtp_sts_mx_match(&pol, "MAIL.Example.COM."));
	assert_true(smtp_sts_mx_match(&pol, "mx1.example.net"));
	assert_false(smtp_sts_mx_match(&pol, "a.b.example.net"));
	assert_false(smtp_sts_mx_match(&pol, "example.net"));
	assert_false(smtp_sts_mx_match(&pol, ".example.net"));
	assert_false(smtp_sts_mx_match(&pol, "mx1.example.org"));
	assert_false(smtp_sts_mx_match(&pol, "xmail.example.com"));
	assert_false(smtp_sts_mx_match(&pol, "mx1.badexample.net"));
	smtp_sts_policy_clear(&pol);
	assert_string_equal(smtp_sts_mode_name(SMTP_STS_TESTING), "testing");
	sbuf_free(&why);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record),
		cmocka_unit_test(test_txt_record),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_mx_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
