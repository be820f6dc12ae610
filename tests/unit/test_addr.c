/*
 * test_addr - RFC 5321 mailbox addresses: parsing, quoting, helpers
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/addr.h"
#include "util/sbuf.h"

#define BARE	ADDR_FLAG_BARE
#define NUL	ADDR_FLAG_NULL
#define PM	ADDR_FLAG_POSTMASTER
#define UTF8	ADDR_FLAG_SMTPUTF8
#define GLIT	ADDR_FLAG_GENERAL_LIT
#define LONLY	ADDR_FLAG_LOCAL_ONLY

/* A literal that may hold NULs: the text and its length. */
#define BIN(s) s, sizeof(s) - 1

struct parse_case {
	const char *name;
	const char *in;
	size_t len;		/* bytes of in */
	int flags;
	const char *local;	/* expected; NULL when an error is expected */
	const char *domain;	/* expected; NULL for none */
	const char *reason;	/* expected in why on error */
};

static const struct parse_case parse_cases[] = {
	/* Plain addresses. */
	{ "simple", BIN("<user@example.com>"), 0, "user", "example.com", NULL },
	{ "case kept", BIN("<User@Example.COM>"), 0, "User", "Example.COM",
	    NULL },
	{ "dots", BIN("<john.q.doe@mail.example.com>"), 0, "john.q.doe",
	    "mail.example.com", NULL },
	{ "all atext", BIN("<!#$%&'*+-/=?^_`{|}~@x.example>"), 0,
	    "!#$%&'*+-/=?^_`{|}~", "x.example", NULL },
	{ "numeric domain", BIN("<a@123>"), 0, "a", "123", NULL },
	{ "hyphens inside labels", BIN("<a@xn--bcher-kva.ex-ample>"), 0,
	    "a", "xn--bcher-kva.ex-ample", NULL },
	{ "postmaster at domain", BIN("<postmaster@example.com>"), 0,
	    "postmaster", "example.com", NULL },

	/* Quoted local parts. */
	{ "quoted space", BIN("<\"john doe\"@example.com>"), 0, "john doe",
	    "example.com", NULL },
	{ "quoted at", BIN("<\"a@b\"@example.com>"), 0, "a@b",
	    "example.com", NULL },
	{ "quoted escaped quote", BIN("<\"a\\\"b\"@x>"), 0, "a\"b", "x", NULL },
	{ "quoted escaped backslash", BIN("<\"a\\\\b\"@x>"), 0, "a\\b", "x",
	    NULL },
	{ "quoted needless escape", BIN("<\"\\a\\ b\"@x>"), 0, "a b", "x",
	    NULL },
	{ "quoted angle bracket", BIN("<\"a>b<\"@x>"), 0, "a>b<", "x", NULL },
	{ "quoted dots", BIN("<\".a..b.\"@x>"), 0, ".a..b.", "x", NULL },
	{ "quoted dot-string", BIN("<\"abc\"@x>"), 0, "abc", "x", NULL },
	{ "quoted empty", BIN("<\"\"@x>"), 0, NULL, NULL, "empty local part" },
	{ "unterminated quote", BIN("<\"a b@x>"), 0, NULL, NULL,
	    "unbalanced quote in local part" },
	{ "escaped closing quote", BIN("<\"a\\\"@x>"), 0, NULL, NULL,
	    "unbalanced quote in local part" },
	{ "escape at end", BIN("<\"ab\\"), 0, NULL, NULL,
	    "unbalanced quote in local part" },
	{ "quote mid dot-string", BIN("<a\"b\"@x>"), 0, NULL, NULL,
	    "misplaced quote in local part" },
	{ "text after quoted", BIN("<\"a\"b@x>"), 0, NULL, NULL,
	    "invalid character in local part" },
	{ "quoted tab", BIN("<\"a\tb\"@x>"), 0, NULL, NULL,
	    "control character" },
	{ "quoted pair 8-bit", BIN("<\"a\\\xc3\xa9\"@x>"), UTF8, NULL, NULL,
	    "invalid quoted pair" },

	/* Dot-string rules. */
	{ "leading dot", BIN("<.a@x>"), 0, NULL, NULL,
	    "dot at start of local part" },
	{ "trailing dot", BIN("<a.@x>"), 0, NULL, NULL,
	    "dot at end of local part" },
	{ "double dot", BIN("<a..b@x>"), 0, NULL, NULL,
	    "consecutive dots in local part" },
	{ "parenthesis", BIN("<a(b)@x>"), 0, NULL, NULL,
	    "invalid character in local part" },
	{ "comma", BIN("<a,b@x>"), 0, NULL, NULL,
	    "invalid character in local part" },
	{ "empty local", BIN("<@x>"), 0, NULL, NULL, "empty local part" },
	{ "bare empty local", BIN("@x"), BARE, NULL, NULL,
	    "empty local part" },
	{ "space before local", BIN("< a@x>"), 0, NULL, NULL,
	    "space outside quotes" },
	{ "space in local", BIN("<a b@x>"), 0, NULL, NULL,
	    "space outside quotes" },

	/* Domains. */
	{ "missing domain", BIN("<user>"), 0, NULL, NULL, "missing domain" },
	{ "empty domain", BIN("<user@>"), 0, NULL, NULL, "missing domain" },
	{ "leading hyphen", BIN("<a@-x.example>"), 0, NULL, NULL,
	    "hyphen at start or end of domain label" },
	{ "trailing hyphen", BIN("<a@x-.example>"), 0, NULL, NULL,
	    "hyphen at start or end of domain label" },
	{ "empty label", BIN("<a@x..example>"), 0, NULL, NULL,
	    "empty label in domain" },
	{ "leading dot domain", BIN("<a@.example>"), 0, NULL, NULL,
	    "empty label in domain" },
	{ "trailing dot domain", BIN("<a@example.>"), 0, NULL, NULL,
	    "empty label in domain" },
	{ "underscore", BIN("<a@x_y.example>"), 0, NULL, NULL,
	    "invalid character in domain" },
	{ "second at", BIN("<a@b@c>"), 0, NULL, NULL,
	    "invalid character in domain" },
	{ "space in domain", BIN("<a@b c>"), 0, NULL, NULL,
	    "space outside quotes" },

	/* Address literals. */
	{ "ipv4", BIN("<a@[192.0.2.1]>"), 0, "a", "[192.0.2.1]", NULL },
	{ "ipv6", BIN("<a@[IPv6:2001:db8::1]>"), 0, "a",
	    "[IPv6:2001:db8::1]", NULL },
	{ "ipv6 tag case", BIN("<a@[ipv6:::1]>"), 0, "a", "[ipv6:::1]", NULL },
	{ "ipv6 v4 tail", BIN("<a@[IPv6:::ffff:192.0.2.1]>"), 0, "a",
	    "[IPv6:::ffff:192.0.2.1]", NULL },
	{ "ipv6 eight groups", BIN("<a@[IPv6:1:2:3:4:5:6:7:8]>"), 0, "a",
	    "[IPv6:1:2:3:4:5:6:7:8]", NULL },
	{ "ipv6 nine groups", BIN("<a@[IPv6:1:2:3:4:5:6:7:8:9]>"), 0, NULL,
	    NULL, "invalid IPv6 address literal" },
	{ "ipv6 zone", BIN("<a@[IPv6:fe80::1%eth0]>"), 0, NULL, NULL,
	    "invalid IPv6 address literal" },
	{ "ipv4 leading zero", BIN("<a@[192.0.02.1]>"), 0, NULL, NULL,
	    "invalid IPv4 address literal" },
	{ "ipv4 octet 256", BIN("<a@[256.0.2.1]>"), 0, NULL, NULL,
	    "invalid IPv4 address literal" },
	{ "ipv4 three parts", BIN("<a@[192.0.2]>"), 0, NULL, NULL,
	    "invalid IPv4 address literal" },
	{ "ipv4 trailing dot", BIN("<a@[192.0.2.1.]>"), 0, NULL, NULL,
	    "invalid IPv4 address literal" },
	{ "ipv6 bad digit", BIN("<a@[IPv6:2001:db8::g]>"), 0, NULL, NULL,
	    "invalid IPv6 address literal" },
	{ "ipv6 two gaps", BIN("<a@[IPv6:1::2::3]>"), 0, NULL, NULL,
	    "invalid IPv6 address literal" },
	{ "ipv6 holding ipv4", BIN("<a@[IPv6:192.0.2.1]>"), 0, NULL, NULL,
	    "invalid IPv6 address literal" },
	{ "ipv6 without tag", BIN("<a@[2001:db8::1]>"), 0, NULL, NULL,
	    "general address literal not allowed" },
	{ "ipv6 utf-8", BIN("<a@[IPv6:\xc3\xa9]>"), UTF8, NULL, NULL,
	    "invalid IPv6 address literal" },
	{ "empty literal", BIN("<a@[]>"), 0, NULL, NULL,
	    "empty address literal" },
	{ "unclosed literal", BIN("<a@[192.0.2.1>"), 0, NULL, NULL,
	    "unbalanced brackets in address literal" },
	{ "nested literal", BIN("<a@[[192.0.2.1]>"), 0, NULL, NULL,
	    "unbalanced brackets in address literal" },
	{ "doubled closing", BIN("<a@[192.0.2.1]]>"), 0, NULL, NULL,
	    "invalid character in domain" },
	{ "text after literal", BIN("<a@[192.0.2.1]x>"), 0, NULL, NULL,
	    "invalid character in domain" },
	{ "literal word", BIN("<a@[localhost]>"), 0, NULL, NULL,
	    "invalid address literal" },
	{ "general literal refused", BIN("<a@[x400:c=gb]>"), 0, NULL, NULL,
	    "general address literal not allowed" },
	{ "general literal", BIN("<a@[x400:c=gb;a=b]>"), GLIT, "a",
	    "[x400:c=gb;a=b]", NULL },
	{ "general empty tag", BIN("<a@[:abc]>"), GLIT, NULL, NULL,
	    "invalid general address literal" },
	{ "general empty content", BIN("<a@[x400:]>"), GLIT, NULL, NULL,
	    "invalid general address literal" },
	{ "general tag hyphen end", BIN("<a@[x-:abc]>"), GLIT, NULL, NULL,
	    "invalid general address literal" },
	{ "general bad tag char", BIN("<a@[x_y:abc]>"), GLIT, NULL, NULL,
	    "invalid general address literal" },
	{ "general backslash", BIN("<a@[x:a\\b]>"), GLIT, NULL, NULL,
	    "invalid general address literal" },
	{ "general space", BIN("<a@[x:a b]>"), GLIT, NULL, NULL,
	    "invalid general address literal" },

	/* Source routes. */
	{ "route two hops", BIN("<@a.example,@b.example:user@c.example>"), 0,
	    "user", "c.example", NULL },
	{ "route one hop", BIN("<@a.example:\"x y\"@c.example>"), 0, "x y",
	    "c.example", NULL },
	{ "route empty hop", BIN("<@:user@c.example>"), 0, NULL, NULL,
	    "invalid source route" },
	{ "route missing at", BIN("<@a.example,b.example:u@c>"), 0, NULL,
	    NULL, "invalid source route" },
	{ "route bad domain", BIN("<@a..example:u@c>"), 0, NULL, NULL,
	    "invalid source route" },
	{ "route with space", BIN("<@a.example u@c>"), 0, NULL, NULL,
	    "invalid source route" },
	{ "route literal", BIN("<@[192.0.2.1]:u@c>"), 0, NULL, NULL,
	    "invalid source route" },
	{ "route unterminated", BIN("<@a.example"), 0, NULL, NULL,
	    "invalid source route" },
	{ "route then nothing", BIN("<@a.example:>"), 0, NULL, NULL,
	    "empty local part" },

	/* The null path and Postmaster. */
	{ "null allowed", BIN("<>"), NUL, "", NULL, NULL },
	{ "null refused", BIN("<>"), 0, NULL, NULL,
	    "null address not allowed" },
	{ "null with garbage", BIN("<>x"), NUL, NULL, NULL,
	    "garbage after address" },
	{ "postmaster allowed", BIN("<Postmaster>"), PM, "Postmaster", NULL,
	    NULL },
	{ "postmaster any case", BIN("<pOSTMASTER>"), PM, "pOSTMASTER",
	    NULL, NULL },
	{ "postmaster refused", BIN("<Postmaster>"), 0, NULL, NULL,
	    "missing domain" },
	{ "postmaster quoted", BIN("<\"Postmaster\">"), PM, NULL, NULL,
	    "missing domain" },
	{ "postmaster longer", BIN("<postmasters>"), PM, NULL, NULL,
	    "missing domain" },
	{ "postmaster null refused", BIN("<>"), PM, NULL, NULL,
	    "null address not allowed" },

	/* Bare form and unqualified local parts. */
	{ "bare refused", BIN("user@example.com"), 0, NULL, NULL,
	    "missing angle brackets" },
	{ "bare allowed", BIN("user@example.com"), BARE, "user",
	    "example.com", NULL },
	{ "bare quoted", BIN("\"a b\"@example.com"), BARE, "a b",
	    "example.com", NULL },
	{ "bare bracketed anyway", BIN("<user@example.com>"), BARE, "user",
	    "example.com", NULL },
	{ "bare closing bracket", BIN("user@example.com>"), BARE, NULL, NULL,
	    "unbalanced angle brackets" },
	{ "bare space", BIN("user@example.com x"), BARE, NULL, NULL,
	    "space outside quotes" },
	{ "bare unqualified refused", BIN("root"), BARE, NULL, NULL,
	    "missing domain" },
	{ "bare unqualified", BIN("root"), BARE | LONLY, "root", NULL, NULL },
	{ "unqualified bracketed", BIN("<\"a b\">"), LONLY, "a b", NULL, NULL },

	/* Angle brackets and what follows them. */
	{ "empty", BIN(""), 0, NULL, NULL, "empty address" },
	{ "lone bracket", BIN("<"), 0, NULL, NULL,
	    "missing closing angle bracket" },
	{ "unclosed", BIN("<user@example.com"), 0, NULL, NULL,
	    "missing closing angle bracket" },
	{ "doubled brackets", BIN("<<user@example.com>>"), 0, NULL, NULL,
	    "unbalanced angle brackets" },
	{ "extra closing", BIN("<user@example.com>>"), 0, NULL, NULL,
	    "garbage after address" },
	{ "trailing text", BIN("<user@example.com>x"), 0, NULL, NULL,
	    "garbage after address" },
	{ "trailing params", BIN("<user@example.com> SIZE=100"), 0, NULL,
	    NULL, "garbage after address" },
	{ "bracket in local", BIN("<us<er@example.com>"), 0, NULL, NULL,
	    "unbalanced angle brackets" },
	{ "bracket in domain", BIN("<user@exa<mple.com>"), 0, NULL, NULL,
	    "unbalanced angle brackets" },

	/* NUL and control characters. */
	{ "nul in local", BIN("<us\0er@example.com>"), 0, NULL, NULL,
	    "NUL byte in address" },
	{ "nul in quotes", BIN("<\"us\0er\"@example.com>"), 0, NULL, NULL,
	    "NUL byte in address" },
	{ "nul after path", BIN("<user@example.com>\0"), 0, NULL, NULL,
	    "NUL byte in address" },
	{ "crlf inside", BIN("<user@example.com\r\n>"), 0, NULL, NULL,
	    "control character in address" },
	{ "bare lf", BIN("<us\ner@example.com>"), 0, NULL, NULL,
	    "control character in address" },
	{ "crlf after", BIN("<user@example.com>\r\n"), 0, NULL, NULL,
	    "control character in address" },
	{ "del", BIN("<us\x7f" "er@example.com>"), 0, NULL, NULL,
	    "control character in address" },
	{ "escape char", BIN("<user@exa\x1bmple.com>"), 0, NULL, NULL,
	    "control character in address" },

	/* UTF-8. */
	{ "utf-8 refused", BIN("<j\xc3\xb6" "e@example.com>"), 0, NULL, NULL,
	    "non-ASCII character without SMTPUTF8" },
	{ "utf-8 domain refused", BIN("<a@b\xc3\xbc" "cher.example>"), 0,
	    NULL, NULL, "non-ASCII character without SMTPUTF8" },
	{ "utf-8 local", BIN("<j\xc3\xb6" "e@example.com>"), UTF8,
	    "j\xc3\xb6" "e", "example.com", NULL },
	{ "utf-8 domain", BIN("<a@b\xc3\xbc" "cher.example>"), UTF8, "a",
	    "b\xc3\xbc" "cher.example", NULL },
	{ "utf-8 four bytes", BIN("<\xf0\x9f\x98\x80@\xe4\xbe\x8b.example>"),
	    UTF8, "\xf0\x9f\x98\x80", "\xe4\xbe\x8b.example", NULL },
	{ "utf-8 quoted", BIN("<\"j\xc3\xb6 e\"@example.com>"), UTF8,
	    "j\xc3\xb6 e", "example.com", NULL },
	{ "utf-8 max code point", BIN("<\xf4\x8f\xbf\xbf@x>"), UTF8,
	    "\xf4\x8f\xbf\xbf", "x", NULL },
	{ "overlong two bytes", BIN("<\xc0\xaf@x>"), UTF8, NULL, NULL,
	    "invalid UTF-8" },
	{ "overlong c1", BIN("<\xc1\xbf@x>"), UTF8, NULL, NULL,
	    "invalid UTF-8" },
	{ "overlong three bytes", BIN("<\xe0\x80\xaf@x>"), UTF8, NULL, NULL,
	    "invalid UTF-8" },
	{ "overlong four bytes", BIN("<\xf0\x80\x80\xaf@x>"), UTF8, NULL,
	    NULL, "invalid UTF-8" },
	{ "surrogate", BIN("<\xed\xa0\x80@x>"), UTF8, NULL, NULL,
	    "invalid UTF-8" },
	{ "past max code point", BIN("<\xf4\x90\x80\x80@x>"), UTF8, NULL,
	    NULL, "invalid UTF-8" },
	{ "f5 lead", BIN("<\xf5\x80\x80\x80@x>"), UTF8, NULL, NULL,
	    "invalid UTF-8" },
	{ "stray continuation", BIN("<a\x80@x>"), UTF8, NULL, NULL,
	    "invalid UTF-8" },
	{ "truncated inside", BIN("<a\xc3@x>"), UTF8, NULL, NULL,
	    "invalid UTF-8" },
	{ "truncated at end", BIN("<a@x\xe4\xbe"), UTF8, NULL, NULL,
	    "invalid UTF-8" },
	{ "ff byte", BIN("<a\xff@x>"), UTF8, NULL, NULL, "invalid UTF-8" },
	{ "utf-8 hyphen rule", BIN("<a@-\xc3\xbc.example>"), UTF8, NULL,
	    NULL, "hyphen at start or end of domain label" },
};

