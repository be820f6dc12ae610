/*
 * local - the local delivery agent
 *
 * Serves qmgr on private/local, one request per connection: reads the
 * delivery request (deliver_req.h), opens the queue file it names,
 * delivers each listed recipient (local_expand.h), marks each one that
 * was sent done in the queue file as soon as its mailbox write is
 * durable, and replies with a result per recipient. qmgr logs the
 * status lines from the reply; local logs what only it knows.
 *
 * Errors: a malformed request drops the connection (logged); a queue
 * file that cannot be opened, or does not match the request, defers
 * every recipient with the reason; a recipient index out of range or
 * already done is refused (deferred 4.3.0) and never delivered again.
 * Trust: qmgr is trusted to name files, but the request is checked
 * anyway (deliver_request_decode() checks the path; the indexes are
 * checked here). local runs as root in a system instance and touches
 * nothing of a user's with that privilege: see local_child.h.
 */
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "local_alias.h"
#include "local_child.h"
#include "local_expand.h"
#include "local_loop.h"
#include "local_mailbox.h"
#include "local_outcome.h"
#include "mail/deliver_agent.h"
#include "mail/deliver_req.h"
#include "mail/params.h"
#include "mail/queue_file.h"
#include "mail/resolve.h"
#include "mail/server.h"
#include "util/msg.h"
#include "util/sbuf.h"

#define LOCAL_RELAY	"local"		/* relay_I of every result */

/* Who this process runs as (root in a system instance). */
static struct local_ident local_self;

/*
 * The tables, kept from one request to the next and opened again when a
 * file behind them changes, so an edited table takes effect at the next
 * delivery without reading every table for every message.
 */
static struct resolver *local_resolver;
static struct local_aliases *local_aliases;

/* Makes the tables current; 0, or -1 with a reason. */
static int
local_tables_update(const struct params *p, struct sbuf *why)
{
	if (local_resolver != NULL && local_aliases != NULL &&
	    !resolver_changed(local_resolver) &&
	    !local_aliases_changed(local_aliases))
		return 0;
	resolver_free(&local_resolver);
	local_aliases_free(&local_aliases);
	if ((local_resolver = resolver_open(p, why)) == NULL ||
	    (local_aliases = local_aliases_open(p->alias_maps, why)) == NULL)
		return -1;
	return 0;
}

static void
local_init(const struct params *p)
{
	struct passwd *pw = getpwuid(getuid());

	(void)p;
	if (pw == NULL)
		msg_fatal("no password entry for uid %lu",
		    (unsigned long)getuid());
	local_ident_from_pw(&local_self, pw);
}

/* Sets every result of reply to the same deferral. */
static void
local_defer_all(const struct deliver_request *req,
    struct deliver_reply *reply, const char *reason)
{
	for (size_t i = 0; i < req->rcpt_count; i++)
		deliver_result_set(&reply->results[i], req->rcpts[i],
		    DELIVER_DEFERRED, "4.3.0", reason, LOCAL_RELAY, NULL,
		    NULL);
}

/* Delivers recipient i of the request into reply->results[i]. */
static void
local_deliver_one(struct local_message *m, const struct deliver_request *req,
    size_t i, struct deliver_reply *reply)
{
	struct queue_file *qf = m->qf;
	size_t index = req->rcpts[i];
	struct local_outcome out;
	struct sbuf *why = sbuf_new();

	local_outcome_init(&out);
	if (index >= qf->rcpt_count) {
		msg_warn("%s: request names recipient %zu of %zu: refused",
		    m->queue_id, index, qf->rcpt_count);
		local_outcome_set(&out, DELIVER_DEFERRED, "4.3.0",
		    "recipient %zu is not in the queue file", index);
	} else if (qf->rcpts[index].done) {
		msg_warn("%s: to=<%s>: request for a recipient already done: "
		    "refused", m->queue_id, qf->rcpts[index].address);
		local_outcome_set(&out, DELIVER_DEFERRED, "4.3.0",
		    "recipient %zu is already done", index);
	} else {
		local_expand_recipient(m, index, &out);
		if (out.status == DELIVER_SENT &&
		    queue_file_mark_done(qf, index, why) < 0) {
			msg_warn("%s: to=<%s>: delivered but not marked done: "
			    "%s", m->queue_id, qf->rcpts[index].address,
			    sbuf_str(why));
			local_outcome_set(&out, DELIVER_DEFERRED, "4.3.0",
			    "delivered, but the queue file could not record "
			    "it: %s", sbuf_str(why));
		}
	}
	deliver_result_set(&reply->results[i], index, out.status, out.dsn,
	    sbuf_str(out.reason), LOCAL_RELAY, NULL, NULL);
	local_outcome_clear(&out);
	sbuf_free(&why);
}

/* Opens what a message's delivery needs; 0, or -1 with a reason. */
static int
local_message_open(struct local_message *m, const struct deliver_request *req,
    struct sbuf *why)
{
	const struct params *p = m->p;
	struct sbuf *path = sbuf_new();
	struct local_content content;
	int ret = -1;

	sbuf_printf(path, "%s/%s", p->queue_directory, req->queue_file);
	if ((m->qf = queue_file_open(sbuf_str(path),
	    QUEUE_OPEN_UPDATE | QUEUE_OPEN_LOCK, why)) == NULL)
		goto done;
	if (m->qf->id == NULL || strcmp(m->qf->id, req->queue_id) != 0) {
		sbuf_setf(why, "queue file %s is not message %s",
		    req->queue_file, req->queue_id);
		goto done;
	}
	content.qf = m->qf;
	content.pos = 0;
	if (local_loop_scan(local_content_read, &content,
	    m->delivered_to) < 0) {
		sbuf_setf(why, "cannot read the message in %s",
		    req->queue_file);
		goto done;
	}
	if (local_tables_update(p, why) < 0)
		goto done;
	m->resolver = local_resolver;
	m->aliases = local_aliases;
	ret = 0;
done:
	sbuf_free(&path);
	return ret;
}

static void
local_message_close(struct local_message *m)
{
	queue_file_close(&m->qf);
}

/* Delivers what req asks and fills reply. */
static void
local_deliver(const struct deliver_request *req, struct deliver_reply *reply)
{
	struct sbuf *why = sbuf_new(), *delivered_to = sbuf_new();
	struct local_message m = {
		.p = server_params(),
		.single_user = server_single_user(),
		.queue_id = req->queue_id,
		.delivered_to = delivered_to,
		.self = local_self,
	};

	if (local_message_open(&m, req, why) < 0) {
		msg_warn("%s: %s", req->queue_id, sbuf_str(why));
		local_defer_all(req, reply, sbuf_str(why));
	} else {
		for (size_t i = 0; i < req->rcpt_count; i++)
			local_deliver_one(&m, req, i, reply);
	}
	local_message_close(&m);
	sbuf_free(&why);
	sbuf_free(&delivered_to);
}

static void
local_serve(struct server_client *client)
{
	deliver_agent_serve(client, local_deliver);
}

int
main(int argc, char **argv)
{
	static const struct server_def def = {
		.name = "local",
		.kind = SERVER_SINGLE,
		.allow_root = true,
		.init = local_init,
		.serve = local_serve,
	};

	server_main(argc, argv, &def);
}
