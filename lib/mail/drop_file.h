/*
 * drop_file - the format sendmail hands to postern-drop and postern-drop
 * writes into maildrop/, and its reader and writer
 *
 * One small text envelope, then the content:
 *
 *	"postern-maildrop 1" LF
 *	["uid" SP decimal LF]		the submitting real uid; written
 *					by postern-drop, never by sendmail
 *	"sender" SP text LF		internal form; empty for <>
 *	["ret" SP ("FULL" / "HDRS") LF]	DSN RET (sendmail -R)
 *	["notify" SP decimal LF]	DSN NOTIFY of every recipient
 *					(sendmail -N): 1 to 15, the bits
 *					QUEUE_NOTIFY_* of queue_file.h,
 *					NEVER alone
 *	"rcpt" SP text LF		one per recipient, 1 to DROP_RCPT_MAX
 *	"size" SP decimal LF		octets of content
 *	LF
 *	content				exactly size octets, LF line
 *					ends
 *
 * and nothing after it. "text" is at most QUEUE_TEXT_MAX octets of UTF-8
 * without control characters (as in queue_file.h), so no field can hold a
 * newline; a recipient holds an '@'. sendmail writes the format on
 * postern-drop's standard input, postern-drop checks it with the same
 * reader, adds the uid and writes it into maildrop/, and pickup reads it
 * again before it trusts anything but the uid.
 *
 * Errors: the reader returns -1 with a reason ("line N: ...") for
 * anything outside the format or its limits; the writer -1 on a write
 * error (errno set). Trust: the reader takes hostile input; every line is
 * read into a buffer with a limit.
 */
#ifndef POSTERN_DROP_FILE_H
#define POSTERN_DROP_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "mail/queue_file.h"

struct sbuf;

#define DROP_FILE_VERSION	"postern-maildrop 1"
#define DROP_RCPT_MAX		10000	/* recipients of a submission */

/* The envelope of a submission. */
struct drop_envelope {
	long uid;		/* -1 when the file has no uid line */
	char *sender;		/* "" for the null sender */
	enum queue_ret ret;	/* QUEUE_RET_NONE when not given */
	int notify;		/* QUEUE_NOTIFY_* bits; 0 when not given */
	char **rcpts;
	size_t rcpt_count;
	uint64_t size;		/* octets of content that follow */
};

/* True when s is text as the format wants it (see above). */
bool drop_text_ok(const char *s);

/*
 * Reads the envelope from fp up to and including the empty line, leaving
 * fp at the first octet of content. with_uid: a uid line must be there
 * (maildrop/), else it must not (sendmail's pipe). A size above
 * size_limit (0: none) is refused. 0 with env filled (free it with
 * drop_envelope_free()), or -1 with a reason and env empty.
 */
int drop_envelope_read(FILE *fp, bool with_uid, uint64_t size_limit,
    struct drop_envelope *env, struct sbuf *why);

/* Writes the envelope (with its uid line when uid >= 0); 0 or -1. */
int drop_envelope_write(FILE *fp, const struct drop_envelope *env);

/* Adds a copy of a recipient to env (the caller checks the count). */
void drop_envelope_add_rcpt(struct drop_envelope *env, const char *rcpt);

/* Frees what env holds and empties it. */
void drop_envelope_free(struct drop_envelope *env);

#endif
