/*
 * test_smtp_content - the SMTP client's DATA encoding: CRLF, dot-stuffing
 * across pieces, bare CR dropped, the final dot; the content scan
 */
#include <string.h>

#include "smtp_content.h"
#include "testutil.h"
#include "util/sbuf.h"

/* Encodes text cut into pieces of size step, then finishes. */
static void
encode(const char *text, size_t step, struct sbuf *out)
{
	struct smtp_content_enc enc;
	size_t len = strlen(text);

	sbuf_reset(out);
	smtp_content_enc_init(&enc);
	for (size_t pos = 0; pos < len; pos += step)
		smtp_content_encode(&enc, text + pos,
		    len - pos < step ? len - pos : step, out);
	smtp_content_finish(&enc, out);
}

static void
test_lines_and_dots(void **state)
{
	static const char in[] = "Subject: x\n\n.hidden\n..two\nmid.dot\n.\n";
	static const char want[] = "Subject: x\r\n\r\n..hidden\r\n...two\r\n"
	    "mid.dot\r\n..\r\n.\r\n";
	struct sbuf *out = sbuf_new();

	(void)state;
	/* Every way of cutting the content gives the same wire form. */
	for (size_t step = 1; step <= sizeof(in); step++) {
		encode(in, step, out);
		assert_string_equal(sbuf_str(out), want);
	}
	sbuf_free(&out);
}

static void
test_bare_cr_and_last_line(void **state)
{
	struct sbuf *out = sbuf_new();

	(void)state;
	encode("a\rb\n\r.x\nlast", 1, out);
	assert_string_equal(sbuf_str(out), "ab\r\n..x\r\nlast\r\n.\r\n");
	encode("", 1, out);
	assert_string_equal(sbuf_str(out), ".\r\n");
	sbuf_free(&out);
}

static void
test_scan(void **state)
{
	struct smtp_content_scan scan;

	(void)state;
	smtp_content_scan_init(&scan);
	smtp_content_scan(&scan, "ab\n", 3);
	assert_false(scan.has_8bit);
	assert_true(scan.ends_with_lf);
	smtp_content_scan(&scan, "\xc3\xa9\r", 3);
	assert_true(scan.has_8bit);
	assert_false(scan.ends_with_lf);
	/* "ab\r\n" is 4 octets, the two 8-bit octets 2, the CR none. */
	assert_int_equal(scan.wire_size, 6);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_and_dots),
		cmocka_unit_test(test_bare_cr_and_last_line),
		cmocka_unit_test(test_scan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
