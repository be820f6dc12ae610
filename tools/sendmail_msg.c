/*
 * sendmail_msg - read a message and fix its header (see the header file)
 *
 * Errors: statuses and reasons, never logs. Trust: the message is the
 * caller's data; it is bounded by message_size_limit and only scanned.
 */
#include "sendmail_msg.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sendmail_addrlist.h"
#include "util/sbuf.h"
#include "util/strlist.h"

enum message_read_status
message_read(FILE *fp, bool ignore_dots, size_t limit, struct sbuf *msg)
{
	size_t line_start = 0;
	int c;

	sbuf_reset(msg);
	if (limit != 0)
		sbuf_set_limit(msg, limit);
	while ((c = getc(fp)) != EOF) {
		if (c == '\n') {
			if (sbuf_len(msg) > line_start &&
			    sbuf_str(msg)[sbuf_len(msg) - 1] == '\r')
				sbuf_truncate(msg, sbuf_len(msg) - 1);
			if (!ignore_dots && sbuf_len(msg) == line_start + 1 &&
			    sbuf_str(msg)[line_start] == '.') {
				sbuf_truncate(msg, line_start);
				return MESSAGE_READ_OK;
			}
		}
		if (sbuf_catc(msg, c) < 0)
			return MESSAGE_READ_TOOBIG;
		if (c == '\n')
			line_start = sbuf_len(msg);
	}
	if (ferror(fp))
		return MESSAGE_READ_ERROR;
	if (sbuf_len(msg) > line_start) {
		if (!ignore_dots && sbuf_len(msg) == line_start + 1 &&
		    sbuf_str(msg)[line_start] == '.')
			sbuf_truncate(msg, line_start);
		else if (sbuf_catc(msg, '\n') < 0)
			return MESSAGE_READ_TOOBIG;
	}
	return MESSAGE_READ_OK;
}

/*
 * The length of the field name when the line at p (of len octets up to
 * its LF) starts a header field, else 0.
 */
static size_t
message_field_name(const char *p, size_t len)
{
	size_t n = 0, i;

	while (n < len && p[n] > ' ' && p[n] < 0x7f && p[n] != ':')
		n++;
	if (n == 0)
		return 0;
	for (i = n; i < len && (p[i] == ' ' || p[i] == '\t'); i++)
		;
	return i < len && p[i] == ':' ? n : 0;
}

/* True when the field name[0..len) is name. */
static bool
message_is(const char *p, size_t len, const char *name)
{
	return strlen(name) == len && strncasecmp(p, name, len) == 0;
}

/* Appends "Name: value" LF to out. */
static void
message_add(struct sbuf *out, const char *name, const char *value)
{
	sbuf_printf(out, "%s: %s\n", name, value);
}

int
message_fix(const struct sbuf *msg, const struct message_fix *fix,
    struct sbuf *out, struct strlist *rcpts, struct sbuf *why)
{
	const char *p = sbuf_str(msg), *end = p + sbuf_len(msg);
	bool has_from = false, has_date = false, has_id = false;
	bool separated = false;

	sbuf_reset(out);
	/*
	 * A mailbox separator line ("From sender date") is not a field; a
	 * field written "From : value" is one.
	 */
	if (sbuf_len(msg) >= 5 && strncmp(p, "From ", 5) == 0) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));

		if (eol == NULL)
			eol = end;
		if (message_field_name(p, (size_t)(eol - p)) == 0)
			p = eol < end ? eol + 1 : end;
	}
	while (p < end) {
		const char *field = p, *eol, *value;
		size_t name_len;

		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		if (eol == p) {
			separated = true;
			break;
		}
		if ((name_len = message_field_name(p, (size_t)(eol - p))) ==
		    0)
			break;
		/* The field runs on over its continuation lines. */
		while (eol < end && eol + 1 < end &&
		    (eol[1] == ' ' || eol[1] == '\t'))
			if ((eol = memchr(eol + 1, '\n', (size_t)(end - eol -
			    1))) == NULL)
				eol = end;
		value = memchr(field, ':', (size_t)(eol - field)) + 1;
		if (message_is(field, name_len, "from"))
			has_from = true;
		else if (message_is(field, name_len, "date"))
			has_date = true;
		else if (message_is(field, name_len, "message-id"))
			has_id = true;
		if (rcpts != NULL && (message_is(field, name_len, "to") ||
		    message_is(field, name_len, "cc") ||
		    message_is(field, name_len, "bcc")) &&
		    addrlist_parse(value, (size_t)(eol - value), rcpts,
		    why) < 0) {
			char *reason = sbuf_steal(why);

			sbuf_setf(why, "%.*s: header: %s", (int)name_len,
			    field, reason);
			free(reason);
			return -1;
		}
		p = eol < end ? eol + 1 : end;
		if (!message_is(field, name_len, "bcc"))
			sbuf_catn(out, field, (size_t)(p - field));
	}
	if (!has_from)
		message_add(out, "From", fix->from);
	if (!has_date)
		message_add(out, "Date", fix->date);
	if (!has_id)
		message_add(out, "Message-ID", fix->message_id);
	if (!separated)
		sbuf_catc(out, '\n');
	sbuf_catn(out, p, (size_t)(end - p));
	return 0;
}
