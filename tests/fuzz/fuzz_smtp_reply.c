/*
 * fuzz_smtp_reply - replies of a remote SMTP server, line by line as the
 * client reads them, and the EHLO extensions taken from them
 */
#include "fuzz.h"

#include <string.h>

#include "smtp_reply.h"
#include "util/sbuf.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	struct sbuf *why = sbuf_new();
	struct smtp_reply r;
	struct smtp_ehlo ehlo;
	bool first = true, last = false;

	smtp_reply_init(&r);
	while (p < end && !last) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl != NULL ? nl : end) - p);

		if (smtp_reply_add_line(&r, p, len, first, &last, why) < 0)
			break;
		first = false;
		p += len + (nl != NULL);
	}
	if (last)
		smtp_ehlo_parse(&r, &ehlo);
	smtp_reply_clear(&r);
	sbuf_free(&why);
	return 0;
}
