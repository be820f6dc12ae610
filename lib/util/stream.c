/*
 * stream - buffered I/O with deadlines over a file descriptor, with TLS
 *
 * One read buffer and one write buffer of fixed size per stream; a line
 * longer than the caller's maximum is skipped, never stored. Waiting is
 * done only in poll(), against a deadline taken at the start of each call.
 *
 * Errors: reads return an enum line_status, writes 0 or -1; the first
 * error's description is kept for stream_error(). Nothing logs. Running
 * out of memory is fatal (xmalloc); a timeout of 0 or less, or starting
 * TLS twice, is a caller's bug and panics.
 * Trust: all input is hostile network data. It is only copied, never
 * interpreted, and never stored beyond the caller's bounds.
 */
#include "util/stream.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/msg.h"
#include "util/sbuf.h"
#include "util/tls.h"
#include "util/xmalloc.h"

/*
 * A TLS read fills the read buffer with up to one whole record, so input
 * is never left decrypted inside OpenSSL: all pending input is in rbuf.
 */
_Static_assert(STREAM_BUF_SIZE >= TLS_RECORD_MAX,
    "the read buffer holds a whole TLS record");

struct stream {
	int fd;
	int timeout_ms;
	bool is_socket;		/* recv()/send() usable */
	enum line_status read_state;	/* LINE_OK, or how reading ended */
	bool write_failed;
	enum stream_eol last_eol;
	bool drained;		/* the last read left the socket empty */
	struct tls_conn *tls;	/* NULL when in clear */
	struct sbuf *error;	/* the first error; empty when none */
	struct sbuf *why;	/* scratch for reasons from tls_conn_*() */
	size_t rpos, rlen;	/* unread input is rbuf[rpos..rlen) */
	size_t wlen;		/* output waiting in wbuf */
	unsigned char rbuf[STREAM_BUF_SIZE];
	unsigned char wbuf[STREAM_BUF_SIZE];
};

