/*
 * fuzz_smtp_content - stored message content (as a client sent it to
 * smtpd, bare CRs and all) encoded by the smtp client for DATA or BDAT
 *
 * The first byte chooses the mode (DATA, BDAT, BINARYMIME), the second
 * the size of the pieces the content is encoded in; the rest is the
 * content. The wire form must not depend on the pieces; text modes must
 * send no bare CR or LF; what smtpd's DATA reader (smtpd_data.c) makes
 * of the DATA form must be the content without its bare CRs, with a last
 * LF, and the end marker must be the last thing sent and the only one;
 * BDAT forms must turn back into the content with CRLF to LF; the size
 * smtp declares (SIZE=) must never be below what it sends.
 */
#include "fuzz.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "smtp_content.h"
#include "smtpd_data.h"
#include "util/sbuf.h"
#include "util/stream.h"

#define FUZZ_INPUT_MAX	(16 * 1024)	/* the wire form fits a socket */
#define FUZZ_TIMEOUT_MS	10000

/* The wire form of content, encoded in pieces of piece octets. */
static void
fuzz_encode(enum smtp_content_mode mode, const char *content, size_t len,
    size_t piece, struct sbuf *wire)
{
	struct smtp_content_enc enc;

	smtp_content_enc_init(&enc, mode);
	for (size_t off = 0; off < len; off += piece)
		smtp_content_encode(&enc, content + off,
		    len - off < piece ? len - off : piece, wire);
	smtp_content_finish(&enc, wire);
}

/* Aborts unless every CR of wire starts a CRLF and every LF ends one. */
static void
fuzz_check_crlf(const struct sbuf *wire)
{
	const char *w = sbuf_str(wire);
	size_t len = sbuf_len(wire);

	for (size_t i = 0; i < len; i++)
		if ((w[i] == '\r' && (i + 1 == len || w[i + 1] != '\n')) ||
		    (w[i] == '\n' && (i == 0 || w[i - 1] != '\r')))
			abort();
}

static int
fuzz_sink(void *ctx, const char *bytes, size_t len)
{
	sbuf_catn(ctx, bytes, len);
	return 0;
}

/* Aborts unless smtpd reads the DATA form wire as the content want. */
static void
fuzz_check_data(const struct sbuf *wire, const struct sbuf *want)
{
	static const struct data_limits lim = { SIZE_MAX, SIZE_MAX,
	    SIZE_MAX };
	struct sbuf *got = sbuf_new();
	struct data_result res;
	struct stream *st;
	char c;
	size_t n;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		abort();
	if (write(sv[1], sbuf_str(wire), sbuf_len(wire)) !=
	    (ssize_t)sbuf_len(wire) || shutdown(sv[1], SHUT_WR) < 0)
		abort();
	st = stream_open(sv[0], FUZZ_TIMEOUT_MS);
	if (smtpd_data_read(st, &lim, fuzz_sink, got, &res) != DATA_OK ||
	    res.wire_bytes != sbuf_len(wire) || res.bare_lf != 0 ||
	    res.bare_cr != 0)
		abort();
	if (stream_read(st, &c, 1, &n) != LINE_EOF)
		abort();
	if (sbuf_len(got) != sbuf_len(want) ||
	    memcmp(sbuf_str(got), sbuf_str(want), sbuf_len(want)) != 0)
		abort();
	stream_free(&st);
	close(sv[0]);
	close(sv[1]);
	sbuf_free(&got);
}

/* Aborts unless the BDAT form wire, CRLF to LF, is want. */
static void
fuzz_check_bdat(const struct sbuf *wire, const struct sbuf *want)
{
	struct sbuf *got = sbuf_new();
	const char *w = sbuf_str(wire);
	size_t len = sbuf_len(wire);

	for (size_t i = 0; i < len; i++)
		if (w[i] != '\r' || i + 1 == len || w[i + 1] != '\n')
			sbuf_catc(got, w[i]);
	if (sbuf_len(got) != sbuf_len(want) ||
	    memcmp(sbuf_str(got), sbuf_str(want), sbuf_len(want)) != 0)
		abort();
	sbuf_free(&got);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum smtp_content_mode modes[] = {
		SMTP_CONTENT_DATA, SMTP_CONTENT_BDAT, SMTP_CONTENT_BINARY
	};
	struct sbuf *wire, *whole, *want;
	struct smtp_content_scan scan;
	enum smtp_content_mode mode;
	const char *content;
	uint64_t declared;
	size_t len;

	if (size < 2 || size - 2 > FUZZ_INPUT_MAX)
		return 0;
	mode = modes[data[0] % 3];
	content = (const char *)data + 2;
	len = size - 2;
	wire = sbuf_new();
	whole = sbuf_new();
	want = sbuf_new();
	fuzz_encode(mode, content, len, (size_t)data[1] + 1, wire);
	fuzz_encode(mode, content, len, len + 1, whole);
	if (sbuf_len(wire) != sbuf_len(whole) ||
	    memcmp(sbuf_str(wire), sbuf_str(whole), sbuf_len(wire)) != 0)
		abort();

	/* What the receiving server stores. */
	for (size_t i = 0; i < len; i++)
		if (content[i] != '\r' || mode == SMTP_CONTENT_BINARY)
			sbuf_catc(want, content[i]);
	if (mode != SMTP_CONTENT_BINARY && sbuf_len(want) > 0 &&
	    sbuf_str(want)[sbuf_len(want) - 1] != '\n')
		sbuf_catc(want, '\n');

	/* SIZE=, as smtp declares it. */
	smtp_content_scan_init(&scan);
	smtp_content_scan(&scan, content, len);
	declared = scan.wire_size + (scan.ends_with_lf ? 0 : 2) +
	    (mode == SMTP_CONTENT_BINARY ? scan.bare_cr : 0);

	if (mode == SMTP_CONTENT_DATA) {
		fuzz_check_crlf(wire);
		fuzz_check_data(wire, want);
	} else {
		if (mode == SMTP_CONTENT_BDAT)
			fuzz_check_crlf(wire);
		fuzz_check_bdat(wire, want);
		if (declared < sbuf_len(wire))
			abort();
	}
	sbuf_free(&wire);
	sbuf_free(&whole);
	sbuf_free(&want);
	return 0;
}
