/*
 * test_smtpd_data - the DATA and BDAT content reader over real sockets
 *
 * A forked child plays the client over a socketpair, sending each row's
 * input all at once or one byte at a time, followed by the command the
 * client would send next; the reader's sink collects what it is given
 * in an sbuf. Each row is checked for its status, the stored bytes, the
 * counts, and that the stream is left exactly at the next command.
 * Every test runs under an alarm and the child is reaped in teardown.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "smtpd_data.h"
#include "util/safe_file.h"
#include "util/sbuf.h"
#include "util/stream.h"
#include "util/xmalloc.h"

#define LONG_MS 10000		/* a deadline no passing test reaches */
#define SHORT_MS 200		/* the deadline of the timeout tests */
#define NEXT_CMD "QUIT\r\n"	/* what the client sends after a message */
#define HOP_MAX 50

#define BYTES(str) str, sizeof(str) - 1
#define IN(str) .input = str, .input_len = sizeof(str) - 1
#define OUT(str) .stored = str, .stored_len = sizeof(str) - 1
#define LIM(line, size, hops) .lim = {line, size, hops}, .has_lim = true

static const struct data_limits default_limits = {
	SMTPD_DATA_LINE_MAX, SIZE_MAX, HOP_MAX
};

/* A sink that keeps what it is given and can be told to fail. */
struct sink {
	struct sbuf *got;
	size_t calls;
	size_t max_piece;	/* the longest piece it was given */
	size_t empty_calls;	/* calls with len 0: must never happen */
	size_t fail_at;		/* the call that fails, from 1; 0: none */
};

static int
sink_put(void *ctx, const char *bytes, size_t len)
{
	struct sink *k = ctx;

	k->calls++;
	if (len == 0)
		k->empty_calls++;
	if (len > k->max_piece)
		k->max_piece = len;
	if (k->fail_at != 0 && k->calls >= k->fail_at)
		return -1;
	sbuf_catn(k->got, bytes, len);
	return 0;
}

static void
sink_init(struct sink *k, size_t fail_at)
{
	memset(k, 0, sizeof(*k));
	k->got = sbuf_new();
	k->fail_at = fail_at;
}

/*
 * Forks a client that writes len bytes of data over a socketpair in
 * pieces of piece bytes (0: all at once), pausing between them so the
 * reader sees them apart; then, if stall, waits until the reader closes
 * its end; then exits. Returns a stream over the reader's end.
 */
static struct stream *
client(const void *data, size_t len, size_t piece, bool stall, int ms)
{
	const struct timespec pause = {0, 200000};
	const char *p = data;
	int fds[2];
	size_t n;
	char c;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    fds), 0);
	test_child_pid = fork();
	assert_true(test_child_pid >= 0);
	if (test_child_pid == 0) {
		close(fds[0]);
		while (len > 0) {
			n = piece == 0 || piece > len ? len : piece;
			if (safe_write_all(fds[1], p, n) < 0)
				_exit(1);
			p += n;
			len -= n;
			if (len > 0 && piece > 0)
				nanosleep(&pause, NULL);
		}
		while (stall && read(fds[1], &c, 1) != 0)
			continue;
		_exit(0);
	}
	close(fds[1]);
	return stream_open(fds[0], ms);
}

/* Fails unless the next line on in is want (NULL: the end of input). */
static void
expect_next(struct stream *in, const char *want, const char *name)
{
	struct sbuf *line = sbuf_new();
	enum line_status ls;

	ls = stream_read_line(in, line, 1000);
	if (want == NULL && ls != LINE_EOF)
		fail_msg("%s: input left after the message: \"%s\"", name,
		    sbuf_str(line));
	if (want != NULL && (ls != LINE_OK || strcmp(sbuf_str(line), want) !=
	    0))
		fail_msg("%s: next line \"%s\" (status %d), want \"%s\"", name,
		    sbuf_str(line), ls, want);
	sbuf_free(&line);
}

/* Fails unless the sink holds exactly want[0..len). */
static void
expect_stored(const struct sink *k, const char *want, size_t len,
    const char *name)
{
	if (sbuf_len(k->got) != len || memcmp(sbuf_str(k->got), want, len) !=
	    0)
		fail_msg("%s: stored %zu bytes \"%s\", want %zu \"%s\"", name,
		    sbuf_len(k->got), sbuf_str(k->got), len, want);
	if (k->empty_calls != 0)
		fail_msg("%s: the sink was called with no bytes", name);
}

