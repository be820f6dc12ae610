/*
 * resolve - what a recipient address means here: its domain's class,
 * its virtual aliases, whether it exists, and where it is delivered
 *
 * One place for the address policy that smtpd (relay control, recipient
 * validation, virtual alias expansion before the queue file is written),
 * qmgr (routing) and local (user lookup) share.
 *
 * Domain classes, checked in this order:
 *	LOCAL	the domain is in mydestination (or the address has none)
 *	VIRTUAL	it is in virtual_mailbox_domains
 *	RELAY	it is in relay_domains
 *	DEFAULT	anything else
 * A domain list item matches a domain equal to it ignoring case; an item
 * that starts with "." matches every subdomain of the rest; an item with
 * a ':' is a table ("texthash:/etc/postern/domains") in which the domain
 * is looked up as a key.
 *
 * Addresses are in internal form (addr.h); local parts compare as given
 * in tables after lower-casing, as Postfix does: "User+Ext@Example.COM"
 * is looked up as "user+ext@example.com", then without the extension.
 */
#ifndef POSTERN_RESOLVE_H
#define POSTERN_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>

struct params;
struct sbuf;

enum resolve_class {
	RESOLVE_LOCAL,
	RESOLVE_VIRTUAL,
	RESOLVE_RELAY,
	RESOLVE_DEFAULT
};

/* Table lookups can fail (a missing or damaged file): a temporary error. */
enum resolve_status {
	RESOLVE_OK,
	RESOLVE_NOTFOUND,
	RESOLVE_ERROR
};

#define RESOLVE_ALIAS_DEPTH	100	/* virtual alias nesting */
#define RESOLVE_ALIAS_MAX	1000	/* addresses from one expansion */

struct resolver;

/*
 * Opens the tables of p: domain lists, virtual_alias_maps,
 * virtual_mailbox_maps, alias_maps and transport_maps. NULL with a reason
 * naming the table that could not be opened.
 */
struct resolver *resolver_open(const struct params *p, struct sbuf *why);
/* Closes the tables and frees *r, setting it to NULL; accepts NULL. */
void resolver_free(struct resolver **r);
/*
 * True when one of r's table files changed since it was opened: a
 * process that keeps r across clients then opens it again.
 */
bool resolver_changed(const struct resolver *r);

/*
 * The class of domain (NULL: an address without one, which is LOCAL).
 * RESOLVE_ERROR in *status when a domain table failed (with why), and
 * the class is then meaningless; else RESOLVE_OK.
 */
enum resolve_class resolve_domain_class(struct resolver *r,
    const char *domain, enum resolve_status *status, struct sbuf *why);

/*
 * Splits a local part at the first character that is in delimiters
 * (recipient_delimiter): user gets what comes before, ext what comes
 * after (empty when none). A local part that starts with a delimiter is
 * not split. Both are replaced.
 */
void resolve_split_ext(const char *local, const char *delimiters,
    struct sbuf *user, struct sbuf *ext);

/*
 * Looks address up in a list of tables as Postfix's virtual and
 * alias-style maps do: "user+ext@domain", "user@domain", "@domain"
 * (only when with_domain), all lower-cased. with_domain false looks up
 * the local part alone: "user+ext", then "user" (alias_maps). RESOLVE_OK
 * with the value in value, NOTFOUND, or ERROR with a reason.
 */
enum resolve_status resolve_lookup(struct resolver *r, const char *which,
    const char *address, bool with_domain, struct sbuf *value,
    struct sbuf *why);

/*
 * Expands address through virtual_alias_maps, recursively: each value is
 * a list of addresses separated by commas or whitespace; an address whose
 * lookup finds itself is kept, one with no entry is a result. At most
 * RESOLVE_ALIAS_DEPTH levels and RESOLVE_ALIAS_MAX results; duplicates are
 * dropped. Unqualified results get "@" myorigin. RESOLVE_OK with the
 * results in *out_r (a malloc'ed array of *count_r malloc'ed strings),
 * RESOLVE_NOTFOUND (address has no entry: *out_r untouched), or
 * RESOLVE_ERROR with a reason (a table failed, a loop or limit passed, a
 * value that holds no address or a bad one).
 */
enum resolve_status resolve_virtual_alias(struct resolver *r,
    const char *address, char ***out_r, size_t *count_r, struct sbuf *why);
/* Frees what resolve_virtual_alias() returned and sets *list to NULL. */
void resolve_list_free(char ***list, size_t count);

/*
 * Whether address, after virtual alias expansion, has somewhere to go:
 * in a LOCAL domain a user (getpwnam of the lower-cased local part
 * without extension) or an alias_maps entry, or "postmaster" (RFC 5321
 * 4.5.1); in a VIRTUAL domain a virtual_mailbox_maps entry; in any other
 * domain always. RESOLVE_OK (known), RESOLVE_NOTFOUND, or RESOLVE_ERROR.
 */
enum resolve_status resolve_rcpt_known(struct resolver *r,
    const char *address, struct sbuf *why);

/*
 * Where address goes: transport_maps looked up with the address, then
 * its domain, then each parent domain as ".parent"; a value
 * "transport:nexthop" where either part may be empty. What is not given
 * comes from the class: local_transport, virtual_transport,
 * relay_transport or default_transport, and as next hop the domain (for
 * the relay and default transports relayhost, when set). RESOLVE_OK with
 * transport and nexthop replaced, or RESOLVE_ERROR with a reason.
 */
enum resolve_status resolve_route(struct resolver *r, const char *address,
    struct sbuf *transport, struct sbuf *nexthop, struct sbuf *why);

#endif
