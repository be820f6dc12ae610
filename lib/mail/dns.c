/*
 * dns - DNS lookups for mail routing through the system's resolver library
 *
 * Errors: a status and a reason in why; never logs. Trust: every answer
 * is untrusted; the library checks the message framing and names, and
 * here each record's length is checked before its fields are read.
 */
#include "mail/dns.h"

#include <sys/types.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <netdb.h>
#include <resolv.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/sbuf.h"
#include "util/strutil.h"
#include "util/xmalloc.h"

#define DNS_ANSWER_BUF	65536	/* largest DNS message over TCP */

struct dns_cache_entry {
	char *name;
	enum dns_type type;
	time_t expires;		/* monotonic seconds */
	struct dns_answer answer;
};

struct dns_resolver {
	struct __res_state res;
	unsigned char *buf;
	struct dns_cache_entry *cache;
	size_t cache_count;
};

const char *
dns_type_name(enum dns_type type)
{
	switch (type) {
	case DNS_T_A:
		return "A";
	case DNS_T_MX:
		return "MX";
	case DNS_T_AAAA:
		return "AAAA";
	case DNS_T_TLSA:
		return "TLSA";
	case DNS_T_TXT:
		return "TXT";
	}
	return "?";
}

static time_t
dns_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* Parses "ADDR", "ADDR:PORT" or "[ADDR]:PORT" into sin; 0 or -1. */
static int
dns_parse_server(const char *server, struct sockaddr_in *sin)
{
	char host[INET_ADDRSTRLEN + 2];
	const char *end, *port = NULL;
	long num = NS_DEFAULTPORT;
	size_t len;

	if (*server == '[') {
		if ((end = strchr(server, ']')) == NULL)
			return -1;
		server++;
		len = (size_t)(end - server);
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != '\0')
			return -1;
	} else {
		end = strchr(server, ':');
		len = end != NULL ? (size_t)(end - server) : strlen(server);
		if (end != NULL)
			port = end + 1;
	}
	if (len == 0 || len >= sizeof(host))
		return -1;
	memcpy(host, server, len);
	host[len] = '\0';
	if (port != NULL && (str_to_long(port, &num) < 0 || num < 1 ||
	    num > 65535))
		return -1;
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)num);
	return inet_pton(AF_INET, host, &sin->sin_addr) == 1 ? 0 : -1;
}

struct dns_resolver *
dns_open(const char *server, struct sbuf *why)
{
	struct dns_resolver *r = xcalloc(1, sizeof(*r));
	struct sockaddr_in sin;

	if (server != NULL && *server != '\0' &&
	    dns_parse_server(server, &sin) < 0) {
		sbuf_setf(why, "malformed name server address \"%s\"", server);
		free(r);
		return NULL;
	}
	if (res_ninit(&r->res) != 0) {
		sbuf_set(why, "cannot initialise the resolver (resolv.conf)");
		res_nclose(&r->res);
		free(r);
		return NULL;
	}
	/* Ask for the AD bit and believe it: see the header. */
	r->res.options |= RES_USE_EDNS0 | RES_TRUSTAD;
	if (server != NULL && *server != '\0') {
		r->res.nscount = 1;
		r->res.nsaddr_list[0] = sin;
	}
	r->buf = xmalloc(DNS_ANSWER_BUF);
	return r;
}

void
dns_answer_clear(struct dns_answer *answer)
{
	for (size_t i = 0; i < answer->count; i++)
		free(answer->rrs[i].data);
	free(answer->rrs);
	answer->rrs = NULL;
	answer->count = 0;
	answer->authentic = false;
}

void
dns_free(struct dns_resolver **rp)
{
	struct dns_resolver *r = *rp;

	if (r == NULL)
		return;
	for (size_t i = 0; i < r->cache_count; i++) {
		free(r->cache[i].name);
		dns_answer_clear(&r->cache[i].answer);
	}
	free(r->cache);
	res_nclose(&r->res);
	free(r->buf);
	free(r);
	*rp = NULL;
}

/* Joins the character-strings of TXT rdata into rr; 0, or -1. */
static int
dns_parse_txt(const unsigned char *rd, size_t len, struct dns_rr *rr)
{
	size_t pos = 0, out = 0;

	if (len == 0 || len > DNS_TXT_DATA_MAX)
		return -1;
	rr->data = xmalloc(len);
	while (pos < len) {
		size_t n = rd[pos++];

		if (n > len - pos) {
			free(rr->data);
			rr->data = NULL;
			return -1;
		}
		memcpy(rr->data + out, rd + pos, n);
		out += n;
		pos += n;
	}
	rr->data_len = out;
	return 0;
}