static void
expect_count(size_t got, size_t want, const char *what, const char *name)
{
	if (got != want)
		fail_msg("%s: %s %zu, want %zu", name, what, got, want);
}

/* True for the statuses after which the session is over. */
static bool
input_failed(enum data_status st)
{
	return st == DATA_EOF || st == DATA_TIMEOUT || st == DATA_IO_ERROR;
}

/* One DATA message as the client sends it, and what must come of it. */
struct data_case {
	const char *name;
	const char *input;	/* after "354", end marker included */
	size_t input_len;
	bool has_lim;		/* lim set; else default_limits */
	struct data_limits lim;
	size_t sink_fail_at;
	enum data_status status;
	const char *stored;
	size_t stored_len;
	size_t size;		/* res.size when more than stored_len */
	size_t unread;		/* discarded bytes of long lines */
	size_t bare_lf, bare_cr, received, long_lines;
};

static const struct data_case data_cases[] = {
	/* Ordinary messages. */
	{"plain", IN("Subject: a\r\n\r\nbody\r\n.\r\n"),
	    OUT("Subject: a\n\nbody\n")},
	{"empty message", IN(".\r\n"), OUT("")},
	{"empty lines", IN("\r\n\r\n.\r\n"), OUT("\n\n")},
	{"dot-stuffed lines", IN("..x\r\n. \r\n...\r\n..\r\n.\r\n"),
	    OUT(".x\n \n..\n.\n")},
	{"dot before text", IN(".a\r\n.\r\n"), OUT("a\n")},
	{"bare lf lines", IN("a\nb\nc\r\n.\r\n"), OUT("a\nb\nc\n"),
	    .bare_lf = 2},
	{"bare cr kept", IN("a\rb\r\n\rc\r\n.\r\n"), OUT("a\rb\n\rc\n"),
	    .bare_cr = 2},
	{"cr cr lf", IN("a\r\r\n.\r\n"), OUT("a\r\n"), .bare_cr = 1},
	{"nul bytes", IN("a\0b\r\n\0\r\n.\0\r\n.\r\n"), OUT("a\0b\n\0\n\0\n")},

	/* Smuggling: none of these ends the message. */
	{"LF.LF", IN("a\n.\nb\r\n.\r\n"), OUT("a\n\nb\n"), .bare_lf = 2},
	{"LF.CRLF", IN("a\n.\r\nb\r\n.\r\n"), OUT("a\n\nb\n"), .bare_lf = 1},
	{"CRLF.LF", IN("a\r\n.\nb\r\n.\r\n"), OUT("a\n\nb\n"), .bare_lf = 1},
	{"CR.CR", IN("a\r.\rb\r\n.\r\n"), OUT("a\r.\rb\n"), .bare_cr = 2},
	{"CR.CRLF", IN("a\r.\r\nb\r\n.\r\n"), OUT("a\r.\nb\n"), .bare_cr = 1},
	{"CRLF.CR", IN("a\r\n.\rb\r\n.\r\n"), OUT("a\n\rb\n"), .bare_cr = 1},
	{"CRLF.CRCRLF", IN("a\r\n.\r\r\nb\r\n.\r\n"), OUT("a\n\r\nb\n"),
	    .bare_cr = 1},
	{"LF.CR", IN("a\n.\rb\r\n.\r\n"), OUT("a\n\rb\n"), .bare_lf = 1,
	    .bare_cr = 1},
	{"CRLF.SP CRLF", IN("a\r\n. \r\nb\r\n.\r\n"), OUT("a\n \nb\n")},
	{"CRLF.NUL CRLF", IN("a\r\n.\0\r\nb\r\n.\r\n"), OUT("a\n\0\nb\n")},
	{"CRLF..CRLF", IN("a\r\n..\r\nb\r\n.\r\n"), OUT("a\n.\nb\n")},
	{"first line .LF", IN(".\nb\r\n.\r\n"), OUT("\nb\n"), .bare_lf = 1},
	{"first line .CR", IN(".\rb\r\n.\r\n"), OUT("\rb\n"), .bare_cr = 1},
	{"LF first, then .LF", IN("\n.\nb\r\n.\r\n"), OUT("\n\nb\n"),
	    .bare_lf = 2},
	{"smuggled transaction",
	    IN("a\n.\nMAIL FROM:<x@y>\r\nRCPT TO:<v@w>\r\nDATA\r\nevil\r\n"
	    ".\r\n"),
	    OUT("a\n\nMAIL FROM:<x@y>\nRCPT TO:<v@w>\nDATA\nevil\n"),
	    .bare_lf = 2},

	/* The same with no real end: the input ends inside the message. */
	{"LF.LF, no end", IN("a\n.\n"), .status = DATA_EOF, OUT("a\n\n"),
	    .bare_lf = 2},
	{"LF.CRLF, no end", IN("a\n.\r\n"), .status = DATA_EOF,
	    OUT("a\n\n"), .bare_lf = 1},
	{"CRLF.LF, no end", IN("a\r\n.\n"), .status = DATA_EOF,
	    OUT("a\n\n"), .bare_lf = 1},
	{"CR.CR, no end", IN("a\r.\r"), .status = DATA_EOF, OUT("")},
	{"CR.CRLF, no end", IN("a\r.\r\n"), .status = DATA_EOF,
	    OUT("a\r.\n"), .bare_cr = 1},
	{"CRLF.CR, no end", IN("a\r\n.\r"), .status = DATA_EOF, OUT("a\n")},
	{"CRLF. at the end", IN("a\r\n."), .status = DATA_EOF, OUT("a\n")},
	{"unterminated last line", IN("a\r\nb"), .status = DATA_EOF,
	    OUT("a\n")},
	{"no input", IN(""), .status = DATA_EOF, OUT("")},

	/* Line length: line_max 8. */
	{"line at the limit", IN("01234567\r\n.\r\n"), LIM(8, SIZE_MAX,
	    HOP_MAX), OUT("01234567\n")},
	{"line one over", IN("short\r\n012345678\r\nafter\r\n.\r\n"),
	    LIM(8, SIZE_MAX, HOP_MAX), .status = DATA_LINE_TOO_LONG,
	    OUT("short\n"), .size = 6 + 9 + 6, .unread = 1, .long_lines = 1},
	{"long lines, bare lf", IN("012345678901\nok\r\n0123456789\r\n.\r\n"),
	    LIM(8, SIZE_MAX, HOP_MAX), .status = DATA_LINE_TOO_LONG, OUT(""),
	    .size = 9 + 3 + 9, .unread = 6, .bare_lf = 1, .long_lines = 2},
	{"long line before the end", IN("0123456789\r\n.\r\n"),
	    LIM(4, SIZE_MAX, HOP_MAX), .status = DATA_LINE_TOO_LONG, OUT(""),
	    .size = 5, .unread = 6, .long_lines = 1},
	{"long dot line", IN("..\r\n.\r\n"), LIM(1, SIZE_MAX, HOP_MAX),
	    .status = DATA_LINE_TOO_LONG, OUT(""), .size = 1, .unread = 1,
	    .long_lines = 1},
	{"too big before too long", IN("abcd\r\n0123456789\r\n.\r\n"),
	    LIM(8, 3, HOP_MAX), .status = DATA_TOO_BIG, OUT(""),
	    .size = 5 + 9, .unread = 2, .long_lines = 1},

	/* Size: stored bytes, LF line endings, dots removed. */
	{"size exact", IN("abc\r\ndef\r\n.\r\n"), LIM(SMTPD_DATA_LINE_MAX, 8,
	    HOP_MAX), OUT("abc\ndef\n")},
	{"size one over", IN("abc\r\ndef\r\n.\r\n"),
	    LIM(SMTPD_DATA_LINE_MAX, 7, HOP_MAX), .status = DATA_TOO_BIG,
	    OUT("abc\n"), .size = 8},
	{"size 0, one line", IN("a\r\n.\r\n"), LIM(SMTPD_DATA_LINE_MAX, 0,
	    HOP_MAX), .status = DATA_TOO_BIG, OUT(""), .size = 2},
	{"size 0, empty message", IN(".\r\n"), LIM(SMTPD_DATA_LINE_MAX, 0,
	    HOP_MAX), OUT("")},
	{"size counts LF, not CRLF", IN("abc\r\n.\r\n"),
	    LIM(SMTPD_DATA_LINE_MAX, 4, HOP_MAX), OUT("abc\n")},
	{"size without stuffed dots", IN("..\r\n.\r\n"),
	    LIM(SMTPD_DATA_LINE_MAX, 2, HOP_MAX), OUT(".\n")},

	/* Received: headers. */
	{"received counted",
	    IN("Received: a\r\nreceived:b\r\nRECEIVED \t:c\r\nX-Received: d"
	    "\r\nReceived-SPF: e\r\nReceivedx: f\r\nReceived\r\nReceive: g"
	    "\r\nSubject: s\r\n\r\nReceived: body\r\n.\r\n"),
	    OUT("Received: a\nreceived:b\nRECEIVED \t:c\nX-Received: d\n"
	    "Received-SPF: e\nReceivedx: f\nReceived\nReceive: g\n"
	    "Subject: s\n\nReceived: body\n"), .received = 3},
	{"folded received",
	    IN("Received: from a\r\n\tby b\r\n Received: folded\r\n"
	    "Received: x\r\n\r\n.\r\n"),
	    OUT("Received: from a\n\tby b\n Received: folded\nReceived: x\n"
	    "\n"), .received = 2},
	{"header ends at a bare lf empty line",
	    IN("Received: a\n\nReceived: b\r\n.\r\n"),
	    OUT("Received: a\n\nReceived: b\n"), .received = 1,
	    .bare_lf = 2},
	{"header ends at a hidden end marker",
	    IN("Received: a\r\n.\nReceived: b\r\n.\r\n"),
	    OUT("Received: a\n\nReceived: b\n"), .received = 1,
	    .bare_lf = 1},
	{"no empty line", IN("Received: a\r\nReceived: b\r\n.\r\n"),
	    OUT("Received: a\nReceived: b\n"), .received = 2},
	{"dot-stuffed received", IN(".Received: a\r\n.\r\n"),
	    OUT("Received: a\n"), .received = 1},
	{"hops at the limit", IN("Received: a\r\nReceived: b\r\n\r\n.\r\n"),
	    LIM(SMTPD_DATA_LINE_MAX, SIZE_MAX, 2),
	    OUT("Received: a\nReceived: b\n\n"), .received = 2},
	{"hops one over",
	    IN("Received: a\r\nReceived: b\r\nReceived: c\r\n\r\nbody\r\n"
	    ".\r\n"), LIM(SMTPD_DATA_LINE_MAX, SIZE_MAX, 2),
	    .status = DATA_TOO_MANY_HOPS, OUT("Received: a\nReceived: b\n"),
	    .size = 42, .received = 3},

	/* A sink that fails: read to the end, nothing more passed. */
	{"sink fails", IN("a\r\nb\r\nc\r\n.\r\n"), .sink_fail_at = 2,
	    .status = DATA_SINK_FAILED, OUT("a\n"), .size = 6},
	{"sink fails at once", IN("a\r\nb\r\n.\r\n"), .sink_fail_at = 1,
	    .status = DATA_SINK_FAILED, OUT(""), .size = 4},
};

