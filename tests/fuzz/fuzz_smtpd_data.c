/*
 * fuzz_smtpd_data - message content after DATA or in BDAT chunks, as a
 * client sends it, read by smtpd_data.c through a real stream
 *
 * The input: a byte of flags (bit 0: BDAT, else DATA; bit 1: a sink that
 * fails past FUZZ_SINK_CAP bytes), a byte each for the line limit, the
 * size limit and the hop limit (0: none), a byte for the size of the
 * pieces the client's bytes arrive in; for BDAT a byte for the number of
 * chunks (1 to 8) and a byte for each chunk's size (the last one has
 * LAST); then the bytes the client sends, at most FUZZ_INPUT_MAX. They
 * go through a SOCK_SEQPACKET socket pair, one piece per packet, so the
 * stream sees them in reads of that size.
 *
 * Each message is also taken apart here the simple way (a line ends
 * with LF, CRLF "." CRLF after CRLF or at the start ends DATA, BDAT only
 * turns CRLF into LF) and the reader must agree: the status (DATA), what
 * the sink got (all of the content when DATA_OK, a beginning of it
 * otherwise), the counts, and, unless the input failed, the bytes left
 * on the stream for the next command. So stored content never holds
 * bytes that came after the end of the message.
 */
#include "fuzz.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "smtpd_data.h"
#include "util/sbuf.h"
#include "util/stream.h"

#define FUZZ_INPUT_MAX	(32 * 1024)	/* bytes the client sends */
#define FUZZ_PIECES_MAX	64		/* packets: these fit the socket */
#define FUZZ_SINK_CAP	100		/* bytes a failing sink takes */
#define FUZZ_CHUNKS_MAX	8
#define FUZZ_TIMEOUT_MS	10000

/* What the sink got. */
struct fuzz_sink {
	struct sbuf *got;
	bool fails;
};

/* The content as the simple reading gives it. */
struct fuzz_expect {
	struct sbuf *content;		/* what a DATA_OK message stores */
	size_t end;			/* input octets up to its end */
	bool complete;			/* the message ended in the input */
	enum data_status status;	/* DATA only */
	size_t received;		/* Received: lines in the header */
	size_t bare_lf, bare_cr;
};

static int
fuzz_sink(void *ctx, const char *bytes, size_t len)
{
	struct fuzz_sink *s = ctx;

	if (len == 0)
		abort();
	if (s->fails && sbuf_len(s->got) + len > FUZZ_SINK_CAP)
		return -1;
	sbuf_catn(s->got, bytes, len);
	return 0;
}

/* A limit from one input byte: 0 is none, else small. */
static size_t
fuzz_limit(uint8_t b)
{
	return b == 0 ? SIZE_MAX : b;
}

/* True when the len bytes at p start a Received: header field. */
static bool
fuzz_is_received(const char *p, size_t len)
{
	size_t i;

	if (len < 8 || strncasecmp(p, "received", 8) != 0)
		return false;
	for (i = 8; i < len && (p[i] == ' ' || p[i] == '\t'); i++)
		continue;
	return i < len && p[i] == ':';
}

/*
 * Adds one stored line (with its LF) to e, as data_put() takes it:
 * counts, then the first limit it breaks sets the status.
 */
static void
fuzz_expect_line(struct fuzz_expect *e, const struct data_limits *lim,
    bool sink_fails, bool *in_header, const char *p, size_t len)
{
	if (*in_header) {
		if (len == 1)
			*in_header = false;
		else if (fuzz_is_received(p, len))
			e->received++;
	}
	sbuf_catn(e->content, p, len);
	if (e->status != DATA_OK)
		return;
	if (sbuf_len(e->content) > lim->size_max)
		e->status = DATA_TOO_BIG;
	else if (e->received > lim->hop_max)
		e->status = DATA_TOO_MANY_HOPS;
	else if (sink_fails && sbuf_len(e->content) > FUZZ_SINK_CAP)
		e->status = DATA_SINK_FAILED;
}

