/*
 * smtp_sts - MTA-STS (RFC 8461): a destination's published TLS policy
 *
 * The TXT record and the policy file are untrusted text: parsed with
 * bounds, anything malformed is no policy (RFC 8461 3.1, 3.2), logged.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "mail/dns.h"
#include "mail/params.h"
#include "smtp_https.h"
#include "smtp_session.h"
#include "smtp_sts.h"
#include "util/msg.h"
#include "util/sbuf.h"
#include "util/strutil.h"
#include "util/xmalloc.h"

#define SMTP_STS_PATH		"/.well-known/mta-sts.txt"
#define SMTP_STS_MAX_AGE_RFC	31557600	/* largest max_age allowed */

/* A policy kept for a domain. */
struct sts_cache_entry {
	char *domain;
	struct smtp_sts_policy policy;
	time_t expires;		/* monotonic seconds */
};

static struct sts_cache_entry sts_cache[SMTP_STS_CACHE_MAX];

const char *
smtp_sts_mode_name(enum smtp_sts_mode mode)
{
	switch (mode) {
	case SMTP_STS_NONE:
		return "none";
	case SMTP_STS_TESTING:
		return "testing";
	case SMTP_STS_ENFORCE:
		return "enforce";
	}
	return "?";
}

int
smtp_sts_record_parse(const char *text, size_t len, struct sbuf *id,
    struct sbuf *why)
{
	struct sbuf *copy = sbuf_new();
	char *cursor, *field;
	int rc = -1;
	bool first = true;

	sbuf_reset(id);
	sbuf_catn(copy, text, len);
	cursor = copy->data;
	if (strlen(cursor) != len || !str_starts(cursor, "v=STSv1") ||
	    (cursor[7] != ';' && cursor[7] != ' ' && cursor[7] != '\0')) {
		rc = 0;
		goto done;
	}
	while ((field = str_token(&cursor, ";")) != NULL) {
		field = str_trim(field);
		if (first) {
			if (strcmp(field, "v=STSv1") != 0) {
				rc = 0;
				goto done;
			}
			first = false;
			continue;
		}
		if (!str_starts(field, "id="))
			continue;	/* an extension field */
		field += 3;
		if (*field == '\0' || strlen(field) > SMTP_STS_ID_MAX)
			break;
		for (const char *c = field; *c; c++)
			if (!isalnum((unsigned char)*c))
				goto malformed;
		sbuf_set(id, field);
	}
malformed:
	if (sbuf_len(id) > 0)
		rc = 1;
	else
		sbuf_set(why, "MTA-STS record without a valid id");
done:
	sbuf_free(&copy);
	return rc;
}

void
smtp_sts_policy_clear(struct smtp_sts_policy *pol)
{
	for (size_t i = 0; i < pol->mx_count; i++)
		free(pol->mx[i]);
	free(pol->mx);
	free(pol->id);
	memset(pol, 0, sizeof(*pol));
}

/* Applies one "key: value" line to pol; 0, or -1 with why. */
static int
sts_policy_line(char *line, struct smtp_sts_policy *pol, bool *version,
    bool *mode, struct sbuf *why)
{
	char *value = strchr(line, ':');

	if (value == NULL) {
		sbuf_setf(why, "malformed policy line \"%.40s\"", line);
		return -1;
	}
	*value++ = '\0';
	value = str_trim(value);
	line = str_trim(line);
	if (strcmp(line, "version") == 0) {
		if (strcmp(value, "STSv1") != 0) {
			sbuf_setf(why, "unknown policy version \"%.40s\"",
			    value);
			return -1;
		}
		*version = true;
	} else if (strcmp(line, "mode") == 0) {
		if (strcmp(value, "enforce") == 0)
			pol->mode = SMTP_STS_ENFORCE;
		else if (strcmp(value, "testing") == 0)
			pol->mode = SMTP_STS_TESTING;
		else if (strcmp(value, "none") == 0)
			pol->mode = SMTP_STS_NONE;
		else {
			sbuf_setf(why, "unknown policy mode \"%.40s\"", value);
			return -1;
		}
		*mode = true;
	} else if (strcmp(line, "max_age") == 0) {
		if (str_to_long(value, &pol->max_age) < 0 ||
		    pol->max_age < 0 || pol->max_age > SMTP_STS_MAX_AGE_RFC) {
			sbuf_setf(why, "bad max_age \"%.40s\"", value);
			return -1;
		}
	} else if (strcmp(line, "mx") == 0) {
		if (*value == '\0' || strlen(value) > DNS_NAME_MAX ||
		    str_has_ctl(value)) {
			sbuf_set(why, "malformed mx pattern");
			return -1;
		}
		if (pol->mx_count < SMTP_STS_MX_MAX) {
			pol->mx = xreallocarray(pol->mx, pol->mx_count + 1,
			    sizeof(*pol->mx));
			pol->mx[pol->mx_count++] = str_lower(xstrdup(value));
		}
	}
	return 0;
}

