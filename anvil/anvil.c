/*
 * anvil - per-client connection count and rate service
 *
 * One process on the skeleton's event loop. Each connection on
 * private/anvil is a peer: it sends one request (anvil_clnt.h, anvil(8)),
 * read incrementally as it arrives, gets the client's session count and
 * connection rate, then stays open and idle; when it closes, the session
 * is no longer counted. A timer forgets clients whose rate window has
 * passed; another logs the peaks seen (statistics lines) every
 * ANVIL_STATS_INTERVAL seconds and at exit.
 *
 * Errors: a peer that breaks the protocol, stalls before its request or
 * sends anything after it is dropped with a warning; the others go on.
 * Peers past the descriptor budget and clients past ANVIL_CLIENT_MAX are
 * refused with a warning. Only a broken start is fatal.
 * Trust: peers are other Postern processes (private/ is the mail owner's
 * only) that may be broken or compromised: every frame length is checked
 * before it is read, every byte is read without blocking.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "anvil_table.h"
#include "mail/anvil_clnt.h"
#include "mail/params.h"
#include "mail/server.h"
#include "util/attr.h"
#include "util/event.h"
#include "util/msg.h"
#include "util/sbuf.h"
#include "util/xmalloc.h"

#define ANVIL_CLIENT_MAX	100000	/* clients tracked at once */
#define ANVIL_PEER_MAX		60000	/* peers at once, fd limit allowing */
#define ANVIL_FD_RESERVE	16	/* descriptors kept for other uses */
#define ANVIL_STATS_INTERVAL	600	/* seconds between statistics lines */
#define ANVIL_READ_CHUNK	512	/* bytes read per readiness */

/* One connection to anvil: a session being counted. */
struct anvil_peer {
	int fd;
	long pid;		/* of the peer process, for the log; or -1 */
	struct sbuf *in;	/* the request as it arrives; NULL after it */
	struct event_timer *timer;	/* deadline for the request */
	struct anvil_client *client;	/* once counted */
};

static struct anvil_table *anvil_clients;
static struct sbuf *anvil_reply;
static size_t anvil_peers;	/* open now */
static size_t anvil_peer_max;
static long anvil_request_ms;	/* ipc_timeout */
static long anvil_rate_unit;

/* Seconds on the monotonic clock: the table's clock. */
static long
anvil_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec;
}

/* The pid of the process at the other end of fd, or -1. */
static long
anvil_peer_pid(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -1;
	return (long)cred.pid;
}

/* Ends a peer: uncounts its session, closes and frees it. */
static void
anvil_peer_drop(struct anvil_peer *peer)
{
	struct event_loop *loop = server_event_loop();

	if (peer->client != NULL)
		anvil_table_disconnect(peer->client);
	event_timer_cancel(loop, &peer->timer);
	event_fd_remove(loop, peer->fd);
	close(peer->fd);
	sbuf_free(&peer->in);
	free(peer);
	anvil_peers--;
}

/* Sends the reply in anvil_reply; false (logged) when it could not go. */
static bool
anvil_peer_send(struct anvil_peer *peer)
{
	struct sbuf *why = sbuf_new();
	bool ok;

	/* A fresh socket's buffer always takes a reply this small. */
	ok = attr_send(peer->fd, anvil_reply, 0, why) == 0;
	if (!ok)
		msg_warn("peer pid %ld: %s", peer->pid, sbuf_str(why));
	sbuf_free(&why);
	return ok;
}

/* The whole request is in: counts the session and answers. */
static void
anvil_peer_request(struct anvil_peer *peer)
{
	struct sbuf *why = sbuf_new();
	struct attr_list *req = NULL;
	const char *service, *addr;
	long count, rate;

	if (attr_decode(sbuf_str(peer->in), sbuf_len(peer->in), &req,
	    why) < 0 || anvil_request_parse(req, &service, &addr, why) < 0) {
		msg_warn("peer pid %ld: malformed request: %s", peer->pid,
		    sbuf_str(why));
		anvil_peer_drop(peer);
	} else if ((peer->client = anvil_table_connect(anvil_clients,
	    service, addr, anvil_now(), &count, &rate)) == NULL) {
		msg_warn("not counting %s on %s: %zu clients tracked already",
		    addr, service, anvil_table_size(anvil_clients));
		anvil_reply_refused(anvil_reply, "too many clients tracked");
		anvil_peer_send(peer);
		anvil_peer_drop(peer);
	} else {
		msg_debug("%s on %s: count %ld rate %ld", addr, service,
		    count, rate);
		event_timer_cancel(server_event_loop(), &peer->timer);
		sbuf_free(&peer->in);
		anvil_reply_counted(anvil_reply, count, rate);
		if (!anvil_peer_send(peer))
			anvil_peer_drop(peer);
	}
	attr_list_free(&req);
	sbuf_free(&why);
}

