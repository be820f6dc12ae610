/*
 * smtp_content - a queued message as it goes out after DATA
 *
 * The queue file stores lines ending in LF. On the wire each line ends in
 * CRLF, a line that starts with "." gets another "." in front (RFC 5321
 * 4.5.2), and the data ends with "CRLF.CRLF"; content whose last line
 * lacks its LF gets the CRLF it needs. A CR that is not part of a line
 * ending may not go out on its own (RFC 5321 2.3.8): the encoder drops
 * it, so no server sees a bare CR and the line structure stays as stored.
 */
#ifndef POSTERN_SMTP_CONTENT_H
#define POSTERN_SMTP_CONTENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sbuf;

/* The encoder's state between pieces of content. */
struct smtp_content_enc {
	bool at_bol;		/* the next octet starts a line */
};

/* What a scan of the stored content finds. */
struct smtp_content_scan {
	uint64_t wire_size;	/* octets after CRLF conversion (SIZE=) */
	bool has_8bit;		/* an octet above 0x7f */
	bool ends_with_lf;
};

void smtp_content_enc_init(struct smtp_content_enc *enc);
/* Appends the wire form of len octets of stored content to out. */
void smtp_content_encode(struct smtp_content_enc *enc, const char *data,
    size_t len, struct sbuf *out);
/* Appends what ends the data: a CRLF if the last line lacked one, ".CRLF". */
void smtp_content_finish(struct smtp_content_enc *enc, struct sbuf *out);

/* Starts a scan; feed every piece of content to smtp_content_scan(). */
void smtp_content_scan_init(struct smtp_content_scan *scan);
void smtp_content_scan(struct smtp_content_scan *scan, const char *data,
    size_t len);

#endif