/* Runs one DATA row, the client sending piece bytes at a time. */
static void
run_data_case(const struct data_case *c, size_t piece)
{
	const struct data_limits *lim = c->has_lim ? &c->lim :
	    &default_limits;
	struct sbuf *input = sbuf_new();
	struct data_result res;
	enum data_status st;
	struct stream *in;
	struct sink k;

	sbuf_catn(input, c->input, c->input_len);
	if (!input_failed(c->status))
		sbuf_cat(input, NEXT_CMD);
	sink_init(&k, c->sink_fail_at);
	in = client(sbuf_str(input), sbuf_len(input), piece, false, LONG_MS);
	memset(&res, 0xa5, sizeof(res));
	st = smtpd_data_read(in, lim, sink_put, &k, &res);
	if (st != c->status)
		fail_msg("%s: status %d, want %d", c->name, st, c->status);
	expect_stored(&k, c->stored, c->stored_len, c->name);
	expect_count(res.stored, c->stored_len, "res.stored", c->name);
	expect_count(res.size, c->size != 0 ? c->size : c->stored_len,
	    "res.size", c->name);
	expect_count(res.wire_bytes, c->input_len - c->unread,
	    "res.wire_bytes", c->name);
	expect_count(res.bare_lf, c->bare_lf, "res.bare_lf", c->name);
	expect_count(res.bare_cr, c->bare_cr, "res.bare_cr", c->name);
	expect_count(res.received, c->received, "res.received", c->name);
	expect_count(res.long_lines, c->long_lines, "res.long_lines",
	    c->name);
	if (c->sink_fail_at != 0)
		expect_count(k.calls, c->sink_fail_at, "sink calls", c->name);
	if (k.max_piece > lim->line_max + 1)
		fail_msg("%s: sink piece of %zu bytes", c->name, k.max_piece);
	/* The stream is left at the next command, or at the end. */
	expect_next(in, input_failed(c->status) ? NULL : "QUIT", c->name);
	assert_int_equal(test_child_wait(), 0);
	stream_free(&in);
	sbuf_free(&k.got);
	sbuf_free(&input);
}

