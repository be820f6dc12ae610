/*
 * test_deliver_req - the qmgr to delivery agent request and reply
 *
 * Round trips of both frames through attr, and the frames a decoder must
 * refuse: a queue file path that could leave the queue, counts out of
 * range, a repeated recipient, a status and dsn that disagree.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "mail/deliver_req.h"
#include "util/attr.h"
#include "util/sbuf.h"

/* Decodes frame into a list; fails the test when attr refuses it. */
static struct attr_list *
frame_list(const struct sbuf *frame)
{
	struct sbuf *why = sbuf_new();
	struct attr_list *list = NULL;

	if (attr_decode(sbuf_str(frame), sbuf_len(frame), &list, why) < 0)
		fail_msg("attr_decode: %s", sbuf_str(why));
	sbuf_free(&why);
	return list;
}

static void
test_request_round_trip(void **state)
{
	size_t rcpts[] = { 3, 0, 7 };
	struct deliver_request req = {
		"4fA9xY", "active/4fA9xY", "local", "example.test", 3, rcpts
	}, *got = NULL;
	struct sbuf *frame = sbuf_new(), *why = sbuf_new();
	struct attr_list *list;

	assert_int_equal(deliver_request_encode(&req, frame, why), 0);
	list = frame_list(frame);
	assert_int_equal(deliver_request_decode(list, &got, why), 0);
	assert_string_equal(got->queue_id, "4fA9xY");
	assert_string_equal(got->queue_file, "active/4fA9xY");
	assert_string_equal(got->transport, "local");
	assert_string_equal(got->nexthop, "example.test");
	assert_int_equal(got->rcpt_count, 3);
	assert_memory_equal(got->rcpts, rcpts, sizeof(rcpts));
	deliver_request_free(&got);
	assert_null(got);
	attr_list_free(&list);
	sbuf_free(&frame);
	sbuf_free(&why);
}

/* Decodes a request frame built from records; returns the result. */
static int
decode_request(const char *queue_file, long count, const long *idx,
    size_t n, struct sbuf *why)
{
	struct sbuf *frame = sbuf_new();
	struct deliver_request *req = NULL;
	struct attr_list *list;
	struct attr_writer w;
	char name[32];
	int ret;

	attr_begin(&w, frame);
	attr_put_str(&w, "queue_id", "ID");
	attr_put_str(&w, "queue_file", queue_file);
	attr_put_str(&w, "transport", "local");
	attr_put_str(&w, "nexthop", "");
	attr_put_long(&w, "rcpt_count", count);
	for (size_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "rcpt_%zu", i);
		attr_put_long(&w, name, idx[i]);
	}
	assert_int_equal(attr_end(&w, why), 0);
	list = frame_list(frame);
	ret = deliver_request_decode(list, &req, why);
	if (ret == 0)
		assert_non_null(req);
	deliver_request_free(&req);
	attr_list_free(&list);
	sbuf_free(&frame);
	return ret;
}

static void
test_request_refused(void **state)
{
	static const char *const bad_paths[] = {
		"ID", "/etc/passwd", "active/../../etc/passwd", "../active/ID",
		"active/ID/x", "active/", "/active", "active/.hidden",
		"active/..", ".active/ID", "active/I\nD",
	};
	long one[] = { 0 }, two[] = { 1, 1 };
	struct sbuf *why = sbuf_new();

	assert_int_equal(decode_request("active/ID", 1, one, 1, why), 0);
	assert_int_equal(decode_request("incoming/X", 1, one, 1, why), 0);
	for (size_t i = 0; i < sizeof(bad_paths) / sizeof(bad_paths[0]); i++)
		if (decode_request(bad_paths[i], 1, one, 1, why) != -1)
			fail_msg("queue_file \"%s\" was taken", bad_paths[i]);
	assert_int_equal(decode_request("active/ID", 0, one, 0, why), -1);
	assert_int_equal(decode_request("active/ID", DELIVER_RCPT_MAX + 1,
	    one, 1, why), -1);
	assert_int_equal(decode_request("active/ID", 2, one, 1, why), -1);
	assert_non_null(strstr(sbuf_str(why), "rcpt_1"));
	assert_int_equal(decode_request("active/ID", 2, two, 2, why), -1);
	assert_non_null(strstr(sbuf_str(why), "repeated"));
	sbuf_free(&why);
}

static void
test_request_encode_refused(void **state)
{
	struct deliver_request req = {
		"ID", "active/ID", "local", "", 0, NULL
	};
	struct sbuf *frame = sbuf_new(), *why = sbuf_new();

	assert_int_equal(deliver_request_encode(&req, frame, why), -1);
	assert_non_null(strstr(sbuf_str(why), "0 recipients"));
	sbuf_free(&frame);
	sbuf_free(&why);
}

