/*
 * fuzz_dns - DNS replies as a hostile or broken name server sends them,
 * parsed for each record type the SMTP client asks for
 */
#include "fuzz.h"

#include "mail/dns.h"
#include "util/sbuf.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum dns_type types[] = {
		DNS_T_A, DNS_T_MX, DNS_T_AAAA, DNS_T_TLSA
	};
	struct sbuf *why = sbuf_new();

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct dns_answer answer = { 0 };

		(void)dns_parse(data, size, types[i], &answer, why);
		dns_answer_clear(&answer);
	}
	sbuf_free(&why);
	return 0;
}
