/*
 * test_event - fd watchers, timers, signals and the loop itself
 *
 * Every wait is bounded: run_once() with a maximum wait inside counted
 * loops, and an alarm() watchdog around event_loop_run().
 */
#include "testutil.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/event.h"
#include "util/sbuf.h"
#include "util/xmalloc.h"

#define WAIT_MS		1000	/* longest single wait in a test */
#define MAX_ROUNDS	20	/* batches a test waits for something */
#define WATCHDOG_S	20	/* event_loop_run() tests die after this */

struct fixture {
	struct event_loop *loop;
	struct sbuf *why;
};

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	f->why = sbuf_new();
	f->loop = event_loop_new(f->why);
	if (f->loop == NULL)
		fail_msg("event_loop_new: %s", sbuf_str(f->why));
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	event_loop_free(&f->loop);
	sbuf_free(&f->why);
	xfree(&f);
	return 0;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

static void
make_pipe(int p[2])
{
	assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
}

static void
put_byte(int fd)
{
	assert_int_equal(write(fd, "x", 1), 1);
}

/* Runs batches until *count reaches want; fails after MAX_ROUNDS. */
static void
run_until(struct fixture *f, const int *count, int want)
{
	for (int i = 0; *count < want; i++) {
		if (i == MAX_ROUNDS)
			fail_msg("waited %d batches for %d callbacks, got %d",
			    MAX_ROUNDS, want, *count);
		if (event_loop_run_once(f->loop, WAIT_MS, f->why) < 0)
			fail_msg("run_once: %s", sbuf_str(f->why));
	}
}

/* ---- fd watchers ---- */

struct fd_rec {
	int calls;
	int fd;
	unsigned int ready;
};

static void
fd_record(struct event_loop *loop, int fd, unsigned int ready, void *ctx)
{
	struct fd_rec *r = ctx;

	r->calls++;
	r->fd = fd;
	r->ready = ready;
}

static void
test_pipe_readable(void **state)
{
	struct fixture *f = *state;
	struct fd_rec r = {0};
	int p[2];
	char c;

	make_pipe(p);
	assert_int_equal(event_fd_add(f->loop, p[0], EVENT_READ, fd_record,
	    &r, f->why), 0);
	assert_int_equal(event_loop_run_once(f->loop, 0, f->why), 0);
	assert_int_equal(r.calls, 0);

	put_byte(p[1]);
	assert_int_equal(event_loop_run_once(f->loop, WAIT_MS, f->why), 1);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.fd, p[0]);
	assert_int_equal(r.ready, EVENT_READ);

	/* Level-triggered: unread data is reported again. */
	assert_int_equal(event_loop_run_once(f->loop, 0, f->why), 1);
	assert_int_equal(r.calls, 2);
	assert_int_equal(read(p[0], &c, 1), 1);
	assert_int_equal(event_loop_run_once(f->loop, 0, f->why), 0);
	assert_int_equal(r.calls, 2);

	event_fd_remove(f->loop, p[0]);
	close(p[0]);
	close(p[1]);
}

static void
test_socket_writable_and_modify(void **state)
{
	struct fixture *f = *state;
	struct fd_rec r = {0};
	int s[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    s), 0);
	assert_int_equal(event_fd_add(f->loop, s[0], EVENT_WRITE, fd_record,
	    &r, f->why), 0);
	assert_int_equal(event_loop_run_once(f->loop, WAIT_MS, f->why), 1);
	assert_int_equal(r.ready, EVENT_WRITE);

	assert_int_equal(event_fd_modify(f->loop, s[0], EVENT_READ, f->why),
	    0);
	assert_int_equal(event_loop_run_once(f->loop, 0, f->why), 0);
	assert_int_equal(r.calls, 1);

	put_byte(s[1]);
	assert_int_equal(event_loop_run_once(f->loop, WAIT_MS, f->why), 1);
	assert_int_equal(r.ready, EVENT_READ);

	assert_int_equal(event_fd_modify(f->loop, s[0],
	    EVENT_READ | EVENT_WRITE, f->why), 0);
	assert_int_equal(event_loop_run_once(f->loop, WAIT_MS, f->why), 1);
	assert_int_equal(r.ready, EVENT_READ | EVENT_WRITE);
	assert_int_equal(r.calls, 3);

	event_fd_remove(f->loop, s[0]);
	close(s[0]);
	close(s[1]);
}

