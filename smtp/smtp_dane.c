/*
 * smtp_dane - DANE for SMTP (RFC 7672): TLSA records and their check
 *
 * The one place in the SMTP client that calls OpenSSL, through the hook
 * that util/tls.h provides for it.
 */
#include "smtp_dane.h"

#include <openssl/ssl.h>

#include <stdio.h>
#include <string.h>

#include "util/sbuf.h"

enum smtp_dane_status
smtp_dane_lookup(struct dns_resolver *dns, const char *host, unsigned port,
    struct smtp_dane *d, struct sbuf *why)
{
	char name[DNS_NAME_MAX + 32];
	enum dns_status st;

	d->host = host;
	memset(&d->tlsa, 0, sizeof(d->tlsa));
	snprintf(name, sizeof(name), "_%u._tcp.%s", port, host);
	st = dns_lookup(dns, name, DNS_T_TLSA, &d->tlsa, why);
	if (st == DNS_TEMPFAIL)
		return SMTP_DANE_TEMPFAIL;
	if (st != DNS_OK)
		return SMTP_DANE_NONE;
	if (!d->tlsa.authentic) {
		sbuf_setf(why, "TLSA records of %s are not DNSSEC-validated",
		    name);
		dns_answer_clear(&d->tlsa);
		return SMTP_DANE_NONE;
	}
	return SMTP_DANE_USABLE;
}

void
smtp_dane_clear(struct smtp_dane *d)
{
	dns_answer_clear(&d->tlsa);
}

int
smtp_dane_hook(struct ssl_st *ssl, void *arg, struct sbuf *why)
{
	const struct smtp_dane *d = arg;
	int usable = 0;

	if (SSL_CTX_dane_enable(SSL_get_SSL_CTX(ssl)) <= 0 ||
	    SSL_dane_enable(ssl, d->host) <= 0) {
		sbuf_set(why, "cannot enable DANE verification");
		return -1;
	}
	for (size_t i = 0; i < d->tlsa.count; i++) {
		const struct dns_rr *rr = &d->tlsa.rrs[i];

		if (SSL_dane_tlsa_add(ssl, rr->usage, rr->selector, rr->mtype,
		    rr->data, rr->data_len) > 0)
			usable++;
	}
	if (usable == 0) {
		sbuf_setf(why, "no usable TLSA record for %s", d->host);
		return -1;
	}
	SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
	return 0;
}