/* Fills rr from a record of the type asked for; 0, or -1 if malformed. */
static int
dns_parse_rr(ns_msg *handle, ns_rr *nsrr, struct dns_rr *rr)
{
	const unsigned char *rd = ns_rr_rdata(*nsrr);
	size_t len = ns_rr_rdlen(*nsrr);

	memset(rr, 0, sizeof(*rr));
	rr->type = (enum dns_type)ns_rr_type(*nsrr);
	rr->ttl = ns_rr_ttl(*nsrr);
	switch (rr->type) {
	case DNS_T_A:
		if (len != 4)
			return -1;
		inet_ntop(AF_INET, rd, rr->addr, sizeof(rr->addr));
		return 0;
	case DNS_T_AAAA:
		if (len != 16)
			return -1;
		inet_ntop(AF_INET6, rd, rr->addr, sizeof(rr->addr));
		return 0;
	case DNS_T_MX:
		if (len < 3)
			return -1;
		rr->preference = ns_get16(rd);
		if (ns_name_uncompress(ns_msg_base(*handle),
		    ns_msg_end(*handle), rd + 2, rr->name,
		    sizeof(rr->name)) < 0)
			return -1;
		if (rr->name[0] == '\0')	/* the root: a null MX */
			snprintf(rr->name, sizeof(rr->name), ".");
		str_lower(rr->name);
		return 0;
	case DNS_T_TLSA:
		if (len < 4 || len - 3 > DNS_TLSA_DATA_MAX)
			return -1;
		rr->usage = rd[0];
		rr->selector = rd[1];
		rr->mtype = rd[2];
		rr->data_len = len - 3;
		rr->data = xmemdup(rd + 3, rr->data_len);
		return 0;
	case DNS_T_TXT:
		return dns_parse_txt(rd, len, rr);
	}
	return -1;
}

/* Orders MX records by preference, keeping the server's order within. */
static void
dns_sort_mx(struct dns_answer *answer)
{
	for (size_t i = 1; i < answer->count; i++) {
		struct dns_rr tmp = answer->rrs[i];
		size_t j = i;

		for (; j > 0 && answer->rrs[j - 1].preference > tmp.preference;
		    j--)
			answer->rrs[j] = answer->rrs[j - 1];
		answer->rrs[j] = tmp;
	}
}

enum dns_status
dns_parse(const unsigned char *msg, size_t len, enum dns_type type,
    struct dns_answer *answer, struct sbuf *why)
{
	ns_msg handle;
	ns_rr nsrr;
	int count;

	memset(answer, 0, sizeof(*answer));
	if (ns_initparse(msg, (int)len, &handle) < 0) {
		sbuf_set(why, "malformed DNS reply");
		return DNS_FAIL;
	}
	switch (ns_msg_getflag(handle, ns_f_rcode)) {
	case ns_r_noerror:
		break;
	case ns_r_nxdomain:
		sbuf_set(why, "host not found");
		return DNS_NXDOMAIN;
	case ns_r_servfail:
		sbuf_set(why, "name server failure (SERVFAIL)");
		return DNS_TEMPFAIL;
	default:
		sbuf_setf(why, "name server error (rcode %d)",
		    (int)ns_msg_getflag(handle, ns_f_rcode));
		return DNS_FAIL;
	}
	count = ns_msg_count(handle, ns_s_an);
	answer->rrs = xcalloc(count > 0 ? (size_t)count : 1,
	    sizeof(*answer->rrs));
	for (int i = 0; i < count && answer->count < DNS_RR_MAX; i++) {
		if (ns_parserr(&handle, ns_s_an, i, &nsrr) < 0) {
			dns_answer_clear(answer);
			sbuf_set(why, "malformed DNS reply");
			return DNS_FAIL;
		}
		if (ns_rr_class(nsrr) != ns_c_in ||
		    (int)ns_rr_type(nsrr) != (int)type)
			continue;	/* a CNAME on the way, say */
		if (dns_parse_rr(&handle, &nsrr,
		    &answer->rrs[answer->count]) < 0) {
			dns_answer_clear(answer);
			sbuf_setf(why, "malformed %s record in DNS reply",
			    dns_type_name(type));
			return DNS_FAIL;
		}
		answer->count++;
	}
	if (answer->count == 0) {
		dns_answer_clear(answer);
		sbuf_setf(why, "no %s record", dns_type_name(type));
		return DNS_NODATA;
	}
	answer->authentic = ns_msg_getflag(handle, ns_f_ad) != 0;
	if (type == DNS_T_MX)
		dns_sort_mx(answer);
	return DNS_OK;
}

