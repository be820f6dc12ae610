/*
 * smtpd_simple - the SMTP commands outside the mail transaction: HELO,
 * EHLO, RSET, NOOP, QUIT, VRFY, EXPN, HELP and AUTH
 *
 * Errors: replies only. Trust: the HELO argument was checked by
 * smtpd_cmd (printable ASCII); its length is checked here.
 */
#include "smtpd_simple.h"

#include <stdlib.h>
#include <string.h>

#include "mail/params.h"
#include "smtpd_reply.h"
#include "smtpd_session.h"
#include "smtpd_tls.h"
#include "smtpd_txn.h"
#include "util/xmalloc.h"

/* The extensions EHLO advertises whose parameters smtpd_cmd then takes. */
#define SMTPD_EHLO_EXT	(SMTPD_CMD_EXT_SIZE | SMTPD_CMD_EXT_8BITMIME | \
	SMTPD_CMD_EXT_BINARYMIME | SMTPD_CMD_EXT_SMTPUTF8 | SMTPD_CMD_EXT_DSN)

/* The EHLO reply. */
static void
smtpd_ehlo_reply(struct smtpd_session *s)
{
	const struct params *p = s->cfg->p;

	smtpd_reply(s, "250-%s", p->myhostname);
	smtpd_reply(s, "250-PIPELINING");
	if (p->message_size_limit > 0)
		smtpd_reply(s, "250-SIZE %llu", p->message_size_limit);
	else
		smtpd_reply(s, "250-SIZE");
	if (smtpd_tls_offered(s))
		smtpd_reply(s, "250-STARTTLS");
	smtpd_reply(s, "250-ENHANCEDSTATUSCODES");
	smtpd_reply(s, "250-8BITMIME");
	smtpd_reply(s, "250-DSN");
	smtpd_reply(s, "250-SMTPUTF8");
	smtpd_reply(s, "250-BINARYMIME");
	smtpd_reply(s, "250 CHUNKING");
}

void
smtpd_simple_hello(struct smtpd_session *s,
    const struct smtpd_cmd *cmd)
{
	bool ehlo = cmd->verb == SMTPD_VERB_EHLO;

	if (strlen(cmd->helo.name) > SMTPD_HELO_MAX) {
		smtpd_reply(s, "501 5.5.4 Syntax: %s hostname (at most %d "
		    "octets)", ehlo ? "EHLO" : "HELO", SMTPD_HELO_MAX);
		return;
	}
	smtpd_txn_reset(&s->txn);
	free(s->helo);
	s->helo = xstrdup(cmd->helo.name);
	s->esmtp = ehlo;
	s->ext = ehlo ? SMTPD_EHLO_EXT : 0;
	if (ehlo)
		smtpd_ehlo_reply(s);
	else
		smtpd_reply(s, "250 %s", s->cfg->p->myhostname);
}

void
smtpd_simple_rset(struct smtpd_session *s)
{
	smtpd_txn_reset(&s->txn);
	smtpd_reply(s, "250 2.0.0 Ok");
}

void
smtpd_simple_noop(struct smtpd_session *s)
{
	smtpd_reply(s, "250 2.0.0 Ok");
}

void
smtpd_simple_quit(struct smtpd_session *s)
{
	smtpd_reply(s, "221 2.0.0 Bye");
	s->quit = true;
}

void
smtpd_simple_vrfy(struct smtpd_session *s)
{
	if (smtpd_tls_refuse(s))
		return;
	smtpd_reply(s, "252 2.0.0 Cannot VRFY user; try RCPT to attempt "
	    "delivery");
}

void
smtpd_simple_expn(struct smtpd_session *s)
{
	smtpd_reply(s, "502 5.5.1 Error: EXPN is disabled");
}

void
smtpd_simple_help(struct smtpd_session *s)
{
	smtpd_reply(s, "214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA BDAT "
	    "RSET NOOP QUIT VRFY HELP%s", smtpd_tls_offered(s) ?
	    " STARTTLS" : "");
}

void
smtpd_simple_auth(struct smtpd_session *s)
{
	smtpd_reply(s, "503 5.5.1 Error: authentication not enabled");
}
