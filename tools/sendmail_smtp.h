/*
 * sendmail_smtp - sendmail -bs: an SMTP dialogue on stdin and stdout
 *
 * For programs that speak SMTP to a local sendmail: HELO, EHLO, MAIL,
 * RCPT, DATA, RSET, NOOP, VRFY (252) and QUIT; each message is injected
 * as sendmail injects one (sendmail_inject.h) when its DATA ends, and the
 * reply tells whether it is safe in maildrop/. ESMTP parameters of MAIL
 * and RCPT are accepted and ignored. Lines end in CRLF or LF.
 */
#ifndef POSTERN_SENDMAIL_SMTP_H
#define POSTERN_SENDMAIL_SMTP_H

struct inject;

/* Runs the dialogue until QUIT or end of input; a <sysexits.h> status. */
int smtp_dialogue(const struct inject *in);

#endif
