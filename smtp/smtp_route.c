/*
 * smtp_route - from a delivery request's next hop to the addresses to try
 *
 * Errors: a status, an RFC 3463 code and a reason; never logs. Trust: the
 * next hop comes from qmgr (from transport_maps, relayhost or a
 * recipient domain); DNS answers are untrusted and were checked by dns.c.
 */
#include "smtp_route.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mail/dns.h"
#include "util/sbuf.h"
#include "util/strutil.h"
#include "util/xmalloc.h"

int
smtp_nexthop_parse(const char *nexthop, struct smtp_nexthop *nh,
    struct sbuf *why)
{
	const char *host = nexthop, *end, *port = NULL;
	long num = SMTP_PORT;

	memset(nh, 0, sizeof(*nh));
	nh->mx = true;
	if (*nexthop == '[') {
		nh->mx = false;
		host = nexthop + 1;
		if ((end = strchr(host, ']')) == NULL) {
			sbuf_setf(why, "next hop \"%s\": no closing ]",
			    nexthop);
			return -1;
		}
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != '\0') {
			sbuf_setf(why, "next hop \"%s\": junk after ]",
			    nexthop);
			return -1;
		}
		if (strncasecmp(host, "ipv6:", 5) == 0)
			host += 5;
	} else if ((end = strrchr(nexthop, ':')) != NULL) {
		port = end + 1;
	} else {
		end = nexthop + strlen(nexthop);
	}
	if (end == host || (size_t)(end - host) > DNS_NAME_MAX) {
		sbuf_setf(why, "next hop \"%s\": bad host", nexthop);
		return -1;
	}
	if (port != NULL && (str_to_long(port, &num) < 0 || num < 1 ||
	    num > 65535)) {
		sbuf_setf(why, "next hop \"%s\": bad port", nexthop);
		return -1;
	}
	nh->host = xstrndup(host, (size_t)(end - host));
	nh->port = (unsigned)num;
	return 0;
}

void
smtp_nexthop_clear(struct smtp_nexthop *nh)
{
	free(nh->host);
	nh->host = NULL;
}

int
smtp_families_parse(const char *inet_protocols, const char *preference,
    struct smtp_families *fam, struct sbuf *why)
{
	char *copy = xstrdup(inet_protocols), *cursor = copy, *item;
	int ret = 0;

	fam->ipv4 = fam->ipv6 = false;
	while ((item = str_token(&cursor, STR_LIST_DELIMS)) != NULL) {
		if (strcasecmp(item, "all") == 0)
			fam->ipv4 = fam->ipv6 = true;
		else if (strcasecmp(item, "ipv4") == 0)
			fam->ipv4 = true;
		else if (strcasecmp(item, "ipv6") == 0)
			fam->ipv6 = true;
		else {
			sbuf_setf(why, "inet_protocols: unknown protocol "
			    "\"%s\"", item);
			ret = -1;
		}
	}
	free(copy);
	if (ret == 0 && !fam->ipv4 && !fam->ipv6) {
		sbuf_set(why, "inet_protocols: no protocol");
		ret = -1;
	}
	if (strcasecmp(preference, "any") == 0)
		fam->pref = SMTP_PREF_ANY;
	else if (strcasecmp(preference, "ipv4") == 0)
		fam->pref = SMTP_PREF_IPV4;
	else if (strcasecmp(preference, "ipv6") == 0)
		fam->pref = SMTP_PREF_IPV6;
	else {
		sbuf_setf(why, "smtp_address_preference: \"%s\" is not any, "
		    "ipv4 or ipv6", preference);
		ret = -1;
	}
	return ret;
}

void
smtp_host_list_clear(struct smtp_host_list *list)
{
	for (size_t i = 0; i < list->count; i++) {
		free(list->hosts[i].name);
		free(list->hosts[i].addr);
	}
	free(list->hosts);
	list->hosts = NULL;
	list->count = 0;
}

static bool
smtp_is_ipv6(const char *addr)
{
	return strchr(addr, ':') != NULL;
}

void
smtp_route_order(struct smtp_host *hosts, size_t count,
    const struct smtp_families *fam)
{
	bool first_v6 = fam->pref == SMTP_PREF_IPV6;

	if (fam->pref == SMTP_PREF_ANY)
		return;
	/* A stable partition: insertion by family. */
	for (size_t i = 1; i < count; i++) {
		struct smtp_host tmp = hosts[i];
		size_t j = i;

		if (smtp_is_ipv6(tmp.addr) != first_v6)
			continue;
		for (; j > 0 && smtp_is_ipv6(hosts[j - 1].addr) != first_v6;
		    j--)
			hosts[j] = hosts[j - 1];
		hosts[j] = tmp;
	}
}

static void
smtp_host_add(struct smtp_host_list *list, const char *name,
    const char *addr, unsigned port)
{
	struct smtp_host *h;

	if (list->count == SMTP_ROUTE_HOSTS_MAX)
		return;
	list->hosts = xreallocarray(list->hosts, list->count + 1,
	    sizeof(*list->hosts));
	h = &list->hosts[list->count++];
	h->name = xstrdup(name);
	h->addr = xstrdup(addr);
	h->port = port;
}

/*
 * Adds the addresses of one host name (or IP address) to list. The
 * worst DNS status met: DNS_OK when something was added.
 */
