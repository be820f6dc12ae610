/*
 * qmgr - what the queue manager's modules share
 *
 * qmgr is one SERVER_EVENT process. Its modules:
 *	qmgr.c		the daemon: start, wake-ups, timers
 *	qmgr_queue.c	the queue directories: incremental scans that move
 *			files from incoming/ and deferred/ into active/
 *			within qmgr_message_active_limit
 *	qmgr_message.c	a message in active/: its recipients' routes and
 *			results, and what becomes of it when nothing is
 *			left to try (removed, deferred/, notices)
 *	qmgr_sched.c	transports and destinations: jobs of recipients
 *			grouped per (transport, next hop), started within
 *			the concurrency limits; dead destinations
 *	qmgr_window.c	a destination's concurrency: slow start, back-off
 *	qmgr_deliver.c	one delivery: the request to an agent's socket
 *			and its reply, on the event loop
 *	dsn_log.c	the logs in defer/ and bounce/
 *	bounce.c	delivery status notifications: failures,
 *			deliveries, delays
 *
 * qmgr runs with the queue directory as its working directory, so every
 * queue path it builds is relative ("active/ID").
 */
#ifndef POSTERN_QMGR_H
#define POSTERN_QMGR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/queue.h>

#include "qmgr_window.h"

struct event_timer;
struct queue_file;

/* A message in active/, in memory while it has recipients to try. */
struct qmgr_message {
	char *id;
	struct queue_file *qf;	/* open for update */
	size_t jobs;		/* jobs queued or being delivered */
	size_t deferred;	/* recipients deferred in this pass */
	double active_since;	/* when it was taken into active/ */
	bool finishing;		/* no more jobs will be added */
	bool gone;		/* the admin took it out of active/ */
	TAILQ_ENTRY(qmgr_message) link;
};

/* When a delivery passed its stages, for delay= and delays= in logs. */
struct qmgr_times {
	double started;		/* the job left its queue */
	double connected;	/* the request reached the agent */
	double done;		/* the result came */
};

/* Some recipients of one message for one destination: one request. */
struct qmgr_job {
	struct qmgr_message *msg;
	struct qmgr_dest *dest;
	size_t *rcpts;		/* indexes into the queue file */
	size_t count;
	size_t cap;		/* of rcpts */
	TAILQ_ENTRY(qmgr_job) link;	/* in its destination's queue */
	/* While delivering. */
	int fd;
	struct event_timer *timer;
	struct qmgr_times times;
};

TAILQ_HEAD(qmgr_job_list, qmgr_job);

/* A (transport, next hop) pair, or for local-style transports a recipient. */
struct qmgr_dest {
	char *key;
	char *nexthop;
	struct qmgr_transport *transport;
	struct qmgr_window window;	/* concurrent deliveries */
	int active;
	struct qmgr_job_list jobs;
	bool ready;		/* in the transport's ready list */
	/* A dead destination takes no jobs until its timer ends that. */
	char *dead_dsn;		/* NULL while alive */
	char *dead_reason;
	struct event_timer *dead_timer;
	TAILQ_ENTRY(qmgr_dest) ready_link;
};

TAILQ_HEAD(qmgr_dest_list, qmgr_dest);

/* A delivery agent's service in master.cf. */
struct qmgr_transport {
	char *name;
	char *socket_path;	/* "private/NAME" */
	int limit;		/* concurrent deliveries, all destinations */
	int active;
	bool per_rcpt;		/* one recipient per request and destination */
	size_t rcpt_limit;	/* recipients per request */
	struct qmgr_dest_list ready;	/* with jobs and room */
	TAILQ_ENTRY(qmgr_transport) link;
};

/* Wall-clock time in seconds, with its fraction. */
double qmgr_now(void);

#endif