/* Parses a row's input and checks the result against the row. */
static void
check_parse_case(const struct parse_case *c)
{
	struct sbuf *why = sbuf_new();
	struct addr *a = NULL;
	int rc = addr_parse(c->in, c->len, c->flags, &a, why);

	if (c->local == NULL) {
		if (rc == 0)
			fail_msg("%s: accepted, local \"%s\"", c->name,
			    a->local);
		if (strstr(sbuf_str(why), c->reason) == NULL)
			fail_msg("%s: reason \"%s\", want \"%s\"", c->name,
			    sbuf_str(why), c->reason);
		assert_null(a);
	} else {
		if (rc != 0)
			fail_msg("%s: rejected: %s", c->name, sbuf_str(why));
		if (strcmp(a->local, c->local) != 0)
			fail_msg("%s: local \"%s\"", c->name, a->local);
		if (c->domain == NULL ? a->domain != NULL :
		    a->domain == NULL || strcmp(a->domain, c->domain) != 0)
			fail_msg("%s: domain \"%s\"", c->name,
			    a->domain ? a->domain : "(null)");
	}
	addr_free(&a);
	assert_null(a);
	sbuf_free(&why);
}

static void
test_parse_table(void **state)
{
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(*parse_cases); i++)
		check_parse_case(&parse_cases[i]);
}

