/*
 * smtp_reply - reading a server's SMTP reply and what its EHLO offers
 *
 * Trust: every byte comes from the remote server. Lines are bounded,
 * their number is bounded, and text is only copied, never interpreted
 * beyond the code, the status code and the EHLO keywords; msg.c masks
 * control characters when it is logged.
 */
#include "smtp_reply.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/sbuf.h"
#include "util/stream.h"
#include "util/strutil.h"
#include "util/xmalloc.h"

void
smtp_reply_init(struct smtp_reply *r)
{
	r->code = 0;
	r->dsn[0] = '\0';
	r->lines = sbuf_new();
	r->text = sbuf_new();
}

void
smtp_reply_clear(struct smtp_reply *r)
{
	sbuf_free(&r->lines);
	sbuf_free(&r->text);
}

/*
 * The length of an RFC 3463 status code "C.SSS.DDD" at the start of text
 * whose class is cls, followed by a space or the end; 0 when none.
 */
static size_t
smtp_dsn_len(const char *text, size_t len, char cls)
{
	size_t i = 0, digits;

	if (len < 5 || text[0] != cls || text[1] != '.')
		return 0;
	i = 2;
	for (int part = 0; part < 2; part++) {
		for (digits = 0; i < len && isdigit((unsigned char)text[i]);
		    i++)
			digits++;
		if (digits < 1 || digits > 3)
			return 0;
		if (part == 0 && (i >= len || text[i++] != '.'))
			return 0;
	}
	if (i < len && text[i] != ' ')
		return 0;
	return i;
}

int
smtp_reply_add_line(struct smtp_reply *r, const char *line, size_t len,
    bool first, bool *last_r, struct sbuf *why)
{
	int code;
	const char *text;
	size_t text_len, dsn_len;

	if (len < 3 || !isdigit((unsigned char)line[0]) ||
	    !isdigit((unsigned char)line[1]) ||
	    !isdigit((unsigned char)line[2]) ||
	    (len > 3 && line[3] != ' ' && line[3] != '-')) {
		sbuf_set(why, "malformed SMTP reply");
		return -1;
	}
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (code < 200 || code > 599) {
		sbuf_setf(why, "unexpected SMTP reply code %d", code);
		return -1;
	}
	*last_r = len == 3 || line[3] == ' ';
	text = len > 4 ? line + 4 : "";
	text_len = len > 4 ? len - 4 : 0;
	if (first) {
		r->code = code;
		sbuf_reset(r->lines);
		sbuf_setf(r->text, "%d", code);
		dsn_len = smtp_dsn_len(text, text_len, line[0]);
		if (dsn_len > 0 && dsn_len < sizeof(r->dsn)) {
			memcpy(r->dsn, text, dsn_len);
			r->dsn[dsn_len] = '\0';
		} else {
			snprintf(r->dsn, sizeof(r->dsn), "%c.0.0", line[0]);
		}
	} else {
		sbuf_catc(r->lines, '\n');
	}
	sbuf_catn(r->lines, text, text_len);
	sbuf_catc(r->text, ' ');
	sbuf_catn(r->text, text, text_len);
	return 0;
}

int
smtp_reply_read(struct stream *s, struct smtp_reply *r, struct sbuf *why)
{
	struct sbuf *line = sbuf_new();
	bool last = false;
	int ret = -1;

	for (int n = 0; !last; n++) {
		enum line_status st;

		if (n == SMTP_REPLY_LINES_MAX) {
			sbuf_set(why, "SMTP reply with too many lines");
			goto done;
		}
		st = stream_read_line(s, line, SMTP_REPLY_LINE_MAX);
		switch (st) {
		case LINE_OK:
			break;
		case LINE_TOO_LONG:
			sbuf_set(why, "SMTP reply line too long");
			goto done;
		case LINE_EOF:
			sbuf_set(why, "lost connection");
			goto done;
		case LINE_TIMEOUT:
			sbuf_set(why, "conversation timed out");
			goto done;
		case LINE_ERROR:
			sbuf_setf(why, "lost connection: %s",
			    stream_error(s) != NULL ? stream_error(s) :
			    "I/O error");
			goto done;
		}
		if (smtp_reply_add_line(r, sbuf_str(line), sbuf_len(line),
		    n == 0, &last, why) < 0)
			goto done;
	}
	ret = 0;
done:
	sbuf_free(&line);
	return ret;
}

void
smtp_ehlo_parse(const struct smtp_reply *r, struct smtp_ehlo *ehlo)
{
	char *copy = xstrdup(sbuf_str(r->lines)), *cursor = copy, *line;
	bool first = true;

	ehlo->ext = 0;
	ehlo->size = 0;
	while ((line = strsep(&cursor, "\n")) != NULL) {
		char *arg, *word;

		if (first) {	/* the greeting line: the server's name */
			first = false;
			continue;
		}
		arg = line;
		if ((word = str_token(&arg, " ")) == NULL)
			continue;
		if (strcasecmp(word, "PIPELINING") == 0)
			ehlo->ext |= SMTP_EXT_PIPELINING;
		else if (strcasecmp(word, "8BITMIME") == 0)
			ehlo->ext |= SMTP_EXT_8BITMIME;
		else if (strcasecmp(word, "SMTPUTF8") == 0)
			ehlo->ext |= SMTP_EXT_SMTPUTF8;
		else if (strcasecmp(word, "DSN") == 0)
			ehlo->ext |= SMTP_EXT_DSN;
		else if (strcasecmp(word, "STARTTLS") == 0)
			ehlo->ext |= SMTP_EXT_STARTTLS;
		else if (strcasecmp(word, "CHUNKING") == 0)
			ehlo->ext |= SMTP_EXT_CHUNKING;
		else if (strcasecmp(word, "BINARYMIME") == 0)
			ehlo->ext |= SMTP_EXT_BINARYMIME;
		else if (strcasecmp(word, "SIZE") == 0) {
			char *num = str_token(&arg, " ");

			ehlo->ext |= SMTP_EXT_SIZE;
			if (num != NULL && strspn(num, "0123456789") ==
			    strlen(num) && strlen(num) < 19)
				ehlo->size = strtoull(num, NULL, 10);
		}
	}
	free(copy);
}
