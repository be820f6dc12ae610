/*
 * fuzz_addr - RFC 5321 paths as smtpd and sendmail receive them
 *
 * The first byte chooses the flags; the rest is the MAIL/RCPT argument.
 * A parsed address must survive quoting and parse back to itself.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "mail/addr.h"
#include "util/sbuf.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbuf *why = sbuf_new(), *quoted = sbuf_new();
	struct addr *a = NULL, *again = NULL;
	const char *arg, *params;
	size_t path_len;
	int flags;

	if (size == 0)
		goto out;
	flags = data[0] & 0x3f;
	arg = (const char *)data + 1;
	if (addr_split_params(arg, size - 1, &path_len, &params, why) < 0)
		goto out;
	if (addr_parse(arg, path_len, flags, &a, why) < 0)
		goto out;
	if (a->domain == NULL || *a->local == '\0')
		goto out;
	if (sbuf_catc(quoted, '<') < 0 ||
	    addr_quote(a->local, a->domain, quoted) < 0 ||
	    sbuf_catc(quoted, '>') < 0)
		goto out;
	if (addr_parse(sbuf_str(quoted), sbuf_len(quoted), flags, &again,
	    why) == 0 && (strcmp(again->local, a->local) != 0 ||
	    strcmp(again->domain, a->domain) != 0))
		abort();
out:
	addr_free(&a);
	addr_free(&again);
	sbuf_free(&why);
	sbuf_free(&quoted);
	return 0;
}
