/*
 * smtpd_txn - a mail transaction's queue file: opening it, recipients,
 * content, and throwing it away
 *
 * Errors: returned with a reason; the queue writer removes its file on
 * any write failure, and smtpd_txn_reset() on any other end.
 * Trust: everything written was checked by smtpd_cmd and addr, and the
 * queue writer checks it again.
 */
#include "smtpd_txn.h"

#include <stdlib.h>
#include <string.h>

#include "mail/params.h"
#include "smtpd_session.h"
#include "util/htable.h"
#include "util/msg.h"
#include "util/sbuf.h"
#include "util/xmalloc.h"

void
smtpd_txn_init(struct smtpd_txn *t)
{
	memset(t, 0, sizeof(*t));
	t->write_why = sbuf_new();
}

void
smtpd_txn_reset(struct smtpd_txn *t)
{
	struct sbuf *why = t->write_why;

	smtpd_cmd_free(&t->mail);
	free(t->sender);
	queue_writer_abort(&t->writer);
	free(t->queue_id);
	free(t->first_rcpt);
	htable_free(&t->written, NULL);
	memset(t, 0, sizeof(*t));
	sbuf_reset(why);
	t->write_why = why;
}

void
smtpd_txn_free(struct smtpd_txn *t)
{
	smtpd_txn_reset(t);
	sbuf_free(&t->write_why);
}

/* The queue file's protocol record for the session. */
static enum queue_proto
smtpd_txn_proto(const struct smtpd_session *s)
{
	if (!s->esmtp)
		return QUEUE_PROTO_SMTP;
	return s->tls ? QUEUE_PROTO_ESMTPS : QUEUE_PROTO_ESMTP;
}

static enum queue_body
smtpd_txn_body(enum smtpd_body body)
{
	switch (body) {
	case SMTPD_BODY_8BITMIME:
		return QUEUE_BODY_8BITMIME;
	case SMTPD_BODY_BINARYMIME:
		return QUEUE_BODY_BINARYMIME;
	case SMTPD_BODY_NONE:
	case SMTPD_BODY_7BIT:
		break;
	}
	return QUEUE_BODY_7BIT;
}

static enum queue_ret
smtpd_txn_ret(enum smtpd_ret ret)
{
	switch (ret) {
	case SMTPD_RET_FULL:
		return QUEUE_RET_FULL;
	case SMTPD_RET_HDRS:
		return QUEUE_RET_HDRS;
	case SMTPD_RET_NONE:
		break;
	}
	return QUEUE_RET_NONE;
}

enum queue_write_status
smtpd_txn_open(struct smtpd_session *s, struct sbuf *why)
{
	struct smtpd_txn *t = &s->txn;
	const struct smtpd_cmd *mail = t->mail;
	struct queue_envelope env = {
		.sender = t->sender,
		.proto = smtpd_txn_proto(s),
		.client_addr = s->addr,
		.client_name = strcmp(s->name, "unknown") == 0 ? NULL :
		    s->name,
		.helo = s->helo,
		.envid = mail->mail.envid,
		.ret = smtpd_txn_ret(mail->mail.ret),
		.body = smtpd_txn_body(mail->mail.body),
		.smtputf8 = mail->mail.smtputf8,
	};
	enum queue_write_status st;

	st = queue_writer_open(s->cfg->p->queue_directory, &t->writer, why);
	if (st != QUEUE_WRITE_OK)
		return st;
	if (queue_writer_envelope(t->writer, &env, why) < 0) {
		queue_writer_abort(&t->writer);
		return QUEUE_WRITE_ERROR;
	}
	t->queue_id = xstrdup(queue_writer_id(t->writer));
	t->written = htable_new();
	msg_info("%s: client=%s", t->queue_id, s->client);
	return QUEUE_WRITE_OK;
}

bool
smtpd_txn_room(const struct smtpd_txn *t, size_t count)
{
	size_t used = t->written != NULL ? htable_size(t->written) : 0;

	return count <= QUEUE_RCPT_MAX - used;
}

int
smtpd_txn_add_rcpt(struct smtpd_txn *t, const struct queue_rcpt *rcpt,
    struct sbuf *why)
{
	if (htable_find(t->written, rcpt->address) != NULL)
		return 0;
	if (queue_writer_add_rcpt(t->writer, rcpt, why) < 0)
		return -1;
	htable_insert(t->written, rcpt->address, t);
	return 0;
}

int
smtpd_txn_sink(void *ctx, const char *bytes, size_t len)
{
	struct smtpd_txn *t = ctx;

	if (t->write_status == QUEUE_WRITE_OK)
		t->write_status = queue_writer_write(t->writer, bytes, len,
		    t->write_why);
	return t->write_status == QUEUE_WRITE_OK ? 0 : -1;
}