/* Appends n copies of c. */
static void
rep(struct sbuf *sb, int c, size_t n)
{
	while (n-- > 0)
		sbuf_catc(sb, c);
}

/* Appends a domain name of exactly n octets (n >= 1), labels of <= 63. */
static void
make_domain(struct sbuf *sb, size_t n)
{
	while (n > 63) {
		size_t label = n == 64 ? 62 : 63;

		rep(sb, 'd', label);
		sbuf_catc(sb, '.');
		n -= label + 1;
	}
	rep(sb, 'e', n);
}

struct length_case {
	const char *name;
	size_t local;		/* octets of local part ('l's) */
	bool quoted;		/* local part in quotes (counted in local) */
	size_t domain;		/* octets of domain */
	int flags;		/* BARE: no angle brackets */
	const char *reason;	/* NULL when accepted */
};

static const struct length_case length_cases[] = {
	{ "local 64", 64, false, 10, 0, NULL },
	{ "local 65", 65, false, 10, 0, "local part too long" },
	{ "quoted local 64", 64, true, 10, 0, NULL },
	{ "quoted local 65", 65, true, 10, 0, "local part too long" },
	{ "path 256", 64, false, 189, 0, NULL },
	{ "path 257", 64, false, 190, 0, "address too long" },
	{ "bare path 256", 64, false, 189, BARE, NULL },
	{ "bare path 257", 64, false, 190, BARE, "address too long" },
	{ "domain 255 in a path", 1, false, 255, 0, "address too long" },
	{ "domain 256 in a path", 1, false, 256, 0, "domain too long" },
	{ "huge local", 100000, false, 10, 0, "local part too long" },
	{ "huge domain", 1, false, 100000, 0, "domain too long" },
};