/* Remembers an error unless one is already known. */
static void stream_fail(struct stream *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
stream_fail(struct stream *s, const char *fmt, ...)
{
	va_list ap;

	if (sbuf_len(s->error) > 0)
		return;
	va_start(ap, fmt);
	sbuf_vprintf(s->error, fmt, ap);
	va_end(ap);
}

/* A fatal TLS error: both directions are finished. */
static void
stream_tls_failed(struct stream *s, const char *what)
{
	stream_fail(s, "%s: %s", what, sbuf_str(s->why));
	s->read_state = LINE_ERROR;
	s->write_failed = true;
	s->wlen = 0;
}

/* Sets *dl to ms milliseconds from now. */
static void
stream_deadline(int ms, struct timespec *dl)
{
	clock_gettime(CLOCK_MONOTONIC, dl);
	dl->tv_sec += ms / 1000;
	dl->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (dl->tv_nsec >= 1000000000L) {
		dl->tv_sec++;
		dl->tv_nsec -= 1000000000L;
	}
}

/* Milliseconds left before *dl, rounded up; 0 once it has passed. */
static int
stream_left(const struct timespec *dl)
{
	struct timespec now;
	long long ns;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (long long)(dl->tv_sec - now.tv_sec) * 1000000000LL +
	    (dl->tv_nsec - now.tv_nsec);
	if (ns <= 0)
		return 0;
	if (ns / 1000000 >= INT_MAX)
		return INT_MAX;
	return (int)((ns + 999999) / 1000000);
}

/*
 * Waits until the descriptor is ready for events or *dl passes; 0, or -1
 * with errno (ETIMEDOUT when the deadline passed).
 */
static int
stream_wait(const struct stream *s, short events, const struct timespec *dl)
{
	struct pollfd pfd;
	int ms, n;

	for (;;) {
		if ((ms = stream_left(dl)) == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		pfd.fd = s->fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, ms);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

/* 1 when fd is ready for events now, 0 (errno EAGAIN) if not, -1 on error. */
static int
stream_ready(int fd, short events)
{
	struct pollfd pfd = {fd, events, 0};
	int n;

	while ((n = poll(&pfd, 1, 0)) < 0 && errno == EINTR)
		continue;
	if (n == 0)
		errno = EAGAIN;
	return n;
}

/* One read attempt that does not wait (struct tls_io contract). */
static ssize_t
stream_try_read(void *arg, void *buf, size_t len)
{
	struct stream *s = arg;
	ssize_t n;

	for (;;) {
		if (s->is_socket)
			n = recv(s->fd, buf, len, MSG_DONTWAIT);
		else if (stream_ready(s->fd, POLLIN) <= 0)
			return -1;
		else
			n = read(s->fd, buf, len);
		if (n >= 0 || errno != EINTR)
			return n;
	}
}

/* write() with SIGPIPE held back and, if it was raised, taken away. */
static ssize_t
stream_write_nosigpipe(int fd, const void *buf, size_t len)
{
	static const struct timespec no_wait;
	sigset_t pipe_set, old, pending;
	bool was_pending;
	ssize_t n;
	int saved;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigprocmask(SIG_BLOCK, &pipe_set, &old);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE) == 1;
	while ((n = write(fd, buf, len)) < 0 && errno == EINTR)
		continue;
	saved = errno;
	if (n < 0 && saved == EPIPE && !was_pending)
		while (sigtimedwait(&pipe_set, NULL, &no_wait) < 0 &&
		    errno == EINTR)
			continue;
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return n;
}

/* One write attempt that does not wait (struct tls_io contract). */
static ssize_t
stream_try_write(void *arg, const void *buf, size_t len)
{
	struct stream *s = arg;
	ssize_t n;

	if (!s->is_socket) {
		if (stream_ready(s->fd, POLLOUT) <= 0)
			return -1;
		return stream_write_nosigpipe(s->fd, buf,
		    len < PIPE_BUF ? len : PIPE_BUF);
	}
	while ((n = send(s->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL)) < 0 &&
	    errno == EINTR)
		continue;
	return n;
}

/* Records a failed wait: the deadline passed, or poll() failed. */
static void
stream_wait_failed(struct stream *s, const char *what)
{
	if (errno == ETIMEDOUT)
		stream_fail(s, "%s timed out after %d ms", what, s->timeout_ms);
	else
		stream_fail(s, "%s: poll: %m", what);
}

/* Writes len bytes straight out; 0, or -1 with the write side failed. */
static int
stream_send(struct stream *s, const unsigned char *p, size_t len,
    const struct timespec *dl)
{
	short events;
	ssize_t n;

	while (len > 0) {
		events = POLLOUT;
		if (s->tls != NULL) {
			switch (tls_conn_write(s->tls, p, len, s->why)) {
			case TLS_DONE:
				return 0;
			case TLS_WANT_READ:
				events = POLLIN;
				break;
			case TLS_WANT_WRITE:
				break;
			case TLS_CLOSED:
				stream_fail(s, "TLS write: %s",
				    sbuf_str(s->why));
				goto failed;
			case TLS_FAILED:
				stream_tls_failed(s, "TLS write");
				return -1;
			}
		} else {
			n = stream_try_write(s, p, len);
			if (n >= 0) {
				p += n;
				len -= (size_t)n;
				continue;
			}
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				stream_fail(s, "write: %m");
				goto failed;
			}
		}
		if (stream_wait(s, events, dl) < 0) {
			stream_wait_failed(s, "write");
			goto failed;
		}
	}
	return 0;

failed:
	s->write_failed = true;
	s->wlen = 0;
	return -1;
}

/* Sends the write buffer within *dl; 0 or -1. */
static int
stream_flush_by(struct stream *s, const struct timespec *dl)
{
	if (s->write_failed)
		return -1;
	if (s->wlen == 0)
		return 0;
	if (stream_send(s, s->wbuf, s->wlen, dl) < 0)
		return -1;
	s->wlen = 0;
	return 0;
}

/* Records a failed read wait and ends reading. */
static enum line_status
stream_read_wait_failed(struct stream *s)
{
	s->read_state = errno == ETIMEDOUT ? LINE_TIMEOUT : LINE_ERROR;
	stream_wait_failed(s, "read");
	return s->read_state;
}

/*
 * Refills the empty read buffer within *dl, flushing output before it
 * waits. LINE_OK with at least one byte, or how reading ended. In clear,
 * when the last read took less than the buffer holds, the peer had sent
 * nothing more then, and most likely waits for our answer: the output is
 * flushed and the input waited for without a read that would only say
 * EAGAIN.
 */
static enum line_status
stream_fill(struct stream *s, const struct timespec *dl)
{
	short events;
	size_t got;
	ssize_t n;

	if (s->read_state != LINE_OK)
		return s->read_state;
	s->rpos = s->rlen = 0;
	for (;;) {
		events = POLLIN;
		if (s->tls != NULL) {
			switch (tls_conn_read(s->tls, s->rbuf, sizeof(s->rbuf),
			    &got, s->why)) {
			case TLS_DONE:
				s->rlen = got;
				return LINE_OK;
			case TLS_WANT_READ:
				break;
			case TLS_WANT_WRITE:
				events = POLLOUT;
				break;
			case TLS_CLOSED:
				return s->read_state = LINE_EOF;
			case TLS_FAILED:
				stream_tls_failed(s, "TLS read");
				return LINE_ERROR;
			}
		} else if (s->drained && s->wlen > 0) {
			s->drained = false;	/* read after the wait */
		} else {
			n = stream_try_read(s, s->rbuf, sizeof(s->rbuf));
			if (n > 0) {
				s->rlen = (size_t)n;
				s->drained = (size_t)n < sizeof(s->rbuf);
				return LINE_OK;
			}
			if (n == 0)
				return s->read_state = LINE_EOF;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				stream_fail(s, "read: %m");
				return s->read_state = LINE_ERROR;
			}
		}
		if (events == POLLIN && s->wlen > 0 &&
		    stream_flush_by(s, dl) < 0)
			return LINE_ERROR;
		if (stream_wait(s, events, dl) < 0)
			return stream_read_wait_failed(s);
	}
}

