/*
 * bounce - delivery status notifications (RFC 3464) about a message
 *
 * Errors: -1 (or a queue_write_status) with a reason in why; never logs.
 * Trust: the queue file was checked by its reader; its content is the
 * sender's and is only copied, never interpreted beyond finding the end
 * of its headers. Agents' reasons are text without control characters.
 */
#include "bounce.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "mail/dsn_log.h"
#include "mail/addr.h"
#include "util/sbuf.h"
#include "util/xmalloc.h"

#define BOUNCE_PIECE	(64 * 1024)	/* content read at once */
#define BOUNCE_FOLD	78		/* fold header lines past this */

/* What the notice reports, from its log. */
struct bounce_summary {
	size_t failed;
	size_t delayed;
	size_t delivered;
	bool whole;		/* the third part holds the whole message */
	bool too_big;		/* headers only because of the size limit */
};

/* Appends an RFC 5322 date of t in UTC. */
static void
bounce_date(struct sbuf *out, time_t t)
{
	static const char *const days[] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
	};
	static const char *const months[] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
	};
	struct tm tm;

	gmtime_r(&t, &tm);
	sbuf_printf(out, "%s, %d %s %d %02d:%02d:%02d +0000",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/*
 * Appends "name: value", folded at spaces so that lines stay near
 * BOUNCE_FOLD columns (a word longer than that stays whole), and a LF.
 */
static void
bounce_field(struct sbuf *out, const char *name, const char *value)
{
	size_t col = strlen(name) + 1;

	sbuf_printf(out, "%s:", name);
	while (*value != '\0') {
		size_t word = strcspn(value, " ");

		if (word > 0) {
			if (col + 1 + word > BOUNCE_FOLD && col > 1) {
				sbuf_cat(out, "\n");
				col = 0;
			}
			sbuf_catc(out, ' ');
			sbuf_catn(out, value, word);
			col += 1 + word;
		}
		value += word;
		while (*value == ' ')
			value++;
	}
	sbuf_catc(out, '\n');
}

/* The address in its external form, for headers and the report. */
static void
bounce_address(struct sbuf *out, const char *internal)
{
	const char *at = addr_split_internal(internal);
	char *local;

	if (at == NULL) {
		sbuf_cat(out, internal);
		return;
	}
	local = xstrndup(internal, (size_t)(at - internal));
	if (addr_quote(local, at + 1, out) < 0)
		sbuf_cat(out, internal);
	free(local);
}

static bool
bounce_has_8bit(const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return true;
	return false;
}

static void
bounce_summarize(const struct bounce_notice *n, struct bounce_summary *s)
{
	const struct queue_file *qf = n->qf;
	uint64_t room;

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < n->log->count; i++) {
		switch (n->log->entries[i].action) {
		case DSN_ACTION_FAILED:
			s->failed++;
			break;
		case DSN_ACTION_DELAYED:
			s->delayed++;
			break;
		case DSN_ACTION_DELIVERED:
			s->delivered++;
			break;
		}
	}
	if (s->failed > 0)
		s->whole = qf->env.ret != QUEUE_RET_HDRS;
	else
		s->whole = qf->env.ret == QUEUE_RET_FULL;
	if (qf->env.body == QUEUE_BODY_BINARYMIME)
		s->whole = false;
	room = n->size_limit > BOUNCE_OVERHEAD ?
	    n->size_limit - BOUNCE_OVERHEAD : 0;
	if (s->whole && n->size_limit > 0 &&
	    (uint64_t)qf->content_size > room) {
		s->whole = false;
		s->too_big = true;
	}
}

bool
bounce_8bit(const struct bounce_notice *n)
{
	const struct queue_file *qf = n->qf;

	if (qf->env.body != QUEUE_BODY_7BIT || qf->env.smtputf8 ||
	    bounce_has_8bit(n->recipient))
		return true;
	for (size_t i = 0; i < n->log->count; i++) {
		const struct dsn_entry *e = &n->log->entries[i];

		if (bounce_has_8bit(qf->rcpts[e->rcpt].address) ||
		    bounce_has_8bit(qf->rcpts[e->rcpt].orcpt) ||
		    bounce_has_8bit(e->reason) || bounce_has_8bit(e->diag) ||
		    bounce_has_8bit(e->mta))
			return true;
	}
	return false;
}