static void
test_parse_lengths(void **state)
{
	for (size_t i = 0; i < sizeof(length_cases) / sizeof(*length_cases);
	    i++) {
		const struct length_case *c = &length_cases[i];
		struct sbuf *in = sbuf_new(), *why = sbuf_new();
		struct addr *a = NULL;
		size_t fill = c->quoted ? c->local - 2 : c->local;
		int rc;

		if (!(c->flags & BARE))
			sbuf_catc(in, '<');
		if (c->quoted)
			sbuf_catc(in, '"');
		rep(in, c->quoted ? ' ' : 'l', fill);
		if (c->quoted)
			sbuf_catc(in, '"');
		sbuf_catc(in, '@');
		make_domain(in, c->domain);
		if (!(c->flags & BARE))
			sbuf_catc(in, '>');
		rc = addr_parse(sbuf_str(in), sbuf_len(in), c->flags, &a, why);
		if (c->reason == NULL) {
			if (rc != 0)
				fail_msg("%s: rejected: %s", c->name,
				    sbuf_str(why));
			assert_int_equal(strlen(a->local), fill);
			assert_int_equal(strlen(a->domain), c->domain);
		} else {
			if (rc == 0)
				fail_msg("%s: accepted", c->name);
			if (strcmp(sbuf_str(why), c->reason) != 0)
				fail_msg("%s: reason \"%s\", want \"%s\"",
				    c->name, sbuf_str(why), c->reason);
		}
		addr_free(&a);
		sbuf_free(&in);
		sbuf_free(&why);
	}
}

