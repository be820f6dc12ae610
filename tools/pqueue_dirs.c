/*
 * pqueue_dirs - walking, finding, moving and removing queue files for
 * postern-queue
 *
 * A message may move while it is looked for (qmgr takes files from
 * incoming/ and deferred/ into active/ and puts them back into deferred/),
 * so a search that finds nothing is repeated a few times before the
 * message is called absent.
 * Errors: -1 or PQUEUE_FAILED with a reason in why; nothing is logged.
 * Trust: directory entries are used only when they are valid queue ids.
 */
#include "pqueue_dirs.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mail/queue_id.h"
#include "util/sbuf.h"

/* Searches through every directory before a message is called absent. */
#define PQUEUE_SEARCHES	3

static const char *const pqueue_dir_names[PQUEUE_DIR_COUNT] = {
	[PQUEUE_INCOMING] = "incoming",
	[PQUEUE_ACTIVE] = "active",
	[PQUEUE_DEFERRED] = "deferred",
	[PQUEUE_HOLD] = "hold",
};

/* The per-message logs removed with a message. */
static const char *const pqueue_log_dirs[] = { "defer", "bounce" };

const char *
pqueue_dir_name(enum pqueue_dir dir)
{
	return pqueue_dir_names[dir];
}

const char *
pqueue_path(struct sbuf *path, enum pqueue_dir dir, const char *id)
{
	sbuf_setf(path, "%s/%s", pqueue_dir_names[dir], id);
	return sbuf_str(path);
}

/* Sets why to "what DIR/: error" keeping errno. */
static void
pqueue_dir_error(struct sbuf *why, const char *what, enum pqueue_dir dir)
{
	int saved = errno;

	sbuf_setf(why, "%s %s/: %s", what, pqueue_dir_names[dir],
	    strerror(saved));
	errno = saved;
}

int
pqueue_walk(unsigned dirs, pqueue_visit_fn visit, void *ctx,
    struct sbuf *why)
{
	struct dirent *de;
	DIR *d;

	for (int i = 0; i < PQUEUE_DIR_COUNT; i++) {
		if ((dirs & PQUEUE_IN(i)) == 0)
			continue;
		if ((d = opendir(pqueue_dir_names[i])) == NULL) {
			pqueue_dir_error(why, "open", i);
			return -1;
		}
		for (;;) {
			errno = 0;
			if ((de = readdir(d)) == NULL)
				break;
			if (!queue_id_valid(de->d_name))
				continue;
			if (!visit(i, de->d_name, ctx)) {
				closedir(d);
				return 0;
			}
		}
		if (errno != 0) {
			pqueue_dir_error(why, "read", i);
			closedir(d);
			return -1;
		}
		closedir(d);
	}
	return 0;
}

int
pqueue_locate(const char *id, unsigned dirs)
{
	struct sbuf *path = sbuf_new();
	struct stat st;
	int found = -1;

	for (int n = 0; n < PQUEUE_SEARCHES && found < 0; n++) {
		for (int i = 0; i < PQUEUE_DIR_COUNT && found < 0; i++) {
			if ((dirs & PQUEUE_IN(i)) != 0 &&
			    lstat(pqueue_path(path, i, id), &st) == 0)
				found = i;
		}
	}
	sbuf_free(&path);
	return found;
}

enum pqueue_result
pqueue_move(const char *id, unsigned from, enum pqueue_dir to,
    enum pqueue_dir *from_r, struct sbuf *why)
{
	struct sbuf *src = sbuf_new(), *dst = sbuf_new();
	enum pqueue_result result = PQUEUE_ABSENT;
	struct stat st;
	int saved = 0;

	pqueue_path(dst, to, id);
	for (int n = 0; n < PQUEUE_SEARCHES && result == PQUEUE_ABSENT; n++) {
		for (int i = 0; i < PQUEUE_DIR_COUNT; i++) {
			if ((from & PQUEUE_IN(i)) == 0 || i == (int)to)
				continue;
			pqueue_path(src, i, id);
			if (rename(sbuf_str(src), sbuf_str(dst)) == 0) {
				*from_r = i;
				result = PQUEUE_DONE;
				break;
			}
			/* ENOENT also when the destination is missing. */
			if (errno != ENOENT || lstat(sbuf_str(src), &st) == 0) {
				saved = errno;
				sbuf_setf(why, "%s: move %s to %s/: %s", id,
				    sbuf_str(src), pqueue_dir_names[to],
				    strerror(saved));
				result = PQUEUE_FAILED;
				break;
			}
		}
	}
	sbuf_free(&src);
	sbuf_free(&dst);
	errno = saved;
	return result;
}

/* Removes id's logs; a failure is appended to why. */
static void
pqueue_remove_logs(const char *id, struct sbuf *why)
{
	struct sbuf *path = sbuf_new();
	size_t count = sizeof(pqueue_log_dirs) / sizeof(pqueue_log_dirs[0]);

	for (size_t i = 0; i < count; i++) {
		sbuf_setf(path, "%s/%s", pqueue_log_dirs[i], id);
		if (unlink(sbuf_str(path)) < 0 && errno != ENOENT)
			sbuf_printf(why, "%sremove %s: %m",
			    sbuf_len(why) > 0 ? "; " : "", sbuf_str(path));
	}
	sbuf_free(&path);
}

enum pqueue_result
pqueue_remove(const char *id, struct sbuf *why)
{
	struct sbuf *path = sbuf_new();
	enum pqueue_result result = PQUEUE_ABSENT;
	int saved = 0;

	sbuf_reset(why);
	for (int n = 0; n < PQUEUE_SEARCHES && result == PQUEUE_ABSENT; n++) {
		for (int i = 0; i < PQUEUE_DIR_COUNT; i++) {
			if (unlink(pqueue_path(path, i, id)) == 0) {
				result = PQUEUE_DONE;
				break;
			}
			if (errno != ENOENT) {
				saved = errno;
				sbuf_setf(why, "%s: remove %s: %s", id,
				    sbuf_str(path), strerror(saved));
				result = PQUEUE_FAILED;
				break;
			}
		}
	}
	if (result == PQUEUE_DONE)
		pqueue_remove_logs(id, why);
	sbuf_free(&path);
	errno = saved;
	return result;
}
