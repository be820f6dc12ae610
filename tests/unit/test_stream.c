/*
 * test_stream - buffered stream I/O with deadlines over real sockets
 *
 * Each test talks over a socketpair (or a pipe); a forked child plays the
 * peer where the peer has to run at the same time, and is reaped in the
 * teardown whatever happens. Every test runs under an alarm, so a hang is
 * a failure, not a stuck run.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "util/safe_file.h"
#include "util/sbuf.h"
#include "util/stream.h"
#include "util/xmalloc.h"

#define LONG_MS 10000		/* a deadline no passing test reaches */

/* A connected pair: fds[0] for the stream, fds[1] for the peer. */
static void
make_pair(int fds[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    fds), 0);
}

/*
 * Forks a child that writes data to fds[1] in pieces of piece bytes (0:
 * all at once), pausing between them so the reader sees them apart, then
 * closes; the parent keeps fds[0] only.
 */
static void
feed(int fds[2], const void *data, size_t len, size_t piece)
{
	const struct timespec pause = {0, 200000};
	const char *p = data;
	size_t n;

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
		_exit(0);
	}
	close(fds[1]);
}

/*
 * Forks a child that reads fds[1] to the end and exits 0 if it got
 * exactly len bytes equal to want; the parent keeps fds[0] only.
 */
static void
sink(int fds[2], const void *want, size_t len)
{
	struct sbuf *got;
	char buf[4096];
	ssize_t n;

	test_child_pid = fork();
	assert_true(test_child_pid >= 0);
	if (test_child_pid == 0) {
		close(fds[0]);
		got = sbuf_new();
		while ((n = read(fds[1], buf, sizeof(buf))) != 0) {
			if (n < 0 && errno != EINTR)
				_exit(2);
			if (n > 0)
				sbuf_catn(got, buf, (size_t)n);
		}
		_exit(sbuf_len(got) == len &&
		    memcmp(sbuf_str(got), want, len) == 0 ? 0 : 1);
	}
	close(fds[1]);
}

/* One expected result of stream_read_line(). */
struct line_expect {
	enum line_status status;
	const char *content;
	size_t len;
	enum stream_eol eol;
};

#define OK(str, eol) {LINE_OK, str, sizeof(str) - 1, STREAM_EOL_##eol}
#define LONG(str, eol) {LINE_TOO_LONG, str, sizeof(str) - 1, STREAM_EOL_##eol}
#define END {LINE_EOF, "", 0, STREAM_EOL_NONE}
#define BYTES(str) str, sizeof(str) - 1

struct line_case {
	const char *name;
	const char *input;
	size_t input_len;
	size_t max;
	struct line_expect expect[6];	/* up to and including END */
};

static const struct line_case line_cases[] = {
	{"crlf", BYTES("HELO a\r\n"), 100, {OK("HELO a", CRLF), END}},
	{"bare lf", BYTES("HELO a\n"), 100, {OK("HELO a", LF), END}},
	{"mixed endings", BYTES("a\r\nb\nc\r\n"), 100,
	    {OK("a", CRLF), OK("b", LF), OK("c", CRLF), END}},
	{"empty lines", BYTES("\r\n\n\r\n"), 100,
	    {OK("", CRLF), OK("", LF), OK("", CRLF), END}},
	{"smuggling dot", BYTES("x\n.\n.\r\n"), 100,
	    {OK("x", LF), OK(".", LF), OK(".", CRLF), END}},
	{"no newline at eof", BYTES("QUIT"), 100, {OK("QUIT", NONE), END}},
	{"newline then partial", BYTES("a\r\nbc"), 100,
	    {OK("a", CRLF), OK("bc", NONE), END}},
	{"bare cr inside", BYTES("a\rb\r\n"), 100, {OK("a\rb", CRLF), END}},
	{"cr cr lf", BYTES("a\r\r\n"), 100, {OK("a\r", CRLF), END}},
	{"cr before eof", BYTES("a\r"), 100, {OK("a\r", NONE), END}},
	{"only cr", BYTES("\r"), 100, {OK("\r", NONE), END}},
	{"lf cr", BYTES("a\n\rb\n"), 100, {OK("a", LF), OK("\rb", LF), END}},
	{"nul bytes", BYTES("a\0b\0\r\n\0\n"), 100,
	    {OK("a\0b\0", CRLF), OK("\0", LF), END}},
	{"exactly max", BYTES("abcd\r\nabcd\n"), 4,
	    {OK("abcd", CRLF), OK("abcd", LF), END}},
	{"one over max", BYTES("abcde\r\nok\r\n"), 4,
	    {LONG("abcd", CRLF), OK("ok", CRLF), END}},
	{"over max bare lf", BYTES("abcdefgh\nok\n"), 4,
	    {LONG("abcd", LF), OK("ok", LF), END}},
	{"max and cr at eof", BYTES("abcd\r"), 4, {LONG("abcd", NONE), END}},
	{"over max at eof", BYTES("abcdefgh"), 4, {LONG("abcd", NONE), END}},
	{"max zero", BYTES("\r\nx\r\n\n"), 0,
	    {OK("", CRLF), LONG("", CRLF), OK("", LF), END}},
	{"long lines in a row", BYTES("0123456789\r\n0123456789\r\nabc\r\n"),
	    5, {LONG("01234", CRLF), LONG("01234", CRLF), OK("abc", CRLF),
	    END}},
	{"empty input", "", 0, 100, {END}},
};