static void
test_data_whole(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(data_cases) / sizeof(data_cases[0]); i++)
		run_data_case(&data_cases[i], 0);
}

static void
test_data_bytewise(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(data_cases) / sizeof(data_cases[0]); i++)
		run_data_case(&data_cases[i], 1);
}

/*
 * A client that stops sending in the middle of a line, and one that
 * stops between lines, time out; what came before went to the sink.
 */
static void
test_data_timeout(void **state)
{
	static const struct {
		const char *input;
		const char *stored;
	} rows[] = {
		{"Subject: a\r\n\r\npartial", "Subject: a\n\n"},
		{"Subject: a\r\n\r\nline\r\n", "Subject: a\n\nline\n"},
		{"a\r\n.", "a\n"},
	};
	struct data_result res;
	struct timespec t0;
	struct stream *in;
	struct sink k;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		sink_init(&k, 0);
		in = client(rows[i].input, strlen(rows[i].input), 0, true,
		    SHORT_MS);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		assert_int_equal(smtpd_data_read(in, &default_limits,
		    sink_put, &k, &res), DATA_TIMEOUT);
		assert_true(test_ms_since(&t0) < LONG_MS / 2);
		assert_string_equal(sbuf_str(k.got), rows[i].stored);
		stream_free(&in);
		assert_int_equal(test_child_wait(), 0);
		sbuf_free(&k.got);
	}
}

