/*
 * local_mailbox - write a message into a Maildir, an mbox or a file
 *
 * The last step of a delivery to a user's mailbox, a virtual mailbox or
 * a "/file" item: in a child running as the mailbox's owner
 * (local_child.h), the Maildir or mbox writer gets the prefix headers
 * and the content, read piece by piece from the queue file through the
 * descriptor the child inherits. A path that ends in '/' is a Maildir;
 * anything else an mbox-style file.
 *
 * Outcomes (local(8) documents them):
 *	written			sent		2.0.0 "delivered to maildir",
 *					"delivered to mailbox", "delivered
 *					to file: PATH"
 *	over mailbox_size_limit	bounced		5.2.2
 *	Maildir disk or quota full
 *				deferred	4.2.2
 *	any other failure, a symbolic link or a foreign file planted at
 *	the mailbox's name included
 *				deferred	4.2.0 (an administrator can
 *					repair it before the message expires)
 */
#ifndef POSTERN_LOCAL_MAILBOX_H
#define POSTERN_LOCAL_MAILBOX_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

struct local_ident;
struct local_outcome;
struct queue_file;
struct sbuf;

/* The content of a queue file, read from its start: a content_read_fn. */
struct local_content {
	struct queue_file *qf;
	off_t pos;
};
ssize_t local_content_read(void *ctx, char *buf, size_t len);

/*
 * Sets out to the lines that precede the content in every mailbox and
 * command: "Return-Path: <sender>" (quoted as on the wire; "<>" for the
 * null sender) and "Delivered-To: recipient", each ending in "\n".
 */
void local_prefix_headers(const char *sender, const char *recipient,
    struct sbuf *out);

/* What a delivery writes to. */
enum local_mailbox_kind {
	LOCAL_MAILBOX_MAILBOX,	/* a user's or a virtual mailbox */
	LOCAL_MAILBOX_FILE	/* a "/file" item */
};

struct local_mailbox_req {
	enum local_mailbox_kind kind;
	const char *path;		/* ends in '/' for a Maildir */
	const struct local_ident *as;	/* the owner to write as */
	struct queue_file *qf;		/* the message */
	const char *prefix;		/* from local_prefix_headers() */
	unsigned long long size_limit;	/* mailbox_size_limit; 0: none */
};

/* Delivers as described above; the outcome goes to out. */
void local_mailbox_deliver(const struct local_mailbox_req *req,
    struct local_outcome *out);

/*
 * Creates the mbox at path (mode 0600, owned by as) when it is missing,
 * without following a symbolic link; for a spool directory the user
 * cannot create files in. Runs in the calling (root) process. 0, or -1
 * with a reason; an existing name is left alone (0).
 */
int local_mailbox_precreate(const char *path, const struct local_ident *as,
    struct sbuf *why);

#endif