/* Reads lines from s and checks them against c's expectations. */
static void
check_lines(struct stream *s, const struct line_case *c)
{
	struct sbuf *line = sbuf_new();
	const struct line_expect *e;
	enum line_status st;

	for (e = c->expect;; e++) {
		st = stream_read_line(s, line, c->max);
		if (st != e->status)
			fail_msg("%s: line %d: status %d, want %d", c->name,
			    (int)(e - c->expect), st, e->status);
		if (st == LINE_EOF)
			break;
		if (sbuf_len(line) != e->len ||
		    memcmp(sbuf_str(line), e->content, e->len) != 0)
			fail_msg("%s: line %d: wrong content \"%s\"", c->name,
			    (int)(e - c->expect), sbuf_str(line));
		if (stream_last_eol(s) != e->eol)
			fail_msg("%s: line %d: eol %d, want %d", c->name,
			    (int)(e - c->expect), stream_last_eol(s), e->eol);
	}
	/* The end stays the end. */
	assert_int_equal(stream_read_line(s, line, c->max), LINE_EOF);
	assert_null(stream_error(s));
	sbuf_free(&line);
}

/* Each row with all its input already waiting. */
static void
test_lines_whole(void **state)
{
	const struct line_case *c;
	struct stream *s;
	int fds[2];

	for (c = line_cases; c < line_cases + sizeof(line_cases) /
	    sizeof(line_cases[0]); c++) {
		make_pair(fds);
		assert_int_equal(safe_write_all(fds[1], c->input, c->input_len), 0);
		close(fds[1]);
		s = stream_open(fds[0], LONG_MS);
		check_lines(s, c);
		stream_free(&s);
	}
}

/* Each row again, written one byte at a time. */
static void
test_lines_bytewise(void **state)
{
	const struct line_case *c;
	struct stream *s;
	int fds[2];

	for (c = line_cases; c < line_cases + sizeof(line_cases) /
	    sizeof(line_cases[0]); c++) {
		make_pair(fds);
		feed(fds, c->input, c->input_len, 1);
		s = stream_open(fds[0], LONG_MS);
		check_lines(s, c);
		stream_free(&s);
		assert_int_equal(test_child_wait(), 0);
	}
}

/* The same over a pipe, which is read without recv(). */
static void
test_lines_pipe(void **state)
{
	struct line_case c = {"pipe", BYTES("EHLO x\r\nDATA\n"), 100,
	    {OK("EHLO x", CRLF), OK("DATA", LF), END}};
	struct stream *s;
	int p[2];

	assert_int_equal(pipe(p), 0);
	assert_int_equal(safe_write_all(p[1], c.input, c.input_len), 0);
	close(p[1]);
	s = stream_open(p[0], LONG_MS);
	check_lines(s, &c);
	stream_free(&s);
}

/* Fills a buffer with n bytes of byte c. */
static char *
repeat(int c, size_t n)
{
	char *p = xmalloc(n + 1);

	memset(p, c, n);
	p[n] = '\0';
	return p;
}

