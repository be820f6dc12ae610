/*
 * qmgr_sched - transports, destinations and the jobs waiting for them
 *
 * Errors: a transport name that could leave private/ is refused with a
 * reason; an unreadable master.cf is logged once and the limits fall
 * back to default_process_limit. A destination stays in memory while it
 * has jobs, deliveries or a suspension, and no longer. Trust: routes
 * come from the resolver, that is from the admin's tables.
 */
#include "qmgr_sched.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qmgr.h"
#include "qmgr_deliver.h"
#include "qmgr_message.h"
#include "mail/deliver_req.h"
#include "mail/master_cf.h"
#include "mail/params.h"
#include "mail/server.h"
#include "util/event.h"
#include "util/htable.h"
#include "util/msg.h"
#include "util/sbuf.h"
#include "util/strutil.h"
#include "util/xmalloc.h"

static const struct params *sched_params;
static struct master_cf *sched_master_cf;
static struct htable *sched_transports;	/* name -> qmgr_transport */
static struct htable *sched_dests;	/* key -> qmgr_dest */
static TAILQ_HEAD(, qmgr_transport) sched_transport_list =
    TAILQ_HEAD_INITIALIZER(sched_transport_list);
static bool sched_running, sched_again;

void
qmgr_sched_init(const struct params *p)
{
	struct sbuf *why = sbuf_new();

	sched_params = p;
	sched_transports = htable_new();
	sched_dests = htable_new();
	sched_master_cf = master_cf_load(p->config_directory,
	    p->default_process_limit, why);
	if (sched_master_cf == NULL)
		msg_warn("%s; every transport takes default_process_limit "
		    "(%ld) deliveries at once", sbuf_str(why),
		    p->default_process_limit);
	sbuf_free(&why);
}

/* True for a master.cf service name that stays inside private/. */
static bool
sched_name_ok(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > MASTER_NAME_MAX || name[0] == '.')
		return false;
	for (const char *s = name; *s != '\0'; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') &&
		    !(*s >= '0' && *s <= '9') && *s != '-' && *s != '_' &&
		    *s != '.')
			return false;
	return true;
}

static struct qmgr_transport *
sched_transport(const char *name)
{
	const struct master_service *svc = NULL;
	struct qmgr_transport *t = htable_find(sched_transports, name);

	if (t != NULL)
		return t;
	t = xcalloc(1, sizeof(*t));
	t->name = xstrdup(name);
	t->socket_path = xmalloc(strlen(name) + sizeof("private/"));
	snprintf(t->socket_path, strlen(name) + sizeof("private/"),
	    "private/%s", name);
	if (sched_master_cf != NULL)
		svc = master_cf_find(sched_master_cf, name, MASTER_UNIX);
	t->limit = svc != NULL && svc->maxproc > 0 ? svc->maxproc :
	    (int)sched_params->default_process_limit;
	if (t->limit < 1)
		t->limit = 1;
	t->per_rcpt = strcmp(name, sched_params->local_transport) == 0 ||
	    strcmp(name, sched_params->virtual_transport) == 0;
	t->rcpt_limit = t->per_rcpt ? 1 :
	    sched_params->default_destination_recipient_limit < 1 ? 1 :
	    sched_params->default_destination_recipient_limit >
	    DELIVER_RCPT_MAX ? DELIVER_RCPT_MAX :
	    (size_t)sched_params->default_destination_recipient_limit;
	TAILQ_INIT(&t->ready);
	htable_insert(sched_transports, name, t);
	TAILQ_INSERT_TAIL(&sched_transport_list, t, link);
	return t;
}

static void
sched_window_init(struct qmgr_dest *d)
{
	const struct params *p = sched_params;

	qmgr_window_init(&d->window, p->initial_destination_concurrency,
	    d->transport->per_rcpt ? p->local_destination_concurrency_limit :
	    p->default_destination_concurrency_limit,
	    p->destination_concurrency_failed_cohort_limit);
}

