/*
 * sbuf - growable byte buffers that carry their length
 *
 * Errors: appends past the buffer's limit return -1 and leave the content
 * unchanged; memory exhaustion is fatal (xmalloc).
 * Trust: content may be hostile; it is never interpreted here.
 */
#include "util/sbuf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/msg.h"
#include "util/xmalloc.h"

#define SBUF_INITIAL 64

struct sbuf *
sbuf_new(void)
{
	struct sbuf *sb = xmalloc(sizeof(*sb));

	sb->cap = SBUF_INITIAL;
	sb->data = xmalloc(sb->cap);
	sb->data[0] = '\0';
	sb->len = 0;
	sb->limit = SIZE_MAX - 1;
	return sb;
}

void
sbuf_free(struct sbuf **sb)
{
	if (*sb == NULL)
		return;
	free((*sb)->data);
	xfree(sb);
}

void
sbuf_reset(struct sbuf *sb)
{
	sb->len = 0;
	sb->data[0] = '\0';
}

void
sbuf_set_limit(struct sbuf *sb, size_t limit)
{
	sb->limit = limit < SIZE_MAX - 1 ? limit : SIZE_MAX - 1;
}

/* Makes room for extra more bytes plus the NUL; -1 past the limit. */
static int
sbuf_reserve(struct sbuf *sb, size_t extra)
{
	size_t want, cap;

	if (extra > sb->limit - sb->len || sb->len > sb->limit)
		return -1;
	want = sb->len + extra + 1;
	if (want <= sb->cap)
		return 0;
	cap = sb->cap;
	while (cap < want)
		cap = cap > SIZE_MAX / 2 ? want : cap * 2;
	sb->data = xreallocarray(sb->data, cap, 1);
	sb->cap = cap;
	return 0;
}

int
sbuf_catn(struct sbuf *sb, const void *data, size_t len)
{
	if (sbuf_reserve(sb, len) < 0)
		return -1;
	if (len > 0)
		memcpy(sb->data + sb->len, data, len);
	sb->len += len;
	sb->data[sb->len] = '\0';
	return 0;
}

int
sbuf_cat(struct sbuf *sb, const char *s)
{
	return sbuf_catn(sb, s, strlen(s));
}

int
sbuf_catc(struct sbuf *sb, int c)
{
	unsigned char ch = (unsigned char)c;

	return sbuf_catn(sb, &ch, 1);
}

int
sbuf_vprintf(struct sbuf *sb, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(sb->data + sb->len, sb->cap - sb->len, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		msg_panic("sbuf_vprintf: bad format \"%s\"", fmt);
	if ((size_t)n >= sb->cap - sb->len) {
		if (sbuf_reserve(sb, (size_t)n) < 0) {
			sb->data[sb->len] = '\0';
			return -1;
		}
		vsnprintf(sb->data + sb->len, sb->cap - sb->len, fmt, ap);
	} else if ((size_t)n > sb->limit - sb->len) {
		sb->data[sb->len] = '\0';
		return -1;
	}
	sb->len += (size_t)n;
	return 0;
}

int
sbuf_printf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = sbuf_vprintf(sb, fmt, ap);
	va_end(ap);
	return ret;
}

int
sbuf_set(struct sbuf *sb, const char *s)
{
	sbuf_reset(sb);
	return sbuf_cat(sb, s);
}

int
sbuf_setf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int ret;

	sbuf_reset(sb);
	va_start(ap, fmt);
	ret = sbuf_vprintf(sb, fmt, ap);
	va_end(ap);
	return ret;
}

void
sbuf_truncate(struct sbuf *sb, size_t len)
{
	if (len < sb->len) {
		sb->len = len;
		sb->data[len] = '\0';
	}
}

char *
sbuf_steal(struct sbuf *sb)
{
	char *s = sb->data;

	sb->cap = SBUF_INITIAL;
	sb->data = xmalloc(sb->cap);
	sb->data[0] = '\0';
	sb->len = 0;
	return s;
}
