/*
 * sendmail_msg - the message sendmail reads: input and header fixes
 *
 * message_read() reads a message from standard input the way sendmail
 * callers expect: CRLF or LF line ends (kept as LF), a line holding only
 * "." ends the input unless dots are ignored (-i, -oi), a missing final
 * newline is added. message_fix() drops a mailbox separator line ("From "
 * at the very start, as some callers write, unless the line is a header
 * field written "From : value"), then walks the header (the
 * lines up to the first empty line or the first line that is not a header
 * field), removes every Bcc: field, collects the addresses of To:, Cc:
 * and Bcc: for -t, and adds From:, Date: and Message-ID: at the end of
 * the header when the message has none.
 */
#ifndef POSTERN_SENDMAIL_MSG_H
#define POSTERN_SENDMAIL_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct sbuf;
struct strlist;

enum message_read_status {
	MESSAGE_READ_OK,
	MESSAGE_READ_TOOBIG,	/* over limit octets */
	MESSAGE_READ_ERROR	/* a read error (errno) */
};

/*
 * Reads the message from fp into msg (replacing it) as described above,
 * at most limit octets (0: no limit).
 */
enum message_read_status message_read(FILE *fp, bool ignore_dots,
    size_t limit, struct sbuf *msg);

/* What message_fix() adds when missing: header field values. */
struct message_fix {
	const char *from;	/* e.g. "Jane Doe <jane@example.test>" */
	const char *date;
	const char *message_id;	/* with its angle brackets */
};

/*
 * Copies msg (LF line ends) to out with the fixes above. When rcpts is
 * not NULL, appends the addresses of To:, Cc: and Bcc: to it (as
 * sendmail_addrlist.h gives them). 0, or -1 with a reason naming the
 * field whose address list is malformed.
 */
int message_fix(const struct sbuf *msg, const struct message_fix *fix,
    struct sbuf *out, struct strlist *rcpts, struct sbuf *why);

#endif
