/*
 * smtpd_message - the message commands: DATA and BDAT (RFC 3030)
 *
 * BDAT is taken after HELO too: a client that sends it knows it. Both
 * need a transaction with at least one accepted recipient (503
 * 5.5.1 "need MAIL command" or "need RCPT command", 554 5.5.1 "no valid
 * recipients" when every RCPT was refused); BODY=BINARYMIME needs BDAT.
 * The queue file gets a Received: header (smtpd_received.h), then the
 * content as smtpd_data stores it, under message_size_limit and
 * hopcount_limit. Only when queue_writer_commit() has put the file on
 * stable storage does the client get "250 2.0.0 Ok: queued as ID"; then
 * qmgr is woken through public/qmgr (a failure there is only a warning:
 * qmgr also scans incoming/ on its timer).
 *
 * Replies to a message that was not queued: 552 5.3.4 too big, 554
 * 5.4.6 too many hops, 500 5.5.2 a line too long, 452 4.3.1 no space
 * for the queue file, 451 4.3.0 any other queue file failure. Every end
 * of the message, good or bad, ends the transaction.
 *
 * BDAT chunks that cannot be taken (no transaction, no recipients, a
 * message that already failed) are still read and thrown away, so the
 * session stays in step with the client. Bare LF line endings and bare
 * CRs in a message are logged with their counts.
 */
#ifndef POSTERN_SMTPD_MESSAGE_H
#define POSTERN_SMTPD_MESSAGE_H

struct smtpd_cmd;
struct smtpd_session;

void smtpd_message_data(struct smtpd_session *s);
void smtpd_message_bdat(struct smtpd_session *s, const struct smtpd_cmd *cmd);

#endif
