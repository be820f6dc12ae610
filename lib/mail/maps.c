/*
 * maps - a list of lookup tables searched in order
 *
 * Errors: maps_split() and maps_open() return -1/NULL with a reason;
 * maps_find() returns DICT_ERROR from the first table that fails, its
 * reason prefixed with the table's "type:name". Nothing logs.
 * Trust: the list comes from configuration; keys may be hostile client
 * data and are passed to the tables untouched.
 */
#include "mail/maps.h"

#include <stdlib.h>
#include <string.h>

#include "util/sbuf.h"
#include "util/strutil.h"
#include "util/xmalloc.h"

struct maps {
	struct dict **dicts;
	size_t count;
	struct sbuf *reason;	/* a failing table's own reason */
};

int
maps_split(const char *list, char ***specs_r, size_t *count_r,
    struct sbuf *why)
{
	char **specs = NULL;
	size_t count = 0, alloc = 0;
	const char *p = list, *start;
	int depth;

	for (;;) {
		p += strspn(p, STR_LIST_DELIMS);
		if (*p == '\0')
			break;
		start = p;
		depth = 0;
		for (; *p != '\0'; p++) {
			if (*p == '{') {
				depth++;
			} else if (*p == '}') {
				if (depth == 0) {
					sbuf_setf(why, "table list \"%s\": "
					    "unbalanced braces: unexpected "
					    "'}'", list);
					goto fail;
				}
				depth--;
			} else if (depth == 0 &&
			    strchr(STR_LIST_DELIMS, *p) != NULL) {
				break;
			}
		}
		if (depth > 0) {
			sbuf_setf(why, "table list \"%s\": unbalanced braces: "
			    "missing '}'", list);
			goto fail;
		}
		if (count == alloc) {
			alloc = alloc ? alloc * 2 : 4;
			specs = xreallocarray(specs, alloc, sizeof(*specs));
		}
		specs[count++] = xstrndup(start, (size_t)(p - start));
	}
	*specs_r = specs;
	*count_r = count;
	return 0;
fail:
	maps_split_free(&specs, count);
	return -1;
}

void
maps_split_free(char ***specs, size_t count)
{
	if (*specs == NULL)
		return;
	for (size_t i = 0; i < count; i++)
		free((*specs)[i]);
	xfree(specs);
}

struct maps *
maps_open(const char *list, int flags, struct sbuf *why)
{
	struct maps *m;
	char **specs;
	size_t count;

	if (maps_split(list, &specs, &count, why) < 0)
		return NULL;
	m = xcalloc(1, sizeof(*m));
	m->dicts = xcalloc(count, sizeof(*m->dicts));
	m->reason = sbuf_new();
	for (; m->count < count; m->count++) {
		m->dicts[m->count] = dict_open(specs[m->count], flags, why);
		if (m->dicts[m->count] == NULL) {
			maps_split_free(&specs, count);
			maps_free(&m);
			return NULL;
		}
	}
	maps_split_free(&specs, count);
	return m;
}

enum dict_status
maps_find(struct maps *m, const char *key, struct sbuf *value_r,
    struct sbuf *why)
{
	for (size_t i = 0; i < m->count; i++) {
		struct dict *d = m->dicts[i];

		switch (dict_lookup(d, key, value_r, m->reason)) {
		case DICT_FOUND:
			return DICT_FOUND;
		case DICT_NOTFOUND:
			break;
		case DICT_ERROR:
			sbuf_setf(why, "table %s:%s: %s", d->type, d->name,
			    sbuf_str(m->reason));
			return DICT_ERROR;
		}
	}
	return DICT_NOTFOUND;
}

bool
maps_changed(const struct maps *m)
{
	if (m == NULL)
		return false;
	for (size_t i = 0; i < m->count; i++)
		if (dict_changed(m->dicts[i]))
			return true;
	return false;
}

void
maps_free(struct maps **m)
{
	if (*m == NULL)
		return;
	for (size_t i = 0; i < (*m)->count; i++)
		dict_free(&(*m)->dicts[i]);
	free((*m)->dicts);
	sbuf_free(&(*m)->reason);
	xfree(m);
}
