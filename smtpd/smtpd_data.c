/*
 * smtpd_data - read a message's content after DATA or in BDAT chunks
 *
 * Two front ends share one back end. DATA reads lines with
 * stream_read_line(), which never reads past a line's end, so input
 * pipelined after the end marker stays on the stream for the command
 * reader; it decides the end from the line and the way it and the line
 * before it ended, and removes leading dots. BDAT reads exact pieces of
 * its chunk and turns CRLF into LF, holding a CR that ends a piece until
 * the next byte is known. Both hand LF-terminated content to
 * data_put(), which counts Received: headers, applies the size and hop
 * limits and calls the sink.
 *
 * Errors: returns an enum data_status; never logs. Running out of memory
 * is fatal (xmalloc); a line_max of 0 is a caller's bug and panics.
 * Trust: the content is hostile network data; it is counted and copied,
 * never stored beyond one line or one piece, and every count saturates
 * rather than wraps. The sink and the limits are the caller's.
 */
#include "smtpd_data.h"

#include <stdint.h>
#include <string.h>

#include "util/msg.h"
#include "util/sbuf.h"
#include "util/stream.h"

/* The header name counted for the hop limit, in lower case. */
static const char received_name[] = "received";
#define RECEIVED_LEN	(sizeof(received_name) - 1)
/* match: the name matched, waiting for optional blanks and ':' */
#define MATCH_NAME	RECEIVED_LEN
/* match: this line is not a Received: header */
#define MATCH_NONE	(RECEIVED_LEN + 1)

/* a + b, or SIZE_MAX when that does not fit. */
static inline size_t
add_sat(size_t a, size_t b)
{
	return b > SIZE_MAX - a ? SIZE_MAX : a + b;
}

/* The ASCII lower case of c. */
static inline int
ascii_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* What a failed read (not LINE_OK or LINE_TOO_LONG) means. */
static enum data_status
data_input_failed(enum line_status ls)
{
	switch (ls) {
	case LINE_EOF:
		return DATA_EOF;
	case LINE_TIMEOUT:
		return DATA_TIMEOUT;
	case LINE_ERROR:
		return DATA_IO_ERROR;
	case LINE_OK:
	case LINE_TOO_LONG:
		break;
	}
	msg_panic("data_input_failed: read status %d is no failure", ls);
}

/* Sets up st for a new message. */
static void
data_state_init(struct data_state *st, const struct data_limits *lim,
    data_sink_fn sink, void *ctx)
{
	memset(st, 0, sizeof(*st));
	st->status = DATA_OK;
	st->lim = lim;
	st->sink = sink;
	st->ctx = ctx;
	st->in_header = true;
	st->at_bol = true;
}

/* Counts the Received: lines that start in p[0..len) of the header. */
static void
data_scan_header(struct data_state *st, const char *p, size_t len)
{
	size_t i;
	int c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)p[i];
		if (st->at_bol) {
			if (c == '\n') {
				st->in_header = false;
				return;
			}
			st->at_bol = false;
			st->match = 0;
		}
		if (c == '\n') {
			st->at_bol = true;
		} else if (st->match < MATCH_NAME) {
			st->match = ascii_lower(c) == received_name[st->match] ?
			    st->match + 1 : MATCH_NONE;
		} else if (st->match == MATCH_NAME) {
			if (c == ':') {
				st->res.received = add_sat(st->res.received, 1);
				st->match = MATCH_NONE;
			} else if (c != ' ' && c != '\t') {
				st->match = MATCH_NONE;
			}
		}
	}
}

/*
 * Takes len (> 0) bytes of stored content: counts them and passes them
 * to the sink while the message is within its limits.
 */
static void
data_put(struct data_state *st, const char *p, size_t len)
{
	if (st->in_header)
		data_scan_header(st, p, len);
	st->res.size = add_sat(st->res.size, len);
	if (st->status != DATA_OK)
		return;
	if (st->res.size > st->lim->size_max)
		st->status = DATA_TOO_BIG;
	else if (st->res.received > st->lim->hop_max)
		st->status = DATA_TOO_MANY_HOPS;
	else if (st->sink(st->ctx, p, len) < 0)
		st->status = DATA_SINK_FAILED;
	else
		st->res.stored = add_sat(st->res.stored, len);
}

/* The length of a line ending on the wire. */
static size_t
eol_len(enum stream_eol eol)
{
	switch (eol) {
	case STREAM_EOL_NONE:
		break;
	case STREAM_EOL_LF:
		return 1;
	case STREAM_EOL_CRLF:
		return 2;
	}
	return 0;
}