/* Hang-up and error are reported whatever the interest, even none. */
static void
test_hup_and_error(void **state)
{
	struct fixture *f = *state;
	struct fd_rec rd = {0}, wr = {0};
	int p[2], q[2];

	make_pipe(p);
	make_pipe(q);
	assert_int_equal(event_fd_add(f->loop, p[0], EVENT_READ, fd_record,
	    &rd, f->why), 0);
	assert_int_equal(event_fd_add(f->loop, q[1], 0, fd_record, &wr,
	    f->why), 0);
	assert_int_equal(event_loop_run_once(f->loop, 0, f->why), 0);

	close(p[1]);
	close(q[0]);
	assert_int_equal(event_loop_run_once(f->loop, WAIT_MS, f->why), 2);
	assert_int_equal(rd.ready, EVENT_HUP);
	assert_int_equal(wr.ready, EVENT_ERROR);

	event_fd_remove(f->loop, p[0]);
	event_fd_remove(f->loop, q[1]);
	close(p[0]);
	close(q[1]);
}

static void
test_fd_errors(void **state)
{
	struct fixture *f = *state;
	struct fd_rec r = {0};
	char *dir = test_tmpdir();
	char *path = test_write_text(dir, "plain", "a regular file\n");
	int p[2], file;

	make_pipe(p);
	assert_int_equal(event_fd_add(f->loop, p[0], EVENT_READ, fd_record,
	    &r, f->why), 0);
	assert_int_equal(event_fd_add(f->loop, p[0], EVENT_READ, fd_record,
	    &r, f->why), -1);
	assert_non_null(strstr(sbuf_str(f->why), "already watched"));

	/* epoll refuses regular files and closed fds. */
	assert_true((file = open(path, O_RDONLY | O_CLOEXEC)) >= 0);
	assert_int_equal(event_fd_add(f->loop, file, EVENT_READ, fd_record,
	    &r, f->why), -1);
	assert_non_null(strstr(sbuf_str(f->why), "watch fd"));
	close(file);
	assert_int_equal(event_fd_add(f->loop, file, EVENT_READ, fd_record,
	    &r, f->why), -1);

	/* Misuse panics and changes nothing. */
	test_msg_capture();
	EXPECT_FATAL(event_fd_remove(f->loop, file));
	EXPECT_FATAL(event_fd_remove(f->loop, -1));
	EXPECT_FATAL(event_fd_modify(f->loop, file, EVENT_READ, f->why));
	EXPECT_FATAL(event_fd_modify(f->loop, p[0], 0x10, f->why));
	EXPECT_FATAL(event_fd_add(f->loop, p[1], 0x10, fd_record, &r,
	    f->why));
	assert_non_null(strstr(test_msg_captured(), "not watched"));

	put_byte(p[1]);
	assert_int_equal(event_loop_run_once(f->loop, WAIT_MS, f->why), 1);
	assert_int_equal(r.ready, EVENT_READ);
	event_fd_remove(f->loop, p[0]);
	close(p[0]);
	close(p[1]);
	free(path);
	test_rmtree(&dir);
}

static void
remove_self(struct event_loop *loop, int fd, unsigned int ready, void *ctx)
{
	int *calls = ctx;

	(*calls)++;
	event_fd_remove(loop, fd);
}

/* A callback removes its own watcher; the unread data is not reported. */
static void
test_remove_self(void **state)
{
	struct fixture *f = *state;
	struct fd_rec r = {0};
	int p[2], calls = 0;

	make_pipe(p);
	put_byte(p[1]);
	assert_int_equal(event_fd_add(f->loop, p[0], EVENT_READ, remove_self,
	    &calls, f->why), 0);
	assert_int_equal(event_loop_run_once(f->loop, WAIT_MS, f->why), 1);
	assert_int_equal(calls, 1);
	assert_int_equal(event_loop_run_once(f->loop, 0, f->why), 0);
	assert_int_equal(calls, 1);

	/* The fd can be watched again. */
	assert_int_equal(event_fd_add(f->loop, p[0], EVENT_READ, fd_record,
	    &r, f->why), 0);
	assert_int_equal(event_loop_run_once(f->loop, WAIT_MS, f->why), 1);
	assert_int_equal(r.calls, 1);
	event_fd_remove(f->loop, p[0]);
	close(p[0]);
	close(p[1]);
}

