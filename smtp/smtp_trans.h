/*
 * smtp_trans - one message over an open session: MAIL, RCPT, DATA or BDAT
 *
 * Sends the envelope (pipelined when the server offers PIPELINING) with
 * the ESMTP parameters the server offers and the message needs: SIZE,
 * BODY=8BITMIME or BODY=BINARYMIME, SMTPUTF8, and the DSN parameters
 * RET, ENVID, NOTIFY and ORCPT. Then the content (smtp_content.h): after
 * DATA, or in BDAT chunks (smtp_bdat.h) when the server offers CHUNKING.
 * The result per recipient:
 *
 *	2xx to RCPT and to the end of data	sent: marked done in the
 *	(the final dot or BDAT LAST)		queue file before the reply
 *	4xx to RCPT, MAIL, DATA, any BDAT or	deferred
 *	end of data
 *	5xx to any of them			bounced
 *	421, a lost connection or a timeout	not decided: the caller
 *						tries the next address
 *
 * Before MAIL, a message the server cannot take bounces without a
 * retry: larger than its SIZE (5.3.4), 8-bit content to a server without
 * 8BITMIME (5.6.3; no downgrade is attempted, as RFC 6152 3 allows),
 * BINARYMIME content to a server without both BINARYMIME and CHUNKING
 * (5.6.3), SMTPUTF8 to a server without SMTPUTF8 (5.6.7).
 */
#ifndef POSTERN_SMTP_TRANS_H
#define POSTERN_SMTP_TRANS_H

#include <stdbool.h>
#include <stddef.h>

#include "smtp_content.h"

struct deliver_reply;
struct deliver_request;
struct queue_file;
struct sbuf;
struct smtp_env;
struct smtp_reply;
struct smtp_session;

/* One delivery request and what has been decided for it so far. */
struct smtp_job {
	const struct deliver_request *req;
	struct deliver_reply *reply;
	struct queue_file *qf;
	struct smtp_content_scan scan;	/* of the whole content */
	bool *decided;		/* per request recipient: reply set */
	size_t undecided;	/* recipients still without a result */
};

/*
 * Runs one transaction for the undecided recipients of job. 0 when the
 * session may carry another message (after RSET), -1 when it broke: the
 * recipients left undecided then deserve the next address, and why says
 * what happened to this one.
 */
int smtp_trans_run(const struct smtp_env *env, struct smtp_session *s,
    struct smtp_job *job, struct sbuf *why);

/* For the content's senders (smtp_bdat.h): decides request recipient i
 * by a 4xx or 5xx reply to what ("BDAT"). */
void smtp_trans_decide_reply(struct smtp_job *job,
    const struct smtp_session *s, size_t i, const struct smtp_reply *r,
    const char *what);
/* Marks the n accepted request recipients done in the queue file, then
 * decides them sent by the 2xx reply to what. */
void smtp_trans_sent(struct smtp_job *job, const struct smtp_session *s,
    const size_t *accepted, size_t n, const struct smtp_reply *reply,
    const char *what);

#endif
