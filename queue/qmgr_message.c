/*
 * qmgr_message - a message in active/ and what becomes of it
 *
 * Errors: a file that fails on disk is logged with its queue id and left
 * where a later pass finds it again: a recipient whose failure cannot be
 * recorded stays pending (deferred), a notice that cannot be written
 * keeps its message in deferred/. Nothing is removed before what must
 * outlive it is on disk. Trust: queue files were checked by their reader;
 * results come from agents through deliver_req's checks.
 */
#include "qmgr_message.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bounce.h"
#include "mail/dsn_log.h"
#include "qmgr.h"
#include "qmgr_queue.h"
#include "qmgr_sched.h"
#include "mail/params.h"
#include "mail/queue_file.h"
#include "mail/resolve.h"
#include "util/htable.h"
#include "util/msg.h"
#include "util/sbuf.h"
#include "util/xmalloc.h"

static const struct params *message_params;
static struct resolver *message_resolver;
static struct htable *message_table;	/* id -> qmgr_message */

void
qmgr_message_init(const struct params *p, struct resolver *r)
{
	message_params = p;
	message_resolver = r;
	message_table = htable_new();
}

size_t
qmgr_message_count(void)
{
	return htable_size(message_table);
}

bool
qmgr_message_known(const char *id)
{
	return htable_find(message_table, id) != NULL;
}

/* "DIR/ID" in path. */
static const char *
message_path(struct sbuf *path, const char *dir, const char *id)
{
	sbuf_setf(path, "%s/%s", dir, id);
	return sbuf_str(path);
}

static void
message_free(struct qmgr_message *m)
{
	bool gone = m->gone;

	htable_delete(message_table, m->id, NULL);
	queue_file_close(&m->qf);
	free(m->id);
	free(m);
	qmgr_queue_room();
	/* The admin may have put it back in incoming/ or deferred/. */
	if (gone)
		qmgr_queue_wakeup();
}

/* Forgets m from now on; logs that once. */
static void
message_forget(struct qmgr_message *m)
{
	if (m->gone)
		return;
	m->gone = true;
	msg_info("%s: removed from the active queue by the administrator",
	    m->id);
}

bool
qmgr_message_gone(struct qmgr_message *m)
{
	struct sbuf *path;
	struct stat open_st, path_st;
	bool gone;

	if (m->gone || fstat(m->qf->fd, &open_st) < 0)
		return m->gone;
	path = sbuf_new();
	if (open_st.st_nlink == 0)
		gone = true;
	else if (stat(message_path(path, "active", m->id), &path_st) < 0)
		gone = errno == ENOENT;
	else
		gone = path_st.st_ino != open_st.st_ino ||
		    path_st.st_dev != open_st.st_dev;
	sbuf_free(&path);
	if (gone)
		message_forget(m);
	return m->gone;
}

/* Moves a file that is not a good queue file out of the way. */
static void
message_quarantine(const char *id, const char *why)
{
	struct sbuf *from = sbuf_new(), *to = sbuf_new();

	message_path(from, "active", id);
	message_path(to, "corrupt", id);
	if (rename(sbuf_str(from), sbuf_str(to)) < 0)
		msg_error("%s: damaged queue file (%s); cannot move it to "
		    "corrupt/: %m", id, why);
	else
		msg_warn("%s: damaged queue file (%s); moved to corrupt/",
		    id, why);
	sbuf_free(&from);
	sbuf_free(&to);
}

/*
 * active/ID could not be read as a queue file: gone (skipped), damaged
 * (quarantined), or not openable now, say for lack of descriptors (moved
 * to deferred/ for a later try).
 */
static void
message_unreadable(const char *id, const char *path, const char *why)
{
	struct sbuf *to = sbuf_new();
	struct stat st;
	int fd;

	if (lstat(path, &st) < 0) {
		if (errno != ENOENT)
			msg_warn("%s: %s", id, why);
	} else if (!S_ISREG(st.st_mode) ||
	    (fd = open(path, O_RDWR | O_CLOEXEC | O_NONBLOCK)) >= 0) {
		if (S_ISREG(st.st_mode))
			close(fd);
		message_quarantine(id, why);
	} else {
		msg_warn("%s: %s; will try again later", id, why);
		message_path(to, "deferred", id);
		if (rename(path, sbuf_str(to)) < 0)
			msg_error("%s: move to deferred/: %m", id);
		else
			qmgr_queue_deferred_at(time(NULL) +
			    message_params->minimal_backoff_time);
	}
	sbuf_free(&to);
}