/*
 * Two watchers ready in the same batch; whichever runs first acts on the
 * other (epoll does not promise an order).
 */
struct pair {
	int rd[2];		/* watched read ends */
	int wr[2];		/* their write ends */
	int calls[2];
	int spare;		/* empty pipe's read end, for reuse */
	int spare_wr;
	struct fd_rec fresh;	/* watcher put on the reused number */
	int grow_fd;		/* high fd number added during dispatch */
	enum { PAIR_REMOVE, PAIR_REUSE, PAIR_NARROW, PAIR_GROW } action;
	struct sbuf *why;
};

static void
pair_cb(struct event_loop *loop, int fd, unsigned int ready, void *ctx)
{
	struct pair *p = ctx;
	int me = fd == p->rd[1], other = p->rd[!me];

	if (p->calls[0] + p->calls[1] > 0) {
		p->calls[me]++;
		return;
	}
	p->calls[me]++;
	switch (p->action) {
	case PAIR_REMOVE:
		event_fd_remove(loop, other);
		close(other);
		break;
	case PAIR_REUSE:
		event_fd_remove(loop, other);
		close(other);
		assert_int_equal(dup2(p->spare, other), other);
		assert_int_equal(event_fd_add(loop, other, EVENT_READ,
		    fd_record, &p->fresh, p->why), 0);
		break;
	case PAIR_NARROW:
		assert_int_equal(event_fd_modify(loop, other, 0, p->why), 0);
		break;
	case PAIR_GROW:
		assert_int_equal(dup2(p->spare, p->grow_fd), p->grow_fd);
		assert_int_equal(event_fd_add(loop, p->grow_fd, EVENT_READ,
		    fd_record, &p->fresh, p->why), 0);
		break;
	}
}

static void
pair_open(struct fixture *f, struct pair *p, int action)
{
	int fds[2];

	memset(p, 0, sizeof(*p));
	p->action = action;
	p->why = f->why;
	for (int i = 0; i < 2; i++) {
		make_pipe(fds);
		p->rd[i] = fds[0];
		p->wr[i] = fds[1];
		assert_int_equal(event_fd_add(f->loop, p->rd[i], EVENT_READ,
		    pair_cb, p, f->why), 0);
		put_byte(p->wr[i]);
	}
	make_pipe(fds);
	p->spare = fds[0];
	p->spare_wr = fds[1];
}

static void
pair_close(struct pair *p)
{
	close(p->spare);
	close(p->spare_wr);
	close(p->wr[0]);
	close(p->wr[1]);
}

static void
test_remove_other_in_batch(void **state)
{
	struct fixture *f = *state;
	struct pair p;
	int survivor;

	pair_open(f, &p, PAIR_REMOVE);
	assert_int_equal(event_loop_run_once(f->loop, WAIT_MS, f->why), 1);
	assert_int_equal(p.calls[0] + p.calls[1], 1);
	survivor = p.rd[p.calls[1]];
	assert_int_equal(event_loop_run_once(f->loop, 0, f->why), 1);
	assert_int_equal(p.calls[0] + p.calls[1], 2);
	assert_int_equal(p.calls[survivor == p.rd[1]], 2);
	event_fd_remove(f->loop, survivor);
	close(survivor);
	pair_close(&p);
}

/* The removed fd's number is reused at once: the stale report is dropped. */
static void
test_reuse_in_batch(void **state)
{
	struct fixture *f = *state;
	struct pair p;
	int reused;

	pair_open(f, &p, PAIR_REUSE);
	assert_int_equal(event_loop_run_once(f->loop, WAIT_MS, f->why), 1);
	assert_int_equal(p.calls[0] + p.calls[1], 1);
	assert_int_equal(p.fresh.calls, 0);
	reused = p.rd[p.calls[0]];

	put_byte(p.spare_wr);
	assert_int_equal(event_loop_run_once(f->loop, WAIT_MS, f->why), 2);
	assert_int_equal(p.fresh.calls, 1);
	assert_int_equal(p.fresh.fd, reused);
	event_fd_remove(f->loop, p.rd[0]);
	event_fd_remove(f->loop, p.rd[1]);
	close(p.rd[0]);
	close(p.rd[1]);
	pair_close(&p);
}

