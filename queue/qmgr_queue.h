/*
 * qmgr_queue - the queue directories as qmgr walks them
 *
 * Messages enter memory from three directories, never more than the
 * active limit at once (qmgr_message_active_limit, lowered to what the
 * descriptor limit allows): active/ once at start (what a crash left
 * there), then incoming/ (renamed into active/ on each wake-up) and
 * deferred/ (files whose next try, their modification time, has come;
 * every queue_run_delay, at the next try time a deferral asked for, and
 * all of them at once on a flush). Directories are read incrementally,
 * a bounded batch at a time from the event loop, so a queue of any size
 * costs memory only for the messages taken in.
 *
 * incoming/ also holds the temporary files of writers (tmp.*). A writer
 * lives at most daemon_timeout (the skeleton's watchdog kills it then),
 * so a temporary file not modified for longer than that was abandoned
 * by a writer that died, and is removed.
 */
#ifndef POSTERN_QMGR_QUEUE_H
#define POSTERN_QMGR_QUEUE_H

#include <time.h>

struct params;

/* Starts with a scan of active/, then incoming/ and deferred/. */
void qmgr_queue_init(const struct params *p, long active_limit);

/* New mail: scans incoming/ again. */
void qmgr_queue_wakeup(void);

/* Flush: every file in deferred/ now, and incoming/. */
void qmgr_queue_flush(void);

/* A message left memory: room for the next. */
void qmgr_queue_room(void);

/* A message went to deferred/ until due: scans deferred/ by then. */
void qmgr_queue_deferred_at(time_t due);

#endif
