/*
 * fuzz_attr - inter-daemon attribute frames as a hostile peer sends them
 */
#include "fuzz.h"

#include "util/attr.h"
#include "util/sbuf.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbuf *why = sbuf_new();
	struct attr_list *list = NULL;
	const char *bytes;
	size_t len;
	long v;

	if (attr_decode((const char *)data, size, &list, why) == 0) {
		attr_get_str(list, "sender");
		attr_get_long(list, "size", 0, 1L << 40, &v, why);
		attr_get_bytes(list, "data", &bytes, &len);
		attr_list_free(&list);
	}
	sbuf_free(&why);
	return 0;
}
