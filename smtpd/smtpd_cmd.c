/*
 * smtpd_cmd - parse one SMTP command line into a verb and its arguments
 *
 * Blanks at the end of the line are dropped, the verb (up to the first
 * SP) is looked up, and every byte is checked (no NUL, no control other
 * than HT) before the verb's own parser sees its arguments. MAIL and RCPT
 * split the path from the parameters with addr_split_params() and parse
 * it with addr_parse(). As SMTPUTF8 among MAIL's parameters decides
 * whether its path may hold UTF-8, the parameters are scanned for that
 * keyword before the path is parsed, and parsed in full after it, so
 * errors come in the order of the line. Each parameter is found in one
 * table that names its verb, the extension that must have been advertised
 * and the function that checks and stores its value.
 *
 * Errors: -1 with the reply in the caller's struct smtpd_cmd_error;
 * never logs.
 * Trust: the line is hostile network data of any length. Nothing is read
 * past len, no fixed buffer is filled from it, the work is linear in len,
 * and a reply echoes at most a bounded keyword whose syntax was checked.
 */
#include "smtpd_cmd.h"

#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "mail/addr.h"
#include "util/sbuf.h"
#include "util/utf8.h"
#include "util/xmalloc.h"

/* Longest keyword echoed in a reply; a longer one is cut, with "...". */
#define SMTPD_ECHO_MAX		32
/* Most digits of a SIZE= value (RFC 1870). */
#define SMTPD_SIZE_DIGITS	20
/* Longest ENVID= and ORCPT= values as sent (RFC 3461 4.4 and 4.2). */
#define SMTPD_ENVID_MAX		100
#define SMTPD_ORCPT_MAX		500
/* Longest SASL mechanism name (RFC 4422 3.1). */
#define SMTPD_MECH_MAX		20

static const struct {
	const char *name;
	enum smtpd_verb verb;
} smtpd_verbs[] = {
	{ "HELO", SMTPD_VERB_HELO },
	{ "EHLO", SMTPD_VERB_EHLO },
	{ "MAIL", SMTPD_VERB_MAIL },
	{ "RCPT", SMTPD_VERB_RCPT },
	{ "DATA", SMTPD_VERB_DATA },
	{ "BDAT", SMTPD_VERB_BDAT },
	{ "RSET", SMTPD_VERB_RSET },
	{ "NOOP", SMTPD_VERB_NOOP },
	{ "QUIT", SMTPD_VERB_QUIT },
	{ "VRFY", SMTPD_VERB_VRFY },
	{ "EXPN", SMTPD_VERB_EXPN },
	{ "HELP", SMTPD_VERB_HELP },
	{ "STARTTLS", SMTPD_VERB_STARTTLS },
	{ "AUTH", SMTPD_VERB_AUTH },
};

#define SMTPD_NVERBS (sizeof(smtpd_verbs) / sizeof(smtpd_verbs[0]))

/* Fills in err; returns -1. */
static int
smtpd_fail(struct smtpd_cmd_error *err, int code, const char *status,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
smtpd_fail(struct smtpd_cmd_error *err, int code, const char *status,
    const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	err->status = status;
	sbuf_reset(err->text);
	va_start(ap, fmt);
	sbuf_vprintf(err->text, fmt, ap);
	va_end(ap);
	return -1;
}

/* Fails with 555 for a keyword (already checked) that is not supported. */
static int
smtpd_fail_unsupported(struct smtpd_cmd_error *err, const char *kw,
    size_t len)
{
	bool cut = len > SMTPD_ECHO_MAX;

	return smtpd_fail(err, 555, "5.5.4", "Unsupported option: %.*s%s",
	    (int)(cut ? SMTPD_ECHO_MAX : len), kw, cut ? "..." : "");
}

/* Upper-cases an ASCII letter; leaves every other byte alone. */
static char
smtpd_upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* Lower-cases an ASCII letter; leaves every other byte alone. */
static char
smtpd_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* True when the len bytes at p are word (upper case), ignoring case. */
static bool
smtpd_eq_ci(const char *p, size_t len, const char *word)
{
	if (len != strlen(word))
		return false;
	for (size_t i = 0; i < len; i++)
		if (smtpd_upper(p[i]) != word[i])
			return false;
	return true;
}

/* True for an ASCII letter or digit. */
static bool
smtpd_is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* The value of a hex digit in either case, or -1. */
static int
smtpd_hex(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * True when the len bytes at p are an esmtp-keyword (RFC 5321 4.1.2):
 * a letter or digit, then letters, digits and hyphens.
 */
static bool
smtpd_is_keyword(const char *p, size_t len)
{
	if (len == 0 || !smtpd_is_alnum((unsigned char)p[0]))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!smtpd_is_alnum((unsigned char)p[i]) && p[i] != '-')
			return false;
	return true;
}

/*
 * Parses the len bytes at p as a decimal number of at least one and at
 * most max_digits (0: any number of) digits into *value_r; -1 on any other
 * byte, a wrong count or overflow.
 */
static int
smtpd_parse_number(const char *p, size_t len, size_t max_digits,
    unsigned long long *value_r)
{
	unsigned long long value = 0;

	if (len == 0 || (max_digits > 0 && len > max_digits))
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned int digit;

		if (p[i] < '0' || p[i] > '9')
			return -1;
		digit = (unsigned int)(p[i] - '0');
		if (value > (ULLONG_MAX - digit) / 10)
			return -1;
		value = value * 10 + digit;
	}
	*value_r = value;
	return 0;
}

