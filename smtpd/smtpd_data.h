/*
 * smtpd_data - read a message's content after DATA or in BDAT chunks
 *
 * smtpd calls smtpd_data_read() after its "354" reply, or
 * smtpd_bdat_read() for each BDAT chunk, and gets the content through a
 * sink (the queue-file writer) in the form it is stored in:
 *
 *	- every line ending, CRLF or bare LF, becomes a single LF;
 *	- a CR not followed by LF is content and is kept;
 *	- DATA only: a line's leading "." is removed (RFC 5321 4.5.2);
 *	- BDAT: nothing else is changed (RFC 3030: no dot-stuffing, no end
 *	  marker); a CR that ends one chunk and an LF that starts the next
 *	  make one line ending.
 *
 * End of DATA: only the exact sequence CRLF "." CRLF ends it, that is a
 * line holding just "." and ending in CRLF, which is either the first
 * line or follows a line that ended in CRLF. Anything else that looks
 * like an end (LF "." LF, LF "." CRLF, CRLF "." LF, CR "." CR, CR "."
 * CRLF, ...) is content: this is the defence against SMTP smuggling.
 * The "." of such a line is removed as on any other line, so after
 * CRLF-to-LF conversion what was meant as a hidden end marker is stored
 * as an empty line.
 *
 * Limits: a message that breaks one (a line longer than line_max, more
 * stored bytes than size_max, more Received: headers than hop_max), or
 * whose sink fails, is still read to its end, so the next command is
 * read in step; from that point on nothing more goes to the sink, and
 * the status names the first of those failures. The counts in struct
 * data_result go on for the whole message, for the log. What the sink
 * got of a message whose status is not DATA_OK is a fragment that must
 * be thrown away.
 *
 * Input failures (end of input, timeout, I/O error) stop reading at
 * once: the session is over and nothing may be committed.
 *
 * Reading uses the stream's deadline for each line (DATA) or each piece
 * of at most SMTPD_DATA_PIECE bytes (BDAT); the sink is given at most
 * one line (DATA) or one piece (BDAT) per call, so nothing of a message
 * is ever held in memory whole.
 */
#ifndef POSTERN_SMTPD_DATA_H
#define POSTERN_SMTPD_DATA_H

#include <stdbool.h>
#include <stddef.h>

struct stream;

/*
 * The line-length limit smtpd uses for DATA: longest line, as received
 * and without its CRLF or LF, that is accepted. Like Postfix's
 * line_length_limit, about twice RFC 5322's 998, so that the many
 * senders that go somewhat past 998 are not refused.
 */
#define SMTPD_DATA_LINE_MAX	2048
/* Largest piece of a BDAT chunk read and passed to the sink at once. */
#define SMTPD_DATA_PIECE	(64 * 1024)

/* How reading a message (or a BDAT chunk) ended. */
enum data_status {
	DATA_OK,		/* all content so far went to the sink */
	DATA_LINE_TOO_LONG,	/* a line passed line_max (500 5.5.2) */
	DATA_TOO_BIG,		/* stored size passed size_max (552 5.3.4) */
	DATA_TOO_MANY_HOPS,	/* Received: count passed hop_max (554 5.4.6) */
	DATA_SINK_FAILED,	/* the sink returned -1 (451 4.3.0) */
	DATA_EOF,		/* the input ended before the message */
	DATA_TIMEOUT,		/* the stream's deadline passed */
	DATA_IO_ERROR		/* I/O or TLS error; see stream_error() */
};

/* The limits a message is held to. */
struct data_limits {
	size_t line_max;	/* DATA: longest line, >= 1; see above */
	size_t size_max;	/* most stored bytes; SIZE_MAX for no limit */
	size_t hop_max;		/* most Received: headers, not counting
				 * the one smtpd adds */
};

/*
 * What was read. Counts saturate at SIZE_MAX. An over-long line counts
 * as its first line_max bytes and its line ending: the stream discards
 * the rest unseen. After an input failure, the line or BDAT piece it
 * cut short is not counted.
 */
struct data_result {
	size_t wire_bytes;	/* read from the client, line endings, the
				 * DATA end marker and leading dots included */
	size_t size;		/* content as it would be stored */
	size_t stored;		/* of size, the bytes the sink accepted */
	size_t bare_lf;		/* line endings that were a bare LF */
	size_t bare_cr;		/* CRs kept as content */
	size_t long_lines;	/* DATA lines longer than line_max */
	size_t received;	/* Received: lines in the header section */
};

/*
 * Receives the next len (> 0) bytes of stored content; returns 0, or -1
 * when they could not be kept (disk full, ...).
 */
typedef int (*data_sink_fn)(void *ctx, const char *bytes, size_t len);

/*
 * One message being received: set up by smtpd_bdat_begin() and held by
 * smtpd for the BDAT transaction (smtpd_data_read() uses one inside);
 * no destroyer. Only res and status are for the caller to read.
 *
 * Received: lines are counted at the start of a line of the header
 * section (up to the first empty line), case-insensitively, with spaces
 * or tabs allowed before the colon. A folded continuation starts with a
 * space or tab, so it is never counted.
 */
struct data_state {
	struct data_result res;	/* counts so far */
	enum data_status status; /* DATA_OK or the first content failure */
	const struct data_limits *lim;
	data_sink_fn sink;
	void *ctx;
	bool in_header;		/* still in the header section */
	bool at_bol;		/* the next byte starts a line */
	bool cr_pending;	/* BDAT: a chunk ended in CR */
	unsigned int match;	/* how much of "Received" this line matched */
};

/*
 * Reads a DATA message from in up to and including its end marker,
 * passing the content to sink(ctx, ...) unless a limit was passed first;
 * fills res. The status: DATA_OK, a content failure (DATA_LINE_TOO_LONG,
 * DATA_TOO_BIG, DATA_TOO_MANY_HOPS, DATA_SINK_FAILED: the message was
 * read to its end and the next command is next on the stream), or an
 * input failure (DATA_EOF, DATA_TIMEOUT, DATA_IO_ERROR: reading stopped
 * where it failed). lim->line_max of 0 is a caller's bug and panics.
 */
enum data_status smtpd_data_read(struct stream *in,
    const struct data_limits *lim, data_sink_fn sink, void *ctx,
    struct data_result *res);

/*
 * Starts a BDAT transaction's message in st; lim (line_max unused) and
 * ctx must stay valid until its last chunk is read.
 */
void smtpd_bdat_begin(struct data_state *st, const struct data_limits *lim,
    data_sink_fn sink, void *ctx);
/*
 * Reads the chunk_size bytes of one BDAT chunk (0 is allowed), in pieces
 * of at most SMTPD_DATA_PIECE bytes, and passes them to the sink unless
 * the message already failed; last (BDAT ... LAST) ends the message, so
 * a CR left over at the end is content. Returns st->status, which stays
 * at the message's first content failure for its later chunks (they are
 * still read, so that smtpd stays in step with a client that goes on
 * sending), or an input failure as smtpd_data_read() does.
 */
enum data_status smtpd_bdat_read(struct stream *in, size_t chunk_size,
    bool last, struct data_state *st);

#endif
