/*
 * smtp_reply - reading a server's SMTP reply and what its EHLO offers
 *
 * A reply is one or more lines "CODE-text" ending with "CODE text" (RFC
 * 5321 4.2). The reader keeps the code, the RFC 3463 status code (the
 * enhanced code at the start of the text when its class agrees with the
 * reply code, else X.0.0), each line's text for the EHLO parser, and a
 * one-line form for logs and DSNs. A server gets SMTP_REPLY_LINES_MAX
 * lines of SMTP_REPLY_LINE_MAX octets at most; more is an error, as is a
 * line that is not a reply line.
 */
#ifndef POSTERN_SMTP_REPLY_H
#define POSTERN_SMTP_REPLY_H

#include <stdbool.h>
#include <stddef.h>

struct sbuf;
struct stream;

#define SMTP_REPLY_LINES_MAX	100
#define SMTP_REPLY_LINE_MAX	2048

struct smtp_reply {
	int code;		/* 200 to 599 */
	char dsn[16];		/* "5.1.1" */
	struct sbuf *lines;	/* each line's text after the code, '\n'-
				 * separated */
	struct sbuf *text;	/* "550 5.1.1 text", lines joined by ' ' */
};

/* Extensions from an EHLO reply. */
#define SMTP_EXT_PIPELINING	(1 << 0)
#define SMTP_EXT_SIZE		(1 << 1)
#define SMTP_EXT_8BITMIME	(1 << 2)
#define SMTP_EXT_SMTPUTF8	(1 << 3)
#define SMTP_EXT_DSN		(1 << 4)
#define SMTP_EXT_STARTTLS	(1 << 5)
#define SMTP_EXT_CHUNKING	(1 << 6)
#define SMTP_EXT_BINARYMIME	(1 << 7)

struct smtp_ehlo {
	int ext;		/* SMTP_EXT_* */
	unsigned long long size;	/* SIZE limit; 0 for none */
};

void smtp_reply_init(struct smtp_reply *r);
void smtp_reply_clear(struct smtp_reply *r);

/*
 * Reads one reply from s. 0, or -1 with a reason in why (timeout, lost
 * connection, malformed or oversized reply): the session is then broken.
 */
int smtp_reply_read(struct stream *s, struct smtp_reply *r, struct sbuf *why);
/*
 * Parses one reply line into r, as smtp_reply_read() does for each line
 * read; *last_r tells whether it was the last. 0, or -1 with a reason.
 * Exposed for the unit tests.
 */
int smtp_reply_add_line(struct smtp_reply *r, const char *line, size_t len,
    bool first, bool *last_r, struct sbuf *why);
/* Parses the extensions of a 250 reply to EHLO. */
void smtp_ehlo_parse(const struct smtp_reply *r, struct smtp_ehlo *ehlo);

#endif
