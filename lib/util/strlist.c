/*
 * strlist - a growing list of strings, used as a stack or a set
 */
#include "util/strlist.h"

#include <stdlib.h>
#include <string.h>

#include "util/xmalloc.h"

bool
strlist_has(const struct strlist *l, const char *s)
{
	for (size_t i = 0; i < l->count; i++)
		if (strcmp(l->items[i], s) == 0)
			return true;
	return false;
}

void
strlist_push(struct strlist *l, const char *s)
{
	if (l->count == l->size) {
		l->size = l->size == 0 ? 8 : l->size * 2;
		l->items = xreallocarray(l->items, l->size,
		    sizeof(*l->items));
	}
	l->items[l->count++] = xstrdup(s);
}

bool
strlist_add_unique(struct strlist *l, const char *s)
{
	if (strlist_has(l, s))
		return false;
	strlist_push(l, s);
	return true;
}

void
strlist_pop(struct strlist *l)
{
	if (l->count > 0)
		free(l->items[--l->count]);
}

void
strlist_free(struct strlist *l)
{
	while (l->count > 0)
		strlist_pop(l);
	free(l->items);
	l->items = NULL;
	l->size = 0;
}