/* A descriptor that cannot be read is an I/O error, not an end. */
static void
test_data_io_error(void **state)
{
	struct data_result res;
	struct stream *in;
	struct data_state st;
	struct sink k;
	int fd;

	sink_init(&k, 0);
	assert_true((fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) >= 0);
	in = stream_open(fd, LONG_MS);
	assert_int_equal(smtpd_data_read(in, &default_limits, sink_put, &k,
	    &res), DATA_IO_ERROR);
	smtpd_bdat_begin(&st, &default_limits, sink_put, &k);
	assert_int_equal(smtpd_bdat_read(in, 10, true, &st), DATA_IO_ERROR);
	assert_int_equal(k.calls, 0);
	stream_free(&in);
	sbuf_free(&k.got);
}

/* A line limit of 0 could never let DATA end: a caller's bug. */
static void
test_data_line_max_zero(void **state)
{
	static const struct data_limits zero = {0, SIZE_MAX, HOP_MAX};
	struct data_result res;
	struct stream *in;
	struct sink k;

	sink_init(&k, 0);
	in = client(BYTES(".\r\n"), 0, false, LONG_MS);
	test_msg_capture();
	EXPECT_FATAL(smtpd_data_read(in, &zero, sink_put, &k, &res));
	assert_non_null(strstr(test_msg_captured(), "line_max"));
	assert_int_equal(k.calls, 0);
	/* The client is done once its bytes are sent; then close. */
	assert_int_equal(test_child_wait(), 0);
	stream_free(&in);
	sbuf_free(&k.got);
}

/* One BDAT chunk: its bytes and the status reading it must give. */
struct chunk {
	const char *bytes;
	size_t len;
	bool last;
	enum data_status status;
};

