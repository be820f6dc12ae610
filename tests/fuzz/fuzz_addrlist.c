/*
 * fuzz_addrlist - To:, Cc: and Bcc: values and recipient arguments, as
 * sendmail -t splits them into addresses
 *
 * An address given must be non-empty text without a NUL, in angle
 * brackets only when it is one bracketed address; the list the
 * addresses make, joined with commas, must split into the same
 * addresses again. A value refused must say why.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "sendmail_addrlist.h"
#include "util/sbuf.h"
#include "util/strlist.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strlist first = { 0 }, again = { 0 };
	struct sbuf *why = sbuf_new(), *joined = sbuf_new();

	if (addrlist_parse((const char *)data, size, &first, why) < 0) {
		if (sbuf_len(why) == 0)
			abort();
		goto out;
	}
	for (size_t i = 0; i < first.count; i++) {
		const char *a = first.items[i];
		size_t len = strlen(a);

		if (len == 0 || (a[0] == '<') != (a[len - 1] == '>') ||
		    (len == 1 && a[0] == '<'))
			abort();
		sbuf_printf(joined, "%s%s", i > 0 ? ", " : "", a);
	}
	if (addrlist_parse(sbuf_str(joined), sbuf_len(joined), &again,
	    why) < 0 || again.count != first.count)
		abort();
	for (size_t i = 0; i < first.count; i++)
		if (strcmp(first.items[i], again.items[i]) != 0)
			abort();
out:
	strlist_free(&first);
	strlist_free(&again);
	sbuf_free(&why);
	sbuf_free(&joined);
	return 0;
}