/* Narrowing the other's interest drops its report already fetched. */
static void
test_modify_other_in_batch(void **state)
{
	struct fixture *f = *state;
	struct pair p;

	pair_open(f, &p, PAIR_NARROW);
	assert_int_equal(event_loop_run_once(f->loop, WAIT_MS, f->why), 1);
	assert_int_equal(p.calls[0] + p.calls[1], 1);
	assert_int_equal(event_loop_run_once(f->loop, 0, f->why), 1);
	assert_int_equal(p.calls[0] + p.calls[1], 2);
	for (int i = 0; i < 2; i++) {
		event_fd_remove(f->loop, p.rd[i]);
		close(p.rd[i]);
	}
	pair_close(&p);
}

/* A high fd added during dispatch grows the table under the batch. */
static void
test_grow_during_dispatch(void **state)
{
	struct fixture *f = *state;
	struct pair p;

	pair_open(f, &p, PAIR_GROW);
	p.grow_fd = 700;
	assert_true(fcntl(p.grow_fd, F_GETFD) < 0);
	assert_int_equal(event_loop_run_once(f->loop, WAIT_MS, f->why), 2);
	assert_int_equal(p.calls[0], 1);
	assert_int_equal(p.calls[1], 1);

	put_byte(p.spare_wr);
	assert_int_equal(event_loop_run_once(f->loop, WAIT_MS, f->why), 3);
	assert_int_equal(p.fresh.calls, 1);
	assert_int_equal(p.fresh.fd, p.grow_fd);
	event_fd_remove(f->loop, p.grow_fd);
	close(p.grow_fd);
	for (int i = 0; i < 2; i++) {
		event_fd_remove(f->loop, p.rd[i]);
		close(p.rd[i]);
	}
	pair_close(&p);
}

/* ---- timers ---- */

struct timer_log {
	int order[8];
	int n;
};

struct timer_rec {
	struct timer_log *log;
	int id;
	unsigned long ms;
	uint64_t added;
	uint64_t fired;
};

static void
timer_record(struct event_loop *loop, void *ctx)
{
	struct timer_rec *t = ctx;

	t->fired = now_ns();
	assert_true(t->log->n < 8);
	t->log->order[t->log->n++] = t->id;
}

static void
test_timer_order(void **state)
{
	struct fixture *f = *state;
	static const unsigned long ms[] = {30, 10, 50, 20, 40};
	static const int want[] = {1, 3, 0, 4, 2};
	struct timer_log log = {0};
	struct timer_rec rec[5];

	for (int i = 0; i < 5; i++) {
		rec[i] = (struct timer_rec){&log, i, ms[i], now_ns(), 0};
		assert_non_null(event_timer_add(f->loop, ms[i], timer_record,
		    &rec[i]));
	}
	run_until(f, &log.n, 5);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(log.order[i], want[i]);
		/* Never early. */
		assert_true(rec[i].fired - rec[i].added >= ms[i] * 1000000);
	}
	assert_int_equal(event_loop_run_once(f->loop, 0, f->why), 0);
}