/* Lines whose terminator straddles the read buffer's end. */
static void
test_lines_buffer_boundary(void **state)
{
	const size_t n = STREAM_BUF_SIZE - 1;
	struct sbuf *input = sbuf_new(), *line = sbuf_new();
	char *a = repeat('a', n);
	struct stream *s;
	int fds[2];

	/* CR ends the first buffer, LF starts the next. */
	sbuf_catn(input, a, n);
	sbuf_cat(input, "\r\n");
	/* A bare CR at the end of a buffer, not followed by LF. */
	sbuf_catn(input, a, STREAM_BUF_SIZE - 2 - 1);
	sbuf_cat(input, "\rb\n");
	make_pair(fds);
	assert_int_equal(safe_write_all(fds[1], sbuf_str(input), sbuf_len(input)),
	    0);
	close(fds[1]);
	s = stream_open(fds[0], LONG_MS);

	assert_int_equal(stream_read_line(s, line, 100000), LINE_OK);
	assert_int_equal(sbuf_len(line), n);
	assert_int_equal(stream_last_eol(s), STREAM_EOL_CRLF);
	assert_int_equal(stream_read_line(s, line, 100000), LINE_OK);
	assert_int_equal(sbuf_len(line), STREAM_BUF_SIZE - 3 + 2);
	assert_memory_equal(sbuf_str(line) + STREAM_BUF_SIZE - 3, "\rb", 2);
	assert_int_equal(stream_last_eol(s), STREAM_EOL_LF);
	assert_int_equal(stream_read_line(s, line, 100000), LINE_EOF);

	stream_free(&s);
	sbuf_free(&input);
	sbuf_free(&line);
	free(a);
}

/* A line far longer than the buffer is skipped; the next one is read. */
static void
test_lines_huge(void **state)
{
	const size_t n = 5 * STREAM_BUF_SIZE + 123;
	struct sbuf *input = sbuf_new(), *line = sbuf_new();
	char *x = repeat('x', n);
	struct stream *s;
	int fds[2];

	sbuf_catn(input, x, n);
	sbuf_cat(input, "\r\nNOOP\r\n");
	sbuf_catn(input, x, n);		/* and one cut by the end */
	make_pair(fds);
	feed(fds, sbuf_str(input), sbuf_len(input), 0);
	s = stream_open(fds[0], LONG_MS);

	assert_int_equal(stream_read_line(s, line, 1000), LINE_TOO_LONG);
	assert_int_equal(sbuf_len(line), 1000);
	assert_int_equal(stream_last_eol(s), STREAM_EOL_CRLF);
	assert_int_equal(stream_read_line(s, line, 1000), LINE_OK);
	assert_string_equal(sbuf_str(line), "NOOP");
	assert_int_equal(stream_read_line(s, line, 1000), LINE_TOO_LONG);
	assert_int_equal(stream_last_eol(s), STREAM_EOL_NONE);
	assert_int_equal(stream_read_line(s, line, 1000), LINE_EOF);

	stream_free(&s);
	assert_int_equal(test_child_wait(), 0);
	sbuf_free(&input);
	sbuf_free(&line);
	free(x);
}

/* The caller's sbuf limit bounds a line as max does. */
static void
test_lines_sbuf_limit(void **state)
{
	struct sbuf *line = sbuf_new();
	struct stream *s;
	int fds[2];

	make_pair(fds);
	assert_int_equal(safe_write_all(fds[1], BYTES("abcdef\r\nabc\r\n")), 0);
	close(fds[1]);
	s = stream_open(fds[0], LONG_MS);
	sbuf_set_limit(line, 3);
	assert_int_equal(stream_read_line(s, line, 100), LINE_TOO_LONG);
	assert_string_equal(sbuf_str(line), "abc");
	assert_int_equal(stream_read_line(s, line, 100), LINE_OK);
	assert_string_equal(sbuf_str(line), "abc");
	stream_free(&s);
	sbuf_free(&line);
}

