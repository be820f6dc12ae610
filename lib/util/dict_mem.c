/*
 * dict_mem - lookups, walks and closing for tables held in memory
 *
 * texthash and inline tables parse their text into a hash table of
 * malloc'ed values and hand it here; this module answers from it.
 * Errors: a value too long for a size-limited result buffer is DICT_ERROR
 * (never cut short). Nothing logs.
 * Trust: keys looked up may be hostile client data (the hash is keyed).
 */
#include <stdlib.h>

#include "util/dict_drivers.h"
#include "util/htable.h"
#include "util/sbuf.h"

struct dict_mem {
	struct dict dict;
	struct htable *table;	/* key -> malloc'ed value */
};

struct dict_mem_walk {
	dict_walk_fn fn;
	void *ctx;
};

static enum dict_status
dict_mem_lookup(struct dict *d, const char *key, struct sbuf *value_r,
    struct sbuf *why)
{
	struct dict_mem *dm = (struct dict_mem *)d;
	const char *value = htable_find(dm->table, key);

	if (value == NULL)
		return DICT_NOTFOUND;
	if (sbuf_set(value_r, value) < 0) {
		sbuf_setf(why, "table %s:%s: value too long for the result "
		    "buffer", d->type, d->name);
		return DICT_ERROR;
	}
	return DICT_FOUND;
}

static int
dict_mem_visit(const char *key, void *value, void *ctx)
{
	struct dict_mem_walk *w = ctx;

	return w->fn(key, value, w->ctx);
}

static int
dict_mem_iterate(struct dict *d, dict_walk_fn fn, void *ctx,
    struct sbuf *why)
{
	struct dict_mem *dm = (struct dict_mem *)d;
	struct dict_mem_walk w = {fn, ctx};

	htable_walk(dm->table, dict_mem_visit, &w);
	return 0;
}

static void
dict_mem_close(struct dict *d)
{
	struct dict_mem *dm = (struct dict_mem *)d;

	htable_free(&dm->table, free);
	dict_release(d);
}

struct dict *
dict_mem_open(const char *type, const char *name, int flags,
    struct htable *table)
{
	struct dict_mem *dm;

	dm = (struct dict_mem *)dict_alloc(type, name, flags, sizeof(*dm));
	dm->table = table;
	dm->dict.fold = !(flags & DICT_FLAG_NO_FOLD);
	dm->dict.lookup = dict_mem_lookup;
	dm->dict.iterate = dict_mem_iterate;
	dm->dict.close = dict_mem_close;
	return &dm->dict;
}
