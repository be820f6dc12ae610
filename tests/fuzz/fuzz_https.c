/*
 * fuzz_https - the HTTP/1.1 reply an MTA-STS policy server sends, read
 * by the smtp client's HTTPS reader through a real stream
 *
 * The input is what the server sends, at most FUZZ_INPUT_MAX bytes,
 * written to a socket pair whose other end then closes. The reader must
 * accept only a 200 reply, keep the body within SMTP_HTTPS_BODY_MAX, give
 * exactly Content-Length bytes when it accepts a reply that declares one
 * and is not chunked, and give a reason whenever it refuses.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "smtp_https.h"
#include "util/sbuf.h"
#include "util/stream.h"

#define FUZZ_INPUT_MAX	(96 * 1024)	/* fits the socket's buffer */
#define FUZZ_TIMEOUT_MS	10000

/*
 * How many fields called name a header of CRLF lines has (the value of
 * the last in *value_r), or -1 when the header is not that simple
 * (another line end, no end): then nothing is checked.
 */
static int
fuzz_header_count(const char *text, size_t len, const char *name,
    long *value_r)
{
	const char *end = memmem(text, len, "\r\n\r\n", 4), *p = text;
	size_t nlen = strlen(name);
	int seen = 0;

	if (end == NULL)
		return -1;
	for (const char *q = text; q < end; q++)
		if (*q == '\n' && (q == text || q[-1] != '\r'))
			return -1;
	while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		p++;
		if ((size_t)(end - p) > nlen &&
		    strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
			*value_r = strtol(p + nlen + 1, NULL, 10);
			seen++;
		}
	}
	return seen;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbuf *body = sbuf_new(), *why = sbuf_new();
	struct stream *s;
	const char *text = (const char *)data;
	int sv[2], rc;
	long length, ignored;

	if (size > FUZZ_INPUT_MAX)
		size = FUZZ_INPUT_MAX;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	if (size > 0 && write(sv[1], data, size) != (ssize_t)size)
		abort();
	close(sv[1]);
	s = stream_open(sv[0], FUZZ_TIMEOUT_MS);
	rc = smtp_https_reply(s, FUZZ_TIMEOUT_MS, body, why);
	if (rc < 0 && sbuf_len(why) == 0)
		abort();
	if (rc == 0) {
		if (size < 12 || memcmp(data, "HTTP/1.", 7) != 0 ||
		    memcmp(data + 9, "200", 3) != 0 ||
		    sbuf_len(body) > SMTP_HTTPS_BODY_MAX)
			abort();
		/* One Content-Length, no Transfer-Encoding: that many. */
		if (fuzz_header_count(text, size, "Content-Length",
		    &length) == 1 && fuzz_header_count(text, size,
		    "Transfer-Encoding", &ignored) == 0 &&
		    sbuf_len(body) != (size_t)length)
			abort();
	}
	stream_free(&s);
	close(sv[0]);
	sbuf_free(&body);
	sbuf_free(&why);
	return 0;
}
