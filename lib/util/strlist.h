/*
 * strlist - a growing list of strings, used as a stack or a set
 *
 * For the short lists that alias expansion keeps (addresses found, the
 * chain of aliases being expanded): membership is a linear search, so a
 * list is meant for at most a few thousand items.
 */
#ifndef POSTERN_STRLIST_H
#define POSTERN_STRLIST_H

#include <stdbool.h>
#include <stddef.h>

/* Zero-initialised it is an empty list; free with strlist_free(). */
struct strlist {
	char **items;		/* count copies, malloc'ed */
	size_t count;
	size_t size;		/* slots allocated */
};

/* True when the list holds a string equal to s. */
bool strlist_has(const struct strlist *l, const char *s);
/* Appends a copy of s. */
void strlist_push(struct strlist *l, const char *s);
/* Appends a copy of s unless the list holds it; true when appended. */
bool strlist_add_unique(struct strlist *l, const char *s);
/* Removes the last string; does nothing on an empty list. */
void strlist_pop(struct strlist *l);
/* Frees every string and the array; the list is empty after. */
void strlist_free(struct strlist *l);

#endif
