/*
 * qmgr_sched - transports, destinations and the jobs waiting for them
 *
 * Each recipient to try goes into a job of its destination: the pair
 * (transport, next hop), where consecutive recipients of one message
 * share a job of up to default_destination_recipient_limit recipients
 * (at most DELIVER_RCPT_MAX). The transports named by local_transport
 * and virtual_transport are per recipient: one recipient per job, and
 * the destination is the recipient itself, so local_destination_
 * concurrency_limit bounds deliveries to one mailbox. Other destinations
 * take up to default_destination_concurrency_limit deliveries at once,
 * reached by slow start (qmgr_window.h); all of a transport's
 * destinations together take at most the transport's process limit in
 * master.cf (its maxproc, or default_process_limit when it has none or
 * is not there).
 *
 * Jobs start in the order they were queued within a destination, and
 * destinations with room take turns within their transport. A job whose
 * message the admin took out of active/ is dropped when its turn comes.
 *
 * A destination whose deliveries keep failing to reach it is dead for
 * minimal_backoff_time ("transport T, destination D: suspended for Ns:
 * REASON" in the log): its queued jobs and every recipient routed to it
 * meanwhile are deferred at once with "delivery temporarily suspended:
 * REASON", and no request goes to it. Then it starts afresh.
 */
#ifndef POSTERN_QMGR_SCHED_H
#define POSTERN_QMGR_SCHED_H

#include <stddef.h>

struct deliver_reply;
struct params;
struct qmgr_job;
struct qmgr_message;
struct sbuf;

/* Reads the process limits of master.cf in config_directory. */
void qmgr_sched_init(const struct params *p);

/*
 * Queues recipient rcpt of m (address: its address) for transport and
 * nexthop. 0, or -1 with a status code in dsn and a reason when
 * transport is no service name or the destination is dead: the
 * recipient is then to be deferred.
 */
int qmgr_sched_add(struct qmgr_message *m, size_t rcpt, const char *address,
    const char *transport, const char *nexthop, struct sbuf *dsn,
    struct sbuf *why);

/* Starts the jobs that the limits allow. */
void qmgr_sched_run(void);

/*
 * A job's delivery is over and its results applied: frees it, learns
 * from the agent's reply (NULL when there was none) how its destination
 * fares, gives its place to the next job, and tells its message.
 */
void qmgr_sched_job_done(struct qmgr_job *job,
    const struct deliver_reply *reply);

#endif
