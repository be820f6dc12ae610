/*
 * smtpd_txn - a mail transaction's queue file: opening it, recipients,
 * content, and throwing it away
 *
 * The queue file is opened when the first recipient is accepted, so a
 * transaction whose recipients are all refused leaves no trace on disk;
 * its queue id is then logged as "QUEUEID: client=NAME[ADDR]". The
 * envelope comes from the session (protocol, client, HELO) and the MAIL
 * command (sender, DSN RET and ENVID, body type, SMTPUTF8).
 *
 * A recipient address written twice to one file would be delivered
 * twice: smtpd_txn_add_rcpt() writes each address once.
 *
 * Errors: queue_write_status values with a reason, for the caller to
 * reply and log; nothing here logs but the client= line.
 */
#ifndef POSTERN_SMTPD_TXN_H
#define POSTERN_SMTPD_TXN_H

#include <stdbool.h>
#include <stddef.h>

#include "mail/queue_file.h"

struct sbuf;
struct smtpd_session;
struct smtpd_txn;

/* Makes t an empty transaction. */
void smtpd_txn_init(struct smtpd_txn *t);
/*
 * Ends the transaction, whatever state it is in: an uncommitted queue
 * file is removed. t is empty again afterwards.
 */
void smtpd_txn_reset(struct smtpd_txn *t);
/* Resets t and frees what smtpd_txn_init() made. */
void smtpd_txn_free(struct smtpd_txn *t);

/*
 * Opens the queue file of s's transaction (MAIL given, no file yet) and
 * writes its envelope. QUEUE_WRITE_OK, or NOSPACE or ERROR with a reason
 * in why and no file.
 */
enum queue_write_status smtpd_txn_open(struct smtpd_session *s,
    struct sbuf *why);

/*
 * Whether count more recipient addresses can still go into the file
 * (QUEUE_RCPT_MAX).
 */
bool smtpd_txn_room(const struct smtpd_txn *t, size_t count);

/*
 * Writes a recipient to the open file unless its address is there
 * already. 0, or -1 with a reason in why.
 */
int smtpd_txn_add_rcpt(struct smtpd_txn *t, const struct queue_rcpt *rcpt,
    struct sbuf *why);

/*
 * The data_sink_fn of smtpd_data (ctx: the struct smtpd_txn): writes
 * content to the queue file and keeps the status and reason of a
 * failure in the transaction. Once a write failed, every later call
 * fails at once.
 */
int smtpd_txn_sink(void *ctx, const char *bytes, size_t len);

#endif
