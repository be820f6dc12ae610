/*
 * dict_db - Berkeley DB hash and btree tables (db:NAME, btree:NAME)
 *
 * Looks keys up in NAME.db, opened read-only as DB_HASH for "db" and as
 * DB_BTREE for "btree", and compiles the text source NAME into NAME.db.
 * Keys and values are stored without a trailing NUL.
 *
 * A build writes a complete new file under a temporary name beside
 * NAME.db (with page checksums), fsyncs it, renames it over NAME.db and
 * fsyncs the directory, so readers need no locks: a reader sees the whole
 * old or the whole new table, and an open handle keeps answering from the
 * file it opened. The new file is mode 0600 plus the group and other read
 * bits of its source (as postmap does), so a private source gives a
 * private table.
 *
 * Errors: NULL, DICT_ERROR or -1 with a reason naming the file; Berkeley
 * DB's own messages are captured into that reason and never reach stderr.
 * A failed build removes its temporary file and leaves NAME.db untouched.
 * Trust: NAME.db is written by this module but may be damaged. Open
 * refuses anything that is not a regular file (a FIFO would block), a
 * file of the other type and a file shorter than its meta page says (BDB
 * reads missing hash pages as empty buckets: a truncated table would
 * silently lose keys); page checksums turn other damage into DICT_ERROR.
 * Berkeley DB is not hardened against deliberately crafted files, but who
 * can write NAME.db decides the table's answers anyway.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <db.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/dict.h"
#include "util/dict_drivers.h"
#include "util/dict_source.h"
#include "util/safe_file.h"
#include "util/sbuf.h"

#define DICT_DB_ERR_MAX	512	/* bytes kept of a Berkeley DB message */

/*
 * What Berkeley DB said about the last operation: it may say a lot, the
 * first and the last messages are the telling ones.
 */
struct dict_db_err {
	struct sbuf *first;
	struct sbuf *last;
};

struct dict_db {
	struct dict dict;
	DB *db;
	char *path;		/* NAME.db */
	struct dict_db_err err;
};

/* Keeps the first and the last message Berkeley DB reports. */
static void
dict_db_errcall(const DB_ENV *env, const char *prefix, const char *text)
{
	struct dict_db_err *err = env->app_private;
	struct sbuf *to;
	size_t len = strlen(text);

	if (err == NULL)
		return;
	to = sbuf_len(err->first) == 0 ? err->first : err->last;
	sbuf_reset(to);
	sbuf_catn(to, text, len < DICT_DB_ERR_MAX ? len : DICT_DB_ERR_MAX);
}

/* Forgets the messages of an earlier operation. */
static void
dict_db_err_reset(struct dict_db_err *err)
{
	sbuf_reset(err->first);
	sbuf_reset(err->last);
}

/*
 * Sets why to "WHAT PATH: TEXT", TEXT being what BDB said (first and last
 * message) or else ret's meaning.
 */
static void
dict_db_reason(struct sbuf *why, const char *what, const char *path,
    int ret, const struct dict_db_err *err)
{
	if (sbuf_len(err->first) == 0)
		sbuf_setf(why, "%s %s: %s", what, path, db_strerror(ret));
	else if (sbuf_len(err->last) == 0 ||
	    strcmp(sbuf_str(err->first), sbuf_str(err->last)) == 0)
		sbuf_setf(why, "%s %s: %s", what, path, sbuf_str(err->first));
	else
		sbuf_setf(why, "%s %s: %s; %s", what, path,
		    sbuf_str(err->first), sbuf_str(err->last));
}

/*
 * Makes a handle whose messages go to err; 0, or -1 with a reason
 * naming path.
 */
static int
dict_db_create(DB **db_r, struct dict_db_err *err, const char *path,
    struct sbuf *why)
{
	DB_ENV *env;
	int ret;

	if ((ret = db_create(db_r, NULL, 0)) != 0) {
		*db_r = NULL;
		sbuf_setf(why, "open %s: %s", path, db_strerror(ret));
		return -1;
	}
	env = (*db_r)->get_env(*db_r);
	(*db_r)->set_errcall(*db_r, dict_db_errcall);
	env->app_private = err;
	dict_db_err_reset(err);
	/*
	 * The environment is this handle's own, private and read-only or
	 * not yet shared. A page that fails its checksum "panics" it, after
	 * which every call fails and close leaks its buffers; without the
	 * panic the bad page still gives an error and the rest stays usable.
	 */
	if ((ret = env->set_flags(env, DB_NOPANIC, 1)) != 0) {
		dict_db_reason(why, "open", path, ret, err);
		(*db_r)->close(*db_r, 0);
		*db_r = NULL;
		return -1;
	}
	return 0;
}