/* The simple reading of a DATA message in in[0..len). */
static void
fuzz_expect_data(const char *in, size_t len, const struct data_limits *lim,
    bool sink_fails, struct fuzz_expect *e)
{
	struct sbuf *line = sbuf_new();
	bool prev_crlf = true, in_header = true, crlf;
	size_t pos = 0, n;
	const char *nl;

	while ((nl = memchr(in + pos, '\n', len - pos)) != NULL) {
		n = (size_t)(nl - (in + pos));
		crlf = n > 0 && in[pos + n - 1] == '\r';
		n -= crlf;
		if (crlf && prev_crlf && n == 1 && in[pos] == '.') {
			e->complete = true;
			e->end = (size_t)(nl + 1 - in);
			break;
		}
		prev_crlf = crlf;
		e->bare_lf += !crlf;
		for (size_t i = 0; i < n; i++)
			e->bare_cr += in[pos + i] == '\r';
		if (n > lim->line_max && e->status == DATA_OK)
			e->status = DATA_LINE_TOO_LONG;
		sbuf_reset(line);
		if (n > 0 && in[pos] == '.')
			sbuf_catn(line, in + pos + 1, n - 1);
		else
			sbuf_catn(line, in + pos, n);
		sbuf_catc(line, '\n');
		fuzz_expect_line(e, lim, sink_fails, &in_header,
		    sbuf_str(line), sbuf_len(line));
		pos = (size_t)(nl + 1 - in);
	}
	if (!e->complete)
		e->status = DATA_EOF;
	sbuf_free(&line);
}

/* The simple reading of BDAT chunks, the whole in[0..len). */
static void
fuzz_expect_bdat(const char *in, size_t len, struct fuzz_expect *e)
{
	bool in_header = true, bol = true;

	for (size_t i = 0; i < len; i++) {
		if (in[i] == '\r' && i + 1 < len && in[i + 1] == '\n')
			continue;
		sbuf_catc(e->content, in[i]);
		e->bare_lf += in[i] == '\n' && (i == 0 || in[i - 1] != '\r');
		e->bare_cr += in[i] == '\r';
	}
	/* Received: lines of the header, over the stored form. */
	for (size_t i = 0; i < sbuf_len(e->content) && in_header; i++) {
		if (bol) {
			if (sbuf_str(e->content)[i] == '\n')
				in_header = false;
			else if (fuzz_is_received(sbuf_str(e->content) + i,
			    sbuf_len(e->content) - i))
				e->received++;
		}
		bol = sbuf_str(e->content)[i] == '\n';
	}
	e->complete = true;
	e->end = len;
}

/* Aborts unless what the reader left on the stream is in[from..len). */
static void
fuzz_check_rest(struct stream *st, const char *in, size_t len, size_t from)
{
	struct sbuf *rest = sbuf_new();
	char buf[4096];
	size_t n;

	while (stream_read(st, buf, sizeof(buf), &n) == LINE_OK)
		sbuf_catn(rest, buf, n);
	if (sbuf_len(rest) != len - from ||
	    memcmp(sbuf_str(rest), in + from, len - from) != 0)
		abort();
	sbuf_free(&rest);
}

/* Aborts unless got is a beginning of want (all of it when whole). */
static void
fuzz_check_content(const struct sbuf *got, const struct sbuf *want,
    bool whole)
{
	if (sbuf_len(got) > sbuf_len(want) ||
	    (whole && sbuf_len(got) != sbuf_len(want)) ||
	    memcmp(sbuf_str(got), sbuf_str(want), sbuf_len(got)) != 0)
		abort();
}

/* True for the statuses after which the message was read to its end. */
static bool
fuzz_read_to_end(enum data_status status)
{
	return status != DATA_EOF && status != DATA_TIMEOUT &&
	    status != DATA_IO_ERROR;
}

/*
 * Sends in[0..len) to fd in pieces of piece bytes (larger when that
 * would make too many packets), then its end.
 */
static void
fuzz_send(int fd, const char *in, size_t len, size_t piece)
{
	if (len / piece >= FUZZ_PIECES_MAX)
		piece = len / FUZZ_PIECES_MAX + 1;
	for (size_t off = 0; off < len; off += piece) {
		size_t n = len - off < piece ? len - off : piece;

		if (write(fd, in + off, n) != (ssize_t)n)
			abort();
	}
	if (shutdown(fd, SHUT_WR) < 0)
		abort();
}