static enum dns_status
smtp_host_addrs(struct dns_resolver *dns, const char *name, unsigned port,
    const struct smtp_families *fam, struct smtp_host_list *list,
    struct sbuf *why)
{
	static const enum dns_type types[] = { DNS_T_A, DNS_T_AAAA };
	unsigned char bin[16];
	enum dns_status worst = DNS_NXDOMAIN;
	size_t first = list->count;

	if (inet_pton(AF_INET, name, bin) == 1 ||
	    inet_pton(AF_INET6, name, bin) == 1) {
		smtp_host_add(list, name, name, port);
		return DNS_OK;
	}
	for (size_t t = 0; t < 2; t++) {
		struct dns_answer answer;
		enum dns_status st;

		if ((types[t] == DNS_T_A && !fam->ipv4) ||
		    (types[t] == DNS_T_AAAA && !fam->ipv6))
			continue;
		st = dns_lookup(dns, name, types[t], &answer, why);
		if (st == DNS_OK) {
			for (size_t i = 0; i < answer.count; i++)
				smtp_host_add(list, name, answer.rrs[i].addr,
				    port);
			dns_answer_clear(&answer);
		} else if (st == DNS_TEMPFAIL ||
		    (st != DNS_NXDOMAIN && worst == DNS_NXDOMAIN)) {
			worst = st;
		}
	}
	if (list->count > first) {
		smtp_route_order(list->hosts + first, list->count - first, fam);
		return DNS_OK;
	}
	return worst;
}

/* Shuffles runs of MX records of equal preference. */
static void
smtp_mx_shuffle(struct dns_answer *mx)
{
	for (size_t start = 0, end; start < mx->count; start = end) {
		for (end = start + 1; end < mx->count &&
		    mx->rrs[end].preference == mx->rrs[start].preference;
		    end++)
			;
		for (size_t i = end - 1; i > start; i--) {
			size_t j = start + (size_t)random() % (i - start + 1);
			struct dns_rr tmp = mx->rrs[i];

			mx->rrs[i] = mx->rrs[j];
			mx->rrs[j] = tmp;
		}
	}
}

/* The route for a status that found no address. */
static enum smtp_route_status
smtp_route_fail(enum dns_status st, struct sbuf *dsn)
{
	switch (st) {
	case DNS_TEMPFAIL:
		sbuf_set(dsn, "4.4.3");
		return SMTP_ROUTE_DEFER;
	case DNS_NXDOMAIN:
		sbuf_set(dsn, "5.1.2");
		return SMTP_ROUTE_BOUNCE;
	default:
		sbuf_set(dsn, "5.4.4");
		return SMTP_ROUTE_BOUNCE;
	}
}

enum smtp_route_status
smtp_route_find(struct dns_resolver *dns, const struct smtp_nexthop *nh,
    const struct smtp_families *fam, const char *myself,
    struct smtp_host_list *list, struct sbuf *dsn, struct sbuf *why)
{
	struct dns_answer mx;
	enum dns_status st, worst = DNS_NXDOMAIN;
	unsigned char bin[16];

	memset(list, 0, sizeof(*list));
	if (!nh->mx || inet_pton(AF_INET, nh->host, bin) == 1) {
		st = smtp_host_addrs(dns, nh->host, nh->port, fam, list, why);
		return st == DNS_OK ? SMTP_ROUTE_OK : smtp_route_fail(st, dsn);
	}
	st = dns_lookup(dns, nh->host, DNS_T_MX, &mx, why);
	if (st == DNS_NODATA) {
		/* No MX: the domain's own addresses (RFC 5321 5.1). */
		st = smtp_host_addrs(dns, nh->host, nh->port, fam, list, why);
		return st == DNS_OK ? SMTP_ROUTE_OK : smtp_route_fail(st, dsn);
	}
	if (st != DNS_OK)
		return smtp_route_fail(st, dsn);
	if (mx.count == 1 && strcmp(mx.rrs[0].name, ".") == 0) {
		dns_answer_clear(&mx);
		sbuf_setf(why, "domain %s does not accept mail (null MX)",
		    nh->host);
		sbuf_set(dsn, "5.1.10");
		return SMTP_ROUTE_BOUNCE;
	}
	smtp_mx_shuffle(&mx);
	for (size_t i = 0; i < mx.count; i++) {
		if (strcasecmp(mx.rrs[i].name, myself) != 0)
			continue;
		/* This host: only those it prefers may be used (sorted). */
		while (i > 0 && mx.rrs[i - 1].preference ==
		    mx.rrs[i].preference)
			i--;
		mx.count = i;
		break;
	}
	if (mx.count == 0) {
		dns_answer_clear(&mx);
		sbuf_setf(why, "mail for %s loops back to myself", nh->host);
		sbuf_set(dsn, "5.4.6");
		return SMTP_ROUTE_BOUNCE;
	}
	for (size_t i = 0; i < mx.count; i++) {
		if (strcmp(mx.rrs[i].name, ".") == 0)
			continue;
		st = smtp_host_addrs(dns, mx.rrs[i].name, nh->port, fam, list,
		    why);
		if (st == DNS_TEMPFAIL ||
		    (st != DNS_OK && st != DNS_NXDOMAIN &&
		    worst == DNS_NXDOMAIN))
			worst = st;
	}
	dns_answer_clear(&mx);
	if (list->count > 0)
		return SMTP_ROUTE_OK;
	/* An MX that names a host with no address is not a missing domain. */
	if (worst == DNS_NXDOMAIN)
		worst = DNS_NODATA;
	sbuf_setf(why, "no address found for the mail exchangers of %s",
	    nh->host);
	return smtp_route_fail(worst, dsn);
}
