/*
 * event - the one event loop: fd readiness, one-shot timers, signals
 *
 * A loop watches file descriptors (epoll, level-triggered), keeps one-shot
 * timers on the monotonic clock, and turns signals into ordinary callbacks
 * (signalfd), so no Postern code runs in an asynchronous signal handler.
 * Every callback runs from event_loop_run() or event_loop_run_once(), one
 * at a time, in the thread that runs the loop.
 *
 * Any callback may add, modify or remove any fd watcher, add or cancel any
 * timer, add or remove any signal, and stop the loop. A watcher removed
 * (or narrowed by event_fd_modify()) during a batch is not called for
 * readiness it no longer asks for, even if the kernel had already reported
 * it in that batch; a new watcher that reuses the number of an fd removed
 * in the same batch is not called for the old fd's readiness.
 *
 * A callback must not run the loop again (event_loop_run() and
 * event_loop_run_once() do not nest) nor free it: both panic.
 *
 * The loop owns its epoll descriptor, its signalfd and its timers; the
 * caller owns the fds it watches and closes them, after event_fd_remove().
 * Memory follows the peak of what was registered: a slot per fd number up
 * to the highest watched, a heap slot per pending timer.
 *
 * Signals and processes: a signal added here is blocked with sigprocmask()
 * (the process must have one thread) and read from a signalfd; the kernel
 * merges a standard signal raised again while still pending, so one
 * callback may stand for several deliveries (SIGCHLD callers reap with
 * waitpid(WNOHANG) in a loop). A signal whose disposition is SIG_IGN is
 * discarded by the kernel and never reaches the loop. The blocked mask is
 * inherited across fork() and execve(): a child calls event_loop_free() on
 * its copy of the loop, which unblocks what the loop blocked and closes its
 * descriptors without touching the parent's epoll registrations.
 */
#ifndef POSTERN_EVENT_H
#define POSTERN_EVENT_H

struct sbuf;
struct event_loop;
struct event_timer;

/* Interest and readiness bits. */
#define EVENT_READ	(1U << 0)	/* readable, or a listener can accept */
#define EVENT_WRITE	(1U << 1)	/* writable */
/* Readiness only: always reported, whatever the interest. */
#define EVENT_ERROR	(1U << 2)	/* an error is pending on the fd */
#define EVENT_HUP	(1U << 3)	/* hang-up: peer or pipe end gone */

/*
 * Called with the fd and its readiness: the subset of the watcher's
 * interest that is ready, plus EVENT_ERROR and EVENT_HUP when they hold.
 * Level-triggered: readiness left unconsumed is reported again next batch.
 */
typedef void (*event_fd_fn)(struct event_loop *loop, int fd,
    unsigned int ready, void *ctx);
/* Called once, when the timer is due. */
typedef void (*event_timer_fn)(struct event_loop *loop, void *ctx);
/* Called from the loop after signo was delivered at least once. */
typedef void (*event_signal_fn)(struct event_loop *loop, int signo,
    void *ctx);

/* Returns an empty loop; NULL with a reason when epoll cannot be had. */
struct event_loop *event_loop_new(struct sbuf *why);
/*
 * Frees *loop and sets it to NULL; accepts NULL. Frees pending timers,
 * forgets fd watchers (without closing their fds or removing them from
 * the epoll instance, which a parent may share after fork()), closes the
 * loop's epoll descriptor and signalfd, and unblocks the signals the loop
 * blocked. Panics when called from a callback.
 */
void event_loop_free(struct event_loop **loop);

/*
 * Runs batches until a callback calls event_loop_stop() (returns 0 after
 * that batch) or epoll fails (-1 with a reason). With nothing registered
 * it waits forever. Panics when called from a callback.
 */
int event_loop_run(struct event_loop *loop, struct sbuf *why);
/*
 * Runs one batch: waits until an fd is ready, a timer is due, or max_wait_ms
 * has passed (-1: no limit; 0: do not wait), then calls the callbacks for
 * the ready fds and signals, then those of the timers due by then. Timers
 * added during the batch wait for the next one, even with 0 ms. A wait
 * interrupted by a signal (EINTR) counts as an empty wait. Returns the
 * number of callbacks called, or -1 with a reason when epoll fails. Panics
 * when called from a callback.
 */
int event_loop_run_once(struct event_loop *loop, int max_wait_ms,
    struct sbuf *why);
/*
 * Makes event_loop_run() return 0 once the current batch is done; meant
 * for callbacks. event_loop_run() forgets a stop made before it started.
 */
void event_loop_stop(struct event_loop *loop);

/*
 * Watches fd for mask (EVENT_READ and/or EVENT_WRITE, or 0 for errors and
 * hang-ups only), calling cb with ctx. 0, or -1 with a reason: fd already
 * watched, or refused by epoll (a regular file, a closed fd, the user's
 * watch limit). Panics on a negative fd, unknown mask bits or no cb.
 */
int event_fd_add(struct event_loop *loop, int fd, unsigned int mask,
    event_fd_fn cb, void *ctx, struct sbuf *why);
/*
 * Replaces the interest of a watched fd; readiness already reported in the
 * current batch is filtered by the new mask. 0, or -1 with a reason (the
 * watcher unchanged). Panics when fd is not watched or on unknown bits.
 */
int event_fd_modify(struct event_loop *loop, int fd, unsigned int mask,
    struct sbuf *why);
/*
 * Stops watching fd; its callback is not called again, not even for
 * readiness already reported in the current batch. Call it before closing
 * fd: epoll forgets a closed fd only once every duplicate of it (in this
 * or another process) is closed. Panics when fd is not watched.
 */
void event_fd_remove(struct event_loop *loop, int fd);

/*
 * Adds a one-shot timer due ms milliseconds from now (monotonic clock;
 * never early). Timers due at the same time fire in the order they were
 * added. The handle is valid until the timer is cancelled or until its
 * callback returns; a caller that keeps it clears its copy in the
 * callback (or cancels from the callback, which is allowed). Panics
 * without a cb.
 */
struct event_timer *event_timer_add(struct event_loop *loop,
    unsigned long ms, event_timer_fn cb, void *ctx);
/*
 * Cancels *t, if it has not fired, and sets *t to NULL; accepts NULL.
 * Allowed from any callback, including the timer's own (then a no-op
 * apart from clearing *t). Passing a handle whose timer has fired and
 * returned is a use after free.
 */
void event_timer_cancel(struct event_loop *loop, struct event_timer **t);

/*
 * Blocks signo and calls cb from the loop after it is delivered. 0, or -1
 * with a reason: a signal that cannot be caught (SIGKILL, SIGSTOP) or is
 * out of range, one already added, or a signalfd that cannot be made.
 * Panics without a cb.
 */
int event_signal_add(struct event_loop *loop, int signo, event_signal_fn cb,
    void *ctx, struct sbuf *why);
/*
 * Stops handling signo and unblocks it unless it was blocked before
 * event_signal_add(); a delivery still pending then takes the signal's
 * disposition. Panics when signo was not added.
 */
void event_signal_remove(struct event_loop *loop, int signo);

#endif