/* Appends code point cp (at most U+10FFFF) to out in UTF-8. */
static void
smtpd_utf8_put(struct sbuf *out, unsigned long cp)
{
	if (cp < 0x80)
		sbuf_catc(out, (int)cp);
	else if (cp < 0x800) {
		sbuf_catc(out, (int)(0xc0 | cp >> 6));
		sbuf_catc(out, (int)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		sbuf_catc(out, (int)(0xe0 | cp >> 12));
		sbuf_catc(out, (int)(0x80 | (cp >> 6 & 0x3f)));
		sbuf_catc(out, (int)(0x80 | (cp & 0x3f)));
	} else {
		sbuf_catc(out, (int)(0xf0 | cp >> 18));
		sbuf_catc(out, (int)(0x80 | (cp >> 12 & 0x3f)));
		sbuf_catc(out, (int)(0x80 | (cp >> 6 & 0x3f)));
		sbuf_catc(out, (int)(0x80 | (cp & 0x3f)));
	}
}

/*
 * Replaces out with the decoded RFC 3461 xtext of the len bytes at p
 * ("+HH" with hex digits in either case, as Postfix reads it). -1 when p
 * is not xtext or decodes to a byte that is not printable ASCII.
 */
static int
smtpd_xtext_decode(const char *p, size_t len, struct sbuf *out)
{
	sbuf_reset(out);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '+') {
			int hi, lo;

			if (len - i < 3 ||
			    (hi = smtpd_hex((unsigned char)p[i + 1])) < 0 ||
			    (lo = smtpd_hex((unsigned char)p[i + 2])) < 0)
				return -1;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
			if (c < 0x20 || c > 0x7e)
				return -1;
		} else if (c < 0x21 || c > 0x7e || c == '=')
			return -1;
		sbuf_catc(out, c);
	}
	return 0;
}

/*
 * Replaces out with the decoded utf-8-addr-xtext, or with utf8 also
 * utf-8-addr-unitext, of the len bytes at p (RFC 6533 3): printable ASCII
 * but '+', '=' and '\', "\x{HHHH}" escapes (1 to 6 hex digits), and with
 * utf8 well-formed UTF-8. -1 on anything else, or on an escape of a
 * control character, a surrogate or a code point past U+10FFFF.
 */
