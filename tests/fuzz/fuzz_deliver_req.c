/*
 * fuzz_deliver_req - delivery requests and replies as a broken peer sends
 * them: whatever decodes must encode again and decode to the same thing.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "mail/deliver_req.h"
#include "util/attr.h"
#include "util/sbuf.h"

/* Encodes req, decodes it again and checks the two agree. */
static void
request_round_trip(const struct deliver_request *req, struct sbuf *why)
{
	struct sbuf *frame = sbuf_new();
	struct deliver_request *again = NULL;
	struct attr_list *list = NULL;

	if (deliver_request_encode(req, frame, why) < 0 ||
	    attr_decode(sbuf_str(frame), sbuf_len(frame), &list, why) < 0 ||
	    deliver_request_decode(list, &again, why) < 0)
		abort();
	if (strcmp(req->queue_file, again->queue_file) != 0 ||
	    req->rcpt_count != again->rcpt_count ||
	    memcmp(req->rcpts, again->rcpts,
	    req->rcpt_count * sizeof(*req->rcpts)) != 0)
		abort();
	deliver_request_free(&again);
	attr_list_free(&list);
	sbuf_free(&frame);
}

/* Encodes reply, decodes it again and checks the statuses agree. */
static void
reply_round_trip(const struct deliver_reply *reply, struct sbuf *why)
{
	struct sbuf *frame = sbuf_new();
	struct deliver_reply *again = NULL;
	struct attr_list *list = NULL;

	if (deliver_reply_encode(reply, frame, why) < 0 ||
	    attr_decode(sbuf_str(frame), sbuf_len(frame), &list, why) < 0 ||
	    deliver_reply_decode(list, &again, why) < 0 ||
	    again->count != reply->count)
		abort();
	for (size_t i = 0; i < reply->count; i++)
		if (again->results[i].status != reply->results[i].status ||
		    strcmp(again->results[i].dsn, reply->results[i].dsn) != 0)
			abort();
	deliver_reply_free(&again);
	attr_list_free(&list);
	sbuf_free(&frame);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbuf *why = sbuf_new();
	struct attr_list *list = NULL;
	struct deliver_request *req = NULL;
	struct deliver_reply *reply = NULL;

	if (attr_decode((const char *)data, size, &list, why) == 0) {
		if (deliver_request_decode(list, &req, why) == 0)
			request_round_trip(req, why);
		if (deliver_reply_decode(list, &reply, why) == 0)
			reply_round_trip(reply, why);
		deliver_request_free(&req);
		deliver_reply_free(&reply);
		attr_list_free(&list);
	}
	sbuf_free(&why);
	return 0;
}
