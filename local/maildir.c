/*
 * maildir - deliver one message into a Maildir
 *
 * Opens the maildir's parent, then the maildir and its tmp/, new/ and cur/
 * with O_DIRECTORY | O_NOFOLLOW, making each (mode 0700) when missing and
 * fsyncing the directory that gained it; every later step works relative
 * to those descriptors. The whole message is written to tmp/ (O_CREAT |
 * O_EXCL | O_NOFOLLOW, mode 0600) and linked into new/ under its final
 * name: link(2), unlike rename(2), fails on an existing name instead of
 * replacing a delivered message, so a clash just takes a fresh name
 * (qmail and Postfix deliver the same way; a filesystem without hard
 * links cannot hold a Maildir delivered to by them either). Then the
 * file and new/ are fsync'ed, in that order, and the tmp/ name removed;
 * only then is the delivery reported. Syncing after the link lets a
 * journalling filesystem commit the data, the tmp/ name and the new/
 * name in one journal commit instead of two. A reader may see the
 * message in new/ a moment before it is durable; a host crash in that
 * moment leaves the recipient undelivered in the queue, so it is
 * delivered again (never lost).
 *
 * Errors: -1 with a reason naming the file in why and the class (temporary
 * or permanent) and errno in the result. The tmp/ file is removed on any
 * failure, and the new/ name too when the file or new/ cannot be
 * fsync'ed, so a failed delivery leaves nothing behind. Nothing logs.
 * Trust: the path comes from the password file or configuration, and its
 * parent directory is resolved as given. Whoever can write in the parent or
 * the maildir may plant symbolic links or files at the maildir's names:
 * those are refused, never followed, so nothing is written outside the
 * maildir. The content is copied, not parsed.
 */
#include "maildir.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/safe_file.h"
#include "util/sbuf.h"
#include "util/xmalloc.h"

#define MAILDIR_CHUNK	65536	/* bytes asked of the reader at a time */
#define MAILDIR_TRIES	10	/* unique names tried before giving up */
#define MAILDIR_HOST_MAX 256	/* gethostname() buffer (POSIX: 255) */
#define MAILDIR_DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

/* The subdirectories, as indexes into maildir_dirs.sub. */
enum maildir_sub {
	MAILDIR_SUB_TMP,
	MAILDIR_SUB_NEW,
	MAILDIR_SUB_CUR,
	MAILDIR_SUB_COUNT
};

static const char *const maildir_sub_names[MAILDIR_SUB_COUNT] = {
	"tmp", "new", "cur"
};

/* Open descriptors of one maildir; -1 when not open. */
struct maildir_dirs {
	int top;
	int sub[MAILDIR_SUB_COUNT];
};

/* Names made by this process: the Q part of unique names. */
static unsigned long maildir_names_made;

/* The class of a failure with errno err. */
static enum maildir_status
maildir_class(int err)
{
	switch (err) {
	case ENOTDIR:
	case ELOOP:
	case EACCES:
	case EPERM:
	case ENAMETOOLONG:
		return MAILDIR_PERM;
	}
	return MAILDIR_TEMP;
}

/* Records a failure in res; returns -1. */
static int
maildir_fail(struct maildir_result *res, enum maildir_status status, int err)
{
	res->status = status;
	res->error = err;
	return -1;
}

/* Records the failure err to open the directory path/sub; returns -1. */
static int
maildir_dir_failed(const char *path, const char *sub, int err,
    struct maildir_result *res, struct sbuf *why)
{
	const char *slash = *sub == '\0' ? "" : "/";

	if (err == ELOOP)
		sbuf_setf(why, "%s%s%s is a symbolic link: refused", path,
		    slash, sub);
	else
		sbuf_setf(why, "open directory %s%s%s: %s", path, slash, sub,
		    strerror(err));
	return maildir_fail(res, maildir_class(err), err);
}

/*
 * Opens directory name under at without following a symbolic link, making
 * it (mode 0700) when missing; sets *made_r when this call made it. The
 * descriptor, or -1 with errno (ELOOP when name is a symbolic link).
 */
static int
maildir_open_dir(int at, const char *name, bool *made_r)
{
	struct stat st;
	int fd;

	fd = openat(at, name, MAILDIR_DIR_FLAGS);
	if (fd < 0 && errno == ENOENT) {
		if (mkdirat(at, name, 0700) == 0)
			*made_r = true;
		else if (errno != EEXIST)
			return -1;
		fd = openat(at, name, MAILDIR_DIR_FLAGS);
	}
	if (fd < 0 && errno == ENOTDIR &&
	    fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode))
		errno = ELOOP;
	return fd;
}

/*
 * Opens (making it when missing) the maildir at path, which has no
 * trailing '/', into d->top; 0 or -1 with res and why set.
 */