/* The number of CRs in p[0..len). */
static size_t
count_cr(const char *p, size_t len)
{
	const char *cr, *end = p + len;
	size_t n = 0;

	while ((cr = memchr(p, '\r', (size_t)(end - p))) != NULL) {
		n++;
		p = cr + 1;
	}
	return n;
}

enum data_status
smtpd_data_read(struct stream *in, const struct data_limits *lim,
    data_sink_fn sink, void *ctx, struct data_result *res)
{
	enum data_status status = DATA_OK;
	struct data_state st;
	struct sbuf *line;
	enum line_status ls;
	enum stream_eol eol;
	bool prev_crlf = true;	/* the first line counts as after CRLF */
	size_t len, skip;

	if (lim->line_max == 0)
		msg_panic("smtpd_data_read: line_max is 0");
	data_state_init(&st, lim, sink, ctx);
	line = sbuf_new();
	for (;;) {
		ls = stream_read_line(in, line, lim->line_max);
		if (ls != LINE_OK && ls != LINE_TOO_LONG) {
			status = data_input_failed(ls);
			break;
		}
		len = sbuf_len(line);
		eol = stream_last_eol(in);
		st.res.wire_bytes = add_sat(st.res.wire_bytes, len +
		    eol_len(eol));
		if (eol == STREAM_EOL_NONE) {
			status = DATA_EOF;
			break;
		}
		if (ls == LINE_OK && eol == STREAM_EOL_CRLF && prev_crlf &&
		    len == 1 && sbuf_str(line)[0] == '.') {
			status = st.status;
			break;
		}
		prev_crlf = eol == STREAM_EOL_CRLF;
		if (eol == STREAM_EOL_LF)
			st.res.bare_lf = add_sat(st.res.bare_lf, 1);
		st.res.bare_cr = add_sat(st.res.bare_cr,
		    count_cr(sbuf_str(line), len));
		if (ls == LINE_TOO_LONG) {
			st.res.long_lines = add_sat(st.res.long_lines, 1);
			if (st.status == DATA_OK)
				st.status = DATA_LINE_TOO_LONG;
		}
		skip = len > 0 && sbuf_str(line)[0] == '.';
		sbuf_catc(line, '\n');
		data_put(&st, sbuf_str(line) + skip, len + 1 - skip);
	}
	sbuf_free(&line);
	*res = st.res;
	return status;
}

void
smtpd_bdat_begin(struct data_state *st, const struct data_limits *lim,
    data_sink_fn sink, void *ctx)
{
	data_state_init(st, lim, sink, ctx);
}

/*
 * Turns p[0..len), a piece of a BDAT chunk, into stored form in place
 * and passes it on; a CR at its end is held in st->cr_pending.
 */
static void
bdat_put(struct data_state *st, char *p, size_t len)
{
	size_t r = 0, w = 0;

	if (st->cr_pending) {
		st->cr_pending = false;
		if (p[0] == '\n') {
			/* The held CR and this LF end one line. */
			p[w++] = p[r++];
		} else {
			st->res.bare_cr = add_sat(st->res.bare_cr, 1);
			data_put(st, "\r", 1);
		}
	}
	while (r < len) {
		if (p[r] == '\r') {
			if (r + 1 == len) {
				st->cr_pending = true;
				break;
			}
			if (p[r + 1] == '\n') {
				p[w++] = '\n';
				r += 2;
				continue;
			}
			st->res.bare_cr = add_sat(st->res.bare_cr, 1);
		} else if (p[r] == '\n') {
			st->res.bare_lf = add_sat(st->res.bare_lf, 1);
		}
		p[w++] = p[r++];
	}
	if (w > 0)
		data_put(st, p, w);
}

enum data_status
smtpd_bdat_read(struct stream *in, size_t chunk_size, bool last,
    struct data_state *st)
{
	enum data_status status = DATA_OK;
	struct sbuf *piece;
	enum line_status ls;
	size_t n;

	piece = sbuf_new();
	while (chunk_size > 0) {
		n = chunk_size < SMTPD_DATA_PIECE ? chunk_size :
		    SMTPD_DATA_PIECE;
		sbuf_reset(piece);
		if ((ls = stream_read_exact(in, piece, n)) != LINE_OK) {
			status = data_input_failed(ls);
			break;
		}
		st->res.wire_bytes = add_sat(st->res.wire_bytes, n);
		chunk_size -= n;
		/* bdat_put() rewrites the piece in place. */
		bdat_put(st, piece->data, n);
	}
	sbuf_free(&piece);
	if (status != DATA_OK)
		return status;
	if (last && st->cr_pending) {
		st->cr_pending = false;
		st->res.bare_cr = add_sat(st->res.bare_cr, 1);
		data_put(st, "\r", 1);
	}
	return st->status;
}