/* A silent peer: LINE_TIMEOUT after the deadline, and not before. */
static void
test_read_timeout(void **state)
{
	struct sbuf *line = sbuf_new();
	struct timespec t0;
	struct stream *s;
	char buf[64];
	long ms;
	int fds[2];

	make_pair(fds);
	assert_int_equal(safe_write_all(fds[1], BYTES("HEL")), 0);
	s = stream_open(fds[0], 200);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(stream_read_line(s, line, 100), LINE_TIMEOUT);
	ms = test_ms_since(&t0);
	assert_true(ms >= 200 && ms < 5000);
	assert_non_null(stream_error(s));
	assert_non_null(strstr(stream_error(s), "read timed out"));

	/* Reading has ended; a last reply can still be sent. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(stream_read_line(s, line, 100), LINE_TIMEOUT);
	assert_true(test_ms_since(&t0) < 150);
	assert_int_equal(stream_puts(s, "421 timeout\r\n"), 0);
	assert_int_equal(stream_flush(s), 0);
	assert_int_equal(read(fds[1], buf, sizeof(buf)), 13);
	assert_memory_equal(buf, "421 timeout\r\n", 13);

	/* The first error is the one reported. */
	close(fds[1]);
	stream_puts(s, "x");
	assert_int_equal(stream_flush(s), -1);
	assert_non_null(strstr(stream_error(s), "read timed out"));
	stream_free(&s);
	sbuf_free(&line);
}

/* A peer that trickles bytes cannot stretch one call past its deadline. */
static void
test_read_trickle(void **state)
{
	const struct timespec pause = {0, 20000000};
	struct sbuf *line = sbuf_new();
	struct timespec t0;
	struct stream *s;
	int fds[2];

	make_pair(fds);
	test_child_pid = fork();
	assert_true(test_child_pid >= 0);
	if (test_child_pid == 0) {
		close(fds[0]);
		signal(SIGPIPE, SIG_IGN);
		while (write(fds[1], "x", 1) == 1)
			nanosleep(&pause, NULL);
		_exit(0);
	}
	close(fds[1]);
	s = stream_open(fds[0], 300);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(stream_read_line(s, line, 1000000), LINE_TIMEOUT);
	assert_true(test_ms_since(&t0) < 3000);
	stream_free(&s);
	assert_int_equal(test_child_wait(), 0);
	sbuf_free(&line);
}

/* Writing to a closed socket: an error, not SIGPIPE. */
static void
test_write_closed_socket(void **state)
{
	struct stream *s;
	int fds[2];

	make_pair(fds);
	close(fds[1]);
	s = stream_open(fds[0], LONG_MS);
	assert_int_equal(stream_puts(s, "250 ok\r\n"), 0);
	assert_int_equal(stream_flush(s), -1);
	assert_non_null(stream_error(s));
	assert_non_null(strstr(stream_error(s), "write"));
	/* Writes fail at once from now on. */
	assert_int_equal(stream_puts(s, "250 ok\r\n"), -1);
	assert_int_equal(stream_flush(s), -1);
	stream_free(&s);
}

/* Writing to a pipe without a reader: an error, and no SIGPIPE left. */
static void
test_write_closed_pipe(void **state)
{
	sigset_t pending;
	struct stream *s;
	int p[2];

	assert_int_equal(pipe(p), 0);
	close(p[0]);
	s = stream_open(p[1], LONG_MS);
	assert_int_equal(stream_printf(s, "%s\n", "data"), 0);
	assert_int_equal(stream_flush(s), -1);
	assert_non_null(strstr(stream_error(s), "Broken pipe"));
	assert_int_equal(sigpending(&pending), 0);
	assert_false(sigismember(&pending, SIGPIPE));
	stream_free(&s);
}

/* A peer that never reads: the write times out, on a socket or a pipe. */
static void
test_write_timeout(void **state)
{
	char *chunk = repeat('w', 65536);
	struct timespec t0;
	struct stream *s;
	int fds[2], kind, i, ret;

	for (kind = 0; kind < 2; kind++) {
		if (kind == 0) {
			make_pair(fds);
		} else {
			assert_int_equal(pipe(fds), 0);
			i = fds[0];
			fds[0] = fds[1];
			fds[1] = i;
		}
		s = stream_open(fds[0], 200);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		ret = 0;
		/* A little first, so the pipe is never empty, then lots. */
		for (i = 0; i < 1000 && ret == 0; i++)
			ret = stream_write(s, chunk, i == 0 ? 100 : 65536);
		assert_int_equal(ret, -1);
		assert_true(test_ms_since(&t0) < 5000);
		assert_non_null(strstr(stream_error(s), "write timed out"));
		stream_free(&s);
		close(fds[1]);
	}
	free(chunk);
}

/*
 * A mix of small, odd-sized, formatted and larger-than-buffer writes;
 * appended to model when s is NULL.
 */