static void
bounce_headers(const struct bounce_notice *n, const struct bounce_summary *s,
    bool eight_bit, struct sbuf *out)
{
	const char *subject;

	if (s->failed > 0)
		subject = "Undelivered Mail Returned to Sender";
	else if (s->delivered > 0 && s->delayed == 0)
		subject = "Successful Mail Delivery Report";
	else
		subject = "Delayed Mail (still being retried)";
	sbuf_printf(out, "From: %s@%s (Mail Delivery System)\n",
	    BOUNCE_SENDER_NAME, n->myhostname);
	sbuf_cat(out, "To: <");
	bounce_address(out, n->recipient);
	sbuf_cat(out, ">\n");
	sbuf_printf(out, "Subject: %s\n", subject);
	sbuf_cat(out, "Date: ");
	bounce_date(out, n->now);
	sbuf_printf(out, "\nMessage-ID: <%s@%s>\n", n->boundary,
	    n->myhostname);
	sbuf_cat(out, "Auto-Submitted: auto-replied\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/report; report-type=delivery-status;\n");
	sbuf_printf(out, "\tboundary=\"%s\"\n", n->boundary);
	if (eight_bit)
		sbuf_cat(out, "Content-Transfer-Encoding: 8bit\n");
	sbuf_cat(out, "\nThis is a MIME-encapsulated message.\n\n");
}

/* Part 1: the text for a person. */
static void
bounce_text(const struct bounce_notice *n, const struct bounce_summary *s,
    bool eight_bit, struct sbuf *out)
{
	const struct queue_file *qf = n->qf;

	sbuf_printf(out, "--%s\n"
	    "Content-Description: Notification\n"
	    "Content-Type: text/plain; charset=%s\n",
	    n->boundary, eight_bit ? "utf-8" : "us-ascii");
	if (eight_bit)
		sbuf_cat(out, "Content-Transfer-Encoding: 8bit\n");
	sbuf_printf(out, "\nThis is the mail system at host %s.\n\n",
	    n->myhostname);
	if (s->failed > 0)
		sbuf_cat(out, "Your message could not be delivered to one "
		    "or more of its recipients.\nThe reasons are listed "
		    "below; the message itself follows this report.\n");
	if (s->delivered > 0)
		sbuf_printf(out, "%sYour message was delivered to the "
		    "recipients listed as delivered below,\nas you asked "
		    "to be told.\n", s->failed > 0 ? "\n" : "");
	if (s->delayed > 0)
		sbuf_printf(out, "%sDelivery to the recipients listed as "
		    "delayed below has not succeeded\nyet; the mail system "
		    "will go on trying.\n",
		    s->failed + s->delivered > 0 ? "\n" : "");
	if (s->too_big)
		sbuf_cat(out, "\nThe message is too large to be returned "
		    "whole: only its headers follow.\n");
	sbuf_cat(out, "\nFor help, write to the postmaster of this mail "
	    "system and include\nthis report.\n\n");
	for (size_t i = 0; i < n->log->count; i++) {
		const struct dsn_entry *e = &n->log->entries[i];

		sbuf_cat(out, "<");
		bounce_address(out, qf->rcpts[e->rcpt].address);
		sbuf_printf(out, ">: %s: %s\n", dsn_action_name(e->action),
		    e->reason);
	}
	sbuf_cat(out, "\n");
}

/* Appends an address type and address as "type; address". */
static void
bounce_typed(struct sbuf *out, const char *name, const char *typed)
{
	const char *semi = strchr(typed, ';');
	struct sbuf *value = sbuf_new();

	if (semi == NULL) {
		sbuf_printf(value, "rfc822; %s", typed);
	} else {
		sbuf_catn(value, typed, (size_t)(semi - typed));
		sbuf_cat(value, "; ");
		semi++;
		while (*semi == ' ')
			semi++;
		sbuf_cat(value, semi);
	}
	bounce_field(out, name, sbuf_str(value));
	sbuf_free(&value);
}

