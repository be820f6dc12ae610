/*
 * local_userfile - read a ~/.forward or an :include: file safely
 *
 * Errors: the status says absent, unsafe or unreadable; the caller
 * decides (a .forward that cannot be trusted is ignored, an include
 * file defers). Nothing logs.
 * Trust: the file and its directory are the user's to fill as they
 * like: opened with O_NOFOLLOW and O_NONBLOCK (a fifo cannot hang us),
 * checked with fstat() on the descriptor itself, read with a bound.
 */
#include "local_userfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "local_child.h"
#include "local_outcome.h"
#include "util/sbuf.h"
#include "util/strutil.h"

/* The words by which the child tells the parent what it found. */
#define LOCAL_USERFILE_WORD_FOUND	"found"
#define LOCAL_USERFILE_WORD_ABSENT	"absent"
#define LOCAL_USERFILE_WORD_UNSAFE	"unsafe: "

int
local_userfile_check(const char *path, const struct stat *st, uid_t owner,
    struct sbuf *why)
{
	if (!S_ISREG(st->st_mode)) {
		sbuf_setf(why, "%s is not a regular file", path);
		return -1;
	}
	if (st->st_uid != owner && st->st_uid != 0) {
		sbuf_setf(why, "%s is owned by uid %lu, not by uid %lu or "
		    "root", path, (unsigned long)st->st_uid,
		    (unsigned long)owner);
		return -1;
	}
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		sbuf_setf(why, "%s is writable by %s", path,
		    (st->st_mode & S_IWOTH) != 0 ? "others" : "its group");
		return -1;
	}
	return 0;
}

/* What the child is asked. */
struct local_userfile_req {
	const char *path;
	uid_t owner;
};

/* Reads fd (at most LOCAL_USERFILE_MAX octets) into text; 0 or -1. */
static int
local_userfile_slurp(int fd, const char *path, struct sbuf *text,
    struct sbuf *why)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			sbuf_setf(why, "read %s: %s", path, strerror(errno));
			return -1;
		}
		if (sbuf_len(text) + (size_t)n > LOCAL_USERFILE_MAX) {
			sbuf_setf(why, "%s is larger than %d octets", path,
			    LOCAL_USERFILE_MAX);
			return -1;
		}
		sbuf_catn(text, buf, (size_t)n);
	}
	if (memchr(sbuf_str(text), '\0', sbuf_len(text)) != NULL) {
		sbuf_setf(why, "%s holds a NUL byte", path);
		return -1;
	}
	return 0;
}

/* The child's work: outcome reason says found, absent or unsafe. */
static void
local_userfile_child(void *ctx, struct local_outcome *out,
    struct sbuf *payload)
{
	const struct local_userfile_req *req = ctx;
	struct sbuf *why = sbuf_new();
	struct stat st;
	int fd;

	fd = open(req->path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 && (errno == ENOENT || errno == ENOTDIR)) {
		local_outcome_set(out, DELIVER_SENT, "2.0.0",
		    LOCAL_USERFILE_WORD_ABSENT);
	} else if (fd < 0 && errno == ELOOP) {
		local_outcome_set(out, DELIVER_SENT, "2.0.0",
		    LOCAL_USERFILE_WORD_UNSAFE "%s is a symbolic link",
		    req->path);
	} else if (fd < 0) {
		local_outcome_set(out, DELIVER_DEFERRED, "4.3.0",
		    "open %s: %s", req->path, strerror(errno));
	} else if (fstat(fd, &st) < 0) {
		local_outcome_set(out, DELIVER_DEFERRED, "4.3.0",
		    "fstat %s: %s", req->path, strerror(errno));
	} else if (local_userfile_check(req->path, &st, req->owner,
	    why) < 0) {
		local_outcome_set(out, DELIVER_SENT, "2.0.0",
		    LOCAL_USERFILE_WORD_UNSAFE "%s", sbuf_str(why));
	} else if (local_userfile_slurp(fd, req->path, payload, why) < 0) {
		local_outcome_set(out, DELIVER_DEFERRED, "4.3.0", "%s",
		    sbuf_str(why));
	} else {
		local_outcome_set(out, DELIVER_SENT, "2.0.0",
		    LOCAL_USERFILE_WORD_FOUND);
	}
	if (fd >= 0)
		close(fd);
	sbuf_free(&why);
}

enum local_userfile_status
local_userfile_read(const char *path, const struct local_ident *as,
    struct sbuf *text, struct sbuf *why)
{
	struct local_userfile_req req = { path, as->uid };
	struct local_outcome out;
	enum local_userfile_status st;
	const char *reason;

	local_outcome_init(&out);
	local_switch_run(as, local_userfile_child, &req, &out, text);
	reason = sbuf_str(out.reason);
	if (out.status != DELIVER_SENT) {
		sbuf_set(why, reason);
		st = LOCAL_USERFILE_ERROR;
	} else if (strcmp(reason, LOCAL_USERFILE_WORD_FOUND) == 0) {
		st = LOCAL_USERFILE_FOUND;
	} else if (strcmp(reason, LOCAL_USERFILE_WORD_ABSENT) == 0) {
		st = LOCAL_USERFILE_ABSENT;
	} else if (str_starts(reason, LOCAL_USERFILE_WORD_UNSAFE)) {
		sbuf_set(why, reason + strlen(LOCAL_USERFILE_WORD_UNSAFE));
		st = LOCAL_USERFILE_UNSAFE;
	} else {
		sbuf_setf(why, "reading %s: unexpected answer \"%s\"", path,
		    reason);
		st = LOCAL_USERFILE_ERROR;
	}
	local_outcome_clear(&out);
	return st;
}
