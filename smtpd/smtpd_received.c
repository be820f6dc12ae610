/*
 * smtpd_received - the Received: header smtpd puts in front of a message
 *
 * Errors: none. Trust: every field was checked by the caller.
 */
#include "smtpd_received.h"

#include <string.h>

#include "util/sbuf.h"

/* Longest RFC 5322 date-time: "Mon, 23 Nov 2026 05:21:44 +0000". */
#define SMTPD_DATE_MAX	64

const char *
smtpd_received_with(bool esmtp, bool tls, bool smtputf8)
{
	if (!esmtp)
		return "SMTP";
	if (smtputf8)
		return tls ? "UTF8SMTPS" : "UTF8SMTP";
	return tls ? "ESMTPS" : "ESMTP";
}

void
smtpd_received_format(const struct smtpd_received *r, struct sbuf *out)
{
	char date[SMTPD_DATE_MAX];
	struct tm tm;
	bool v6 = strchr(r->client_addr, ':') != NULL;

	localtime_r(&r->when, &tm);
	if (strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z",
	    &tm) == 0)
		date[0] = '\0';
	sbuf_setf(out, "Received: from %s (%s [%s%s])\n",
	    r->helo != NULL ? r->helo : r->client_name, r->client_name,
	    v6 ? "IPv6:" : "", r->client_addr);
	sbuf_printf(out, "\tby %s (%s) with %s id %s", r->by, r->mail_name,
	    r->with, r->queue_id);
	if (r->tls != NULL)
		sbuf_printf(out, "\n\t(%s)", r->tls);
	if (r->rcpt != NULL)
		sbuf_printf(out, "\n\tfor <%s>", r->rcpt);
	sbuf_printf(out, "; %s\n", date);
}
