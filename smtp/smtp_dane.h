/*
 * smtp_dane - DANE for SMTP (RFC 7672): TLSA records and their check
 *
 * The TLSA records of "_PORT._tcp.HOST" count only when the DNS answer
 * was validated (the AD bit from a trusted resolver, see mail/dns.h).
 * With usable records, TLS is required and the server's certificate
 * must match one of them (OpenSSL's DANE verification, set up by the
 * pre-handshake hook of util/tls.h); DANE-EE(3) records match the key or
 * certificate alone, without name checks, as RFC 7672 3.1.1 says.
 */
#ifndef POSTERN_SMTP_DANE_H
#define POSTERN_SMTP_DANE_H

#include "mail/dns.h"

struct sbuf;
struct ssl_st;

enum smtp_dane_status {
	SMTP_DANE_NONE,		/* no validated TLSA records: no DANE */
	SMTP_DANE_USABLE,	/* validated records: TLS and a match needed */
	SMTP_DANE_TEMPFAIL	/* the lookup failed: try later */
};

/* What the hook needs; both borrowed for the handshake. */
struct smtp_dane {
	const char *host;
	struct dns_answer tlsa;
};

/* Looks up the TLSA records of host and port into d->tlsa. */
enum smtp_dane_status smtp_dane_lookup(struct dns_resolver *dns,
    const char *host, unsigned port, struct smtp_dane *d, struct sbuf *why);
/* Frees what smtp_dane_lookup() filled. */
void smtp_dane_clear(struct smtp_dane *d);
/* The tls_hook_fn for a struct smtp_dane. */
int smtp_dane_hook(struct ssl_st *ssl, void *arg, struct sbuf *why);

#endif
