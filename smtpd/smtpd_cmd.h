/*
 * smtpd_cmd - parse one SMTP command line into a verb and its arguments
 *
 * smtpd_cmd_parse() takes a command line as the reader received it,
 * without its CRLF, and returns the verb (HELO, EHLO, MAIL, RCPT, DATA,
 * BDAT, RSET, NOOP, QUIT, VRFY, EXPN, HELP, STARTTLS, AUTH) with its
 * arguments checked and decoded (RFC 5321; SIZE, RFC 1870; BODY, RFC 6152
 * and 3030; BDAT, RFC 3030; SMTPUTF8, RFC 6531; DSN, RFC 3461 and 6533;
 * AUTH, RFC 4954), or the reply that smtpd sends for a line that does not
 * parse. It knows nothing of the session: whether a command is allowed
 * now, and every policy (size limits, HELO checks, which AUTH mechanisms
 * exist, BODY=BINARYMIME only with BDAT), is the caller's.
 *
 * What is accepted:
 *   - The verb in any case, then one or more SP before the arguments, as
 *     Postfix does; spaces and tabs at the end of the line are ignored.
 *     Nothing may precede the verb.
 *   - "MAIL FROM:" and "RCPT TO:" in any case, with or without spaces
 *     after the colon ("MAIL FROM: <a@example.com>", as many clients send
 *     it, and as Postfix accepts), none before it. The path must be in
 *     angle brackets; one or more SP separate it and each parameter.
 *   - A NUL byte anywhere, or a control character other than HT, fails
 *     the whole line, never cuts it short. HT and 8-bit bytes are kept in
 *     the free text of VRFY and EXPN (and ignored in that of NOOP and
 *     HELP); 8-bit bytes are also allowed where SMTPUTF8 allows them
 *     (paths, ORCPT=utf-8). Anywhere else they fail the field they are in.
 *   - HELO and EHLO take any non-empty printable ASCII text, spaces
 *     included, like Postfix by default (which also takes 8-bit text; here
 *     it would reach Received: headers); is_domain tells whether it is a
 *     domain or an address literal, for a policy to use.
 *   - A MAIL or RCPT parameter of an extension that flags does not name
 *     as advertised is refused as unsupported (RFC 5321 4.1.1.11), as
 *     is a keyword this parser does not know; a parameter given twice is
 *     an error.
 *   - SIZE= takes 1 to 20 digits, BDAT any number; a value past
 *     ULLONG_MAX is an error. After a BDAT line that does not parse, the
 *     length of the chunk that follows is unknown: the caller cannot skip
 *     it and should end the session after the reply.
 *   - xtext (ENVID=, AUTH=, ORCPT=) takes "+HH" with hex digits in either
 *     case, as Postfix does. ENVID= may be 100 and ORCPT= 500 octets long
 *     as sent (RFC 3461 4.4, 4.2).
 *
 * The line may have any length; the reader enforces the maximum.
 */
#ifndef POSTERN_SMTPD_CMD_H
#define POSTERN_SMTPD_CMD_H

#include <stdbool.h>
#include <stddef.h>

struct addr;
struct sbuf;

enum smtpd_verb {
	SMTPD_VERB_UNKNOWN,
	SMTPD_VERB_HELO,
	SMTPD_VERB_EHLO,
	SMTPD_VERB_MAIL,
	SMTPD_VERB_RCPT,
	SMTPD_VERB_DATA,
	SMTPD_VERB_BDAT,
	SMTPD_VERB_RSET,
	SMTPD_VERB_NOOP,
	SMTPD_VERB_QUIT,
	SMTPD_VERB_VRFY,
	SMTPD_VERB_EXPN,
	SMTPD_VERB_HELP,
	SMTPD_VERB_STARTTLS,
	SMTPD_VERB_AUTH,
};

/*
 * Flags of smtpd_cmd_parse(): the extensions advertised in the reply to
 * EHLO (none after HELO), whose MAIL and RCPT parameters are accepted:
 * SIZE		SIZE=
 * 8BITMIME	BODY=7BIT, BODY=8BITMIME
 * BINARYMIME	BODY=7BIT, BODY=BINARYMIME (advertised with CHUNKING)
 * SMTPUTF8	SMTPUTF8, and UTF-8 in the MAIL path it comes with
 * DSN		RET=, ENVID= (MAIL); NOTIFY=, ORCPT= (RCPT)
 * AUTH		AUTH= (MAIL)
 * and the state of the transaction:
 * TXN_SMTPUTF8	its MAIL FROM carried SMTPUTF8, so RCPT paths and
 *		ORCPT=utf-8 values may hold UTF-8
 */
