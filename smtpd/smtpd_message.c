/*
 * smtpd_message - the message commands: DATA and BDAT (RFC 3030)
 *
 * Errors: every failure is a reply; queue file failures are also logged
 * with their reason. An input failure in the middle of a message ends
 * the session with the queue file removed.
 * Trust: content is hostile and only passes through smtpd_data to the
 * queue writer; nothing of it is interpreted here.
 */
#include "smtpd_message.h"

#include <stdint.h>
#include <time.h>

#include "mail/master_proto.h"
#include "mail/params.h"
#include "smtpd_received.h"
#include "smtpd_reply.h"
#include "smtpd_session.h"
#include "smtpd_txn.h"
#include "util/msg.h"
#include "util/sbuf.h"
#include "util/stream.h"
#include "util/tls.h"
#include "util/unix_sock.h"

/* Replies to a queue file failure of the transaction and logs it. */
static void
smtpd_message_queue_failed(struct smtpd_session *s,
    enum queue_write_status st, const char *why)
{
	switch (st) {
	case QUEUE_WRITE_OK:
		break;
	case QUEUE_WRITE_NOSPACE:
		msg_warn("%s: %s", s->txn.queue_id, why);
		smtpd_reply(s, "452 4.3.1 Insufficient system storage");
		break;
	case QUEUE_WRITE_ERROR:
		msg_warn("%s: %s", s->txn.queue_id, why);
		smtpd_reply(s, "451 4.3.0 Error: queue file write error");
		break;
	case QUEUE_WRITE_TOOBIG:
		smtpd_reply(s, "552 5.3.4 Message size exceeds fixed limit");
		break;
	}
}

/*
 * Checks that a message may start now; replies and returns false when
 * it may not.
 */
static bool
smtpd_message_allowed(struct smtpd_session *s)
{
	const struct smtpd_txn *t = &s->txn;

	if (t->mail == NULL)
		smtpd_reply(s, "503 5.5.1 Error: need MAIL command");
	else if (t->rcpt_ok == 0 && t->rcpt_tried > 0)
		smtpd_reply(s, "554 5.5.1 Error: no valid recipients");
	else if (t->rcpt_ok == 0)
		smtpd_reply(s, "503 5.5.1 Error: need RCPT command");
	else
		return true;
	return false;
}

/*
 * Sets the limits and writes the Received: header; a failure stays in
 * the transaction's write status.
 */
static void
smtpd_message_begin(struct smtpd_session *s)
{
	struct smtpd_txn *t = &s->txn;
	const struct params *p = s->cfg->p;
	struct sbuf *tls = NULL, *header = sbuf_new();
	struct smtpd_received r = {
		.helo = s->helo,
		.client_name = s->name,
		.client_addr = s->addr,
		.by = p->myhostname,
		.mail_name = p->mail_name,
		.with = smtpd_received_with(s->esmtp, s->tls,
		    t->mail->mail.smtputf8),
		.queue_id = t->queue_id,
		.rcpt = t->rcpt_ok == 1 ? t->first_rcpt : NULL,
		.when = time(NULL),
	};

	t->limits.line_max = SMTPD_DATA_LINE_MAX;
	t->limits.size_max = s->cfg->size_limit;
	t->limits.hop_max = (size_t)p->hopcount_limit;
	if (s->tls) {
		tls = sbuf_new();
		tls_info_describe(stream_tls_info(s->stream), tls);
		r.tls = sbuf_str(tls);
	}
	smtpd_received_format(&r, header);
	smtpd_txn_sink(t, sbuf_str(header), sbuf_len(header));
	sbuf_free(&header);
	sbuf_free(&tls);
}

/* Commits the queue file and replies; wakes qmgr. */
static void
smtpd_message_commit(struct smtpd_session *s)
{
	struct smtpd_txn *t = &s->txn;
	enum queue_write_status st;

	sbuf_reset(s->scratch);
	st = queue_writer_commit(&t->writer, s->scratch);
	if (st != QUEUE_WRITE_OK) {
		smtpd_message_queue_failed(s, st, sbuf_str(s->scratch));
		return;
	}
	smtpd_reply(s, "250 2.0.0 Ok: queued as %s", t->queue_id);
	sbuf_reset(s->scratch);
	if (trigger_send(s->cfg->qmgr_trigger, MASTER_TRIGGER_WAKEUP,
	    s->scratch) < 0)
		msg_warn("%s: cannot wake qmgr: %s", t->queue_id,
		    sbuf_str(s->scratch));
}

/* The line_status of an input failure, for smtpd_session_lost(). */
static enum line_status
smtpd_message_input_status(enum data_status st)
{
	switch (st) {
	case DATA_EOF:
		return LINE_EOF;
	case DATA_TIMEOUT:
		return LINE_TIMEOUT;
	case DATA_OK:
	case DATA_LINE_TOO_LONG:
	case DATA_TOO_BIG:
	case DATA_TOO_MANY_HOPS:
	case DATA_SINK_FAILED:
	case DATA_IO_ERROR:
		break;
	}
	return LINE_ERROR;
}