static int
smtpd_uxtext_decode(const char *p, size_t len, bool utf8, struct sbuf *out)
{
	const unsigned char *s = (const unsigned char *)p, *end = s + len;

	sbuf_reset(out);
	while (s < end) {
		if (*s == '\\') {
			unsigned long cp = 0;
			size_t digits = 0;
			int h;

			if (end - s < 3 || s[1] != 'x' || s[2] != '{')
				return -1;
			for (s += 3; s < end && *s != '}'; s++) {
				if ((h = smtpd_hex(*s)) < 0 || ++digits > 6)
					return -1;
				cp = cp << 4 | (unsigned long)h;
			}
			if (s == end || digits == 0 || cp < 0x20 ||
			    (cp >= 0x7f && cp <= 0x9f) ||
			    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
				return -1;
			smtpd_utf8_put(out, cp);
			s++;
		} else if (*s >= 0x80) {
			size_t n;

			if (!utf8 ||
			    (n = utf8_seq_len(s, end, UTF8_NO_C1)) == 0)
				return -1;
			sbuf_catn(out, s, n);
			s += n;
		} else if (*s < 0x21 || *s > 0x7e || *s == '+' || *s == '=')
			return -1;
		else
			sbuf_catc(out, *s++);
	}
	return 0;
}

/*
 * True when the len bytes at p are an AUTH initial response: "=" or
 * base64 (RFC 4954 4) with its padding.
 */
static bool
smtpd_is_base64(const char *p, size_t len)
{
	size_t pad = 0;

	if (len == 1 && p[0] == '=')
		return true;
	if (len == 0 || len % 4 != 0)
		return false;
	while (pad < 2 && p[len - 1 - pad] == '=')
		pad++;
	for (size_t i = 0; i < len - pad; i++)
		if (!smtpd_is_alnum((unsigned char)p[i]) && p[i] != '+' &&
		    p[i] != '/')
			return false;
	return true;
}

/*
 * A MAIL or RCPT parameter: its keyword, verb, the extensions of which
 * one must have been advertised, and the function that checks its value
 * (NULL for a keyword without '=') and stores it in cmd, using scratch.
 */
struct smtpd_param {
	const char *name;
	enum smtpd_verb verb;
	int ext;
	int (*parse)(struct smtpd_cmd *cmd, const char *val, size_t len,
	    int flags, struct sbuf *scratch, struct smtpd_cmd_error *err);
};

/*
 * The checkers of the parameters in smtpd_params[] below: each stores
 * the value in cmd or fails with the reply for it.
 */
static int
smtpd_param_size(struct smtpd_cmd *cmd, const char *val, size_t len,
    int flags, struct sbuf *scratch, struct smtpd_cmd_error *err)
{
	if (val == NULL || smtpd_parse_number(val, len, SMTPD_SIZE_DIGITS,
	    &cmd->mail.size) < 0)
		return smtpd_fail(err, 501, "5.5.4", "Bad SIZE value");
	cmd->mail.has_size = true;
	return 0;
}

static int
smtpd_param_body(struct smtpd_cmd *cmd, const char *val, size_t len,
    int flags, struct sbuf *scratch, struct smtpd_cmd_error *err)
{
	if (val == NULL)
		return smtpd_fail(err, 501, "5.5.4", "Bad BODY value");
	if (smtpd_eq_ci(val, len, "7BIT"))
		cmd->mail.body = SMTPD_BODY_7BIT;
	else if (smtpd_eq_ci(val, len, "8BITMIME")) {
		if (!(flags & SMTPD_CMD_EXT_8BITMIME))
			return smtpd_fail(err, 555, "5.5.4",
			    "Unsupported option: BODY=8BITMIME");
		cmd->mail.body = SMTPD_BODY_8BITMIME;
	} else if (smtpd_eq_ci(val, len, "BINARYMIME")) {
		if (!(flags & SMTPD_CMD_EXT_BINARYMIME))
			return smtpd_fail(err, 555, "5.5.4",
			    "Unsupported option: BODY=BINARYMIME");
		cmd->mail.body = SMTPD_BODY_BINARYMIME;
	} else
		return smtpd_fail(err, 501, "5.5.4", "Bad BODY value");
	return 0;
}

static int
smtpd_param_smtputf8(struct smtpd_cmd *cmd, const char *val, size_t len,
    int flags, struct sbuf *scratch, struct smtpd_cmd_error *err)
{
	if (val != NULL)
		return smtpd_fail(err, 501, "5.5.4",
		    "SMTPUTF8 takes no value");
	cmd->mail.smtputf8 = true;
	return 0;
}

static int
smtpd_param_ret(struct smtpd_cmd *cmd, const char *val, size_t len,
    int flags, struct sbuf *scratch, struct smtpd_cmd_error *err)
{
	if (val != NULL && smtpd_eq_ci(val, len, "FULL"))
		cmd->mail.ret = SMTPD_RET_FULL;
	else if (val != NULL && smtpd_eq_ci(val, len, "HDRS"))
		cmd->mail.ret = SMTPD_RET_HDRS;
	else
		return smtpd_fail(err, 501, "5.5.4", "Bad RET value");
	return 0;
}

static int
smtpd_param_envid(struct smtpd_cmd *cmd, const char *val, size_t len,
    int flags, struct sbuf *scratch, struct smtpd_cmd_error *err)
{
	if (val == NULL || len == 0 || len > SMTPD_ENVID_MAX ||
	    smtpd_xtext_decode(val, len, scratch) < 0)
		return smtpd_fail(err, 501, "5.5.4", "Bad ENVID value");
	cmd->mail.envid = xstrndup(sbuf_str(scratch), sbuf_len(scratch));
	return 0;
}

static int
smtpd_param_auth(struct smtpd_cmd *cmd, const char *val, size_t len,
    int flags, struct sbuf *scratch, struct smtpd_cmd_error *err)
{
	if (val == NULL || len == 0 ||
	    smtpd_xtext_decode(val, len, scratch) < 0)
		return smtpd_fail(err, 501, "5.5.4", "Bad AUTH value");
	cmd->mail.auth = xstrndup(val, len);
	return 0;
}

static int
smtpd_param_notify(struct smtpd_cmd *cmd, const char *val, size_t len,
    int flags, struct sbuf *scratch, struct smtpd_cmd_error *err)
{
	static const struct {
		const char *name;
		int bit;
	} words[] = {
		{ "NEVER", SMTPD_NOTIFY_NEVER },
		{ "SUCCESS", SMTPD_NOTIFY_SUCCESS },
		{ "FAILURE", SMTPD_NOTIFY_FAILURE },
		{ "DELAY", SMTPD_NOTIFY_DELAY },
	};
	const char *end;
	int notify = 0;

	if (val == NULL)
		return smtpd_fail(err, 501, "5.5.4", "Bad NOTIFY value");
	end = val + len;
	for (const char *p = val;;) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		size_t n = (size_t)((comma != NULL ? comma : end) - p);
		size_t i;

		for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
			if (smtpd_eq_ci(p, n, words[i].name))
				break;
		if (i == sizeof(words) / sizeof(words[0]) ||
		    (notify & words[i].bit) != 0)
			return smtpd_fail(err, 501, "5.5.4",
			    "Bad NOTIFY value");
		notify |= words[i].bit;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	if ((notify & SMTPD_NOTIFY_NEVER) && notify != SMTPD_NOTIFY_NEVER)
		return smtpd_fail(err, 501, "5.5.4", "Bad NOTIFY value");
	cmd->rcpt.notify = notify;
	return 0;
}

static int
smtpd_param_orcpt(struct smtpd_cmd *cmd, const char *val, size_t len,
    int flags, struct sbuf *scratch, struct smtpd_cmd_error *err)
{
	const char *semi, *addr;
	size_t type_len, addr_len;
	int ret;

	if (val == NULL || len > SMTPD_ORCPT_MAX ||
	    (semi = memchr(val, ';', len)) == NULL)
		return smtpd_fail(err, 501, "5.5.4", "Bad ORCPT value");
	type_len = (size_t)(semi - val);
	addr = semi + 1;
	addr_len = len - type_len - 1;
	if (!smtpd_is_keyword(val, type_len) || addr_len == 0)
		return smtpd_fail(err, 501, "5.5.4", "Bad ORCPT value");
	if (smtpd_eq_ci(val, type_len, "UTF-8"))
		ret = smtpd_uxtext_decode(addr, addr_len,
		    (flags & SMTPD_CMD_TXN_SMTPUTF8) != 0, scratch);
	else
		ret = smtpd_xtext_decode(addr, addr_len, scratch);
	if (ret < 0 || sbuf_len(scratch) == 0)
		return smtpd_fail(err, 501, "5.5.4", "Bad ORCPT value");
	cmd->rcpt.orcpt_type = xstrndup(val, type_len);
	for (char *p = cmd->rcpt.orcpt_type; *p != '\0'; p++)
		*p = smtpd_lower(*p);
	cmd->rcpt.orcpt = xstrndup(sbuf_str(scratch), sbuf_len(scratch));
	return 0;
}

static const struct smtpd_param smtpd_params[] = {
	{ "SIZE", SMTPD_VERB_MAIL, SMTPD_CMD_EXT_SIZE, smtpd_param_size },
	{ "BODY", SMTPD_VERB_MAIL,
	    SMTPD_CMD_EXT_8BITMIME | SMTPD_CMD_EXT_BINARYMIME,
	    smtpd_param_body },
	{ "SMTPUTF8", SMTPD_VERB_MAIL, SMTPD_CMD_EXT_SMTPUTF8,
	    smtpd_param_smtputf8 },
	{ "RET", SMTPD_VERB_MAIL, SMTPD_CMD_EXT_DSN, smtpd_param_ret },
	{ "ENVID", SMTPD_VERB_MAIL, SMTPD_CMD_EXT_DSN, smtpd_param_envid },
	{ "AUTH", SMTPD_VERB_MAIL, SMTPD_CMD_EXT_AUTH, smtpd_param_auth },
	{ "NOTIFY", SMTPD_VERB_RCPT, SMTPD_CMD_EXT_DSN, smtpd_param_notify },
	{ "ORCPT", SMTPD_VERB_RCPT, SMTPD_CMD_EXT_DSN, smtpd_param_orcpt },
};

#define SMTPD_NPARAMS (sizeof(smtpd_params) / sizeof(smtpd_params[0]))

/*
 * Moves *p (before end) past the next SP-separated token and the spaces
 * after it; returns the token's length.
 */
static size_t
smtpd_next_token(const char **p, const char *end)
{
	const char *start = *p;
	size_t len;

	while (*p < end && **p != ' ')
		(*p)++;
	len = (size_t)(*p - start);
	while (*p < end && **p == ' ')
		(*p)++;
	return len;
}

/* True when the parameters [p, end) have one whose keyword is name. */
static bool
smtpd_has_param(const char *p, const char *end, const char *name)
{
	while (p < end) {
		const char *tok = p;
		size_t len = smtpd_next_token(&p, end);
		const char *eq = memchr(tok, '=', len);

		if (smtpd_eq_ci(tok, eq != NULL ? (size_t)(eq - tok) : len,
		    name))
			return true;
	}
	return false;
}

/* Parses the parameters [p, end) of MAIL or RCPT into cmd. */
static int
smtpd_parse_params(struct smtpd_cmd *cmd, const char *p, const char *end,
    int flags, struct sbuf *scratch, struct smtpd_cmd_error *err)
{
	unsigned int seen = 0;

	while (p < end) {
		const char *tok = p, *eq, *val = NULL;
		size_t len = smtpd_next_token(&p, end), kw_len, val_len = 0;
		const struct smtpd_param *def = NULL;

		eq = memchr(tok, '=', len);
		kw_len = eq != NULL ? (size_t)(eq - tok) : len;
		if (!smtpd_is_keyword(tok, kw_len))
			return smtpd_fail(err, 501, "5.5.4",
			    "Bad parameter syntax");
		if (eq != NULL) {
			val = eq + 1;
			val_len = len - kw_len - 1;
		}
		for (size_t i = 0; i < SMTPD_NPARAMS; i++)
			if (smtpd_params[i].verb == cmd->verb &&
			    smtpd_eq_ci(tok, kw_len, smtpd_params[i].name))
				def = &smtpd_params[i];
		if (def == NULL || !(flags & def->ext))
			return smtpd_fail_unsupported(err, tok, kw_len);
		if (seen & (1u << (def - smtpd_params)))
			return smtpd_fail(err, 501, "5.5.4",
			    "Duplicate %s parameter", def->name);
		seen |= 1u << (def - smtpd_params);
		if (def->parse(cmd, val, val_len, flags, scratch, err) < 0)
			return -1;
	}
	return 0;
}

/* Parses the argument of MAIL ("FROM:<path> params") or RCPT ("TO:..."). */
static int
smtpd_parse_path(struct smtpd_cmd *cmd, const char *arg, size_t len,
    int flags, struct smtpd_cmd_error *err)
{
	bool mail = cmd->verb == SMTPD_VERB_MAIL;
	const char *word = mail ? "FROM:" : "TO:";
	const char *usage = mail ? "Syntax: MAIL FROM:<address>" :
	    "Syntax: RCPT TO:<address>";
	const char *bad = mail ? "Bad sender address syntax" :
	    "Bad recipient address syntax";
	const char *bad_status = mail ? "5.1.7" : "5.1.3";
	size_t word_len = strlen(word), path_len;
	const char *params, *end = arg + len;
	struct sbuf *scratch;
	bool utf8;
	int ret = -1;

	if (len < word_len || !smtpd_eq_ci(arg, word_len, word))
		return smtpd_fail(err, 501, "5.5.4", "%s", usage);
	for (arg += word_len; arg < end && *arg == ' '; arg++)
		continue;
	if (arg == end)
		return smtpd_fail(err, 501, "5.5.4", "%s", usage);
	len = (size_t)(end - arg);
	scratch = sbuf_new();
	if (addr_split_params(arg, len, &path_len, &params, scratch) < 0) {
		smtpd_fail(err, 501, bad_status, "%s: %s", bad,
		    sbuf_str(scratch));
		goto out;
	}
	if (mail)
		utf8 = (flags & SMTPD_CMD_EXT_SMTPUTF8) &&
		    smtpd_has_param(params, end, "SMTPUTF8");
	else
		utf8 = (flags & SMTPD_CMD_TXN_SMTPUTF8) != 0;
	if (!utf8) {
		for (size_t i = 0; i < path_len; i++) {
			if ((unsigned char)arg[i] >= 0x80) {
				smtpd_fail(err, 553, "5.6.7",
				    "Non-ASCII %s address requires SMTPUTF8",
				    mail ? "sender" : "recipient");
				goto out;
			}
		}
	}
	if (addr_parse(arg, path_len, (mail ? ADDR_FLAG_NULL :
	    ADDR_FLAG_POSTMASTER) | (utf8 ? ADDR_FLAG_SMTPUTF8 : 0),
	    &cmd->path, scratch) < 0) {
		smtpd_fail(err, 501, bad_status, "%s: %s", bad,
		    sbuf_str(scratch));
		goto out;
	}
	ret = smtpd_parse_params(cmd, params, end, flags, scratch, err);
out:
	sbuf_free(&scratch);
	return ret;
}

/* Parses the argument of HELO or EHLO. */
static int
smtpd_parse_helo(struct smtpd_cmd *cmd, const char *arg, size_t len,
    struct smtpd_cmd_error *err)
{
	struct sbuf *why;
	bool printable = len > 0;

	for (size_t i = 0; i < len && printable; i++)
		printable = (unsigned char)arg[i] >= 0x20 &&
		    (unsigned char)arg[i] <= 0x7e;
	if (!printable)
		return smtpd_fail(err, 501, "5.5.4", "Syntax: %s hostname",
		    smtpd_verb_name(cmd->verb));
	why = sbuf_new();
	cmd->helo.name = xstrndup(arg, len);
	cmd->helo.is_domain = addr_domain_check(arg, len, 0, why) == 0;
	sbuf_free(&why);
	return 0;
}

/* Parses the argument of BDAT: chunk-size [SP "LAST"]. */
static int
smtpd_parse_bdat(struct smtpd_cmd *cmd, const char *arg, size_t len,
    struct smtpd_cmd_error *err)
{
	const char *p = arg, *end = arg + len;
	size_t n = smtpd_next_token(&p, end);

	if (smtpd_parse_number(arg, n, 0, &cmd->bdat.size) < 0)
		return smtpd_fail(err, 501, "5.5.4",
		    "Syntax: BDAT count [LAST]");
	if (p < end) {
		if (!smtpd_eq_ci(p, (size_t)(end - p), "LAST"))
			return smtpd_fail(err, 501, "5.5.4",
			    "Syntax: BDAT count [LAST]");
		cmd->bdat.last = true;
	}
	return 0;
}

/* Parses the argument of AUTH: mechanism [SP initial-response]. */
static int
smtpd_parse_auth(struct smtpd_cmd *cmd, const char *arg, size_t len,
    struct smtpd_cmd_error *err)
{
	const char *p = arg, *end = arg + len;
	size_t n = smtpd_next_token(&p, end);

	if (n == 0 || n > SMTPD_MECH_MAX ||
	    memchr(p, ' ', (size_t)(end - p)) != NULL)
		return smtpd_fail(err, 501, "5.5.4",
		    "Syntax: AUTH mechanism [initial-response]");
	for (size_t i = 0; i < n; i++)
		if (!smtpd_is_alnum((unsigned char)arg[i]) &&
		    arg[i] != '-' && arg[i] != '_')
			return smtpd_fail(err, 501, "5.5.4",
			    "Syntax: AUTH mechanism [initial-response]");
	if (p < end && !smtpd_is_base64(p, (size_t)(end - p)))
		return smtpd_fail(err, 501, "5.5.2",
		    "Invalid base64 in initial response");
	cmd->auth.mech = xstrndup(arg, n);
	for (char *q = cmd->auth.mech; *q != '\0'; q++)
		*q = smtpd_upper(*q);
	if (p < end)
		cmd->auth.initial = xstrndup(p, (size_t)(end - p));
	return 0;
}

/* Parses the arguments of cmd->verb into cmd. */
static int
smtpd_parse_args(struct smtpd_cmd *cmd, const char *arg, size_t len,
    int flags, struct smtpd_cmd_error *err)
{
	switch (cmd->verb) {
	case SMTPD_VERB_HELO:
	case SMTPD_VERB_EHLO:
		return smtpd_parse_helo(cmd, arg, len, err);
	case SMTPD_VERB_MAIL:
	case SMTPD_VERB_RCPT:
		return smtpd_parse_path(cmd, arg, len, flags, err);
	case SMTPD_VERB_BDAT:
		return smtpd_parse_bdat(cmd, arg, len, err);
	case SMTPD_VERB_AUTH:
		return smtpd_parse_auth(cmd, arg, len, err);
	case SMTPD_VERB_DATA:
	case SMTPD_VERB_RSET:
	case SMTPD_VERB_QUIT:
	case SMTPD_VERB_STARTTLS:
		if (len > 0)
			return smtpd_fail(err, 501, "5.5.4", "Syntax: %s",
			    smtpd_verb_name(cmd->verb));
		return 0;
	case SMTPD_VERB_VRFY:
	case SMTPD_VERB_EXPN:
		if (len == 0)
			return smtpd_fail(err, 501, "5.5.4", "Syntax: %s %s",
			    smtpd_verb_name(cmd->verb),
			    cmd->verb == SMTPD_VERB_VRFY ? "address" :
			    "mailing-list");
		cmd->arg = xstrndup(arg, len);
		return 0;
	case SMTPD_VERB_NOOP:
	case SMTPD_VERB_HELP:
		return 0;
	case SMTPD_VERB_UNKNOWN:
		break;
	}
	return smtpd_fail(err, 500, "5.5.2",
	    "Syntax error, command unrecognized");
}

int
smtpd_cmd_parse(const char *line, size_t len, int flags,
    struct smtpd_cmd **cmd_r, struct smtpd_cmd_error *err)
{
	const char *sp, *arg, *end;
	struct smtpd_cmd *cmd;
	size_t verb_len;

	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	end = line + len;
	sp = memchr(line, ' ', len);
	verb_len = sp != NULL ? (size_t)(sp - line) : len;
	err->verb = SMTPD_VERB_UNKNOWN;
	for (size_t i = 0; i < SMTPD_NVERBS; i++)
		if (smtpd_eq_ci(line, verb_len, smtpd_verbs[i].name))
			err->verb = smtpd_verbs[i].verb;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c == '\0')
			return smtpd_fail(err, 500, "5.5.2",
			    "Syntax error, NUL byte in command");
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return smtpd_fail(err, 500, "5.5.2",
			    "Syntax error, control character in command");
	}
	for (arg = line + verb_len; arg < end && *arg == ' '; arg++)
		continue;
	cmd = xcalloc(1, sizeof(*cmd));
	cmd->verb = err->verb;
	if (smtpd_parse_args(cmd, arg, (size_t)(end - arg), flags, err) < 0) {
		smtpd_cmd_free(&cmd);
		return -1;
	}
	*cmd_r = cmd;
	return 0;
}

void
smtpd_cmd_free(struct smtpd_cmd **cmd)
{
	struct smtpd_cmd *c = *cmd;

	if (c == NULL)
		return;
	addr_free(&c->path);
	free(c->arg);
	free(c->helo.name);
	free(c->mail.envid);
	free(c->mail.auth);
	free(c->rcpt.orcpt_type);
	free(c->rcpt.orcpt);
	free(c->auth.mech);
	free(c->auth.initial);
	xfree(cmd);
}

const char *
smtpd_verb_name(enum smtpd_verb verb)
{
	for (size_t i = 0; i < SMTPD_NVERBS; i++)
		if (smtpd_verbs[i].verb == verb)
			return smtpd_verbs[i].name;
	return "UNKNOWN";
}
