/*
 * local_requeue - forward a recipient's remote addresses as a new message
 *
 * When an alias, a .forward or an include file names addresses that
 * local does not deliver itself (neither a local nor a virtual
 * domain), the message is queued again for them: a new queue file in
 * incoming/ (queue_file.h, committed durably) with the original sender,
 * protocol "local", the original DSN envelope and the content copied
 * from the queue file; then qmgr is woken through public/qmgr. The file
 * is written by mail_owner, the owner of the queue (in a child, see
 * local_child.h), or by the invoking user in a single-user instance.
 */
#ifndef POSTERN_LOCAL_REQUEUE_H
#define POSTERN_LOCAL_REQUEUE_H

#include <stddef.h>

struct local_ident;
struct local_outcome;
struct queue_file;
struct queue_rcpt;
struct sbuf;

/* What a new message is made from. */
struct local_requeue_req {
	const char *queue_dir;		/* queue_directory */
	const struct local_ident *as;	/* mail_owner */
	struct queue_file *qf;		/* the message */
	const struct queue_rcpt *orig;	/* its recipient: NOTIFY, ORCPT */
	char *const *addrs;		/* the addresses, internal form */
	size_t count;			/* at least 1 */
	int timeout_ms;			/* bound on the child */
};

/*
 * Queues the message for the addresses. out becomes sent (2.0.0,
 * "forwarded as NEWID") with the new queue id in new_id, or deferred
 * (4.3.0) with the reason. A failure to wake qmgr is not one: qmgr
 * finds the file on its next scan.
 */
void local_requeue(const struct local_requeue_req *req,
    struct local_outcome *out, struct sbuf *new_id);

#endif