/* Bytes still to read of the request: its length field, then its body. */
static size_t
anvil_peer_wanted(const struct anvil_peer *peer)
{
	const unsigned char *p = (const unsigned char *)sbuf_str(peer->in);
	size_t have = sbuf_len(peer->in);
	uint32_t body;

	if (have < 4)
		return 4 - have;
	body = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
	if (body > ANVIL_FRAME_MAX)
		return SIZE_MAX;
	return 4 + body - have;
}

/* The peer's request is arriving: reads what there is of it. */
static void
anvil_peer_read_request(struct anvil_peer *peer)
{
	char buf[ANVIL_READ_CHUNK];
	size_t want = anvil_peer_wanted(peer);
	ssize_t n;

	n = recv(peer->fd, buf, want < sizeof(buf) ? want : sizeof(buf),
	    MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;
	if (n <= 0) {
		if (n < 0)
			msg_warn("peer pid %ld: read request: %m", peer->pid);
		else if (sbuf_len(peer->in) > 0)
			msg_warn("peer pid %ld: closed inside its request",
			    peer->pid);
		anvil_peer_drop(peer);
		return;
	}
	sbuf_catn(peer->in, buf, (size_t)n);
	if ((want = anvil_peer_wanted(peer)) == SIZE_MAX) {
		msg_warn("peer pid %ld: malformed request: frame over %d bytes",
		    peer->pid, ANVIL_FRAME_MAX);
		anvil_peer_drop(peer);
	} else if (want == 0) {
		anvil_peer_request(peer);
	}
}

/* A counted peer is readable: its session ended, or it broke protocol. */
static void
anvil_peer_read_idle(struct anvil_peer *peer)
{
	char byte;
	ssize_t n = recv(peer->fd, &byte, 1, MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;
	if (n > 0)
		msg_warn("peer pid %ld: sent data after its request",
		    peer->pid);
	anvil_peer_drop(peer);
}

static void
anvil_peer_event(struct event_loop *loop, int fd, unsigned int ready,
    void *ctx)
{
	struct anvil_peer *peer = ctx;

	(void)loop;
	(void)fd;
	(void)ready;
	if (peer->in != NULL)
		anvil_peer_read_request(peer);
	else
		anvil_peer_read_idle(peer);
}

static void
anvil_peer_timeout(struct event_loop *loop, void *ctx)
{
	struct anvil_peer *peer = ctx;

	(void)loop;
	peer->timer = NULL;
	msg_warn("peer pid %ld: timeout waiting for its request", peer->pid);
	anvil_peer_drop(peer);
}

/* The skeleton's accept(): a new peer. */
static void
anvil_accept(int fd, const char *service)
{
	struct event_loop *loop = server_event_loop();
	struct sbuf *why = sbuf_new();
	struct anvil_peer *peer;

	(void)service;
	if (anvil_peers >= anvil_peer_max) {
		msg_warn("refusing a peer: %zu peers connected already",
		    anvil_peers);
		close(fd);
		sbuf_free(&why);
		return;
	}
	peer = xcalloc(1, sizeof(*peer));
	peer->fd = fd;
	peer->pid = anvil_peer_pid(fd);
	peer->in = sbuf_new();
	sbuf_set_limit(peer->in, 4 + ANVIL_FRAME_MAX);
	if (event_fd_add(loop, fd, EVENT_READ, anvil_peer_event, peer,
	    why) < 0) {
		msg_warn("refusing a peer: %s", sbuf_str(why));
		close(fd);
		sbuf_free(&peer->in);
		free(peer);
	} else {
		peer->timer = event_timer_add(loop,
		    (unsigned long)anvil_request_ms, anvil_peer_timeout, peer);
		anvil_peers++;
	}
	sbuf_free(&why);
}

/* When a peak was seen, as local time text; now is the table's clock. */
static void
anvil_peak_stamp(const struct anvil_peak *peak, long now, char *buf,
    size_t size)
{
	time_t when = time(NULL) - (time_t)(now - peak->when);
	struct tm tm;

	localtime_r(&when, &tm);
	strftime(buf, size, "%b %e %H:%M:%S", &tm);
}

/* Logs the peaks seen since the last statistics lines. */
static void
anvil_log_stats(void)
{
	struct anvil_stats stats;
	long now = anvil_now();
	char stamp[64];

	anvil_table_stats_take(anvil_clients, &stats);
	if (stats.rate.service != NULL) {
		anvil_peak_stamp(&stats.rate, now, stamp, sizeof(stamp));
		msg_info("statistics: max connection rate %ld/%lds for "
		    "(%s:%s) at %s", stats.rate.value, anvil_rate_unit,
		    stats.rate.service, stats.rate.addr, stamp);
	}
	if (stats.count.service != NULL) {
		anvil_peak_stamp(&stats.count, now, stamp, sizeof(stamp));
		msg_info("statistics: max connection count %ld for "
		    "(%s:%s) at %s", stats.count.value, stats.count.service,
		    stats.count.addr, stamp);
	}
	anvil_stats_clear(&stats);
}

static void
anvil_stats_timer(struct event_loop *loop, void *ctx)
{
	anvil_log_stats();
	event_timer_add(loop, ANVIL_STATS_INTERVAL * 1000UL,
	    anvil_stats_timer, ctx);
}

static void
anvil_sweep_timer(struct event_loop *loop, void *ctx)
{
	size_t gone = anvil_table_sweep(anvil_clients, anvil_now());

	if (gone > 0)
		msg_debug("forgot %zu clients, %zu tracked", gone,
		    anvil_table_size(anvil_clients));
	event_timer_add(loop, (unsigned long)anvil_rate_unit * 1000UL,
	    anvil_sweep_timer, ctx);
}

/* How many peers the descriptor limit allows; raises the soft limit. */
static size_t
anvil_peer_budget(void)
{
	struct rlimit rl;
	rlim_t want = ANVIL_PEER_MAX + ANVIL_FD_RESERVE;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		msg_fatal("getrlimit: %m");
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ||
		    rl.rlim_max > want ? want : rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0 &&
		    getrlimit(RLIMIT_NOFILE, &rl) < 0)
			msg_fatal("getrlimit: %m");
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= want)
		return ANVIL_PEER_MAX;
	if (rl.rlim_cur <= 2 * ANVIL_FD_RESERVE)
		msg_fatal("descriptor limit %llu is too low",
		    (unsigned long long)rl.rlim_cur);
	return (size_t)rl.rlim_cur - ANVIL_FD_RESERVE;
}

static void
anvil_init(const struct params *p)
{
	struct event_loop *loop = server_event_loop();

	if (p->anvil_rate_time_unit < 1)
		msg_fatal("anvil_rate_time_unit must be at least 1s");
	anvil_rate_unit = p->anvil_rate_time_unit;
	anvil_request_ms = p->ipc_timeout * 1000;
	anvil_peer_max = anvil_peer_budget();
	anvil_clients = anvil_table_new(anvil_rate_unit, ANVIL_CLIENT_MAX);
	anvil_reply = sbuf_new();
	event_timer_add(loop, (unsigned long)anvil_rate_unit * 1000UL,
	    anvil_sweep_timer, NULL);
	event_timer_add(loop, ANVIL_STATS_INTERVAL * 1000UL,
	    anvil_stats_timer, NULL);
}

static void
anvil_stop(void)
{
	anvil_log_stats();
}

int
main(int argc, char **argv)
{
	static const struct server_def def = {
		.name = "anvil",
		.kind = SERVER_EVENT,
		.init = anvil_init,
		.accept = anvil_accept,
		.stop = anvil_stop,
	};

	server_main(argc, argv, &def);
}
