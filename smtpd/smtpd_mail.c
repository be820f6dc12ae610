/*
 * smtpd_mail - the envelope commands: MAIL and RCPT
 *
 * Errors: every refusal is a reply; table and queue failures are also
 * logged as warnings with their reason, as the client sees only a 4xx.
 * Trust: the command was parsed by smtpd_cmd; addresses hold no control
 * characters.
 */
#include "smtpd_mail.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "mail/addr.h"
#include "mail/params.h"
#include "mail/resolve.h"
#include "smtpd_received.h"
#include "smtpd_relay.h"
#include "smtpd_reply.h"
#include "smtpd_session.h"
#include "smtpd_tls.h"
#include "smtpd_txn.h"
#include "util/cidr.h"
#include "util/msg.h"
#include "util/sbuf.h"
#include "util/xmalloc.h"

/* A recipient being checked. */
struct smtpd_rcpt {
	const struct smtpd_cmd *cmd;
	char *address;			/* internal form, domain lower-cased */
	struct sbuf *wire;		/* as it goes on the wire */
	enum resolve_class class;
	enum resolve_status class_status;
	char **expansion;		/* virtual alias results, or NULL */
	size_t expansion_count;
};

void
smtpd_mail_from(struct smtpd_session *s, struct smtpd_cmd **cmd)
{
	const struct smtpd_cmd *c = *cmd;
	struct smtpd_txn *t = &s->txn;

	if (smtpd_tls_refuse(s))
		return;
	if (s->helo_required && s->helo == NULL) {
		smtpd_reply(s, "503 5.5.1 Error: send HELO/EHLO first");
		return;
	}
	if (t->mail != NULL) {
		smtpd_reply(s, "503 5.5.1 Error: nested MAIL command");
		return;
	}
	if (c->mail.has_size && c->mail.size > s->cfg->size_limit) {
		smtpd_reply(s, "552 5.3.4 Message size exceeds fixed limit");
		return;
	}
	sbuf_set(s->scratch, c->path->local);
	if (c->path->domain != NULL)
		sbuf_printf(s->scratch, "@%s", c->path->domain);
	t->sender = xstrdup(sbuf_str(s->scratch));
	t->mail = *cmd;
	*cmd = NULL;
	smtpd_reply(s, "250 2.1.0 Ok");
}

/*
 * Replies with a refusal of r and logs it, as "NOQUEUE: reject: RCPT from
 * ..." (fmt and its arguments make the reply).
 */