static void
test_route_counts_in_path(void **state)
{
	struct sbuf *in = sbuf_new(), *why = sbuf_new();
	struct addr *a = NULL;

	/* "<@" 61 ":" 64 "@" 126 ">" = 256 octets. */
	sbuf_cat(in, "<@");
	make_domain(in, 61);
	sbuf_catc(in, ':');
	rep(in, 'l', 64);
	sbuf_catc(in, '@');
	make_domain(in, 126);
	sbuf_catc(in, '>');
	assert_int_equal(sbuf_len(in), 256);
	assert_int_equal(addr_parse(sbuf_str(in), sbuf_len(in), 0, &a, why),
	    0);
	assert_int_equal(strlen(a->domain), 126);
	addr_free(&a);

	sbuf_reset(in);
	sbuf_cat(in, "<@");
	make_domain(in, 62);
	sbuf_catc(in, ':');
	rep(in, 'l', 64);
	sbuf_catc(in, '@');
	make_domain(in, 126);
	sbuf_catc(in, '>');
	assert_int_equal(addr_parse(sbuf_str(in), sbuf_len(in), 0, &a, why),
	    -1);
	assert_string_equal(sbuf_str(why), "address too long");
	assert_null(a);
	sbuf_free(&in);
	sbuf_free(&why);
}

