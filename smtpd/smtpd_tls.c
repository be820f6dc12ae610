/*
 * smtpd_tls - TLS for smtpd: the server context, STARTTLS (RFC 3207) and
 * TLS on connect (smtpd_tls_wrappermode)
 *
 * Errors: a context that cannot be loaded is a warning (mail without TLS
 * beats no mail); a handshake that fails ends the session and is logged.
 * Trust: the client's handshake is hostile and handled by stream/tls.
 */
#include "smtpd_tls.h"

#include <stdlib.h>
#include <string.h>

#include "mail/params.h"
#include "smtpd_reply.h"
#include "smtpd_session.h"
#include "smtpd_txn.h"
#include "util/msg.h"
#include "util/sbuf.h"
#include "util/stream.h"
#include "util/tls.h"

int
smtpd_tls_setup(struct smtpd_config *cfg, struct sbuf *why)
{
	const struct params *p = cfg->p;
	const char *level = p->smtpd_tls_security_level;

	if (level[0] == '\0' || strcmp(level, "none") == 0)
		cfg->tls_level = SMTPD_TLS_NONE;
	else if (strcmp(level, "may") == 0)
		cfg->tls_level = SMTPD_TLS_MAY;
	else if (strcmp(level, "encrypt") == 0)
		cfg->tls_level = SMTPD_TLS_ENCRYPT;
	else {
		sbuf_setf(why, "smtpd_tls_security_level: unknown level "
		    "\"%s\" (none, may or encrypt)", level);
		return -1;
	}
	if (cfg->tls_level == SMTPD_TLS_NONE && !p->smtpd_tls_wrappermode)
		return 0;
	if (p->smtpd_tls_cert_file[0] == '\0') {
		msg_warn("TLS is configured but smtpd_tls_cert_file is empty: "
		    "TLS is not available");
		return 0;
	}
	cfg->tls = tls_server_ctx_new(p->smtpd_tls_cert_file,
	    p->smtpd_tls_key_file, why);
	if (cfg->tls == NULL) {
		msg_warn("TLS is not available: %s", sbuf_str(why));
		sbuf_reset(why);
	}
	return 0;
}

bool
smtpd_tls_offered(const struct smtpd_session *s)
{
	return s->cfg->tls != NULL && s->cfg->tls_level != SMTPD_TLS_NONE &&
	    !s->tls;
}

bool
smtpd_tls_refuse(struct smtpd_session *s)
{
	if (s->cfg->tls_level != SMTPD_TLS_ENCRYPT || s->tls)
		return false;
	smtpd_reply(s, "530 5.7.0 Must issue a STARTTLS command first");
	return true;
}

/*
 * The handshake, on a stream whose replies were flushed; logs the
 * outcome. 0, or -1 when the session is over.
 */
static int
smtpd_tls_handshake(struct smtpd_session *s)
{
	struct sbuf *text;

	if (stream_start_tls(s->stream, s->cfg->tls, NULL) < 0) {
		msg_info("TLS handshake failed from %s: %s", s->client,
		    stream_error(s->stream));
		s->quit = true;
		return -1;
	}
	s->tls = true;
	text = sbuf_new();
	tls_info_describe(stream_tls_info(s->stream), text);
	msg_info("TLS connection established from %s: %s", s->client,
	    sbuf_str(text));
	sbuf_free(&text);
	return 0;
}

void
smtpd_tls_starttls(struct smtpd_session *s)
{
	if (s->tls) {
		smtpd_reply(s, "554 5.5.1 Error: TLS already active");
		return;
	}
	if (!smtpd_tls_offered(s)) {
		if (s->cfg->tls_level == SMTPD_TLS_NONE)
			smtpd_reply(s, "502 5.5.1 Error: command not "
			    "implemented");
		else
			smtpd_reply(s, "454 4.7.0 TLS not available due to "
			    "local problem");
		return;
	}
	if (s->txn.mail != NULL) {
		smtpd_reply(s, "503 5.5.1 Error: MAIL transaction in progress");
		return;
	}
	smtpd_reply(s, "220 2.0.0 Ready to start TLS");
	if (smtpd_tls_handshake(s) < 0)
		return;
	free(s->helo);
	s->helo = NULL;
	s->esmtp = false;
	s->ext = 0;
	s->helo_required = true;
	smtpd_txn_reset(&s->txn);
}

int
smtpd_tls_wrap(struct smtpd_session *s)
{
	if (s->cfg->tls == NULL) {
		msg_warn("TLS on connect is configured but not available: "
		    "closing the connection from %s", s->client);
		s->quit = true;
		return -1;
	}
	return smtpd_tls_handshake(s);
}
