/*
 * fuzz_bounce - delivery status notices built from what a client and
 * remote servers supplied: the message's content and the defer/ or
 * bounce/ log of the results (reasons, remote replies)
 *
 * The input: a byte of flags (bits 0-1: RET none, FULL or HDRS; bit 2:
 * a message_size_limit just above BOUNCE_OVERHEAD), two bytes of content
 * length (little-endian, cut to what follows), the content, then the
 * whole log file for FUZZ_RCPTS recipients. Each input is written as a
 * queue file in a private temporary queue directory (removed at exit)
 * and the notice composed as qmgr composes it. The notice must be
 * built, hold one report per recipient of the log in its own MIME
 * structure, and return as headers only ever the beginning of the
 * content up to its first empty line.
 */
#include "fuzz.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bounce.h"
#include "mail/dsn_log.h"
#include "mail/queue_file.h"
#include "util/safe_file.h"
#include "util/sbuf.h"

#define FUZZ_RCPTS	3
#define FUZZ_BOUNDARY	"fuzz-boundary"
#define FUZZ_PART	"\n--" FUZZ_BOUNDARY "\nContent-Description: "
#define FUZZ_HEADERS	"Content-Type: text/rfc822-headers\n"
#define FUZZ_8BIT	"Content-Transfer-Encoding: 8bit\n"

static const char *fuzz_dir;
static char *fuzz_incoming;
static char *fuzz_log;

/* Makes the queue directory and the log's name on the first call. */
static void
fuzz_init(void)
{
	fuzz_dir = fuzz_scratch_dir("fuzz_bounce");
	fuzz_incoming = fuzz_scratch_path("fuzz_bounce", "incoming");
	if (mkdir(fuzz_incoming, 0700) < 0) {
		perror(fuzz_incoming);
		abort();
	}
	fuzz_log = fuzz_scratch_path("fuzz_bounce", "log");
}

/* Writes the queue file; its path goes to path. */
static void
fuzz_queue_file(enum queue_ret ret, const char *content, size_t len,
    struct sbuf *path)
{
	static const struct queue_rcpt rcpts[FUZZ_RCPTS] = {
		{ .address = "bob@example.test" },
		{ .address = "carol@example.test",
		  .orcpt = "rfc822;Carol@example.test",
		  .notify = QUEUE_NOTIFY_SUCCESS | QUEUE_NOTIFY_FAILURE },
		{ .address = "d\xc3\xa9" "d\xc3\xa9@example.test" },
	};
	const struct queue_envelope env = {
		.sender = "jane@example.test", .proto = QUEUE_PROTO_ESMTP,
		.envid = "fuzz-envid", .ret = ret,
	};
	struct sbuf *why = sbuf_new();
	struct queue_writer *w = NULL;

	if (queue_writer_open(fuzz_dir, &w, why) != QUEUE_WRITE_OK)
		goto fail;
	sbuf_setf(path, "%s/%s", fuzz_incoming, queue_writer_id(w));
	if (queue_writer_envelope(w, &env, why) < 0)
		goto fail;
	for (size_t i = 0; i < FUZZ_RCPTS; i++)
		if (queue_writer_add_rcpt(w, &rcpts[i], why) < 0)
			goto fail;
	if (queue_writer_write(w, content, len, why) != QUEUE_WRITE_OK ||
	    queue_writer_commit(&w, why) != QUEUE_WRITE_OK)
		goto fail;
	sbuf_free(&why);
	return;
fail:
	fprintf(stderr, "fuzz_bounce: %s\n", sbuf_str(why));
	abort();
}

static int
fuzz_out(void *ctx, const char *data, size_t len, struct sbuf *why)
{
	(void)why;
	return sbuf_catn(ctx, data, len);
}

/* The number of times the line line occurs in s[0..len). */
static size_t
fuzz_count_lines(const char *s, size_t len, const char *line)
{
	size_t n = 0, l = strlen(line);

	for (const char *p = s, *end = s + len; p < end; ) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t this = (size_t)((nl != NULL ? nl : end) - p);

		if (this >= l && strncmp(p, line, l) == 0)
			n++;
		p = nl != NULL ? nl + 1 : end;
	}
	return n;
}

