/*
 * fuzz_inline - inline:{...} and static:... table specs from main.cf
 */
#include "fuzz.h"

#include "util/dict.h"
#include "util/sbuf.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbuf *spec = sbuf_new(), *why = sbuf_new(), *value = sbuf_new();
	struct dict *d;

	if (sbuf_catn(spec, data, size) == 0 &&
	    (d = dict_open(sbuf_str(spec), 0, why)) != NULL) {
		dict_lookup(d, "key", value, why);
		dict_free(&d);
	}
	sbuf_free(&spec);
	sbuf_free(&why);
	sbuf_free(&value);
	return 0;
}