/* Appends a delay in seconds: two decimals below 10, whole from 100. */
static void
message_delay(struct sbuf *out, double secs)
{
	if (secs < 0)
		secs = 0;
	sbuf_printf(out, "%.*f", secs < 10 ? 2 : secs < 100 ? 1 : 0, secs);
}

/* The address of an ORCPT to log as orig_to, or NULL when not worth it. */
static const char *
message_orig_to(const struct queue_rcpt *r)
{
	const char *semi;

	if (r->orcpt == NULL || (semi = strchr(r->orcpt, ';')) == NULL)
		return r->orcpt;
	if (strncasecmp(r->orcpt, "rfc822;", 7) != 0)
		return r->orcpt;
	semi++;
	while (*semi == ' ')
		semi++;
	return strcasecmp(semi, r->address) == 0 ? NULL : semi;
}

static void
message_log_result(struct qmgr_message *m, size_t rcpt, const char *status,
    const char *dsn, const char *reason, const char *relay,
    const struct qmgr_times *t)
{
	const struct queue_rcpt *r = &m->qf->rcpts[rcpt];
	const char *orig = message_orig_to(r);
	struct sbuf *line = sbuf_new();
	double now = qmgr_now(), arrival = (double)m->qf->arrival;
	double started = t != NULL ? t->started : now;
	double connected = t != NULL ? t->connected : now;
	double done = t != NULL ? t->done : now;

	sbuf_printf(line, "to=<%s>, ", r->address);
	if (orig != NULL)
		sbuf_printf(line, "orig_to=<%s>, ", orig);
	sbuf_printf(line, "relay=%s, delay=", relay);
	message_delay(line, done - arrival);
	sbuf_cat(line, ", delays=");
	message_delay(line, m->active_since - arrival);
	sbuf_catc(line, '/');
	message_delay(line, started - m->active_since);
	sbuf_catc(line, '/');
	message_delay(line, connected - started);
	sbuf_catc(line, '/');
	message_delay(line, done - connected);
	sbuf_printf(line, ", dsn=%s, status=%s (%s)", dsn, status, reason);
	msg_info("%s: %s", m->id, sbuf_str(line));
	sbuf_free(&line);
}

/* The address notices about m go to: its sender, or postmaster. */
static void
message_notice_rcpt(const struct qmgr_message *m, struct sbuf *out)
{
	if (m->qf->env.sender[0] != '\0')
		sbuf_set(out, m->qf->env.sender);
	else
		sbuf_setf(out, "%s@%s", BOUNCE_POSTMASTER,
		    message_params->myhostname);
}

/* True when recipient rcpt failing is to be reported. */
static bool
message_wants_failure(const struct qmgr_message *m, size_t rcpt)
{
	const struct queue_rcpt *r = &m->qf->rcpts[rcpt];
	struct sbuf *postmaster;
	bool to_postmaster;

	if ((r->notify & QUEUE_NOTIFY_NEVER) != 0 ||
	    (r->notify != 0 && (r->notify & QUEUE_NOTIFY_FAILURE) == 0))
		return false;
	if (m->qf->env.sender[0] != '\0')
		return true;
	/* A notice to postmaster that fails is not reported again. */
	postmaster = sbuf_new();
	message_notice_rcpt(m, postmaster);
	to_postmaster = strcasecmp(r->address, sbuf_str(postmaster)) == 0;
	sbuf_free(&postmaster);
	if (to_postmaster)
		msg_info("%s: to=<%s>: undeliverable notice to postmaster "
		    "dropped", m->id, r->address);
	return !to_postmaster;
}

