/*
 * local_outcome - what became of one delivery in the local agent
 *
 * Every step of local delivery (a mailbox, a command, a file, a
 * forward, a whole recipient) ends in an outcome: sent, deferred or
 * bounced, an RFC 3463 code and a reason for the log and the DSN. A
 * recipient that expands to several destinations combines theirs: any
 * deferral defers it, else any bounce bounces it, else it is sent; the
 * first reason of the winning kind is kept, and the reasons of sent
 * destinations are joined ("delivered to maildir; forwarded as ID").
 */
#ifndef POSTERN_LOCAL_OUTCOME_H
#define POSTERN_LOCAL_OUTCOME_H

#include <stdbool.h>

#include "mail/deliver_req.h"

struct sbuf;

#define LOCAL_DSN_MAX		16	/* "X.YYY.ZZZ" and its NUL */
#define LOCAL_REASON_MAX	1000	/* octets of a reason */

struct local_outcome {
	bool set;		/* false until an outcome is recorded */
	enum deliver_status status;
	char dsn[LOCAL_DSN_MAX];
	struct sbuf *reason;	/* at most LOCAL_REASON_MAX octets */
};

/* Prepares an empty outcome (not set); free with local_outcome_clear(). */
void local_outcome_init(struct local_outcome *o);
/* Frees the reason; the outcome must be initialised again before use. */
void local_outcome_clear(struct local_outcome *o);
/*
 * Records status, dsn ("X.Y.Z", its class agreeing with status) and a
 * formatted reason (cut at LOCAL_REASON_MAX octets), replacing what was
 * there.
 */
void local_outcome_set(struct local_outcome *o, enum deliver_status status,
    const char *dsn, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Adds part (set) to the combined outcome all as described above. */
void local_outcome_merge(struct local_outcome *all,
    const struct local_outcome *part);

#endif