static void
fuzz_data(struct stream *st, const char *in, size_t len,
    const struct data_limits *lim, struct fuzz_sink *sink)
{
	struct fuzz_expect e = { .content = sbuf_new() };
	struct data_result res;
	enum data_status status;

	fuzz_expect_data(in, len, lim, sink->fails, &e);
	status = smtpd_data_read(st, lim, fuzz_sink, sink, &res);
	if (status != e.status)
		abort();
	fuzz_check_content(sink->got, e.content, status == DATA_OK);
	if (status == DATA_OK && (res.size != sbuf_len(e.content) ||
	    res.stored != res.size || res.wire_bytes != e.end ||
	    res.received != e.received || res.bare_lf != e.bare_lf ||
	    res.bare_cr != e.bare_cr || res.long_lines != 0))
		abort();
	if (fuzz_read_to_end(status))
		fuzz_check_rest(st, in, len, e.end);
	sbuf_free(&e.content);
}

static void
fuzz_bdat(struct stream *st, const char *in, size_t len,
    const uint8_t *sizes, size_t chunks, const struct data_limits *lim,
    struct fuzz_sink *sink)
{
	struct fuzz_expect e = { .content = sbuf_new() };
	struct data_state ds;
	enum data_status status = DATA_OK;
	size_t total = 0, i;

	for (i = 0; i < chunks; i++)
		total += sizes[i];
	smtpd_bdat_begin(&ds, lim, fuzz_sink, sink);
	for (i = 0; i < chunks; i++) {
		status = smtpd_bdat_read(st, sizes[i], i + 1 == chunks, &ds);
		if (!fuzz_read_to_end(status))
			break;
	}
	if (total > len) {
		if (status != DATA_EOF)
			abort();
		goto out;
	}
	fuzz_expect_bdat(in, total, &e);
	fuzz_check_content(sink->got, e.content, status == DATA_OK);
	if (status == DATA_OK && (ds.res.size != sbuf_len(e.content) ||
	    ds.res.stored != ds.res.size || ds.res.wire_bytes != total ||
	    ds.res.received != e.received || ds.res.bare_lf != e.bare_lf ||
	    ds.res.bare_cr != e.bare_cr ||
	    ds.res.size > lim->size_max || ds.res.received > lim->hop_max))
		abort();
	if (status == DATA_TOO_BIG && sbuf_len(e.content) <= lim->size_max)
		abort();
	if (status == DATA_TOO_MANY_HOPS && e.received <= lim->hop_max)
		abort();
	if (status == DATA_LINE_TOO_LONG || !fuzz_read_to_end(status))
		abort();
	fuzz_check_rest(st, in, len, total);
out:
	sbuf_free(&e.content);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_sink sink;
	struct data_limits lim;
	const uint8_t *sizes = NULL;
	size_t head = 5, chunks = 0;
	struct stream *st;
	bool bdat;
	int sv[2];

	if (size < head || size > FUZZ_INPUT_MAX)
		return 0;
	bdat = data[0] & 1;
	sink.fails = data[0] & 2;
	lim.line_max = data[1] == 0 ? SMTPD_DATA_LINE_MAX : data[1];
	lim.size_max = fuzz_limit(data[2]);
	lim.hop_max = data[3] == 0 ? SIZE_MAX : data[3] % 4;
	if (bdat) {
		if (size < head + 1)
			return 0;
		chunks = data[head] % FUZZ_CHUNKS_MAX + 1;
		sizes = data + head + 1;
		head += 1 + chunks;
		if (size < head)
			return 0;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0)
		abort();
	fuzz_send(sv[1], (const char *)data + head, size - head,
	    (size_t)data[4] + 1);
	st = stream_open(sv[0], FUZZ_TIMEOUT_MS);
	sink.got = sbuf_new();
	if (bdat)
		fuzz_bdat(st, (const char *)data + head, size - head, sizes,
		    chunks, &lim, &sink);
	else
		fuzz_data(st, (const char *)data + head, size - head, &lim,
		    &sink);
	stream_free(&st);
	close(sv[0]);
	close(sv[1]);
	sbuf_free(&sink.got);
	return 0;
}