static struct qmgr_dest *
sched_dest(struct qmgr_transport *t, const char *address,
    const char *nexthop)
{
	struct sbuf *key = sbuf_new();
	struct qmgr_dest *d;

	sbuf_printf(key, "%s\t%s", t->name, nexthop);
	if (t->per_rcpt)
		sbuf_printf(key, "\t%s", address);
	str_lower(key->data);
	if ((d = htable_find(sched_dests, sbuf_str(key))) == NULL) {
		d = xcalloc(1, sizeof(*d));
		d->key = sbuf_steal(key);
		d->nexthop = xstrdup(nexthop);
		d->transport = t;
		sched_window_init(d);
		TAILQ_INIT(&d->jobs);
		htable_insert(sched_dests, d->key, d);
	}
	sbuf_free(&key);
	return d;
}

/* Puts d in or out of its transport's ready list as its state says. */
static void
sched_update_ready(struct qmgr_dest *d)
{
	bool ready = !TAILQ_EMPTY(&d->jobs) && d->dead_dsn == NULL &&
	    d->active < qmgr_window_room(&d->window);

	if (ready == d->ready)
		return;
	if (ready)
		TAILQ_INSERT_TAIL(&d->transport->ready, d, ready_link);
	else
		TAILQ_REMOVE(&d->transport->ready, d, ready_link);
	d->ready = ready;
}

/* Frees d when nothing keeps it: no job, no delivery, no suspension. */
static void
sched_dest_release(struct qmgr_dest *d)
{
	if (!TAILQ_EMPTY(&d->jobs) || d->active > 0 || d->dead_dsn != NULL)
		return;
	htable_delete(sched_dests, d->key, NULL);
	free(d->key);
	free(d->nexthop);
	free(d);
}

/* Frees a job that is over; its message, not told yet. */
static struct qmgr_message *
sched_job_drop(struct qmgr_job *job)
{
	struct qmgr_message *m = job->msg;

	free(job->rcpts);
	free(job);
	return m;
}

/* Frees a job that is over, and tells its message. */
static void
sched_job_free(struct qmgr_job *job)
{
	qmgr_message_job_done(sched_job_drop(job));
}

/* The suspension of d is over: it starts afresh. */
static void
sched_on_revive(struct event_loop *loop, void *ctx)
{
	struct qmgr_dest *d = ctx;

	(void)loop;
	d->dead_timer = NULL;
	free(d->dead_dsn);
	free(d->dead_reason);
	d->dead_dsn = d->dead_reason = NULL;
	sched_window_init(d);
	sched_update_ready(d);
	sched_dest_release(d);
	qmgr_sched_run();
}

/*
 * d is dead: no request goes to it for minimal_backoff_time, and the
 * jobs waiting for it are deferred with the reason.
 */
static void
sched_suspend(struct qmgr_dest *d, const char *dsn, const char *reason)
{
	struct sbuf *text = sbuf_new();
	struct qmgr_job *job;
	long secs = sched_params->minimal_backoff_time;

	d->dead_dsn = xstrdup(dsn);
	d->dead_reason = xstrdup(reason);
	d->dead_timer = event_timer_add(server_event_loop(),
	    (unsigned long)secs * 1000, sched_on_revive, d);
	msg_info("transport %s, destination %s: suspended for %lds: %s",
	    d->transport->name, d->nexthop, secs, reason);
	sched_update_ready(d);
	sbuf_setf(text, "delivery temporarily suspended: %s", reason);
	while ((job = TAILQ_FIRST(&d->jobs)) != NULL) {
		TAILQ_REMOVE(&d->jobs, job, link);
		for (size_t i = 0; i < job->count; i++)
			qmgr_message_result(job->msg, job->rcpts[i],
			    DELIVER_DEFERRED, dsn, sbuf_str(text), "none",
			    NULL, NULL, NULL);
		sched_job_free(job);
	}
	sbuf_free(&text);
}

/*
 * What reply says of d: a result other than a deferral reached it; all
 * deferred with 4.4.x means it could not be reached. Other replies, and
 * no reply (the agent failed), tell nothing of d.
 */