struct stream *
stream_open(int fd, int timeout_ms)
{
	struct stream *s;
	struct stat st;

	if (timeout_ms <= 0)
		msg_panic("stream_open: bad timeout %d ms", timeout_ms);
	s = xcalloc(1, sizeof(*s));
	s->fd = fd;
	s->timeout_ms = timeout_ms;
	s->read_state = LINE_OK;
	s->last_eol = STREAM_EOL_NONE;
	s->error = sbuf_new();
	s->why = sbuf_new();
	if (fstat(fd, &st) < 0) {
		stream_fail(s, "fstat: %m");
		s->read_state = LINE_ERROR;
		s->write_failed = true;
	} else {
		s->is_socket = S_ISSOCK(st.st_mode);
	}
	return s;
}

/* Sends close_notify if the session is healthy and nothing is unsent. */
static void
stream_close_tls(struct stream *s)
{
	struct timespec dl;

	if (s->write_failed || s->wlen > 0)
		return;
	stream_deadline(s->timeout_ms < STREAM_CLOSE_MS ? s->timeout_ms :
	    STREAM_CLOSE_MS, &dl);
	for (;;) {
		switch (tls_conn_shutdown(s->tls, s->why)) {
		case TLS_WANT_WRITE:
			break;
		case TLS_DONE:
		case TLS_WANT_READ:
		case TLS_CLOSED:
		case TLS_FAILED:
			return;
		}
		if (stream_wait(s, POLLOUT, &dl) < 0)
			return;
	}
}

void
stream_free(struct stream **sp)
{
	struct stream *s = *sp;

	if (s == NULL)
		return;
	if (s->tls != NULL) {
		stream_close_tls(s);
		tls_conn_free(&s->tls);
	}
	close(s->fd);
	sbuf_free(&s->error);
	sbuf_free(&s->why);
	xfree(sp);
}

