/*
 * stream - buffered I/O with deadlines over a file descriptor, with TLS
 *
 * Every protocol daemon and the inter-daemon protocol talk through a
 * struct stream. Reads and writes go through fixed buffers of
 * STREAM_BUF_SIZE bytes each, so a stream's memory is bounded whatever
 * the peer sends.
 *
 * Deadlines: each call that may wait (a line, a read, a flush, a write
 * that overflows the buffer, the TLS handshake) must finish within the
 * stream's timeout, counted from the start of the call; otherwise it
 * fails as timed out. A peer cannot stretch a call by trickling bytes.
 * Callers that move a large body read or write it in pieces.
 *
 * The descriptor's flags are left alone (it may be shared with other
 * processes, as an inherited stdin is): sockets are used with recv() and
 * send() with MSG_DONTWAIT, other descriptors are polled first and
 * written at most PIPE_BUF bytes at a time, so nothing blocks past
 * poll(). Writes never raise SIGPIPE: sockets are written with
 * MSG_NOSIGNAL, and SIGPIPE is held back around writes to anything else.
 * A broken pipe is an ordinary write error.
 *
 * Output is flushed when the write buffer fills, by stream_flush(), and
 * before any read has to wait for input: replies to pipelined commands
 * go out in one write, and nothing waits for input with replies unsent.
 * When that flush fails, the read returns LINE_ERROR.
 *
 * Errors: the first timeout, I/O or TLS error is remembered and described
 * by stream_error(). After a read fails (timeout, I/O or TLS error), or
 * reaches the end of input, further reads return the same at once; after
 * a write fails, further writes fail at once and unsent output is
 * dropped. A read timeout leaves writing possible, so a last reply can
 * still be sent. A fatal TLS error ends both directions.
 *
 * TLS: after stream_start_tls() the same calls read and write through
 * the TLS connection. Protocol code never calls OpenSSL.
 */
#ifndef POSTERN_STREAM_H
#define POSTERN_STREAM_H

#include <stddef.h>

struct sbuf;
struct tls_ctx;
struct tls_info;
struct tls_peer;
struct stream;

#define STREAM_BUF_SIZE 16384	/* read buffer and write buffer, each */
#define STREAM_CLOSE_MS 1000	/* longest wait to send TLS close_notify */

/* How a read ended. */
enum line_status {
	LINE_OK,		/* data returned */
	LINE_TOO_LONG,		/* too much data: consumed and discarded */
	LINE_EOF,		/* end of input before any data */
	LINE_TIMEOUT,		/* the deadline passed */
	LINE_ERROR		/* I/O or TLS error; see stream_error() */
};

/* How the last line read ended. */
enum stream_eol {
	STREAM_EOL_NONE,	/* end of input came before a newline */
	STREAM_EOL_LF,		/* bare "\n" */
	STREAM_EOL_CRLF		/* "\r\n" */
};

/*
 * Returns a stream over fd, which it now owns, with timeout_ms (> 0) as
 * the deadline of each call. Never fails: a descriptor that cannot be
 * used shows up as the stream's first error.
 */
struct stream *stream_open(int fd, int timeout_ms);
/*
 * Closes the stream and its descriptor, frees *s and sets it to NULL;
 * accepts NULL. Output not yet flushed is dropped (flush first to know it
 * went out). A healthy TLS session with nothing left unsent is closed
 * with close_notify, waiting at most STREAM_CLOSE_MS (and the timeout)
 * for room to send it; otherwise the session is dropped without it, so
 * the peer can tell an orderly end from a cut one.
 */
void stream_free(struct stream **s);
/* Sets the deadline (ms, > 0) for the calls that follow. */
void stream_set_timeout(struct stream *s, int timeout_ms);
/* The descriptor, for getpeername() and the like; not for I/O. */
int stream_fd(const struct stream *s);

/*
 * Replaces line's content with the next line, without its "\n" or
 * "\r\n"; stream_last_eol() tells which it was. A CR not followed by LF
 * and NUL bytes are content. Returns LINE_OK; LINE_TOO_LONG when the
 * content is longer than max or than line's limit: the rest of the line
 * is then read and discarded through its newline, line holds its first
 * bytes (at most max) and the next call reads the next line; LINE_EOF
 * when the input ended before any byte; LINE_TIMEOUT or LINE_ERROR with
 * line's content unspecified. When the input ends within a line, that
 * line is returned (LINE_OK or LINE_TOO_LONG) with STREAM_EOL_NONE, and
 * the next call returns LINE_EOF: protocols that require terminated lines
 * check stream_last_eol().
 */
enum line_status stream_read_line(struct stream *s, struct sbuf *line,
    size_t max);
/* The terminator of the line last returned by stream_read_line(). */
enum stream_eol stream_last_eol(const struct stream *s);
/*
 * Reads what is available, up to len bytes, waiting only when nothing
 * is: LINE_OK with 1..len bytes in buf and their count in *len_r (0 when
 * len is 0), or LINE_EOF, LINE_TIMEOUT, LINE_ERROR with *len_r 0.
 */
enum line_status stream_read(struct stream *s, void *buf, size_t len,
    size_t *len_r);
/*
 * Reads exactly len bytes (an IMAP literal, a BDAT chunk) and appends
 * them to out. LINE_OK; LINE_TOO_LONG when they would pass out's limit:
 * the len bytes are then read and discarded, so the stream stays in step;
 * LINE_EOF when the input ended first; LINE_TIMEOUT, LINE_ERROR. On any
 * result but LINE_OK, out is left as it was.
 */
enum line_status stream_read_exact(struct stream *s, struct sbuf *out,
    size_t len);
/*
 * Input already received and buffered, which the next read returns
 * without waiting: a client that sent it has pipelined.
 */
size_t stream_pending(const struct stream *s);
/*
 * Drops the input counted by stream_pending() (SMTP does so before
 * STARTTLS, so nothing sent in clear passes for protected text).
 */
void stream_discard_pending(struct stream *s);

/*
 * Appends len bytes to the output, flushing when the buffer fills; 0, or
 * -1 when a flush failed (stream_error() says why).
 */
int stream_write(struct stream *s, const void *data, size_t len);
/* Writes a C string; as stream_write(). */
int stream_puts(struct stream *s, const char *str);
/* Writes formatted text; as stream_write(). */
int stream_printf(struct stream *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Sends all buffered output; 0, or -1 (timeout, I/O or TLS error). */
int stream_flush(struct stream *s);
/* The first error met, as text; NULL when there was none. */
const char *stream_error(const struct stream *s);

/*
 * Starts TLS on the stream: as the server with a server context (peer is
 * then unused), or as the client with a client context, peer saying which
 * host to expect and how to verify it (NULL: no SNI, no verification).
 * Buffered output is flushed first and buffered input is discarded: it
 * came in clear and is never read as if it had come through TLS. The
 * handshake obeys the deadline. 0, or -1 with the reason in
 * stream_error(): the stream is then unusable. TLS must not already be
 * active.
 */
int stream_start_tls(struct stream *s, struct tls_ctx *ctx,
    const struct tls_peer *peer);
/* What the TLS handshake agreed; NULL when TLS is not active. */
const struct tls_info *stream_tls_info(const struct stream *s);

#endif
