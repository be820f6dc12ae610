/*
 * fuzz_dict_source - "key value" and aliases(5) table sources
 */
#include "fuzz.h"

#include "util/dict.h"
#include "util/dict_source.h"
#include "util/sbuf.h"

static int
accept_entry(const char *key, const char *value, const char *file, int line,
    void *ctx, struct sbuf *why)
{
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbuf *why = sbuf_new();
	int flags = size > 0 && (data[0] & 1) ? DICT_FLAG_ALIAS : 0;

	dict_source_parse((const char *)data, size, "fuzz", flags,
	    accept_entry, NULL, why);
	sbuf_free(&why);
	return 0;
}