/* Appends e to DIR/ID; 0, or -1 logged. */
static int
message_record(struct qmgr_message *m, const char *dir,
    const struct dsn_entry *e)
{
	struct sbuf *path = sbuf_new(), *why = sbuf_new();
	int ret;

	ret = dsn_log_append(message_path(path, dir, m->id), e, why);
	if (ret < 0)
		msg_warn("%s: %s", m->id, sbuf_str(why));
	sbuf_free(&path);
	sbuf_free(&why);
	return ret;
}

/* True when m has been queued longer than its lifetime. */
static bool
message_expired(const struct qmgr_message *m)
{
	long lifetime = m->qf->env.sender[0] == '\0' ?
	    message_params->bounce_queue_lifetime :
	    message_params->maximal_queue_lifetime;

	return time(NULL) - m->qf->arrival >= lifetime;
}

/* A failure: reported (when asked) and marked done, or else deferred. */
static void
message_fail(struct qmgr_message *m, size_t rcpt, const struct dsn_entry *e)
{
	struct sbuf *why = sbuf_new();

	if (message_wants_failure(m, rcpt) &&
	    message_record(m, "bounce", e) < 0) {
		m->deferred++;
	} else if (queue_file_mark_done(m->qf, rcpt, why) < 0) {
		msg_warn("%s: %s", m->id, sbuf_str(why));
		m->deferred++;
	}
	sbuf_free(&why);
}

void
qmgr_message_result(struct qmgr_message *m, size_t rcpt,
    enum deliver_status status, const char *dsn, const char *reason,
    const char *relay, const char *diag, const char *mta,
    const struct qmgr_times *t)
{
	struct sbuf *text = sbuf_new();
	struct dsn_entry e = {
		.rcpt = rcpt, .dsn = dsn, .when = time(NULL), .reason = reason,
		.diag = diag, .mta = mta,
	};

	/* A delivery happened and is logged; nothing else is recorded. */
	if (m->gone && status != DELIVER_SENT)
		goto out;
	switch (status) {
	case DELIVER_SENT:
		message_log_result(m, rcpt, "sent", dsn, reason, relay, t);
		if (m->qf->env.sender[0] != '\0' &&
		    (m->qf->rcpts[rcpt].notify & QUEUE_NOTIFY_SUCCESS) != 0) {
			e.action = DSN_ACTION_DELIVERED;
			message_record(m, "bounce", &e);
		}
		break;
	case DELIVER_DEFERRED:
		if (message_expired(m)) {
			sbuf_setf(text, "delivery time expired: %s", reason);
			message_log_result(m, rcpt, "bounced", dsn,
			    sbuf_str(text), relay, t);
			e.reason = sbuf_str(text);
			e.action = DSN_ACTION_FAILED;
			message_fail(m, rcpt, &e);
			break;
		}
		message_log_result(m, rcpt, "deferred", dsn, reason, relay, t);
		e.action = DSN_ACTION_DELAYED;
		message_record(m, "defer", &e);
		m->deferred++;
		break;
	case DELIVER_BOUNCED:
		message_log_result(m, rcpt, "bounced", dsn, reason, relay, t);
		e.action = DSN_ACTION_FAILED;
		message_fail(m, rcpt, &e);
		break;
	}
out:
	sbuf_free(&text);
}

/*
 * Moves m to deferred/ with its next try as the modification time: its
 * age, at least minimal_backoff_time and at most maximal_backoff_time,
 * from now.
 */
static void
message_defer(struct qmgr_message *m)
{
	struct sbuf *from = sbuf_new(), *to = sbuf_new();
	time_t now = time(NULL);
	long wait = (long)(now - m->qf->arrival);
	struct timespec times[2];

	if (wait > message_params->maximal_backoff_time)
		wait = message_params->maximal_backoff_time;
	if (wait < message_params->minimal_backoff_time)
		wait = message_params->minimal_backoff_time;
	times[0].tv_sec = now;
	times[0].tv_nsec = 0;
	times[1].tv_sec = now + wait;
	times[1].tv_nsec = 0;
	message_path(from, "active", m->id);
	message_path(to, "deferred", m->id);
	if (utimensat(AT_FDCWD, sbuf_str(from), times, 0) < 0 &&
	    errno != ENOENT)
		msg_warn("%s: set next try time: %m", m->id);
	if (rename(sbuf_str(from), sbuf_str(to)) < 0) {
		if (errno == ENOENT)
			message_forget(m);
		else
			msg_error("%s: move to deferred/: %m; it stays in "
			    "active/ until qmgr restarts", m->id);
	} else
		qmgr_queue_deferred_at(now + wait);
	sbuf_free(&from);
	sbuf_free(&to);
}

