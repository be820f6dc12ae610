/*
 * test_bounce - delivery status notifications (RFC 3464)
 *
 * The whole text of a failure report, then what changes it: RET=HDRS, a
 * message too big to return, a report of deliveries alone, 8-bit
 * content, long reasons, content without a final newline; and a notice
 * written as a queue file with the null sender.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"
#include "bounce.h"
#include "mail/dsn_log.h"
#include "mail/queue_file.h"
#include "util/sbuf.h"

#define NOW 1700000000		/* Tue, 14 Nov 2023 22:13:20 +0000 */

struct fixture {
	char *dir;
	struct queue_file *qf;
	struct dsn_log *log;
	struct sbuf *out;
	struct sbuf *why;
};

static const char content[] =
    "From: Alice <alice@example.test>\n"
    "Subject: hi\n"
    "\n"
    "body line\n";

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct sbuf *path = sbuf_new();

	fx->dir = test_tmpdir();
	sbuf_printf(path, "%s/incoming", fx->dir);
	assert_int_equal(mkdir(sbuf_str(path), 0700), 0);
	fx->out = sbuf_new();
	fx->why = sbuf_new();
	sbuf_free(&path);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	queue_file_close(&fx->qf);
	dsn_log_free(&fx->log);
	sbuf_free(&fx->out);
	sbuf_free(&fx->why);
	test_rmtree(&fx->dir);
	free(fx);
	return 0;
}

/* Writes and opens a queue file with two recipients. */
static void
make_message(struct fixture *fx, const struct queue_envelope *env,
    const char *data, size_t len)
{
	struct queue_rcpt bob = { .address = "bob@example.test" };
	struct queue_rcpt carol = {
		.address = "carol@example.test",
		.orcpt = "rfc822;Carol@example.test",
		.notify = QUEUE_NOTIFY_SUCCESS | QUEUE_NOTIFY_FAILURE,
	};
	struct queue_writer *w = NULL;
	struct sbuf *path = sbuf_new();

	assert_int_equal(queue_writer_open(fx->dir, &w, fx->why),
	    QUEUE_WRITE_OK);
	sbuf_printf(path, "%s/incoming/%s", fx->dir, queue_writer_id(w));
	assert_int_equal(queue_writer_envelope(w, env, fx->why), 0);
	assert_int_equal(queue_writer_add_rcpt(w, &bob, fx->why), 0);
	assert_int_equal(queue_writer_add_rcpt(w, &carol, fx->why), 0);
	assert_int_equal(queue_writer_write(w, data, len, fx->why),
	    QUEUE_WRITE_OK);
	assert_int_equal(queue_writer_commit(&w, fx->why), QUEUE_WRITE_OK);
	fx->qf = queue_file_open(sbuf_str(path), 0, fx->why);
	assert_non_null(fx->qf);
	sbuf_free(&path);
}

static void
make_default_message(struct fixture *fx, enum queue_ret ret)
{
	struct queue_envelope env = {
		.sender = "alice@example.test", .proto = QUEUE_PROTO_ESMTP,
		.ret = ret,
	};

	make_message(fx, &env, content, strlen(content));
}

/* Appends an entry to the fixture's log file and reads the log again. */
static void
add_entry(struct fixture *fx, size_t rcpt, enum dsn_action action,
    const char *dsn, const char *reason, const char *diag, const char *mta)
{
	struct sbuf *path = sbuf_new();
	struct dsn_entry e = {
		.rcpt = rcpt, .action = action, .dsn = dsn, .when = NOW - 60,
		.reason = reason, .diag = diag, .mta = mta,
	};

	sbuf_printf(path, "%s/bounce.log", fx->dir);
	assert_int_equal(dsn_log_append(sbuf_str(path), &e, fx->why), 0);
	dsn_log_free(&fx->log);
	assert_int_equal(dsn_log_read(sbuf_str(path), fx->qf->rcpt_count,
	    &fx->log, fx->why), 0);
	sbuf_free(&path);
}

static int
to_sbuf(void *ctx, const char *data, size_t len, struct sbuf *why)
{
	(void)why;
	return sbuf_catn(ctx, data, len);
}

/* Composes the notice into fx->out with arrival dates blanked. */
static void
compose(struct fixture *fx, uint64_t size_limit)
{
	struct bounce_notice n = {
		.qf = fx->qf, .log = fx->log, .myhostname = "mail.example.test",
		.recipient = "alice@example.test", .now = NOW,
		.size_limit = size_limit, .boundary = "BOUNDARY",
	};
	char *p;

	sbuf_reset(fx->out);
	assert_int_equal(bounce_compose(&n, to_sbuf, fx->out, fx->why), 0);
	p = strstr(fx->out->data, "Arrival-Date: ");
	assert_non_null(p);
	p += strlen("Arrival-Date: ");
	while (*p != '\n')
		*p++ = 'X';
}

