/*
 * test_dns - parsing DNS replies for mail routing: MX order, null MX, A,
 * AAAA, TLSA, the AD bit, response codes and malformed messages
 */
#include <arpa/nameser.h>
#include <string.h>

#include "mail/dns.h"
#include "testutil.h"
#include "util/sbuf.h"

/* A DNS reply being built: header, one question, answers. */
struct msg {
	unsigned char buf[4096];
	size_t len;
	int ancount;
};

static void
put16(struct msg *m, unsigned v)
{
	m->buf[m->len++] = (unsigned char)(v >> 8);
	m->buf[m->len++] = (unsigned char)v;
}

static void
put_name(struct msg *m, const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t n = dot ? (size_t)(dot - name) : strlen(name);

		m->buf[m->len++] = (unsigned char)n;
		memcpy(m->buf + m->len, name, n);
		m->len += n;
		name += n + (dot ? 1 : 0);
	}
	m->buf[m->len++] = 0;
}

/* Header with flags (QR set) and rcode, and the question. */
static void
msg_begin(struct msg *m, bool ad, int rcode, const char *qname, int qtype)
{
	memset(m, 0, sizeof(*m));
	put16(m, 0x1234);
	m->buf[m->len++] = 0x81;	/* QR, RD */
	m->buf[m->len++] = (unsigned char)(0x80 | (ad ? 0x20 : 0) | rcode);
	put16(m, 1);
	put16(m, 0);
	put16(m, 0);
	put16(m, 0);
	put_name(m, qname);
	put16(m, (unsigned)qtype);
	put16(m, ns_c_in);
}

/* An answer for the question's name (compressed) with rdata. */
static void
msg_rr(struct msg *m, int type, unsigned ttl, const void *rdata,
    size_t rdlen)
{
	put16(m, 0xc00c);
	put16(m, (unsigned)type);
	put16(m, ns_c_in);
	put16(m, ttl >> 16);
	put16(m, ttl & 0xffff);
	put16(m, (unsigned)rdlen);
	memcpy(m->buf + m->len, rdata, rdlen);
	m->len += rdlen;
	m->ancount++;
	m->buf[6] = (unsigned char)(m->ancount >> 8);
	m->buf[7] = (unsigned char)m->ancount;
}

static void
msg_mx(struct msg *m, unsigned pref, const char *host)
{
	struct msg rd = { .len = 0 };

	put16(&rd, pref);
	put_name(&rd, host);
	msg_rr(m, ns_t_mx, 300, rd.buf, rd.len);
}

static void
test_mx_sorted_by_preference(void **state)
{
	struct msg m;
	struct dns_answer a;
	struct sbuf *why = sbuf_new();

	(void)state;
	msg_begin(&m, false, 0, "example.test", ns_t_mx);
	msg_mx(&m, 20, "MX2.example.test");
	msg_mx(&m, 10, "mx1.example.test");
	msg_rr(&m, ns_t_cname, 300, "\0", 1);	/* not an MX: skipped */
	msg_mx(&m, 20, "mx3.example.test");
	assert_int_equal(dns_parse(m.buf, m.len, DNS_T_MX, &a, why), DNS_OK);
	assert_int_equal(a.count, 3);
	assert_int_equal(a.rrs[0].preference, 10);
	assert_string_equal(a.rrs[0].name, "mx1.example.test");
	/* Equal preferences keep the server's order; names lower-cased. */
	assert_string_equal(a.rrs[1].name, "mx2.example.test");
	assert_string_equal(a.rrs[2].name, "mx3.example.test");
	assert_int_equal(a.rrs[0].ttl, 300);
	assert_false(a.authentic);
	dns_answer_clear(&a);
	assert_int_equal(a.count, 0);
	sbuf_free(&why);
}

static void
test_null_mx(void **state)
{
	struct msg m;
	struct dns_answer a;
	struct sbuf *why = sbuf_new();

	(void)state;
	msg_begin(&m, false, 0, "nullmx.test", ns_t_mx);
	msg_mx(&m, 0, "");
	assert_int_equal(dns_parse(m.buf, m.len, DNS_T_MX, &a, why), DNS_OK);
	assert_int_equal(a.count, 1);
	assert_string_equal(a.rrs[0].name, ".");
	dns_answer_clear(&a);
	sbuf_free(&why);
}

