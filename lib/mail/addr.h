/*
 * addr - parse and quote RFC 5321 mailbox addresses
 *
 * addr_parse() takes a path as smtpd finds it in "MAIL FROM:<...>" or
 * "RCPT TO:<...>" (or, with ADDR_FLAG_BARE, as sendmail finds it on its
 * command line) and returns the local part, unquoted, and the domain:
 *
 *	<"john \"q\" doe"@Example.COM>	local: john "q" doe
 *					domain: Example.COM
 *
 * The domain keeps its case (addr_domain_lower() folds it for comparisons)
 * and an address literal keeps its brackets ("[192.0.2.1]"). A source
 * route ("<@a.example,@b.example:user@c.example>") is checked and dropped,
 * as RFC 5321 4.1.1.3 and appendix C say.
 *
 * The internal form of an address, where the rest of Postern stores one
 * as a single string, is "local@domain" with the local part unquoted; as
 * the local part may then hold '@', it is split at its LAST '@'
 * (addr_split_internal()). addr_quote() turns the parts back into the
 * form that goes on the wire.
 *
 * Limits (RFC 5321 4.5.3.1), in octets: the local part as written (with
 * its quotes and backslashes) ADDR_LOCAL_MAX, the domain ADDR_DOMAIN_MAX,
 * a domain label ADDR_LABEL_MAX, and the whole path with its angle
 * brackets and any source route ADDR_PATH_MAX (a bare address counts as
 * if it were bracketed).
 *
 * Errors give a short reason fit for the text of an SMTP reply
 * ("local part too long", "unbalanced quote in local part").
 */
#ifndef POSTERN_ADDR_H
#define POSTERN_ADDR_H

#include <stdbool.h>
#include <stddef.h>

struct sbuf;

#define ADDR_LOCAL_MAX	64
#define ADDR_DOMAIN_MAX	255
#define ADDR_LABEL_MAX	63
#define ADDR_PATH_MAX	256

/*
 * Flags of addr_parse() and addr_domain_check():
 * BARE		also accept local@domain without angle brackets
 * NULL		accept <>, the null reverse-path
 * POSTMASTER	accept <Postmaster>, any case, without a domain (RCPT TO)
 * SMTPUTF8	accept UTF-8 in the local part and in domain labels
 * GENERAL_LIT	accept general address literals [tag:content]
 * LOCAL_ONLY	accept a local part without @domain, for the caller to
 *		qualify (sendmail's command line)
 */
#define ADDR_FLAG_BARE		(1 << 0)
#define ADDR_FLAG_NULL		(1 << 1)
#define ADDR_FLAG_POSTMASTER	(1 << 2)
#define ADDR_FLAG_SMTPUTF8	(1 << 3)
#define ADDR_FLAG_GENERAL_LIT	(1 << 4)
#define ADDR_FLAG_LOCAL_ONLY	(1 << 5)

/*
 * A parsed address. local is unquoted and never empty, except for the
 * null path <>, which is the only address with local "" (and domain NULL).
 * domain is NULL also for <Postmaster> (local as written, any case) and
 * for a local part accepted by ADDR_FLAG_LOCAL_ONLY. Neither string holds
 * control characters; both are valid UTF-8, and ASCII unless
 * ADDR_FLAG_SMTPUTF8 was given.
 */
struct addr {
	char *local;
	char *domain;
};

/*
 * Parses the len bytes of path (which may hold NULs: they are an error)
 * under flags. Returns 0 and a new address in *addr_r, or -1 with a
 * reason in why and *addr_r untouched.
 */
int addr_parse(const char *path, size_t len, int flags, struct addr **addr_r,
    struct sbuf *why);
/* Frees *addr and sets it to NULL; accepts NULL. */
void addr_free(struct addr **addr);

/*
 * Splits the argument of MAIL FROM: or RCPT TO: into the path and the
 * ESMTP parameters: "<path> SP params". The path ends at the '>' that
 * closes the opening '<' (a '>' inside a quoted local part does not count),
 * or, when arg does not start with '<', at the first space outside quotes.
 * Returns 0 with the length of the path in *path_len_r (the path starts
 * at arg) and in *params_r the parameters after the spaces that follow
 * (pointing at arg + len when there are none); -1 with a reason when the
 * path is not closed or is followed by something other than a space.
 * Nothing else is checked: the path goes to addr_parse().
 */
int addr_split_params(const char *arg, size_t len, size_t *path_len_r,
    const char **params_r, struct sbuf *why);

/*
 * Checks that the len bytes of domain are a domain name (dot-separated
 * labels of letters, digits and hyphens, or UTF-8 with ADDR_FLAG_SMTPUTF8)
 * or an address literal ([192.0.2.1], [IPv6:2001:db8::1], [tag:content]
 * with ADDR_FLAG_GENERAL_LIT) within ADDR_DOMAIN_MAX. 0, or -1 with a
 * reason. Only the flags named here matter.
 */
int addr_domain_check(const char *domain, size_t len, int flags,
    struct sbuf *why);

/*
 * Appends the external form of an address to out: the local part as a
 * Dot-string when it is one (bytes from 0x80 up count as text, as under
 * SMTPUTF8), else as a Quoted-string with '"' and '\' escaped; then '@'
 * and the domain when domain is not NULL. No angle brackets. For any
 * address addr_parse() returned, parsing "<" out ">" under the same flags
 * gives it back. Returns 0; -1 (out unchanged) when local holds a control
 * character, when local is empty and domain is not NULL, or when out's
 * limit is reached.
 */
int addr_quote(const char *local, const char *domain, struct sbuf *out);

/*
 * Returns the '@' that separates the domain from the local part in an
 * internal "local@domain" address: the LAST one, as the local part may
 * hold '@'. NULL when there is none.
 */
const char *addr_split_internal(const char *internal);

/* Lower-cases the ASCII letters of domain in place; returns domain. */
char *addr_domain_lower(char *domain);

/* True when two domains are equal ignoring the case of ASCII letters. */
bool addr_domain_equal(const char *a, const char *b);

#endif