struct domain_case {
	const char *name;
	size_t labels[5];	/* label lengths, 0 ends */
	const char *reason;	/* NULL when valid */
};

static const struct domain_case domain_cases[] = {
	{ "label 63", { 63 }, NULL },
	{ "label 64", { 64 }, "domain label too long" },
	{ "domain 255", { 63, 63, 63, 63 }, NULL },
	{ "domain 256 short labels", { 63, 63, 63, 62, 1 },
	    "domain too long" },
	{ "domain 254", { 63, 63, 63, 62 }, NULL },
};

static void
test_domain_lengths(void **state)
{
	for (size_t i = 0; i < sizeof(domain_cases) / sizeof(*domain_cases);
	    i++) {
		const struct domain_case *c = &domain_cases[i];
		struct sbuf *d = sbuf_new(), *why = sbuf_new();
		int rc;

		for (size_t j = 0; j < 5 && c->labels[j] != 0; j++) {
			if (j > 0)
				sbuf_catc(d, '.');
			rep(d, 'a' + (int)j, c->labels[j]);
		}
		rc = addr_domain_check(sbuf_str(d), sbuf_len(d), 0, why);
		if (c->reason == NULL && rc != 0)
			fail_msg("%s: rejected: %s", c->name, sbuf_str(why));
		if (c->reason != NULL && (rc == 0 ||
		    strcmp(sbuf_str(why), c->reason) != 0))
			fail_msg("%s: rc %d reason \"%s\"", c->name, rc,
			    sbuf_str(why));
		sbuf_free(&d);
		sbuf_free(&why);
	}
}

struct check_case {
	const char *name;
	const char *in;
	size_t len;
	int flags;
	const char *reason;	/* NULL when valid */
};

static const struct check_case check_cases[] = {
	{ "name", BIN("mail.example.com"), 0, NULL },
	{ "ipv4", BIN("[192.0.2.1]"), 0, NULL },
	{ "ipv6", BIN("[IPv6:::1]"), 0, NULL },
	{ "empty", BIN(""), 0, "missing domain" },
	{ "nul", BIN("exa\0mple.com"), 0, "NUL byte" },
	{ "bad char", BIN("exa!mple.com"), 0, "invalid character in domain" },
	{ "at", BIN("a@b"), 0, "invalid character in domain" },
	{ "utf-8 refused", BIN("b\xc3\xbc" "cher.example"), 0, "non-ASCII" },
	{ "utf-8", BIN("b\xc3\xbc" "cher.example"), UTF8, NULL },
	{ "unclosed literal", BIN("[192.0.2.1"), 0,
	    "unbalanced brackets in address literal" },
	{ "lone bracket", BIN("["), 0,
	    "unbalanced brackets in address literal" },
};

static void
test_domain_check_table(void **state)
{
	for (size_t i = 0; i < sizeof(check_cases) / sizeof(*check_cases);
	    i++) {
		const struct check_case *c = &check_cases[i];
		struct sbuf *why = sbuf_new();
		int rc = addr_domain_check(c->in, c->len, c->flags, why);

		if (c->reason == NULL && rc != 0)
			fail_msg("%s: rejected: %s", c->name, sbuf_str(why));
		if (c->reason != NULL && (rc == 0 ||
		    strstr(sbuf_str(why), c->reason) == NULL))
			fail_msg("%s: rc %d reason \"%s\"", c->name, rc,
			    sbuf_str(why));
		sbuf_free(&why);
	}
}

struct quote_case {
	const char *name;
	const char *local;
	const char *domain;
	int flags;		/* for parsing the result back */
	const char *out;	/* expected addr_quote() output */
};

static const struct quote_case quote_cases[] = {
	{ "dot-string", "john.doe", "example.com", 0, "john.doe@example.com" },
	{ "atext", "!#$%&'*+-/=?^_`{|}~", "x", 0, "!#$%&'*+-/=?^_`{|}~@x" },
	{ "space", "john doe", "x", 0, "\"john doe\"@x" },
	{ "at sign", "a@b", "x", 0, "\"a@b\"@x" },
	{ "quote and backslash", "a\"b\\c", "x", 0, "\"a\\\"b\\\\c\"@x" },
	{ "leading dot", ".a", "x", 0, "\".a\"@x" },
	{ "trailing dot", "a.", "x", 0, "\"a.\"@x" },
	{ "double dot", "a..b", "x", 0, "\"a..b\"@x" },
	{ "only a dot", ".", "x", 0, "\".\"@x" },
	{ "angle brackets", "<a>", "x", 0, "\"<a>\"@x" },
	{ "comma", "a,b", "x", 0, "\"a,b\"@x" },
	{ "only quote", "\"", "x", 0, "\"\\\"\"@x" },
	{ "only backslash", "\\", "x", 0, "\"\\\\\"@x" },
	{ "literal", "a", "[IPv6:2001:db8::1]", 0,
	    "a@[IPv6:2001:db8::1]" },
	{ "utf-8", "j\xc3\xb6" "e", "b\xc3\xbc" "cher.example", UTF8,
	    "j\xc3\xb6" "e@b\xc3\xbc" "cher.example" },
	{ "utf-8 with space", "j\xc3\xb6 e", "x", UTF8,
	    "\"j\xc3\xb6 e\"@x" },
	{ "null path", "", NULL, NUL, "" },
	{ "postmaster", "Postmaster", NULL, PM, "Postmaster" },
	{ "unqualified quoted", "a b", NULL, LONLY, "\"a b\"" },
};