/*
 * Ends the message that reading left in status st with counts res:
 * replies, logs what is worth it, and ends the transaction.
 */
static void
smtpd_message_end(struct smtpd_session *s, enum data_status st,
    const struct data_result *res)
{
	struct smtpd_txn *t = &s->txn;

	if (res->bare_lf > 0 || res->bare_cr > 0)
		msg_info("%s: message from %s has %zu bare LF line endings "
		    "and %zu bare CRs", t->queue_id, s->client, res->bare_lf,
		    res->bare_cr);
	switch (st) {
	case DATA_OK:
		smtpd_message_commit(s);
		break;
	case DATA_LINE_TOO_LONG:
		smtpd_reply(s, "500 5.5.2 Error: message line too long");
		break;
	case DATA_TOO_BIG:
		smtpd_reply(s, "552 5.3.4 Message size exceeds fixed limit");
		break;
	case DATA_TOO_MANY_HOPS:
		msg_info("%s: reject: too many hops (%zu Received: headers) "
		    "from %s", t->queue_id, res->received, s->client);
		smtpd_reply(s, "554 5.4.6 Too many hops");
		break;
	case DATA_SINK_FAILED:
		smtpd_message_queue_failed(s, t->write_status,
		    sbuf_str(t->write_why));
		break;
	case DATA_EOF:
	case DATA_TIMEOUT:
	case DATA_IO_ERROR:
		smtpd_session_lost(s, smtpd_message_input_status(st));
		break;
	}
	smtpd_txn_reset(t);
}

void
smtpd_message_data(struct smtpd_session *s)
{
	struct smtpd_txn *t = &s->txn;
	struct data_result res;
	enum data_status st;

	if (!smtpd_message_allowed(s))
		return;
	if (t->bdat) {
		smtpd_reply(s, "503 5.5.1 Error: DATA after BDAT");
		return;
	}
	if (t->mail->mail.body == SMTPD_BODY_BINARYMIME) {
		smtpd_reply(s, "503 5.5.1 Error: BODY=BINARYMIME requires "
		    "BDAT");
		return;
	}
	smtpd_message_begin(s);
	if (t->write_status != QUEUE_WRITE_OK) {
		smtpd_message_queue_failed(s, t->write_status,
		    sbuf_str(t->write_why));
		smtpd_txn_reset(t);
		return;
	}
	smtpd_reply(s, "354 End data with <CR><LF>.<CR><LF>");
	st = smtpd_data_read(s->stream, &t->limits, smtpd_txn_sink, t, &res);
	smtpd_message_end(s, st, &res);
}

/* The sink of a chunk that is read only to be thrown away. */
static int
smtpd_message_discard(void *ctx, const char *bytes, size_t len)
{
	(void)ctx;
	(void)bytes;
	(void)len;
	return 0;
}

/*
 * Reads and throws away a chunk of size octets; false when the session
 * is over.
 */
static bool
smtpd_bdat_skip(struct smtpd_session *s, size_t size)
{
	const struct data_limits lim = { 1, SIZE_MAX, SIZE_MAX };
	struct data_state st;
	enum data_status status;

	smtpd_bdat_begin(&st, &lim, smtpd_message_discard, NULL);
	status = smtpd_bdat_read(s->stream, size, true, &st);
	if (status == DATA_OK)
		return true;
	smtpd_session_lost(s, smtpd_message_input_status(status));
	return false;
}

void
smtpd_message_bdat(struct smtpd_session *s, const struct smtpd_cmd *cmd)
{
	struct smtpd_txn *t = &s->txn;
	size_t size = (size_t)cmd->bdat.size;
	enum data_status st;

	if (cmd->bdat.size > SIZE_MAX) {
		smtpd_reply(s, "552 5.3.4 Chunk size exceeds fixed limit");
		s->quit = true;
		return;
	}
	if (t->mail == NULL || t->rcpt_ok == 0) {
		if (smtpd_bdat_skip(s, size))
			smtpd_message_allowed(s);
		return;
	}
	if (!t->bdat) {
		smtpd_message_begin(s);
		smtpd_bdat_begin(&t->bdat_state, &t->limits, smtpd_txn_sink, t);
		t->bdat = true;
	}
	st = smtpd_bdat_read(s->stream, size, cmd->bdat.last, &t->bdat_state);
	if (st == DATA_OK && !cmd->bdat.last)
		smtpd_reply(s, "250 2.0.0 Ok: %zu octets", size);
	else
		smtpd_message_end(s, st, &t->bdat_state.res);
}