/* The DB type that a table type names. */
static DBTYPE
dict_db_type(const char *type)
{
	return strcmp(type, "btree") == 0 ? DB_BTREE : DB_HASH;
}

/*
 * Checks that the open file holds every page its meta page counts; 0, or
 * -1 with a reason.
 */
static int
dict_db_check_size(struct dict_db *dd, DBTYPE dbtype, struct sbuf *why)
{
	uintmax_t pages, pagesize;
	struct stat st;
	void *sp;
	int fd, ret;

	dict_db_err_reset(&dd->err);
	if ((ret = dd->db->stat(dd->db, NULL, &sp, DB_FAST_STAT)) != 0) {
		dict_db_reason(why, "read", dd->path, ret, &dd->err);
		return -1;
	}
	if (dbtype == DB_HASH) {
		pages = ((DB_HASH_STAT *)sp)->hash_pagecnt;
		pagesize = ((DB_HASH_STAT *)sp)->hash_pagesize;
	} else {
		pages = ((DB_BTREE_STAT *)sp)->bt_pagecnt;
		pagesize = ((DB_BTREE_STAT *)sp)->bt_pagesize;
	}
	free(sp);
	if ((ret = dd->db->fd(dd->db, &fd)) != 0) {
		dict_db_reason(why, "open", dd->path, ret, &dd->err);
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		sbuf_setf(why, "stat %s: %m", dd->path);
		return -1;
	}
	if (pages * pagesize > (uintmax_t)st.st_size) {
		sbuf_setf(why, "%s: truncated database file: %jd bytes, "
		    "its header counts %ju pages of %ju bytes", dd->path,
		    (intmax_t)st.st_size, pages, pagesize);
		return -1;
	}
	return 0;
}

static enum dict_status
dict_db_lookup(struct dict *d, const char *key, struct sbuf *value_r,
    struct sbuf *why)
{
	struct dict_db *dd = (struct dict_db *)d;
	size_t klen = strlen(key);
	DBT k, v;
	int ret;

	if (klen > UINT32_MAX)
		return DICT_NOTFOUND;	/* no stored key is that long */
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.data = (void *)key;
	k.size = (u_int32_t)klen;
	dict_db_err_reset(&dd->err);
	ret = dd->db->get(dd->db, NULL, &k, &v, 0);
	if (ret == DB_NOTFOUND)
		return DICT_NOTFOUND;
	if (ret != 0) {
		dict_db_reason(why, "read", dd->path, ret, &dd->err);
		return DICT_ERROR;
	}
	sbuf_reset(value_r);
	if (sbuf_catn(value_r, v.data, v.size) < 0) {
		sbuf_setf(why, "%s: value of \"%s\" is longer than allowed",
		    dd->path, key);
		return DICT_ERROR;
	}
	return DICT_FOUND;
}

static int
dict_db_iterate(struct dict *d, dict_walk_fn fn, void *ctx,
    struct sbuf *why)
{
	struct dict_db *dd = (struct dict_db *)d;
	struct sbuf *key, *value;
	DBC *cursor;
	DBT k, v;
	int ret, status = 0;

	dict_db_err_reset(&dd->err);
	if ((ret = dd->db->cursor(dd->db, NULL, &cursor, 0)) != 0) {
		dict_db_reason(why, "read", dd->path, ret, &dd->err);
		return -1;
	}
	key = sbuf_new();
	value = sbuf_new();
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	while ((ret = cursor->get(cursor, &k, &v, DB_NEXT)) == 0) {
		sbuf_reset(key);
		sbuf_catn(key, k.data, k.size);
		sbuf_reset(value);
		sbuf_catn(value, v.data, v.size);
		if (fn(sbuf_str(key), sbuf_str(value), ctx) != 0)
			break;
	}
	if (ret != 0 && ret != DB_NOTFOUND) {
		dict_db_reason(why, "read", dd->path, ret, &dd->err);
		status = -1;
	}
	if ((ret = cursor->close(cursor)) != 0 && status == 0) {
		dict_db_reason(why, "read", dd->path, ret, &dd->err);
		status = -1;
	}
	sbuf_free(&key);
	sbuf_free(&value);
	return status;
}

static void
dict_db_close(struct dict *d)
{
	struct dict_db *dd = (struct dict_db *)d;

	if (dd->db != NULL)
		dd->db->close(dd->db, 0);
	sbuf_free(&dd->err.first);
	sbuf_free(&dd->err.last);
	free(dd->path);
	dict_release(d);
}

/* NAME.db, malloc'ed. */
static char *
dict_db_path(const char *name)
{
	struct sbuf *p = sbuf_new();
	char *path;

	sbuf_printf(p, "%s.db", name);
	path = sbuf_steal(p);
	sbuf_free(&p);
	return path;
}

