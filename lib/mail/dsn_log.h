/*
 * dsn_log - the per-message logs of delivery results in defer/ and bounce/
 *
 * qmgr keeps two logs for each message that has them, named by its queue
 * id: defer/ID records every deferral (the reason a recipient waits, for
 * the queue listing), bounce/ID every result that must reach the sender
 * in a delivery status notification: failures, and deliveries the sender
 * asked to hear about (NOTIFY=SUCCESS). Both are removed with the queue
 * file. One entry is one line of fields separated by a TAB:
 *
 *	rcpt	the recipient's index in the queue file, decimal
 *	action	"failed", "delayed" or "delivered" (RFC 3464 Action)
 *	dsn	RFC 3463 status code, "X.Y.Z"
 *	time	seconds since the epoch, decimal
 *	reason	text for the notice
 *	diag	the remote server's reply, or empty
 *	mta	the remote server's name, or empty
 *
 * A line "warned<TAB>time" instead records that the sender was told of
 * the message's delay (delay_warning_time), so that it is told once.
 *
 * Text fields hold no control character (each is replaced with '?') and
 * at most DSN_LOG_TEXT_MAX octets. An entry is written with one write()
 * and synced before the caller goes on, so after a crash a log holds
 * whole entries and at most one torn last line, which the reader skips.
 * A recipient may have several entries (a crash between the entry and
 * the queue file's done flag repeats a bounce): the reader keeps the
 * last one.
 */
#ifndef POSTERN_DSN_LOG_H
#define POSTERN_DSN_LOG_H

#include <stddef.h>
#include <time.h>

struct sbuf;

#define DSN_LOG_TEXT_MAX	1000	/* octets of one text field */
#define DSN_LOG_LINE_MAX	4096	/* longest entry a reader takes */

enum dsn_action {
	DSN_ACTION_FAILED,
	DSN_ACTION_DELAYED,
	DSN_ACTION_DELIVERED
};

struct dsn_entry {
	size_t rcpt;		/* index into the queue file's recipients */
	enum dsn_action action;
	const char *dsn;	/* "X.Y.Z" */
	time_t when;
	const char *reason;	/* never NULL */
	const char *diag;	/* NULL or "" when none */
	const char *mta;	/* NULL or "" when none */
};

/* The entries of one log, one per recipient. */
struct dsn_log {
	struct dsn_entry *entries;	/* ordered by rcpt */
	size_t count;
	time_t warned;			/* the last "warned" line, or 0 */
	/* Private: the storage of the strings. */
	char **lines;
	size_t line_count;
};

/*
 * Appends e to the log at path (created with mode 0600 if missing, and
 * then its directory synced), and syncs it. 0, or -1 with a reason.
 */
int dsn_log_append(const char *path, const struct dsn_entry *e,
    struct sbuf *why);

/* Appends a "warned" line for the time when; as dsn_log_append(). */
int dsn_log_append_warned(const char *path, time_t when, struct sbuf *why);

/*
 * Reads the log at path, keeping for each recipient below rcpt_count its
 * last entry; skips a torn last line and lines that do not parse (a
 * damaged log loses those entries, not the others). A missing file is an
 * empty log. A new log in *log_r and 0, or -1 with a reason (a read
 * error).
 */
int dsn_log_read(const char *path, size_t rcpt_count, struct dsn_log **log_r,
    struct sbuf *why);

/* Frees *log and sets it to NULL; accepts NULL. */
void dsn_log_free(struct dsn_log **log);

/* "failed", "delayed", "delivered". */
const char *dsn_action_name(enum dsn_action action);

#endif