static const char expected_failure[] =
    "From: MAILER-DAEMON@mail.example.test (Mail Delivery System)\n"
    "To: <alice@example.test>\n"
    "Subject: Undelivered Mail Returned to Sender\n"
    "Date: Tue, 14 Nov 2023 22:13:20 +0000\n"
    "Message-ID: <BOUNDARY@mail.example.test>\n"
    "Auto-Submitted: auto-replied\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/report; report-type=delivery-status;\n"
    "\tboundary=\"BOUNDARY\"\n"
    "\n"
    "This is a MIME-encapsulated message.\n"
    "\n"
    "--BOUNDARY\n"
    "Content-Description: Notification\n"
    "Content-Type: text/plain; charset=us-ascii\n"
    "\n"
    "This is the mail system at host mail.example.test.\n"
    "\n"
    "Your message could not be delivered to one or more of its "
    "recipients.\n"
    "The reasons are listed below; the message itself follows this "
    "report.\n"
    "\n"
    "Delivery to the recipients listed as delayed below has not "
    "succeeded\n"
    "yet; the mail system will go on trying.\n"
    "\n"
    "For help, write to the postmaster of this mail system and include\n"
    "this report.\n"
    "\n"
    "<bob@example.test>: failed: host said: no such user\n"
    "<carol@example.test>: delayed: connection timed out\n"
    "\n"
    "--BOUNDARY\n"
    "Content-Description: Delivery report\n"
    "Content-Type: message/delivery-status\n"
    "\n"
    "Reporting-MTA: dns; mail.example.test\n"
    "X-Postern-Queue-ID: %s\n"
    "Arrival-Date: XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX\n"
    "\n"
    "Final-Recipient: rfc822; bob@example.test\n"
    "Action: failed\n"
    "Status: 5.1.1\n"
    "Remote-MTA: dns; mx.example.test\n"
    "Diagnostic-Code: smtp; 550 5.1.1 unknown\n"
    "Last-Attempt-Date: Tue, 14 Nov 2023 22:12:20 +0000\n"
    "\n"
    "Final-Recipient: rfc822; carol@example.test\n"
    "Original-Recipient: rfc822; Carol@example.test\n"
    "Action: delayed\n"
    "Status: 4.4.1\n"
    "Diagnostic-Code: x-postern; connection timed out\n"
    "Last-Attempt-Date: Tue, 14 Nov 2023 22:12:20 +0000\n"
    "\n"
    "--BOUNDARY\n"
    "Content-Description: Undelivered Message\n"
    "Content-Type: message/rfc822\n"
    "\n"
    "From: Alice <alice@example.test>\n"
    "Subject: hi\n"
    "\n"
    "body line\n"
    "\n"
    "--BOUNDARY--\n";

static void
test_failure_report(void **state)
{
	struct fixture *fx = *state;
	struct sbuf *want = sbuf_new();

	make_default_message(fx, QUEUE_RET_NONE);
	add_entry(fx, 1, DSN_ACTION_DELAYED, "4.4.1", "connection timed out",
	    NULL, NULL);
	add_entry(fx, 0, DSN_ACTION_FAILED, "5.1.1", "host said: no such user",
	    "550 5.1.1 unknown", "mx.example.test");
	compose(fx, 10240000);
	sbuf_printf(want, expected_failure, fx->qf->id);
	assert_string_equal(sbuf_str(fx->out), sbuf_str(want));
	sbuf_free(&want);
}

/* The third part of the notice in fx->out, from its first header. */
static const char *
third_part(struct fixture *fx)
{
	const char *p = sbuf_str(fx->out);

	for (int part = 0; part < 3; part++) {
		p = strstr(p, "\n--BOUNDARY\nContent-Description: ");
		assert_non_null(p);
		p++;
	}
	return p;
}

static void
test_ret_hdrs_returns_headers(void **state)
{
	struct fixture *fx = *state;

	make_default_message(fx, QUEUE_RET_HDRS);
	add_entry(fx, 0, DSN_ACTION_FAILED, "5.1.1", "no such user", NULL,
	    NULL);
	compose(fx, 0);
	assert_string_equal(third_part(fx),
	    "--BOUNDARY\n"
	    "Content-Description: Undelivered Message Headers\n"
	    "Content-Type: text/rfc822-headers\n"
	    "\n"
	    "From: Alice <alice@example.test>\n"
	    "Subject: hi\n"
	    "\n"
	    "--BOUNDARY--\n");
	assert_null(strstr(sbuf_str(fx->out), "body line"));
}

