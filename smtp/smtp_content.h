/*
 * smtp_content - a queued message as it goes out after DATA or in BDAT
 *
 * The queue file stores lines ending in LF; on the wire each line ends in
 * CRLF, and content whose last line lacks its LF gets the CRLF it needs.
 * After DATA, a line that starts with "." gets another "." in front (RFC
 * 5321 4.5.2) and the data ends with "CRLF.CRLF". A CR that is not part
 * of a line ending may not go out on its own (RFC 5321 2.3.8): the
 * encoder drops it, so no server sees a bare CR and the line structure
 * stays as stored.
 *
 * In BDAT chunks (RFC 3030) nothing is dot-stuffed and nothing marks the
 * end. BINARYMIME content keeps its bare CRs and its last line as
 * stored: only LF becomes CRLF, the inverse of what the receiving server
 * stored.
 */
#ifndef POSTERN_SMTP_CONTENT_H
#define POSTERN_SMTP_CONTENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sbuf;

/* How the content goes out. */
enum smtp_content_mode {
	SMTP_CONTENT_DATA,	/* after DATA: dots stuffed, ".CRLF" at end */
	SMTP_CONTENT_BDAT,	/* BDAT chunks of text */
	SMTP_CONTENT_BINARY	/* BDAT chunks of BINARYMIME content */
};

/* The encoder's state between pieces of content. */
struct smtp_content_enc {
	enum smtp_content_mode mode;
	bool at_bol;		/* the next octet starts a line */
};

/* What a scan of the stored content finds. */
struct smtp_content_scan {
	uint64_t wire_size;	/* octets after CRLF conversion (SIZE=) */
	uint64_t bare_cr;	/* CRs, left out of wire_size: BINARYMIME
				 * content sends them */
	bool has_8bit;		/* an octet above 0x7f */
	bool ends_with_lf;
};

void smtp_content_enc_init(struct smtp_content_enc *enc,
    enum smtp_content_mode mode);
/* Appends the wire form of len octets of stored content to out. */
void smtp_content_encode(struct smtp_content_enc *enc, const char *data,
    size_t len, struct sbuf *out);
/*
 * Appends what ends the content: a CRLF if the last line lacked one
 * (except for BINARYMIME), then ".CRLF" after DATA.
 */
void smtp_content_finish(struct smtp_content_enc *enc, struct sbuf *out);

/* Starts a scan; feed every piece of content to smtp_content_scan(). */
void smtp_content_scan_init(struct smtp_content_scan *scan);
void smtp_content_scan(struct smtp_content_scan *scan, const char *data,
    size_t len);

#endif