/* Checks that "<" quote(local, domain) ">" parses back to local, domain. */
static void
check_round_trip(const char *name, const char *local, const char *domain,
    int flags)
{
	struct sbuf *out = sbuf_new(), *why = sbuf_new();
	struct addr *a = NULL;

	sbuf_catc(out, '<');
	if (addr_quote(local, domain, out) != 0)
		fail_msg("%s: addr_quote failed", name);
	sbuf_catc(out, '>');
	if (addr_parse(sbuf_str(out), sbuf_len(out), flags, &a, why) != 0)
		fail_msg("%s: %s does not parse: %s", name, sbuf_str(out),
		    sbuf_str(why));
	if (strcmp(a->local, local) != 0)
		fail_msg("%s: local \"%s\" came back as \"%s\"", name, local,
		    a->local);
	if (domain == NULL ? a->domain != NULL :
	    a->domain == NULL || strcmp(a->domain, domain) != 0)
		fail_msg("%s: domain changed", name);
	addr_free(&a);
	sbuf_free(&out);
	sbuf_free(&why);
}

static void
test_quote_table(void **state)
{
	for (size_t i = 0; i < sizeof(quote_cases) / sizeof(*quote_cases);
	    i++) {
		const struct quote_case *c = &quote_cases[i];
		struct sbuf *out = sbuf_new();

		sbuf_cat(out, "prefix:");
		assert_int_equal(addr_quote(c->local, c->domain, out), 0);
		if (strcmp(sbuf_str(out) + 7, c->out) != 0)
			fail_msg("%s: quoted as %s, want %s", c->name,
			    sbuf_str(out) + 7, c->out);
		check_round_trip(c->name, c->local, c->domain, c->flags);
		sbuf_free(&out);
	}
}

/* Every address the parse table accepts survives quoting and parsing. */
static void
test_round_trip_parsed(void **state)
{
	size_t n = 0;

	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(*parse_cases);
	    i++) {
		const struct parse_case *c = &parse_cases[i];
		struct sbuf *why = sbuf_new();
		struct addr *a = NULL;

		if (c->local != NULL) {
			assert_int_equal(addr_parse(c->in, c->len, c->flags,
			    &a, why), 0);
			check_round_trip(c->name, a->local, a->domain,
			    c->flags & ~BARE);
			addr_free(&a);
			n++;
		}
		sbuf_free(&why);
	}
	assert_true(n >= 30);
}

/* Every local part of printable ASCII pairs survives quoting. */
static void
test_round_trip_exhaustive_pairs(void **state)
{
	char local[3] = { 0 };

	for (int c1 = 0x20; c1 < 0x7f; c1++) {
		for (int c2 = 0x20; c2 < 0x7f; c2++) {
			local[0] = (char)c1;
			local[1] = (char)c2;
			check_round_trip(local, local, "example.com", 0);
		}
	}
}

static void
test_quote_refuses(void **state)
{
	struct sbuf *out = sbuf_new();

	sbuf_cat(out, "keep");
	assert_int_equal(addr_quote("a\rb", "x", out), -1);
	assert_int_equal(addr_quote("a\x7f", "x", out), -1);
	assert_int_equal(addr_quote("", "x", out), -1);
	assert_string_equal(sbuf_str(out), "keep");

	/* Out's limit: nothing half-written stays behind. */
	sbuf_set_limit(out, 10);
	assert_int_equal(addr_quote("a b", "example.com", out), -1);
	assert_string_equal(sbuf_str(out), "keep");
	assert_int_equal(addr_quote("ab", "c", out), 0);
	assert_string_equal(sbuf_str(out), "keepab@c");
	sbuf_free(&out);
}

struct split_case {
	const char *name;
	const char *arg;
	const char *path;	/* expected path; NULL on error */
	const char *params;	/* expected params, or reason on error */
};

