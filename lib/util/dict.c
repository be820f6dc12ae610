/*
 * dict - one lookup-table interface over every table type
 *
 * The registry of table types and the calls every caller uses; drivers
 * live in dict_*.c. Errors: NULL or DICT_ERROR with a reason; nothing logs.
 * Trust: specs come from configuration; keys may be hostile client data.
 */
#include "util/dict.h"

#include <sys/stat.h>

#include <stdlib.h>
#include <string.h>

#include "util/dict_drivers.h"
#include "util/sbuf.h"
#include "util/strutil.h"
#include "util/xmalloc.h"

struct dict_type {
	const char *type;
	struct dict *(*open)(const char *type, const char *name, int flags,
	    struct sbuf *why);
	int (*build)(const char *type, const char *name, int flags,
	    dict_warn_fn warn, void *ctx, struct sbuf *why);
	/*
	 * Appended to the name to give the file the table is read from (the
	 * compiled file for built types, "" for types read from the source);
	 * NULL for types without a file.
	 */
	const char *suffix;
};

static const struct dict_type dict_types[] = {
	{"db", dict_db_open, dict_db_build, ".db"},
	{"btree", dict_db_open, dict_db_build, ".db"},
	{"cdb", dict_cdb_open, dict_cdb_build, ".cdb"},
	{"texthash", dict_texthash_open, NULL, ""},
	{"inline", dict_inline_open, NULL, NULL},
	{"static", dict_static_open, NULL, NULL},
	{"pcre", dict_pcre_open, NULL, ""},
};

static const struct dict_type *
dict_find_type(const char *type)
{
	for (size_t i = 0; i < sizeof(dict_types) / sizeof(dict_types[0]); i++)
		if (strcmp(dict_types[i].type, type) == 0)
			return &dict_types[i];
	return NULL;
}

int
dict_split_spec(const char *spec, char **type_r, char **name_r,
    struct sbuf *why)
{
	const char *colon = strchr(spec, ':');

	if (colon == NULL || colon == spec || colon[1] == '\0') {
		sbuf_setf(why, "table \"%s\": expected type:name", spec);
		return -1;
	}
	*type_r = xstrndup(spec, (size_t)(colon - spec));
	*name_r = xstrdup(colon + 1);
	return 0;
}

struct dict *
dict_alloc(const char *type, const char *name, int flags, size_t size)
{
	struct dict *d = xcalloc(1, size);

	d->type = xstrdup(type);
	d->name = xstrdup(name);
	d->flags = flags;
	return d;
}

void
dict_release(struct dict *d)
{
	free(d->file);
	free(d->type);
	free(d->name);
	free(d);
}

/*
 * Splits spec and finds its type, which must be buildable when build is
 * set; the type and name are the caller's to free. NULL with a reason.
 */
static const struct dict_type *
dict_resolve(const char *spec, bool build, char **type_r, char **name_r,
    struct sbuf *why)
{
	const struct dict_type *dt;

	if (dict_split_spec(spec, type_r, name_r, why) < 0)
		return NULL;
	if ((dt = dict_find_type(*type_r)) == NULL)
		sbuf_setf(why, "table \"%s\": unknown table type \"%s\"", spec,
		    *type_r);
	else if (build && dt->build == NULL)
		sbuf_setf(why, "table \"%s\": %s tables are read from their "
		    "source and need no building", spec, *type_r);
	else
		return dt;
	free(*type_r);
	free(*name_r);
	return NULL;
}

int
dict_spec_check(const char *spec, bool build, struct sbuf *why)
{
	char *type, *name;

	if (dict_resolve(spec, build, &type, &name, why) == NULL)
		return -1;
	free(type);
	free(name);
	return 0;
}

/* Records what the file at path looks like now. */
static void
dict_stamp_take(struct dict_stamp *stamp, const char *path)
{
	struct stat st;

	memset(stamp, 0, sizeof(*stamp));
	if (stat(path, &st) < 0)
		return;
	stamp->exists = true;
	stamp->dev = st.st_dev;
	stamp->ino = st.st_ino;
	stamp->size = st.st_size;
	stamp->mtime_ns = (long long)st.st_mtim.tv_sec * 1000000000LL +
	    st.st_mtim.tv_nsec;
}

/*
 * The file is stamped before the driver reads it: a change that lands
 * in between makes the table look changed once too often, never stale.
 */
struct dict *
dict_open(const char *spec, int flags, struct sbuf *why)
{
	const struct dict_type *dt;
	struct dict_stamp stamp;
	struct dict *d;
	char *type, *name, *file = NULL;

	if ((dt = dict_resolve(spec, false, &type, &name, why)) == NULL)
		return NULL;
	if (dt->suffix != NULL) {
		struct sbuf *path = sbuf_new();

		sbuf_printf(path, "%s%s", name, dt->suffix);
		file = sbuf_steal(path);
		sbuf_free(&path);
		dict_stamp_take(&stamp, file);
	}
	if ((d = dt->open(type, name, flags, why)) != NULL && file != NULL) {
		d->file = file;
		d->stamp = stamp;
		file = NULL;
	}
	free(file);
	free(type);
	free(name);
	return d;
}

bool
dict_changed(const struct dict *d)
{
	struct dict_stamp now;

	if (d->file == NULL)
		return false;
	dict_stamp_take(&now, d->file);
	return now.exists != d->stamp.exists || now.dev != d->stamp.dev ||
	    now.ino != d->stamp.ino || now.size != d->stamp.size ||
	    now.mtime_ns != d->stamp.mtime_ns;
}

enum dict_status
dict_lookup(struct dict *d, const char *key, struct sbuf *value_r,
    struct sbuf *why)
{
	enum dict_status status;
	char *folded;

	if (!d->fold)
		return d->lookup(d, key, value_r, why);
	folded = str_lower(xstrdup(key));
	status = d->lookup(d, folded, value_r, why);
	free(folded);
	return status;
}

int
dict_iterate(struct dict *d, dict_walk_fn fn, void *ctx, struct sbuf *why)
{
	if (d->iterate == NULL) {
		sbuf_setf(why, "table %s:%s: %s tables cannot be listed",
		    d->type, d->name, d->type);
		return -1;
	}
	return d->iterate(d, fn, ctx, why);
}

void
dict_free(struct dict **d)
{
	if (*d == NULL)
		return;
	(*d)->close(*d);
	*d = NULL;
}

int
dict_build(const char *spec, int flags, dict_warn_fn warn, void *ctx,
    struct sbuf *why)
{
	const struct dict_type *dt;
	char *type, *name;
	int ret;

	if ((dt = dict_resolve(spec, true, &type, &name, why)) == NULL)
		return -1;
	ret = dt->build(type, name, flags, warn, ctx, why);
	free(type);
	free(name);
	return ret;
}

char *
dict_indexed_path(const char *spec, char **source_r)
{
	const struct dict_type *dt;
	char *type, *name, *path = NULL;
	struct sbuf *why = sbuf_new();

	if (dict_split_spec(spec, &type, &name, why) == 0) {
		dt = dict_find_type(type);
		if (dt != NULL && dt->build != NULL) {
			struct sbuf *p = sbuf_new();

			sbuf_printf(p, "%s%s", name, dt->suffix);
			path = sbuf_steal(p);
			sbuf_free(&p);
			*source_r = xstrdup(name);
		}
		free(type);
		free(name);
	}
	sbuf_free(&why);
	return path;
}
