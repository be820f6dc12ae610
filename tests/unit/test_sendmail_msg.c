/*
 * test_sendmail_msg - sendmail's message input and header fixes
 */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "sendmail_msg.h"
#include "util/sbuf.h"
#include "util/strlist.h"

static const struct message_fix fix = {
	"Me <me@x.test>", "Mon, 23 Nov 2026 05:21:44 +0000", "<id@x.test>"
};
#define ADDED	"From: Me <me@x.test>\n" \
		"Date: Mon, 23 Nov 2026 05:21:44 +0000\n" \
		"Message-ID: <id@x.test>\n"

/* Reads text through message_read(); the status, the message in msg. */
static enum message_read_status
read_text(const char *text, bool ignore_dots, size_t limit, struct sbuf *msg)
{
	FILE *fp = fmemopen((void *)text, strlen(text), "r");
	enum message_read_status st;

	assert_non_null(fp);
	st = message_read(fp, ignore_dots, limit, msg);
	fclose(fp);
	return st;
}

static void
test_read_line_ends_and_dots(void **state)
{
	struct sbuf *msg = sbuf_new();

	assert_int_equal(read_text("a\r\nb\n.\nc\n", false, 0, msg),
	    MESSAGE_READ_OK);
	assert_string_equal(sbuf_str(msg), "a\nb\n");
	assert_int_equal(read_text("a\r\n.\r\nc", true, 0, msg),
	    MESSAGE_READ_OK);
	assert_string_equal(sbuf_str(msg), "a\n.\nc\n");
	/* A dot line without its newline at the end of input. */
	assert_int_equal(read_text("a\n.", false, 0, msg), MESSAGE_READ_OK);
	assert_string_equal(sbuf_str(msg), "a\n");
	/* A dot that starts a longer line ends nothing; no unstuffing. */
	assert_int_equal(read_text("..x\n.y\n", false, 0, msg),
	    MESSAGE_READ_OK);
	assert_string_equal(sbuf_str(msg), "..x\n.y\n");
	/* A CR alone stays. */
	assert_int_equal(read_text("a\rb\n", false, 0, msg), MESSAGE_READ_OK);
	assert_string_equal(sbuf_str(msg), "a\rb\n");
	sbuf_free(&msg);
}

static void
test_read_limit(void **state)
{
	struct sbuf *msg = sbuf_new();

	assert_int_equal(read_text("12345\n", false, 6, msg),
	    MESSAGE_READ_OK);
	assert_int_equal(read_text("123456\n", false, 6, msg),
	    MESSAGE_READ_TOOBIG);
	sbuf_free(&msg);
}

/* Runs message_fix() on text; the result in out. */
static int
fix_text(const char *text, struct strlist *rcpts, struct sbuf *out,
    struct sbuf *why)
{
	struct sbuf *msg = sbuf_new();
	int rc;

	sbuf_set(msg, text);
	rc = message_fix(msg, &fix, out, rcpts, why);
	sbuf_free(&msg);
	return rc;
}

static void
test_fix_adds_missing(void **state)
{
	struct sbuf *out = sbuf_new(), *why = sbuf_new();

	assert_int_equal(fix_text("Subject: s\n\nbody\n", NULL, out, why), 0);
	assert_string_equal(sbuf_str(out), "Subject: s\n" ADDED "\nbody\n");
	/* Present fields, in any case, are kept and not added. */
	assert_int_equal(fix_text("FROM: a@x\ndate: d\nMESSAGE-ID: <m>\n\nb\n",
	    NULL, out, why), 0);
	assert_string_equal(sbuf_str(out),
	    "FROM: a@x\ndate: d\nMESSAGE-ID: <m>\n\nb\n");
	/* No header at all: the body is separated from the added ones. */
	assert_int_equal(fix_text("just text\n", NULL, out, why), 0);
	assert_string_equal(sbuf_str(out), ADDED "\njust text\n");
	assert_int_equal(fix_text("", NULL, out, why), 0);
	assert_string_equal(sbuf_str(out), ADDED "\n");
	/* A leading mailbox separator is dropped; "From:" is a field. */
	assert_int_equal(fix_text("From me Mon Nov 23 05:21:44 2026\n"
	    "Subject: s\n\nb\n", NULL, out, why), 0);
	assert_string_equal(sbuf_str(out), "Subject: s\n" ADDED "\nb\n");
	/* ... but "From : x" (a blank before the colon) is a From: field. */
	assert_int_equal(fix_text("From : me@x.test\nSubject: s\n\nb\n",
	    NULL, out, why), 0);
	assert_non_null(strstr(sbuf_str(out), "From : me@x.test\n"));
	assert_null(strstr(sbuf_str(out), "\nFrom: "));
	sbuf_free(&out);
	sbuf_free(&why);
}

static void
test_fix_bcc_and_extract(void **state)
{
	struct sbuf *out = sbuf_new(), *why = sbuf_new();
	struct strlist rcpts = { 0 };

	assert_int_equal(fix_text("To: a@x.test,\n b@x.test\n"
	    "bcc: Hidden <h@x.test>,\n\tj@x.test\nCc: c@x.test\n"
	    "Subject: s\n\nTo: not@header.test\n", &rcpts, out, why), 0);
	assert_string_equal(sbuf_str(out), "To: a@x.test,\n b@x.test\n"
	    "Cc: c@x.test\nSubject: s\n" ADDED "\nTo: not@header.test\n");
	assert_int_equal(rcpts.count, 5);
	assert_string_equal(rcpts.items[0], "a@x.test");
	assert_string_equal(rcpts.items[1], "b@x.test");
	assert_string_equal(rcpts.items[2], "<h@x.test>");
	assert_string_equal(rcpts.items[3], "j@x.test");
	assert_string_equal(rcpts.items[4], "c@x.test");
	strlist_free(&rcpts);
	/* Without -t, Bcc: is removed all the same. */
	assert_int_equal(fix_text("Bcc: h@x.test\nFrom: f\nDate: d\n"
	    "Message-ID: m\n\nb\n", NULL, out, why), 0);
	assert_string_equal(sbuf_str(out), "From: f\nDate: d\nMessage-ID: m\n"
	    "\nb\n");
	sbuf_free(&out);
	sbuf_free(&why);
}

static void
test_fix_bad_list(void **state)
{
	struct sbuf *out = sbuf_new(), *why = sbuf_new();
	struct strlist rcpts = { 0 };

	assert_int_equal(fix_text("To: <a@x.test\n\nb\n", &rcpts, out, why),
	    -1);
	assert_string_equal(sbuf_str(why), "To: header: unclosed '<'");
	strlist_free(&rcpts);
	sbuf_free(&out);
	sbuf_free(&why);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_line_ends_and_dots),
		cmocka_unit_test(test_read_limit),
		cmocka_unit_test(test_fix_adds_missing),
		cmocka_unit_test(test_fix_bcc_and_extract),
		cmocka_unit_test(test_fix_bad_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