static int
maildir_open_top(const char *path, struct maildir_dirs *d,
    struct maildir_result *res, struct sbuf *why)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash == NULL ? path : slash + 1;
	bool made = false;
	char *parent;
	int pfd, err, ret = 0;

	if (*base == '\0') {
		sbuf_setf(why, "invalid maildir path \"%s\"", path);
		return maildir_fail(res, MAILDIR_PERM, EINVAL);
	}
	if (slash == NULL)
		parent = xstrdup(".");
	else
		parent = xstrndup(path,
		    slash == path ? 1 : (size_t)(slash - path));
	pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0) {
		err = errno;
		sbuf_setf(why, "open directory %s: %s", parent, strerror(err));
		free(parent);
		return maildir_fail(res, maildir_class(err), err);
	}
	d->top = maildir_open_dir(pfd, base, &made);
	if (d->top < 0)
		ret = maildir_dir_failed(path, "", errno, res, why);
	else if (made && fsync(pfd) < 0) {
		err = errno;
		sbuf_setf(why, "fsync directory %s: %s", parent,
		    strerror(err));
		ret = maildir_fail(res, maildir_class(err), err);
	}
	close(pfd);
	free(parent);
	return ret;
}

/*
 * Opens the maildir at path and its subdirectories into d, making what is
 * missing; 0 or -1 with res and why set.
 */
static int
maildir_open(const char *path, struct maildir_dirs *d,
    struct maildir_result *res, struct sbuf *why)
{
	bool made = false;
	int err;

	if (maildir_open_top(path, d, res, why) < 0)
		return -1;
	for (int i = 0; i < MAILDIR_SUB_COUNT; i++) {
		d->sub[i] = maildir_open_dir(d->top, maildir_sub_names[i],
		    &made);
		if (d->sub[i] < 0)
			return maildir_dir_failed(path, maildir_sub_names[i],
			    errno, res, why);
	}
	if (made && fsync(d->top) < 0) {
		err = errno;
		sbuf_setf(why, "fsync directory %s: %s", path, strerror(err));
		return maildir_fail(res, maildir_class(err), err);
	}
	return 0;
}

/* Closes whatever d has open. */
static void
maildir_close(struct maildir_dirs *d)
{
	/* Read-only directory descriptors: close has nothing to report. */
	if (d->top >= 0)
		close(d->top);
	for (int i = 0; i < MAILDIR_SUB_COUNT; i++)
		if (d->sub[i] >= 0)
			close(d->sub[i]);
}

/* Replaces name's content with a fresh unique base name on host. */
static void
maildir_base_name(struct sbuf *name, const char *host)
{
	struct timespec ts;

	/* Cannot fail: the clock exists and the pointer is valid. */
	clock_gettime(CLOCK_REALTIME, &ts);
	sbuf_setf(name, "%lld.M%ldP%ldQ%lu.%s", (long long)ts.tv_sec,
	    ts.tv_nsec / 1000, (long)getpid(), ++maildir_names_made, host);
}

/*
 * Writes prefix and the content to fd (tmp/name); 0 with the byte count
 * in *size_r, or -1 with res and why set and fd closed.
 */
static int
maildir_write(int fd, const char *path, const char *name,
    const char *prefix, content_read_fn read_fn, void *ctx, off_t *size_r,
    struct maildir_result *res, struct sbuf *why)
{
	char *buf = xmalloc(MAILDIR_CHUNK);
	size_t plen = prefix == NULL ? 0 : strlen(prefix);
	const char *what = "write";
	off_t size = 0;
	ssize_t n;
	int err;

	if (safe_write_all(fd, prefix, plen) < 0)
		goto fail;
	size = (off_t)plen;
	while ((n = read_fn(ctx, buf, MAILDIR_CHUNK)) != 0) {
		if (n < 0 || n > MAILDIR_CHUNK) {
			err = n < 0 ? errno : EINVAL;
			sbuf_setf(why, "read message content: %s",
			    strerror(err));
			close(fd);
			free(buf);
			return maildir_fail(res, MAILDIR_TEMP, err);
		}
		if (safe_write_all(fd, buf, (size_t)n) < 0)
			goto fail;
		size += n;
	}
	free(buf);
	*size_r = size;
	return 0;

fail:
	err = errno;
	sbuf_setf(why, "%s %s/tmp/%s: %s", what, path, name, strerror(err));
	close(fd);
	free(buf);
	return maildir_fail(res, maildir_class(err), err);
}

/*
 * Creates a uniquely named file in tmp/ and writes the message to it;
 * its descriptor (open, not yet synced) with its name in tmp_name and its
 * size in *size_r, or -1 with res and why set and no file left.
 */
static int
maildir_write_tmp(const struct maildir_dirs *d, const char *path,
    const char *host, const char *prefix, content_read_fn read_fn,
    void *ctx, struct sbuf *tmp_name, off_t *size_r,
    struct maildir_result *res, struct sbuf *why)
{
	int tmp = d->sub[MAILDIR_SUB_TMP];
	int fd, err;

	for (int tries = 1;; tries++) {
		maildir_base_name(tmp_name, host);
		fd = openat(tmp, sbuf_str(tmp_name), O_WRONLY | O_CREAT |
		    O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0)
			break;
		err = errno;
		if (err != EEXIST || tries == MAILDIR_TRIES) {
			sbuf_setf(why, "create %s/tmp/%s: %s", path,
			    sbuf_str(tmp_name), strerror(err));
			return maildir_fail(res, maildir_class(err), err);
		}
	}
	if (maildir_write(fd, path, sbuf_str(tmp_name), prefix, read_fn, ctx,
	    size_r, res, why) < 0) {
		unlinkat(tmp, sbuf_str(tmp_name), 0);
		return -1;
	}
	return fd;
}