static void
test_too_big_returns_headers(void **state)
{
	struct fixture *fx = *state;
	struct queue_envelope env = {
		.sender = "alice@example.test", .proto = QUEUE_PROTO_ESMTP,
	};
	struct sbuf *big = sbuf_new();

	sbuf_cat(big, "Subject: big\n\n");
	for (int i = 0; i < 2000; i++)
		sbuf_cat(big, "0123456789012345678901234567890123456789\n");
	make_message(fx, &env, sbuf_str(big), sbuf_len(big));
	add_entry(fx, 0, DSN_ACTION_FAILED, "5.2.2", "mailbox full", NULL,
	    NULL);
	compose(fx, BOUNCE_OVERHEAD + 1000);
	assert_non_null(strstr(sbuf_str(fx->out), "The message is too large "
	    "to be returned whole: only its headers follow."));
	assert_string_equal(third_part(fx),
	    "--BOUNDARY\n"
	    "Content-Description: Undelivered Message Headers\n"
	    "Content-Type: text/rfc822-headers\n"
	    "\n"
	    "Subject: big\n"
	    "\n"
	    "--BOUNDARY--\n");
	/* With room for it, the same message goes back whole. */
	compose(fx, 10240000);
	assert_non_null(strstr(third_part(fx), "Content-Type: message/rfc822"));
	assert_true(sbuf_len(fx->out) > sbuf_len(big));
	sbuf_free(&big);
}

static void
test_delivered_report(void **state)
{
	struct fixture *fx = *state;

	make_default_message(fx, QUEUE_RET_NONE);
	add_entry(fx, 1, DSN_ACTION_DELIVERED, "2.0.0",
	    "delivered to maildir", NULL, NULL);
	compose(fx, 0);
	assert_non_null(strstr(sbuf_str(fx->out),
	    "Subject: Successful Mail Delivery Report\n"));
	assert_non_null(strstr(sbuf_str(fx->out),
	    "Final-Recipient: rfc822; carol@example.test\n"
	    "Original-Recipient: rfc822; Carol@example.test\n"
	    "Action: delivered\n"
	    "Status: 2.0.0\n"
	    "Diagnostic-Code: x-postern; delivered to maildir\n"));
	assert_null(strstr(sbuf_str(fx->out), "bob@example.test"));
	assert_non_null(strstr(third_part(fx),
	    "Content-Description: Delivered Message Headers\n"
	    "Content-Type: text/rfc822-headers\n"));
	/* RET=FULL asks for the whole message. */
	queue_file_close(&fx->qf);
	make_default_message(fx, QUEUE_RET_FULL);
	compose(fx, 0);
	assert_non_null(strstr(third_part(fx),
	    "Content-Type: message/rfc822\n\nFrom: Alice"));
}

static void
test_delay_report(void **state)
{
	struct fixture *fx = *state;

	make_default_message(fx, QUEUE_RET_NONE);
	add_entry(fx, 0, DSN_ACTION_DELAYED, "4.4.1", "connection timed out",
	    NULL, NULL);
	compose(fx, 0);
	assert_non_null(strstr(sbuf_str(fx->out),
	    "Subject: Delayed Mail (still being retried)\n"));
	assert_null(strstr(sbuf_str(fx->out), "could not be delivered"));
	assert_non_null(strstr(sbuf_str(fx->out), "Action: delayed\n"
	    "Status: 4.4.1\n"));
	assert_non_null(strstr(third_part(fx),
	    "Content-Description: Delayed Message Headers\n"
	    "Content-Type: text/rfc822-headers\n"));
}

static void
test_8bit_content(void **state)
{
	struct fixture *fx = *state;
	struct queue_envelope env = {
		.sender = "alice@example.test", .proto = QUEUE_PROTO_ESMTP,
		.body = QUEUE_BODY_8BITMIME,
	};
	static const char text[] =
	    "Subject: caf\xc3\xa9\n\nd\xc3\xa9j\xc3\xa0\n";
	struct bounce_notice n = { .qf = NULL };

	make_message(fx, &env, text, strlen(text));
	add_entry(fx, 0, DSN_ACTION_FAILED, "5.1.1", "no such user", NULL,
	    NULL);
	compose(fx, 0);
	n.qf = fx->qf;
	n.log = fx->log;
	n.recipient = "alice@example.test";
	assert_true(bounce_8bit(&n));
	assert_non_null(strstr(sbuf_str(fx->out), "boundary=\"BOUNDARY\"\n"
	    "Content-Transfer-Encoding: 8bit\n"));
	assert_non_null(strstr(sbuf_str(fx->out),
	    "Content-Type: text/plain; charset=utf-8\n"
	    "Content-Transfer-Encoding: 8bit\n"));
	assert_non_null(strstr(third_part(fx), "Content-Type: message/rfc822\n"
	    "Content-Transfer-Encoding: 8bit\n\nSubject: caf\xc3\xa9\n"));
}

