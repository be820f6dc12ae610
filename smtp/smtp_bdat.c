/*
 * smtp_bdat - the content of a message in BDAT chunks (RFC 3030)
 *
 * Errors: results per recipient in the job; a broken session is -1 with
 * a reason. Trust: the server is untrusted (smtp_reply.c bounds what it
 * says); the queue file was checked when it was opened.
 */
#include "smtp_bdat.h"

#include <stdlib.h>

#include "mail/params.h"
#include "mail/queue_file.h"
#include "smtp_content.h"
#include "smtp_reply.h"
#include "smtp_session.h"
#include "smtp_trans.h"
#include "util/sbuf.h"
#include "util/stream.h"
#include "util/xmalloc.h"

/* Stored content read at once. */
#define SMTP_BDAT_PIECE		8192
/* BDAT chunks sent before their replies are read, with PIPELINING: few
 * enough that the server's replies never fill a socket buffer. */
#define SMTP_BDAT_WINDOW	16

/* The BDAT transfer: its chunks in flight and the recipients at stake. */
struct smtp_bdat {
	const struct smtp_env *env;
	struct smtp_session *s;
	struct smtp_job *job;
	const size_t *accepted;
	size_t naccepted;
	size_t unread;		/* chunks sent whose reply is not read */
	bool failed;		/* a chunk was refused: send no more */
	struct smtp_reply reply;
};

/* Writes one BDAT chunk; 0, or -1 with a reason. */
static int
smtp_bdat_write(struct smtp_bdat *b, const char *data, size_t len, bool last,
    struct sbuf *why)
{
	struct smtp_session *s = b->s;

	if (stream_printf(s->stream, "BDAT %zu%s\r\n", len,
	    last ? " LAST" : "") < 0 ||
	    stream_write(s->stream, data, len) < 0) {
		sbuf_setf(why, "%s with %s while sending message content",
		    stream_error(s->stream), s->label);
		return -1;
	}
	b->unread++;
	return 0;
}

/*
 * Reads the reply to the oldest chunk in flight, last telling whether it
 * is the one to BDAT LAST, and decides the accepted recipients by it: a
 * refusal ends the transaction, a 2xx to the last chunk sends the
 * message; after a refusal, the replies to the chunks already sent change
 * nothing. 0, or -1 with a reason when the session broke.
 */
static int
smtp_bdat_reply(struct smtp_bdat *b, bool last, struct sbuf *why)
{
	struct smtp_session *s = b->s;
	struct sbuf *err;
	int ret = 0;

	if (last) {
		/* All is written; what follows is the server's time. */
		if (stream_flush(s->stream) < 0) {
			sbuf_setf(why, "%s with %s while sending message "
			    "content", stream_error(s->stream), s->label);
			return -1;
		}
		stream_set_timeout(s->stream,
		    SMTP_MS(b->env->p->smtp_data_done_timeout));
	}
	err = sbuf_new();
	if (smtp_reply_read(s->stream, &b->reply, err) < 0) {
		sbuf_setf(why, "%s with %s while sending %s", sbuf_str(err),
		    s->label, last ? "BDAT LAST -- message may be sent more "
		    "than once" : "message content");
		ret = -1;
	} else if (b->reply.code == 421) {
		smtp_session_said(s, &b->reply, "BDAT", why);
		ret = -1;
	} else if (!b->failed && b->reply.code / 100 != 2) {
		for (size_t a = 0; a < b->naccepted; a++)
			smtp_trans_decide_reply(b->job, s, b->accepted[a],
			    &b->reply, "BDAT");
		b->failed = true;
	} else if (!b->failed && last) {
		smtp_trans_sent(b->job, s, b->accepted, b->naccepted,
		    &b->reply, "BDAT");
	}
	b->unread--;
	stream_set_timeout(s->stream,
	    SMTP_MS(b->env->p->smtp_data_xfer_timeout));
	sbuf_free(&err);
	return ret;
}

int
smtp_bdat_send(const struct smtp_env *env, struct smtp_session *s,
    struct smtp_job *job, const size_t *accepted, size_t naccepted,
    struct sbuf *why)
{
	struct smtp_bdat b = {
		.env = env, .s = s, .job = job, .accepted = accepted,
		.naccepted = naccepted
	};
	size_t window = (s->ehlo.ext & SMTP_EXT_PIPELINING) ?
	    SMTP_BDAT_WINDOW : 1;
	struct smtp_content_enc enc;
	struct sbuf *out = sbuf_new(), *rest = sbuf_new(), *swap;
	char *buf = xmalloc(SMTP_BDAT_PIECE);
	bool last = false, sent_last = false;
	off_t pos = 0;
	ssize_t n;
	int ret = -1;

	smtp_reply_init(&b.reply);
	smtp_content_enc_init(&enc, job->qf->env.body == QUEUE_BODY_BINARYMIME ?
	    SMTP_CONTENT_BINARY : SMTP_CONTENT_BDAT);
	stream_set_timeout(s->stream, SMTP_MS(env->p->smtp_data_xfer_timeout));
	while (!sent_last && !b.failed) {
		size_t done = 0;

		if ((n = queue_file_read(job->qf, pos, buf,
		    SMTP_BDAT_PIECE, why)) < 0)
			goto done;
		if (n == 0) {
			smtp_content_finish(&enc, out);
			last = true;
		} else {
			smtp_content_encode(&enc, buf, (size_t)n, out);
			pos += n;
		}
		/* A full chunk goes when more follows it. */
		while (!b.failed && sbuf_len(out) - done > SMTP_BDAT_CHUNK) {
			if (smtp_bdat_write(&b, sbuf_str(out) + done,
			    SMTP_BDAT_CHUNK, false, why) < 0)
				goto done;
			done += SMTP_BDAT_CHUNK;
			while (b.unread >= window)
				if (smtp_bdat_reply(&b, false, why) < 0)
					goto done;
		}
		if (last && !b.failed) {
			if (smtp_bdat_write(&b, sbuf_str(out) + done,
			    sbuf_len(out) - done, true, why) < 0)
				goto done;
			sent_last = true;
			break;
		}
		sbuf_reset(rest);
		sbuf_catn(rest, sbuf_str(out) + done, sbuf_len(out) - done);
		swap = out;
		out = rest;
		rest = swap;
	}
	/* The replies still due, the one to BDAT LAST the last of them. */
	while (b.unread > 0)
		if (smtp_bdat_reply(&b, sent_last && b.unread == 1, why) < 0)
			goto done;
	s->messages++;
	ret = 0;
done:
	smtp_reply_clear(&b.reply);
	sbuf_free(&out);
	sbuf_free(&rest);
	free(buf);
	return ret;
}
