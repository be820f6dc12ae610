/*
 * local_alias - alias_maps lookups that know who owns each table
 *
 * Errors: a table that fails to open or to answer is an error naming
 * it; the caller defers. Nothing logs.
 * Trust: the table list comes from main.cf; the table files are the
 * administrator's, and their owner decides the rights of what they name.
 */
#include "local_alias.h"

#include <sys/stat.h>

#include <stdlib.h>
#include <string.h>

#include "mail/maps.h"
#include "util/sbuf.h"
#include "util/xmalloc.h"

struct local_alias_table {
	struct dict *dict;
	uid_t owner;
};

struct local_aliases {
	struct local_alias_table *tables;
	size_t count;
};

/* The owner of the file the table is read from; root when none. */
static uid_t
local_alias_owner(const struct dict *d)
{
	struct stat st;

	if (d->file != NULL && stat(d->file, &st) == 0)
		return st.st_uid;
	return 0;
}

struct local_aliases *
local_aliases_open(const char *list, struct sbuf *why)
{
	struct local_aliases *a = xcalloc(1, sizeof(*a));
	char **specs = NULL;
	size_t count = 0;

	if (maps_split(list, &specs, &count, why) < 0) {
		free(a);
		return NULL;
	}
	a->tables = xcalloc(count > 0 ? count : 1, sizeof(*a->tables));
	for (size_t i = 0; i < count; i++) {
		struct dict *d = dict_open(specs[i], DICT_FLAG_ALIAS, why);

		if (d == NULL) {
			maps_split_free(&specs, count);
			local_aliases_free(&a);
			return NULL;
		}
		a->tables[a->count].dict = d;
		a->tables[a->count].owner = local_alias_owner(d);
		a->count++;
	}
	maps_split_free(&specs, count);
	return a;
}

void
local_aliases_free(struct local_aliases **a)
{
	if (*a == NULL)
		return;
	for (size_t i = 0; i < (*a)->count; i++)
		dict_free(&(*a)->tables[i].dict);
	free((*a)->tables);
	xfree(a);
}

bool
local_aliases_changed(const struct local_aliases *a)
{
	for (size_t i = 0; i < a->count; i++)
		if (dict_changed(a->tables[i].dict))
			return true;
	return false;
}

/* Looks key up in every table in order. */
static enum dict_status
local_aliases_find_key(struct local_aliases *a, const char *key,
    struct sbuf *value, uid_t *owner_r, struct sbuf *why)
{
	for (size_t i = 0; i < a->count; i++) {
		struct local_alias_table *t = &a->tables[i];
		enum dict_status st = dict_lookup(t->dict, key, value, why);

		if (st == DICT_NOTFOUND)
			continue;
		if (st == DICT_FOUND)
			*owner_r = t->owner;
		return st;
	}
	return DICT_NOTFOUND;
}

enum dict_status
local_aliases_find(struct local_aliases *a, const char *local,
    const char *user, struct sbuf *value, struct sbuf *key_r, uid_t *owner_r,
    struct sbuf *why)
{
	enum dict_status st;

	st = local_aliases_find_key(a, local, value, owner_r, why);
	if (st == DICT_FOUND)
		sbuf_set(key_r, local);
	if (st == DICT_NOTFOUND && strcmp(local, user) != 0) {
		st = local_aliases_find_key(a, user, value, owner_r, why);
		if (st == DICT_FOUND)
			sbuf_set(key_r, user);
	}
	return st;
}