static void
test_addresses_and_ad_bit(void **state)
{
	static const unsigned char v4[] = { 192, 0, 2, 7 };
	static const unsigned char v6[16] = { 0x20, 0x01, 0x0d, 0xb8,
	    [15] = 1 };
	struct msg m;
	struct dns_answer a;
	struct sbuf *why = sbuf_new();

	(void)state;
	msg_begin(&m, true, 0, "host.test", ns_t_a);
	msg_rr(&m, ns_t_a, 60, v4, 4);
	assert_int_equal(dns_parse(m.buf, m.len, DNS_T_A, &a, why), DNS_OK);
	assert_string_equal(a.rrs[0].addr, "192.0.2.7");
	assert_true(a.authentic);
	dns_answer_clear(&a);

	msg_begin(&m, false, 0, "host.test", ns_t_aaaa);
	msg_rr(&m, ns_t_aaaa, 60, v6, 16);
	assert_int_equal(dns_parse(m.buf, m.len, DNS_T_AAAA, &a, why),
	    DNS_OK);
	assert_string_equal(a.rrs[0].addr, "2001:db8::1");
	dns_answer_clear(&a);

	/* An A record of the wrong length is refused. */
	msg_begin(&m, false, 0, "host.test", ns_t_a);
	msg_rr(&m, ns_t_a, 60, v6, 5);
	assert_int_equal(dns_parse(m.buf, m.len, DNS_T_A, &a, why),
	    DNS_FAIL);
	assert_non_null(strstr(sbuf_str(why), "malformed A record"));
	sbuf_free(&why);
}

static void
test_tlsa(void **state)
{
	static const unsigned char rd[] = { 3, 1, 1, 0xaa, 0xbb, 0xcc };
	struct msg m;
	struct dns_answer a;
	struct sbuf *why = sbuf_new();

	(void)state;
	msg_begin(&m, true, 0, "_25._tcp.mx.test", 52);
	msg_rr(&m, 52, 60, rd, sizeof(rd));
	assert_int_equal(dns_parse(m.buf, m.len, DNS_T_TLSA, &a, why),
	    DNS_OK);
	assert_int_equal(a.rrs[0].usage, 3);
	assert_int_equal(a.rrs[0].selector, 1);
	assert_int_equal(a.rrs[0].mtype, 1);
	assert_int_equal(a.rrs[0].data_len, 3);
	assert_memory_equal(a.rrs[0].data, "\xaa\xbb\xcc", 3);
	dns_answer_clear(&a);
	/* Too short for its fields. */
	msg_begin(&m, true, 0, "_25._tcp.mx.test", 52);
	msg_rr(&m, 52, 60, rd, 3);
	assert_int_equal(dns_parse(m.buf, m.len, DNS_T_TLSA, &a, why),
	    DNS_FAIL);
	sbuf_free(&why);
}

static void
test_rcodes_and_damage(void **state)
{
	struct msg m;
	struct dns_answer a;
	struct sbuf *why = sbuf_new();

	(void)state;
	msg_begin(&m, false, ns_r_nxdomain, "none.test", ns_t_mx);
	assert_int_equal(dns_parse(m.buf, m.len, DNS_T_MX, &a, why),
	    DNS_NXDOMAIN);
	msg_begin(&m, false, ns_r_servfail, "none.test", ns_t_mx);
	assert_int_equal(dns_parse(m.buf, m.len, DNS_T_MX, &a, why),
	    DNS_TEMPFAIL);
	msg_begin(&m, false, ns_r_refused, "none.test", ns_t_mx);
	assert_int_equal(dns_parse(m.buf, m.len, DNS_T_MX, &a, why),
	    DNS_FAIL);
	msg_begin(&m, false, 0, "empty.test", ns_t_mx);
	assert_int_equal(dns_parse(m.buf, m.len, DNS_T_MX, &a, why),
	    DNS_NODATA);
	assert_int_equal(a.count, 0);
	/* Cut in the middle of an answer. */
	msg_begin(&m, false, 0, "cut.test", ns_t_mx);
	msg_mx(&m, 10, "mx.cut.test");
	assert_int_equal(dns_parse(m.buf, m.len - 4, DNS_T_MX, &a, why),
	    DNS_FAIL);
	assert_int_equal(dns_parse(m.buf, 5, DNS_T_MX, &a, why), DNS_FAIL);
	assert_int_equal(a.count, 0);
	sbuf_free(&why);
}

static void
test_open_server_syntax(void **state)
{
	struct sbuf *why = sbuf_new();
	struct dns_resolver *r;
	struct dns_answer a;

	(void)state;
	assert_null(dns_open("not-an-address", why));
	assert_null(dns_open("127.0.0.1:0", why));
	assert_null(dns_open("[127.0.0.1", why));
	assert_non_null(r = dns_open("[127.0.0.1]:53", why));
	assert_int_equal(dns_lookup(r, "bad\nname", DNS_T_MX, &a, why),
	    DNS_FAIL);
	dns_free(&r);
	assert_null(r);
	assert_non_null(r = dns_open("127.0.0.1", why));
	dns_free(&r);
	sbuf_free(&why);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mx_sorted_by_preference),
		cmocka_unit_test(test_null_mx),
		cmocka_unit_test(test_addresses_and_ad_bit),
		cmocka_unit_test(test_tlsa),
		cmocka_unit_test(test_rcodes_and_damage),
		cmocka_unit_test(test_open_server_syntax),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
