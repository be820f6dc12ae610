/*
 * fuzz_master_cf - master.cf service tables; each parsed service is
 * formatted back as master.cf text
 */
#include "fuzz.h"

#include "mail/master_cf.h"
#include "util/sbuf.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbuf *why = sbuf_new(), *out = sbuf_new();
	struct master_cf *mc;

	if ((mc = master_cf_parse((const char *)data, size, "master.cf", 100,
	    why)) != NULL) {
		for (size_t i = 0; i < mc->count; i++)
			master_service_format(&mc->services[i], out);
		master_cf_free(&mc);
	}
	sbuf_free(&why);
	sbuf_free(&out);
	return 0;
}