struct dict *
dict_db_open(const char *type, const char *name, int flags,
    struct sbuf *why)
{
	struct dict_db *dd;
	DBTYPE dbtype = dict_db_type(type);
	struct stat st;
	int ret;

	dd = (struct dict_db *)dict_alloc(type, name, flags, sizeof(*dd));
	dd->dict.fold = !(flags & DICT_FLAG_NO_FOLD);
	dd->dict.lookup = dict_db_lookup;
	dd->dict.iterate = dict_db_iterate;
	dd->dict.close = dict_db_close;
	dd->path = dict_db_path(name);
	dd->err.first = sbuf_new();
	dd->err.last = sbuf_new();

	if (stat(dd->path, &st) < 0) {
		sbuf_setf(why, "open %s: %m", dd->path);
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		sbuf_setf(why, "open %s: not a regular file", dd->path);
		goto fail;
	}
	if (dict_db_create(&dd->db, &dd->err, dd->path, why) < 0)
		goto fail;
	ret = dd->db->open(dd->db, NULL, dd->path, NULL, dbtype, DB_RDONLY,
	    0);
	if (ret != 0) {
		dict_db_reason(why, "open", dd->path, ret, &dd->err);
		goto fail;
	}
	if (dict_db_check_size(dd, dbtype, why) < 0)
		goto fail;
	return &dd->dict;

fail:
	dict_db_close(&dd->dict);
	return NULL;
}

struct dict_db_build {
	DB *db;
	const char *tmp_path;
	struct dict_db_err err;
	dict_warn_fn warn;
	void *ctx;
};

/* Stores one source entry; a duplicate key is reported and skipped. */
static int
dict_db_put(const char *key, const char *value, const char *file, int line,
    void *ctx, struct sbuf *why)
{
	struct dict_db_build *b = ctx;
	struct sbuf *text;
	DBT k, v;
	int ret;

	/* Both fit: a logical line is at most TEXTFILE_LINE_MAX bytes. */
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.data = (void *)key;
	k.size = (u_int32_t)strlen(key);
	v.data = (void *)value;
	v.size = (u_int32_t)strlen(value);
	dict_db_err_reset(&b->err);
	ret = b->db->put(b->db, NULL, &k, &v, DB_NOOVERWRITE);
	if (ret == 0)
		return 0;
	if (ret == DB_KEYEXIST) {
		if (b->warn != NULL) {
			text = sbuf_new();
			sbuf_printf(text, "%s, line %d: duplicate entry: "
			    "\"%s\" (the first one wins)", file, line, key);
			b->warn(sbuf_str(text), b->ctx);
			sbuf_free(&text);
		}
		return 0;
	}
	text = sbuf_new();
	dict_db_reason(text, "write", b->tmp_path, ret, &b->err);
	sbuf_setf(why, "%s, line %d: %s", file, line, sbuf_str(text));
	sbuf_free(&text);
	return -1;
}

int
dict_db_build(const char *type, const char *name, int flags,
    dict_warn_fn warn, void *ctx, struct sbuf *why)
{
	struct dict_db_build b = {
		.err = {sbuf_new(), sbuf_new()},
		.warn = warn,
		.ctx = ctx,
	};
	struct atomic_file *af = NULL;
	char *path = dict_db_path(name);
	mode_t mode;
	struct stat st;
	int ret, status = -1;

	if (stat(name, &st) < 0) {
		sbuf_setf(why, "open %s: %m", name);
		goto out;
	}
	mode = 0600 | (st.st_mode & 0044);
	if ((af = atomic_file_open(path, mode, why)) == NULL)
		goto out;
	b.tmp_path = af->tmp_path;
	if (dict_db_create(&b.db, &b.err, af->tmp_path, why) < 0)
		goto out;
	if ((ret = b.db->set_flags(b.db, DB_CHKSUM)) != 0) {
		dict_db_reason(why, "create", af->tmp_path, ret, &b.err);
		goto out;
	}
	/* BDB takes an empty existing file as a new database. */
	ret = b.db->open(b.db, NULL, af->tmp_path, NULL, dict_db_type(type),
	    DB_CREATE, mode);
	if (ret != 0) {
		dict_db_reason(why, "create", af->tmp_path, ret, &b.err);
		goto out;
	}
	if (dict_source_read(name, flags, dict_db_put, &b, why) < 0)
		goto out;
	dict_db_err_reset(&b.err);
	ret = b.db->close(b.db, 0);
	b.db = NULL;
	if (ret != 0) {
		dict_db_reason(why, "write", af->tmp_path, ret, &b.err);
		goto out;
	}
	status = atomic_file_commit(&af, why);

out:
	if (b.db != NULL)
		b.db->close(b.db, DB_NOSYNC);
	atomic_file_abort(&af);
	sbuf_free(&b.err.first);
	sbuf_free(&b.err.last);
	free(path);
	return status;
}
