/*
 * smtpd_received - the Received: header smtpd puts in front of a message
 *
 * The header has the form of RFC 5321 4.4, one clause per line:
 *
 *	Received: from HELO (NAME [ADDR])
 *		by MYHOSTNAME (MAIL_NAME) with PROTOCOL id QUEUEID
 *		(TLS details)			only when TLS is in use
 *		for <RCPT>; DATE		"for" only with one recipient
 *
 * HELO is the client's HELO or EHLO argument, or its name when it gave
 * none; NAME is its verified host name or "unknown"; an IPv6 ADDR gets
 * the "IPv6:" tag of an address literal. PROTOCOL is one of the "with"
 * names of RFC 3848 and RFC 6531 (smtpd_received_with()). DATE is an RFC
 * 5322 date-time in the local time zone. Lines end in a bare LF, as the
 * stored content does.
 *
 * Errors: none; the text is built from what smtpd already checked (the
 * HELO argument is printable ASCII, addresses have no control
 * characters).
 */
#ifndef POSTERN_SMTPD_RECEIVED_H
#define POSTERN_SMTPD_RECEIVED_H

#include <stdbool.h>
#include <time.h>

struct sbuf;

/* What goes into the header; optional fields may be NULL. */
struct smtpd_received {
	const char *helo;	/* optional: HELO or EHLO argument */
	const char *client_name;	/* verified name or "unknown" */
	const char *client_addr;	/* numeric address */
	const char *by;		/* myhostname */
	const char *mail_name;	/* mail_name, e.g. "Postern" */
	const char *with;	/* from smtpd_received_with() */
	const char *queue_id;
	const char *tls;	/* optional: tls_info_describe() text */
	const char *rcpt;	/* optional: the only recipient, as it
				 * goes on the wire (no brackets) */
	time_t when;
};

/*
 * The protocol name of a session: ESMTP after EHLO, ESMTPS under TLS,
 * and UTF8SMTP or UTF8SMTPS instead for a transaction that used SMTPUTF8;
 * SMTP after HELO, with or without TLS (RFC 3848 names no TLS form of
 * plain SMTP).
 */
const char *smtpd_received_with(bool esmtp, bool tls, bool smtputf8);

/* Replaces out's content with the header, ending in LF. */
void smtpd_received_format(const struct smtpd_received *r,
    struct sbuf *out);

#endif
