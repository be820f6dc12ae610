/*
 * smtpd_mail - the envelope commands: MAIL and RCPT
 *
 * MAIL starts a transaction: it needs HELO or EHLO first when
 * smtpd_helo_required is set or the session just started TLS, TLS first
 * at smtpd_tls_security_level encrypt, no transaction in progress, and a
 * SIZE= within message_size_limit (552 5.3.4).
 *
 * RCPT, in this order: a transaction (503 5.5.1), room for one more
 * recipient (smtpd_recipient_limit: 452 4.5.3), relay control
 * (smtpd_relay.h: 554 5.7.1 or 454 4.7.1 "Relay access denied"), then
 * virtual alias expansion and, for an address with no alias,
 * smtpd_reject_unlisted_recipient (550 5.1.1 "User unknown in local
 * recipient table" or "... in virtual mailbox table"); a table that
 * fails gives 451 4.3.0. The queue file gets the expansion's results;
 * their ORCPT is the one the client gave, else "rfc822;" and the address
 * the client gave when the expansion changed it. A <Postmaster> without
 * domain (RFC 5321 4.1.1.3) is postmaster@myhostname.
 *
 * Refused recipients are logged as "NOQUEUE: reject: RCPT from
 * NAME[ADDR]: REPLY; from=<S> to=<R> proto=P helo=<H>" (the queue id
 * instead of NOQUEUE once the file is open).
 */
#ifndef POSTERN_SMTPD_MAIL_H
#define POSTERN_SMTPD_MAIL_H

struct smtpd_cmd;
struct smtpd_session;

/* MAIL FROM; takes *cmd into the transaction when it is accepted. */
void smtpd_mail_from(struct smtpd_session *s, struct smtpd_cmd **cmd);
/* RCPT TO. */
void smtpd_mail_rcpt(struct smtpd_session *s, struct smtpd_cmd *cmd);

#endif
