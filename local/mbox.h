/*
 * mbox - append one message to a classic mbox file
 *
 * The mboxrd variant: a "From SENDER DATE" line opens each message, a
 * blank line ends it, and a content line matching ">*From " gets one more
 * '>' (so readers can undo the quoting exactly). The file is locked with a
 * dotlock and an fcntl write lock while it grows, and a failed delivery
 * leaves it byte for byte as it was. The caller already runs as the
 * mailbox owner.
 */
#ifndef POSTERN_MBOX_H
#define POSTERN_MBOX_H

#include <sys/types.h>

#include <time.h>

#include "content.h"

struct sbuf;

/* The outcome of a delivery, for the caller's policy. */
enum mbox_status {
	MBOX_OK = 0,
	/*
	 * Try again later: the mailbox stayed locked past the wait, EIO,
	 * ENOSPC, EDQUOT, a content read error, the mailbox replaced while
	 * waiting for its locks, anything not known to be permanent.
	 */
	MBOX_TEMP,
	/*
	 * The mailbox is unusable as it stands: a symbolic link (ELOOP),
	 * not a regular file, more than one link, another owner than the
	 * effective uid, EACCES, EPERM, ENOTDIR, an arrival time localtime()
	 * cannot represent. The caller bounces or defers by policy.
	 */
	MBOX_PERM
};

#define MBOX_LOCK_WAIT_MS	20000	/* default wait for the locks */
#define MBOX_STALE_LOCK_S	300	/* default age of a stale dotlock */

/*
 * Sets how long mbox_deliver() waits for both locks together (wait_ms)
 * and how old a dotlock must be to be removed as stale (stale_s). Until
 * called, MBOX_LOCK_WAIT_MS and MBOX_STALE_LOCK_S apply.
 */
void mbox_set_lock_limits(unsigned int wait_ms, unsigned int stale_s);

/*
 * Appends a message to the mbox at path (created with mode 0600 when
 * missing): the "From " line naming sender ("MAILER-DAEMON" when NULL or
 * empty; spaces and control characters become '_') and arrival as local
 * time in asctime() form, then prefix_headers (whole LF-terminated lines,
 * or NULL) and the content read_fn returns, ">From "-quoted as mboxrd,
 * ending in a newline and one blank line. A blank line is first added
 * after existing content that does not end in one.
 *
 * Locking: path.lock is made with O_EXCL and waited for, a lock older than
 * the stale age removed; when the directory does not let us make it (as
 * /var/mail, mode 2775 root:mail, to a user outside group mail) the
 * dotlock is skipped and the fcntl lock alone serialises writers. Then an
 * fcntl write lock on the whole file is taken, polling within the same
 * wait.
 *
 * Returns MBOX_OK once the message is fsync'ed, or the failure's class
 * with the reason in why; the file is then truncated back to its old size.
 */
enum mbox_status mbox_deliver(const char *path, const char *sender,
    time_t arrival, const char *prefix_headers, content_read_fn read_fn,
    void *ctx, struct sbuf *why);

#endif
