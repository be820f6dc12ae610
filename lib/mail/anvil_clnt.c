/*
 * anvil_clnt - smtpd's side of the anvil service, and the codec of its
 * request and reply
 *
 * The client connects, sends the request and waits for the reply under
 * one deadline (timeout_ms for the whole exchange), then keeps the
 * connection open and idle until anvil_disconnect().
 *
 * Errors: the client returns NULL with a reason and never logs; smtpd
 * decides what a missing anvil means. The parser refuses a request that
 * breaks the format with a reason; anvil drops that peer.
 * Trust: anvil trusts no peer; smtpd trusts anvil's numbers only once
 * they are in range.
 */
#include "mail/anvil_clnt.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/attr.h"
#include "util/msg.h"
#include "util/sbuf.h"
#include "util/unix_sock.h"
#include "util/xmalloc.h"

#define ANVIL_SOCKET	"private/anvil"
#define ANVIL_REQUEST	"connect"

struct anvil_session {
	int fd;			/* open and idle while the session lasts */
};

/* True for 1 to ANVIL_NAME_MAX printable ASCII characters but space. */
static bool
anvil_name_ok(const char *s)
{
	size_t len = 0;

	for (; s[len] != '\0'; len++)
		if (s[len] <= ' ' || s[len] > '~' || len >= ANVIL_NAME_MAX)
			return false;
	return len > 0;
}

/* Milliseconds left of timeout_ms since *start; -1 when unlimited. */
static int
anvil_ms_left(const struct timespec *start, int timeout_ms)
{
	struct timespec now;
	long elapsed;

	if (timeout_ms < 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	elapsed = (long)(now.tv_sec - start->tv_sec) * 1000 +
	    (now.tv_nsec - start->tv_nsec) / 1000000;
	return elapsed >= timeout_ms ? 0 : timeout_ms - (int)elapsed;
}

/* Checks anvil's reply: 0 with the counts, or -1 with a reason. */
static int
anvil_reply_parse(const struct attr_list *reply, long *count_r,
    long *rate_r, struct sbuf *why)
{
	const char *reason;
	long status;

	if (attr_get_long(reply, "status", 0, LONG_MAX, &status, why) < 0)
		return -1;
	if (status == ANVIL_STATUS_REFUSED) {
		reason = attr_get_str(reply, "reason");
		sbuf_setf(why, "anvil did not count the session: %s",
		    reason != NULL ? reason : "no reason given");
		return -1;
	}
	if (status != ANVIL_STATUS_OK) {
		sbuf_setf(why, "unknown anvil status %ld", status);
		return -1;
	}
	if (attr_count(reply) != 3) {
		sbuf_set(why, "unexpected attributes in the anvil reply");
		return -1;
	}
	if (attr_get_long(reply, "count", 1, LONG_MAX, count_r, why) < 0 ||
	    attr_get_long(reply, "rate", 1, LONG_MAX, rate_r, why) < 0)
		return -1;
	return 0;
}

struct anvil_session *
anvil_connect(const char *queue_dir, const char *service, const char *addr,
    long *count_r, long *rate_r, int timeout_ms, struct sbuf *why)
{
	struct sbuf *path, *frame, *reason;
	struct attr_list *reply = NULL;
	struct anvil_session *s = NULL;
	struct attr_writer w;
	struct timespec start;
	int fd;

	if (!anvil_name_ok(service) || !anvil_name_ok(addr)) {
		sbuf_set(why, "anvil: service or client address unfit for "
		    "the protocol");
		return NULL;
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	path = sbuf_new();
	frame = sbuf_new();
	reason = sbuf_new();
	sbuf_setf(path, "%s/%s", queue_dir, ANVIL_SOCKET);
	if ((fd = unix_connect(sbuf_str(path), timeout_ms, reason)) < 0)
		goto done;
	attr_begin(&w, frame);
	attr_put_str(&w, "request", ANVIL_REQUEST);
	attr_put_str(&w, "service", service);
	attr_put_str(&w, "addr", addr);
	if (attr_end(&w, reason) < 0 ||
	    attr_send(fd, frame, anvil_ms_left(&start, timeout_ms),
	    reason) < 0 ||
	    attr_recv(fd, ANVIL_FRAME_MAX, anvil_ms_left(&start, timeout_ms),
	    &reply, reason) < 0 ||
	    anvil_reply_parse(reply, count_r, rate_r, reason) < 0) {
		close(fd);
		goto done;
	}
	s = xmalloc(sizeof(*s));
	s->fd = fd;
done:
	if (s == NULL)
		sbuf_setf(why, "anvil: %s", sbuf_str(reason));
	attr_list_free(&reply);
	sbuf_free(&path);
	sbuf_free(&frame);
	sbuf_free(&reason);
	return s;
}

void
anvil_disconnect(struct anvil_session **s)
{
	if (*s == NULL)
		return;
	close((*s)->fd);
	xfree(s);
}

int
anvil_request_parse(const struct attr_list *req, const char **service_r,
    const char **addr_r, struct sbuf *why)
{
	const char *request = attr_get_str(req, "request");
	const char *service = attr_get_str(req, "service");
	const char *addr = attr_get_str(req, "addr");

	if (request == NULL || strcmp(request, ANVIL_REQUEST) != 0) {
		sbuf_set(why, "request is not \"" ANVIL_REQUEST "\"");
		return -1;
	}
	if (service == NULL || !anvil_name_ok(service)) {
		sbuf_set(why, "missing or malformed service");
		return -1;
	}
	if (addr == NULL || !anvil_name_ok(addr)) {
		sbuf_set(why, "missing or malformed addr");
		return -1;
	}
	if (attr_count(req) != 3) {
		sbuf_set(why, "unexpected attributes in the request");
		return -1;
	}
	*service_r = service;
	*addr_r = addr;
	return 0;
}

/* Finishes a reply frame that cannot be over any limit. */
static void
anvil_reply_end(struct attr_writer *w)
{
	struct sbuf *why = sbuf_new();

	if (attr_end(w, why) < 0)
		msg_panic("anvil reply: %s", sbuf_str(why));
	sbuf_free(&why);
}

void
anvil_reply_counted(struct sbuf *frame, long count, long rate)
{
	struct attr_writer w;

	attr_begin(&w, frame);
	attr_put_long(&w, "status", ANVIL_STATUS_OK);
	attr_put_long(&w, "count", count);
	attr_put_long(&w, "rate", rate);
	anvil_reply_end(&w);
}

void
anvil_reply_refused(struct sbuf *frame, const char *reason)
{
	struct attr_writer w;

	attr_begin(&w, frame);
	attr_put_long(&w, "status", ANVIL_STATUS_REFUSED);
	attr_put_str(&w, "reason", reason);
	anvil_reply_end(&w);
}
