/*
 * sbuf - growable byte buffers that carry their length
 *
 * A buffer may hold NUL bytes and always keeps an uncounted NUL after its
 * content, so sbuf_str() can be passed where a C string is wanted.
 * sbuf_set_limit() caps the content length: an append that would pass the
 * cap appends nothing and returns -1. Nothing is ever truncated silently.
 */
#ifndef POSTERN_SBUF_H
#define POSTERN_SBUF_H

#include <stdarg.h>
#include <stddef.h>

struct sbuf {
	char *data;		/* content, NUL-terminated */
	size_t len;		/* bytes of content */
	size_t cap;		/* bytes allocated, including the NUL */
	size_t limit;		/* largest allowed len; SIZE_MAX when unlimited */
};

/* Returns an empty, unlimited buffer. */
struct sbuf *sbuf_new(void);
/* Frees *sb and sets it to NULL; accepts NULL. */
void sbuf_free(struct sbuf **sb);
/* Empties the buffer, keeping its memory and limit. */
void sbuf_reset(struct sbuf *sb);
/* Sets the largest content length; does not shrink existing content. */
void sbuf_set_limit(struct sbuf *sb, size_t limit);
/* Appends len bytes; 0 on success, -1 (nothing appended) past the limit. */
int sbuf_catn(struct sbuf *sb, const void *data, size_t len);
/* Appends a C string; as sbuf_catn(). */
int sbuf_cat(struct sbuf *sb, const char *s);
/* Appends one byte; as sbuf_catn(). */
int sbuf_catc(struct sbuf *sb, int c);
/* Appends formatted text; as sbuf_catn(). */
int sbuf_printf(struct sbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int sbuf_vprintf(struct sbuf *sb, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Replaces the content with a C string / formatted text; as sbuf_catn(). */
int sbuf_set(struct sbuf *sb, const char *s);
int sbuf_setf(struct sbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Shortens the content to len bytes (no-op when already shorter). */
void sbuf_truncate(struct sbuf *sb, size_t len);
/* Detaches the content as a malloc'ed C string and empties the buffer. */
char *sbuf_steal(struct sbuf *sb);

/* The content as a C string, borrowed until the next change. */
static inline const char *
sbuf_str(const struct sbuf *sb)
{
	return sb->data;
}

static inline size_t
sbuf_len(const struct sbuf *sb)
{
	return sb->len;
}

#endif