/*
 * Links tmp/tmp_name (open as fd) into new/ as its base name with
 * ",S=size" (a fresh base name when that exists), then fsyncs the file
 * and new/ and closes fd; 0 with the name in new_name, or -1 with res and
 * why set and nothing left in new/.
 */
static int
maildir_link_new(const struct maildir_dirs *d, const char *path,
    const char *host, int fd, const char *tmp_name, off_t size,
    struct sbuf *new_name, struct maildir_result *res, struct sbuf *why)
{
	int tmp = d->sub[MAILDIR_SUB_TMP], new = d->sub[MAILDIR_SUB_NEW];
	int err;

	sbuf_set(new_name, tmp_name);
	for (int tries = 1;; tries++) {
		sbuf_printf(new_name, ",S=%lld", (long long)size);
		if (linkat(tmp, tmp_name, new, sbuf_str(new_name), 0) == 0)
			break;
		err = errno;
		if (err != EEXIST || tries == MAILDIR_TRIES) {
			sbuf_setf(why, "link %s/tmp/%s to %s/new/%s: %s", path,
			    tmp_name, path, sbuf_str(new_name),
			    strerror(err));
			close(fd);
			return maildir_fail(res, maildir_class(err), err);
		}
		maildir_base_name(new_name, host);
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		err = errno;
		sbuf_setf(why, "fsync %s/new/%s: %s", path,
		    sbuf_str(new_name), strerror(err));
		fd = -1;
	} else if (fsync(new) < 0) {
		err = errno;
		sbuf_setf(why, "fsync directory %s/new: %s", path,
		    strerror(err));
	} else {
		return 0;
	}
	if (fd >= 0)
		close(fd);
	unlinkat(new, sbuf_str(new_name), 0);
	return maildir_fail(res, maildir_class(err), err);
}

/*
 * Appends this host's name, escaped, to out; 0 or -1 with res and why set.
 */
static int
maildir_host(struct sbuf *out, struct maildir_result *res, struct sbuf *why)
{
	char host[MAILDIR_HOST_MAX];
	int err;

	if (gethostname(host, sizeof(host)) < 0) {
		err = errno;
		sbuf_setf(why, "gethostname: %s", strerror(err));
		return maildir_fail(res, MAILDIR_TEMP, err);
	}
	host[sizeof(host) - 1] = '\0';
	maildir_hostname_escape(host, out);
	return 0;
}

int
maildir_deliver(const char *maildir, const char *prefix_headers,
    content_read_fn read_fn, void *ctx, struct maildir_result *res,
    struct sbuf *why)
{
	struct maildir_dirs d = { .top = -1, .sub = { -1, -1, -1 } };
	struct sbuf *path = sbuf_new(), *host = sbuf_new();
	struct sbuf *tmp_name = sbuf_new(), *new_name = sbuf_new();
	off_t size = 0;
	int ret = -1, fd;

	res->status = MAILDIR_OK;
	res->error = 0;
	res->path = NULL;
	res->size = 0;
	sbuf_set(path, maildir);
	while (sbuf_len(path) > 1 && sbuf_str(path)[sbuf_len(path) - 1] == '/')
		sbuf_truncate(path, sbuf_len(path) - 1);
	if (maildir_host(host, res, why) < 0 ||
	    maildir_open(sbuf_str(path), &d, res, why) < 0 ||
	    (fd = maildir_write_tmp(&d, sbuf_str(path), sbuf_str(host),
	    prefix_headers, read_fn, ctx, tmp_name, &size, res, why)) < 0)
		goto out;
	if (maildir_link_new(&d, sbuf_str(path), sbuf_str(host), fd,
	    sbuf_str(tmp_name), size, new_name, res, why) == 0) {
		sbuf_printf(path, "/new/%s", sbuf_str(new_name));
		res->path = sbuf_steal(path);
		res->size = size;
		ret = 0;
	}
	/*
	 * Delivered or not, the tmp/ name goes. Should removing it fail
	 * after a delivery, the message is safe in new/ and readers clear
	 * stale tmp/ files (maildir(5): after 36 hours); reporting failure
	 * instead would have it delivered twice.
	 */
	unlinkat(d.sub[MAILDIR_SUB_TMP], sbuf_str(tmp_name), 0);
out:
	maildir_close(&d);
	sbuf_free(&path);
	sbuf_free(&host);
	sbuf_free(&tmp_name);
	sbuf_free(&new_name);
	return ret;
}

void
maildir_result_clear(struct maildir_result *res)
{
	xfree(&res->path);
}

void
maildir_hostname_escape(const char *host, struct sbuf *out)
{
	for (const char *p = host; *p != '\0'; p++) {
		if (*p == '/')
			sbuf_cat(out, "\\057");
		else if (*p == ':')
			sbuf_cat(out, "\\072");
		else
			sbuf_catc(out, *p);
	}
}
