/*
 * addr - parse and quote RFC 5321 mailbox addresses
 *
 * addr_parse() first checks every byte of the path (no NUL, no control
 * character, 8-bit only as well-formed UTF-8 under SMTPUTF8), then walks
 * it once from the left: '<', an optional source route, the local part
 * (Dot-string or Quoted-string, unquoted as it goes), '@', the domain (a
 * name or an address literal), '>'. Where the walk stops early, the byte
 * it stopped at chooses the reason. Lengths are checked component by
 * component, then for the whole path.
 *
 * Errors: -1 with a short reason in why, fit for an SMTP reply; never logs.
 * Trust: the path is hostile network or command-line data. Nothing is read
 * past its length, no fixed buffer is filled from it, and the work done
 * is linear in its length.
 */
#include "mail/addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "util/sbuf.h"
#include "util/utf8.h"
#include "util/xmalloc.h"

/* A cursor over the path being parsed. */
struct addr_scan {
	const unsigned char *p;		/* next byte */
	const unsigned char *end;	/* one past the last byte */
	int flags;
	struct sbuf *why;
};

/* Sets why to reason; returns -1. */
static int
addr_fail(struct sbuf *why, const char *reason)
{
	sbuf_set(why, reason);
	return -1;
}

/* Lower-cases an ASCII letter; leaves every other byte alone. */
static unsigned char
addr_fold(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* True when a and b are equal ignoring the case of ASCII letters. */
static bool
addr_eq_ci(const char *a, const char *b)
{
	const unsigned char *p = (const unsigned char *)a;
	const unsigned char *q = (const unsigned char *)b;

	for (; addr_fold(*p) == addr_fold(*q); p++, q++)
		if (*p == '\0')
			return true;
	return false;
}

/* True when p starts with the ASCII prefix, ignoring case. */
static bool
addr_prefix_ci(const unsigned char *p, const char *prefix)
{
	for (; *prefix != '\0'; p++, prefix++)
		if (addr_fold(*p) != addr_fold((unsigned char)*prefix))
			return false;
	return true;
}

/* True for an ASCII letter or digit. */
static bool
addr_is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/*
 * True for atext (RFC 5322 3.2.3); bytes from 0x80 up count, as the byte
 * check has admitted them only as UTF-8 under SMTPUTF8 (RFC 6531).
 */
static bool
addr_is_atext(unsigned char c)
{
	return addr_is_alnum(c) || c >= 0x80 ||
	    (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* True for a byte that may appear in a domain name. */
static bool
addr_is_name_byte(unsigned char c)
{
	return addr_is_alnum(c) || c == '-' || c == '.' || c >= 0x80;
}

/* Checks every byte of [p, end): no NUL or control, 8-bit only as UTF-8. */
static int
addr_check_bytes(const unsigned char *p, const unsigned char *end, int flags,
    struct sbuf *why)
{
	while (p < end) {
		size_t n;

		if (*p == '\0')
			return addr_fail(why, "NUL byte in address");
		if (*p < 0x20 || *p == 0x7f)
			return addr_fail(why, "control character in address");
		if (*p < 0x80) {
			p++;
			continue;
		}
		if (!(flags & ADDR_FLAG_SMTPUTF8))
			return addr_fail(why,
			    "non-ASCII character without SMTPUTF8");
		if ((n = utf8_seq_len(p, end, 0)) == 0)
			return addr_fail(why, "invalid UTF-8 in address");
		p += n;
	}
	return 0;
}

/* Checks a domain name whose bytes have passed addr_check_bytes(). */
static int
addr_check_name(const unsigned char *p, size_t len, struct sbuf *why)
{
	const unsigned char *end = p + len;

	if (len == 0)
		return addr_fail(why, "missing domain");
	for (;;) {
		const unsigned char *label = p;

		while (p < end && *p != '.') {
			if (!addr_is_alnum(*p) && *p != '-' && *p < 0x80)
				return addr_fail(why,
				    "invalid character in domain");
			p++;
		}
		if (p == label)
			return addr_fail(why, "empty label in domain");
		if (p - label > ADDR_LABEL_MAX)
			return addr_fail(why, "domain label too long");
		if (label[0] == '-' || p[-1] == '-')
			return addr_fail(why,
			    "hyphen at start or end of domain label");
		if (p == end)
			return 0;
		p++;
	}
}

/* Runs inet_pton() on len bytes of text; true when they are an address. */
static bool
addr_inet_ok(int family, const unsigned char *text, size_t len)
{
	unsigned char bin[sizeof(struct in6_addr)];
	char *copy = xstrndup((const char *)text, len);
	bool ok = inet_pton(family, copy, bin) == 1;

	free(copy);
	return ok;
}

/* Checks a general address literal's "tag:content" (RFC 5321 4.1.3). */
static int
addr_check_general(const unsigned char *p, size_t len, struct sbuf *why)
{
	const unsigned char *end = p + len;
	const unsigned char *colon = memchr(p, ':', len);

	if (colon == NULL || colon == p || colon + 1 == end ||
	    !addr_is_alnum(p[0]) || !addr_is_alnum(colon[-1]))
		return addr_fail(why, "invalid general address literal");
	for (; p < colon; p++)
		if (!addr_is_alnum(*p) && *p != '-')
			return addr_fail(why,
			    "invalid general address literal");
	for (p = colon + 1; p < end; p++)
		if (*p < 33 || *p > 126 || (*p >= 91 && *p <= 93))
			return addr_fail(why,
			    "invalid general address literal");
	return 0;
}

/* True when the len bytes at p are all digits and dots. */
static bool
addr_is_dotted(const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((p[i] < '0' || p[i] > '9') && p[i] != '.')
			return false;
	return true;
}

/* Checks an address literal "[...]" whose bytes have been checked. */
static int
addr_check_literal(const unsigned char *p, size_t len, int flags,
    struct sbuf *why)
{
	const unsigned char *in = p + 1;
	size_t in_len;

	if (len < 2 || p[len - 1] != ']')
		return addr_fail(why, "unbalanced brackets in address literal");
	in_len = len - 2;
	if (memchr(in, '[', in_len) != NULL || memchr(in, ']', in_len) != NULL)
		return addr_fail(why, "unbalanced brackets in address literal");
	if (in_len == 0)
		return addr_fail(why, "empty address literal");
	if (in_len >= 5 && addr_prefix_ci(in, "IPv6:")) {
		if (!addr_inet_ok(AF_INET6, in + 5, in_len - 5))
			return addr_fail(why, "invalid IPv6 address literal");
		return 0;
	}
	if (addr_is_dotted(in, in_len)) {
		if (!addr_inet_ok(AF_INET, in, in_len))
			return addr_fail(why, "invalid IPv4 address literal");
		return 0;
	}
	if (memchr(in, ':', in_len) == NULL)
		return addr_fail(why, "invalid address literal");
	if (!(flags & ADDR_FLAG_GENERAL_LIT))
		return addr_fail(why, "general address literal not allowed");
	return addr_check_general(in, in_len, why);
}

/* Checks a domain whose bytes have passed addr_check_bytes(). */
static int
addr_check_domain(const unsigned char *p, size_t len, int flags,
    struct sbuf *why)
{
	if (len > ADDR_DOMAIN_MAX)
		return addr_fail(why, "domain too long");
	if (len > 0 && p[0] == '[')
		return addr_check_literal(p, len, flags, why);
	return addr_check_name(p, len, why);
}

int
addr_domain_check(const char *domain, size_t len, int flags,
    struct sbuf *why)
{
	const unsigned char *p = (const unsigned char *)domain;

	if (addr_check_bytes(p, p + len, flags, why) < 0)
		return -1;
	return addr_check_domain(p, len, flags, why);
}

/*
 * Moves s->p past a domain: a literal up to and including its ']' (-1
 * when it has none), or a run of domain name bytes.
 */
static int
addr_scan_domain(struct addr_scan *s)
{
	if (s->p < s->end && *s->p == '[') {
		const unsigned char *close = memchr(s->p, ']',
		    (size_t)(s->end - s->p));

		if (close == NULL)
			return addr_fail(s->why,
			    "unbalanced brackets in address literal");
		s->p = close + 1;
		return 0;
	}
	while (s->p < s->end && addr_is_name_byte(*s->p))
		s->p++;
	return 0;
}

/*
 * Checks and skips a source route "@a.example,@b.example:" at s->p (which
 * is at its first '@'). "<@example.com>" has a domain and no local part.
 */
static int
addr_skip_route(struct addr_scan *s)
{
	for (;;) {
		const unsigned char *name = ++s->p;

		while (s->p < s->end && addr_is_name_byte(*s->p))
			s->p++;
		if (s->p < s->end && *s->p == '>')
			return addr_fail(s->why, "empty local part");
		if (s->p == s->end || (*s->p != ',' && *s->p != ':') ||
		    addr_check_domain(name, (size_t)(s->p - name), 0,
		    s->why) < 0)
			return addr_fail(s->why, "invalid source route");
		if (*s->p++ == ':')
			return 0;
		if (s->p == s->end || *s->p != '@')
			return addr_fail(s->why, "invalid source route");
	}
}

/*
 * Parses the local part at s->p, appending it unquoted to local; stops at
 * the first byte that cannot continue it. *quoted_r tells whether it was a
 * Quoted-string.
 */
static int
addr_parse_local(struct addr_scan *s, struct sbuf *local, bool *quoted_r)
{
	*quoted_r = s->p < s->end && *s->p == '"';
	if (*quoted_r) {
		for (s->p++;; s->p++) {
			if (s->p == s->end)
				return addr_fail(s->why,
				    "unbalanced quote in local part");
			if (*s->p == '"')
				break;
			if (*s->p == '\\') {
				if (++s->p == s->end)
					return addr_fail(s->why,
					    "unbalanced quote in local part");
				if (*s->p > 126)
					return addr_fail(s->why, "invalid "
					    "quoted pair in local part");
			}
			sbuf_catc(local, *s->p);
		}
		s->p++;
		return 0;
	}
	for (; s->p < s->end; s->p++) {
		if (*s->p == '.') {
			if (sbuf_len(local) == 0)
				return addr_fail(s->why,
				    "dot at start of local part");
			if (sbuf_str(local)[sbuf_len(local) - 1] == '.')
				return addr_fail(s->why,
				    "consecutive dots in local part");
		} else if (!addr_is_atext(*s->p))
			break;
		sbuf_catc(local, *s->p);
	}
	if (sbuf_len(local) > 0 && sbuf_str(local)[sbuf_len(local) - 1] == '.')
		return addr_fail(s->why, "dot at end of local part");
	return 0;
}

/*
 * Checks that s->p is at the end of the path: at '>' and then the end of
 * the input when bracketed, else at the end of the input. Otherwise the
 * byte there chooses the reason; what names the part that it follows.
 */
static int
addr_end_of_path(struct addr_scan *s, bool bracketed, const char *what)
{
	if (bracketed && s->p == s->end)
		return addr_fail(s->why, "missing closing angle bracket");
	if (bracketed && *s->p == '>') {
		if (++s->p != s->end)
			return addr_fail(s->why, "garbage after address");
		return 0;
	}
	if (s->p == s->end)
		return 0;
	switch (*s->p) {
	case ' ':
		return addr_fail(s->why, "space outside quotes");
	case '<':
	case '>':
		return addr_fail(s->why, "unbalanced angle brackets");
	case '"':
		return addr_fail(s->why, "misplaced quote in local part");
	}
	sbuf_setf(s->why, "invalid character in %s", what);
	return -1;
}

/* Returns a new address made of copies of local and domain (may be NULL). */
static struct addr *
addr_new(const char *local, const unsigned char *domain, size_t domain_len)
{
	struct addr *a = xmalloc(sizeof(*a));

	a->local = xstrdup(local);
	a->domain = domain == NULL ? NULL :
	    xstrndup((const char *)domain, domain_len);
	return a;
}

/*
 * Parses what follows '<' and a source route, or a whole bare address,
 * into a new address.
 */
static int
addr_parse_mailbox(struct addr_scan *s, bool bracketed, struct addr **addr_r)
{
	struct sbuf *local = sbuf_new();
	const unsigned char *start = s->p, *domain = NULL;
	size_t local_len, domain_len = 0;
	bool quoted;
	int ret = -1;

	if (addr_parse_local(s, local, &quoted) < 0)
		goto out;
	local_len = (size_t)(s->p - start);
	if (s->p < s->end && *s->p == '@') {
		domain = ++s->p;
		if (addr_scan_domain(s) < 0)
			goto out;
		domain_len = (size_t)(s->p - domain);
		if (addr_end_of_path(s, bracketed, "domain") < 0)
			goto out;
	} else if (addr_end_of_path(s, bracketed, "local part") < 0)
		goto out;
	if (sbuf_len(local) == 0) {
		addr_fail(s->why, "empty local part");
		goto out;
	}
	if (local_len > ADDR_LOCAL_MAX) {
		addr_fail(s->why, "local part too long");
		goto out;
	}
	if (domain != NULL) {
		if (addr_check_domain(domain, domain_len, s->flags,
		    s->why) < 0)
			goto out;
	} else if (!(s->flags & ADDR_FLAG_LOCAL_ONLY) &&
	    !((s->flags & ADDR_FLAG_POSTMASTER) && !quoted &&
	    addr_eq_ci(sbuf_str(local), "postmaster"))) {
		addr_fail(s->why, "missing domain");
		goto out;
	}
	*addr_r = addr_new(sbuf_str(local), domain, domain_len);
	ret = 0;
out:
	sbuf_free(&local);
	return ret;
}

int
addr_parse(const char *path, size_t len, int flags, struct addr **addr_r,
    struct sbuf *why)
{
	struct addr_scan s = {
		.p = (const unsigned char *)path,
		.end = (const unsigned char *)path + len,
		.flags = flags,
		.why = why,
	};
	bool bracketed = len > 0 && path[0] == '<';
	struct addr *a;

	if (len == 0)
		return addr_fail(why, "empty address");
	if (addr_check_bytes(s.p, s.end, flags, why) < 0)
		return -1;
	if (!bracketed && !(flags & ADDR_FLAG_BARE))
		return addr_fail(why, "missing angle brackets");
	if (bracketed) {
		s.p++;
		if (s.p < s.end && *s.p == '>') {
			if (len > 2)
				return addr_fail(why, "garbage after address");
			if (!(flags & ADDR_FLAG_NULL))
				return addr_fail(why,
				    "null address not allowed");
			*addr_r = addr_new("", NULL, 0);
			return 0;
		}
		if (s.p < s.end && *s.p == '@' && addr_skip_route(&s) < 0)
			return -1;
	}
	if (addr_parse_mailbox(&s, bracketed, &a) < 0)
		return -1;
	if ((bracketed ? len : len + 2) > ADDR_PATH_MAX) {
		addr_free(&a);
		return addr_fail(why, "address too long");
	}
	*addr_r = a;
	return 0;
}

void
addr_free(struct addr **addr)
{
	if (*addr == NULL)
		return;
	free((*addr)->local);
	free((*addr)->domain);
	xfree(addr);
}

int
addr_split_params(const char *arg, size_t len, size_t *path_len_r,
    const char **params_r, struct sbuf *why)
{
	bool bracketed = len > 0 && arg[0] == '<';
	bool quoted = false, closed = !bracketed;
	size_t i, local_at = bracketed ? 1 : 0;

	/* A quote opens only where the local part starts: after any route. */
	if (local_at < len && arg[local_at] == '@') {
		const char *colon = memchr(arg, ':', len);

		local_at = colon != NULL ? (size_t)(colon - arg) + 1 : len;
	}
	for (i = bracketed ? 1 : 0; i < len; i++) {
		if (quoted) {
			if (arg[i] == '\\' && i + 1 < len)
				i++;
			else if (arg[i] == '"')
				quoted = false;
		} else if (arg[i] == '"' && i == local_at)
			quoted = true;
		else if (bracketed && arg[i] == '>') {
			closed = true;
			i++;
			break;
		} else if (!bracketed && arg[i] == ' ')
			break;
	}
	if (quoted)
		return addr_fail(why, "unbalanced quote in local part");
	if (!closed)
		return addr_fail(why, "missing closing angle bracket");
	if (i < len && arg[i] != ' ')
		return addr_fail(why, "garbage after address");
	*path_len_r = i;
	while (i < len && arg[i] == ' ')
		i++;
	*params_r = arg + i;
	return 0;
}

/* True when local is a Dot-string (bytes from 0x80 up count as atext). */
static bool
addr_is_dot_string(const char *local)
{
	const unsigned char *p = (const unsigned char *)local;

	if (*p == '\0' || *p == '.')
		return false;
	for (; *p != '\0'; p++) {
		if (*p == '.' ? p[1] == '.' || p[1] == '\0' :
		    !addr_is_atext(*p))
			return false;
	}
	return true;
}

int
addr_quote(const char *local, const char *domain, struct sbuf *out)
{
	size_t mark = sbuf_len(out);
	int ret = 0;

	for (const unsigned char *p = (const unsigned char *)local; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return -1;
	if (*local == '\0') {
		if (domain != NULL)
			return -1;
	} else if (addr_is_dot_string(local))
		ret = sbuf_cat(out, local);
	else {
		ret = sbuf_catc(out, '"');
		for (const char *p = local; *p != '\0' && ret == 0; p++) {
			if (*p == '"' || *p == '\\')
				ret = sbuf_catc(out, '\\');
			if (ret == 0)
				ret = sbuf_catc(out, *p);
		}
		if (ret == 0)
			ret = sbuf_catc(out, '"');
	}
	if (ret == 0 && domain != NULL && (ret = sbuf_catc(out, '@')) == 0)
		ret = sbuf_cat(out, domain);
	if (ret < 0)
		sbuf_truncate(out, mark);
	return ret;
}

const char *
addr_split_internal(const char *internal)
{
	return strrchr(internal, '@');
}

char *
addr_domain_lower(char *domain)
{
	for (char *p = domain; *p != '\0'; p++)
		*p = (char)addr_fold((unsigned char)*p);
	return domain;
}

bool
addr_domain_equal(const char *a, const char *b)
{
	return addr_eq_ci(a, b);
}
