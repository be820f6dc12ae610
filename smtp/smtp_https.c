/*
 * smtp_https - the one HTTPS GET the SMTP client makes: an MTA-STS policy
 *
 * The reply is untrusted: the status line and headers are read as bounded
 * lines, the body into a buffer limited to SMTP_HTTPS_BODY_MAX, and every
 * read is held to what is left of the one deadline.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "mail/dns.h"
#include "smtp_connect.h"
#include "smtp_https.h"
#include "util/sbuf.h"
#include "util/stream.h"
#include "util/strutil.h"
#include "util/tls.h"

/* One exchange: its stream and when it must be over (ms, monotonic). */
struct https_conn {
	struct stream *stream;
	long long deadline;
};

static long long
https_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sets the stream's timeout to what is left; -1 when nothing is. */
static int
https_time_left(struct https_conn *c, struct sbuf *why)
{
	long long left = c->deadline - https_now_ms();

	if (left <= 0) {
		sbuf_set(why, "timed out");
		return -1;
	}
	stream_set_timeout(c->stream, left > 2000000000 ? 2000000000 :
	    (int)left);
	return 0;
}

/* Reads one CRLF- or LF-ended line into line; 0, or -1 with why. */
static int
https_line(struct https_conn *c, struct sbuf *line, struct sbuf *why)
{
	enum line_status st;

	if (https_time_left(c, why) < 0)
		return -1;
	st = stream_read_line(c->stream, line, SMTP_HTTPS_LINE_MAX);
	if (st == LINE_OK && stream_last_eol(c->stream) != STREAM_EOL_NONE)
		return 0;
	sbuf_set(why, st == LINE_TOO_LONG ? "reply line too long" :
	    st == LINE_TIMEOUT ? "timed out" : st == LINE_OK ||
	    st == LINE_EOF ? "connection closed early" :
	    stream_error(c->stream) != NULL ? stream_error(c->stream) :
	    "read error");
	return -1;
}

/* Appends exactly len body bytes; 0, or -1 with why. */
static int
https_exact(struct https_conn *c, size_t len, struct sbuf *body,
    struct sbuf *why)
{
	enum line_status st;

	if (len > SMTP_HTTPS_BODY_MAX - sbuf_len(body)) {
		sbuf_set(why, "policy larger than 64 KiB");
		return -1;
	}
	if (len == 0)
		return 0;
	if (https_time_left(c, why) < 0)
		return -1;
	if ((st = stream_read_exact(c->stream, body, len)) == LINE_OK)
		return 0;
	sbuf_set(why, st == LINE_TIMEOUT ? "timed out" :
	    st == LINE_EOF ? "connection closed early" : "read error");
	return -1;
}

/* Appends the body up to the end of input; 0, or -1 with why. */
static int
https_to_close(struct https_conn *c, struct sbuf *body, struct sbuf *why)
{
	char buf[4096];
	size_t n;
	enum line_status st;

	for (;;) {
		if (https_time_left(c, why) < 0)
			return -1;
		st = stream_read(c->stream, buf, sizeof(buf), &n);
		if (st == LINE_EOF)
			return 0;
		if (st != LINE_OK) {
			sbuf_set(why, st == LINE_TIMEOUT ? "timed out" :
			    "read error");
			return -1;
		}
		if (n > SMTP_HTTPS_BODY_MAX - sbuf_len(body) ||
		    sbuf_catn(body, buf, n) < 0) {
			sbuf_set(why, "policy larger than 64 KiB");
			return -1;
		}
	}
}

/* Appends a chunked body (RFC 9112 7.1); 0, or -1 with why. */
static int
https_chunked(struct https_conn *c, struct sbuf *body, struct sbuf *line,
    struct sbuf *why)
{
	for (;;) {
		char *end;
		unsigned long size;

		if (https_line(c, line, why) < 0)
			return -1;
		size = strtoul(sbuf_str(line), &end, 16);
		if (end == sbuf_str(line) || (*end != '\0' && *end != ';' &&
		    *end != ' ')) {
			sbuf_set(why, "malformed chunk size");
			return -1;
		}
		if (size > SMTP_HTTPS_BODY_MAX) {
			sbuf_set(why, "policy larger than 64 KiB");
			return -1;
		}
		if (size == 0)
			break;
		if (https_exact(c, size, body, why) < 0 ||
		    https_line(c, line, why) < 0)
			return -1;
	}
	do {			/* trailer fields, up to the empty line */
		if (https_line(c, line, why) < 0)
			return -1;
	} while (sbuf_len(line) > 0);
	return 0;
}

