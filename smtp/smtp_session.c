/*
 * smtp_session - one SMTP connection to one server address
 *
 * Errors: a status, an RFC 3463 code and a reason for the caller, which
 * decides what the recipients get; TLS details are logged here. Trust:
 * the server is untrusted; its replies are bounded by smtp_reply.c.
 */
#include "smtp_session.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mail/params.h"
#include "smtp_connect.h"
#include "smtp_dane.h"
#include "smtp_route.h"
#include "util/msg.h"
#include "util/sbuf.h"
#include "util/stream.h"
#include "util/tls.h"
#include "util/xmalloc.h"

void
smtp_session_said(const struct smtp_session *s, const struct smtp_reply *r,
    const char *what, struct sbuf *why)
{
	sbuf_setf(why, "host %s[%s] said: %s (in reply to %s command)",
	    s->name, s->addr, sbuf_str(r->text), what);
}

int
smtp_session_command(struct smtp_session *s, const char *cmd, long timeout,
    struct smtp_reply *reply, struct sbuf *why)
{
	struct sbuf *err = sbuf_new();
	int ret = 0;

	stream_set_timeout(s->stream, SMTP_MS(timeout));
	if (stream_printf(s->stream, "%s\r\n", cmd) < 0 ||
	    smtp_reply_read(s->stream, reply, err) < 0) {
		if (sbuf_len(err) == 0)
			sbuf_set(err, stream_error(s->stream) != NULL ?
			    stream_error(s->stream) : "write error");
		sbuf_setf(why, "%s with %s[%s] while sending %.*s",
		    sbuf_str(err), s->name, s->addr,
		    (int)strcspn(cmd, " :"), cmd);
		ret = -1;
	}
	sbuf_free(&err);
	return ret;
}

static void
smtp_session_free(struct smtp_session **sp)
{
	struct smtp_session *s = *sp;

	if (s == NULL)
		return;
	stream_free(&s->stream);
	free(s->name);
	free(s->addr);
	free(s->label);
	free(s->nexthop);
	free(s->tls);
	free(s);
	*sp = NULL;
}

void
smtp_session_close(const struct smtp_env *env, struct smtp_session **sp,
    bool send_quit)
{
	struct smtp_reply reply;
	struct sbuf *why;

	if (*sp == NULL)
		return;
	if (send_quit) {
		smtp_reply_init(&reply);
		why = sbuf_new();
		(void)smtp_session_command(*sp, "QUIT",
		    env->p->smtp_quit_timeout, &reply, why);
		sbuf_free(&why);
		smtp_reply_clear(&reply);
	}
	smtp_session_free(sp);
}

int
smtp_session_reset(const struct smtp_env *env, struct smtp_session *s)
{
	struct smtp_reply reply;
	struct sbuf *why = sbuf_new();
	int ret;

	smtp_reply_init(&reply);
	ret = smtp_session_command(s, "RSET", env->p->smtp_quit_timeout,
	    &reply, why);
	if (ret == 0 && reply.code / 100 != 2)
		ret = -1;
	smtp_reply_clear(&reply);
	sbuf_free(&why);
	return ret;
}

/* EHLO, or HELO when EHLO is refused; 0, or -1 with dsn and why. */
static int
smtp_session_hello(const struct smtp_env *env, struct smtp_session *s,
    struct sbuf *dsn, struct sbuf *why)
{
	struct smtp_reply reply;
	struct sbuf *cmd = sbuf_new();
	int ret = -1;

	smtp_reply_init(&reply);
	sbuf_setf(cmd, "EHLO %s", env->p->smtp_helo_name);
	if (smtp_session_command(s, sbuf_str(cmd), env->p->smtp_helo_timeout,
	    &reply, why) < 0)
		goto broken;
	if (reply.code / 100 == 2) {
		s->esmtp = true;
		smtp_ehlo_parse(&reply, &s->ehlo);
		ret = 0;
		goto done;
	}
	if (reply.code == 421)
		goto refused;
	s->esmtp = false;
	memset(&s->ehlo, 0, sizeof(s->ehlo));
	sbuf_setf(cmd, "HELO %s", env->p->smtp_helo_name);
	if (smtp_session_command(s, sbuf_str(cmd), env->p->smtp_helo_timeout,
	    &reply, why) < 0)
		goto broken;
	if (reply.code / 100 == 2) {
		ret = 0;
		goto done;
	}
refused:
	smtp_session_said(s, &reply, s->esmtp ? "EHLO" : "HELO", why);
	sbuf_set(dsn, reply.dsn);
	goto done;
broken:
	sbuf_set(dsn, "4.4.2");
done:
	smtp_reply_clear(&reply);
	sbuf_free(&cmd);
	return ret;
}

/*
 * STARTTLS and the handshake. SMTP_OPEN_OK also when the server refused
 * STARTTLS and clear text is allowed (s->tls stays NULL).
 */
