/*
 * pqueue_json - JSON string quoting for postern-queue --json
 *
 * Errors: none; a buffer limit set on out is the caller's.
 * Trust: s may hold any octets but NUL; queue file and log text is
 * already checked, so quoting is all that is needed.
 */
#include "pqueue_json.h"

#include "util/sbuf.h"

void
pqueue_json_string(struct sbuf *out, const char *s)
{
	const unsigned char *p;

	sbuf_catc(out, '"');
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\') {
			sbuf_catc(out, '\\');
			sbuf_catc(out, *p);
		} else if (*p < 0x20 || *p == 0x7f) {
			sbuf_printf(out, "\\u%04x", *p);
		} else {
			sbuf_catc(out, *p);
		}
	}
	sbuf_catc(out, '"');
}