/* Timers due together fire in the order they were added. */
static void
test_timer_ties(void **state)
{
	struct fixture *f = *state;
	struct timer_log log = {0};
	struct timer_rec rec[4];

	for (int i = 0; i < 4; i++) {
		rec[i] = (struct timer_rec){&log, i, 0, now_ns(), 0};
		event_timer_add(f->loop, 0, timer_record, &rec[i]);
	}
	assert_int_equal(event_loop_run_once(f->loop, WAIT_MS, f->why), 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(log.order[i], i);
}

#define MANY	300

struct bound_rec {
	uint64_t lo, hi;	/* the deadline lies between these */
	int fired_at;		/* position in the firing order, or -1 */
	int *n;
};

static void
bound_record(struct event_loop *loop, void *ctx)
{
	struct bound_rec *b = ctx;

	assert_true(now_ns() >= b->lo);
	b->fired_at = (*b->n)++;
}

/*
 * Many timers in scrambled order, every fifth cancelled: the heap must
 * still run them by deadline. Deadlines are known only within the time
 * taken to add each timer, so only pairs whose windows do not overlap are
 * compared.
 */
static void
test_timer_heap(void **state)
{
	struct fixture *f = *state;
	struct bound_rec b[MANY];
	struct event_timer *t[MANY];
	int n = 0, want = 0;

	for (int i = 0; i < MANY; i++) {
		unsigned long ms = (unsigned long)(i * 7919) % 60;

		b[i].n = &n;
		b[i].fired_at = -1;
		b[i].lo = now_ns() + ms * 1000000;
		t[i] = event_timer_add(f->loop, ms, bound_record, &b[i]);
		b[i].hi = now_ns() + ms * 1000000;
	}
	for (int i = 0; i < MANY; i++) {
		if (i % 5 == 0)
			event_timer_cancel(f->loop, &t[i]);
		else
			want++;
	}
	/* One batch per distinct deadline, at most. */
	for (int round = 0; n < want && round < MANY; round++)
		assert_true(event_loop_run_once(f->loop, WAIT_MS, f->why) >= 0);
	assert_int_equal(n, want);
	for (int i = 0; i < MANY; i++) {
		assert_int_equal(b[i].fired_at < 0, i % 5 == 0);
		for (int j = 0; j < MANY; j++)
			if (b[i].fired_at >= 0 && b[j].fired_at >= 0 &&
			    b[i].hi < b[j].lo && b[i].fired_at > b[j].fired_at)
				fail_msg("timer %d (%lu ms) fired after %d "
				    "(%lu ms)", i, (unsigned long)(i * 7919) %
				    60, j, (unsigned long)(j * 7919) % 60);
	}
}

/* The longest delay saturates instead of wrapping round to "now". */
static void
test_timer_far(void **state)
{
	struct fixture *f = *state;
	struct timer_log log = {0};
	struct timer_rec far = {&log, 1, ULONG_MAX, 0, 0};
	struct timer_rec near = {&log, 2, 0, 0, 0};

	event_timer_add(f->loop, ULONG_MAX, timer_record, &far);
	event_timer_add(f->loop, 0, timer_record, &near);
	assert_int_equal(event_loop_run_once(f->loop, WAIT_MS, f->why), 1);
	assert_int_equal(event_loop_run_once(f->loop, 0, f->why), 0);
	assert_int_equal(log.n, 1);
	assert_int_equal(log.order[0], 2);
}

static void
test_timer_cancel_before(void **state)
{
	struct fixture *f = *state;
	struct timer_log log = {0};
	struct timer_rec gone = {&log, 1, 10, 0, 0};
	struct timer_rec stays = {&log, 2, 30, 0, 0};
	struct event_timer *t, *none = NULL;

	t = event_timer_add(f->loop, 10, timer_record, &gone);
	event_timer_add(f->loop, 30, timer_record, &stays);
	event_timer_cancel(f->loop, &t);
	assert_null(t);
	event_timer_cancel(f->loop, &none);
	run_until(f, &log.n, 1);
	assert_int_equal(log.order[0], 2);
	assert_int_equal(event_loop_run_once(f->loop, 0, f->why), 0);
	assert_int_equal(log.n, 1);
}

struct canceller {
	struct event_timer *victim;
	int calls;
};

static void
cancel_timer_cb(struct event_loop *loop, void *ctx)
{
	struct canceller *c = ctx;

	c->calls++;
	event_timer_cancel(loop, &c->victim);
}

static void
cancel_fd_cb(struct event_loop *loop, int fd, unsigned int ready, void *ctx)
{
	struct canceller *c = ctx;

	c->calls++;
	event_timer_cancel(loop, &c->victim);
	event_fd_remove(loop, fd);
}

/* Cancelled from a timer due in the same batch, and from an fd callback. */
static void
test_timer_cancel_from_callback(void **state)
{
	struct fixture *f = *state;
	struct timer_log log = {0};
	struct timer_rec victim = {&log, 9, 0, 0, 0};
	struct canceller c = {0};
	int p[2];

	event_timer_add(f->loop, 0, cancel_timer_cb, &c);
	c.victim = event_timer_add(f->loop, 0, timer_record, &victim);
	assert_int_equal(event_loop_run_once(f->loop, WAIT_MS, f->why), 1);
	assert_int_equal(c.calls, 1);
	assert_null(c.victim);
	assert_int_equal(log.n, 0);

	/* fds are dispatched before the timers of the same batch. */
	make_pipe(p);
	put_byte(p[1]);
	c.victim = event_timer_add(f->loop, 0, timer_record, &victim);
	assert_int_equal(event_fd_add(f->loop, p[0], EVENT_READ, cancel_fd_cb,
	    &c, f->why), 0);
	assert_int_equal(event_loop_run_once(f->loop, WAIT_MS, f->why), 1);
	assert_int_equal(c.calls, 2);
	assert_null(c.victim);
	assert_int_equal(event_loop_run_once(f->loop, 0, f->why), 0);
	assert_int_equal(log.n, 0);
	close(p[0]);
	close(p[1]);
}

struct self_cancel {
	struct event_timer *me;
	int calls;
};

static void
cancel_self_cb(struct event_loop *loop, void *ctx)
{
	struct self_cancel *s = ctx;

	s->calls++;
	assert_non_null(s->me);
	event_timer_cancel(loop, &s->me);
	assert_null(s->me);
}

static void
test_timer_cancel_self(void **state)
{
	struct fixture *f = *state;
	struct self_cancel s = {0};

	s.me = event_timer_add(f->loop, 0, cancel_self_cb, &s);
	assert_int_equal(event_loop_run_once(f->loop, WAIT_MS, f->why), 1);
	assert_int_equal(s.calls, 1);
	assert_null(s.me);
	assert_int_equal(event_loop_run_once(f->loop, 0, f->why), 0);
}

struct chain {
	int calls;
	int limit;
	int stop_at;		/* event_loop_stop() on this call; 0: never */
	unsigned long ms;
};

static void
chain_cb(struct event_loop *loop, void *ctx)
{
	struct chain *c = ctx;

	c->calls++;
	if (c->calls == c->stop_at)
		event_loop_stop(loop);
	else if (c->calls < c->limit)
		event_timer_add(loop, c->ms, chain_cb, c);
}

/* A timer that adds a 0 ms timer: it fires in the next batch, not this. */
static void
test_timer_adds_timer(void **state)
{
	struct fixture *f = *state;
	struct chain c = {0, 5, 0, 0};

	event_timer_add(f->loop, 0, chain_cb, &c);
	for (int i = 1; i <= 5; i++) {
		assert_int_equal(event_loop_run_once(f->loop, WAIT_MS, f->why),
		    1);
		assert_int_equal(c.calls, i);
	}
	assert_int_equal(event_loop_run_once(f->loop, 0, f->why), 0);
}

/* ---- signals ---- */

struct sig_rec {
	int calls;
	int signo;
};

static void
sig_record(struct event_loop *loop, int signo, void *ctx)
{
	struct sig_rec *r = ctx;

	r->calls++;
	r->signo = signo;
}

static int
sig_blocked(int signo)
{
	sigset_t now;

	assert_int_equal(sigprocmask(SIG_BLOCK, NULL, &now), 0);
	return sigismember(&now, signo);
}

static int
sig_pending(int signo)
{
	sigset_t set;

	assert_int_equal(sigpending(&set), 0);
	return sigismember(&set, signo);
}

static void
test_signal_delivered(void **state)
{
	struct fixture *f = *state;
	struct sig_rec r = {0};

	assert_false(sig_blocked(SIGUSR1));
	assert_int_equal(event_signal_add(f->loop, SIGUSR1, sig_record, &r,
	    f->why), 0);
	assert_true(sig_blocked(SIGUSR1));

	/* Nothing runs in signal context: only the loop calls back. */
	assert_int_equal(raise(SIGUSR1), 0);
	assert_int_equal(r.calls, 0);
	run_until(f, &r.calls, 1);
	assert_int_equal(r.signo, SIGUSR1);

	assert_int_equal(kill(getpid(), SIGUSR1), 0);
	assert_int_equal(kill(getpid(), SIGUSR1), 0);
	assert_int_equal(r.calls, 1);
	run_until(f, &r.calls, 2);
	assert_false(sig_pending(SIGUSR1));

	event_signal_remove(f->loop, SIGUSR1);
	assert_false(sig_blocked(SIGUSR1));
}

/* A signal blocked before the loop took it stays blocked after. */
static void
test_signal_restore(void **state)
{
	struct fixture *f = *state;
	struct sig_rec r = {0};
	sigset_t usr2;

	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	assert_int_equal(sigprocmask(SIG_BLOCK, &usr2, NULL), 0);
	assert_int_equal(event_signal_add(f->loop, SIGUSR2, sig_record, &r,
	    f->why), 0);
	assert_int_equal(event_signal_add(f->loop, SIGUSR1, sig_record, &r,
	    f->why), 0);
	event_signal_remove(f->loop, SIGUSR2);
	assert_true(sig_blocked(SIGUSR2));
	assert_true(sig_blocked(SIGUSR1));
	assert_int_equal(sigprocmask(SIG_UNBLOCK, &usr2, NULL), 0);

	/* The signal still handled is still delivered. */
	assert_int_equal(raise(SIGUSR1), 0);
	run_until(f, &r.calls, 1);
	assert_int_equal(r.signo, SIGUSR1);

	/* Freeing the loop unblocks what it blocked. */
	event_loop_free(&f->loop);
	assert_null(f->loop);
	assert_false(sig_blocked(SIGUSR1));
}

static void
test_signal_errors(void **state)
{
	struct fixture *f = *state;
	struct sig_rec r = {0};
	static const int bad[] = {0, -1, SIGKILL, SIGSTOP, NSIG, 1000};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sbuf_reset(f->why);
		assert_int_equal(event_signal_add(f->loop, bad[i], sig_record,
		    &r, f->why), -1);
		assert_non_null(strstr(sbuf_str(f->why), "cannot be caught"));
	}
	assert_int_equal(event_signal_add(f->loop, SIGUSR1, sig_record, &r,
	    f->why), 0);
	assert_int_equal(event_signal_add(f->loop, SIGUSR1, sig_record, &r,
	    f->why), -1);
	assert_non_null(strstr(sbuf_str(f->why), "already handled"));
	test_msg_capture();
	EXPECT_FATAL(event_signal_remove(f->loop, SIGUSR2));
	assert_non_null(strstr(test_msg_captured(), "not handled"));
	event_signal_remove(f->loop, SIGUSR1);
	assert_false(sig_blocked(SIGUSR1));
}

