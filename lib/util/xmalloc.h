/*
 * xmalloc - memory allocation that never returns NULL
 *
 * Every allocation in Postern goes through these; on exhaustion they call
 * msg_fatal(), so callers never test for NULL. Sizes are checked for
 * multiplication overflow.
 */
#ifndef POSTERN_XMALLOC_H
#define POSTERN_XMALLOC_H

#include <stddef.h>

/* Allocates len bytes (len 0 allocates 1). */
void *xmalloc(size_t len);
/* Allocates n * size zeroed bytes; fatal on overflow. */
void *xcalloc(size_t n, size_t size);
/* Resizes ptr to n * size bytes; fatal on overflow. */
void *xreallocarray(void *ptr, size_t n, size_t size);
/* Copies a NUL-terminated string. */
char *xstrdup(const char *s);
/* Copies len bytes of s and adds a NUL. */
char *xstrndup(const char *s, size_t len);
/* Copies len bytes. */
void *xmemdup(const void *s, size_t len);
/* Frees *p and sets it to NULL; accepts a NULL *p. */
void xfree(void *pp);

#endif
