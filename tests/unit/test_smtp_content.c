/*
 * test_smtp_content - the SMTP client's content encoding: after DATA
 * CRLF, dot-stuffing across pieces, bare CR dropped, the final dot; in
 * BDAT chunks neither dots nor an end marker, and BINARYMIME content with
 * its bare CRs and last line as stored; the content scan
 */
#include <string.h>

#include "smtp_content.h"
#include "testutil.h"
#include "util/sbuf.h"

/* Encodes text cut into pieces of size step in mode, then finishes. */
static void
encode_mode(enum smtp_content_mode mode, const char *text, size_t step,
    struct sbuf *out)
{
	struct smtp_content_enc enc;
	size_t len = strlen(text);

	sbuf_reset(out);
	smtp_content_enc_init(&enc, mode);
	for (size_t pos = 0; pos < len; pos += step)
		smtp_content_encode(&enc, text + pos,
		    len - pos < step ? len - pos : step, out);
	smtp_content_finish(&enc, out);
}

/* The same after DATA. */
static void
encode(const char *text, size_t step, struct sbuf *out)
{
	encode_mode(SMTP_CONTENT_DATA, text, step, out);
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
test_bdat_text(void **state)
{
	static const char in[] = ".hidden\na\rb\n.\nlast";
	static const char want[] = ".hidden\r\nab\r\n.\r\nlast\r\n";
	struct sbuf *out = sbuf_new();

	(void)state;
	/* No dot-stuffing and no end marker, however the content is cut. */
	for (size_t step = 1; step <= sizeof(in); step++) {
		encode_mode(SMTP_CONTENT_BDAT, in, step, out);
		assert_string_equal(sbuf_str(out), want);
	}
	encode_mode(SMTP_CONTENT_BDAT, "", 1, out);
	assert_int_equal(sbuf_len(out), 0);
	sbuf_free(&out);
}

static void
test_bdat_binary(void **state)
{
	static const char in[] = "\x01\r\xff\n.x\r\rno end\r";
	static const char want[] = "\x01\r\xff\r\n.x\r\rno end\r";
	struct sbuf *out = sbuf_new();

	(void)state;
	/* Bare CRs stay, LF becomes CRLF, the last line gets nothing. */
	for (size_t step = 1; step <= sizeof(in); step++) {
		encode_mode(SMTP_CONTENT_BINARY, in, step, out);
		assert_int_equal(sbuf_len(out), sizeof(want) - 1);
		assert_memory_equal(sbuf_str(out), want, sizeof(want) - 1);
	}
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
	assert_int_equal(scan.bare_cr, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_and_dots),
		cmocka_unit_test(test_bare_cr_and_last_line),
		cmocka_unit_test(test_bdat_text),
		cmocka_unit_test(test_bdat_binary),
		cmocka_unit_test(test_scan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
