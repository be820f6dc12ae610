/*
 * local_requeue - forward a recipient's remote addresses as a new message
 *
 * Errors: a failure to write or commit the new file defers the
 * recipient (nothing is left behind: queue_writer_commit() removes a
 * failed file); the caller logs.
 * Trust: the addresses come from alias values and users' files and went
 * through the address parser (local_item.h); the queue writer checks
 * every field again.
 */
#include "local_requeue.h"

#include <string.h>

#include "local_child.h"
#include "local_outcome.h"
#include "mail/master_proto.h"
#include "mail/queue_file.h"
#include "util/sbuf.h"
#include "util/unix_sock.h"

#define LOCAL_REQUEUE_CHUNK	65536	/* octets copied at a time */

/* Copies the content of qf into w; QUEUE_WRITE_OK or the failure. */
static enum queue_write_status
local_requeue_copy(struct queue_file *qf, struct queue_writer *w,
    struct sbuf *why)
{
	static char buf[LOCAL_REQUEUE_CHUNK];
	enum queue_write_status st = QUEUE_WRITE_OK;
	off_t pos = 0;
	ssize_t n;

	while ((n = queue_file_read(qf, pos, buf, sizeof(buf), why)) > 0) {
		if ((st = queue_writer_write(w, buf, (size_t)n, why)) !=
		    QUEUE_WRITE_OK)
			return st;
		pos += n;
	}
	if (n < 0)
		return QUEUE_WRITE_ERROR;
	/* An empty message still closes the envelope. */
	if (pos == 0)
		st = queue_writer_write(w, "", 0, why);
	return st;
}

/* Fills in the writer's envelope and recipients; 0 or -1 with why. */
static int
local_requeue_envelope(const struct local_requeue_req *req,
    struct queue_writer *w, struct sbuf *why)
{
	const struct queue_envelope *old = &req->qf->env;
	struct queue_envelope env = {
		.sender = old->sender,
		.proto = QUEUE_PROTO_LOCAL,
		.envid = old->envid,
		.ret = old->ret,
		.body = old->body,
		.smtputf8 = old->smtputf8,
	};

	if (queue_writer_envelope(w, &env, why) < 0)
		return -1;
	for (size_t i = 0; i < req->count; i++) {
		struct queue_rcpt r = {
			.address = req->addrs[i],
			.orcpt = req->orig->orcpt,
			.notify = req->orig->notify,
		};

		if (queue_writer_add_rcpt(w, &r, why) < 0)
			return -1;
	}
	return 0;
}

/* The child's work: the payload gets the new queue id. */
static void
local_requeue_child(void *ctx, struct local_outcome *out,
    struct sbuf *payload)
{
	const struct local_requeue_req *req = ctx;
	struct queue_writer *w = NULL;
	struct sbuf *why = sbuf_new(), *id = sbuf_new();
	enum queue_write_status st;

	if ((st = queue_writer_open(req->queue_dir, &w, why)) !=
	    QUEUE_WRITE_OK)
		goto failed;
	sbuf_set(id, queue_writer_id(w));
	if (local_requeue_envelope(req, w, why) < 0) {
		queue_writer_abort(&w);
		goto failed;
	}
	if ((st = local_requeue_copy(req->qf, w, why)) != QUEUE_WRITE_OK) {
		queue_writer_abort(&w);
		goto failed;
	}
	if (queue_writer_commit(&w, why) != QUEUE_WRITE_OK)
		goto failed;
	sbuf_set(payload, sbuf_str(id));
	local_outcome_set(out, DELIVER_SENT, "2.0.0", "forwarded as %s",
	    sbuf_str(id));
	goto done;
failed:
	local_outcome_set(out, DELIVER_DEFERRED, "4.3.0",
	    "cannot queue the forwarded message: %s", sbuf_str(why));
done:
	sbuf_free(&why);
	sbuf_free(&id);
}

void
local_requeue(const struct local_requeue_req *req,
    struct local_outcome *out, struct sbuf *new_id)
{
	struct sbuf *path = sbuf_new(), *why = sbuf_new();

	local_child_run(req->as, req->timeout_ms, local_requeue_child,
	    (void *)req, out, new_id);
	if (out->status == DELIVER_SENT) {
		sbuf_printf(path, "%s/public/qmgr", req->queue_dir);
		trigger_send(sbuf_str(path), MASTER_TRIGGER_WAKEUP, why);
	}
	sbuf_free(&path);
	sbuf_free(&why);
}
