/*
 * dict_cdb - constant database tables (cdb:NAME, tinycdb file NAME.cdb)
 *
 * Looks keys up in NAME.cdb, mapped read-only with cdb_init(), and
 * compiles the text source NAME into NAME.cdb. Keys and values are stored
 * without a trailing NUL.
 *
 * A build writes a complete new file under a temporary name beside
 * NAME.cdb, fsyncs it, renames it over NAME.cdb and fsyncs the directory,
 * so a reader sees the whole old or the whole new table, and an open
 * handle keeps answering from the file it mapped. The new file is mode
 * 0600 plus the group and other read bits of its source (as postmap does).
 *
 * Errors: NULL, DICT_ERROR or -1 with a reason naming the file; nothing
 * logs. A failed build removes its temporary file and leaves NAME.cdb
 * untouched.
 * Trust: NAME.cdb may be damaged or hostile. Open refuses anything that is
 * not a regular file, a file shorter than the 2048-byte table of contents
 * or longer than the format's 4 GiB, and a table of contents that points
 * outside the file (so a truncated file fails at open). tinycdb's
 * cdb_find() checks every offset it follows against the mapping, but
 * cdb_seqnext() lets a record length wrap around, so every key and value
 * is fetched through cdb_get(), which checks offset and length against the
 * file size; that also makes each record end past the previous one, so a
 * walk always ends. The file must not be truncated in place while mapped
 * (builds replace it by rename instead).
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <cdb.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/dict.h"
#include "util/dict_drivers.h"
#include "util/dict_source.h"
#include "util/safe_file.h"
#include "util/sbuf.h"
#include "util/xmalloc.h"

#define DICT_CDB_TOC_SLOTS	256	/* (position, length) pairs */
#define DICT_CDB_TOC_SIZE	(DICT_CDB_TOC_SLOTS * 8)

struct dict_cdb {
	struct dict dict;
	struct cdb cdb;
	bool mapped;		/* cdb_init() succeeded */
	int fd;
	char *path;		/* NAME.cdb */
};

/*
 * Checks the table of contents of a file of fsize bytes: every hash table
 * lies between the end of the records (where the first table starts) and
 * the end of the file, and even an empty one does not start past the end;
 * 0, or -1 with a reason.
 */
static int
dict_cdb_check_toc(struct dict_cdb *dc, unsigned fsize, struct sbuf *why)
{
	const unsigned char *toc;
	unsigned dend, pos, n;

	toc = cdb_get(&dc->cdb, DICT_CDB_TOC_SIZE, 0);
	if (toc == NULL) {
		sbuf_setf(why, "%s: not a cdb file: shorter than its table "
		    "of contents", dc->path);
		return -1;
	}
	dend = cdb_unpack(toc);
	for (int i = 0; i < DICT_CDB_TOC_SLOTS; i++) {
		pos = cdb_unpack(toc + 8 * i);
		n = cdb_unpack(toc + 8 * i + 4);
		if (pos > fsize || (n > 0 && (pos < DICT_CDB_TOC_SIZE ||
		    pos < dend || n > (fsize - pos) / 8))) {
			sbuf_setf(why, "%s: truncated or corrupt cdb file: "
			    "hash table %d lies outside the file", dc->path,
			    i);
			return -1;
		}
	}
	return 0;
}

static enum dict_status
dict_cdb_lookup(struct dict *d, const char *key, struct sbuf *value_r,
    struct sbuf *why)
{
	struct dict_cdb *dc = (struct dict_cdb *)d;
	size_t klen = strlen(key);
	const void *data;
	int ret;

	if (klen > UINT_MAX)
		return DICT_NOTFOUND;	/* no stored key is that long */
	ret = cdb_find(&dc->cdb, key, (unsigned)klen);
	if (ret == 0)
		return DICT_NOTFOUND;
	data = ret > 0 ? cdb_get(&dc->cdb, cdb_datalen(&dc->cdb),
	    cdb_datapos(&dc->cdb)) : NULL;
	if (data == NULL) {
		sbuf_setf(why, "%s: corrupt cdb file: record of \"%s\" lies "
		    "outside the file", dc->path, key);
		return DICT_ERROR;
	}
	sbuf_reset(value_r);
	if (sbuf_catn(value_r, data, cdb_datalen(&dc->cdb)) < 0) {
		sbuf_setf(why, "%s: value of \"%s\" is longer than allowed",
		    dc->path, key);
		return DICT_ERROR;
	}
	return DICT_FOUND;
}

static int
dict_cdb_iterate(struct dict *d, dict_walk_fn fn, void *ctx,
    struct sbuf *why)
{
	struct dict_cdb *dc = (struct dict_cdb *)d;
	struct sbuf *key = sbuf_new(), *value = sbuf_new();
	const void *kp, *vp;
	unsigned pos;
	int ret;

	cdb_seqinit(&pos, &dc->cdb);
	while ((ret = cdb_seqnext(&pos, &dc->cdb)) > 0) {
		kp = cdb_get(&dc->cdb, cdb_keylen(&dc->cdb),
		    cdb_keypos(&dc->cdb));
		vp = cdb_get(&dc->cdb, cdb_datalen(&dc->cdb),
		    cdb_datapos(&dc->cdb));
		if (kp == NULL || vp == NULL) {
			ret = -1;
			break;
		}
		sbuf_reset(key);
		sbuf_catn(key, kp, cdb_keylen(&dc->cdb));
		sbuf_reset(value);
		sbuf_catn(value, vp, cdb_datalen(&dc->cdb));
		if (fn(sbuf_str(key), sbuf_str(value), ctx) != 0)
			break;
	}
	if (ret < 0)
		sbuf_setf(why, "%s: corrupt cdb file: a record lies outside "
		    "the file", dc->path);
	sbuf_free(&key);
	sbuf_free(&value);
	return ret < 0 ? -1 : 0;
}

