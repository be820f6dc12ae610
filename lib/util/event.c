/*
 * event - the one event loop: fd readiness, one-shot timers, signals
 *
 * One epoll instance, level-triggered. Fd watchers live in a table indexed
 * by fd; each epoll registration carries the fd and a generation number,
 * so a report already fetched for a watcher that was removed (or replaced
 * by another on the same fd number) during the batch is recognised and
 * dropped. No pointer into the table is kept across a callback, so a
 * callback may grow or clear it freely. Timers sit in a binary min-heap
 * ordered by monotonic deadline, then by order of addition; the earliest
 * sets the epoll_wait timeout. Signals are blocked and read from one
 * signalfd, registered in the epoll instance under a tag that no fd can
 * carry.
 *
 * Errors: failures of epoll, signalfd and sigprocmask that depend on the
 * environment (descriptor limits, kernel memory, uncatchable signals) are
 * returned as -1 with a reason in the caller's sbuf. Misuse that can only
 * be a bug (removing what was never added, running the loop from its own
 * callback) panics. Memory exhaustion is fatal (xmalloc). Nothing logs.
 * Trust: callers and the kernel; no outside data passes through here.
 */
#include "util/event.h"

#include <sys/epoll.h>
#include <sys/signalfd.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/msg.h"
#include "util/sbuf.h"
#include "util/xmalloc.h"

#define EVENT_BATCH		64	/* epoll reports fetched per batch */
#define EVENT_SIGNAL_BATCH	16	/* signalfd records read per batch */
#define EVENT_INTEREST		(EVENT_READ | EVENT_WRITE)
#define EVENT_ALWAYS		(EVENT_ERROR | EVENT_HUP)
#define EVENT_TAG_SIGNAL	UINT64_MAX	/* epoll data of the signalfd */
#define EVENT_TIMER_FIRING	SIZE_MAX	/* slot of a timer being run */
#define NS_PER_MS		UINT64_C(1000000)
#define NS_PER_S		UINT64_C(1000000000)

/* A watched fd; cb is NULL in unused slots. */
struct event_watch {
	event_fd_fn cb;
	void *ctx;
	unsigned int mask;	/* EVENT_READ | EVENT_WRITE */
	uint32_t gen;		/* matches the epoll registration */
};

struct event_timer {
	uint64_t due;		/* monotonic nanoseconds */
	uint64_t seq;		/* order of addition; breaks ties */
	size_t slot;		/* index in the heap, or EVENT_TIMER_FIRING */
	event_timer_fn cb;
	void *ctx;
};

/* A handled signal; cb is NULL when the signal is not handled. */
struct event_sig {
	event_signal_fn cb;
	void *ctx;
	int was_blocked;	/* blocked before the loop took it */
};

struct event_loop {
	int epfd;
	int sigfd;		/* -1 until the first signal is added */
	int dispatching;	/* inside run_once */
	int stopped;		/* event_loop_stop() was called */
	struct event_watch *watch;	/* indexed by fd */
	size_t nwatch;
	uint32_t next_gen;
	struct event_timer **heap;	/* min-heap by (due, seq) */
	size_t ntimers;
	size_t heap_cap;
	uint64_t next_seq;
	sigset_t sigmask;	/* signals in the signalfd */
	struct event_sig sig[NSIG];
};

/* Monotonic time in nanoseconds. */
static uint64_t
event_now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		msg_panic("clock_gettime(CLOCK_MONOTONIC): %m");
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