static const struct split_case split_cases[] = {
	{ "no params", "<a@b>", "<a@b>", "" },
	{ "params", "<a@b> SIZE=100 BODY=8BITMIME", "<a@b>",
	    "SIZE=100 BODY=8BITMIME" },
	{ "several spaces", "<a@b>   SIZE=1", "<a@b>", "SIZE=1" },
	{ "trailing space", "<a@b> ", "<a@b>", "" },
	{ "null path", "<> SIZE=1", "<>", "SIZE=1" },
	{ "quoted bracket", "<\"a> b\"@x> SIZE=1", "<\"a> b\"@x>",
	    "SIZE=1" },
	{ "quoted escape", "<\"a\\\"> b\"@x> X", "<\"a\\\"> b\"@x>", "X" },
	{ "route then quote", "<@r:\"a>\"@x> X", "<@r:\"a>\"@x>", "X" },
	{ "quote in literal", "<a@[x:\"]> X", "<a@[x:\"]>", "X" },
	{ "space in path", "<a b@x> X", "<a b@x>", "X" },
	{ "bare", "a@b SIZE=1", "a@b", "SIZE=1" },
	{ "bare quoted space", "\"a b\"@x SIZE=1", "\"a b\"@x", "SIZE=1" },
	{ "unclosed", "<a@b SIZE=1", NULL, "missing closing angle bracket" },
	{ "unclosed quote", "<\"a@b> SIZE=1", NULL,
	    "unbalanced quote in local part" },
	{ "glued params", "<a@b>SIZE=1", NULL, "garbage after address" },
	{ "empty", "", "", "" },
};

static void
test_split_params(void **state)
{
	for (size_t i = 0; i < sizeof(split_cases) / sizeof(*split_cases);
	    i++) {
		const struct split_case *c = &split_cases[i];
		struct sbuf *why = sbuf_new();
		size_t len = strlen(c->arg), path_len = 12345;
		const char *params = NULL;
		int rc = addr_split_params(c->arg, len, &path_len, &params,
		    why);

		if (c->path == NULL) {
			if (rc == 0)
				fail_msg("%s: accepted", c->name);
			if (strcmp(sbuf_str(why), c->params) != 0)
				fail_msg("%s: reason %s", c->name,
				    sbuf_str(why));
		} else {
			if (rc != 0)
				fail_msg("%s: %s", c->name, sbuf_str(why));
			if (path_len != strlen(c->path) ||
			    memcmp(c->arg, c->path, path_len) != 0)
				fail_msg("%s: path %.*s", c->name,
				    (int)path_len, c->arg);
			if (strcmp(params, c->params) != 0 ||
			    params > c->arg + len)
				fail_msg("%s: params \"%s\"", c->name, params);
		}
		sbuf_free(&why);
	}
}

/* The split stops at the given length: a NUL past the path is not read. */
static void
test_split_params_length(void **state)
{
	static const char arg[] = "<a@b> X\0<c@d>";
	struct sbuf *why = sbuf_new();
	const char *params;
	size_t path_len;

	assert_int_equal(addr_split_params(arg, 3, &path_len, &params, why),
	    -1);
	assert_int_equal(addr_split_params(arg, sizeof(arg) - 1, &path_len,
	    &params, why), 0);
	assert_int_equal(path_len, 5);
	assert_ptr_equal(params, arg + 6);
	sbuf_free(&why);
}

static void
test_split_internal(void **state)
{
	const char *at;

	at = addr_split_internal("a@b@example.com");
	assert_non_null(at);
	assert_string_equal(at + 1, "example.com");
	at = addr_split_internal("user@example.com");
	assert_string_equal(at + 1, "example.com");
	assert_null(addr_split_internal("postmaster"));
	assert_null(addr_split_internal(""));
}

static void
test_domain_case(void **state)
{
	char d[] = "MiXeD.Example.COM";
	char u[] = "B\xc3\x9c" "CHER.example";

	assert_ptr_equal(addr_domain_lower(d), d);
	assert_string_equal(d, "mixed.example.com");
	/* Only ASCII letters fold: UTF-8 bytes stay as they are. */
	addr_domain_lower(u);
	assert_string_equal(u, "b\xc3\x9c" "cher.example");
	assert_true(addr_domain_equal("Example.COM", "example.com"));
	assert_true(addr_domain_equal("", ""));
	assert_false(addr_domain_equal("example.com", "example.co"));
	assert_false(addr_domain_equal("example.co", "example.com"));
	assert_false(addr_domain_equal("\xc3\x9c", "\xc3\xbc"));
	assert_false(addr_domain_equal("a-b", "a_b"));
}

static void
test_free_null(void **state)
{
	struct addr *a = NULL;

	addr_free(&a);
	assert_null(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_parse_lengths),
		cmocka_unit_test(test_route_counts_in_path),
		cmocka_unit_test(test_domain_lengths),
		cmocka_unit_test(test_domain_check_table),
		cmocka_unit_test(test_quote_table),
		cmocka_unit_test(test_round_trip_parsed),
		cmocka_unit_test(test_round_trip_exhaustive_pairs),
		cmocka_unit_test(test_quote_refuses),
		cmocka_unit_test(test_split_params),
		cmocka_unit_test(test_split_params_length),
		cmocka_unit_test(test_split_internal),
		cmocka_unit_test(test_domain_case),
		cmocka_unit_test(test_free_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
