/*
 * fuzz_split_ext - local parts of recipient addresses, as a client
 * writes them, split at recipient_delimiter into user and extension
 *
 * The first byte chooses the delimiters; the rest (to a NUL) is the
 * local part. Split, user must be a non-empty beginning of it without a
 * delimiter, followed by one delimiter and the extension; else user is
 * the whole local part and the extension empty.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "mail/resolve.h"
#include "util/sbuf.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const delimiters[] = { "+", "+-", "", "-=_.",
	    "\xc3", "@" };
	struct sbuf *local = sbuf_new(), *user = sbuf_new(),
	    *ext = sbuf_new();
	const char *delims, *u, *l;
	size_t ulen;

	if (size == 0)
		goto out;
	delims = delimiters[data[0] % (sizeof(delimiters) /
	    sizeof(delimiters[0]))];
	sbuf_catn(local, (const char *)data + 1, size - 1);
	l = sbuf_str(local);
	resolve_split_ext(l, delims, user, ext);
	u = sbuf_str(user);
	ulen = sbuf_len(user);
	if (sbuf_len(ext) == 0 && strcmp(u, l) == 0)
		goto out;	/* not split */
	if (ulen == 0 || strncmp(u, l, ulen) != 0 || l[ulen] == '\0' ||
	    strchr(delims, l[ulen]) == NULL ||
	    strcspn(u, delims) != ulen ||
	    strcmp(l + ulen + 1, sbuf_str(ext)) != 0)
		abort();
out:
	sbuf_free(&local);
	sbuf_free(&user);
	sbuf_free(&ext);
	return 0;
}
