/*
 * pqueue_list - list the queue as text or JSON, one message at a time
 *
 * Memory holds one queue file's envelope and its defer log at a time, so
 * a queue of any length can be listed.
 * Errors: unreadable files and logs are warned about (msg_warn) and
 * skipped; an unreadable directory ends the listing with -1.
 * Trust: queue files and logs are read through their checking readers.
 */
#include "pqueue_list.h"

#include <errno.h>
#include <stdbool.h>
#include <time.h>
#include <unistd.h>

#include "mail/dsn_log.h"
#include "mail/queue_file.h"
#include "pqueue_json.h"
#include "util/msg.h"
#include "util/sbuf.h"

#define PQUEUE_ID_WIDTH		25	/* an id and its mark */
#define PQUEUE_INDENT		56	/* the column of senders, recipients */
#define PQUEUE_TIME_FORMAT	"%a %b %e %H:%M:%S"

/* The state of one listing. */
struct pqueue_lister {
	FILE *out;
	enum pqueue_format format;
	struct sbuf *entry;
	unsigned long long count;
	unsigned long long size;
	bool failed;		/* writing out failed */
};

/* The reason recipient index waits, from the defer log, or NULL. */
static const char *
pqueue_delay_reason(const struct dsn_log *defer, size_t index)
{
	if (defer == NULL)
		return NULL;
	for (size_t i = 0; i < defer->count; i++) {
		if (defer->entries[i].rcpt == index &&
		    defer->entries[i].action == DSN_ACTION_DELAYED)
			return defer->entries[i].reason;
	}
	return NULL;
}

static void
pqueue_format_text(struct sbuf *out, enum pqueue_dir dir,
    const struct queue_file *qf, const struct dsn_log *defer)
{
	const char *mark = dir == PQUEUE_ACTIVE ? "*" :
	    dir == PQUEUE_HOLD ? "!" : "";
	const char *sender = qf->env.sender[0] != '\0' ? qf->env.sender : "<>";
	const char *reason;
	char when[64];
	struct tm tm;
	size_t start = sbuf_len(out);

	if (localtime_r(&qf->arrival, &tm) == NULL ||
	    strftime(when, sizeof(when), PQUEUE_TIME_FORMAT, &tm) == 0)
		snprintf(when, sizeof(when), "%lld", (long long)qf->arrival);
	sbuf_printf(out, "%s%s", qf->id, mark);
	sbuf_printf(out, "%*s", (int)(PQUEUE_ID_WIDTH -
	    (sbuf_len(out) - start)), "");
	sbuf_printf(out, " %8lld %-20s %s\n", (long long)qf->content_size,
	    when, sender);
	for (size_t i = 0; i < qf->rcpt_count; i++) {
		if (qf->rcpts[i].done)
			continue;
		if ((reason = pqueue_delay_reason(defer, i)) != NULL)
			sbuf_printf(out, "%*s(%s)\n", PQUEUE_INDENT, "",
			    reason);
		sbuf_printf(out, "%*s%s\n", PQUEUE_INDENT, "",
		    qf->rcpts[i].address);
	}
	sbuf_catc(out, '\n');
}

static void
pqueue_format_json(struct sbuf *out, enum pqueue_dir dir,
    const struct queue_file *qf, const struct dsn_log *defer)
{
	const char *reason;
	bool first = true;

	sbuf_cat(out, "{\"queue_name\":");
	pqueue_json_string(out, pqueue_dir_name(dir));
	sbuf_cat(out, ",\"queue_id\":");
	pqueue_json_string(out, qf->id);
	sbuf_printf(out, ",\"arrival_time\":%lld,\"message_size\":%lld,"
	    "\"sender\":", (long long)qf->arrival,
	    (long long)qf->content_size);
	pqueue_json_string(out, qf->env.sender);
	sbuf_cat(out, ",\"recipients\":[");
	for (size_t i = 0; i < qf->rcpt_count; i++) {
		if (qf->rcpts[i].done)
			continue;
		sbuf_cat(out, first ? "{\"address\":" : ",{\"address\":");
		first = false;
		pqueue_json_string(out, qf->rcpts[i].address);
		if (qf->rcpts[i].orcpt != NULL) {
			sbuf_cat(out, ",\"orig_rcpt\":");
			pqueue_json_string(out, qf->rcpts[i].orcpt);
		}
		if ((reason = pqueue_delay_reason(defer, i)) != NULL) {
			sbuf_cat(out, ",\"delay_reason\":");
			pqueue_json_string(out, reason);
		}
		sbuf_catc(out, '}');
	}
	sbuf_catc(out, ']');
	if (dir == PQUEUE_HOLD)
		sbuf_cat(out, ",\"held\":true");
	sbuf_cat(out, "}\n");
}

void
pqueue_format(struct sbuf *out, enum pqueue_format format,
    enum pqueue_dir dir, const struct queue_file *qf,
    const struct dsn_log *defer)
{
	if (format == PQUEUE_JSON)
		pqueue_format_json(out, dir, qf, defer);
	else
		pqueue_format_text(out, dir, qf, defer);
}

void
pqueue_format_total(struct sbuf *out, unsigned long long count,
    unsigned long long size)
{
	if (count == 0)
		sbuf_cat(out, "Mail queue is empty\n");
	else
		sbuf_printf(out, "-- %llu Kbytes in %llu Request%s.\n",
		    (size + 1023) / 1024, count, count == 1 ? "" : "s");
}

/* Writes out the entry buffer; remembers a failure. */
static void
pqueue_emit(struct pqueue_lister *l)
{
	if (sbuf_len(l->entry) > 0 &&
	    fwrite(sbuf_str(l->entry), 1, sbuf_len(l->entry), l->out) !=
	    sbuf_len(l->entry))
		l->failed = true;
	sbuf_reset(l->entry);
}

/* Lists one message; a walk visitor. */
static bool
pqueue_list_one(enum pqueue_dir dir, const char *id, void *ctx)
{
	struct pqueue_lister *l = ctx;
	struct sbuf *path = sbuf_new(), *why = sbuf_new();
	struct queue_file *qf;
	struct dsn_log *defer = NULL;

	pqueue_path(path, dir, id);
	if ((qf = queue_file_open(sbuf_str(path), 0, why)) == NULL) {
		if (access(sbuf_str(path), F_OK) == 0 || errno != ENOENT)
			msg_warn("%s", sbuf_str(why));
		goto out;
	}
	sbuf_setf(path, "defer/%s", id);
	if (dsn_log_read(sbuf_str(path), qf->rcpt_count, &defer, why) < 0) {
		msg_warn("%s: %s", id, sbuf_str(why));
		defer = NULL;
	}
	if (l->format == PQUEUE_TEXT && l->count == 0)
		sbuf_cat(l->entry, PQUEUE_TEXT_HEADING);
	pqueue_format(l->entry, l->format, dir, qf, defer);
	pqueue_emit(l);
	l->count++;
	l->size += (unsigned long long)qf->content_size;
	dsn_log_free(&defer);
	queue_file_close(&qf);
out:
	sbuf_free(&path);
	sbuf_free(&why);
	return !l->failed;
}

int
pqueue_list(FILE *out, enum pqueue_format format, struct sbuf *why)
{
	struct pqueue_lister l = { .out = out, .format = format };
	int ret;

	l.entry = sbuf_new();
	ret = pqueue_walk(PQUEUE_ALL, pqueue_list_one, &l, why);
	if (ret == 0 && format == PQUEUE_TEXT) {
		pqueue_format_total(l.entry, l.count, l.size);
		pqueue_emit(&l);
	}
	sbuf_free(&l.entry);
	return ret;
}
