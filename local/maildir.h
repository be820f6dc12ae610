/*
 * maildir - deliver one message into a Maildir
 *
 * The Maildir conventions of qmail's maildir(5) as Courier and Dovecot
 * practise them: the message is written under a unique name in tmp/,
 * fsync'ed, linked into new/ as "SECONDS.M<usec>P<pid>Q<count>.<host>,S=<size>"
 * and new/ is fsync'ed before success is reported. The caller already runs
 * as the mailbox owner.
 */
#ifndef POSTERN_MAILDIR_H
#define POSTERN_MAILDIR_H

#include <sys/types.h>

#include "content.h"

struct sbuf;

/* What a failed delivery means for the caller's policy. */
enum maildir_status {
	MAILDIR_OK,
	/*
	 * Try again later: EIO, ENOSPC, EDQUOT, a missing parent directory,
	 * a content read error, anything not known to be permanent.
	 */
	MAILDIR_TEMP,
	/*
	 * The mailbox is unusable as it stands: ENOTDIR (something else at
	 * a directory's name), ELOOP (a symbolic link planted as the maildir
	 * or one of its subdirectories), EACCES, EPERM, ENAMETOOLONG. The
	 * caller bounces or defers by policy.
	 */
	MAILDIR_PERM
};

struct maildir_result {
	enum maildir_status status;
	int error;		/* errno of the failure; 0 on success */
	char *path;		/* the delivered file, malloc'ed; else NULL */
	off_t size;		/* its size in bytes, as in its name */
};

/*
 * Delivers prefix_headers (whole LF-terminated lines, or NULL) followed by
 * the content read_fn returns, byte for byte, into the Maildir at maildir
 * (a trailing '/' is allowed). The maildir and its tmp/, new/ and cur/ are
 * made (mode 0700) when missing, but only under a parent directory that
 * exists; a symbolic link at any of those four names is refused, never
 * followed. res is filled either way (its old path is not freed: clear it
 * with maildir_result_clear() after each call). Returns 0, or -1 with the
 * reason in why, res->status and res->error telling the class; nothing is
 * left in tmp/ or new/ after a failure.
 */
int maildir_deliver(const char *maildir, const char *prefix_headers,
    content_read_fn read_fn, void *ctx, struct maildir_result *res,
    struct sbuf *why);
/* Frees res->path and sets it to NULL. */
void maildir_result_clear(struct maildir_result *res);
/*
 * Appends host to out with '/' escaped as "\057" and ':' as "\072", as
 * the host part of a Maildir file name.
 */
void maildir_hostname_escape(const char *host, struct sbuf *out);

#endif