/* ---- the loop ---- */

static void
stop_fd_cb(struct event_loop *loop, int fd, unsigned int ready, void *ctx)
{
	int *calls = ctx;

	(*calls)++;
	event_loop_stop(loop);
}

static void
test_run_until_stop(void **state)
{
	struct fixture *f = *state;
	struct chain c = {0, 100, 3, 1};
	int p[2], calls = 0;

	/* A stop made before running is forgotten. */
	event_loop_stop(f->loop);
	event_timer_add(f->loop, 1, chain_cb, &c);
	alarm(WATCHDOG_S);
	assert_int_equal(event_loop_run(f->loop, f->why), 0);
	alarm(0);
	assert_int_equal(c.calls, 3);

	make_pipe(p);
	put_byte(p[1]);
	assert_int_equal(event_fd_add(f->loop, p[0], EVENT_READ, stop_fd_cb,
	    &calls, f->why), 0);
	alarm(WATCHDOG_S);
	assert_int_equal(event_loop_run(f->loop, f->why), 0);
	alarm(0);
	assert_int_equal(calls, 1);
	event_fd_remove(f->loop, p[0]);
	close(p[0]);
	close(p[1]);
}

static volatile sig_atomic_t alarm_caught;

static void
alarm_handler(int signo)
{
	alarm_caught = 1;
}