/* Reads the status line, headers and body; 0, or -1 with why. */
static int
https_reply(struct https_conn *c, struct sbuf *body, struct sbuf *why)
{
	struct sbuf *line = sbuf_new();
	long length = -1;
	bool chunked = false;
	int rc = -1;
	const char *l;

	if (https_line(c, line, why) < 0)
		goto done;
	l = sbuf_str(line);
	if (!str_starts(l, "HTTP/1.") || strlen(l) < 12 || l[8] != ' ') {
		sbuf_set(why, "malformed HTTP status line");
		goto done;
	}
	if (strncmp(l + 9, "200", 3) != 0 || (l[12] != ' ' && l[12] != '\0')) {
		sbuf_setf(why, "HTTP status %.3s (only 200 is accepted)",
		    l + 9);
		goto done;
	}
	for (;;) {
		char *name, *value;

		if (https_line(c, line, why) < 0)
			goto done;
		if (sbuf_len(line) == 0)
			break;
		name = line->data;
		if ((value = strchr(name, ':')) == NULL)
			continue;
		*value++ = '\0';
		value = str_trim(value);
		if (strcasecmp(name, "Content-Length") == 0 &&
		    (str_to_long(value, &length) < 0 || length < 0)) {
			sbuf_set(why, "malformed Content-Length");
			goto done;
		}
		if (strcasecmp(name, "Transfer-Encoding") == 0)
			chunked = strcasecmp(value, "chunked") == 0;
	}
	if (chunked)
		rc = https_chunked(c, body, line, why);
	else if (length > SMTP_HTTPS_BODY_MAX)
		sbuf_set(why, "policy larger than 64 KiB");
	else if (length >= 0)
		rc = https_exact(c, (size_t)length, body, why);
	else
		rc = https_to_close(c, body, why);
done:
	sbuf_free(&line);
	return rc;
}

int
smtp_https_reply(struct stream *s, long timeout_ms, struct sbuf *body,
    struct sbuf *why)
{
	struct https_conn c = { .stream = s,
	    .deadline = https_now_ms() + timeout_ms };

	sbuf_reset(body);
	return https_reply(&c, body, why);
}

int
smtp_https_get(struct dns_resolver *dns, struct tls_ctx *ctx,
    const char *host, const char *path, long timeout, struct sbuf *body,
    struct sbuf *why)
{
	struct dns_answer answer = { 0 };
	struct tls_peer peer = { .host = host, .verify = TLS_VERIFY_HOST };
	struct https_conn c = { .deadline = https_now_ms() +
	    (timeout > 0 && timeout < 86400 ? timeout : 86400) * 1000LL };
	struct sbuf *err = sbuf_new();
	int fd = -1, rc = -1;

	sbuf_reset(body);
	if (ctx == NULL) {
		sbuf_set(why, "the TLS client context is unavailable");
		goto done;
	}
	if (dns_lookup(dns, host, DNS_T_A, &answer, err) != DNS_OK &&
	    dns_lookup(dns, host, DNS_T_AAAA, &answer, err) != DNS_OK) {
		sbuf_setf(why, "%s", sbuf_str(err));
		goto done;
	}
	for (size_t i = 0; i < answer.count && fd < 0; i++) {
		long long left = c.deadline - https_now_ms();

		if (left <= 0)
			break;
		fd = smtp_connect(answer.rrs[i].addr, SMTP_HTTPS_PORT,
		    (int)left, err);
	}
	if (fd < 0) {
		sbuf_setf(why, "connect to %s port 443: %s", host,
		    sbuf_len(err) > 0 ? sbuf_str(err) : "timed out");
		goto done;
	}
	c.stream = stream_open(fd, 1000);
	if (https_time_left(&c, why) < 0)
		goto done;
	if (stream_start_tls(c.stream, ctx, &peer) < 0) {
		sbuf_setf(why, "TLS with %s failed: %s", host,
		    stream_error(c.stream));
		goto done;
	}
	stream_printf(c.stream, "GET %s HTTP/1.1\r\nHost: %s\r\n"
	    "Connection: close\r\nAccept: text/plain\r\n"
	    "User-Agent: postern-smtp\r\n\r\n", path, host);
	if (stream_flush(c.stream) < 0) {
		sbuf_setf(why, "sending the request to %s: %s", host,
		    stream_error(c.stream));
		goto done;
	}
	if (https_reply(&c, body, err) < 0) {
		sbuf_setf(why, "https://%s%s: %s", host, path, sbuf_str(err));
		goto done;
	}
	rc = 0;
done:
	stream_free(&c.stream);
	dns_answer_clear(&answer);
	sbuf_free(&err);
	return rc;
}
