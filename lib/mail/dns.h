/*
 * dns - DNS lookups for mail routing: MX, A, AAAA, TLSA and TXT records
 *
 * The SMTP client finds where to send mail here. Queries go through the
 * system's stub resolver library (glibc's res_n*() calls in libresolv),
 * to the name servers of /etc/resolv.conf or to one server given by
 * address (smtp_dns_resolver_address), which is how tests point the
 * client at a DNS server of their own. Answers are parsed with
 * ns_initparse()/ns_parserr(), never by hand.
 *
 * DNSSEC: the resolver asks with the AD bit set and EDNS0 (trust-ad),
 * and reports whether the answer came back with AD: the upstream server
 * says it validated the answer. That is only as good as the path to that
 * server, so it must be a trusted validating resolver on this host (a
 * local unbound, say); DANE uses TLSA records only from such answers.
 *
 * Each process keeps a cache of positive answers, each for the smallest
 * TTL among its records (at most DNS_CACHE_TTL_MAX seconds), holding at
 * most DNS_CACHE_MAX answers; negative answers are not cached.
 */
#ifndef POSTERN_DNS_H
#define POSTERN_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sbuf;

#define DNS_NAME_MAX		255	/* octets of a domain name (text) */
#define DNS_TLSA_DATA_MAX	1024	/* octets of TLSA data */
#define DNS_TXT_DATA_MAX	4096	/* octets of one TXT record's text */
#define DNS_CACHE_MAX		1000	/* answers one process keeps */
#define DNS_CACHE_TTL_MAX	86400	/* longest time an answer is kept */
#define DNS_RR_MAX		100	/* records kept from one answer */

/* Record types we ask for (their RFC 1035 / RFC 6698 numbers). */
enum dns_type {
	DNS_T_A = 1,
	DNS_T_MX = 15,
	DNS_T_TXT = 16,
	DNS_T_AAAA = 28,
	DNS_T_TLSA = 52
};

/* How a lookup ended. */
enum dns_status {
	DNS_OK,			/* at least one record of the type */
	DNS_NXDOMAIN,		/* the name does not exist */
	DNS_NODATA,		/* the name exists, without such records */
	DNS_TEMPFAIL,		/* no answer now (timeout, SERVFAIL) */
	DNS_FAIL		/* a permanent error (FORMERR, REFUSED, bad
				 * name) */
};

/* One resource record of the type asked for. */
struct dns_rr {
	enum dns_type type;
	uint32_t ttl;
	/* MX: preference and exchange ("." for a null MX). */
	unsigned preference;
	char name[DNS_NAME_MAX + 1];
	/* A, AAAA: the address as text ("192.0.2.1", "2001:db8::1"). */
	char addr[46];
	/* TLSA: certificate usage, selector, matching type and data. */
	uint8_t usage, selector, mtype;
	/* TXT: its character-strings joined (data_len octets). */
	unsigned char *data;
	size_t data_len;
};

/* The records of one answer. */
struct dns_answer {
	struct dns_rr *rrs;
	size_t count;
	bool authentic;		/* the answer had the AD bit */
};

struct dns_resolver;

/*
 * A resolver that asks the name servers of /etc/resolv.conf (server NULL
 * or empty) or the one server given as "ADDR", "ADDR:PORT" or
 * "[ADDR]:PORT" (IPv4 only). NULL with a reason when resolv.conf cannot
 * be read or server is malformed.
 */
struct dns_resolver *dns_open(const char *server, struct sbuf *why);
/* Frees *r with its cache and sets it to NULL; accepts NULL. */
void dns_free(struct dns_resolver **r);

/*
 * Looks up the records of type for name (a domain name, without the
 * trailing dot). DNS_OK fills *answer (free with dns_answer_clear());
 * anything else leaves it empty and sets why. MX records come sorted by
 * preference, in the order the server gave them within one preference.
 */
enum dns_status dns_lookup(struct dns_resolver *r, const char *name,
    enum dns_type type, struct dns_answer *answer, struct sbuf *why);
/* Frees what an answer holds and empties it. */
void dns_answer_clear(struct dns_answer *answer);

/*
 * Parses a DNS message (a reply to a query for type) into *answer, the
 * records of that type in its answer section only. DNS_OK, DNS_NODATA
 * when there are none, DNS_NXDOMAIN, DNS_TEMPFAIL or DNS_FAIL by its
 * response code, or DNS_FAIL with a reason when it is malformed.
 * Exposed for the unit tests; dns_lookup() uses it.
 */
enum dns_status dns_parse(const unsigned char *msg, size_t len,
    enum dns_type type, struct dns_answer *answer, struct sbuf *why);

/* "MX", "A", "AAAA", "TLSA", "TXT". */
const char *dns_type_name(enum dns_type type);

#endif