/* Aborts unless notice is well built from log and content. */
static void
fuzz_check_notice(const struct sbuf *notice, const struct dsn_log *log,
    const char *content, size_t len)
{
	const char *s = sbuf_str(notice), *part3, *headers;
	size_t n = sbuf_len(notice), before, tail, copied;

	/* Parts 1 and 2 come from Postern and the log only. */
	part3 = s;
	for (int i = 0; i < 3; i++)
		if ((part3 = memmem(part3 + 1, (size_t)(s + n - part3 - 1),
		    FUZZ_PART, sizeof(FUZZ_PART) - 1)) == NULL)
			abort();
	before = (size_t)(part3 - s);
	if (fuzz_count_lines(s, before, "--" FUZZ_BOUNDARY) != 2 ||
	    fuzz_count_lines(s, before, "Final-Recipient:") != log->count ||
	    fuzz_count_lines(s, before, "Action:") != log->count)
		abort();
	tail = sizeof("\n--" FUZZ_BOUNDARY "--\n") - 1;
	if (n < tail || memcmp(s + n - tail, "\n--" FUZZ_BOUNDARY "--\n",
	    tail) != 0)
		abort();

	/*
	 * Headers only: a beginning of the content that holds no empty
	 * line, and a LF added when it does not end in one.
	 */
	headers = memchr(part3 + sizeof(FUZZ_PART) - 1, '\n',
	    (size_t)(s + n - part3) - (sizeof(FUZZ_PART) - 1));
	if (headers == NULL)
		abort();
	headers++;
	if (strncmp(headers, FUZZ_HEADERS, sizeof(FUZZ_HEADERS) - 1) != 0)
		return;
	headers += sizeof(FUZZ_HEADERS) - 1;
	if (strncmp(headers, FUZZ_8BIT, sizeof(FUZZ_8BIT) - 1) == 0)
		headers += sizeof(FUZZ_8BIT) - 1;
	if (*headers++ != '\n')
		abort();
	copied = (size_t)(s + n - tail - headers);
	if (copied > len || memcmp(headers, content, copied) != 0) {
		if (copied == 0 || headers[copied - 1] != '\n' ||
		    copied - 1 > len ||
		    memcmp(headers, content, copied - 1) != 0)
			abort();
		copied--;
	}
	if ((copied > 0 && content[0] == '\n') ||
	    memmem(content, copied, "\n\n", 2) != NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum queue_ret rets[] = {
		QUEUE_RET_NONE, QUEUE_RET_FULL, QUEUE_RET_HDRS, QUEUE_RET_NONE
	};
	struct sbuf *path = sbuf_new(), *why = sbuf_new(),
	    *notice = sbuf_new();
	struct queue_file *qf = NULL;
	struct dsn_log *log = NULL;
	struct bounce_notice bn;
	const char *content;
	size_t len;
	int fd;

	if (size < 3)
		goto out;
	if (fuzz_dir == NULL)
		fuzz_init();
	len = (size_t)data[1] | (size_t)data[2] << 8;
	if (len > size - 3)
		len = size - 3;
	content = (const char *)data + 3;
	fuzz_queue_file(rets[data[0] & 3], content, len, path);
	fd = open(fuzz_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || safe_write_all(fd, content + len, size - 3 - len) < 0 ||
	    close(fd) < 0)
		sbuf_setf(why, "%s: %m", fuzz_log);
	else if ((qf = queue_file_open(sbuf_str(path), 0, why)) != NULL &&
	    dsn_log_read(fuzz_log, qf->rcpt_count, &log, why) == 0)
		sbuf_reset(why);
	if (sbuf_len(why) > 0) {
		fprintf(stderr, "fuzz_bounce: %s\n", sbuf_str(why));
		abort();
	}
	bn = (struct bounce_notice){
		.qf = qf, .log = log, .myhostname = "mail.example.test",
		.recipient = "jane@example.test", .now = 1790000000,
		.size_limit = data[0] & 4 ? BOUNCE_OVERHEAD + 100 : 0,
		.boundary = FUZZ_BOUNDARY,
	};
	if (bounce_compose(&bn, fuzz_out, notice, why) < 0) {
		fprintf(stderr, "fuzz_bounce: %s\n", sbuf_str(why));
		abort();
	}
	fuzz_check_notice(notice, log, content, len);
	bounce_8bit(&bn);
out:
	if (qf != NULL)
		unlink(sbuf_str(path));
	queue_file_close(&qf);
	dsn_log_free(&log);
	sbuf_free(&path);
	sbuf_free(&why);
	sbuf_free(&notice);
	return 0;
}