int
smtp_sts_policy_parse(const char *text, size_t len,
    struct smtp_sts_policy *pol, struct sbuf *why)
{
	struct sbuf *copy = sbuf_new();
	char *cursor, *line;
	bool version = false, mode = false;
	int rc = -1;

	memset(pol, 0, sizeof(*pol));
	pol->max_age = -1;
	sbuf_catn(copy, text, len);
	cursor = copy->data;
	if (strlen(cursor) != len) {
		sbuf_set(why, "policy contains a NUL byte");
		goto done;
	}
	while ((line = str_token(&cursor, "\r\n")) != NULL) {
		if (*str_trim(line) == '\0')
			continue;
		if (sts_policy_line(line, pol, &version, &mode, why) < 0)
			goto done;
	}
	if (!version)
		sbuf_set(why, "policy without \"version: STSv1\"");
	else if (!mode)
		sbuf_set(why, "policy without a mode");
	else if (pol->max_age < 0)
		sbuf_set(why, "policy without max_age");
	else if (pol->mode != SMTP_STS_NONE && pol->mx_count == 0)
		sbuf_set(why, "policy without an mx line");
	else
		rc = 0;
done:
	if (rc < 0)
		smtp_sts_policy_clear(pol);
	sbuf_free(&copy);
	return rc;
}

bool
smtp_sts_mx_match(const struct smtp_sts_policy *pol, const char *host)
{
	size_t hlen = strlen(host);

	if (hlen > 0 && host[hlen - 1] == '.')
		hlen--;
	for (size_t i = 0; i < pol->mx_count; i++) {
		const char *pat = pol->mx[i];
		size_t plen = strlen(pat);
		const char *dot;

		if (plen > 0 && pat[plen - 1] == '.')
			plen--;
		if (!str_starts(pat, "*.")) {
			if (plen == hlen && strncasecmp(pat, host, hlen) == 0)
				return true;
			continue;
		}
		/* "*.d" matches "x.d": exactly one label for the star. */
		dot = memchr(host, '.', hlen);
		if (dot == NULL || dot == host)
			continue;
		if ((size_t)(host + hlen - dot) == plen - 1 &&
		    strncasecmp(dot, pat + 1, plen - 1) == 0)
			return true;
	}
	return false;
}

static time_t
sts_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* The cache entry for domain, or NULL. */
static struct sts_cache_entry *
sts_cache_find(const char *domain)
{
	for (size_t i = 0; i < SMTP_STS_CACHE_MAX; i++)
		if (sts_cache[i].domain != NULL &&
		    strcasecmp(sts_cache[i].domain, domain) == 0)
			return &sts_cache[i];
	return NULL;
}

/* An entry to fill for domain: its own, a free one, or the oldest. */
static struct sts_cache_entry *
sts_cache_slot(const char *domain)
{
	struct sts_cache_entry *e = sts_cache_find(domain), *oldest = NULL;

	for (size_t i = 0; e == NULL && i < SMTP_STS_CACHE_MAX; i++) {
		if (sts_cache[i].domain == NULL)
			e = &sts_cache[i];
		else if (oldest == NULL ||
		    sts_cache[i].expires < oldest->expires)
			oldest = &sts_cache[i];
	}
	if (e == NULL)
		e = oldest;
	free(e->domain);
	smtp_sts_policy_clear(&e->policy);
	e->domain = xstrdup(domain);
	return e;
}

