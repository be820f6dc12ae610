/*
 * safe_file - files that are either wholly old or wholly new on disk
 *
 * Errors: every write, fsync, close and rename is checked; failures return
 * -1 with the reason (naming the file and errno) in why. Nothing logs.
 * Trust: paths come from configuration or the caller.
 */
#include "util/safe_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/sbuf.h"
#include "util/xmalloc.h"

int
safe_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
safe_file_sync_dir(const char *path, struct sbuf *why)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd, ret = 0;

	if (slash == NULL)
		dir = xstrdup(".");
	else
		dir = xstrndup(path, slash == path ? 1 : (size_t)(slash - path));
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0) {
		sbuf_setf(why, "sync directory %s: %m", dir);
		ret = -1;
	}
	if (fd >= 0)
		close(fd);
	free(dir);
	return ret;
}

struct atomic_file *
atomic_file_open(const char *path, mode_t mode, struct sbuf *why)
{
	struct atomic_file *af;
	struct sbuf *tmp = sbuf_new();
	int fd;

	sbuf_printf(tmp, "%s.tmpXXXXXX", path);
	fd = mkostemp(tmp->data, O_CLOEXEC);
	if (fd < 0) {
		sbuf_setf(why, "create temporary file for %s: %m", path);
		sbuf_free(&tmp);
		return NULL;
	}
	if (fchmod(fd, mode) < 0) {
		sbuf_setf(why, "set mode of %s: %m", sbuf_str(tmp));
		unlink(sbuf_str(tmp));
		close(fd);
		sbuf_free(&tmp);
		return NULL;
	}
	af = xmalloc(sizeof(*af));
	af->fd = fd;
	af->path = xstrdup(path);
	af->tmp_path = sbuf_steal(tmp);
	sbuf_free(&tmp);
	return af;
}

static void
atomic_file_release(struct atomic_file **af)
{
	free((*af)->path);
	free((*af)->tmp_path);
	xfree(af);
}

void
atomic_file_abort(struct atomic_file **af)
{
	if (*af == NULL)
		return;
	if ((*af)->fd >= 0)
		close((*af)->fd);
	unlink((*af)->tmp_path);
	atomic_file_release(af);
}

int
atomic_file_commit(struct atomic_file **af, struct sbuf *why)
{
	struct atomic_file *f = *af;
	int fd = f->fd;

	f->fd = -1;
	if (fsync(fd) < 0) {
		sbuf_setf(why, "fsync %s: %m", f->tmp_path);
		close(fd);
		atomic_file_abort(af);
		return -1;
	}
	if (close(fd) < 0) {
		sbuf_setf(why, "close %s: %m", f->tmp_path);
		atomic_file_abort(af);
		return -1;
	}
	if (rename(f->tmp_path, f->path) < 0) {
		sbuf_setf(why, "rename %s to %s: %m", f->tmp_path, f->path);
		atomic_file_abort(af);
		return -1;
	}
	if (safe_file_sync_dir(f->path, why) < 0) {
		atomic_file_release(af);
		return -1;
	}
	atomic_file_release(af);
	return 0;
}

int
safe_file_write(const char *path, const void *data, size_t len, mode_t mode,
    struct sbuf *why)
{
	struct atomic_file *af = atomic_file_open(path, mode, why);

	if (af == NULL)
		return -1;
	if (safe_write_all(af->fd, data, len) < 0) {
		sbuf_setf(why, "write %s: %m", af->tmp_path);
		atomic_file_abort(&af);
		return -1;
	}
	return atomic_file_commit(&af, why);
}

int
safe_file_read(const char *path, size_t max, struct sbuf *out,
    struct sbuf *why)
{
	char chunk[8192];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0) {
		sbuf_setf(why, "open %s: %m", path);
		return -1;
	}
	sbuf_reset(out);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			sbuf_setf(why, "read %s: %m", path);
			close(fd);
			return -1;
		}
		if ((size_t)n > max - sbuf_len(out) || sbuf_catn(out, chunk,
		    (size_t)n) < 0) {
			sbuf_setf(why, "%s: larger than %zu bytes", path, max);
			close(fd);
			errno = EFBIG;
			return -1;
		}
	}
	close(fd);
	return 0;
}
