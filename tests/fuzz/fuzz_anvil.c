/*
 * fuzz_anvil - requests to anvil as any local process that can reach
 * private/anvil may send them
 *
 * The input is one attr frame, its length included. A request taken
 * must name a service and an address anvil can use as keys: 1 to
 * ANVIL_NAME_MAX printable characters other than space.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "mail/anvil_clnt.h"
#include "util/attr.h"
#include "util/sbuf.h"

/* Aborts unless s is an anvil key. */
static void
fuzz_check_name(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > ANVIL_NAME_MAX)
		abort();
	for (const unsigned char *c = (const unsigned char *)s; *c; c++)
		if (*c <= ' ' || *c >= 0x7f)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbuf *why = sbuf_new();
	struct attr_list *req = NULL;
	const char *service, *addr;

	if (attr_decode((const char *)data, size, &req, why) == 0) {
		if (anvil_request_parse(req, &service, &addr, why) == 0) {
			fuzz_check_name(service);
			fuzz_check_name(addr);
		} else if (sbuf_len(why) == 0) {
			abort();
		}
		attr_list_free(&req);
	}
	sbuf_free(&why);
	return 0;
}
