/*
 * smtpd_reply - send a reply to the SMTP client
 *
 * Every reply of smtpd goes through smtpd_reply(), which keeps the error
 * count of the session (see smtpd_session.h): a reply whose code starts
 * with 4 or 5, other than a 421 that ends the session, is an error, and
 * once the count passes smtpd_soft_error_limit the reply waits
 * smtpd_error_sleep_time before it is sent. Replies are buffered; the
 * stream sends them when the session next waits for input, so the
 * replies to pipelined commands leave in one write.
 *
 * Errors: a failed write shows on the stream; the next read fails and
 * ends the session.
 */
#ifndef POSTERN_SMTPD_REPLY_H
#define POSTERN_SMTPD_REPLY_H

struct smtpd_session;

/*
 * Sends one reply line, formatted, with CRLF added. The text must be a
 * complete reply line: "250 2.0.0 Ok", or "250-..." for a line of a
 * multi-line reply.
 */
void smtpd_reply(struct smtpd_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
