/*
 * qmgr_message - a message in active/ and what becomes of it
 *
 * Taking a message in: its queue file is opened for update, logged the
 * first time ("ID: from=<S>, size=N, nrcpt=N (queue active)"), and each
 * pending
 * recipient is routed (resolve_route()) and queued for delivery.
 *
 * Each recipient's result is logged ("ID: to=<R>, orig_to=<O>,
 * relay=X, delay=D, delays=a/b/c/d, dsn=X.Y.Z, status=S (reason)",
 * delays being the time before qmgr, in qmgr, connecting to the agent
 * and delivering) and recorded:
 *	sent		the agent marked it done; a delivery the sender asked
 *			to hear about (NOTIFY=SUCCESS) goes to bounce/ID
 *	deferred	the reason goes to defer/ID; past maximal_queue_
 *			lifetime (bounce_queue_lifetime for the null sender)
 *			the recipient is bounced instead
 *	bounced		the failure goes to bounce/ID (unless NOTIFY says
 *			otherwise), then the recipient is marked done
 * When a message has no job left:
 *	- with recipients deferred it moves to deferred/ to be tried again
 *	  after its back-off (its age, from minimal_backoff_time to
 *	  maximal_backoff_time, so waits double), the time of the next try
 *	  being the file's modification time; once the message is older
 *	  than delay_warning_time (when not 0) the sender is told, once, of
 *	  the recipients that wait (NOTIFY=DELAY, or no NOTIFY);
 *	- else, when bounce/ID holds entries, the notice is sent (to the
 *	  sender; for the null sender to postmaster@myhostname, and a notice
 *	  to postmaster that fails is dropped), then bounce/ID, the queue
 *	  file and defer/ID are removed ("ID: removed"), in that order, so
 *	  that a crash repeats a notice at most once.
 *
 * The admin (postern-queue) may delete active/ID or rename it away (to
 * hold/, incoming/, deferred/) while the message is in memory. Before a
 * job starts, when its results come and before the message is moved or
 * removed, qmgr checks that active/ID is still the file it opened; once
 * it is not, the message is forgotten: "ID: removed from the active
 * queue by the administrator" is logged once, results other than
 * deliveries are no longer recorded, its jobs are dropped, and its
 * files (wherever they are now, and defer/ID, bounce/ID) are left to
 * the admin's tool.
 */
#ifndef POSTERN_QMGR_MESSAGE_H
#define POSTERN_QMGR_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "mail/deliver_req.h"

struct params;
struct qmgr_message;
struct qmgr_times;
struct resolver;

/* Keeps p and the resolver r for routing. */
void qmgr_message_init(const struct params *p, struct resolver *r);

/* The number of messages in memory. */
size_t qmgr_message_count(void);

/* True when the message id is in memory. */
bool qmgr_message_known(const char *id);

/*
 * Takes active/ID in and queues its recipients; logs its from= line when
 * log_from (the message is new: not back from deferred/). A file that
 * cannot be read as a queue file is moved to corrupt/ with a warning;
 * one that is gone is skipped.
 */
void qmgr_message_admit(const char *id, bool log_from);

/*
 * Records the result of recipient rcpt of m, as described above; t may
 * be NULL (a result found before any delivery). diag and mta may be NULL.
 */
void qmgr_message_result(struct qmgr_message *m, size_t rcpt,
    enum deliver_status status, const char *dsn, const char *reason,
    const char *relay, const char *diag, const char *mta,
    const struct qmgr_times *t);

/*
 * True when active/ID is no longer the file m has open (see above);
 * logs that the first time.
 */
bool qmgr_message_gone(struct qmgr_message *m);

/* One of m's jobs is over; the last one finishes the message. */
void qmgr_message_job_done(struct qmgr_message *m);

#endif