static enum smtp_open_status
smtp_session_tls(const struct smtp_env *env, struct smtp_session *s,
    enum smtp_tls_level level, struct smtp_dane *dane, bool use_dane,
    const char *queue_id, struct sbuf *dsn, struct sbuf *why)
{
	struct smtp_reply reply;
	struct tls_peer peer = { .host = s->name };
	const struct tls_info *info;
	struct sbuf *desc;
	bool strict = level >= SMTP_TLS_ENCRYPT || use_dane;
	enum smtp_open_status status = SMTP_OPEN_FAILED;

	if (env->tls_ctx == NULL) {
		sbuf_set(dsn, "4.7.5");
		sbuf_set(why, "the TLS client context is unavailable");
		return strict ? SMTP_OPEN_FAILED : SMTP_OPEN_OK;
	}
	smtp_reply_init(&reply);
	if (smtp_session_command(s, "STARTTLS", env->p->smtp_helo_timeout,
	    &reply, why) < 0) {
		sbuf_set(dsn, "4.4.2");
		goto done;
	}
	if (reply.code != 220) {
		smtp_session_said(s, &reply, "STARTTLS", why);
		sbuf_set(dsn, "4.7.5");
		status = strict || reply.code == 421 ? SMTP_OPEN_FAILED :
		    SMTP_OPEN_OK;
		goto done;
	}
	if (use_dane) {
		peer.hook = smtp_dane_hook;
		peer.hook_arg = dane;
	} else if (level >= SMTP_TLS_VERIFY) {
		peer.verify = TLS_VERIFY_HOST;
	}
	stream_set_timeout(s->stream, SMTP_MS(env->p->smtp_helo_timeout));
	if (stream_start_tls(s->stream, env->tls_ctx, &peer) < 0) {
		sbuf_setf(why, "TLS handshake with %s[%s] failed: %s",
		    s->name, s->addr, stream_error(s->stream));
		sbuf_set(dsn, "4.7.5");
		status = strict ? SMTP_OPEN_FAILED : SMTP_OPEN_TLS_FAILED;
		goto done;
	}
	info = stream_tls_info(s->stream);
	desc = sbuf_new();
	tls_info_describe(info, desc);
	s->tls = sbuf_steal(desc);
	sbuf_free(&desc);
	msg_info("%s: %s TLS connection established to %s: %s",
	    queue_id, use_dane ? "Verified (DANE)" : info->verified ?
	    "Trusted" : "Untrusted", s->label, s->tls);
	status = SMTP_OPEN_OK;
done:
	smtp_reply_clear(&reply);
	return status;
}

/* Connects and reads the greeting; 0, or -1 with dsn and why. */
static int
smtp_session_connect(const struct smtp_env *env, struct smtp_session *s,
    struct sbuf *dsn, struct sbuf *why)
{
	struct smtp_reply reply;
	struct sbuf *err = sbuf_new();
	int fd, ret = -1;

	if ((fd = smtp_connect(s->addr, s->port,
	    SMTP_MS(env->p->smtp_connect_timeout), err)) < 0) {
		sbuf_setf(why, "connect to %s: %s", s->label, sbuf_str(err));
		sbuf_set(dsn, "4.4.1");
		sbuf_free(&err);
		return -1;
	}
	s->stream = stream_open(fd, SMTP_MS(env->p->smtp_helo_timeout));
	smtp_reply_init(&reply);
	if (smtp_reply_read(s->stream, &reply, err) < 0) {
		sbuf_setf(why, "%s with %s while receiving the initial server "
		    "greeting", sbuf_str(err), s->label);
		sbuf_set(dsn, "4.4.2");
	} else if (reply.code != 220) {
		sbuf_setf(why, "host %s[%s] refused to talk to me: %s",
		    s->name, s->addr, sbuf_str(reply.text));
		sbuf_set(dsn, reply.dsn);
	} else {
		ret = 0;
	}
	smtp_reply_clear(&reply);
	sbuf_free(&err);
	return ret;
}

enum smtp_open_status
smtp_session_open(const struct smtp_env *env, const struct smtp_host *host,
    const char *nexthop, enum smtp_tls_level level, bool clear_text,
    const char *queue_id, struct smtp_session **sess_r, struct sbuf *dsn,
    struct sbuf *why)
{
	struct smtp_session *s = xcalloc(1, sizeof(*s));
	struct sbuf *label = sbuf_new();
	struct smtp_dane dane = { 0 };
	enum smtp_open_status status = SMTP_OPEN_FAILED;
	bool use_dane = false;

	s->name = xstrdup(host->name);
	s->addr = xstrdup(host->addr);
	s->port = host->port;
	s->nexthop = xstrdup(nexthop);
	sbuf_setf(label, "%s[%s]:%u", s->name, s->addr, s->port);
	s->label = sbuf_steal(label);
	sbuf_free(&label);
	if (level == SMTP_TLS_DANE && clear_text) {
		/* Only a handshake without TLSA records can be retried. */
		level = SMTP_TLS_MAY;
	} else if (level == SMTP_TLS_DANE) {
		switch (smtp_dane_lookup(env->dns, s->name, s->port, &dane,
		    why)) {
		case SMTP_DANE_TEMPFAIL:
			sbuf_set(dsn, "4.7.5");
			goto done;
		case SMTP_DANE_USABLE:
			use_dane = true;
			break;
		case SMTP_DANE_NONE:
			level = SMTP_TLS_MAY;
			break;
		}
	}
	if (smtp_session_connect(env, s, dsn, why) < 0 ||
	    smtp_session_hello(env, s, dsn, why) < 0)
		goto done;
	if (level != SMTP_TLS_NONE && !clear_text &&
	    (s->ehlo.ext & SMTP_EXT_STARTTLS)) {
		status = smtp_session_tls(env, s, level, &dane, use_dane,
		    queue_id, dsn, why);
		if (status != SMTP_OPEN_OK)
			goto done;
		status = SMTP_OPEN_FAILED;
		if (s->tls != NULL && smtp_session_hello(env, s, dsn, why) < 0)
			goto done;
	}
	if ((level >= SMTP_TLS_ENCRYPT || use_dane) && s->tls == NULL) {
		sbuf_setf(why, "TLS is required, but was not offered by host "
		    "%s[%s]", s->name, s->addr);
		sbuf_set(dsn, "4.7.4");
		goto done;
	}
	status = SMTP_OPEN_OK;
done:
	smtp_dane_clear(&dane);
	if (status == SMTP_OPEN_OK)
		*sess_r = s;
	else
		smtp_session_close(env, &s, false);
	return status;
}
