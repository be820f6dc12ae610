/*
 * smtp_content - a queued message as it goes out after DATA or in BDAT
 *
 * Pure functions over buffers; the caller reads the queue file and
 * writes the stream. Errors: none (out is an unlimited buffer). Trust:
 * the content is the sender's and goes out as it is, apart from line
 * endings, dots and bare CRs (smtp_content.h).
 */
#include "smtp_content.h"

#include "util/sbuf.h"

void
smtp_content_enc_init(struct smtp_content_enc *enc,
    enum smtp_content_mode mode)
{
	enc->mode = mode;
	enc->at_bol = true;
}

void
smtp_content_encode(struct smtp_content_enc *enc, const char *data,
    size_t len, struct sbuf *out)
{
	size_t run = 0;		/* start of octets not yet copied */

	for (size_t i = 0; i < len; i++) {
		char c = data[i];

		if (c == '\r' && enc->mode != SMTP_CONTENT_BINARY) {
			sbuf_catn(out, data + run, i - run);
			run = i + 1;
			continue;
		}
		if (enc->at_bol && c == '.' && enc->mode == SMTP_CONTENT_DATA) {
			sbuf_catn(out, data + run, i - run);
			sbuf_catc(out, '.');
			run = i;
		}
		enc->at_bol = c == '\n';
		if (c == '\n') {
			sbuf_catn(out, data + run, i - run);
			sbuf_catn(out, "\r\n", 2);
			run = i + 1;
		}
	}
	sbuf_catn(out, data + run, len - run);
}

void
smtp_content_finish(struct smtp_content_enc *enc, struct sbuf *out)
{
	if (!enc->at_bol && enc->mode != SMTP_CONTENT_BINARY)
		sbuf_catn(out, "\r\n", 2);
	if (enc->mode == SMTP_CONTENT_DATA)
		sbuf_catn(out, ".\r\n", 3);
	enc->at_bol = true;
}

void
smtp_content_scan_init(struct smtp_content_scan *scan)
{
	scan->wire_size = 0;
	scan->bare_cr = 0;
	scan->has_8bit = false;
	scan->ends_with_lf = true;
}

void
smtp_content_scan(struct smtp_content_scan *scan, const char *data,
    size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)data[i];

		if (c == '\r') {
			scan->bare_cr++;
			continue;
		}
		scan->wire_size += c == '\n' ? 2 : 1;
		if (c & 0x80)
			scan->has_8bit = true;
	}
	if (len > 0)
		scan->ends_with_lf = data[len - 1] == '\n';
}
