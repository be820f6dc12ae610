/*
 * local_expand - where one recipient's mail goes, and taking it there
 *
 * For a recipient of the queue file (internal form "local@domain"):
 *
 * - Its domain's class (resolve.h). A LOCAL domain: the local part,
 *   lower-cased, split at recipient_delimiter into user and extension.
 *   alias_maps ("user+ext", then "user") give a list of items
 *   (local_item.h) to deliver instead; else the user must exist
 *   (getpwnam, else 5.1.1 "unknown user"); a ~/.forward the user owns
 *   and nobody else can write (local_userfile.h) gives items; else the
 *   mailbox: home_mailbox under the home (a trailing '/' makes it a
 *   Maildir), or mail_spool_directory/USER when home_mailbox is empty.
 * - A VIRTUAL domain: virtual_mailbox_maps gives a path under
 *   virtual_mailbox_base (a trailing '/' makes it a Maildir), written as
 *   virtual_mailbox_owner; no entry is 5.1.1.
 * - Any other domain reaches local only by a routing mistake: deferred
 *   4.3.5 "not a local or virtual domain" (and logged), so the mail
 *   stays queued while the configuration is fixed.
 *
 * Items: an address in a local or virtual domain (or without one) is
 * resolved again here; other addresses are collected and queued again as
 * one new message (local_requeue.h). "\user" is the user's mailbox
 * without aliases or .forward. "|command" and "/file" obey
 * allow_mail_to_commands and allow_mail_to_files (the classes alias,
 * forward and include; refused: 5.7.1) and run as the owner of the alias
 * table, the user of the .forward, or whoever read the include file -
 * never as root: root is replaced by default_privs. ":include:"
 * files obey the .forward rules for the same owner.
 *
 * Loops: an alias, .forward or include file met again inside its own
 * expansion is a loop (5.4.6), except that an item naming the very alias
 * or user being expanded ("joe: joe, |cmd", or "joe" in ~joe/.forward)
 * means that user's mailbox. A Delivered-To: header equal to the
 * recipient is a mail loop (5.4.6). Expansions deeper than
 * LOCAL_EXPAND_DEPTH or wider than LOCAL_EXPAND_MAX bounce (5.4.6). A
 * destination met twice in one expansion is delivered once.
 *
 * Privileges: every mailbox, file, command and user file is handled in a
 * child that became its owner first (local_child.h). In a single-user
 * instance everything runs as the invoking user: a local user who is
 * somebody else is deferred (4.3.0), while alias and include items and
 * virtual mailboxes run as the invoking user.
 */
#ifndef POSTERN_LOCAL_EXPAND_H
#define POSTERN_LOCAL_EXPAND_H

#include <stdbool.h>
#include <stddef.h>

#include "local_child.h"

struct local_aliases;
struct local_outcome;
struct params;
struct queue_file;
struct resolver;
struct sbuf;

#define LOCAL_EXPAND_DEPTH	20	/* nesting of aliases and files */
#define LOCAL_EXPAND_MAX	1000	/* destinations of one recipient */
#define LOCAL_STEP_TIMEOUT_MS	600000	/* a mailbox or file step */

/* One message being delivered: what its recipients share. */
struct local_message {
	const struct params *p;
	bool single_user;		/* no uid switching */
	struct resolver *resolver;
	struct local_aliases *aliases;
	struct queue_file *qf;
	const char *queue_id;
	struct sbuf *delivered_to;	/* from local_loop_scan() */
	struct local_ident self;	/* the user local runs as */
};

/* Delivers recipient index of m->qf; the outcome goes to out. */
void local_expand_recipient(struct local_message *m, size_t index,
    struct local_outcome *out);

/*
 * True when source ("alias", "forward" or "include") is one of the items
 * of allowed (allow_mail_to_commands or allow_mail_to_files).
 */
bool local_expand_allowed(const char *allowed, const char *source);

/*
 * Checks a virtual_mailbox_maps value: a relative path without "." or
 * ".." components or empty ones, and no control characters. 0, or -1
 * with a reason.
 */
int local_expand_vpath_check(const char *value, struct sbuf *why);

#endif
