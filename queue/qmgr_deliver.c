/*
 * qmgr_deliver - one delivery: a request to an agent and its reply
 *
 * Errors: anything that goes wrong with an agent defers the job's
 * recipients with the reason, and qmgr goes on. Trust: agents are
 * Postern daemons, but their reply is decoded and checked
 * (deliver_req.c) and only results for the job's recipients are taken.
 */
#include "qmgr_deliver.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "qmgr.h"
#include "qmgr_message.h"
#include "qmgr_sched.h"
#include "mail/deliver_req.h"
#include "mail/params.h"
#include "mail/server.h"
#include "util/attr.h"
#include "util/event.h"
#include "util/msg.h"
#include "util/sbuf.h"
#include "util/unix_sock.h"

#define DELIVER_CONNECT_MS	10000	/* connect() with a full backlog */
#define DELIVER_SEND_MS		10000	/* one request frame */

static int deliver_reply_ms;		/* a reply frame once it starts */
static unsigned long deliver_timeout_ms;	/* waiting for the reply */

void
qmgr_deliver_init(const struct params *p)
{
	deliver_reply_ms = (int)(p->ipc_timeout > 60 ? 60000 :
	    p->ipc_timeout * 1000);
	deliver_timeout_ms = (unsigned long)p->daemon_timeout * 1000;
}

/* Gives every recipient of job the same deferral, and ends the job. */
static void
deliver_defer_all(struct qmgr_job *job, const char *dsn, const char *reason)
{
	job->times.done = qmgr_now();
	if (job->times.connected == 0)
		job->times.connected = job->times.done;
	if (!qmgr_message_gone(job->msg))
		for (size_t i = 0; i < job->count; i++)
			qmgr_message_result(job->msg, job->rcpts[i],
			    DELIVER_DEFERRED, dsn, reason, "none", NULL,
			    NULL, &job->times);
	qmgr_sched_job_done(job, NULL);
}

/* Stops watching the job's socket and closes it. */
static void
deliver_close(struct qmgr_job *job)
{
	struct event_loop *loop = server_event_loop();

	event_timer_cancel(loop, &job->timer);
	if (job->fd >= 0) {
		event_fd_remove(loop, job->fd);
		close(job->fd);
		job->fd = -1;
	}
}

/* Applies the reply's results to the job's recipients. */
static void
deliver_apply(struct qmgr_job *job, const struct deliver_reply *reply)
{
	job->times.done = qmgr_now();
	qmgr_message_gone(job->msg);
	for (size_t i = 0; i < job->count; i++) {
		const struct deliver_result *res = NULL;

		if (i < reply->count && reply->results[i].rcpt == job->rcpts[i])
			res = &reply->results[i];
		for (size_t j = 0; res == NULL && j < reply->count; j++)
			if (reply->results[j].rcpt == job->rcpts[i])
				res = &reply->results[j];
		if (res == NULL) {
			qmgr_message_result(job->msg, job->rcpts[i],
			    DELIVER_DEFERRED, "4.3.0", "delivery agent "
			    "gave no result", "none", NULL, NULL,
			    &job->times);
			continue;
		}
		qmgr_message_result(job->msg, job->rcpts[i], res->status,
		    res->dsn, res->reason, res->relay, res->diag, res->mta,
		    &job->times);
	}
	qmgr_sched_job_done(job, reply);
}

static void
deliver_on_reply(struct event_loop *loop, int fd, unsigned int ready,
    void *ctx)
{
	struct qmgr_job *job = ctx;
	struct sbuf *why = sbuf_new(), *reason = sbuf_new();
	struct attr_list *list = NULL;
	struct deliver_reply *reply = NULL;

	(void)loop;
	(void)ready;
	if (attr_recv(fd, ATTR_FRAME_MAX, deliver_reply_ms, &list, why) < 0 ||
	    deliver_reply_decode(list, &reply, why) < 0) {
		sbuf_setf(reason, "delivery agent %s failed: %s",
		    job->dest->transport->name, sbuf_str(why));
		/* An agent cannot read a file the admin deleted. */
		if (!qmgr_message_gone(job->msg))
			msg_warn("%s: %s", job->msg->id, sbuf_str(reason));
		deliver_close(job);
		deliver_defer_all(job, "4.3.0", sbuf_str(reason));
	} else {
		deliver_close(job);
		deliver_apply(job, reply);
	}
	deliver_reply_free(&reply);
	attr_list_free(&list);
	sbuf_free(&why);
	sbuf_free(&reason);
}

static void
deliver_on_timeout(struct event_loop *loop, void *ctx)
{
	struct qmgr_job *job = ctx;

	(void)loop;
	job->timer = NULL;
	msg_warn("%s: delivery agent %s gave no reply in time",
	    job->msg->id, job->dest->transport->name);
	deliver_close(job);
	deliver_defer_all(job, "4.4.7", "delivery agent gave no reply in "
	    "time");
}

void
qmgr_deliver_start(struct qmgr_job *job)
{
	struct qmgr_transport *t = job->dest->transport;
	struct sbuf *frame = sbuf_new(), *why = sbuf_new();
	struct sbuf *path = sbuf_new();
	struct deliver_request req;

	sbuf_printf(path, "active/%s", job->msg->id);
	req.queue_id = job->msg->id;
	req.queue_file = (char *)sbuf_str(path);
	req.transport = t->name;
	req.nexthop = job->dest->nexthop;
	req.rcpt_count = job->count;
	req.rcpts = job->rcpts;
	if (deliver_request_encode(&req, frame, why) < 0) {
		msg_warn("%s: %s", job->msg->id, sbuf_str(why));
		deliver_defer_all(job, "4.3.0", sbuf_str(why));
		goto out;
	}
	if ((job->fd = unix_connect(t->socket_path, DELIVER_CONNECT_MS,
	    why)) < 0) {
		if (errno == ENOENT || errno == ECONNREFUSED)
			deliver_defer_all(job, "4.3.0",
			    "mail transport unavailable");
		else
			deliver_defer_all(job, "4.3.0", sbuf_str(why));
		goto out;
	}
	if (attr_send(job->fd, frame, DELIVER_SEND_MS, why) < 0 ||
	    event_fd_add(server_event_loop(), job->fd, EVENT_READ,
	    deliver_on_reply, job, why) < 0) {
		close(job->fd);
		job->fd = -1;
		deliver_defer_all(job, "4.3.0", sbuf_str(why));
		goto out;
	}
	job->times.connected = qmgr_now();
	job->timer = event_timer_add(server_event_loop(), deliver_timeout_ms,
	    deliver_on_timeout, job);
out:
	sbuf_free(&frame);
	sbuf_free(&why);
	sbuf_free(&path);
}
