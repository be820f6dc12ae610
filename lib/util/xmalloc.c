/*
 * xmalloc - memory allocation that never returns NULL
 *
 * Errors: allocation failure and size overflow are fatal (msg_fatal).
 * Trust: sizes come from callers that have already bounded them.
 */
#include "util/xmalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/msg.h"

void *
xmalloc(size_t len)
{
	void *p = malloc(len ? len : 1);

	if (p == NULL)
		msg_fatal("out of memory allocating %zu bytes", len);
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		msg_fatal("out of memory allocating %zu x %zu bytes", n, size);
	return p;
}

void *
xreallocarray(void *ptr, size_t n, size_t size)
{
	void *p;

	if (size != 0 && n > SIZE_MAX / size)
		msg_fatal("allocation size overflow: %zu x %zu", n, size);
	p = realloc(ptr, n * size > 0 ? n * size : 1);
	if (p == NULL)
		msg_fatal("out of memory allocating %zu x %zu bytes", n, size);
	return p;
}

char *
xstrdup(const char *s)
{
	return xmemdup(s, strlen(s) + 1);
}

char *
xstrndup(const char *s, size_t len)
{
	char *p;

	if (len == SIZE_MAX)
		msg_fatal("allocation size overflow");
	p = xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

void *
xmemdup(const void *s, size_t len)
{
	void *p = xmalloc(len);

	memcpy(p, s, len);
	return p;
}

void
xfree(void *pp)
{
	void **p = pp;

	free(*p);
	*p = NULL;
}
