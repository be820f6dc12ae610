/*
 * dict_static - static:value, a table that finds one value for every key
 *
 * static:value, or static:{value with spaces} where the braces (balanced
 * braces may appear inside) are removed and the text inside trimmed.
 * Keys are ignored, so folding does not apply, and the table cannot be
 * listed.
 * Errors: open returns NULL with a reason quoting the table when braces do
 * not balance or text follows the closing brace; lookups fail only when
 * the value does not fit the caller's buffer. Nothing logs.
 * Trust: the name comes from configuration; keys are never looked at.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util/dict_drivers.h"
#include "util/sbuf.h"
#include "util/xmalloc.h"

struct dict_static {
	struct dict dict;
	char *value;
};

/* The value written in name (malloc'ed), or NULL with a reason. */
static char *
dict_static_value(const char *name, struct sbuf *why)
{
	const char *p, *start;
	int depth = 0;

	if (name[0] != '{')
		return xstrdup(name);
	for (p = name; *p != '\0'; p++) {
		if (*p == '{')
			depth++;
		else if (*p == '}' && --depth == 0)
			break;
	}
	if (*p == '\0') {
		sbuf_setf(why, "table \"static:%s\": unbalanced braces: "
		    "missing '}'", name);
		return NULL;
	}
	if (p[1 + strspn(p + 1, " \t\r\n")] != '\0') {
		sbuf_setf(why, "table \"static:%s\": text after the closing "
		    "'}'", name);
		return NULL;
	}
	for (start = name + 1; start < p && isspace((unsigned char)*start);
	    start++)
		;
	while (p > start && isspace((unsigned char)p[-1]))
		p--;
	return xstrndup(start, (size_t)(p - start));
}

static enum dict_status
dict_static_lookup(struct dict *d, const char *key, struct sbuf *value_r,
    struct sbuf *why)
{
	struct dict_static *ds = (struct dict_static *)d;

	if (sbuf_set(value_r, ds->value) < 0) {
		sbuf_setf(why, "table \"static:%s\": value too long for the "
		    "result buffer", d->name);
		return DICT_ERROR;
	}
	return DICT_FOUND;
}

static void
dict_static_close(struct dict *d)
{
	struct dict_static *ds = (struct dict_static *)d;

	free(ds->value);
	dict_release(d);
}

struct dict *
dict_static_open(const char *type, const char *name, int flags,
    struct sbuf *why)
{
	struct dict_static *ds;
	char *value;

	if ((value = dict_static_value(name, why)) == NULL)
		return NULL;
	ds = (struct dict_static *)dict_alloc(type, name, flags, sizeof(*ds));
	ds->value = value;
	ds->dict.fold = false;
	ds->dict.lookup = dict_static_lookup;
	ds->dict.iterate = NULL;
	ds->dict.close = dict_static_close;
	return &ds->dict;
}
