/*
 * dsn_log - the per-message logs of delivery results in defer/ and bounce/
 *
 * Errors: -1 with a reason in why; never logs. Trust: the logs are
 * qmgr's own files, but a crash may leave a torn last line and a damaged
 * line is skipped, never trusted: every field is parsed and checked.
 */
#include "mail/dsn_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/safe_file.h"
#include "util/sbuf.h"
#include "util/strutil.h"
#include "util/xmalloc.h"

#define DSN_LOG_FIELDS	7

static const char *const dsn_action_names[] = {
	[DSN_ACTION_FAILED] = "failed",
	[DSN_ACTION_DELAYED] = "delayed",
	[DSN_ACTION_DELIVERED] = "delivered",
};

const char *
dsn_action_name(enum dsn_action action)
{
	return dsn_action_names[action];
}

/*
 * Appends s as a field: control characters become '?', and at most
 * DSN_LOG_TEXT_MAX octets are kept, cut before a UTF-8 continuation.
 */
static void
dsn_log_put_text(struct sbuf *line, const char *s)
{
	size_t len = s != NULL ? strlen(s) : 0;

	if (len > DSN_LOG_TEXT_MAX) {
		len = DSN_LOG_TEXT_MAX;
		while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		sbuf_catc(line, c < 0x20 || c == 0x7f ? '?' : c);
	}
}

/* Appends line to the log at path and syncs it; 0 or -1 with a reason. */
static int
dsn_log_write(const char *path, const struct sbuf *line, struct sbuf *why)
{
	bool created = false;
	int fd;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600);
	if (fd >= 0)
		created = true;
	else if (errno == EEXIST)
		fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0) {
		sbuf_setf(why, "open %s: %s", path, strerror(errno));
		return -1;
	}
	if (safe_write_all(fd, sbuf_str(line), sbuf_len(line)) < 0 ||
	    fsync(fd) < 0) {
		sbuf_setf(why, "write %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (close(fd) < 0) {
		sbuf_setf(why, "close %s: %s", path, strerror(errno));
		return -1;
	}
	if (created && safe_file_sync_dir(path, why) < 0)
		return -1;
	return 0;
}

int
dsn_log_append(const char *path, const struct dsn_entry *e,
    struct sbuf *why)
{
	struct sbuf *line = sbuf_new();
	int ret;

	sbuf_printf(line, "%zu\t%s\t", e->rcpt, dsn_action_name(e->action));
	dsn_log_put_text(line, e->dsn);
	sbuf_printf(line, "\t%lld\t", (long long)e->when);
	dsn_log_put_text(line, e->reason);
	sbuf_catc(line, '\t');
	dsn_log_put_text(line, e->diag);
	sbuf_catc(line, '\t');
	dsn_log_put_text(line, e->mta);
	sbuf_catc(line, '\n');
	ret = dsn_log_write(path, line, why);
	sbuf_free(&line);
	return ret;
}

int
dsn_log_append_warned(const char *path, time_t when, struct sbuf *why)
{
	struct sbuf *line = sbuf_new();
	int ret;

	sbuf_printf(line, "warned\t%lld\n", (long long)when);
	ret = dsn_log_write(path, line, why);
	sbuf_free(&line);
	return ret;
}

/* Parses a whole unsigned decimal number; -1 on junk. */
static int
dsn_log_number(const char *s, long long *value_r)
{
	long v;

	if (*s < '0' || *s > '9' || str_to_long(s, &v) < 0)
		return -1;
	*value_r = v;
	return 0;
}

/* True when s is "X.Y.Z" with X 2, 4 or 5 and Y, Z of 1 to 3 digits. */
static bool
dsn_log_code_ok(const char *s)
{
	if (*s != '2' && *s != '4' && *s != '5')
		return false;
	s++;
	for (int part = 0; part < 2; part++) {
		int n = 0;

		if (*s++ != '.')
			return false;
		while (*s >= '0' && *s <= '9' && n < 4) {
			s++;
			n++;
		}
		if (n == 0 || n > 3)
			return false;
	}
	return *s == '\0';
}