static void
write_mix(struct stream *s, struct sbuf *model)
{
	char *big = repeat('B', 3 * STREAM_BUF_SIZE + 7);
	char piece[97];
	size_t i, n;

	for (i = 0; i < sizeof(piece); i++)
		piece[i] = (char)('a' + i % 26);
	for (i = 0; i < 3000; i++) {
		n = i % sizeof(piece) + 1;
		if (s != NULL)
			assert_int_equal(stream_write(s, piece, n), 0);
		else
			sbuf_catn(model, piece, n);
		if (i % 500 == 0) {
			if (s != NULL)
				assert_int_equal(stream_printf(s,
				    "%zu:%s\r\n", i, big), 0);
			else
				sbuf_printf(model, "%zu:%s\r\n", i, big);
		}
		if (i % 700 == 0) {
			if (s != NULL)
				assert_int_equal(stream_puts(s, big), 0);
			else
				sbuf_cat(model, big);
		}
	}
	free(big);
}

/* Everything written arrives, in order, once. */
static void
test_write_large(void **state)
{
	struct sbuf *model = sbuf_new();
	struct stream *s;
	int fds[2];

	write_mix(NULL, model);
	make_pair(fds);
	sink(fds, sbuf_str(model), sbuf_len(model));
	s = stream_open(fds[0], LONG_MS);
	write_mix(s, model);
	assert_int_equal(stream_flush(s), 0);
	assert_null(stream_error(s));
	stream_free(&s);
	assert_int_equal(test_child_wait(), 0);
	sbuf_free(&model);
}

/* The same into a pipe, which is written in pieces of PIPE_BUF. */
static void
test_write_pipe(void **state)
{
	struct sbuf *model = sbuf_new();
	struct stream *s;
	int p[2], fds[2];

	write_mix(NULL, model);
	assert_int_equal(pipe(p), 0);
	fds[0] = p[1];
	fds[1] = p[0];
	sink(fds, sbuf_str(model), sbuf_len(model));
	s = stream_open(fds[0], LONG_MS);
	write_mix(s, model);
	assert_int_equal(stream_flush(s), 0);
	assert_null(stream_error(s));
	stream_free(&s);
	assert_int_equal(test_child_wait(), 0);
	sbuf_free(&model);
}

/* Replies are flushed before a read waits, without stream_flush(). */
static void
test_flush_before_wait(void **state)
{
	struct sbuf *line = sbuf_new();
	struct stream *s;
	char buf[64];
	size_t got = 0;
	ssize_t n;
	int fds[2];

	make_pair(fds);
	test_child_pid = fork();
	assert_true(test_child_pid >= 0);
	if (test_child_pid == 0) {
		close(fds[0]);
		while (got < 11 && (n = read(fds[1], buf + got,
		    sizeof(buf) - got)) > 0)
			got += (size_t)n;
		if (got != 11 || memcmp(buf, "220 ready\r\n", 11) != 0)
			_exit(1);
		_exit(safe_write_all(fds[1], BYTES("EHLO x\r\n")) < 0 ? 2 : 0);
	}
	close(fds[1]);
	s = stream_open(fds[0], LONG_MS);
	assert_int_equal(stream_puts(s, "220 ready\r\n"), 0);
	assert_int_equal(stream_read_line(s, line, 100), LINE_OK);
	assert_string_equal(sbuf_str(line), "EHLO x");
	stream_free(&s);
	assert_int_equal(test_child_wait(), 0);
	sbuf_free(&line);
}

/* Make a literal's bytes: byte i is i * 7 mod 251. */
static char *
pattern(size_t n)
{
	char *p = xmalloc(n);
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (char)(i * 7 % 251);
	return p;
}

