/*
 * sendmail_inject - what sendmail does with one message
 *
 * Shared by the command-line mode and the -bs dialogue: turns addresses
 * as callers write them into the internal form (bare names qualified with
 * @myorigin), fixes the header (sendmail_msg.h), extracts recipients for
 * -t and hands everything to postern-drop (sendmail_submit.h).
 */
#ifndef POSTERN_SENDMAIL_INJECT_H
#define POSTERN_SENDMAIL_INJECT_H

#include <stdbool.h>

#include "mail/queue_file.h"

struct params;
struct sbuf;
struct strlist;

/* The invocation's settings. */
struct inject {
	const struct params *p;
	const char *config_dir;	/* -C or MAIL_CONFIG, else NULL */
	char *login;		/* login@myorigin, internal form */
	char *fullname;		/* -F, else the password file's; or NULL */
	int notify;		/* -N: QUEUE_NOTIFY_* bits, or 0 */
	enum queue_ret ret;	/* -R, or QUEUE_RET_NONE */
};

/*
 * Parses text as an address (bare or in angle brackets, a route dropped,
 * a name without a domain qualified with @myorigin) into its internal
 * form in internal. null_ok accepts "" and "<>" as the null sender
 * (internal ""). 0, or -1 with a reason.
 */
int inject_address(const struct inject *in, const char *text, bool null_ok,
    struct sbuf *internal, struct sbuf *why);

/*
 * Fixes the header of msg, adds the recipients of To:, Cc: and Bcc: when
 * extract is set to rcpts (addresses as written), and submits the result
 * from sender (internal form; NULL for the caller's login) to every
 * recipient. A <sysexits.h> status: EX_OK once the message is safe in
 * maildrop/; EX_DATAERR (bad header address) or EX_USAGE (no recipient)
 * with a reason in why; else postern-drop's status.
 */
int inject_message(const struct inject *in, const char *sender,
    bool extract, struct strlist *rcpts, const struct sbuf *msg,
    struct sbuf *why);

#endif
