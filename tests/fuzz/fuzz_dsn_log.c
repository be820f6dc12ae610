/*
 * fuzz_dsn_log - defer/ and bounce/ logs as a crash or a damaged disk
 * leaves them, read as qmgr and postern-queue read them
 *
 * The first byte is the message's recipient count (0 to 255); the rest
 * is the whole of the log file, in a private temporary directory
 * (removed at exit). The log read must keep at most one entry per
 * recipient, each of a recipient below the count, in order, with fields
 * dsn_log.h allows.
 */
#include "fuzz.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mail/dsn_log.h"
#include "util/safe_file.h"
#include "util/sbuf.h"

static char *fuzz_path;

/* True when s is a text field: no TAB, LF or NUL-cut surprises. */
static bool
fuzz_field_ok(const char *s)
{
	return s != NULL && strpbrk(s, "\t\n") == NULL &&
	    strlen(s) < DSN_LOG_LINE_MAX;
}

/* Aborts unless log is what dsn_log_read() may give. */
static void
fuzz_check_log(const struct dsn_log *log, size_t rcpt_count)
{
	if (log->count > rcpt_count || log->warned < 0)
		abort();
	for (size_t i = 0; i < log->count; i++) {
		const struct dsn_entry *e = &log->entries[i];

		if (e->rcpt >= rcpt_count ||
		    (i > 0 && e->rcpt <= log->entries[i - 1].rcpt))
			abort();
		if (strcmp(dsn_action_name(e->action), "failed") != 0 &&
		    strcmp(dsn_action_name(e->action), "delayed") != 0 &&
		    strcmp(dsn_action_name(e->action), "delivered") != 0)
			abort();
		if (e->when < 0 || !fuzz_field_ok(e->dsn) ||
		    strlen(e->dsn) < 5 || !fuzz_field_ok(e->reason) ||
		    (e->diag != NULL && !fuzz_field_ok(e->diag)) ||
		    (e->mta != NULL && !fuzz_field_ok(e->mta)))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbuf *why = sbuf_new();
	struct dsn_log *log = NULL;
	size_t rcpt_count;
	int fd;

	if (size == 0)
		goto out;
	rcpt_count = data[0];
	if (fuzz_path == NULL)
		fuzz_path = fuzz_scratch_path("fuzz_dsn_log", "0ABCDEF0001Z");
	fd = open(fuzz_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || safe_write_all(fd, data + 1, size - 1) < 0 ||
	    close(fd) < 0) {
		perror(fuzz_path);
		abort();
	}
	if (dsn_log_read(fuzz_path, rcpt_count, &log, why) < 0)
		abort();
	fuzz_check_log(log, rcpt_count);
	dsn_log_free(&log);
out:
	sbuf_free(&why);
	return 0;
}