/* Sends the notice bounce/ID asks for; 0 (also when none), or -1. */
static int
message_notify(struct qmgr_message *m)
{
	struct sbuf *path = sbuf_new(), *why = sbuf_new();
	struct sbuf *rcpt = sbuf_new(), *id = sbuf_new();
	struct dsn_log *log = NULL;
	struct bounce_notice n;
	int ret = -1;

	if (dsn_log_read(message_path(path, "bounce", m->id),
	    m->qf->rcpt_count, &log, why) < 0) {
		msg_warn("%s: %s", m->id, sbuf_str(why));
		goto out;
	}
	if (log->count > 0) {
		message_notice_rcpt(m, rcpt);
		memset(&n, 0, sizeof(n));
		n.qf = m->qf;
		n.log = log;
		n.myhostname = message_params->myhostname;
		n.recipient = sbuf_str(rcpt);
		n.now = time(NULL);
		n.size_limit = message_params->message_size_limit;
		if (bounce_send(".", &n, id, why) != QUEUE_WRITE_OK) {
			msg_warn("%s: cannot write the delivery status "
			    "notification: %s", m->id, sbuf_str(why));
			goto out;
		}
		msg_info("%s: delivery status notification: %s",
		    m->id, sbuf_str(id));
		qmgr_queue_wakeup();
	}
	if (unlink(sbuf_str(path)) < 0 && errno != ENOENT) {
		msg_warn("%s: remove %s: %m", m->id, sbuf_str(path));
		goto out;
	}
	ret = 0;
out:
	dsn_log_free(&log);
	sbuf_free(&path);
	sbuf_free(&why);
	sbuf_free(&rcpt);
	sbuf_free(&id);
	return ret;
}

/*
 * m is deferred past delay_warning_time: tells its sender, once, which
 * recipients still wait and why (those deferred in this pass whose
 * NOTIFY allows it), and records that in defer/ID.
 */
static void
message_warn_delay(struct qmgr_message *m)
{
	const struct queue_file *qf = m->qf;
	struct sbuf *path = sbuf_new(), *why = sbuf_new(), *id = sbuf_new();
	struct dsn_log *log = NULL, waiting = { 0 };
	struct bounce_notice n;

	if (message_params->delay_warning_time <= 0 ||
	    qf->env.sender[0] == '\0' ||
	    time(NULL) - qf->arrival < message_params->delay_warning_time)
		goto out;
	if (dsn_log_read(message_path(path, "defer", m->id), qf->rcpt_count,
	    &log, why) < 0) {
		msg_warn("%s: %s", m->id, sbuf_str(why));
		goto out;
	}
	if (log->warned != 0 || log->count == 0)
		goto out;
	waiting.entries = xreallocarray(NULL, log->count,
	    sizeof(*waiting.entries));
	for (size_t i = 0; i < log->count; i++) {
		const struct dsn_entry *e = &log->entries[i];
		int notify = qf->rcpts[e->rcpt].notify;

		if (e->action == DSN_ACTION_DELAYED &&
		    e->when >= (time_t)m->active_since &&
		    (notify == 0 || (notify & QUEUE_NOTIFY_DELAY) != 0))
			waiting.entries[waiting.count++] = *e;
	}
	if (waiting.count == 0)
		goto out;
	memset(&n, 0, sizeof(n));
	n.qf = m->qf;
	n.log = &waiting;
	n.myhostname = message_params->myhostname;
	n.recipient = qf->env.sender;
	n.now = time(NULL);
	n.size_limit = message_params->message_size_limit;
	if (bounce_send(".", &n, id, why) != QUEUE_WRITE_OK) {
		msg_warn("%s: cannot write the delay notification: %s",
		    m->id, sbuf_str(why));
		goto out;
	}
	msg_info("%s: delay notification: %s", m->id, sbuf_str(id));
	if (dsn_log_append_warned(sbuf_str(path), n.now, why) < 0)
		msg_warn("%s: %s", m->id, sbuf_str(why));
	qmgr_queue_wakeup();
out:
	free(waiting.entries);
	dsn_log_free(&log);
	sbuf_free(&path);
	sbuf_free(&why);
	sbuf_free(&id);
}