#define CHUNK(str) {str, sizeof(str) - 1, false, DATA_OK}
#define LAST(str) {str, sizeof(str) - 1, true, DATA_OK}
#define CHUNK_ST(str, last, st) {str, sizeof(str) - 1, last, st}

/* A BDAT transaction as the client sends it, and what must come of it. */
struct bdat_case {
	const char *name;
	struct chunk chunks[4];
	size_t nchunks;
	bool has_lim;
	struct data_limits lim;
	size_t sink_fail_at;
	size_t short_by;	/* the last chunk's bytes the client omits */
	const char *stored;
	size_t stored_len;
	size_t size;		/* res.size when more than stored_len */
	size_t bare_lf, bare_cr, received;
};

static const struct bdat_case bdat_cases[] = {
	{"one chunk", {LAST("a\r\nb\r\n")}, 1, OUT("a\nb\n")},
	{"crlf split across chunks", {CHUNK("a\r"), LAST("\nb\r\n")}, 2,
	    OUT("a\nb\n")},
	{"cr ends the message", {LAST("a\r")}, 1, OUT("a\r"), .bare_cr = 1},
	{"cr, then an empty last chunk", {CHUNK("a\r"), LAST("")}, 2,
	    OUT("a\r"), .bare_cr = 1},
	{"cr, an empty chunk, lf", {CHUNK("a\r"), CHUNK(""), LAST("\n")}, 3,
	    OUT("a\n")},
	{"cr, then another byte", {CHUNK("a\r"), LAST("b")}, 2, OUT("a\rb"),
	    .bare_cr = 1},
	{"cr, then cr lf", {CHUNK("a\r"), LAST("\r\nb")}, 2, OUT("a\r\nb"),
	    .bare_cr = 1},
	{"cr, then cr", {CHUNK("a\r"), CHUNK("\r"), LAST("\n")}, 3,
	    OUT("a\r\n"), .bare_cr = 1},
	{"bare lf", {LAST("a\nb\r\n")}, 1, OUT("a\nb\n"), .bare_lf = 1},
	{"bare lf after a chunk", {CHUNK("a"), LAST("\nb")}, 2,
	    OUT("a\nb"), .bare_lf = 1},
	{"bare cr inside", {LAST("a\rb\r\n")}, 1, OUT("a\rb\n"),
	    .bare_cr = 1},
	{"no dot handling", {LAST(".\r\n..x\r\n.\r\nQUIT\r\n")}, 1,
	    OUT(".\n..x\n.\nQUIT\n")},
	{"nul bytes", {LAST("\0\r\n\0")}, 1, OUT("\0\n\0")},
	{"size exact", {CHUNK("ab\r\n"), LAST("c")}, 2,
	    LIM(0, 4, HOP_MAX), OUT("ab\nc")},
	{"size one over", {CHUNK("ab\r\n"), CHUNK_ST("c", true,
	    DATA_TOO_BIG)}, 2, LIM(0, 3, HOP_MAX), OUT("ab\n"), .size = 4},
	{"failure is kept", {CHUNK_ST("abc", false, DATA_TOO_BIG),
	    CHUNK_ST("d", false, DATA_TOO_BIG), CHUNK_ST("", true,
	    DATA_TOO_BIG)}, 3, LIM(0, 1, HOP_MAX), OUT(""), .size = 4},
	{"held cr counts to the size", {CHUNK("a\r"), CHUNK_ST("", true,
	    DATA_TOO_BIG)}, 2, LIM(0, 1, HOP_MAX), OUT("a"), .size = 2,
	    .bare_cr = 1},
	{"received across chunks", {CHUNK("Rece"), CHUNK("ived: a\r"),
	    LAST("\nRECEIVED : b\r\n\r\nReceived: c\r\n")}, 3,
	    OUT("Received: a\nRECEIVED : b\n\nReceived: c\n"),
	    .received = 2},
	{"header end split at cr", {CHUNK("Subject: a\r\n\r"),
	    LAST("\nReceived: x\r\n")}, 2,
	    OUT("Subject: a\n\nReceived: x\n")},
	{"hops one over", {CHUNK("Received: a\r\n"),
	    CHUNK_ST("Received: b\r\n\r\nbody", true, DATA_TOO_MANY_HOPS)}, 2,
	    LIM(0, SIZE_MAX, 1), OUT("Received: a\n"), .size = 29,
	    .received = 2},
	{"sink fails", {CHUNK_ST("a", false, DATA_SINK_FAILED),
	    CHUNK_ST("b", true, DATA_SINK_FAILED)}, 2, .sink_fail_at = 1,
	    OUT(""), .size = 2},
	{"input ends in a chunk", {CHUNK("abc"), CHUNK_ST("defgh", false,
	    DATA_EOF)}, 2, .short_by = 3, OUT("abc")},
};