#define SMTPD_CMD_EXT_SIZE		(1 << 0)
#define SMTPD_CMD_EXT_8BITMIME		(1 << 1)
#define SMTPD_CMD_EXT_BINARYMIME	(1 << 2)
#define SMTPD_CMD_EXT_SMTPUTF8		(1 << 3)
#define SMTPD_CMD_EXT_DSN		(1 << 4)
#define SMTPD_CMD_EXT_AUTH		(1 << 5)
#define SMTPD_CMD_TXN_SMTPUTF8		(1 << 6)

/* BODY= of MAIL. */
enum smtpd_body {
	SMTPD_BODY_NONE,		/* no BODY parameter */
	SMTPD_BODY_7BIT,
	SMTPD_BODY_8BITMIME,
	SMTPD_BODY_BINARYMIME,
};

/* RET= of MAIL. */
enum smtpd_ret {
	SMTPD_RET_NONE,			/* no RET parameter */
	SMTPD_RET_FULL,
	SMTPD_RET_HDRS,
};

/* NOTIFY= of RCPT: NEVER alone, or any of the others. */
#define SMTPD_NOTIFY_NEVER	(1 << 0)
#define SMTPD_NOTIFY_SUCCESS	(1 << 1)
#define SMTPD_NOTIFY_FAILURE	(1 << 2)
#define SMTPD_NOTIFY_DELAY	(1 << 3)

/*
 * A parsed command. It owns every string and the path. Fields of other
 * verbs than its own are zero (NULL, false, 0, *_NONE).
 */
struct smtpd_cmd {
	enum smtpd_verb verb;
	struct addr *path;	/* MAIL, RCPT: local "" for <> */
	char *arg;		/* VRFY, EXPN: the argument as sent */
	struct {
		char *name;	/* the argument as sent */
		bool is_domain;	/* a domain or an address literal */
	} helo;			/* HELO, EHLO */
	struct {
		bool has_size;
		unsigned long long size; /* SIZE=, when has_size */
		enum smtpd_body body;
		bool smtputf8;	/* SMTPUTF8 */
		enum smtpd_ret ret;
		char *envid;	/* ENVID=, decoded; NULL when absent */
		char *auth;	/* AUTH=, as sent (xtext or "<>") */
	} mail;
	struct {
		int notify;	/* SMTPD_NOTIFY_*; 0 when absent */
		char *orcpt_type; /* ORCPT= addr-type, lower case */
		char *orcpt;	/* ORCPT= address, decoded */
	} rcpt;
	struct {
		unsigned long long size; /* chunk size */
		bool last;
	} bdat;
	struct {
		char *mech;	/* mechanism, upper case */
		char *initial;	/* initial response as sent ("=" for
				 * empty), not decoded; NULL if none */
	} auth;
};

/*
 * Why a line did not parse: what smtpd replies, as "code status text".
 * text is the caller's buffer (from sbuf_new()), whose content the parser
 * replaces; it is printable ASCII of at most a few dozen characters.
 */
struct smtpd_cmd_error {
	enum smtpd_verb verb;	/* the verb, if one was recognised */
	int code;		/* 500, 501, 553 or 555 */
	const char *status;	/* RFC 3463 enhanced code ("5.5.4") */
	struct sbuf *text;
};

/*
 * Parses the len bytes of line (no CRLF; it may hold any bytes) under
 * flags. Returns 0 and a new command in *cmd_r; or -1 with err filled in
 * and *cmd_r untouched. The replies, besides the address reasons that
 * addr_parse() gives after "Bad sender address syntax: " (5.1.7) or
 * "Bad recipient address syntax: " (5.1.3):
 * 500 5.5.2	unknown verb, empty line, NUL byte, control character
 * 501 5.5.4	"Syntax: ..." for the verb; a bad value of a parameter
 * 501 5.5.2	initial response of AUTH not base64
 * 553 5.6.7	UTF-8 in a path without SMTPUTF8 (RFC 6531 3.5)
 * 555 5.5.4	a parameter not supported or not advertised
 */
int smtpd_cmd_parse(const char *line, size_t len, int flags,
    struct smtpd_cmd **cmd_r, struct smtpd_cmd_error *err);

/* Frees *cmd and everything it owns, and sets *cmd to NULL; accepts NULL. */
void smtpd_cmd_free(struct smtpd_cmd **cmd);

/* The verb in upper case ("MAIL"); "UNKNOWN" for SMTPD_VERB_UNKNOWN. */
const char *smtpd_verb_name(enum smtpd_verb verb);

#endif
