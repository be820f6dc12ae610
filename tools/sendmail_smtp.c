/*
 * sendmail_smtp - the -bs dialogue (see the header file)
 *
 * Errors: every failure is an SMTP reply; the status is EX_OK unless
 * reading or writing the channel fails. Trust: the peer is the local
 * caller; command lines and content are bounded (SMTP_LINE_MAX and
 * message_size_limit).
 */
#include "sendmail_smtp.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include "mail/addr.h"
#include "mail/params.h"
#include "sendmail_inject.h"
#include "util/msg.h"
#include "util/sbuf.h"
#include "util/strlist.h"

#define SMTP_LINE_MAX	2048	/* octets of a command line */

/* One transaction. */
struct smtp_txn {
	char *sender;		/* internal form; NULL before MAIL */
	struct strlist rcpts;	/* as written */
};

static void __attribute__((format(printf, 1, 2)))
smtp_reply(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputs("\r\n", stdout);
	fflush(stdout);
}

/*
 * Reads a line without its CRLF or LF into line: 1, 0 at end of input,
 * -1 for a line over max octets (the rest of it is read and dropped).
 */
static int
smtp_line(struct sbuf *line, size_t max)
{
	bool toolong = false;
	int c;

	sbuf_reset(line);
	while ((c = getc(stdin)) != EOF && c != '\n') {
		if (sbuf_len(line) < max)
			sbuf_catc(line, c);
		else
			toolong = true;
	}
	if (c == EOF && sbuf_len(line) == 0)
		return 0;
	if (sbuf_len(line) > 0 && sbuf_str(line)[sbuf_len(line) - 1] == '\r')
		sbuf_truncate(line, sbuf_len(line) - 1);
	return toolong ? -1 : 1;
}

static void
smtp_reset(struct smtp_txn *t)
{
	free(t->sender);
	t->sender = NULL;
	strlist_free(&t->rcpts);
}

/* The path of "MAIL FROM:" or "RCPT TO:" arguments, or NULL. */
static char *
smtp_path(const char *arg, const char *prefix, struct sbuf *why)
{
	size_t n = strlen(prefix), path_len;
	const char *params;

	if (strncasecmp(arg, prefix, n) != 0) {
		sbuf_setf(why, "501 5.5.4 Syntax: %s<address>", prefix);
		return NULL;
	}
	arg += n;
	while (*arg == ' ')
		arg++;
	if (addr_split_params(arg, strlen(arg), &path_len, &params, why) < 0) {
		char *reason = sbuf_steal(why);

		sbuf_setf(why, "501 5.1.7 Bad address syntax: %s", reason);
		free(reason);
		return NULL;
	}
	return strndup(arg, path_len);
}

static void
smtp_mail(const struct inject *in, struct smtp_txn *t, const char *arg,
    struct sbuf *scratch)
{
	struct sbuf *internal = sbuf_new();
	char *path;

	if (t->sender != NULL)
		smtp_reply("503 5.5.1 Error: nested MAIL command");
	else if ((path = smtp_path(arg, "FROM:", scratch)) == NULL)
		smtp_reply("%s", sbuf_str(scratch));
	else {
		if (inject_address(in, path, true, internal, scratch) < 0)
			smtp_reply("501 5.1.7 Bad sender address syntax: %s",
			    sbuf_str(scratch));
		else {
			t->sender = sbuf_steal(internal);
			smtp_reply("250 2.1.0 Ok");
		}
		free(path);
	}
	sbuf_free(&internal);
}

static void
smtp_rcpt(const struct inject *in, struct smtp_txn *t, const char *arg,
    struct sbuf *scratch)
{
	struct sbuf *internal = sbuf_new();
	char *path;

	if (t->sender == NULL)
		smtp_reply("503 5.5.1 Error: need MAIL command");
	else if ((path = smtp_path(arg, "TO:", scratch)) == NULL)
		smtp_reply("%s", sbuf_str(scratch));
	else {
		if (inject_address(in, path, false, internal, scratch) < 0)
			smtp_reply("501 5.1.3 Bad recipient address syntax: "
			    "%s", sbuf_str(scratch));
		else {
			strlist_push(&t->rcpts, path);
			smtp_reply("250 2.1.5 Ok");
		}
		free(path);
	}
	sbuf_free(&internal);
}

