/*
 * smtp_sts - MTA-STS (RFC 8461): a destination's published TLS policy
 *
 * With smtp_tls_mta_sts=yes, a next hop found through MX records whose
 * TLS level smtp_tls_policy_maps does not set (and that is not dane)
 * gets the policy its domain publishes: a TXT record "v=STSv1; id=..."
 * at _mta-sts.DOMAIN says there is one, and the policy itself comes from
 * https://mta-sts.DOMAIN/.well-known/mta-sts.txt (smtp_https.h). Each
 * process keeps the policies it fetched for their max_age (at most
 * SMTP_STS_MAX_AGE) keyed by domain and id, and asks the web server again
 * only when the TXT record names another id or the policy expired; when
 * a fetch fails, a policy still valid is kept.
 *
 * mode enforce: only MX hosts matching an mx pattern are used, with TLS
 * verified against the MX host's name; mode testing: delivery as
 * without MTA-STS, what enforce would refuse logged; mode none, or no
 * policy (no TXT record, a fetch that failed): nothing changes.
 */
#ifndef POSTERN_SMTP_STS_H
#define POSTERN_SMTP_STS_H

#include <stdbool.h>
#include <stddef.h>

struct sbuf;
struct smtp_env;

#define SMTP_STS_MAX_AGE	86400	/* longest time a policy is kept */
#define SMTP_STS_CACHE_MAX	100	/* domains one process keeps */
#define SMTP_STS_ID_MAX		32	/* characters of a record's id */
#define SMTP_STS_MX_MAX		100	/* mx patterns kept from a policy */

enum smtp_sts_mode {
	SMTP_STS_NONE,
	SMTP_STS_TESTING,
	SMTP_STS_ENFORCE
};

struct smtp_sts_policy {
	enum smtp_sts_mode mode;
	long max_age;		/* seconds, as published */
	char **mx;		/* patterns, lower case */
	size_t mx_count;
	char *id;		/* of the TXT record it came with */
};

/*
 * Parses a TXT record's text: 1 with its id in id for an MTA-STS record
 * ("v=STSv1; id=..."), 0 for a record of something else, -1 with a
 * reason for a malformed MTA-STS record.
 */
int smtp_sts_record_parse(const char *text, size_t len, struct sbuf *id,
    struct sbuf *why);

/*
 * Parses a policy file (RFC 8461 3.2) into pol (free with
 * smtp_sts_policy_clear()). 0, or -1 with a reason: no "version: STSv1",
 * a mode or max_age missing or malformed, mode other than none without
 * an mx line, a malformed line.
 */
int smtp_sts_policy_parse(const char *text, size_t len,
    struct smtp_sts_policy *pol, struct sbuf *why);
void smtp_sts_policy_clear(struct smtp_sts_policy *pol);

/*
 * True when host (an MX host name) matches one of the policy's mx
 * patterns: equal, or for "*.domain" one more label before domain;
 * case-insensitive, a trailing dot ignored.
 */
bool smtp_sts_mx_match(const struct smtp_sts_policy *pol, const char *host);

/* "none", "testing", "enforce". */
const char *smtp_sts_mode_name(enum smtp_sts_mode mode);

/*
 * The policy for domain, or NULL when it has none (or none could be had:
 * logged with queue_id). The policy stays valid until the next call.
 */
const struct smtp_sts_policy *smtp_sts_lookup(const struct smtp_env *env,
    const char *domain, const char *queue_id);

#endif
