/*
 * smtpd_session - one SMTP session: its state and the command loop
 *
 * Errors: nothing a client sends is fatal to the process: bad commands
 * get replies, input failures end the session with a log line.
 * Trust: command lines are hostile; they are bounded by SMTPD_LINE_MAX
 * and go to smtpd_cmd_parse() before anything looks at them.
 */
#include "smtpd_session.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "mail/anvil_clnt.h"
#include "mail/params.h"
#include "smtpd_client.h"
#include "smtpd_mail.h"
#include "smtpd_message.h"
#include "smtpd_reply.h"
#include "smtpd_simple.h"
#include "smtpd_tls.h"
#include "smtpd_txn.h"
#include "util/msg.h"
#include "util/sbuf.h"
#include "util/stream.h"

/* The order of the counts in the "disconnect from" line. */
static const enum smtpd_verb smtpd_count_order[] = {
	SMTPD_VERB_EHLO, SMTPD_VERB_HELO, SMTPD_VERB_STARTTLS,
	SMTPD_VERB_AUTH, SMTPD_VERB_MAIL, SMTPD_VERB_RCPT, SMTPD_VERB_DATA,
	SMTPD_VERB_BDAT, SMTPD_VERB_RSET, SMTPD_VERB_NOOP, SMTPD_VERB_VRFY,
	SMTPD_VERB_EXPN, SMTPD_VERB_HELP, SMTPD_VERB_QUIT,
	SMTPD_VERB_UNKNOWN,
};

void
smtpd_session_lost(struct smtpd_session *s, enum line_status status)
{
	s->quit = true;
	switch (status) {
	case LINE_TIMEOUT:
		msg_info("timeout after %s from %s", s->where, s->client);
		smtpd_reply(s, "421 4.4.2 %s Error: timeout exceeded",
		    s->cfg->p->myhostname);
		break;
	case LINE_EOF:
		msg_info("lost connection after %s from %s", s->where,
		    s->client);
		break;
	case LINE_ERROR:
		msg_info("lost connection after %s from %s: %s", s->where,
		    s->client, stream_error(s->stream) != NULL ?
		    stream_error(s->stream) : "I/O error");
		break;
	case LINE_OK:
	case LINE_TOO_LONG:
		break;
	}
}

/* Logs "disconnect from NAME[ADDR] ehlo=1 mail=1 ... commands=N". */
static void
smtpd_session_log_end(struct smtpd_session *s)
{
	struct sbuf *line = sbuf_new();
	unsigned long ok = 0, total = 0;

	sbuf_setf(line, "disconnect from %s", s->client);
	for (size_t i = 0; i < sizeof(smtpd_count_order) /
	    sizeof(smtpd_count_order[0]); i++) {
		const struct smtpd_count *c = &s->counts[smtpd_count_order[i]];
		const char *name = smtpd_verb_name(smtpd_count_order[i]);

		if (c->total == 0)
			continue;
		sbuf_catc(line, ' ');
		for (const char *p = name; *p != '\0'; p++)
			sbuf_catc(line, *p >= 'A' && *p <= 'Z' ?
			    *p - 'A' + 'a' : *p);
		if (c->ok == c->total)
			sbuf_printf(line, "=%lu", c->ok);
		else
			sbuf_printf(line, "=%lu/%lu", c->ok, c->total);
		ok += c->ok;
		total += c->total;
	}
	if (ok == total)
		sbuf_printf(line, " commands=%lu", ok);
	else
		sbuf_printf(line, " commands=%lu/%lu", ok, total);
	msg_info("%s", sbuf_str(line));
	sbuf_free(&line);
}

/* Hands a parsed command to its handler; takes *cmd. */
static void
smtpd_session_dispatch(struct smtpd_session *s, struct smtpd_cmd **cmd)
{
	switch ((*cmd)->verb) {
	case SMTPD_VERB_HELO:
	case SMTPD_VERB_EHLO:
		smtpd_simple_hello(s, *cmd);
		break;
	case SMTPD_VERB_MAIL:
		smtpd_mail_from(s, cmd);
		break;
	case SMTPD_VERB_RCPT:
		smtpd_mail_rcpt(s, *cmd);
		break;
	case SMTPD_VERB_DATA:
		smtpd_message_data(s);
		break;
	case SMTPD_VERB_BDAT:
		smtpd_message_bdat(s, *cmd);
		break;
	case SMTPD_VERB_RSET:
		smtpd_simple_rset(s);
		break;
	case SMTPD_VERB_NOOP:
		smtpd_simple_noop(s);
		break;
	case SMTPD_VERB_QUIT:
		smtpd_simple_quit(s);
		break;
	case SMTPD_VERB_VRFY:
		smtpd_simple_vrfy(s);
		break;
	case SMTPD_VERB_EXPN:
		smtpd_simple_expn(s);
		break;
	case SMTPD_VERB_HELP:
		smtpd_simple_help(s);
		break;
	case SMTPD_VERB_STARTTLS:
		smtpd_tls_starttls(s);
		break;
	case SMTPD_VERB_AUTH:
		smtpd_simple_auth(s);
		break;
	case SMTPD_VERB_UNKNOWN:
		break;
	}
	smtpd_cmd_free(cmd);
}