/* A signal with a handler interrupts epoll_wait: an empty batch. */
static void
test_eintr(void **state)
{
	struct fixture *f = *state;
	struct sigaction sa, old;
	struct itimerval it = {{0, 0}, {0, 50000}}, off = {{0, 0}, {0, 0}};
	int p[2];

	make_pipe(p);
	assert_int_equal(event_fd_add(f->loop, p[0], EVENT_READ, stop_fd_cb,
	    NULL, f->why), 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = alarm_handler;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
	alarm_caught = 0;
	assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
	assert_int_equal(event_loop_run_once(f->loop, 5000, f->why), 0);
	assert_int_equal(setitimer(ITIMER_REAL, &off, NULL), 0);
	assert_int_equal(sigaction(SIGALRM, &old, NULL), 0);
	assert_true(alarm_caught);
	event_fd_remove(f->loop, p[0]);
	close(p[0]);
	close(p[1]);
}

struct nested {
	struct event_loop *loop;
	struct sbuf *why;
	int calls;
};

static void
nested_cb(struct event_loop *loop, void *ctx)
{
	struct nested *n = ctx;

	n->calls++;
	EXPECT_FATAL(event_loop_run_once(loop, 0, n->why));
	EXPECT_FATAL(event_loop_run(loop, n->why));
	EXPECT_FATAL(event_loop_free(&n->loop));
	assert_ptr_equal(n->loop, loop);
}

static void
test_no_nesting(void **state)
{
	struct fixture *f = *state;
	struct nested n = {f->loop, f->why, 0};

	test_msg_capture();
	event_timer_add(f->loop, 0, nested_cb, &n);
	assert_int_equal(event_loop_run_once(f->loop, WAIT_MS, f->why), 1);
	assert_int_equal(n.calls, 1);
	assert_non_null(strstr(test_msg_captured(), "from a callback"));
	assert_int_equal(event_loop_run_once(f->loop, 0, f->why), 0);
}

/* Freeing with everything still registered leaks nothing (LSan). */
static void
test_free_pending(void **state)
{
	struct fixture *f = *state;
	struct fd_rec r = {0};
	struct sig_rec s = {0};
	int p[2];

	make_pipe(p);
	assert_int_equal(event_fd_add(f->loop, p[0], EVENT_READ, fd_record,
	    &r, f->why), 0);
	assert_int_equal(event_fd_add(f->loop, p[1], EVENT_WRITE, fd_record,
	    &r, f->why), 0);
	for (unsigned long ms = 1000; ms < 1000 + 40; ms++)
		event_timer_add(f->loop, ms, chain_cb, NULL);
	assert_int_equal(event_signal_add(f->loop, SIGUSR1, sig_record, &s,
	    f->why), 0);
	event_loop_free(&f->loop);
	assert_null(f->loop);
	event_loop_free(&f->loop);
	assert_false(sig_blocked(SIGUSR1));
	/* The caller's fds stay open. */
	assert_true(fcntl(p[0], F_GETFD) >= 0);
	assert_true(fcntl(p[1], F_GETFD) >= 0);
	assert_int_equal(r.calls, 0);
	close(p[0]);
	close(p[1]);
}

/*
 * A child frees its copy of the loop: its signals are unblocked, and the
 * parent's registrations in the shared epoll instance survive.
 */
static void
test_free_in_child(void **state)
{
	struct fixture *f = *state;
	struct fd_rec r = {0};
	struct sig_rec s = {0};
	int p[2], status;
	pid_t pid;

	make_pipe(p);
	assert_int_equal(event_fd_add(f->loop, p[0], EVENT_READ, fd_record,
	    &r, f->why), 0);
	assert_int_equal(event_signal_add(f->loop, SIGUSR1, sig_record, &s,
	    f->why), 0);
	assert_true((pid = fork()) >= 0);
	if (pid == 0) {
		sigset_t now;

		event_loop_free(&f->loop);
		if (sigprocmask(SIG_BLOCK, NULL, &now) < 0 ||
		    sigismember(&now, SIGUSR1))
			_exit(1);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	put_byte(p[1]);
	assert_int_equal(event_loop_run_once(f->loop, WAIT_MS, f->why), 1);
	assert_int_equal(r.calls, 1);
	assert_true(sig_blocked(SIGUSR1));
	event_fd_remove(f->loop, p[0]);
	event_signal_remove(f->loop, SIGUSR1);
	close(p[0]);
	close(p[1]);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_pipe_readable),
		T(test_socket_writable_and_modify),
		T(test_hup_and_error),
		T(test_fd_errors),
		T(test_remove_self),
		T(test_remove_other_in_batch),
		T(test_reuse_in_batch),
		T(test_modify_other_in_batch),
		T(test_grow_during_dispatch),
		T(test_timer_order),
		T(test_timer_ties),
		T(test_timer_heap),
		T(test_timer_far),
		T(test_timer_cancel_before),
		T(test_timer_cancel_from_callback),
		T(test_timer_cancel_self),
		T(test_timer_adds_timer),
		T(test_signal_delivered),
		T(test_signal_restore),
		T(test_signal_errors),
		T(test_run_until_stop),
		T(test_eintr),
		T(test_no_nesting),
		T(test_free_pending),
		T(test_free_in_child),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
