/*
 * utf8 - well-formed UTF-8 (RFC 3629) for addresses and protocol text
 *
 * Errors: 0 for anything that is not one well-formed sequence.
 * Trust: input is hostile; nothing is read at or past end.
 */
#include "util/utf8.h"

size_t
utf8_seq_len(const unsigned char *p, const unsigned char *end, int flags)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (p >= end)
		return 0;
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		if (p[0] == 0xc2 && (flags & UTF8_NO_C1))
			lo = 0xa0;	/* C1 controls */
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;	/* overlong */
		else if (p[0] == 0xed)
			hi = 0x9f;	/* surrogates */
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		if (p[0] == 0xf0)
			lo = 0x90;	/* overlong */
		else if (p[0] == 0xf4)
			hi = 0x8f;	/* past U+10FFFF */
	} else {
		return 0;
	}
	if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}
