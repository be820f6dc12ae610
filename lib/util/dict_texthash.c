/*
 * dict_texthash - texthash:FILE, a text source read into memory
 *
 * The source ("key value" lines, see dict_source.h) is read once at open
 * into a hash table; lookups never touch the file again. When a key is
 * listed twice the first entry wins, silently. Keys are folded to lower
 * case unless DICT_FLAG_NO_FOLD; walks follow the source order.
 * Errors: open returns NULL with "FILE, line N: text" (or the open or
 * read error naming FILE) in why; lookups cannot fail. Nothing logs.
 * Trust: the source may be written by any user who can edit it; keys
 * looked up may be hostile client data (the table's hash is keyed).
 */
#include <stdlib.h>

#include "util/dict_drivers.h"
#include "util/dict_source.h"
#include "util/htable.h"
#include "util/sbuf.h"
#include "util/xmalloc.h"

static int
dict_texthash_add(const char *key, const char *value, const char *file,
    int line, void *ctx, struct sbuf *why)
{
	struct htable *table = ctx;
	char *copy = xstrdup(value);

	if (htable_insert(table, key, copy) < 0)
		free(copy);
	return 0;
}

struct dict *
dict_texthash_open(const char *type, const char *name, int flags,
    struct sbuf *why)
{
	struct htable *table = htable_new();

	if (dict_source_read(name, flags, dict_texthash_add, table, why) < 0) {
		htable_free(&table, free);
		return NULL;
	}
	return dict_mem_open(type, name, flags, table);
}
