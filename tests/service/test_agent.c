/*
 * test_agent - a delivery agent for the integration tests of qmgr
 *
 * Takes one delivery request (deliver_req.h) per connection and answers
 * each recipient by its local part:
 *	defer-*		deferred, 4.2.0
 *	bounce-*	bounced, 5.1.1, with a remote reply and server
 *	slow-*		delivered after a second (a window for crash tests)
 *	anything else	delivered
 * A delivery writes the message content to config_directory/test-agent/
 * QUEUEID.msg, appends "QUEUEID<TAB>INDEX<TAB>ADDRESS" to the file
 * config_directory/test-agent/deliveries, then marks the recipient done
 * before the reply, as deliver_req.h asks of agents. Each request is
 * logged in test-agent/requests as "QUEUEID<TAB>COUNT<TAB>TRANSPORT
 * <TAB>NEXTHOP". The queue file is
 * locked (flock) and read afresh while delivering, and a recipient found
 * done is not delivered again but logged in test-agent/repeats, so that
 * the tests can count deliveries exactly even when qmgr is killed and
 * restarted under a running agent, and can see qmgr asking twice.
 * Never installed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "mail/deliver_req.h"
#include "mail/params.h"
#include "mail/queue_file.h"
#include "mail/server.h"
#include "util/attr.h"
#include "util/msg.h"
#include "util/safe_file.h"
#include "util/sbuf.h"
#include "util/strutil.h"
#include "util/stream.h"

#define AGENT_TIMEOUT_MS	10000

/* Copies the content of qf to test-agent/ID.msg; 0 or -1 with a reason. */
static int
agent_copy(struct queue_file *qf, struct sbuf *why)
{
	const struct params *p = server_params();
	struct sbuf *path = sbuf_new(), *content = sbuf_new();
	char buf[8192];
	ssize_t n;
	off_t pos = 0;
	int ret = -1;

	while ((n = queue_file_read(qf, pos, buf, sizeof(buf), why)) > 0) {
		sbuf_catn(content, buf, (size_t)n);
		pos += n;
	}
	sbuf_printf(path, "%s/test-agent/%s.msg", p->config_directory, qf->id);
	if (n == 0)
		ret = safe_file_write(sbuf_str(path), sbuf_str(content),
		    sbuf_len(content), 0644, why);
	sbuf_free(&path);
	sbuf_free(&content);
	return ret;
}

/* Appends "ID<TAB>N<TAB>TEXT" to test-agent/NAME; 0 or -1 with a reason. */
static int
agent_log(const char *name, const char *id, size_t n, const char *text,
    struct sbuf *why)
{
	const struct params *p = server_params();
	struct sbuf *path = sbuf_new(), *line = sbuf_new();
	int fd, ret = -1;

	sbuf_printf(path, "%s/test-agent/%s", p->config_directory, name);
	sbuf_printf(line, "%s\t%zu\t%s\n", id, n, text);
	if ((fd = open(sbuf_str(path), O_WRONLY | O_APPEND | O_CREAT |
	    O_CLOEXEC, 0644)) < 0 || safe_write_all(fd, sbuf_str(line),
	    sbuf_len(line)) < 0 || fsync(fd) < 0)
		sbuf_setf(why, "%s: %s", sbuf_str(path), strerror(errno));
	else
		ret = 0;
	if (fd >= 0)
		close(fd);
	sbuf_free(&path);
	sbuf_free(&line);
	return ret;
}

/* Delivers recipient index of qf (or not) and sets its result. */
static void
agent_rcpt(struct queue_file *qf, size_t index, struct deliver_result *res)
{
	const char *addr = qf->rcpts[index].address;
	struct sbuf *why = sbuf_new();

	if (qf->rcpts[index].done) {
		agent_log("repeats", qf->id, index, addr, why);
		deliver_result_set(res, index, DELIVER_SENT, "2.0.0",
		    "already delivered", "test", NULL, NULL);
	} else if (str_starts(addr, "defer-")) {
		deliver_result_set(res, index, DELIVER_DEFERRED, "4.2.0",
		    "test deferral", "test", NULL, NULL);
	} else if (str_starts(addr, "bounce-")) {
		deliver_result_set(res, index, DELIVER_BOUNCED, "5.1.1",
		    "test bounce", "test", "550 5.1.1 no such user here",
		    "mx.test.invalid");
	} else {
		if (str_starts(addr, "slow-"))
			sleep(1);
		if (agent_copy(qf, why) < 0 ||
		    agent_log("deliveries", qf->id, index, addr, why) < 0 ||
		    queue_file_mark_done(qf, index, why) < 0)
			deliver_result_set(res, index, DELIVER_DEFERRED,
			    "4.3.0", sbuf_str(why), "test", NULL, NULL);
		else
			deliver_result_set(res, index, DELIVER_SENT, "2.0.0",
			    "delivered to the test log", "test", NULL, NULL);
	}
	sbuf_free(&why);
}

static void
agent_serve(struct server_client *c)
{
	const struct params *p = server_params();
	struct sbuf *why = sbuf_new(), *path = sbuf_new();
	struct sbuf *frame = sbuf_new();
	struct attr_list *list = NULL;
	struct deliver_request *req = NULL;
	struct deliver_reply *reply = NULL;
	struct queue_file *qf = NULL;
	int fd = stream_fd(c->stream);

	if (attr_recv(fd, ATTR_FRAME_MAX, AGENT_TIMEOUT_MS, &list, why) < 0 ||
	    deliver_request_decode(list, &req, why) < 0) {
		msg_warn("bad request: %s", sbuf_str(why));
		goto out;
	}
	sbuf_printf(path, "%s/%s", p->queue_directory, req->queue_file);
	if ((qf = queue_file_open(sbuf_str(path),
	    QUEUE_OPEN_UPDATE | QUEUE_OPEN_LOCK, why)) == NULL) {
		msg_warn("%s: %s", req->queue_id, sbuf_str(why));
		goto out;
	}
	sbuf_reset(path);
	sbuf_printf(path, "%s\t%s", req->transport, req->nexthop);
	agent_log("requests", req->queue_id, req->rcpt_count, sbuf_str(path),
	    why);
	reply = deliver_reply_new(req->rcpt_count);
	for (size_t i = 0; i < req->rcpt_count; i++) {
		if (req->rcpts[i] >= qf->rcpt_count) {
			deliver_result_set(&reply->results[i], req->rcpts[i],
			    DELIVER_BOUNCED, "5.3.0", "no such recipient "
			    "index", "test", NULL, NULL);
			continue;
		}
		agent_rcpt(qf, req->rcpts[i], &reply->results[i]);
	}
	if (deliver_reply_encode(reply, frame, why) < 0 ||
	    attr_send(fd, frame, AGENT_TIMEOUT_MS, why) < 0)
		msg_warn("%s: reply: %s", req->queue_id, sbuf_str(why));
out:
	queue_file_close(&qf);
	deliver_reply_free(&reply);
	deliver_request_free(&req);
	attr_list_free(&list);
	sbuf_free(&why);
	sbuf_free(&path);
	sbuf_free(&frame);
}

int
main(int argc, char **argv)
{
	static const struct server_def def = {
		.name = "test-agent",
		.kind = SERVER_SINGLE,
		.serve = agent_serve,
	};

	server_main(argc, argv, &def);
}