static void
smtpd_rcpt_reject(struct smtpd_session *s, const struct smtpd_rcpt *r,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
smtpd_rcpt_reject(struct smtpd_session *s, const struct smtpd_rcpt *r,
    const char *fmt, ...)
{
	struct sbuf *text = sbuf_new();
	struct smtpd_txn *t = &s->txn;
	va_list ap;

	va_start(ap, fmt);
	sbuf_vprintf(text, fmt, ap);
	va_end(ap);
	smtpd_reply(s, "%s", sbuf_str(text));
	msg_info("%s: reject: RCPT from %s: %s; from=<%s> to=<%s> proto=%s "
	    "helo=<%s>", t->queue_id != NULL ? t->queue_id : "NOQUEUE",
	    s->client, sbuf_str(text), t->sender, sbuf_str(r->wire),
	    smtpd_received_with(s->esmtp, s->tls, false),
	    s->helo != NULL ? s->helo : "");
	sbuf_free(&text);
}

/* Relay control; true when the recipient may go on. */
static bool
smtpd_rcpt_relay(struct smtpd_session *s, struct smtpd_rcpt *r)
{
	const char *at = strrchr(r->address, '@');
	struct smtpd_relay_facts facts = {
		.mynetworks = cidr_list_match(s->cfg->mynetworks, s->addr),
		.authenticated = false,
	};
	const char *item = NULL;

	sbuf_reset(s->scratch);
	r->class = resolve_domain_class(s->cfg->resolver, at + 1,
	    &r->class_status, s->scratch);
	if (r->class_status == RESOLVE_ERROR)
		facts.dest = SMTPD_DEST_ERROR;
	else
		facts.dest = r->class == RESOLVE_DEFAULT ? SMTPD_DEST_UNAUTH :
		    SMTPD_DEST_AUTH;
	switch (smtpd_relay_decide(s->cfg->relay, &facts, &item)) {
	case SMTPD_RELAY_PERMIT:
		return true;
	case SMTPD_RELAY_REJECT:
		smtpd_rcpt_reject(s, r, "554 5.7.1 <%s>: Relay access denied",
		    sbuf_str(r->wire));
		return false;
	case SMTPD_RELAY_DEFER:
		smtpd_rcpt_reject(s, r, "454 4.7.1 <%s>: Relay access denied",
		    sbuf_str(r->wire));
		return false;
	case SMTPD_RELAY_LOOKUP_ERROR:
		msg_warn("domain lookup for <%s>: %s", sbuf_str(r->wire),
		    sbuf_str(s->scratch));
		smtpd_rcpt_reject(s, r, "451 4.3.0 <%s>: Temporary lookup "
		    "failure", sbuf_str(r->wire));
		return false;
	case SMTPD_RELAY_CONFIG_ERROR:
		msg_warn("unknown smtpd_relay_restrictions item \"%s\"", item);
		smtpd_rcpt_reject(s, r, "451 4.3.5 Server configuration error");
		return false;
	}
	return false;
}

/*
 * Virtual alias expansion, and the check that an address without an
 * alias exists; true when the recipient may go on.
 */
static bool
smtpd_rcpt_known(struct smtpd_session *s, struct smtpd_rcpt *r)
{
	struct resolver *res = s->cfg->resolver;
	enum resolve_status st;

	sbuf_reset(s->scratch);
	st = resolve_virtual_alias(res, r->address, &r->expansion,
	    &r->expansion_count, s->scratch);
	if (st == RESOLVE_NOTFOUND &&
	    s->cfg->p->smtpd_reject_unlisted_recipient)
		st = resolve_rcpt_known(res, r->address, s->scratch);
	else if (st == RESOLVE_NOTFOUND)
		st = RESOLVE_OK;
	switch (st) {
	case RESOLVE_OK:
		return true;
	case RESOLVE_NOTFOUND:
		smtpd_rcpt_reject(s, r, "550 5.1.1 <%s>: Recipient address "
		    "rejected: User unknown in %s table", sbuf_str(r->wire),
		    r->class == RESOLVE_VIRTUAL ? "virtual mailbox" :
		    "local recipient");
		return false;
	case RESOLVE_ERROR:
		msg_warn("recipient lookup for <%s>: %s", sbuf_str(r->wire),
		    sbuf_str(s->scratch));
		smtpd_rcpt_reject(s, r, "451 4.3.0 <%s>: Temporary lookup "
		    "failure", sbuf_str(r->wire));
		return false;
	}
	return false;
}

/* Replies to a queue file that could not be opened or written. */
static void
smtpd_rcpt_queue_failed(struct smtpd_session *s, const struct smtpd_rcpt *r,
    enum queue_write_status st, const char *why)
{
	msg_warn("%s: queue file for <%s>: %s", s->txn.queue_id != NULL ?
	    s->txn.queue_id : "NOQUEUE", sbuf_str(r->wire), why);
	if (st == QUEUE_WRITE_NOSPACE)
		smtpd_reply(s, "452 4.3.1 Insufficient system storage");
	else
		smtpd_reply(s, "451 4.3.0 Error: queue file write error");
}

/* The NOTIFY bits of the queue file for those of RCPT. */
static int
smtpd_rcpt_notify(int notify)
{
	int out = 0;

	if (notify & SMTPD_NOTIFY_NEVER)
		out |= QUEUE_NOTIFY_NEVER;
	if (notify & SMTPD_NOTIFY_SUCCESS)
		out |= QUEUE_NOTIFY_SUCCESS;
	if (notify & SMTPD_NOTIFY_FAILURE)
		out |= QUEUE_NOTIFY_FAILURE;
	if (notify & SMTPD_NOTIFY_DELAY)
		out |= QUEUE_NOTIFY_DELAY;
	return out;
}

/* Writes the recipient (or its expansion); true when it is in the file. */
static bool
smtpd_rcpt_write(struct smtpd_session *s, struct smtpd_rcpt *r)
{
	struct smtpd_txn *t = &s->txn;
	const struct smtpd_cmd *c = r->cmd;
	struct sbuf *orcpt = sbuf_new(), *why = sbuf_new();
	struct queue_rcpt q = { .notify = smtpd_rcpt_notify(c->rcpt.notify) };
	char *const *list = r->expansion != NULL ? r->expansion : &r->address;
	size_t count = r->expansion != NULL ? r->expansion_count : 1;
	bool changed = count != 1 || strcmp(list[0], r->address) != 0;
	enum queue_write_status st = QUEUE_WRITE_OK;

	if (c->rcpt.orcpt != NULL)
		sbuf_setf(orcpt, "%s;%s", c->rcpt.orcpt_type, c->rcpt.orcpt);
	else if (changed)
		sbuf_setf(orcpt, "rfc822;%s", sbuf_str(r->wire));
	q.orcpt = sbuf_str(orcpt);
	if (t->writer == NULL)
		st = smtpd_txn_open(s, why);
	if (st != QUEUE_WRITE_OK) {
		smtpd_rcpt_queue_failed(s, r, st, sbuf_str(why));
	} else if (!smtpd_txn_room(t, count)) {
		smtpd_rcpt_reject(s, r, "452 4.5.3 Error: too many recipients");
		st = QUEUE_WRITE_ERROR;
	} else {
		for (size_t i = 0; i < count && st == QUEUE_WRITE_OK; i++) {
			q.address = list[i];
			if (smtpd_txn_add_rcpt(t, &q, why) < 0)
				st = QUEUE_WRITE_ERROR;
		}
		if (st != QUEUE_WRITE_OK) {
			/*
			 * The file may hold part of the list: the whole
			 * transaction goes, so no part is ever delivered.
			 */
			smtpd_rcpt_queue_failed(s, r, st, sbuf_str(why));
			smtpd_txn_reset(t);
		}
	}
	sbuf_free(&orcpt);
	sbuf_free(&why);
	return st == QUEUE_WRITE_OK;
}

/* Fills r from the RCPT command; the address in internal form. */
static void
smtpd_rcpt_init(struct smtpd_session *s, struct smtpd_rcpt *r,
    const struct smtpd_cmd *cmd)
{
	const struct addr *a = cmd->path;
	const char *domain = a->domain != NULL ? a->domain :
	    s->cfg->p->myhostname;
	char *lower = addr_domain_lower(xstrdup(domain));
	struct sbuf *internal = sbuf_new();

	memset(r, 0, sizeof(*r));
	r->cmd = cmd;
	r->wire = sbuf_new();
	addr_quote(a->local, a->domain, r->wire);
	sbuf_setf(internal, "%s@%s", a->local, lower);
	r->address = sbuf_steal(internal);
	sbuf_free(&internal);
	free(lower);
}

static void
smtpd_rcpt_free(struct smtpd_rcpt *r)
{
	resolve_list_free(&r->expansion, r->expansion_count);
	free(r->address);
	sbuf_free(&r->wire);
}

void
smtpd_mail_rcpt(struct smtpd_session *s, struct smtpd_cmd *cmd)
{
	struct smtpd_txn *t = &s->txn;
	struct smtpd_rcpt r;

	if (t->mail == NULL) {
		smtpd_reply(s, "503 5.5.1 Error: need MAIL command");
		return;
	}
	if (t->bdat) {
		smtpd_reply(s, "503 5.5.1 Error: RCPT after BDAT");
		return;
	}
	t->rcpt_tried++;
	smtpd_rcpt_init(s, &r, cmd);
	if (t->rcpt_ok >= (size_t)s->cfg->p->smtpd_recipient_limit)
		smtpd_rcpt_reject(s, &r, "452 4.5.3 Error: too many "
		    "recipients");
	else if (smtpd_rcpt_relay(s, &r) && smtpd_rcpt_known(s, &r) &&
	    smtpd_rcpt_write(s, &r)) {
		t->rcpt_ok++;
		if (t->first_rcpt == NULL)
			t->first_rcpt = xstrdup(sbuf_str(r.wire));
		smtpd_reply(s, "250 2.1.5 Ok");
	}
	smtpd_rcpt_free(&r);
}
