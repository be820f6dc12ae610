/*
 * smtp_trans - one message over an open session: MAIL, RCPT, DATA or BDAT
 *
 * Errors: results per recipient in the job; a broken session is -1 with
 * a reason. Trust: the server is untrusted (smtp_reply.c bounds what it
 * says); the queue file was checked when it was opened.
 */
#include "smtp_trans.h"

#include <stdlib.h>
#include <string.h>

#include "mail/addr.h"
#include "mail/deliver_req.h"
#include "mail/params.h"
#include "mail/queue_file.h"
#include "smtp_bdat.h"
#include "smtp_reply.h"
#include "smtp_session.h"
#include "util/msg.h"
#include "util/sbuf.h"
#include "util/stream.h"
#include "util/xmalloc.h"

#define SMTP_CONTENT_CHUNK	8192

/* The commands of one transaction. */
enum smtp_cmd_kind {
	SMTP_CMD_MAIL,
	SMTP_CMD_RCPT,
	SMTP_CMD_DATA
};

struct smtp_cmd {
	enum smtp_cmd_kind kind;
	size_t rcpt;		/* RCPT: index into the request */
	char *text;
};

/* Appends the RFC 3461 xtext form of s to out. */
static void
smtp_xtext(const char *s, struct sbuf *out)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 33 || *p > 126 || *p == '+' || *p == '=')
			sbuf_printf(out, "+%02X", *p);
		else
			sbuf_catc(out, *p);
	}
}

/* Sets the result of request recipient i. */
static void
smtp_decide(struct smtp_job *job, const struct smtp_session *s, size_t i,
    enum deliver_status status, const char *dsn, const char *reason,
    const char *diag)
{
	if (job->decided[i])
		return;
	deliver_result_set(&job->reply->results[i], job->req->rcpts[i], status,
	    dsn, reason, s->label, diag, s->name);
	job->decided[i] = true;
	job->undecided--;
}

/* Decides every undecided recipient the same way. */
static void
smtp_decide_all(struct smtp_job *job, const struct smtp_session *s,
    enum deliver_status status, const char *dsn, const char *reason,
    const char *diag)
{
	for (size_t i = 0; i < job->req->rcpt_count; i++)
		smtp_decide(job, s, i, status, dsn, reason, diag);
}

void
smtp_trans_decide_reply(struct smtp_job *job, const struct smtp_session *s,
    size_t i, const struct smtp_reply *r, const char *what)
{
	struct sbuf *reason = sbuf_new();

	smtp_session_said(s, r, what, reason);
	smtp_decide(job, s, i, r->code / 100 == 5 ? DELIVER_BOUNCED :
	    DELIVER_DEFERRED, r->dsn, sbuf_str(reason), sbuf_str(r->text));
	sbuf_free(&reason);
}

/* Appends the external form of an internal address to out. */
static void
smtp_quote_addr(const char *internal, struct sbuf *out)
{
	const char *at = addr_split_internal(internal);
	char *local;

	local = at != NULL ? xstrndup(internal, (size_t)(at - internal)) :
	    xstrdup(internal);
	(void)addr_quote(local, at != NULL ? at + 1 : NULL, out);
	free(local);
}

/* The octets the content takes on the wire (SIZE=). */
static uint64_t
smtp_wire_size(const struct smtp_job *job)
{
	bool binary = job->qf->env.body == QUEUE_BODY_BINARYMIME;

	return job->scan.wire_size + (binary ? job->scan.bare_cr : 0);
}

/* Bounces the message before MAIL when the server cannot take it; true
 * when it did. */