static void
sched_feedback(struct qmgr_dest *d, const struct deliver_reply *reply)
{
	if (reply == NULL || reply->count == 0 || d->dead_dsn != NULL)
		return;
	for (size_t i = 0; i < reply->count; i++)
		if (reply->results[i].status != DELIVER_DEFERRED) {
			qmgr_window_success(&d->window);
			return;
		}
	for (size_t i = 0; i < reply->count; i++)
		if (strncmp(reply->results[i].dsn, "4.4.", 4) != 0)
			return;
	if (qmgr_window_failure(&d->window))
		sched_suspend(d, reply->results[0].dsn,
		    reply->results[0].reason);
}

int
qmgr_sched_add(struct qmgr_message *m, size_t rcpt, const char *address,
    const char *transport, const char *nexthop, struct sbuf *dsn,
    struct sbuf *why)
{
	struct qmgr_transport *t;
	struct qmgr_dest *d;
	struct qmgr_job *job;

	if (!sched_name_ok(transport)) {
		sbuf_set(dsn, "4.3.5");
		sbuf_setf(why, "bad transport name \"%s\"", transport);
		return -1;
	}
	t = sched_transport(transport);
	d = sched_dest(t, address, nexthop);
	if (d->dead_dsn != NULL) {
		sbuf_set(dsn, d->dead_dsn);
		sbuf_setf(why, "delivery temporarily suspended: %s",
		    d->dead_reason);
		return -1;
	}
	job = TAILQ_LAST(&d->jobs, qmgr_job_list);
	if (job == NULL || job->msg != m || job->count == t->rcpt_limit) {
		job = xcalloc(1, sizeof(*job));
		job->msg = m;
		job->dest = d;
		job->fd = -1;
		TAILQ_INSERT_TAIL(&d->jobs, job, link);
		m->jobs++;
	}
	if (job->count == job->cap) {
		job->cap = job->cap == 0 ? 1 : 2 * job->cap;
		if (job->cap > t->rcpt_limit)
			job->cap = t->rcpt_limit;
		job->rcpts = xreallocarray(job->rcpts, job->cap,
		    sizeof(*job->rcpts));
	}
	job->rcpts[job->count++] = rcpt;
	sched_update_ready(d);
	return 0;
}

void
qmgr_sched_run(void)
{
	struct qmgr_transport *t;

	if (sched_running) {
		sched_again = true;
		return;
	}
	sched_running = true;
	do {
		sched_again = false;
		TAILQ_FOREACH(t, &sched_transport_list, link) {
			while (t->active < t->limit &&
			    !TAILQ_EMPTY(&t->ready)) {
				struct qmgr_dest *d = TAILQ_FIRST(&t->ready);
				struct qmgr_job *job = TAILQ_FIRST(&d->jobs);

				TAILQ_REMOVE(&d->jobs, job, link);
				/* Round robin: d goes to the back. */
				TAILQ_REMOVE(&t->ready, d, ready_link);
				d->ready = false;
				if (qmgr_message_gone(job->msg)) {
					sched_job_free(job);
					sched_update_ready(d);
					sched_dest_release(d);
					continue;
				}
				d->active++;
				t->active++;
				sched_update_ready(d);
				job->times.started = qmgr_now();
				qmgr_deliver_start(job);
			}
		}
	} while (sched_again);
	sched_running = false;
}

void
qmgr_sched_job_done(struct qmgr_job *job, const struct deliver_reply *reply)
{
	struct qmgr_dest *d = job->dest;
	struct qmgr_message *m = sched_job_drop(job);

	d->active--;
	d->transport->active--;
	sched_feedback(d, reply);
	sched_update_ready(d);
	sched_dest_release(d);
	/*
	 * The next deliveries start before the job's message hears of it
	 * and is perhaps finished (its files removed, its notices written):
	 * the agents do not wait on that. The job still counts in the
	 * message meanwhile, so the message outlives this first run.
	 * Finishing may make room for more, hence the second run.
	 */
	qmgr_sched_run();
	qmgr_message_job_done(m);
	qmgr_sched_run();
}
