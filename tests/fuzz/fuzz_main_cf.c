/*
 * fuzz_main_cf - main.cf text, parsed and every parameter expanded and
 * typed as a daemon would load it
 */
#include "fuzz.h"

#include "mail/main_cf.h"
#include "mail/params.h"
#include "util/sbuf.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbuf *why = sbuf_new(), *warnings = sbuf_new();
	struct main_cf *cf;
	struct params *p;

	if ((cf = main_cf_parse((const char *)data, size, "main.cf",
	    why)) != NULL) {
		main_cf_unknown(cf, NULL, warnings);
		p = params_new();
		params_fill(p, cf, why);
		params_free(&p);
		main_cf_free(&cf);
	}
	sbuf_free(&why);
	sbuf_free(&warnings);
	return 0;
}