static void
dict_cdb_close(struct dict *d)
{
	struct dict_cdb *dc = (struct dict_cdb *)d;

	if (dc->mapped)
		cdb_free(&dc->cdb);
	if (dc->fd >= 0)
		close(dc->fd);
	free(dc->path);
	dict_release(d);
}

/* NAME.cdb, malloc'ed. */
static char *
dict_cdb_path(const char *name)
{
	struct sbuf *p = sbuf_new();
	char *path;

	sbuf_printf(p, "%s.cdb", name);
	path = sbuf_steal(p);
	sbuf_free(&p);
	return path;
}

struct dict *
dict_cdb_open(const char *type, const char *name, int flags,
    struct sbuf *why)
{
	struct dict_cdb *dc;
	struct stat st;

	dc = (struct dict_cdb *)dict_alloc(type, name, flags, sizeof(*dc));
	dc->dict.fold = !(flags & DICT_FLAG_NO_FOLD);
	dc->dict.lookup = dict_cdb_lookup;
	dc->dict.iterate = dict_cdb_iterate;
	dc->dict.close = dict_cdb_close;
	dc->path = dict_cdb_path(name);

	/* O_NONBLOCK: a FIFO in the table's place must not hang us. */
	dc->fd = open(dc->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (dc->fd < 0 || fstat(dc->fd, &st) < 0) {
		sbuf_setf(why, "open %s: %m", dc->path);
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		sbuf_setf(why, "open %s: not a regular file", dc->path);
		goto fail;
	}
	if (st.st_size < DICT_CDB_TOC_SIZE) {
		sbuf_setf(why, "%s: not a cdb file: %jd bytes, shorter than "
		    "its %d-byte table of contents", dc->path,
		    (intmax_t)st.st_size, DICT_CDB_TOC_SIZE);
		goto fail;
	}
	if ((uintmax_t)st.st_size > UINT32_MAX) {
		sbuf_setf(why, "%s: not a cdb file: larger than 4 GiB",
		    dc->path);
		goto fail;
	}
	if (cdb_init(&dc->cdb, dc->fd) < 0) {
		sbuf_setf(why, "open %s: %m", dc->path);
		goto fail;
	}
	dc->mapped = true;
	if (dict_cdb_check_toc(dc, (unsigned)st.st_size, why) < 0)
		goto fail;
	return &dc->dict;

fail:
	dict_cdb_close(&dc->dict);
	return NULL;
}

struct dict_cdb_build {
	struct cdb_make cdbm;
	const char *tmp_path;
	dict_warn_fn warn;
	void *ctx;
};

/* Stores one source entry; a duplicate key is reported and skipped. */
static int
dict_cdb_put(const char *key, const char *value, const char *file,
    int line, void *ctx, struct sbuf *why)
{
	struct dict_cdb_build *b = ctx;
	int ret;

	/* Both fit: a logical line is at most TEXTFILE_LINE_MAX bytes. */
	ret = cdb_make_put(&b->cdbm, key, (unsigned)strlen(key), value,
	    (unsigned)strlen(value), CDB_PUT_INSERT);
	if (ret == 0)
		return 0;
	if (ret > 0) {
		if (b->warn != NULL) {
			struct sbuf *text = sbuf_new();

			sbuf_printf(text, "%s, line %d: duplicate entry: "
			    "\"%s\" (the first one wins)", file, line, key);
			b->warn(sbuf_str(text), b->ctx);
			sbuf_free(&text);
		}
		return 0;
	}
	if (errno == ENOMEM)
		sbuf_setf(why, "%s, line %d: write %s: table larger than "
		    "4 GiB, or out of memory", file, line, b->tmp_path);
	else
		sbuf_setf(why, "%s, line %d: write %s: %m", file, line,
		    b->tmp_path);
	return -1;
}

int
dict_cdb_build(const char *type, const char *name, int flags,
    dict_warn_fn warn, void *ctx, struct sbuf *why)
{
	struct dict_cdb_build *b = xcalloc(1, sizeof(*b));
	struct atomic_file *af = NULL;
	char *path = dict_cdb_path(name);
	struct stat st;
	int status = -1;

	b->warn = warn;
	b->ctx = ctx;
	if (stat(name, &st) < 0) {
		sbuf_setf(why, "open %s: %m", name);
		goto out;
	}
	af = atomic_file_open(path, 0600 | (st.st_mode & 0044), why);
	if (af == NULL)
		goto out;
	b->tmp_path = af->tmp_path;
	if (cdb_make_start(&b->cdbm, af->fd) < 0) {
		sbuf_setf(why, "create %s: %m", af->tmp_path);
		goto out;
	}
	if (dict_source_read(name, flags, dict_cdb_put, b, why) < 0) {
		/* Only to release tinycdb's memory; the file goes away. */
		cdb_make_finish(&b->cdbm);
		goto out;
	}
	if (cdb_make_finish(&b->cdbm) < 0) {
		sbuf_setf(why, "write %s: %m", af->tmp_path);
		goto out;
	}
	status = atomic_file_commit(&af, why);

out:
	atomic_file_abort(&af);
	free(b);
	free(path);
	return status;
}
