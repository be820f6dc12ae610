/*
 * smtpd_reply - send a reply to the SMTP client
 *
 * Errors: none returned; the stream keeps its first failure.
 * Trust: reply text is smtpd's own, or client text that smtpd_cmd or
 * addr already checked (printable, no CR or LF).
 */
#include "smtpd_reply.h"

#include <errno.h>
#include <stdarg.h>
#include <time.h>

#include "mail/params.h"
#include "smtpd_session.h"
#include "util/sbuf.h"
#include "util/stream.h"
#include "util/strutil.h"

/* Counts an error reply; waits smtpd_error_sleep_time past the limit. */
static void
smtpd_reply_error(struct smtpd_session *s)
{
	const struct params *p = s->cfg->p;
	struct timespec pause = { p->smtpd_error_sleep_time, 0 };

	s->errors++;
	if (s->errors > p->smtpd_soft_error_limit && pause.tv_sec > 0) {
		stream_flush(s->stream);
		while (nanosleep(&pause, &pause) < 0 && errno == EINTR)
			continue;
	}
}

void
smtpd_reply(struct smtpd_session *s, const char *fmt, ...)
{
	va_list ap;

	sbuf_reset(s->reply);
	va_start(ap, fmt);
	sbuf_vprintf(s->reply, fmt, ap);
	va_end(ap);
	s->last_reply = s->reply->data[0];
	if ((s->last_reply == '4' || s->last_reply == '5') &&
	    !str_starts(sbuf_str(s->reply), "421"))
		smtpd_reply_error(s);
	sbuf_cat(s->reply, "\r\n");
	stream_write(s->stream, sbuf_str(s->reply), sbuf_len(s->reply));
}