static void
test_reply_round_trip(void **state)
{
	struct deliver_reply *reply = deliver_reply_new(3), *got = NULL;
	struct sbuf *frame = sbuf_new(), *why = sbuf_new();
	struct attr_list *list;

	deliver_result_set(&reply->results[0], 4, DELIVER_SENT, "2.0.0",
	    "delivered to maildir", "local", NULL, NULL);
	deliver_result_set(&reply->results[1], 0, DELIVER_DEFERRED, "4.4.1",
	    "connection refused", "mx.example[192.0.2.1]:25", NULL, NULL);
	deliver_result_set(&reply->results[2], 9, DELIVER_BOUNCED, "5.1.1",
	    "host said: 550 no such user", "mx.example[192.0.2.1]:25",
	    "550 5.1.1 no such user", "mx.example");
	assert_int_equal(deliver_reply_encode(reply, frame, why), 0);
	list = frame_list(frame);
	assert_int_equal(deliver_reply_decode(list, &got, why), 0);
	assert_int_equal(got->count, 3);
	for (size_t i = 0; i < 3; i++) {
		const struct deliver_result *a = &reply->results[i];
		const struct deliver_result *b = &got->results[i];

		assert_int_equal(a->rcpt, b->rcpt);
		assert_int_equal(a->status, b->status);
		assert_string_equal(a->dsn, b->dsn);
		assert_string_equal(a->reason, b->reason);
		assert_string_equal(a->relay, b->relay);
	}
	assert_null(got->results[0].diag);
	assert_null(got->results[1].mta);
	assert_string_equal(got->results[2].diag, "550 5.1.1 no such user");
	assert_string_equal(got->results[2].mta, "mx.example");
	assert_string_equal(deliver_status_name(got->results[1].status),
	    "deferred");
	deliver_reply_free(&got);
	deliver_reply_free(&reply);
	attr_list_free(&list);
	sbuf_free(&frame);
	sbuf_free(&why);
}

static void
test_result_dsn_fallback(void **state)
{
	struct deliver_reply *reply = deliver_reply_new(4);
	struct sbuf *frame = sbuf_new(), *why = sbuf_new();

	/* A dsn of the wrong class or form gives way to the default. */
	deliver_result_set(&reply->results[0], 0, DELIVER_SENT, "5.1.1", "x",
	    "local", NULL, NULL);
	deliver_result_set(&reply->results[1], 1, DELIVER_DEFERRED, NULL, NULL,
	    NULL, NULL, NULL);
	deliver_result_set(&reply->results[2], 2, DELIVER_BOUNCED, "5.1",
	    "x", "local", NULL, NULL);
	deliver_result_set(&reply->results[3], 3, DELIVER_BOUNCED, "5.1.1000",
	    "x", "local", NULL, NULL);
	assert_string_equal(reply->results[0].dsn, "2.0.0");
	assert_string_equal(reply->results[1].dsn, "4.0.0");
	assert_string_equal(reply->results[1].reason, "");
	assert_string_equal(reply->results[1].relay, "none");
	assert_string_equal(reply->results[2].dsn, "5.0.0");
	assert_string_equal(reply->results[3].dsn, "5.0.0");
	/* Setting a result again replaces it without a leak. */
	deliver_result_set(&reply->results[3], 3, DELIVER_BOUNCED, "5.7.1",
	    "x", "local", "diag", "mta");
	assert_string_equal(reply->results[3].dsn, "5.7.1");
	assert_int_equal(deliver_reply_encode(reply, frame, why), 0);
	deliver_reply_free(&reply);
	sbuf_free(&frame);
	sbuf_free(&why);
}

static void
test_reply_refused(void **state)
{
	struct sbuf *frame = sbuf_new(), *why = sbuf_new();
	struct deliver_reply *got = NULL, *unset = deliver_reply_new(1);
	struct attr_list *list;
	struct attr_writer w;

	/* A status and dsn that disagree. */
	attr_begin(&w, frame);
	attr_put_long(&w, "rcpt_count", 1);
	attr_put_long(&w, "rcpt_0", 0);
	attr_put_str(&w, "status_0", "sent");
	attr_put_str(&w, "dsn_0", "5.1.1");
	attr_put_str(&w, "reason_0", "x");
	attr_put_str(&w, "relay_0", "local");
	assert_int_equal(attr_end(&w, why), 0);
	list = frame_list(frame);
	assert_int_equal(deliver_reply_decode(list, &got, why), -1);
	assert_non_null(strstr(sbuf_str(why), "does not agree"));
	assert_null(got);
	attr_list_free(&list);

	/* An unknown status. */
	attr_begin(&w, frame);
	attr_put_long(&w, "rcpt_count", 1);
	attr_put_long(&w, "rcpt_0", 0);
	attr_put_str(&w, "status_0", "lost");
	attr_put_str(&w, "dsn_0", "2.0.0");
	attr_put_str(&w, "reason_0", "x");
	attr_put_str(&w, "relay_0", "local");
	assert_int_equal(attr_end(&w, why), 0);
	list = frame_list(frame);
	assert_int_equal(deliver_reply_decode(list, &got, why), -1);
	assert_non_null(strstr(sbuf_str(why), "status_0"));
	attr_list_free(&list);

	/* A reply whose result was never set is not sent. */
	assert_int_equal(deliver_reply_encode(unset, frame, why), -1);
	deliver_reply_free(&unset);
	sbuf_free(&frame);
	sbuf_free(&why);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_round_trip),
		cmocka_unit_test(test_request_refused),
		cmocka_unit_test(test_request_encode_refused),
		cmocka_unit_test(test_reply_round_trip),
		cmocka_unit_test(test_result_dsn_fallback),
		cmocka_unit_test(test_reply_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