static void
test_binarymime_returns_headers(void **state)
{
	struct fixture *fx = *state;
	struct queue_envelope env = {
		.sender = "alice@example.test", .proto = QUEUE_PROTO_ESMTP,
		.body = QUEUE_BODY_BINARYMIME,
	};
	static const char text[] = "Subject: bin\n\n\x01\x02\x00\xff";

	make_message(fx, &env, text, sizeof(text) - 1);
	add_entry(fx, 0, DSN_ACTION_FAILED, "5.1.1", "no such user", NULL,
	    NULL);
	compose(fx, 0);
	assert_non_null(strstr(third_part(fx), "text/rfc822-headers\n"
	    "Content-Transfer-Encoding: 8bit\n\n"
	    "Subject: bin\n\n--BOUNDARY--\n"));
}

static void
test_long_reason_is_folded(void **state)
{
	struct fixture *fx = *state;
	struct sbuf *reason = sbuf_new();
	const char *line;

	make_default_message(fx, QUEUE_RET_NONE);
	for (int i = 0; i < 60; i++)
		sbuf_printf(reason, "word%d ", i);
	add_entry(fx, 0, DSN_ACTION_FAILED, "5.0.0", sbuf_str(reason), NULL,
	    NULL);
	compose(fx, 0);
	line = strstr(sbuf_str(fx->out), "Diagnostic-Code: x-postern; word0");
	assert_non_null(line);
	/* Folded lines start with a space and stay within 78 columns. */
	for (int n = 0; n < 6; n++) {
		const char *end = strchr(line, '\n');

		assert_true(end - line <= 78);
		line = end + 1;
		if (*line != ' ')
			break;
	}
	assert_non_null(strstr(sbuf_str(fx->out), " word59\n"));
	sbuf_free(&reason);
}

static void
test_content_without_final_newline(void **state)
{
	struct fixture *fx = *state;
	struct queue_envelope env = {
		.sender = "alice@example.test", .proto = QUEUE_PROTO_ESMTP,
	};
	static const char text[] = "Subject: x\n\nno newline";

	make_message(fx, &env, text, strlen(text));
	add_entry(fx, 0, DSN_ACTION_FAILED, "5.1.1", "no such user", NULL,
	    NULL);
	compose(fx, 0);
	assert_non_null(strstr(third_part(fx),
	    "\n\nSubject: x\n\nno newline\n\n--BOUNDARY--\n"));
}

static void
test_send_writes_a_queue_file(void **state)
{
	struct fixture *fx = *state;
	struct sbuf *id = sbuf_new(), *path = sbuf_new();
	struct bounce_notice n = { .qf = NULL };
	struct queue_file *notice;
	char *text;

	make_default_message(fx, QUEUE_RET_NONE);
	add_entry(fx, 0, DSN_ACTION_FAILED, "5.1.1", "no such user", NULL,
	    NULL);
	n.qf = fx->qf;
	n.log = fx->log;
	n.myhostname = "mail.example.test";
	n.recipient = "alice@example.test";
	n.now = NOW;
	assert_int_equal(bounce_send(fx->dir, &n, id, fx->why),
	    QUEUE_WRITE_OK);
	sbuf_printf(path, "%s/incoming/%s", fx->dir, sbuf_str(id));
	notice = queue_file_open(sbuf_str(path), 0, fx->why);
	assert_non_null(notice);
	assert_string_equal(notice->env.sender, "");
	assert_int_equal(notice->env.proto, QUEUE_PROTO_LOCAL);
	assert_int_equal(notice->rcpt_count, 1);
	assert_string_equal(notice->rcpts[0].address, "alice@example.test");
	text = calloc(1, (size_t)notice->content_size + 1);
	assert_int_equal(queue_file_read(notice, 0, text,
	    (size_t)notice->content_size, fx->why), notice->content_size);
	assert_true(strncmp(text, "From: MAILER-DAEMON@mail.example.test",
	    37) == 0);
	/* The boundary is made unique: the queue id and random hex. */
	sbuf_reset(path);
	sbuf_printf(path, "boundary=\"%s.", sbuf_str(id));
	assert_non_null(strstr(text, sbuf_str(path)));
	assert_null(strstr(text, "BOUNDARY"));
	assert_non_null(strstr(text, "\nbody line\n"));
	free(text);
	queue_file_close(&notice);
	sbuf_free(&id);
	sbuf_free(&path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_failure_report, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ret_hdrs_returns_headers,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_big_returns_headers,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_delivered_report, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_delay_report, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_8bit_content, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_binarymime_returns_headers,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_reason_is_folded,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_content_without_final_newline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_writes_a_queue_file,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
