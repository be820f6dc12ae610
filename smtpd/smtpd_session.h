/*
 * smtpd_session - one SMTP session: its state and the command loop
 *
 * smtpd_session_run() serves one client from greeting to close: the
 * connection checks (client name, connection limits, TLS on connect),
 * the greeting, then one command line at a time, each parsed by
 * smtpd_cmd and handed to the handler of its verb (smtpd_simple.c,
 * smtpd_mail.c, smtpd_message.c, smtpd_tls.c), until QUIT, the error
 * limit, a timeout, a failed TLS handshake or the client's end.
 *
 * Command lines: at most SMTPD_LINE_MAX octets without the line ending,
 * which may be CRLF or a bare LF. RFC 5321 4.5.3.1.4 allows 512 octets
 * with CRLF and lets extensions add more (RFC 1870, 3461 and 6531 add
 * parameters, and ORCPT alone may be 500 octets); 4096 leaves room for
 * all of them together. A longer line is refused with 500 5.5.2, read
 * to its end and counted as an error.
 *
 * Error limit: every 4xx and 5xx reply but the last (421) counts as an
 * error. Past smtpd_soft_error_limit errors each error reply waits
 * smtpd_error_sleep_time first; at smtpd_hard_error_limit errors the
 * session ends with "421 4.7.0 MYHOSTNAME Error: too many errors".
 *
 * Every wait for the client (a command line, a DATA line, a BDAT piece,
 * a reply flush) is bounded by smtpd_timeout; past it the client gets
 * "421 4.4.2 ... Error: timeout exceeded" and the session ends.
 */
#ifndef POSTERN_SMTPD_SESSION_H
#define POSTERN_SMTPD_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include "mail/queue_file.h"
#include "smtpd_cmd.h"
#include "smtpd_data.h"
#include "util/stream.h"

struct cidr_list;
struct htable;
struct params;
struct resolver;
struct sbuf;
struct smtpd_relay;
struct stream;
struct tls_ctx;

/* Longest command line, without its CRLF or LF; see above. */
#define SMTPD_LINE_MAX	4096
/* Longest HELO or EHLO argument accepted (a domain's RFC 1035 limit). */
#define SMTPD_HELO_MAX	255

/* smtpd_tls_security_level. */
enum smtpd_tls_level {
	SMTPD_TLS_NONE,		/* "" or "none": no STARTTLS */
	SMTPD_TLS_MAY,		/* offer STARTTLS */
	SMTPD_TLS_ENCRYPT	/* require TLS before MAIL */
};

/* What every session of this process shares, set up once. */
struct smtpd_config {
	const struct params *p;
	struct resolver *resolver;
	struct tls_ctx *tls;		/* NULL when TLS cannot be offered */
	enum smtpd_tls_level tls_level;
	struct cidr_list *mynetworks;
	struct cidr_list *limit_exceptions;
	struct smtpd_relay *relay;	/* smtpd_relay_restrictions */
	size_t size_limit;		/* message_size_limit; SIZE_MAX: none */
	char *qmgr_trigger;		/* queue_directory/public/qmgr */
};

/* The mail transaction, from MAIL to the end of its message or RSET. */
struct smtpd_txn {
	struct smtpd_cmd *mail;		/* the MAIL command; NULL: none yet */
	char *sender;			/* internal form; "" for <> */
	struct queue_writer *writer;	/* open from the first recipient */
	char *queue_id;			/* the writer's, for the log */
	size_t rcpt_tried;		/* RCPT commands given */
	size_t rcpt_ok;			/* RCPT commands accepted */
	char *first_rcpt;		/* first accepted, as on the wire */
	struct htable *written;		/* recipient addresses in the file */
	enum queue_write_status write_status; /* of the last content write */
	struct sbuf *write_why;		/* its reason */
	bool bdat;			/* a BDAT message has started */
	struct data_limits limits;
	struct data_state bdat_state;
};

/* Verbs of smtpd_cmd.h, SMTPD_VERB_AUTH being the last. */
#define SMTPD_VERB_COUNT	(SMTPD_VERB_AUTH + 1)

/* Commands seen, for the "disconnect from" line. */
struct smtpd_count {
	unsigned long ok;
	unsigned long total;
};

struct smtpd_session {
	const struct smtpd_config *cfg;
	struct stream *stream;
	const char *service;		/* master.cf service name */
	const char *addr;		/* numeric client address */
	char *name;			/* verified client name or "unknown" */
	char *client;			/* "NAME[ADDR]", for log lines */
	char *helo;			/* HELO or EHLO argument; NULL: none */
	bool esmtp;			/* the client said EHLO */
	bool tls;			/* TLS is active */
	bool helo_required;		/* MAIL needs HELO or EHLO first */
	int ext;			/* SMTPD_CMD_EXT_* advertised */
	long errors;			/* error replies so far */
	bool quit;			/* the session is to end */
	const char *where;		/* the last command's verb, or
					 * "CONNECT", for log lines */
	char last_reply;		/* first digit of the last reply */
	struct smtpd_count counts[SMTPD_VERB_COUNT];	/* by verb */
	struct smtpd_txn txn;
	struct sbuf *line;		/* the command line */
	struct sbuf *reply;		/* the reply being sent */
	struct sbuf *scratch;		/* for handlers: reasons, text */
};

/* Serves the client on stream; returns when the session is over. */
void smtpd_session_run(const struct smtpd_config *cfg, struct stream *stream,
    const char *service, const char *addr);

/*
 * Ends the session after an input failure (the client went away, timed
 * out or broke TLS), which status describes: logs it, and on a timeout
 * tries to tell the client.
 */
void smtpd_session_lost(struct smtpd_session *s, enum line_status status);

#endif