void
stream_set_timeout(struct stream *s, int timeout_ms)
{
	if (timeout_ms <= 0)
		msg_panic("stream_set_timeout: bad timeout %d ms", timeout_ms);
	s->timeout_ms = timeout_ms;
}

int
stream_fd(const struct stream *s)
{
	return s->fd;
}

static const unsigned char stream_cr = '\r';

/* Appends to a line what fits below limit; the rest makes it too long. */
static void
stream_keep(struct sbuf *line, const unsigned char *p, size_t len,
    size_t limit, bool *too_long)
{
	size_t room = limit - sbuf_len(line);

	if (*too_long)
		return;
	if (len > room) {
		len = room;
		*too_long = true;
	}
	sbuf_catn(line, p, len);
}

enum line_status
stream_read_line(struct stream *s, struct sbuf *line, size_t max)
{
	size_t limit = max < line->limit ? max : line->limit;
	bool any = false, too_long = false, cr = false;
	const unsigned char *p, *nl;
	enum line_status st;
	struct timespec dl;
	size_t n, chunk;

	sbuf_reset(line);
	s->last_eol = STREAM_EOL_NONE;
	stream_deadline(s->timeout_ms, &dl);
	for (;;) {
		if (s->rpos == s->rlen) {
			st = stream_fill(s, &dl);
			if (st == LINE_EOF && any) {
				/* A CR held back was content after all. */
				if (cr)
					stream_keep(line, &stream_cr, 1, limit,
					    &too_long);
				return too_long ? LINE_TOO_LONG : LINE_OK;
			}
			if (st != LINE_OK)
				return st;
		}
		any = true;
		p = s->rbuf + s->rpos;
		n = s->rlen - s->rpos;
		nl = memchr(p, '\n', n);
		chunk = nl != NULL ? (size_t)(nl - p) : n;
		s->rpos += chunk + (nl != NULL);
		if (chunk > 0) {
			/*
			 * A CR at the end of a chunk is held back until the
			 * next byte shows whether it starts "\r\n".
			 */
			if (cr)
				stream_keep(line, &stream_cr, 1, limit,
				    &too_long);
			cr = p[chunk - 1] == '\r';
			stream_keep(line, p, chunk - cr, limit, &too_long);
		}
		if (nl != NULL) {
			s->last_eol = cr ? STREAM_EOL_CRLF : STREAM_EOL_LF;
			return too_long ? LINE_TOO_LONG : LINE_OK;
		}
	}
}

enum stream_eol
stream_last_eol(const struct stream *s)
{
	return s->last_eol;
}

enum line_status
stream_read(struct stream *s, void *buf, size_t len, size_t *len_r)
{
	enum line_status st;
	struct timespec dl;
	size_t n;

	*len_r = 0;
	if (len == 0)
		return LINE_OK;
	if (s->rpos == s->rlen) {
		stream_deadline(s->timeout_ms, &dl);
		if ((st = stream_fill(s, &dl)) != LINE_OK)
			return st;
	}
	n = s->rlen - s->rpos;
	if (n > len)
		n = len;
	memcpy(buf, s->rbuf + s->rpos, n);
	s->rpos += n;
	*len_r = n;
	return LINE_OK;
}

enum line_status
stream_read_exact(struct stream *s, struct sbuf *out, size_t len)
{
	size_t start = sbuf_len(out), n;
	bool fits = start <= out->limit && len <= out->limit - start;
	enum line_status st;
	struct timespec dl;

	stream_deadline(s->timeout_ms, &dl);
	while (len > 0) {
		if (s->rpos == s->rlen &&
		    (st = stream_fill(s, &dl)) != LINE_OK) {
			sbuf_truncate(out, start);
			return st;
		}
		n = s->rlen - s->rpos;
		if (n > len)
			n = len;
		if (fits)
			sbuf_catn(out, s->rbuf + s->rpos, n);
		s->rpos += n;
		len -= n;
	}
	return fits ? LINE_OK : LINE_TOO_LONG;
}

size_t
stream_pending(const struct stream *s)
{
	return s->rlen - s->rpos;
}

