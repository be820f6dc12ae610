/*
 * local_mailbox - write a message into a Maildir, an mbox or a file
 *
 * Errors: every failure is an outcome (see the header); nothing logs.
 * Trust: the mailbox path comes from the password file, main.cf or an
 * alias/forward item; the directories on the way belong to users who
 * may plant links. The writers refuse symbolic links and foreign files
 * (maildir.h, mbox.h) and run as the owner, so nothing is written where
 * that owner could not write.
 */
#include "local_mailbox.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "local_child.h"
#include "local_outcome.h"
#include "maildir.h"
#include "mail/addr.h"
#include "mail/queue_file.h"
#include "mbox.h"
#include "util/sbuf.h"

/* Room for the "From " line and the blank line mbox adds. */
#define LOCAL_MBOX_OVERHEAD	200

ssize_t
local_content_read(void *ctx, char *buf, size_t len)
{
	struct local_content *c = ctx;
	struct sbuf *why = sbuf_new();
	ssize_t n;

	n = queue_file_read(c->qf, c->pos, buf, len, why);
	sbuf_free(&why);
	if (n < 0) {
		errno = EIO;
		return -1;
	}
	c->pos += n;
	return n;
}

void
local_prefix_headers(const char *sender, const char *recipient,
    struct sbuf *out)
{
	const char *at = addr_split_internal(sender);
	struct sbuf *local = sbuf_new(), *quoted = sbuf_new();

	sbuf_set(out, "Return-Path: <");
	if (*sender != '\0') {
		if (at != NULL)
			sbuf_catn(local, sender, (size_t)(at - sender));
		else
			sbuf_set(local, sender);
		if (addr_quote(sbuf_str(local), at != NULL ? at + 1 : NULL,
		    quoted) == 0)
			sbuf_cat(out, sbuf_str(quoted));
		else
			sbuf_cat(out, sender);
	}
	sbuf_printf(out, ">\nDelivered-To: %s\n", recipient);
	sbuf_free(&local);
	sbuf_free(&quoted);
}

/* How the delivery is named in reasons. */
static void
local_mailbox_name(const struct local_mailbox_req *req, bool maildir,
    struct sbuf *out)
{
	if (req->kind == LOCAL_MAILBOX_FILE)
		sbuf_setf(out, "file: %s", req->path);
	else
		sbuf_set(out, maildir ? "maildir" : "mailbox");
}

/* Into a Maildir, in the child. */
static void
local_mailbox_maildir(const struct local_mailbox_req *req,
    const char *name, struct local_outcome *out)
{
	struct local_content c = { req->qf, 0 };
	struct maildir_result res = { .path = NULL };
	struct sbuf *why = sbuf_new();

	if (req->size_limit > 0 && (unsigned long long)req->qf->content_size +
	    strlen(req->prefix) > req->size_limit) {
		local_outcome_set(out, DELIVER_BOUNCED, "5.2.2",
		    "message is larger than the mailbox size limit (%llu "
		    "octets)", req->size_limit);
	} else if (maildir_deliver(req->path, req->prefix, local_content_read,
	    &c, &res, why) == 0) {
		local_outcome_set(out, DELIVER_SENT, "2.0.0",
		    "delivered to %s", name);
	} else if (res.error == ENOSPC || res.error == EDQUOT) {
		local_outcome_set(out, DELIVER_DEFERRED, "4.2.2",
		    "cannot deliver to %s: %s", name, sbuf_str(why));
	} else {
		local_outcome_set(out, DELIVER_DEFERRED, "4.2.0",
		    "cannot deliver to %s: %s", name, sbuf_str(why));
	}
	maildir_result_clear(&res);
	sbuf_free(&why);
}

/* Into an mbox-style file, in the child. */
static void
local_mailbox_mbox(const struct local_mailbox_req *req, const char *name,
    struct local_outcome *out)
{
	struct local_content c = { req->qf, 0 };
	struct sbuf *why = sbuf_new();
	unsigned long long size;
	struct stat st;

	size = (unsigned long long)req->qf->content_size +
	    strlen(req->prefix) + LOCAL_MBOX_OVERHEAD;
	if (lstat(req->path, &st) == 0 && S_ISREG(st.st_mode))
		size += (unsigned long long)st.st_size;
	if (req->size_limit > 0 && size > req->size_limit) {
		local_outcome_set(out, DELIVER_BOUNCED, "5.2.2",
		    "%s is full: the message would pass the mailbox size "
		    "limit (%llu octets)", name, req->size_limit);
	} else if (mbox_deliver(req->path, req->qf->env.sender,
	    req->qf->arrival, req->prefix, local_content_read, &c,
	    why) == MBOX_OK) {
		local_outcome_set(out, DELIVER_SENT, "2.0.0",
		    "delivered to %s", name);
	} else {
		local_outcome_set(out, DELIVER_DEFERRED, "4.2.0",
		    "cannot deliver to %s: %s", name, sbuf_str(why));
	}
	sbuf_free(&why);
}

/* The child's work. */
static void
local_mailbox_child(void *ctx, struct local_outcome *out,
    struct sbuf *payload)
{
	const struct local_mailbox_req *req = ctx;
	size_t len = strlen(req->path);
	bool maildir = len > 0 && req->path[len - 1] == '/';
	struct sbuf *name = sbuf_new();

	(void)payload;
	local_mailbox_name(req, maildir, name);
	if (maildir)
		local_mailbox_maildir(req, sbuf_str(name), out);
	else
		local_mailbox_mbox(req, sbuf_str(name), out);
	sbuf_free(&name);
}

void
local_mailbox_deliver(const struct local_mailbox_req *req,
    struct local_outcome *out)
{
	struct sbuf *payload = sbuf_new();

	local_switch_run(req->as, local_mailbox_child, (void *)req, out,
	    payload);
	sbuf_free(&payload);
}

int
local_mailbox_precreate(const char *path, const struct local_ident *as,
    struct sbuf *why)
{
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST)
		return 0;
	if (fd < 0) {
		sbuf_setf(why, "create %s: %s", path, strerror(errno));
		return -1;
	}
	if (fchown(fd, as->uid, as->gid) < 0) {
		sbuf_setf(why, "chown %s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	if (close(fd) < 0) {
		sbuf_setf(why, "close %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}