/* Part 2: the machine-readable report. */
static void
bounce_report(const struct bounce_notice *n, struct sbuf *out)
{
	const struct queue_file *qf = n->qf;
	struct sbuf *v = sbuf_new();

	sbuf_printf(out, "--%s\n"
	    "Content-Description: Delivery report\n"
	    "Content-Type: message/delivery-status\n\n", n->boundary);
	sbuf_printf(out, "Reporting-MTA: dns; %s\n", n->myhostname);
	if (qf->id != NULL)
		sbuf_printf(out, "X-Postern-Queue-ID: %s\n", qf->id);
	if (qf->env.envid != NULL)
		bounce_field(out, "Original-Envelope-Id", qf->env.envid);
	sbuf_cat(out, "Arrival-Date: ");
	bounce_date(out, qf->arrival);
	sbuf_cat(out, "\n");
	for (size_t i = 0; i < n->log->count; i++) {
		const struct dsn_entry *e = &n->log->entries[i];
		const struct queue_rcpt *r = &qf->rcpts[e->rcpt];

		sbuf_reset(v);
		sbuf_printf(v, "%s; ", bounce_has_8bit(r->address) ?
		    "utf-8" : "rfc822");
		bounce_address(v, r->address);
		sbuf_cat(out, "\n");
		bounce_field(out, "Final-Recipient", sbuf_str(v));
		if (r->orcpt != NULL)
			bounce_typed(out, "Original-Recipient", r->orcpt);
		sbuf_printf(out, "Action: %s\nStatus: %s\n",
		    dsn_action_name(e->action), e->dsn);
		if (e->mta != NULL && e->mta[0] != '\0') {
			sbuf_setf(v, "dns; %s", e->mta);
			bounce_field(out, "Remote-MTA", sbuf_str(v));
		}
		if (e->diag != NULL && e->diag[0] != '\0')
			sbuf_setf(v, "smtp; %s", e->diag);
		else
			sbuf_setf(v, "x-postern; %s", e->reason);
		bounce_field(out, "Diagnostic-Code", sbuf_str(v));
		sbuf_cat(out, "Last-Attempt-Date: ");
		bounce_date(out, e->when);
		sbuf_cat(out, "\n");
	}
	sbuf_cat(out, "\n");
	sbuf_free(&v);
}

/*
 * Part 3: copies the content, or its headers (up to and without the
 * empty line that ends them, at most limit octets cut after a LF) and
 * writes the closing boundary.
 */
static int
bounce_original(const struct bounce_notice *n, const struct bounce_summary *s,
    bool eight_bit, bounce_out_fn out, void *ctx, struct sbuf *why)
{
	struct queue_file *qf = n->qf;
	struct sbuf *head = sbuf_new();
	char *buf = xmalloc(BOUNCE_PIECE);
	uint64_t limit = n->size_limit > BOUNCE_OVERHEAD ?
	    n->size_limit - BOUNCE_OVERHEAD : UINT64_MAX;
	uint64_t copied = 0;
	char prev = '\n', last = '\n';
	off_t pos = 0;
	int ret = -1;

	sbuf_printf(head, "--%s\nContent-Description: %s Message%s\n"
	    "Content-Type: %s\n", n->boundary,
	    s->failed > 0 ? "Undelivered" : s->delayed > 0 ? "Delayed" :
	    "Delivered", s->whole ? "" : " Headers",
	    s->whole ? "message/rfc822" : "text/rfc822-headers");
	if (eight_bit)
		sbuf_cat(head, "Content-Transfer-Encoding: 8bit\n");
	sbuf_cat(head, "\n");
	if (out(ctx, sbuf_str(head), sbuf_len(head), why) < 0)
		goto out;
	for (;;) {
		ssize_t got = queue_file_read(qf, pos, buf, BOUNCE_PIECE, why);
		size_t take;
		bool end = false;

		if (got < 0)
			goto out;
		if (got == 0)
			break;
		take = (size_t)got;
		if (!s->whole) {
			for (size_t i = 0; i < take; i++) {
				if (buf[i] == '\n' && prev == '\n') {
					take = i;
					end = true;
					break;
				}
				prev = buf[i];
			}
			if (copied + take > limit) {
				take = (size_t)(limit - copied);
				while (take > 0 && buf[take - 1] != '\n')
					take--;
				end = true;
			}
		}
		if (take > 0 && out(ctx, buf, take, why) < 0)
			goto out;
		if (take > 0)
			last = buf[take - 1];
		copied += take;
		pos += got;
		if (end)
			break;
	}
	sbuf_reset(head);
	if (last != '\n')
		sbuf_catc(head, '\n');
	sbuf_printf(head, "\n--%s--\n", n->boundary);
	if (out(ctx, sbuf_str(head), sbuf_len(head), why) < 0)
		goto out;
	ret = 0;
out:
	free(buf);
	sbuf_free(&head);
	return ret;
}

