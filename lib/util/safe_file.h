/*
 * safe_file - files that are either wholly old or wholly new on disk
 *
 * An atomic file is written under a temporary name in the target's
 * directory, fsync'ed, renamed over the target and the directory fsync'ed:
 * after a crash at any moment the target holds the old or the new content.
 */
#ifndef POSTERN_SAFE_FILE_H
#define POSTERN_SAFE_FILE_H

#include <stddef.h>
#include <sys/types.h>

struct sbuf;

struct atomic_file {
	int fd;			/* open on the temporary file */
	char *path;		/* final name */
	char *tmp_path;		/* temporary name, same directory */
};

/* Creates the temporary file for path with mode; NULL with a reason. */
struct atomic_file *atomic_file_open(const char *path, mode_t mode,
    struct sbuf *why);
/*
 * fsyncs, closes and renames the temporary file over the final name, then
 * fsyncs the directory; frees *af either way. 0, or -1 with a reason (the
 * temporary file removed, the old file untouched).
 */
int atomic_file_commit(struct atomic_file **af, struct sbuf *why);
/* Removes the temporary file and frees *af; accepts NULL. */
void atomic_file_abort(struct atomic_file **af);

/* Replaces path's content atomically; 0 or -1 with a reason. */
int safe_file_write(const char *path, const void *data, size_t len,
    mode_t mode, struct sbuf *why);
/*
 * Reads a whole file of at most max bytes into out (replacing its content);
 * 0, or -1 with a reason (errno kept, EFBIG when larger than max).
 */
int safe_file_read(const char *path, size_t max, struct sbuf *out,
    struct sbuf *why);
/* fsyncs the directory that holds path; 0 or -1 with a reason. */
int safe_file_sync_dir(const char *path, struct sbuf *why);
/* Writes all of len bytes, retrying short writes and EINTR; 0 or -1. */
int safe_write_all(int fd, const void *data, size_t len);

#endif
