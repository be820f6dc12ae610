/*
 * test_smtp_reply - reading SMTP replies (multi-line, status codes,
 * malformed and endless ones) and parsing what EHLO offers
 */
#include <sys/socket.h>

#include <string.h>
#include <unistd.h>

#include "smtp_reply.h"
#include "testutil.h"
#include "util/sbuf.h"
#include "util/stream.h"

/* A stream reading what was written into the other end of a pair. */
static struct stream *
stream_with(const char *input)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[1], input, strlen(input)),
	    (ssize_t)strlen(input));
	close(sv[1]);
	return stream_open(sv[0], 2000);
}

static void
test_multiline_reply(void **state)
{
	struct stream *s = stream_with("250-mx.test hello\r\n250-PIPELINING\r\n"
	    "250-SIZE 1000\r\n250-8bitmime\r\n250-STARTTLS\r\n"
	    "250-CHUNKING\r\n250-binarymime\r\n"
	    "250 DSN\r\n550 5.1.1 <u@x>: unknown\r\n"
	    "451-4.3.0 first\r\n451 second\r\n");
	struct smtp_reply r;
	struct smtp_ehlo ehlo;
	struct sbuf *why = sbuf_new();

	(void)state;
	smtp_reply_init(&r);
	assert_int_equal(smtp_reply_read(s, &r, why), 0);
	assert_int_equal(r.code, 250);
	assert_string_equal(r.dsn, "2.0.0");
	smtp_ehlo_parse(&r, &ehlo);
	assert_int_equal(ehlo.ext, SMTP_EXT_PIPELINING | SMTP_EXT_SIZE |
	    SMTP_EXT_8BITMIME | SMTP_EXT_STARTTLS | SMTP_EXT_DSN |
	    SMTP_EXT_CHUNKING | SMTP_EXT_BINARYMIME);
	assert_int_equal(ehlo.size, 1000);

	assert_int_equal(smtp_reply_read(s, &r, why), 0);
	assert_int_equal(r.code, 550);
	assert_string_equal(r.dsn, "5.1.1");
	assert_string_equal(sbuf_str(r.text), "550 5.1.1 <u@x>: unknown");

	assert_int_equal(smtp_reply_read(s, &r, why), 0);
	assert_int_equal(r.code, 451);
	assert_string_equal(r.dsn, "4.3.0");
	assert_string_equal(sbuf_str(r.text), "451 4.3.0 first second");

	assert_int_equal(smtp_reply_read(s, &r, why), -1);
	assert_string_equal(sbuf_str(why), "lost connection");
	smtp_reply_clear(&r);
	stream_free(&s);
	sbuf_free(&why);
}

static void
test_bad_replies(void **state)
{
	static const char *const bad[] = {
		"hello\r\n", "25\r\n", "099 low\r\n", "250x\r\n",
		"700 high\r\n",
	};
	struct smtp_reply r;
	struct sbuf *why = sbuf_new(), *many = sbuf_new();
	struct stream *s;
	bool last;

	(void)state;
	smtp_reply_init(&r);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = stream_with(bad[i]);
		assert_int_equal(smtp_reply_read(s, &r, why), -1);
		stream_free(&s);
	}
	/* A status code of the wrong class is not taken. */
	assert_int_equal(smtp_reply_add_line(&r, "550 4.1.1 x", 11, true,
	    &last, why), 0);
	assert_true(last);
	assert_string_equal(r.dsn, "5.0.0");
	/* Too many lines. */
	for (int i = 0; i <= SMTP_REPLY_LINES_MAX; i++)
		sbuf_cat(many, "250-more\r\n");
	s = stream_with(sbuf_str(many));
	assert_int_equal(smtp_reply_read(s, &r, why), -1);
	assert_string_equal(sbuf_str(why), "SMTP reply with too many lines");
	stream_free(&s);
	smtp_reply_clear(&r);
	sbuf_free(&why);
	sbuf_free(&many);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_multiline_reply),
		cmocka_unit_test(test_bad_replies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