/* Deep copy of an answer. */
static void
dns_answer_copy(struct dns_answer *to, const struct dns_answer *from)
{
	to->count = from->count;
	to->authentic = from->authentic;
	to->rrs = xmemdup(from->rrs, from->count * sizeof(*from->rrs));
	for (size_t i = 0; i < from->count; i++)
		if (from->rrs[i].data != NULL)
			to->rrs[i].data = xmemdup(from->rrs[i].data,
			    from->rrs[i].data_len);
}

/* The cached answer for (name, type), dropping expired ones; or NULL. */
static struct dns_cache_entry *
dns_cache_find(struct dns_resolver *r, const char *name, enum dns_type type)
{
	time_t now = dns_now();

	for (size_t i = 0; i < r->cache_count;) {
		struct dns_cache_entry *e = &r->cache[i];

		if (e->expires <= now) {
			free(e->name);
			dns_answer_clear(&e->answer);
			*e = r->cache[--r->cache_count];
			continue;
		}
		if (e->type == type && strcasecmp(e->name, name) == 0)
			return e;
		i++;
	}
	return NULL;
}

/* Caches a copy of answer for its smallest TTL. */
static void
dns_cache_add(struct dns_resolver *r, const char *name, enum dns_type type,
    const struct dns_answer *answer)
{
	uint32_t ttl = DNS_CACHE_TTL_MAX;
	struct dns_cache_entry *e;

	for (size_t i = 0; i < answer->count; i++)
		if (answer->rrs[i].ttl < ttl)
			ttl = answer->rrs[i].ttl;
	if (ttl == 0)
		return;
	if (r->cache_count == DNS_CACHE_MAX) {
		size_t soonest = 0;

		for (size_t i = 1; i < r->cache_count; i++)
			if (r->cache[i].expires < r->cache[soonest].expires)
				soonest = i;
		free(r->cache[soonest].name);
		dns_answer_clear(&r->cache[soonest].answer);
		r->cache[soonest] = r->cache[--r->cache_count];
	}
	if (r->cache == NULL)
		r->cache = xcalloc(DNS_CACHE_MAX, sizeof(*r->cache));
	e = &r->cache[r->cache_count++];
	e->name = xstrdup(name);
	e->type = type;
	e->expires = dns_now() + (time_t)ttl;
	dns_answer_copy(&e->answer, answer);
}

enum dns_status
dns_lookup(struct dns_resolver *r, const char *name, enum dns_type type,
    struct dns_answer *answer, struct sbuf *why)
{
	struct dns_cache_entry *e;
	enum dns_status status;
	int len;

	memset(answer, 0, sizeof(*answer));
	if (*name == '\0' || strlen(name) > DNS_NAME_MAX ||
	    str_has_ctl(name)) {
		sbuf_setf(why, "malformed domain name \"%s\"", name);
		return DNS_FAIL;
	}
	if ((e = dns_cache_find(r, name, type)) != NULL) {
		dns_answer_copy(answer, &e->answer);
		return DNS_OK;
	}
	len = res_nquery(&r->res, name, ns_c_in, (int)type, r->buf,
	    DNS_ANSWER_BUF);
	if (len < 0) {
		switch (r->res.res_h_errno) {
		case HOST_NOT_FOUND:
			sbuf_setf(why, "%s: host not found", name);
			return DNS_NXDOMAIN;
		case NO_DATA:
			sbuf_setf(why, "%s: no %s record", name,
			    dns_type_name(type));
			return DNS_NODATA;
		case NO_RECOVERY:
			sbuf_setf(why, "%s: non-recoverable DNS error looking "
			    "up %s", name, dns_type_name(type));
			return DNS_FAIL;
		default:
			sbuf_setf(why, "%s: temporary DNS failure looking up "
			    "%s", name, dns_type_name(type));
			return DNS_TEMPFAIL;
		}
	}
	if ((size_t)len > DNS_ANSWER_BUF)
		len = DNS_ANSWER_BUF;
	status = dns_parse(r->buf, (size_t)len, type, answer, why);
	if (status == DNS_OK)
		dns_cache_add(r, name, type, answer);
	else
		sbuf_printf(why, " (%s %s)", name, dns_type_name(type));
	return status;
}
