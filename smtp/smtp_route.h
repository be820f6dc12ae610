/*
 * smtp_route - from a delivery request's next hop to the addresses to try
 *
 * The next hop qmgr gives is "[host]", "[host]:port" (no MX lookup: the
 * host's own addresses), or "domain", "domain:port" (MX lookup, falling
 * back to the domain's own addresses when it has no MX). MX hosts come
 * in preference order, shuffled among equal preferences; a null MX
 * (RFC 7505: one MX "0 .") refuses mail. The list ends before the first
 * MX host that is this host (myhostname): only better ones may be used,
 * and when there is none the mail would loop. Each host's addresses come in
 * the order smtp_address_preference asks, limited to the families
 * inet_protocols allows.
 */
#ifndef POSTERN_SMTP_ROUTE_H
#define POSTERN_SMTP_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

struct dns_resolver;
struct sbuf;

#define SMTP_PORT		25
#define SMTP_ROUTE_HOSTS_MAX	20	/* addresses tried per request */

/* A parsed next hop. */
struct smtp_nexthop {
	char *host;		/* domain, host name or IP address */
	unsigned port;
	bool mx;		/* look up MX records (no brackets) */
};

/* Which address families to use, and in which order. */
enum smtp_family_pref {
	SMTP_PREF_ANY,		/* as found: IPv4 then IPv6 per host */
	SMTP_PREF_IPV4,		/* IPv4 addresses before IPv6 ones */
	SMTP_PREF_IPV6		/* IPv6 addresses before IPv4 ones */
};

struct smtp_families {
	bool ipv4, ipv6;	/* inet_protocols */
	enum smtp_family_pref pref;	/* smtp_address_preference */
};

/* One address to try. */
struct smtp_host {
	char *name;		/* the MX or host name (or the IP address) */
	char *addr;		/* numeric */
	unsigned port;
};

struct smtp_host_list {
	struct smtp_host *hosts;
	size_t count;
};

/* What the route search came to. */
enum smtp_route_status {
	SMTP_ROUTE_OK,		/* at least one address */
	SMTP_ROUTE_DEFER,	/* a temporary DNS failure */
	SMTP_ROUTE_BOUNCE	/* no such domain, null MX, no address */
};

/*
 * Parses a next hop. 0, or -1 with a reason (empty host, bad port,
 * unclosed bracket). Free with smtp_nexthop_clear().
 */
int smtp_nexthop_parse(const char *nexthop, struct smtp_nexthop *nh,
    struct sbuf *why);
void smtp_nexthop_clear(struct smtp_nexthop *nh);

/*
 * Sets fam from inet_protocols ("all", "ipv4", "ipv6", lists of these)
 * and smtp_address_preference ("any", "ipv4", "ipv6"). 0, or -1 with a
 * reason naming the bad value.
 */
int smtp_families_parse(const char *inet_protocols, const char *preference,
    struct smtp_families *fam, struct sbuf *why);

/*
 * Finds the addresses for nh, myself being this host's name. SMTP_ROUTE_OK
 * fills list (free with smtp_host_list_clear()); otherwise dsn gets the
 * RFC 3463 code and why the reason, and list stays empty.
 */
enum smtp_route_status smtp_route_find(struct dns_resolver *dns,
    const struct smtp_nexthop *nh, const struct smtp_families *fam,
    const char *myself, struct smtp_host_list *list, struct sbuf *dsn,
    struct sbuf *why);
void smtp_host_list_clear(struct smtp_host_list *list);

/*
 * Orders the addresses of one host as fam says: moves the preferred
 * family first, keeping the order within each family. Exposed for the
 * unit tests.
 */
void smtp_route_order(struct smtp_host *hosts, size_t count,
    const struct smtp_families *fam);

#endif
