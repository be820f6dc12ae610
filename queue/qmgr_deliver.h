/*
 * qmgr_deliver - one delivery: a request to an agent and its reply
 *
 * A job goes to its transport's socket (private/NAME) as one request
 * (deliver_req.h); the reply is read on the event loop. Every recipient
 * of the job gets a result: the agent's, or a deferral when the socket
 * is missing ("4.3.0 mail transport unavailable"), the agent fails or
 * stays silent past daemon_timeout, or its reply leaves the recipient
 * out.
 */
#ifndef POSTERN_QMGR_DELIVER_H
#define POSTERN_QMGR_DELIVER_H

struct params;
struct qmgr_job;

/* Keeps the timeouts of p. */
void qmgr_deliver_init(const struct params *p);

/*
 * Sends job to its agent. Its results go to its message and the job to
 * qmgr_sched_job_done(), maybe before this returns.
 */
void qmgr_deliver_start(struct qmgr_job *job);

#endif
