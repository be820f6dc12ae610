/*
 * qmgr_queue - the queue directories as qmgr walks them
 *
 * Errors: a directory that cannot be read is logged and tried again on
 * the next wake-up; a file that vanishes under the scan (postern-queue
 * deleted it) is skipped. Trust: file names are checked with
 * queue_id_valid() before they become paths.
 */
#include "qmgr_queue.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qmgr_message.h"
#include "mail/params.h"
#include "mail/queue_file.h"
#include "mail/queue_id.h"
#include "mail/server.h"
#include "util/event.h"
#include "util/msg.h"
#include "util/sbuf.h"
#include "util/strutil.h"

#define QUEUE_BATCH	200	/* directory entries per turn of the loop */

enum queue_scan_id {
	SCAN_ACTIVE,
	SCAN_INCOMING,
	SCAN_DEFERRED,
	SCAN_COUNT
};

struct queue_scan {
	const char *dir;
	DIR *d;			/* open while the scan runs */
	bool wanted;		/* a scan is to start (again) */
	bool flush_wanted;	/* ... taking every file */
	bool flush;		/* the running scan takes every file */
};

static struct queue_scan queue_scans[SCAN_COUNT] = {
	[SCAN_ACTIVE] = { .dir = "active" },
	[SCAN_INCOMING] = { .dir = "incoming" },
	[SCAN_DEFERRED] = { .dir = "deferred" },
};
static const struct params *queue_params;
static size_t queue_limit;
static struct event_timer *queue_feed_timer;
static struct event_timer *queue_deferred_timer;
static time_t queue_deferred_due;	/* when that timer fires */

static void queue_feed(struct event_loop *loop, void *ctx);

/* Runs the feed from the loop, once, as soon as it can. */
static void
queue_feed_soon(void)
{
	if (queue_feed_timer == NULL)
		queue_feed_timer = event_timer_add(server_event_loop(), 0,
		    queue_feed, NULL);
}

static void
queue_on_deferred_timer(struct event_loop *loop, void *ctx)
{
	(void)loop;
	(void)ctx;
	queue_deferred_timer = NULL;
	queue_scans[SCAN_DEFERRED].wanted = true;
	qmgr_queue_deferred_at(time(NULL) + queue_params->queue_run_delay);
	queue_feed_soon();
}

void
qmgr_queue_deferred_at(time_t due)
{
	time_t now = time(NULL);

	if (queue_deferred_timer != NULL && queue_deferred_due <= due)
		return;
	event_timer_cancel(server_event_loop(), &queue_deferred_timer);
	queue_deferred_due = due;
	queue_deferred_timer = event_timer_add(server_event_loop(),
	    due > now ? (unsigned long)(due - now) * 1000 : 0,
	    queue_on_deferred_timer, NULL);
}

void
qmgr_queue_init(const struct params *p, long active_limit)
{
	queue_params = p;
	queue_limit = active_limit > 0 ? (size_t)active_limit : 1;
	queue_scans[SCAN_ACTIVE].wanted = true;
	queue_scans[SCAN_INCOMING].wanted = true;
	queue_scans[SCAN_DEFERRED].wanted = true;
	qmgr_queue_deferred_at(time(NULL) + p->queue_run_delay);
	queue_feed_soon();
}

void
qmgr_queue_wakeup(void)
{
	queue_scans[SCAN_INCOMING].wanted = true;
	queue_feed_soon();
}

void
qmgr_queue_flush(void)
{
	queue_scans[SCAN_DEFERRED].wanted = true;
	queue_scans[SCAN_DEFERRED].flush_wanted = true;
	qmgr_queue_wakeup();
}

void
qmgr_queue_room(void)
{
	queue_feed_soon();
}

/* Removes a temporary file whose writer has been gone long enough. */
static void
queue_clean_tmp(const char *name)
{
	struct sbuf *path = sbuf_new();
	struct stat st;

	sbuf_setf(path, "incoming/%s", name);
	if (lstat(sbuf_str(path), &st) == 0 && S_ISREG(st.st_mode) &&
	    time(NULL) - st.st_mtime > queue_params->daemon_timeout) {
		if (unlink(sbuf_str(path)) == 0)
			msg_info("removed abandoned temporary file %s",
			    sbuf_str(path));
		else if (errno != ENOENT)
			msg_warn("remove %s: %m", sbuf_str(path));
	}
	sbuf_free(&path);
}

/* Takes name from dir into active/ (unless it is there) and admits it. */
static void
queue_take(struct queue_scan *s, const char *name)
{
	struct sbuf *from = sbuf_new(), *to = sbuf_new();
	struct stat st;

	if (s != &queue_scans[SCAN_ACTIVE]) {
		sbuf_setf(from, "%s/%s", s->dir, name);
		sbuf_setf(to, "active/%s", name);
		if (s == &queue_scans[SCAN_DEFERRED] && !s->flush) {
			if (stat(sbuf_str(from), &st) < 0)
				goto out;
			if (st.st_mtime > time(NULL)) {
				qmgr_queue_deferred_at(st.st_mtime);
				goto out;
			}
		}
		if (rename(sbuf_str(from), sbuf_str(to)) < 0) {
			if (errno != ENOENT)
				msg_warn("move %s to active/: %m",
				    sbuf_str(from));
			goto out;
		}
	}
	qmgr_message_admit(name, s != &queue_scans[SCAN_DEFERRED]);
out:
	sbuf_free(&from);
	sbuf_free(&to);
}

/* One directory entry of scan s. */
static void
queue_entry(struct queue_scan *s, const char *name)
{
	if (s == &queue_scans[SCAN_INCOMING] &&
	    str_starts(name, QUEUE_TMP_PREFIX)) {
		queue_clean_tmp(name);
		return;
	}
	if (!queue_id_valid(name) || qmgr_message_known(name))
		return;
	queue_take(s, name);
}

/*
 * Reads at most *budget entries of scan s while there is room; false
 * when the scan has to wait (no room, or the budget is spent).
 */
static bool
queue_scan_run(struct queue_scan *s, size_t *budget)
{
	struct dirent *de;

	while (qmgr_message_count() < queue_limit) {
		if (*budget == 0)
			return false;
		if (s->d == NULL) {
			if (!s->wanted)
				return true;
			s->wanted = false;
			s->flush = s->flush_wanted;
			s->flush_wanted = false;
			if ((s->d = opendir(s->dir)) == NULL) {
				msg_warn("open %s/: %m", s->dir);
				return true;
			}
		}
		errno = 0;
		if ((de = readdir(s->d)) == NULL) {
			if (errno != 0)
				msg_warn("read %s/: %m", s->dir);
			closedir(s->d);
			s->d = NULL;
			continue;
		}
		(*budget)--;
		if (de->d_name[0] != '.')
			queue_entry(s, de->d_name);
	}
	return false;
}

static void
queue_feed(struct event_loop *loop, void *ctx)
{
	size_t budget = QUEUE_BATCH;

	(void)loop;
	(void)ctx;
	queue_feed_timer = NULL;
	/* In order: what a crash left in active/ goes first. */
	for (int i = 0; i < SCAN_COUNT; i++) {
		struct queue_scan *s = &queue_scans[i];

		if (!queue_scan_run(s, &budget)) {
			if (budget == 0)
				queue_feed_soon();
			return;
		}
	}
}
