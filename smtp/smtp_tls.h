/*
 * smtp_tls - the SMTP client's TLS policy for a next hop
 *
 * The level comes from smtp_tls_policy_maps, looked up with the request's
 * next hop as qmgr gives it ("example.com", "[192.0.2.1]:587"), then with
 * the bare host or domain; the value is a level, optionally followed by
 * attributes that are ignored here. Without an entry the level is
 * smtp_tls_security_level:
 *
 * none:    never STARTTLS.
 * may:     STARTTLS when offered, the certificate not checked; a failed
 *          handshake is retried with the same host in clear text.
 * encrypt: STARTTLS required; without it the host is skipped (defer).
 * verify:  as encrypt, and the certificate must chain to a trusted CA
 *          (smtp_tls_CAfile or the system store) and name the host:
 *          the MX host name, or the next hop's host when there is no
 *          MX lookup.
 * dane:    TLSA records for _PORT._tcp.HOST from a DNSSEC-validated
 *          answer decide (RFC 7672); without them, as may.
 */
#ifndef POSTERN_SMTP_TLS_H
#define POSTERN_SMTP_TLS_H

#include <stdbool.h>

struct maps;
struct sbuf;

enum smtp_tls_level {
	SMTP_TLS_NONE,
	SMTP_TLS_MAY,
	SMTP_TLS_ENCRYPT,
	SMTP_TLS_VERIFY,
	SMTP_TLS_DANE
};

/* Parses a level name; 0, or -1 when it is none of the above. */
int smtp_tls_level_parse(const char *name, enum smtp_tls_level *level);
const char *smtp_tls_level_name(enum smtp_tls_level level);

/*
 * The level for nexthop (with host its bare host or domain): from maps
 * (may be NULL), else deflt. 0, or -1 with a reason when a table fails
 * or gives a value that is not a level.
 */
int smtp_tls_policy(struct maps *maps, const char *nexthop, const char *host,
    enum smtp_tls_level deflt, enum smtp_tls_level *level_r,
    struct sbuf *why);

#endif