/* Splits line (modified in place) into e; -1 when it does not parse. */
static int
dsn_log_parse(char *line, size_t rcpt_count, struct dsn_entry *e)
{
	char *field[DSN_LOG_FIELDS];
	long long rcpt, when;
	size_t n = 0;

	field[n++] = line;
	for (char *p = line; *p != '\0'; p++) {
		if (*p != '\t')
			continue;
		if (n == DSN_LOG_FIELDS)
			return -1;
		*p = '\0';
		field[n++] = p + 1;
	}
	if (n != DSN_LOG_FIELDS || dsn_log_number(field[0], &rcpt) < 0 ||
	    (unsigned long long)rcpt >= rcpt_count ||
	    dsn_log_number(field[3], &when) < 0 ||
	    !dsn_log_code_ok(field[2]))
		return -1;
	if (strcmp(field[1], "failed") == 0)
		e->action = DSN_ACTION_FAILED;
	else if (strcmp(field[1], "delayed") == 0)
		e->action = DSN_ACTION_DELAYED;
	else if (strcmp(field[1], "delivered") == 0)
		e->action = DSN_ACTION_DELIVERED;
	else
		return -1;
	e->rcpt = (size_t)rcpt;
	e->dsn = field[2];
	e->when = (time_t)when;
	e->reason = field[4];
	e->diag = field[5];
	e->mta = field[6];
	return 0;
}

/* Takes one complete line into log, replacing an older entry. */
static void
dsn_log_take(struct dsn_log *log, struct sbuf *line, size_t rcpt_count,
    size_t *slot)
{
	struct dsn_entry e;
	long long when;
	char *text = sbuf_steal(line);

	if (strncmp(text, "warned\t", 7) == 0) {
		if (dsn_log_number(text + 7, &when) == 0)
			log->warned = (time_t)when;
		free(text);
		return;
	}
	if (dsn_log_parse(text, rcpt_count, &e) < 0) {
		free(text);
		return;
	}
	log->lines = xreallocarray(log->lines, log->line_count + 1,
	    sizeof(*log->lines));
	log->lines[log->line_count++] = text;
	if (slot[e.rcpt] == SIZE_MAX) {
		slot[e.rcpt] = log->count;
		log->entries = xreallocarray(log->entries, log->count + 1,
		    sizeof(*log->entries));
		log->count++;
	}
	log->entries[slot[e.rcpt]] = e;
}

static int
dsn_log_by_rcpt(const void *a, const void *b)
{
	const struct dsn_entry *x = a, *y = b;

	return (x->rcpt > y->rcpt) - (x->rcpt < y->rcpt);
}

int
dsn_log_read(const char *path, size_t rcpt_count, struct dsn_log **log_r,
    struct sbuf *why)
{
	struct dsn_log *log = xcalloc(1, sizeof(*log));
	struct sbuf *line = sbuf_new();
	size_t *slot;
	bool too_long = false;
	FILE *fp;
	int c, ret = 0;

	if ((fp = fopen(path, "re")) == NULL) {
		sbuf_free(&line);
		if (errno == ENOENT) {
			*log_r = log;
			return 0;
		}
		sbuf_setf(why, "open %s: %s", path, strerror(errno));
		free(log);
		return -1;
	}
	slot = xreallocarray(NULL, rcpt_count, sizeof(*slot));
	for (size_t i = 0; i < rcpt_count; i++)
		slot[i] = SIZE_MAX;
	while ((c = getc(fp)) != EOF) {
		if (c != '\n') {
			if (sbuf_len(line) < DSN_LOG_LINE_MAX)
				sbuf_catc(line, c);
			else
				too_long = true;
			continue;
		}
		if (!too_long)
			dsn_log_take(log, line, rcpt_count, slot);
		sbuf_reset(line);
		too_long = false;
	}
	if (ferror(fp)) {
		sbuf_setf(why, "read %s: %s", path, strerror(errno));
		ret = -1;
	}
	fclose(fp);
	free(slot);
	sbuf_free(&line);
	if (ret < 0) {
		dsn_log_free(&log);
		return -1;
	}
	if (log->count > 0)
		qsort(log->entries, log->count, sizeof(*log->entries),
		    dsn_log_by_rcpt);
	*log_r = log;
	return 0;
}

void
dsn_log_free(struct dsn_log **log)
{
	if (*log == NULL)
		return;
	for (size_t i = 0; i < (*log)->line_count; i++)
		free((*log)->lines[i]);
	free((*log)->lines);
	free((*log)->entries);
	free(*log);
	*log = NULL;
}