static bool
smtp_trans_refuse(struct smtp_job *job, const struct smtp_session *s)
{
	const struct queue_envelope *env = &job->qf->env;
	struct sbuf *reason = sbuf_new();
	const char *dsn = NULL;

	if ((s->ehlo.ext & SMTP_EXT_SIZE) && s->ehlo.size > 0 &&
	    smtp_wire_size(job) > s->ehlo.size) {
		sbuf_setf(reason, "message size %llu exceeds size limit %llu "
		    "of server %s[%s]",
		    (unsigned long long)smtp_wire_size(job), s->ehlo.size,
		    s->name, s->addr);
		dsn = "5.3.4";
	} else if (env->body == QUEUE_BODY_BINARYMIME) {
		if ((s->ehlo.ext & (SMTP_EXT_CHUNKING | SMTP_EXT_BINARYMIME)) !=
		    (SMTP_EXT_CHUNKING | SMTP_EXT_BINARYMIME)) {
			sbuf_setf(reason, "message has binary content, but "
			    "server %s[%s] does not support BINARYMIME and "
			    "CHUNKING", s->name, s->addr);
			dsn = "5.6.3";
		}
	} else if (job->scan.has_8bit && !(s->ehlo.ext & SMTP_EXT_8BITMIME)) {
		sbuf_setf(reason, "message has 8-bit content, but server "
		    "%s[%s] does not support 8BITMIME", s->name, s->addr);
		dsn = "5.6.3";
	} else if (env->smtputf8 && !(s->ehlo.ext & SMTP_EXT_SMTPUTF8)) {
		sbuf_setf(reason, "message requires SMTPUTF8, but server "
		    "%s[%s] does not support it", s->name, s->addr);
		dsn = "5.6.7";
	}
	if (dsn != NULL)
		smtp_decide_all(job, s, DELIVER_BOUNCED, dsn, sbuf_str(reason),
		    NULL);
	sbuf_free(&reason);
	return dsn != NULL;
}

/* The MAIL FROM command with its parameters. */
static char *
smtp_mail_cmd(const struct smtp_job *job, const struct smtp_session *s)
{
	const struct queue_envelope *env = &job->qf->env;
	struct sbuf *cmd = sbuf_new();
	char *text;

	sbuf_cat(cmd, "MAIL FROM:<");
	smtp_quote_addr(env->sender, cmd);
	sbuf_catc(cmd, '>');
	if (s->esmtp) {
		if (s->ehlo.ext & SMTP_EXT_SIZE)
			sbuf_printf(cmd, " SIZE=%llu",
			    (unsigned long long)smtp_wire_size(job));
		if (env->body == QUEUE_BODY_8BITMIME &&
		    (s->ehlo.ext & SMTP_EXT_8BITMIME))
			sbuf_cat(cmd, " BODY=8BITMIME");
		else if (env->body == QUEUE_BODY_BINARYMIME)
			sbuf_cat(cmd, " BODY=BINARYMIME");
		if (env->smtputf8)
			sbuf_cat(cmd, " SMTPUTF8");
		if (s->ehlo.ext & SMTP_EXT_DSN) {
			if (env->ret != QUEUE_RET_NONE)
				sbuf_cat(cmd, env->ret == QUEUE_RET_FULL ?
				    " RET=FULL" : " RET=HDRS");
			if (env->envid != NULL) {
				sbuf_cat(cmd, " ENVID=");
				smtp_xtext(env->envid, cmd);
			}
		}
	}
	text = sbuf_steal(cmd);
	sbuf_free(&cmd);
	return text;
}

/* The RCPT TO command for a queue file recipient. */
static char *
smtp_rcpt_cmd(const struct queue_rcpt *r, const struct smtp_session *s)
{
	struct sbuf *cmd = sbuf_new();
	const char *semi;
	char *text;

	sbuf_cat(cmd, "RCPT TO:<");
	smtp_quote_addr(r->address, cmd);
	sbuf_catc(cmd, '>');
	if (s->esmtp && (s->ehlo.ext & SMTP_EXT_DSN)) {
		if (r->notify & QUEUE_NOTIFY_NEVER) {
			sbuf_cat(cmd, " NOTIFY=NEVER");
		} else if (r->notify != 0) {
			const char *sep = " NOTIFY=";

			if (r->notify & QUEUE_NOTIFY_SUCCESS) {
				sbuf_printf(cmd, "%sSUCCESS", sep);
				sep = ",";
			}
			if (r->notify & QUEUE_NOTIFY_FAILURE) {
				sbuf_printf(cmd, "%sFAILURE", sep);
				sep = ",";
			}
			if (r->notify & QUEUE_NOTIFY_DELAY)
				sbuf_printf(cmd, "%sDELAY", sep);
		}
		if (r->orcpt != NULL &&
		    (semi = strchr(r->orcpt, ';')) != NULL) {
			sbuf_printf(cmd, " ORCPT=%.*s;",
			    (int)(semi - r->orcpt), r->orcpt);
			smtp_xtext(semi + 1, cmd);
		}
	}
	text = sbuf_steal(cmd);
	sbuf_free(&cmd);
	return text;
}

