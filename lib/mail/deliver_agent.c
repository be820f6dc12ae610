/*
 * deliver_agent - the delivery agent's side of a qmgr connection
 *
 * Errors: a frame that cannot be read or decoded, or a reply that cannot
 * be sent, is a warning; the connection is closed by the skeleton.
 */
#include "mail/deliver_agent.h"

#include "mail/deliver_req.h"
#include "mail/params.h"
#include "mail/server.h"
#include "util/attr.h"
#include "util/msg.h"
#include "util/sbuf.h"
#include "util/stream.h"

void
deliver_agent_serve(struct server_client *client, deliver_agent_fn deliver)
{
	const struct params *p = server_params();
	int fd = stream_fd(client->stream);
	int timeout_ms = (int)(p->ipc_timeout * 1000);
	struct attr_list *list = NULL;
	struct deliver_request *req = NULL;
	struct deliver_reply *reply = NULL;
	struct sbuf *why = sbuf_new(), *frame = sbuf_new();

	if (attr_recv(fd, ATTR_FRAME_MAX, timeout_ms, &list, why) < 0) {
		msg_warn("request from %s: %s", client->service,
		    sbuf_str(why));
		goto done;
	}
	if (deliver_request_decode(list, &req, why) < 0) {
		msg_warn("malformed request from %s: %s", client->service,
		    sbuf_str(why));
		goto done;
	}
	reply = deliver_reply_new(req->rcpt_count);
	deliver(req, reply);
	if (deliver_reply_encode(reply, frame, why) < 0 ||
	    attr_send(fd, frame, timeout_ms, why) < 0)
		msg_warn("%s: reply: %s", req->queue_id, sbuf_str(why));
done:
	attr_list_free(&list);
	deliver_request_free(&req);
	deliver_reply_free(&reply);
	sbuf_free(&why);
	sbuf_free(&frame);
}
