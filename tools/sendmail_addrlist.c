/*
 * sendmail_addrlist - split an RFC 5322 address list (see the header)
 *
 * One pass over the value keeps the state of quoted strings, comments
 * (which nest) and angle brackets. Outside quotes, white space and
 * comments are dropped; a member's text outside angle brackets is kept
 * apart from the text inside them, and the bracketed text wins (the
 * outside being a display name).
 *
 * Errors: -1 with a reason. Trust: the value is message content, hostile;
 * the output is only as long as the input.
 */
#include "sendmail_addrlist.h"

#include <stdbool.h>

#include "util/sbuf.h"
#include "util/strlist.h"

struct addrlist_state {
	struct sbuf *plain;	/* the member's text outside <> */
	struct sbuf *angle;	/* and inside */
	bool seen_angle;
	bool in_angle;
	bool in_group;
	int comment;		/* comment nesting depth */
	bool quoted;
};

/* Ends the current member: appends its address, if any, to out. */
static void
addrlist_member(struct addrlist_state *st, struct strlist *out)
{
	struct sbuf *addr = st->seen_angle ? st->angle : st->plain;

	if (st->seen_angle) {
		sbuf_set(st->plain, "<");
		sbuf_catn(st->plain, sbuf_str(addr), sbuf_len(addr));
		sbuf_catc(st->plain, '>');
		strlist_push(out, sbuf_str(st->plain));
	} else if (sbuf_len(addr) > 0)
		strlist_push(out, sbuf_str(addr));
	sbuf_reset(st->plain);
	sbuf_reset(st->angle);
	st->seen_angle = false;
}

/* Handles one octet outside quotes and comments; 0 or -1 with why. */
static int
addrlist_octet(struct addrlist_state *st, char c, struct strlist *out,
    struct sbuf *why)
{
	struct sbuf *cur = st->in_angle ? st->angle : st->plain;

	switch (c) {
	case ' ': case '\t': case '\r': case '\n':
		return 0;
	case '"':
		st->quoted = true;
		return sbuf_catc(cur, c);
	case '(':
		st->comment = 1;
		return 0;
	case '<':
		if (st->in_angle || st->seen_angle) {
			sbuf_set(why, "unexpected '<'");
			return -1;
		}
		st->in_angle = st->seen_angle = true;
		return 0;
	case '>':
		if (!st->in_angle) {
			sbuf_set(why, "unexpected '>'");
			return -1;
		}
		st->in_angle = false;
		return 0;
	}
	if (st->in_angle)
		return sbuf_catc(cur, c);
	switch (c) {
	case ',':
		addrlist_member(st, out);
		return 0;
	case ':':
		if (st->in_group) {
			sbuf_set(why, "nested group");
			return -1;
		}
		st->in_group = true;
		sbuf_reset(st->plain);
		return 0;
	case ';':
		if (!st->in_group) {
			sbuf_set(why, "unexpected ';'");
			return -1;
		}
		addrlist_member(st, out);
		st->in_group = false;
		return 0;
	}
	return sbuf_catc(cur, c);
}

int
addrlist_parse(const char *value, size_t len, struct strlist *out,
    struct sbuf *why)
{
	struct addrlist_state st = { .plain = sbuf_new(),
	    .angle = sbuf_new() };
	int rc = 0;

	for (size_t i = 0; i < len && rc == 0; i++) {
		char c = value[i];

		if (c == '\0') {
			sbuf_set(why, "NUL in address list");
			rc = -1;
		} else if (st.quoted || st.comment > 0) {
			bool escape = c == '\\' && i + 1 < len &&
			    value[i + 1] != '\0';

			if (st.quoted)
				sbuf_catc(st.in_angle ? st.angle : st.plain,
				    c);
			if (escape) {
				i++;
				if (st.quoted)
					sbuf_catc(st.in_angle ? st.angle :
					    st.plain, value[i]);
			} else if (st.quoted && c == '"')
				st.quoted = false;
			else if (!st.quoted && c == '(')
				st.comment++;
			else if (!st.quoted && c == ')')
				st.comment--;
		} else
			rc = addrlist_octet(&st, c, out, why);
	}
	if (rc == 0 && (st.quoted || st.comment > 0 || st.in_angle)) {
		sbuf_set(why, st.quoted ? "unclosed quote" : st.comment > 0 ?
		    "unclosed comment" : "unclosed '<'");
		rc = -1;
	}
	if (rc == 0)
		addrlist_member(&st, out);
	sbuf_free(&st.plain);
	sbuf_free(&st.angle);
	return rc;
}