void
stream_discard_pending(struct stream *s)
{
	s->rpos = s->rlen = 0;
}

int
stream_write(struct stream *s, const void *data, size_t len)
{
	struct timespec dl;

	if (s->write_failed)
		return -1;
	if (len == 0)
		return 0;
	if (len <= sizeof(s->wbuf) - s->wlen) {
		memcpy(s->wbuf + s->wlen, data, len);
		s->wlen += len;
		return 0;
	}
	stream_deadline(s->timeout_ms, &dl);
	if (stream_flush_by(s, &dl) < 0)
		return -1;
	if (len >= sizeof(s->wbuf))
		return stream_send(s, data, len, &dl);
	memcpy(s->wbuf, data, len);
	s->wlen = len;
	return 0;
}

int
stream_puts(struct stream *s, const char *str)
{
	return stream_write(s, str, strlen(str));
}

int
stream_printf(struct stream *s, const char *fmt, ...)
{
	size_t room = sizeof(s->wbuf) - s->wlen;
	va_list ap;
	char *text;
	int n, ret;

	if (s->write_failed)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf((char *)s->wbuf + s->wlen, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		msg_panic("stream_printf: bad format \"%s\"", fmt);
	if ((size_t)n < room) {
		s->wlen += (size_t)n;
		return 0;
	}
	text = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(text, (size_t)n + 1, fmt, ap);
	va_end(ap);
	ret = stream_write(s, text, (size_t)n);
	free(text);
	return ret;
}

int
stream_flush(struct stream *s)
{
	struct timespec dl;

	stream_deadline(s->timeout_ms, &dl);
	return stream_flush_by(s, &dl);
}

const char *
stream_error(const struct stream *s)
{
	return sbuf_len(s->error) > 0 ? sbuf_str(s->error) : NULL;
}

/* Frees a connection whose handshake failed and ends the stream; -1. */
static int
stream_tls_abandon(struct stream *s, struct tls_conn **conn,
    enum line_status read_state)
{
	tls_conn_free(conn);
	s->read_state = read_state;
	s->write_failed = true;
	s->wlen = 0;
	return -1;
}

int
stream_start_tls(struct stream *s, struct tls_ctx *ctx,
    const struct tls_peer *peer)
{
	const struct tls_io io = {stream_try_read, stream_try_write, s};
	struct tls_conn *conn;
	struct timespec dl;
	bool timed_out;
	short events;

	if (s->tls != NULL)
		msg_panic("stream_start_tls: TLS is already active");
	if (s->read_state != LINE_OK || s->write_failed) {
		stream_fail(s, "TLS handshake: the connection has ended");
		return -1;
	}
	stream_deadline(s->timeout_ms, &dl);
	if (stream_flush_by(s, &dl) < 0)
		return -1;
	s->rpos = s->rlen = 0;
	if ((conn = tls_conn_new(ctx, peer, &io, s->why)) == NULL) {
		stream_fail(s, "TLS setup: %s", sbuf_str(s->why));
		return stream_tls_abandon(s, &conn, LINE_ERROR);
	}
	for (;;) {
		events = POLLIN;
		switch (tls_conn_handshake(conn, s->why)) {
		case TLS_DONE:
			s->tls = conn;
			return 0;
		case TLS_WANT_READ:
			break;
		case TLS_WANT_WRITE:
			events = POLLOUT;
			break;
		case TLS_CLOSED:
		case TLS_FAILED:
			stream_fail(s, "TLS handshake: %s", sbuf_str(s->why));
			return stream_tls_abandon(s, &conn, LINE_ERROR);
		}
		if (stream_wait(s, events, &dl) < 0) {
			timed_out = errno == ETIMEDOUT;
			stream_wait_failed(s, "TLS handshake");
			return stream_tls_abandon(s, &conn,
			    timed_out ? LINE_TIMEOUT : LINE_ERROR);
		}
	}
}

const struct tls_info *
stream_tls_info(const struct stream *s)
{
	return s->tls != NULL ? tls_conn_info(s->tls) : NULL;
}
