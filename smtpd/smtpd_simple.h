/*
 * smtpd_simple - the SMTP commands outside the mail transaction: HELO,
 * EHLO, RSET, NOOP, QUIT, VRFY, EXPN, HELP and AUTH
 *
 * HELO and EHLO reset the transaction (RFC 5321 4.1.4) and take an
 * argument of at most SMTPD_HELO_MAX octets (501 5.5.4 past it). EHLO
 * advertises PIPELINING, SIZE (with message_size_limit unless it is 0),
 * 8BITMIME, ENHANCEDSTATUSCODES, SMTPUTF8, DSN, CHUNKING and BINARYMIME,
 * and STARTTLS when TLS can be started; never AUTH, which has no service
 * behind it yet (AUTH gets 503 5.5.1, and MAIL's AUTH= parameter is
 * refused as not advertised).
 *
 * VRFY answers 252 2.0.0 without saying whether the user exists; EXPN
 * is refused (502 5.5.1), so neither discloses users or lists.
 */
#ifndef POSTERN_SMTPD_SIMPLE_H
#define POSTERN_SMTPD_SIMPLE_H

struct smtpd_cmd;
struct smtpd_session;

/* HELO or EHLO (cmd->verb says which). */
void smtpd_simple_hello(struct smtpd_session *s,
    const struct smtpd_cmd *cmd);
void smtpd_simple_rset(struct smtpd_session *s);
void smtpd_simple_noop(struct smtpd_session *s);
void smtpd_simple_quit(struct smtpd_session *s);
void smtpd_simple_vrfy(struct smtpd_session *s);
void smtpd_simple_expn(struct smtpd_session *s);
void smtpd_simple_help(struct smtpd_session *s);
void smtpd_simple_auth(struct smtpd_session *s);

#endif