/* Literals across buffer boundaries, too large ones, cut ones. */
static void
test_read_exact(void **state)
{
	const size_t n = 2 * STREAM_BUF_SIZE + 1000;
	struct sbuf *input = sbuf_new(), *line = sbuf_new();
	struct sbuf *out = sbuf_new();
	char *data = pattern(n);
	struct stream *s;
	int fds[2];

	sbuf_printf(input, "A1 APPEND {%zu}\r\n", n);
	sbuf_catn(input, data, n);
	sbuf_printf(input, "\r\nA2 APPEND {%zu}\r\n", n);
	sbuf_catn(input, data, n);
	sbuf_cat(input, "\r\nA3 NOOP\r\n");
	sbuf_catn(input, data, 10);	/* a literal cut by the end */
	make_pair(fds);
	feed(fds, sbuf_str(input), sbuf_len(input), 0);
	s = stream_open(fds[0], LONG_MS);

	assert_int_equal(stream_read_line(s, line, 100), LINE_OK);
	sbuf_set(out, "pre:");
	assert_int_equal(stream_read_exact(s, out, n), LINE_OK);
	assert_int_equal(sbuf_len(out), 4 + n);
	assert_memory_equal(sbuf_str(out), "pre:", 4);
	assert_memory_equal(sbuf_str(out) + 4, data, n);
	assert_int_equal(stream_read_line(s, line, 100), LINE_OK);
	assert_int_equal(sbuf_len(line), 0);
	assert_int_equal(stream_last_eol(s), STREAM_EOL_CRLF);

	/* Too large for out: skipped, out untouched, stream in step. */
	assert_int_equal(stream_read_line(s, line, 100), LINE_OK);
	sbuf_setf(out, "A2 APPEND {%zu}", n);
	assert_string_equal(sbuf_str(line), sbuf_str(out));
	sbuf_set(out, "keep");
	sbuf_set_limit(out, 1000);
	assert_int_equal(stream_read_exact(s, out, n), LINE_TOO_LONG);
	assert_string_equal(sbuf_str(out), "keep");
	assert_int_equal(stream_read_line(s, line, 100), LINE_OK);
	assert_int_equal(stream_read_line(s, line, 100), LINE_OK);
	assert_string_equal(sbuf_str(line), "A3 NOOP");

	/* Content already past a lowered limit leaves no room at all. */
	sbuf_set_limit(out, 2);
	assert_int_equal(stream_read_exact(s, out, 1), LINE_TOO_LONG);
	assert_string_equal(sbuf_str(out), "keep");
	sbuf_set_limit(out, 1000);

	/* Cut by the end of input: EOF, out untouched. */
	assert_int_equal(stream_read_exact(s, out, 100), LINE_EOF);
	assert_string_equal(sbuf_str(out), "keep");
	assert_int_equal(stream_read_exact(s, out, 0), LINE_OK);

	stream_free(&s);
	assert_int_equal(test_child_wait(), 0);
	sbuf_free(&input);
	sbuf_free(&line);
	sbuf_free(&out);
	free(data);
}