int
bounce_compose(const struct bounce_notice *n, bounce_out_fn out, void *ctx,
    struct sbuf *why)
{
	struct bounce_summary s;
	struct sbuf *text = sbuf_new();
	bool eight_bit = bounce_8bit(n);
	int ret;

	bounce_summarize(n, &s);
	bounce_headers(n, &s, eight_bit, text);
	bounce_text(n, &s, eight_bit, text);
	bounce_report(n, text);
	ret = out(ctx, sbuf_str(text), sbuf_len(text), why);
	sbuf_free(&text);
	if (ret < 0)
		return -1;
	return bounce_original(n, &s, eight_bit, out, ctx, why);
}

/* bounce_out_fn into a queue writer. */
static int
bounce_to_writer(void *ctx, const char *data, size_t len, struct sbuf *why)
{
	return queue_writer_write(ctx, data, len, why) == QUEUE_WRITE_OK ?
	    0 : -1;
}

/* A MIME boundary no message can have guessed: the id and random hex. */
static void
bounce_boundary(const char *id, struct sbuf *out)
{
	unsigned char rnd[12];

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		memset(rnd, 0, sizeof(rnd));
	sbuf_printf(out, "%s.", id);
	for (size_t i = 0; i < sizeof(rnd); i++)
		sbuf_printf(out, "%02x", rnd[i]);
	sbuf_cat(out, "/postern");
}

enum queue_write_status
bounce_send(const char *queue_dir, const struct bounce_notice *n,
    struct sbuf *id_r, struct sbuf *why)
{
	struct bounce_notice copy = *n;
	struct queue_envelope env = { 0 };
	struct queue_rcpt rcpt = { 0 };
	struct queue_writer *w = NULL;
	struct sbuf *boundary = sbuf_new();
	enum queue_write_status st;

	if ((st = queue_writer_open(queue_dir, &w, why)) != QUEUE_WRITE_OK)
		goto out;
	bounce_boundary(queue_writer_id(w), boundary);
	copy.boundary = sbuf_str(boundary);
	env.sender = "";
	env.proto = QUEUE_PROTO_LOCAL;
	env.body = bounce_8bit(&copy) ? QUEUE_BODY_8BITMIME : QUEUE_BODY_7BIT;
	env.smtputf8 = bounce_has_8bit(copy.recipient);
	rcpt.address = copy.recipient;
	if (queue_writer_envelope(w, &env, why) < 0 ||
	    queue_writer_add_rcpt(w, &rcpt, why) < 0) {
		st = QUEUE_WRITE_ERROR;
		goto out;
	}
	if (bounce_compose(&copy, bounce_to_writer, w, why) < 0) {
		st = QUEUE_WRITE_ERROR;
		goto out;
	}
	sbuf_set(id_r, queue_writer_id(w));
	st = queue_writer_commit(&w, why);
out:
	queue_writer_abort(&w);
	sbuf_free(&boundary);
	return st;
}
