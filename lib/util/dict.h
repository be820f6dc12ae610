/*
 * dict - one lookup-table interface over every table type
 *
 * A table is named "type:name": db:/etc/aliases and btree:... (Berkeley DB
 * hash and btree files NAME.db), cdb:NAME (tinycdb file NAME.cdb),
 * pcre:FILE (PCRE2 pattern file), texthash:FILE (text source read into
 * memory), inline:{key=value, ...} and static:value.
 *
 * Keys of db, btree, cdb, texthash and inline tables are folded to lower
 * case when built and when looked up, unless DICT_FLAG_NO_FOLD is given;
 * pcre patterns match case-insensitively unless the pattern says
 * otherwise; static tables ignore the key.
 *
 * Text sources ("key value" lines, see dict_source.h) are compiled into
 * db/btree/cdb files by dict_build(). When a source holds a key twice the
 * first entry wins, in every table type alike, and the builder warns.
 */
#ifndef POSTERN_DICT_H
#define POSTERN_DICT_H

#include <sys/types.h>

#include <stdbool.h>

struct sbuf;

enum dict_status {
	DICT_FOUND,
	DICT_NOTFOUND,
	DICT_ERROR		/* the reason is in why */
};

#define DICT_FLAG_NO_FOLD	(1 << 0)	/* keep the case of keys */
#define DICT_FLAG_ALIAS		(1 << 1)	/* aliases(5) source, "key: value" */

/* Called for each entry of dict_iterate(); non-zero stops the walk. */
typedef int (*dict_walk_fn)(const char *key, const char *value, void *ctx);
/* Receives a builder's warning, which names the file and line. */
typedef void (*dict_warn_fn)(const char *text, void *ctx);

/* What a table's file looked like when it was opened. */
struct dict_stamp {
	bool exists;		/* the file was there */
	dev_t dev;
	ino_t ino;
	off_t size;
	long long mtime_ns;
};

struct dict {
	char *type;		/* "db", "btree", "cdb", "pcre", ... */
	char *name;		/* the part after the colon */
	int flags;		/* DICT_FLAG_* given at open */
	bool fold;		/* lookup keys are lower-cased first */
	char *file;		/* the file the table is read from, or NULL */
	struct dict_stamp stamp;	/* that file at open, before reading */
	/* Finds key (already folded when fold is set). */
	enum dict_status (*lookup)(struct dict *d, const char *key,
	    struct sbuf *value_r, struct sbuf *why);
	/* Walks every entry; NULL for types that cannot be listed. */
	int (*iterate)(struct dict *d, dict_walk_fn fn, void *ctx,
	    struct sbuf *why);
	/* Releases what the driver holds, then the struct itself. */
	void (*close)(struct dict *d);
};

/* Opens a table by "type:name"; NULL with a reason naming it. */
struct dict *dict_open(const char *spec, int flags, struct sbuf *why);
/*
 * Looks key up; on DICT_FOUND value_r holds the value (replaced, not
 * appended). Errors (unreadable or corrupt file) are DICT_ERROR with why.
 */
enum dict_status dict_lookup(struct dict *d, const char *key,
    struct sbuf *value_r, struct sbuf *why);
/*
 * Walks every entry in the table's order: 0 when done or stopped by fn,
 * -1 with a reason (also for types that cannot be listed).
 */
int dict_iterate(struct dict *d, dict_walk_fn fn, void *ctx,
    struct sbuf *why);
/*
 * True when the file the table was read from has been replaced, changed
 * or removed since it was opened (always false for inline and static
 * tables): a long-lived process then opens the table again.
 */
bool dict_changed(const struct dict *d);

/* Closes the table and sets *d to NULL; accepts NULL. */
void dict_free(struct dict **d);

/*
 * Compiles the text source named by spec (db:FILE, btree:FILE, cdb:FILE)
 * into its indexed file, atomically: readers see the old file or the whole
 * new one. Duplicate keys go to warn. 0, or -1 with a reason naming the
 * source file and line; the old indexed file is then left in place.
 */
int dict_build(const char *spec, int flags, dict_warn_fn warn, void *ctx,
    struct sbuf *why);
/*
 * For table types compiled from a source, the path of the compiled file
 * (malloc'ed; the caller frees it) and of the source in *source_r; NULL
 * for other types or a malformed spec.
 */
char *dict_indexed_path(const char *spec, char **source_r);

/*
 * Checks that spec names a known table type (and, with build, one that
 * dict_build() compiles): 0, or -1 with a reason. Tells an unusable spec
 * from a table that fails to open or build.
 */
int dict_spec_check(const char *spec, bool build, struct sbuf *why);
/* Splits "type:name"; 0, or -1 with a reason. Used by dict_open(). */
int dict_split_spec(const char *spec, char **type_r, char **name_r,
    struct sbuf *why);

#endif
