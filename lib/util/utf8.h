/*
 * utf8 - well-formed UTF-8 (RFC 3629) for addresses and protocol text
 */
#ifndef POSTERN_UTF8_H
#define POSTERN_UTF8_H

#include <stddef.h>

#define UTF8_NO_C1	(1 << 0)	/* also refuse U+0080..U+009F */

/*
 * Returns the length (1 for ASCII) of the well-formed UTF-8 sequence that
 * starts at p, before end, or 0 for an overlong form, a surrogate, a code
 * point past U+10FFFF, a stray continuation byte or a truncated sequence
 * (and, with UTF8_NO_C1, a C1 control).
 */
size_t utf8_seq_len(const unsigned char *p, const unsigned char *end,
    int flags);

#endif