/* Sends the content and the final dot; 0, or -1 with a reason. */
static int
smtp_send_content(const struct smtp_env *env, struct smtp_session *s,
    struct smtp_job *job, struct sbuf *why)
{
	struct smtp_content_enc enc;
	struct sbuf *out = sbuf_new();
	char *buf = xmalloc(SMTP_CONTENT_CHUNK);
	off_t pos = 0;
	ssize_t n;
	int ret = -1;

	smtp_content_enc_init(&enc, SMTP_CONTENT_DATA);
	stream_set_timeout(s->stream, SMTP_MS(env->p->smtp_data_xfer_timeout));
	for (;;) {
		if ((n = queue_file_read(job->qf, pos, buf,
		    SMTP_CONTENT_CHUNK, why)) < 0)
			goto done;
		sbuf_reset(out);
		if (n == 0)
			smtp_content_finish(&enc, out);
		else
			smtp_content_encode(&enc, buf, (size_t)n, out);
		if (stream_write(s->stream, sbuf_str(out), sbuf_len(out)) < 0) {
			sbuf_setf(why, "%s with %s while sending message "
			    "content", stream_error(s->stream), s->label);
			goto done;
		}
		if (n == 0)
			break;
		pos += n;
	}
	ret = 0;
done:
	sbuf_free(&out);
	free(buf);
	return ret;
}

/* The time limit for the reply to a command. */
static long
smtp_cmd_timeout(const struct smtp_env *env, enum smtp_cmd_kind kind)
{
	switch (kind) {
	case SMTP_CMD_MAIL:
		return env->p->smtp_mail_timeout;
	case SMTP_CMD_RCPT:
		return env->p->smtp_rcpt_timeout;
	case SMTP_CMD_DATA:
		break;
	}
	return env->p->smtp_data_init_timeout;
}

/* Reads the reply to the final dot; 0, or -1 with a reason. */
static int
smtp_read_end(const struct smtp_env *env, struct smtp_session *s,
    struct smtp_reply *reply, struct sbuf *why)
{
	struct sbuf *err = sbuf_new();
	int ret = 0;

	stream_set_timeout(s->stream, SMTP_MS(env->p->smtp_data_done_timeout));
	if (smtp_reply_read(s->stream, reply, err) < 0) {
		sbuf_setf(why, "%s with %s while sending end of data -- "
		    "message may be sent more than once", sbuf_str(err),
		    s->label);
		ret = -1;
	}
	sbuf_free(&err);
	return ret;
}

void
smtp_trans_sent(struct smtp_job *job, const struct smtp_session *s,
    const size_t *accepted, size_t n, const struct smtp_reply *reply,
    const char *what)
{
	struct sbuf *reason = sbuf_new(), *err = sbuf_new();

	smtp_session_said(s, reply, what, reason);
	for (size_t k = 0; k < n; k++) {
		size_t i = accepted[k];

		if (queue_file_mark_done(job->qf, job->req->rcpts[i],
		    err) < 0) {
			msg_warn("%s: to=<%s>: sent but not marked done: %s",
			    job->req->queue_id,
			    job->qf->rcpts[job->req->rcpts[i]].address,
			    sbuf_str(err));
			smtp_decide(job, s, i, DELIVER_DEFERRED, "4.3.0",
			    "sent, but the queue file could not record it",
			    NULL);
			continue;
		}
		smtp_decide(job, s, i, DELIVER_SENT, reply->dsn,
		    sbuf_str(reason), sbuf_str(reply->text));
	}
	sbuf_free(&reason);
	sbuf_free(&err);
}

int
smtp_trans_run(const struct smtp_env *env, struct smtp_session *s,
    struct smtp_job *job, struct sbuf *why)
{
	bool pipelining = s->esmtp && (s->ehlo.ext & SMTP_EXT_PIPELINING);
	bool chunking = s->esmtp && (s->ehlo.ext & SMTP_EXT_CHUNKING);
	struct smtp_cmd *cmds;
	size_t ncmd = 0, naccepted = 0, *accepted;
	struct smtp_reply reply, mail_reply;
	bool mail_ok = true, data_ok = false;
	int ret = -1;