/*
 * Reads the content after DATA up to the lone dot, removing the leading
 * dot of other lines; false when input ends first. Content over the size
 * limit is read and dropped, *toobig set.
 */
static bool
smtp_content(const struct inject *in, struct sbuf *msg, bool *toobig)
{
	struct sbuf *line = sbuf_new();
	size_t limit = (size_t)in->p->message_size_limit;
	const char *s;
	int rc;

	sbuf_reset(msg);
	*toobig = false;
	/* One octet more than the limit tells a line that passes it. */
	while ((rc = smtp_line(line, limit != 0 ? limit + 1 : SIZE_MAX)) !=
	    0) {
		s = sbuf_str(line);
		if (strcmp(s, ".") == 0) {
			sbuf_free(&line);
			return true;
		}
		if (*s == '.')
			s++;
		if (rc < 0 || (limit != 0 && sbuf_len(msg) + strlen(s) + 1 >
		    limit))
			*toobig = true;
		if (!*toobig)
			sbuf_printf(msg, "%s\n", s);
	}
	sbuf_free(&line);
	return false;
}

static bool
smtp_data(const struct inject *in, struct smtp_txn *t, struct sbuf *scratch)
{
	struct sbuf *msg = sbuf_new();
	bool toobig, ok;
	int status;

	if (t->sender == NULL || t->rcpts.count == 0) {
		smtp_reply("503 5.5.1 Error: need %s command", t->sender ==
		    NULL ? "MAIL" : "RCPT");
		sbuf_free(&msg);
		return true;
	}
	smtp_reply("354 End data with <CR><LF>.<CR><LF>");
	if ((ok = smtp_content(in, msg, &toobig))) {
		if (toobig)
			smtp_reply("552 5.3.4 Message size exceeds fixed "
			    "limit");
		else if ((status = inject_message(in, t->sender, false,
		    &t->rcpts, msg, scratch)) == EX_OK)
			smtp_reply("250 2.0.0 Ok: queued");
		else if (status == EX_TEMPFAIL || status == EX_OSERR ||
		    status == EX_UNAVAILABLE || status == EX_SOFTWARE)
			smtp_reply("451 4.3.0 Error: queue file write error");
		else
			smtp_reply("554 5.6.0 Error: message not accepted%s%s",
			    sbuf_len(scratch) > 0 ? ": " : "",
			    sbuf_str(scratch));
	}
	smtp_reset(t);
	sbuf_free(&msg);
	return ok;
}

int
smtp_dialogue(const struct inject *in)
{
	struct sbuf *line = sbuf_new(), *scratch = sbuf_new();
	struct smtp_txn t = { 0 };
	const char *cmd, *arg;
	size_t n;
	int rc;

	smtp_reply("220 %s ESMTP %s", in->p->myhostname, in->p->mail_name);
	while ((rc = smtp_line(line, SMTP_LINE_MAX)) != 0) {
		if (rc < 0) {
			smtp_reply("500 5.5.2 Error: line too long");
			continue;
		}
		cmd = sbuf_str(line);
		n = strcspn(cmd, " ");
		arg = cmd[n] == ' ' ? cmd + n + 1 : cmd + n;
#define IS(name) (n == strlen(name) && strncasecmp(cmd, name, n) == 0)
		if (IS("HELO") || IS("EHLO"))
			smtp_reply("250 %s", in->p->myhostname);
		else if (IS("MAIL"))
			smtp_mail(in, &t, arg, scratch);
		else if (IS("RCPT"))
			smtp_rcpt(in, &t, arg, scratch);
		else if (IS("DATA")) {
			if (!smtp_data(in, &t, scratch))
				break;
		} else if (IS("RSET")) {
			smtp_reset(&t);
			smtp_reply("250 2.0.0 Ok");
		} else if (IS("NOOP"))
			smtp_reply("250 2.0.0 Ok");
		else if (IS("VRFY"))
			smtp_reply("252 2.0.0 Send some mail, I'll try my "
			    "best");
		else if (IS("QUIT")) {
			smtp_reply("221 2.0.0 Bye");
			break;
		} else
			smtp_reply("502 5.5.2 Error: command not recognized");
#undef IS
	}
	smtp_reset(&t);
	sbuf_free(&line);
	sbuf_free(&scratch);
	return ferror(stdout) ? EX_IOERR : EX_OK;
}