/* Runs one BDAT row, the client sending piece bytes at a time. */
static void
run_bdat_case(const struct bdat_case *c, size_t piece)
{
	const struct data_limits *lim = c->has_lim ? &c->lim :
	    &default_limits;
	struct sbuf *input = sbuf_new(), *line = sbuf_new();
	struct sbuf *cmd = sbuf_new();
	const struct chunk *ch;
	size_t i, wire = 0;
	struct data_state st;
	enum data_status ds;
	struct stream *in;
	struct sink k;

	for (i = 0; i < c->nchunks; i++) {
		ch = &c->chunks[i];
		sbuf_printf(input, "BDAT %zu%s\r\n", ch->len,
		    ch->last ? " LAST" : "");
		sbuf_catn(input, ch->bytes, i + 1 == c->nchunks ?
		    ch->len - c->short_by : ch->len);
		if (!input_failed(ch->status))
			wire += ch->len;
	}
	if (c->short_by == 0)
		sbuf_cat(input, NEXT_CMD);
	sink_init(&k, c->sink_fail_at);
	in = client(sbuf_str(input), sbuf_len(input), piece, false, LONG_MS);
	smtpd_bdat_begin(&st, lim, sink_put, &k);
	for (i = 0; i < c->nchunks; i++) {
		ch = &c->chunks[i];
		assert_int_equal(stream_read_line(in, line, 100), LINE_OK);
		sbuf_setf(cmd, "BDAT %zu%s", ch->len, ch->last ? " LAST" : "");
		if (strcmp(sbuf_str(line), sbuf_str(cmd)) != 0)
			fail_msg("%s: chunk %zu: out of step at \"%s\"",
			    c->name, i, sbuf_str(line));
		ds = smtpd_bdat_read(in, ch->len, ch->last, &st);
		if (ds != ch->status)
			fail_msg("%s: chunk %zu: status %d, want %d", c->name,
			    i, ds, ch->status);
	}
	expect_stored(&k, c->stored, c->stored_len, c->name);
	expect_count(st.res.stored, c->stored_len, "res.stored", c->name);
	expect_count(st.res.size, c->size != 0 ? c->size : c->stored_len,
	    "res.size", c->name);
	expect_count(st.res.wire_bytes, wire, "res.wire_bytes", c->name);
	expect_count(st.res.bare_lf, c->bare_lf, "res.bare_lf", c->name);
	expect_count(st.res.bare_cr, c->bare_cr, "res.bare_cr", c->name);
	expect_count(st.res.received, c->received, "res.received", c->name);
	if (c->sink_fail_at != 0)
		expect_count(k.calls, c->sink_fail_at, "sink calls", c->name);
	expect_next(in, c->short_by != 0 ? NULL : "QUIT", c->name);
	assert_int_equal(test_child_wait(), 0);
	stream_free(&in);
	sbuf_free(&k.got);
	sbuf_free(&cmd);
	sbuf_free(&line);
	sbuf_free(&input);
}

static void
test_bdat_whole(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(bdat_cases) / sizeof(bdat_cases[0]); i++)
		run_bdat_case(&bdat_cases[i], 0);
}

static void
test_bdat_bytewise(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(bdat_cases) / sizeof(bdat_cases[0]); i++)
		run_bdat_case(&bdat_cases[i], 1);
}

/*
 * CRLF to LF as a plain loop over the whole input, to check the reader
 * against; returns the count of bare CRs.
 */