	if (smtp_trans_refuse(job, s))
		return 0;
	cmds = xcalloc(job->req->rcpt_count + 2, sizeof(*cmds));
	accepted = xcalloc(job->req->rcpt_count, sizeof(*accepted));
	cmds[ncmd].kind = SMTP_CMD_MAIL;
	cmds[ncmd++].text = smtp_mail_cmd(job, s);
	for (size_t i = 0; i < job->req->rcpt_count; i++) {
		if (job->decided[i])
			continue;
		cmds[ncmd].kind = SMTP_CMD_RCPT;
		cmds[ncmd].rcpt = i;
		cmds[ncmd++].text = smtp_rcpt_cmd(
		    &job->qf->rcpts[job->req->rcpts[i]], s);
	}
	if (!chunking) {
		cmds[ncmd].kind = SMTP_CMD_DATA;
		cmds[ncmd++].text = xstrdup("DATA");
	}
	smtp_reply_init(&reply);
	smtp_reply_init(&mail_reply);
	for (size_t k = 0; pipelining && k < ncmd; k++)
		(void)stream_printf(s->stream, "%s\r\n", cmds[k].text);
	for (size_t k = 0; k < ncmd; k++) {
		struct smtp_cmd *c = &cmds[k];
		struct sbuf *err = sbuf_new();
		bool broke;

		if (!pipelining) {
			/* Without pipelining, stop once nothing can follow. */
			if (!mail_ok || (c->kind == SMTP_CMD_DATA &&
			    naccepted == 0))
				break;
			(void)stream_printf(s->stream, "%s\r\n", c->text);
		}
		stream_set_timeout(s->stream,
		    SMTP_MS(smtp_cmd_timeout(env, c->kind)));
		broke = smtp_reply_read(s->stream, &reply, err) < 0;
		if (broke)
			sbuf_setf(why, "%s with %s while sending %.*s",
			    sbuf_str(err), s->label,
			    (int)strcspn(c->text, " :"), c->text);
		sbuf_free(&err);
		if (broke)
			goto done;
		if (reply.code == 421) {
			smtp_session_said(s, &reply, c->kind == SMTP_CMD_MAIL ?
			    "MAIL FROM" : c->kind == SMTP_CMD_RCPT ?
			    "RCPT TO" : "DATA", why);
			goto done;
		}
		switch (c->kind) {
		case SMTP_CMD_MAIL:
			if (reply.code / 100 != 2) {
				/* Keep the refusal: the reply is reused. */
				struct smtp_reply tmp = mail_reply;

				mail_reply = reply;
				reply = tmp;
				mail_ok = false;
			}
			break;
		case SMTP_CMD_RCPT:
			if (!mail_ok)
				break;
			if (reply.code / 100 == 2)
				accepted[naccepted++] = c->rcpt;
			else
				smtp_trans_decide_reply(job, s, c->rcpt, &reply,
				    "RCPT TO");
			break;
		case SMTP_CMD_DATA:
			data_ok = reply.code == 354;
			if (data_ok && (!mail_ok || naccepted == 0)) {
				/* A server that says 354 for nobody. */
				(void)stream_puts(s->stream, ".\r\n");
				if (smtp_read_end(env, s, &reply, why) < 0)
					goto done;
				data_ok = false;
			} else if (!data_ok && mail_ok) {
				for (size_t a = 0; a < naccepted; a++)
					smtp_trans_decide_reply(job, s,
					    accepted[a], &reply, "DATA");
			}
			break;
		}
	}
	if (!mail_ok) {
		for (size_t i = 0; i < job->req->rcpt_count; i++)
			smtp_trans_decide_reply(job, s, i, &mail_reply,
			    "MAIL FROM");
	} else if (chunking) {
		if (naccepted > 0 && smtp_bdat_send(env, s, job, accepted,
		    naccepted, why) < 0)
			goto done;
	} else if (data_ok) {
		if (smtp_send_content(env, s, job, why) < 0 ||
		    smtp_read_end(env, s, &reply, why) < 0)
			goto done;
		if (reply.code == 421) {
			smtp_session_said(s, &reply, "end of DATA", why);
			goto done;
		}
		if (reply.code / 100 == 2)
			smtp_trans_sent(job, s, accepted, naccepted, &reply,
			    "end of DATA");
		else
			for (size_t a = 0; a < naccepted; a++)
				smtp_trans_decide_reply(job, s, accepted[a],
				    &reply, "end of DATA");
		s->messages++;
	}
	ret = 0;
done:
	for (size_t k = 0; k < ncmd; k++)
		free(cmds[k].text);
	free(cmds);
	free(accepted);
	smtp_reply_clear(&reply);
	smtp_reply_clear(&mail_reply);
	return ret;
}
