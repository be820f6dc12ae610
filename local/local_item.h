/*
 * local_item - the destinations an alias, a .forward or an include lists
 *
 * An alias value, a ~/.forward file and an :include: file hold the same
 * list: items separated by commas or newlines, each one of
 *
 *	user, user@domain, <user@domain>	an address: local addresses
 *				are resolved again, others forwarded
 *	\user			the user's own mailbox, without aliases or
 *				.forward
 *	|command		a command that gets the message on stdin
 *	/path/file		a file the message is appended to (mbox
 *				style; a trailing '/' means a Maildir)
 *	:include:/path		a file that holds more items
 *
 * An item may be put in double quotes, so it can hold commas
 * ("|/usr/bin/filter -a, -b"); inside quotes a backslash makes the next
 * character literal. Blanks around items are dropped. In a file, a line
 * whose first non-blank character is '#' is a comment.
 */
#ifndef POSTERN_LOCAL_ITEM_H
#define POSTERN_LOCAL_ITEM_H

#include <stddef.h>

struct sbuf;

#define LOCAL_ITEMS_MAX		1000	/* items in one list */
#define LOCAL_ITEM_LEN_MAX	4096	/* octets of one item */

enum local_item_kind {
	LOCAL_ITEM_ADDRESS,	/* value: internal form, "local@domain" or
				 * "local" alone */
	LOCAL_ITEM_SELF,	/* value: the user name after '\' */
	LOCAL_ITEM_COMMAND,	/* value: the command after '|' */
	LOCAL_ITEM_FILE,	/* value: the absolute path */
	LOCAL_ITEM_INCLUDE	/* value: the absolute path of the file */
};

struct local_item {
	enum local_item_kind kind;
	char *value;
};

struct local_items {
	struct local_item *items;
	size_t count;
};

/*
 * Parses text into items (appended to out, which starts zeroed). 0, or
 * -1 with a reason in why (an unbalanced quote, an empty command or
 * include path, a relative path, an address that does not parse, an item
 * or a list over its limit, a NUL or control character); out then holds
 * nothing new.
 */
int local_items_parse(const char *text, struct local_items *out,
    struct sbuf *why);
/* Frees the items of list and zeroes it. */
void local_items_free(struct local_items *list);
/* "address", "command", ...: for log lines and reasons. */
const char *local_item_kind_name(enum local_item_kind kind);

#endif
