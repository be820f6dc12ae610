/*
 * master_busy - inet services at their process limit
 *
 * Counts the clients waiting in the listen queues of a full inet service
 * (TCP_INFO), refuses those that waited service_busy_delay with the
 * service's busy reply, and logs the limit at a bounded rate.
 * Errors: a queue that cannot be counted counts as empty (nobody is
 * refused); a failed accept other than a client gone is logged and ends
 * that look; a reply that cannot be written is dropped with the
 * connection. Nothing here is fatal.
 * Trust: master never reads from a refused connection: it accepts it,
 * writes one line with MSG_DONTWAIT and closes it.
 */
#include "master_busy.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "master_service.h"
#include "master_spawn.h"
#include "util/event.h"
#include "util/msg.h"

bool
master_busy_full(const struct master_serv *serv)
{
	return serv->cf.maxproc > 0 && serv->total >= serv->cf.maxproc &&
	    serv->avail == 0;
}

/* The connections waiting in the accept queue of listener fd. */
static unsigned int
master_busy_queued(int fd)
{
	struct tcp_info info;
	socklen_t len = sizeof(info);

	/* For a listening socket Linux reports the accept queue here. */
	memset(&info, 0, sizeof(info));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) < 0)
		return 0;
	return info.tcpi_unacked;
}

/* Logs count events of one kind (refusals or not). */
static void
master_busy_warn(const struct master_serv *serv, bool refusals,
    unsigned long count)
{
	if (!refusals)
		msg_warn("service %s: process limit %d reached: clients wait "
		    "in the listen queue; consider raising the process limit "
		    "in master.cf", serv->cf.name, serv->cf.maxproc);
	else
		msg_warn("service %s: %lu connection%s refused: all %d "
		    "processes busy; raise the process limit in master.cf",
		    serv->cf.name, count, count == 1 ? "" : "s",
		    serv->cf.maxproc);
}

/*
 * Logs the events counted in log, if any, and mutes it for
 * MASTER_BUSY_LOG_INTERVAL with the timer callback fn.
 */
static void
master_busy_log(struct master_serv *serv, struct master_busy_log *log,
    bool refusals, event_timer_fn fn)
{
	log->timer = NULL;
	if (log->count == 0)
		return;
	master_busy_warn(serv, refusals, log->count);
	log->count = 0;
	log->timer = event_timer_add(serv->env->loop,
	    MASTER_BUSY_LOG_INTERVAL * 1000UL, fn, serv);
}

/* Timer: the limit warning may be logged again. */
static void
master_busy_limit_due(struct event_loop *loop, void *ctx)
{
	struct master_serv *serv = ctx;

	master_busy_log(serv, &serv->busy_limit, false,
	    master_busy_limit_due);
}

/* Timer: the refusal warning may be logged again. */
static void
master_busy_refused_due(struct event_loop *loop, void *ctx)
{
	struct master_serv *serv = ctx;

	master_busy_log(serv, &serv->busy_refused, true,
	    master_busy_refused_due);
}

/* Counts the limit reached and refusals; logs them now unless muted. */
static void
master_busy_note(struct master_serv *serv, unsigned long hits,
    unsigned long refused)
{
	serv->busy_limit.count += hits;
	serv->busy_refused.count += refused;
	if (serv->busy_limit.timer == NULL)
		master_busy_limit_due(serv->env->loop, serv);
	if (serv->busy_refused.timer == NULL)
		master_busy_refused_due(serv->env->loop, serv);
}

/*
 * Accepts at most count connections waiting on the i-th listener of
 * serv, writes the busy line to each and closes it; returns how many.
 */
static unsigned long
master_busy_refuse(struct master_serv *serv, size_t i, unsigned int count)
{
	size_t len = strlen(serv->busy_line);
	unsigned long refused = 0;
	int fd;

	for (unsigned int n = 0; n < count; n++) {
		if ((fd = accept4(serv->fds[i], NULL, NULL, SOCK_NONBLOCK |
		    SOCK_CLOEXEC)) < 0) {
			/* A client that gave up still took its place. */
			if (errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				msg_warn("service %s: accept on %s: %m",
				    serv->cf.name, serv->endpoints[i]);
			break;
		}
		/* A client that is gone, or not reading, misses the line. */
		send(fd, serv->busy_line, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		close(fd);
		refused++;
	}
	return refused;
}

static void master_busy_tick(struct event_loop *loop, void *ctx);

/* Sets the busy clock's next look, service_busy_delay (at least 1 s) on. */
static void
master_busy_arm(struct master_serv *serv)
{
	long delay = serv->busy_delay > 0 ? serv->busy_delay : 1;

	serv->busy_timer = event_timer_add(serv->env->loop,
	    (unsigned long)delay * 1000, master_busy_tick, serv);
}

/* Timer: the busy clock ticks; see master_busy.h. */
static void
master_busy_tick(struct event_loop *loop, void *ctx)
{
	struct master_serv *serv = ctx;
	unsigned long refused = 0;
	bool waited = false, waiting = false, full;

	serv->busy_timer = NULL;
	/* The latest word of the processes: who took whom, who is free. */
	master_spawn_read_status(serv);
	full = master_busy_full(serv);
	for (size_t i = 0; i < serv->endpoint_count; i++) {
		unsigned int aged = 0;

		if (serv->busy_waiting[i] > serv->busy_taken)
			aged = serv->busy_waiting[i] -
			    (unsigned int)serv->busy_taken;
		waited |= aged > 0;
		if (aged > 0 && full && serv->busy_line != NULL)
			refused += master_busy_refuse(serv, i, aged);
		serv->busy_waiting[i] = master_busy_queued(serv->fds[i]);
		waiting |= serv->busy_waiting[i] > 0;
	}
	serv->busy_taken = 0;
	if (full && waited)
		master_busy_note(serv, 1, refused);
	if (waiting)
		master_busy_arm(serv);
	master_spawn_watch(serv);
}

void
master_busy_listener(struct event_loop *loop, int fd, unsigned int ready,
    void *ctx)
{
	struct master_serv *serv = ctx;

	for (size_t i = 0; i < serv->endpoint_count; i++)
		serv->busy_waiting[i] = master_busy_queued(serv->fds[i]);
	serv->busy_taken = 0;
	master_busy_arm(serv);
	master_spawn_watch(serv);
}

void
master_busy_stop(struct master_serv *serv)
{
	struct event_loop *loop = serv->env->loop;

	event_timer_cancel(loop, &serv->busy_timer);
	event_timer_cancel(loop, &serv->busy_limit.timer);
	event_timer_cancel(loop, &serv->busy_refused.timer);
	if (serv->busy_limit.count > 0)
		master_busy_warn(serv, false, serv->busy_limit.count);
	if (serv->busy_refused.count > 0)
		master_busy_warn(serv, true, serv->busy_refused.count);
	serv->busy_limit.count = serv->busy_refused.count = 0;
}