/* The id of domain's MTA-STS record: 1, 0 when it has none, -1 failed. */
static int
sts_record(const struct smtp_env *env, const char *domain, struct sbuf *id,
    struct sbuf *why)
{
	struct dns_answer answer = { 0 };
	struct sbuf *name = sbuf_new(), *one = sbuf_new(), *err = sbuf_new();
	enum dns_status st;
	int found = 0;

	sbuf_printf(name, "_mta-sts.%s", domain);
	st = dns_lookup(env->dns, sbuf_str(name), DNS_T_TXT, &answer, why);
	if (st != DNS_OK) {
		found = st == DNS_NXDOMAIN || st == DNS_NODATA ? 0 : -1;
		goto done;
	}
	for (size_t i = 0; i < answer.count && found >= 0; i++) {
		switch (smtp_sts_record_parse((const char *)answer.rrs[i].data,
		    answer.rrs[i].data_len, one, err)) {
		case -1:
			sbuf_setf(why, "%s: %s", sbuf_str(name), sbuf_str(err));
			found = -1;
			break;
		case 1:
			if (found > 0) {
				sbuf_setf(why, "%s: more than one MTA-STS "
				    "record", sbuf_str(name));
				found = -1;
				break;
			}
			sbuf_set(id, sbuf_str(one));
			found = 1;
			break;
		}
	}
done:
	dns_answer_clear(&answer);
	sbuf_free(&name);
	sbuf_free(&one);
	sbuf_free(&err);
	return found;
}

/* Fetches and parses domain's policy into pol; 0, or -1 with why. */
static int
sts_fetch(const struct smtp_env *env, const char *domain,
    struct smtp_sts_policy *pol, struct sbuf *why)
{
	struct sbuf *host = sbuf_new(), *body = sbuf_new();
	int rc = -1;

	sbuf_printf(host, "mta-sts.%s", domain);
	if (smtp_https_get(env->dns, env->tls_ctx, sbuf_str(host),
	    SMTP_STS_PATH, env->p->smtp_connect_timeout, body, why) == 0 &&
	    smtp_sts_policy_parse(sbuf_str(body), sbuf_len(body), pol,
	    why) == 0)
		rc = 0;
	sbuf_free(&host);
	sbuf_free(&body);
	return rc;
}

const struct smtp_sts_policy *
smtp_sts_lookup(const struct smtp_env *env, const char *domain,
    const char *queue_id)
{
	struct sts_cache_entry *e = sts_cache_find(domain);
	struct sbuf *id = sbuf_new(), *why = sbuf_new();
	struct smtp_sts_policy pol;
	const struct smtp_sts_policy *result = NULL;
	time_t now = sts_now();
	int found;

	if (e != NULL && e->expires <= now) {
		free(e->domain);
		e->domain = NULL;
		smtp_sts_policy_clear(&e->policy);
		e = NULL;
	}
	found = sts_record(env, domain, id, why);
	if (found < 0)
		msg_warn("%s: MTA-STS record for %s: %s", queue_id, domain,
		    sbuf_str(why));
	if (found <= 0 || (e != NULL && strcmp(e->policy.id,
	    sbuf_str(id)) == 0)) {
		result = e != NULL ? &e->policy : NULL;
		goto done;
	}
	if (sts_fetch(env, domain, &pol, why) < 0) {
		msg_warn("%s: MTA-STS policy for %s: %s", queue_id, domain,
		    sbuf_str(why));
		result = e != NULL ? &e->policy : NULL;
		goto done;
	}
	pol.id = xstrdup(sbuf_str(id));
	e = sts_cache_slot(domain);
	e->policy = pol;
	e->expires = now + (pol.max_age < SMTP_STS_MAX_AGE ? pol.max_age :
	    SMTP_STS_MAX_AGE);
	msg_info("%s: MTA-STS policy for %s: mode=%s (id %s)", queue_id,
	    domain, smtp_sts_mode_name(pol.mode), pol.id);
	result = &e->policy;
done:
	sbuf_free(&id);
	sbuf_free(&why);
	return result;
}