/* Parses and serves the command line in s->line. */
static void
smtpd_session_command(struct smtpd_session *s)
{
	struct smtpd_cmd_error err = { .text = s->scratch };
	struct smtpd_cmd *cmd = NULL;
	int flags = s->ext;
	enum smtpd_verb verb;

	if (s->txn.mail != NULL && s->txn.mail->mail.smtputf8)
		flags |= SMTPD_CMD_TXN_SMTPUTF8;
	err.verb = SMTPD_VERB_UNKNOWN;
	if (smtpd_cmd_parse(sbuf_str(s->line), sbuf_len(s->line), flags, &cmd,
	    &err) < 0) {
		verb = err.verb;
		s->where = smtpd_verb_name(verb);
		smtpd_reply(s, "%d %s %s", err.code, err.status,
		    sbuf_str(err.text));
		/* The chunk that follows has no known length: no way on. */
		if (verb == SMTPD_VERB_BDAT)
			s->quit = true;
	} else {
		verb = cmd->verb;
		s->where = smtpd_verb_name(verb);
		smtpd_session_dispatch(s, &cmd);
	}
	s->counts[verb].total++;
	if (s->last_reply == '2' || s->last_reply == '3')
		s->counts[verb].ok++;
}

/* Reads and serves commands until the session is over. */
static void
smtpd_session_loop(struct smtpd_session *s)
{
	const struct params *p = s->cfg->p;
	enum line_status st;

	while (!s->quit) {
		if (s->errors >= p->smtpd_hard_error_limit) {
			msg_info("too many errors after %s from %s", s->where,
			    s->client);
			smtpd_reply(s, "421 4.7.0 %s Error: too many errors",
			    p->myhostname);
			break;
		}
		st = stream_read_line(s->stream, s->line, SMTPD_LINE_MAX);
		if (st == LINE_OK && stream_last_eol(s->stream) ==
		    STREAM_EOL_NONE)
			st = LINE_EOF;	/* cut off: not a command */
		switch (st) {
		case LINE_OK:
			smtpd_session_command(s);
			break;
		case LINE_TOO_LONG:
			s->counts[SMTPD_VERB_UNKNOWN].total++;
			smtpd_reply(s, "500 5.5.2 Error: line too long");
			break;
		case LINE_EOF:
		case LINE_TIMEOUT:
		case LINE_ERROR:
			smtpd_session_lost(s, st);
			break;
		}
	}
}

void
smtpd_session_run(const struct smtpd_config *cfg, struct stream *stream,
    const char *service, const char *addr)
{
	const struct params *p = cfg->p;
	struct anvil_session *anvil = NULL;
	struct smtpd_session s;
	long ms = p->smtpd_timeout > INT_MAX / 1000 ? INT_MAX :
	    p->smtpd_timeout * 1000;

	memset(&s, 0, sizeof(s));
	s.cfg = cfg;
	s.stream = stream;
	s.service = service;
	s.addr = addr;
	s.helo_required = p->smtpd_helo_required;
	s.where = "CONNECT";
	s.line = sbuf_new();
	s.reply = sbuf_new();
	s.scratch = sbuf_new();
	smtpd_txn_init(&s.txn);
	stream_set_timeout(stream, ms > 0 ? (int)ms : 1);
	smtpd_client_name(&s);
	msg_info("connect from %s", s.client);
	if (smtpd_client_limits(&s, &anvil) == 0 &&
	    (!p->smtpd_tls_wrappermode || smtpd_tls_wrap(&s) == 0)) {
		smtpd_reply(&s, "220 %s", p->smtpd_banner);
		smtpd_session_loop(&s);
	}
	stream_flush(stream);
	smtpd_txn_free(&s.txn);
	if (anvil != NULL)
		anvil_disconnect(&anvil);
	smtpd_session_log_end(&s);
	free(s.name);
	free(s.client);
	free(s.helo);
	sbuf_free(&s.line);
	sbuf_free(&s.reply);
	sbuf_free(&s.scratch);
}