static size_t
reference_crlf(const char *p, size_t len, struct sbuf *out)
{
	size_t i, bare_cr = 0;

	for (i = 0; i < len; i++) {
		if (p[i] == '\r' && i + 1 < len && p[i + 1] == '\n')
			continue;
		if (p[i] == '\r')
			bare_cr++;
		sbuf_catc(out, p[i]);
	}
	return bare_cr;
}

/*
 * A 1 MiB chunk reaches the sink in pieces no larger than
 * SMTPD_DATA_PIECE, with a CRLF, a bare CR and a CR before CRLF each
 * split across pieces, and the next command read in step after it.
 */
static void
test_bdat_large(void **state)
{
	const size_t len = 1024 * 1024, P = SMTPD_DATA_PIECE;
	struct sbuf *want = sbuf_new();
	struct data_state st;
	struct stream *in;
	size_t i, bare_cr;
	struct sink k;
	char *data;

	data = xmalloc(len + sizeof(NEXT_CMD) - 1);
	for (i = 0; i < len; i++)
		data[i] = i % 80 == 78 ? '\r' : i % 80 == 79 ? '\n' :
		    (char)('a' + i % 26);
	memcpy(data + P - 1, "\r\n", 2);
	memcpy(data + 2 * P - 1, "\ry", 2);
	memcpy(data + 3 * P - 1, "\r\r\n", 3);
	memcpy(data + len - 1, "\r", 1);
	memcpy(data + len, NEXT_CMD, sizeof(NEXT_CMD) - 1);
	bare_cr = reference_crlf(data, len, want);
	assert_true(bare_cr >= 3);

	sink_init(&k, 0);
	in = client(data, len + sizeof(NEXT_CMD) - 1, 0, false, LONG_MS);
	smtpd_bdat_begin(&st, &default_limits, sink_put, &k);
	assert_int_equal(smtpd_bdat_read(in, len, true, &st), DATA_OK);
	assert_true(k.max_piece <= P);
	assert_true(k.calls >= len / P);
	assert_int_equal(sbuf_len(k.got), sbuf_len(want));
	assert_memory_equal(sbuf_str(k.got), sbuf_str(want), sbuf_len(want));
	assert_int_equal(st.res.wire_bytes, len);
	assert_int_equal(st.res.bare_cr, bare_cr);
	assert_int_equal(st.res.bare_lf, 0);
	expect_next(in, "QUIT", "large chunk");
	assert_int_equal(test_child_wait(), 0);
	stream_free(&in);
	sbuf_free(&k.got);
	sbuf_free(&want);
	free(data);
}

/* A client that stops sending within a chunk times out. */
static void
test_bdat_timeout(void **state)
{
	struct data_state st;
	struct timespec t0;
	struct stream *in;
	struct sink k;

	sink_init(&k, 0);
	in = client(BYTES("0123456789"), 0, true, SHORT_MS);
	smtpd_bdat_begin(&st, &default_limits, sink_put, &k);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(smtpd_bdat_read(in, 100, true, &st), DATA_TIMEOUT);
	assert_true(test_ms_since(&t0) < LONG_MS / 2);
	assert_int_equal(k.calls, 0);
	stream_free(&in);
	assert_int_equal(test_child_wait(), 0);
	sbuf_free(&k.got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_data_whole,
		    test_child_setup, test_child_teardown),
		cmocka_unit_test_setup_teardown(test_data_bytewise,
		    test_child_setup, test_child_teardown),
		cmocka_unit_test_setup_teardown(test_data_timeout,
		    test_child_setup, test_child_teardown),
		cmocka_unit_test_setup_teardown(test_data_io_error,
		    test_child_setup, test_child_teardown),
		cmocka_unit_test_setup_teardown(test_data_line_max_zero,
		    test_child_setup, test_child_teardown),
		cmocka_unit_test_setup_teardown(test_bdat_whole,
		    test_child_setup, test_child_teardown),
		cmocka_unit_test_setup_teardown(test_bdat_bytewise,
		    test_child_setup, test_child_teardown),
		cmocka_unit_test_setup_teardown(test_bdat_large,
		    test_child_setup, test_child_teardown),
		cmocka_unit_test_setup_teardown(test_bdat_timeout,
		    test_child_setup, test_child_teardown),
	};

	return cmocka_run_group_tests_name("smtpd_data", tests, NULL, NULL);
}