/* stream_read() returns what is there, up to the size asked for. */
static void
test_read_some(void **state)
{
	struct stream *s;
	char buf[100];
	size_t got;
	int fds[2];

	make_pair(fds);
	assert_int_equal(safe_write_all(fds[1], BYTES("hello world")), 0);
	s = stream_open(fds[0], LONG_MS);
	assert_int_equal(stream_read(s, buf, 5, &got), LINE_OK);
	assert_int_equal(got, 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(stream_pending(s), 6);
	assert_int_equal(stream_read(s, buf, 0, &got), LINE_OK);
	assert_int_equal(got, 0);
	assert_int_equal(stream_read(s, buf, sizeof(buf), &got), LINE_OK);
	assert_int_equal(got, 6);
	assert_memory_equal(buf, " world", 6);
	close(fds[1]);
	assert_int_equal(stream_read(s, buf, sizeof(buf), &got), LINE_EOF);
	assert_int_equal(got, 0);
	stream_free(&s);
}

/* Pipelined input is counted, and can be dropped (as before STARTTLS). */
static void
test_pending_discard(void **state)
{
	struct sbuf *line = sbuf_new();
	struct stream *s;
	int fds[2];

	make_pair(fds);
	assert_int_equal(safe_write_all(fds[1],
	    BYTES("STARTTLS\r\nMAIL FROM:<evil>\r\n")), 0);
	s = stream_open(fds[0], LONG_MS);
	assert_int_equal(stream_pending(s), 0);
	assert_int_equal(stream_read_line(s, line, 100), LINE_OK);
	assert_string_equal(sbuf_str(line), "STARTTLS");
	assert_int_equal(stream_pending(s), 18);
	stream_discard_pending(s);
	assert_int_equal(stream_pending(s), 0);
	assert_int_equal(safe_write_all(fds[1], BYTES("NOOP\r\n")), 0);
	assert_int_equal(stream_read_line(s, line, 100), LINE_OK);
	assert_string_equal(sbuf_str(line), "NOOP");
	assert_int_equal(stream_pending(s), 0);
	close(fds[1]);
	stream_free(&s);
	sbuf_free(&line);
}

/* stream_free() closes the descriptor and accepts NULL. */
static void
test_free_closes(void **state)
{
	struct stream *s;
	char c;
	int fds[2];

	make_pair(fds);
	s = stream_open(fds[0], LONG_MS);
	assert_int_equal(stream_fd(s), fds[0]);
	assert_int_equal(stream_puts(s, "unflushed"), 0);
	stream_free(&s);
	assert_null(s);
	assert_int_equal(fcntl(fds[0], F_GETFD), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(read(fds[1], &c, 1), 0);
	close(fds[1]);
	stream_free(&s);
}

/* A descriptor that cannot be used is the stream's first error. */
static void
test_bad_fd(void **state)
{
	struct sbuf *line = sbuf_new();
	struct stream *s;
	int p[2];

	assert_int_equal(pipe(p), 0);
	close(p[0]);
	close(p[1]);
	s = stream_open(p[0], LONG_MS);
	assert_non_null(stream_error(s));
	assert_non_null(strstr(stream_error(s), "Bad file descriptor"));
	assert_int_equal(stream_read_line(s, line, 100), LINE_ERROR);
	assert_int_equal(stream_puts(s, "x"), -1);
	assert_int_equal(stream_flush(s), -1);
	stream_free(&s);
	sbuf_free(&line);
}

/* A deadline of zero is a caller's bug. */
static void
test_bad_timeout(void **state)
{
	struct stream *s = NULL;
	int fds[2];

	make_pair(fds);
	test_msg_capture();
	EXPECT_FATAL(s = stream_open(fds[0], 0));
	assert_null(s);
	s = stream_open(fds[0], 100);
	EXPECT_FATAL(stream_set_timeout(s, -1));
	assert_non_null(strstr(test_msg_captured(), "bad timeout"));
	stream_set_timeout(s, 50);
	stream_free(&s);
	close(fds[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lines_whole,
		    test_child_setup, test_child_teardown),
		cmocka_unit_test_setup_teardown(test_lines_bytewise,
		    test_child_setup, test_child_teardown),
		cmocka_unit_test_setup_teardown(test_lines_pipe,
		    test_child_setup, test_child_teardown),
		cmocka_unit_test_setup_teardown(test_lines_buffer_boundary,
		    test_child_setup, test_child_teardown),
		cmocka_unit_test_setup_teardown(test_lines_huge,
		    test_child_setup, test_child_teardown),
		cmocka_unit_test_setup_teardown(test_lines_sbuf_limit,
		    test_child_setup, test_child_teardown),
		cmocka_unit_test_setup_teardown(test_read_timeout,
		    test_child_setup, test_child_teardown),
		cmocka_unit_test_setup_teardown(test_read_trickle,
		    test_child_setup, test_child_teardown),
		cmocka_unit_test_setup_teardown(test_write_closed_socket,
		    test_child_setup, test_child_teardown),
		cmocka_unit_test_setup_teardown(test_write_closed_pipe,
		    test_child_setup, test_child_teardown),
		cmocka_unit_test_setup_teardown(test_write_timeout,
		    test_child_setup, test_child_teardown),
		cmocka_unit_test_setup_teardown(test_write_large,
		    test_child_setup, test_child_teardown),
		cmocka_unit_test_setup_teardown(test_write_pipe,
		    test_child_setup, test_child_teardown),
		cmocka_unit_test_setup_teardown(test_flush_before_wait,
		    test_child_setup, test_child_teardown),
		cmocka_unit_test_setup_teardown(test_read_exact,
		    test_child_setup, test_child_teardown),
		cmocka_unit_test_setup_teardown(test_read_some,
		    test_child_setup, test_child_teardown),
		cmocka_unit_test_setup_teardown(test_pending_discard,
		    test_child_setup, test_child_teardown),
		cmocka_unit_test_setup_teardown(test_free_closes,
		    test_child_setup, test_child_teardown),
		cmocka_unit_test_setup_teardown(test_bad_fd,
		    test_child_setup, test_child_teardown),
		cmocka_unit_test_setup_teardown(test_bad_timeout,
		    test_child_setup, test_child_teardown),
	};

	/* Default SIGPIPE handling: a write that raised it would kill us. */
	signal(SIGPIPE, SIG_DFL);
	return cmocka_run_group_tests_name("stream", tests, NULL, NULL);
}