struct event_loop *
event_loop_new(struct sbuf *why)
{
	struct event_loop *loop;
	int fd;

	if ((fd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		sbuf_setf(why, "epoll_create1: %m");
		return NULL;
	}
	loop = xcalloc(1, sizeof(*loop));
	loop->epfd = fd;
	loop->sigfd = -1;
	sigemptyset(&loop->sigmask);
	return loop;
}

/* Unblocks signo. */
static void
event_unblock(int signo)
{
	sigset_t one;

	sigemptyset(&one);
	sigaddset(&one, signo);
	if (sigprocmask(SIG_UNBLOCK, &one, NULL) < 0)
		msg_panic("unblock signal %d: %m", signo);
}

void
event_loop_free(struct event_loop **loopp)
{
	struct event_loop *loop = *loopp;

	if (loop == NULL)
		return;
	if (loop->dispatching)
		msg_panic("event_loop_free: called from a callback");
	for (size_t i = 0; i < loop->ntimers; i++)
		free(loop->heap[i]);
	free(loop->heap);
	free(loop->watch);
	if (loop->sigfd >= 0)
		close(loop->sigfd);
	for (int signo = 1; signo < NSIG; signo++)
		if (loop->sig[signo].cb != NULL &&
		    !loop->sig[signo].was_blocked)
			event_unblock(signo);
	close(loop->epfd);
	xfree(loopp);
}

/* ---- Timers ---- */

/* Whether timer a is due before timer b. */
static int
event_timer_before(const struct event_timer *a, const struct event_timer *b)
{
	return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

/* Puts t at heap slot i. */
static void
event_heap_set(struct event_loop *loop, size_t i, struct event_timer *t)
{
	loop->heap[i] = t;
	t->slot = i;
}

/* Moves the timer at slot i towards the root while it is earlier. */
static void
event_heap_up(struct event_loop *loop, size_t i)
{
	struct event_timer *t = loop->heap[i];

	while (i > 0 && event_timer_before(t, loop->heap[(i - 1) / 2])) {
		event_heap_set(loop, i, loop->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	event_heap_set(loop, i, t);
}

/* Moves the timer at slot i towards the leaves while it is later. */
static void
event_heap_down(struct event_loop *loop, size_t i)
{
	struct event_timer *t = loop->heap[i], **h = loop->heap;
	size_t child;

	while ((child = 2 * i + 1) < loop->ntimers) {
		if (child + 1 < loop->ntimers &&
		    event_timer_before(h[child + 1], h[child]))
			child++;
		if (!event_timer_before(h[child], t))
			break;
		event_heap_set(loop, i, h[child]);
		i = child;
	}
	event_heap_set(loop, i, t);
}

/* Takes the timer at slot i out of the heap (it is not freed). */
static void
event_heap_remove(struct event_loop *loop, size_t i)
{
	struct event_timer *last = loop->heap[--loop->ntimers];

	if (i == loop->ntimers)
		return;
	event_heap_set(loop, i, last);
	event_heap_down(loop, i);
	event_heap_up(loop, last->slot);
}

struct event_timer *
event_timer_add(struct event_loop *loop, unsigned long ms, event_timer_fn cb,
    void *ctx)
{
	struct event_timer *t;
	uint64_t now = event_now();

	if (cb == NULL)
		msg_panic("event_timer_add: callback missing");
	t = xmalloc(sizeof(*t));
	if (ms > (UINT64_MAX - now) / NS_PER_MS)
		t->due = UINT64_MAX;
	else
		t->due = now + (uint64_t)ms * NS_PER_MS;
	t->seq = loop->next_seq++;
	t->cb = cb;
	t->ctx = ctx;
	if (loop->ntimers == loop->heap_cap) {
		loop->heap_cap = loop->heap_cap ? 2 * loop->heap_cap : 16;
		loop->heap = xreallocarray(loop->heap, loop->heap_cap,
		    sizeof(*loop->heap));
	}
	event_heap_set(loop, loop->ntimers++, t);
	event_heap_up(loop, t->slot);
	return t;
}

void
event_timer_cancel(struct event_loop *loop, struct event_timer **tp)
{
	struct event_timer *t = *tp;

	if (t == NULL)
		return;
	*tp = NULL;
	if (t->slot == EVENT_TIMER_FIRING)
		return;		/* its own callback: freed when it returns */
	if (t->slot >= loop->ntimers || loop->heap[t->slot] != t)
		msg_panic("event_timer_cancel: timer is not pending");
	event_heap_remove(loop, t->slot);
	free(t);
}

/*
 * Runs the timers due now that existed when called. Those added by the
 * callbacks wait for the next batch even if the clock has not moved since
 * (the barrier on seq), so a 0 ms chain cannot starve fds. Returns how
 * many ran.
 */
static int
event_fire_timers(struct event_loop *loop)
{
	uint64_t now = event_now(), barrier = loop->next_seq;
	struct event_timer *t;
	int calls = 0;

	while (loop->ntimers > 0) {
		t = loop->heap[0];
		if (t->due > now || t->seq >= barrier)
			break;
		event_heap_remove(loop, 0);
		t->slot = EVENT_TIMER_FIRING;
		t->cb(loop, t->ctx);
		free(t);
		calls++;
	}
	return calls;
}

/* The epoll_wait timeout: up to the first timer, at most max_wait_ms. */
static int
event_timeout(const struct event_loop *loop, int max_wait_ms)
{
	uint64_t now, left, ms;

	if (loop->ntimers == 0)
		return max_wait_ms < 0 ? -1 : max_wait_ms;
	now = event_now();
	if (loop->heap[0]->due <= now)
		return 0;
	left = loop->heap[0]->due - now;
	ms = left / NS_PER_MS + (left % NS_PER_MS != 0);
	if (max_wait_ms >= 0 && (uint64_t)max_wait_ms < ms)
		return max_wait_ms;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* ---- File descriptors ---- */

static uint32_t
event_to_epoll(unsigned int mask)
{
	return ((mask & EVENT_READ) ? EPOLLIN : 0) |
	    ((mask & EVENT_WRITE) ? EPOLLOUT : 0);
}

static unsigned int
event_from_epoll(uint32_t events)
{
	return ((events & EPOLLIN) ? EVENT_READ : 0) |
	    ((events & EPOLLOUT) ? EVENT_WRITE : 0) |
	    ((events & EPOLLERR) ? EVENT_ERROR : 0) |
	    ((events & EPOLLHUP) ? EVENT_HUP : 0);
}

/* The epoll data naming fd's registration of generation gen. */
static uint64_t
event_fd_data(int fd, uint32_t gen)
{
	return (uint64_t)gen << 32 | (uint32_t)fd;
}

/* The watcher of fd; panics when there is none. */
static struct event_watch *
event_watch_find(struct event_loop *loop, int fd, const char *caller)
{
	if (fd < 0 || (size_t)fd >= loop->nwatch || loop->watch[fd].cb == NULL)
		msg_panic("%s: fd %d is not watched", caller, fd);
	return &loop->watch[fd];
}

static void
event_check_mask(unsigned int mask, const char *caller)
{
	if ((mask & ~EVENT_INTEREST) != 0)
		msg_panic("%s: bad event mask 0x%x", caller, mask);
}

int
event_fd_add(struct event_loop *loop, int fd, unsigned int mask,
    event_fd_fn cb, void *ctx, struct sbuf *why)
{
	struct epoll_event ev;
	size_t n;

	if (fd < 0)
		msg_panic("event_fd_add: bad fd %d", fd);
	if (cb == NULL)
		msg_panic("event_fd_add: callback missing");
	event_check_mask(mask, "event_fd_add");
	if ((size_t)fd < loop->nwatch && loop->watch[fd].cb != NULL) {
		sbuf_setf(why, "fd %d is already watched", fd);
		return -1;
	}
	if ((size_t)fd >= loop->nwatch) {
		for (n = loop->nwatch ? loop->nwatch : 16; n <= (size_t)fd;)
			n *= 2;
		loop->watch = xreallocarray(loop->watch, n,
		    sizeof(*loop->watch));
		memset(loop->watch + loop->nwatch, 0,
		    (n - loop->nwatch) * sizeof(*loop->watch));
		loop->nwatch = n;
	}
	loop->next_gen++;
	memset(&ev, 0, sizeof(ev));
	ev.events = event_to_epoll(mask);
	ev.data.u64 = event_fd_data(fd, loop->next_gen);
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		sbuf_setf(why, "watch fd %d: %m", fd);
		return -1;
	}
	loop->watch[fd].cb = cb;
	loop->watch[fd].ctx = ctx;
	loop->watch[fd].mask = mask;
	loop->watch[fd].gen = loop->next_gen;
	return 0;
}

int
event_fd_modify(struct event_loop *loop, int fd, unsigned int mask,
    struct sbuf *why)
{
	struct event_watch *w = event_watch_find(loop, fd, "event_fd_modify");
	struct epoll_event ev;

	event_check_mask(mask, "event_fd_modify");
	memset(&ev, 0, sizeof(ev));
	ev.events = event_to_epoll(mask);
	ev.data.u64 = event_fd_data(fd, w->gen);
	if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) < 0) {
		sbuf_setf(why, "change events of fd %d: %m", fd);
		return -1;
	}
	w->mask = mask;
	return 0;
}

void
event_fd_remove(struct event_loop *loop, int fd)
{
	struct event_watch *w = event_watch_find(loop, fd, "event_fd_remove");

	/*
	 * Fails only when fd was closed first; epoll then dropped it already
	 * or keeps reporting a duplicate, and either way the generation
	 * check below drops those reports.
	 */
	(void)epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	memset(w, 0, sizeof(*w));
}

/* Calls the watcher named by an epoll report, if it still wants it. */
static int
event_dispatch_fd(struct event_loop *loop, const struct epoll_event *ev)
{
	int fd = (int)(ev->data.u64 & UINT32_MAX);
	uint32_t gen = (uint32_t)(ev->data.u64 >> 32);
	const struct event_watch *w;
	unsigned int ready;

	if ((size_t)fd >= loop->nwatch)
		return 0;
	w = &loop->watch[fd];
	if (w->cb == NULL || w->gen != gen)
		return 0;
	ready = event_from_epoll(ev->events) & (w->mask | EVENT_ALWAYS);
	if (ready == 0)
		return 0;
	/* w may move or be cleared by the callback: not used after it. */
	w->cb(loop, fd, ready, w->ctx);
	return 1;
}

/* ---- Signals ---- */

int
event_signal_add(struct event_loop *loop, int signo, event_signal_fn cb,
    void *ctx, struct sbuf *why)
{
	struct epoll_event ev;
	sigset_t one, old, mask;
	int fd;

	if (cb == NULL)
		msg_panic("event_signal_add: callback missing");
	sigemptyset(&one);
	if (signo <= 0 || signo >= NSIG || signo == SIGKILL ||
	    signo == SIGSTOP || sigaddset(&one, signo) < 0) {
		sbuf_setf(why, "signal %d cannot be caught", signo);
		return -1;
	}
	if (loop->sig[signo].cb != NULL) {
		sbuf_setf(why, "signal %d is already handled", signo);
		return -1;
	}
	if (sigprocmask(SIG_BLOCK, &one, &old) < 0) {
		sbuf_setf(why, "block signal %d: %m", signo);
		return -1;
	}
	mask = loop->sigmask;
	sigaddset(&mask, signo);
	if ((fd = signalfd(loop->sigfd, &mask,
	    SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
		sbuf_setf(why, "signalfd for signal %d: %m", signo);
		goto undo;
	}
	if (loop->sigfd < 0) {
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.u64 = EVENT_TAG_SIGNAL;
		if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			sbuf_setf(why, "watch signalfd: %m");
			close(fd);
			goto undo;
		}
		loop->sigfd = fd;
	}
	loop->sigmask = mask;
	loop->sig[signo].cb = cb;
	loop->sig[signo].ctx = ctx;
	loop->sig[signo].was_blocked = sigismember(&old, signo);
	return 0;

undo:
	if (!sigismember(&old, signo))
		event_unblock(signo);
	return -1;
}

void
event_signal_remove(struct event_loop *loop, int signo)
{
	if (signo <= 0 || signo >= NSIG || loop->sig[signo].cb == NULL)
		msg_panic("event_signal_remove: signal %d is not handled",
		    signo);
	sigdelset(&loop->sigmask, signo);
	if (signalfd(loop->sigfd, &loop->sigmask, 0) < 0)
		msg_panic("event_signal_remove: signalfd: %m");
	if (!loop->sig[signo].was_blocked)
		event_unblock(signo);
	memset(&loop->sig[signo], 0, sizeof(loop->sig[signo]));
}

/* Reads pending signals and calls their callbacks; -1 on a read error. */
static int
event_dispatch_signals(struct event_loop *loop, struct sbuf *why)
{
	struct signalfd_siginfo info[EVENT_SIGNAL_BATCH];
	const struct event_sig *s;
	ssize_t len;
	size_t i;
	int calls = 0;

	if ((len = read(loop->sigfd, info, sizeof(info))) < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		sbuf_setf(why, "read signalfd: %m");
		return -1;
	}
	for (i = 0; i < (size_t)len / sizeof(info[0]); i++) {
		if (info[i].ssi_signo == 0 || info[i].ssi_signo >= NSIG)
			continue;
		s = &loop->sig[info[i].ssi_signo];
		if (s->cb == NULL)
			continue;	/* removed earlier in this batch */
		s->cb(loop, (int)info[i].ssi_signo, s->ctx);
		calls++;
	}
	return calls;
}

/* ---- Running ---- */

int
event_loop_run_once(struct event_loop *loop, int max_wait_ms,
    struct sbuf *why)
{
	struct epoll_event ready[EVENT_BATCH];
	int n, ret, calls = 0;

	if (loop->dispatching)
		msg_panic("event_loop_run_once: called from a callback");
	n = epoll_wait(loop->epfd, ready, EVENT_BATCH,
	    event_timeout(loop, max_wait_ms));
	if (n < 0) {
		if (errno != EINTR) {
			sbuf_setf(why, "epoll_wait: %m");
			return -1;
		}
		n = 0;
	}
	loop->dispatching = 1;
	for (int i = 0; i < n; i++) {
		if (ready[i].data.u64 != EVENT_TAG_SIGNAL) {
			calls += event_dispatch_fd(loop, &ready[i]);
			continue;
		}
		if ((ret = event_dispatch_signals(loop, why)) < 0) {
			loop->dispatching = 0;
			return -1;
		}
		calls += ret;
	}
	calls += event_fire_timers(loop);
	loop->dispatching = 0;
	return calls;
}

int
event_loop_run(struct event_loop *loop, struct sbuf *why)
{
	loop->stopped = 0;
	while (!loop->stopped)
		if (event_loop_run_once(loop, -1, why) < 0)
			return -1;
	return 0;
}

void
event_loop_stop(struct event_loop *loop)
{
	loop->stopped = 1;
}