/* Every recipient is done: the notice, then the files go. */
static void
message_remove(struct qmgr_message *m)
{
	struct sbuf *path = sbuf_new(), *why = sbuf_new();

	if (message_notify(m) < 0) {
		message_defer(m);
		goto out;
	}
	if (queue_file_retire(".", message_path(path, "active", m->id),
	    why) < 0) {
		msg_error("%s: %s", m->id, sbuf_str(why));
		goto out;
	}
	if (unlink(message_path(path, "defer", m->id)) < 0 &&
	    errno != ENOENT)
		msg_warn("%s: remove %s: %m", m->id, sbuf_str(path));
	msg_info("%s: removed", m->id);
out:
	sbuf_free(&path);
	sbuf_free(&why);
}

/* Nothing more to try in this pass. */
static void
message_finish(struct qmgr_message *m)
{
	if (!qmgr_message_gone(m)) {
		if (m->deferred > 0) {
			message_warn_delay(m);
			message_defer(m);
		} else
			message_remove(m);
	}
	message_free(m);
}

void
qmgr_message_job_done(struct qmgr_message *m)
{
	if (--m->jobs == 0 && m->finishing)
		message_finish(m);
}

/* Routes recipient i of m and queues it, or defers it at once. */
static void
message_route(struct qmgr_message *m, size_t i, struct sbuf *transport,
    struct sbuf *nexthop, struct sbuf *dsn, struct sbuf *why)
{
	const char *addr = m->qf->rcpts[i].address;

	sbuf_reset(why);
	if (resolve_route(message_resolver, addr, transport, nexthop,
	    why) != RESOLVE_OK) {
		sbuf_setf(transport, "address resolution failed: %s",
		    sbuf_str(why));
		qmgr_message_result(m, i, DELIVER_DEFERRED, "4.3.0",
		    sbuf_str(transport), "none", NULL, NULL, NULL);
		return;
	}
	if (qmgr_sched_add(m, i, addr, sbuf_str(transport),
	    sbuf_str(nexthop), dsn, why) < 0)
		qmgr_message_result(m, i, DELIVER_DEFERRED, sbuf_str(dsn),
		    sbuf_str(why), "none", NULL, NULL, NULL);
}

void
qmgr_message_admit(const char *id, bool log_from)
{
	struct sbuf *path = sbuf_new(), *why = sbuf_new();
	struct sbuf *transport = sbuf_new(), *nexthop = sbuf_new();
	struct sbuf *dsn = sbuf_new();
	struct queue_file *qf;
	struct qmgr_message *m;

	if (qmgr_message_known(id))
		goto out;
	message_path(path, "active", id);
	if ((qf = queue_file_open(sbuf_str(path), QUEUE_OPEN_UPDATE,
	    why)) == NULL) {
		message_unreadable(id, sbuf_str(path), sbuf_str(why));
		goto out;
	}
	m = xcalloc(1, sizeof(*m));
	m->id = xstrdup(id);
	m->qf = qf;
	m->active_since = qmgr_now();
	htable_insert(message_table, m->id, m);
	if (log_from)
		msg_info("%s: from=<%s>, size=%lld, nrcpt=%zu (queue active)",
		    id, qf->env.sender, (long long)qf->content_size,
		    qf->rcpt_count);
	for (size_t i = 0; i < qf->rcpt_count; i++)
		if (!qf->rcpts[i].done)
			message_route(m, i, transport, nexthop, dsn, why);
	m->finishing = true;
	if (m->jobs == 0)
		message_finish(m);
	else
		qmgr_sched_run();
out:
	sbuf_free(&path);
	sbuf_free(&why);
	sbuf_free(&transport);
	sbuf_free(&nexthop);
	sbuf_free(&dsn);
}
