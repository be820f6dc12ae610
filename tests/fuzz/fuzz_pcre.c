/*
 * fuzz_pcre - pcre:FILE pattern tables
 *
 * The input is written to a file (the driver reads tables from files),
 * loaded, and looked up with a few keys, so substitution runs too.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <unistd.h>

#include "util/dict.h"
#include "util/safe_file.h"
#include "util/sbuf.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = {
		"user@example.com", "Subject: hello", "", "aaaaaaaaaaaaaaaa!",
	};
	struct sbuf *path = sbuf_new(), *why = sbuf_new(), *value = sbuf_new();
	struct dict *d;

	sbuf_printf(path, "%s/postern-fuzz-pcre.%ld",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (long)getpid());
	if (safe_file_write(sbuf_str(path), data, size, 0600, why) == 0) {
		struct sbuf *spec = sbuf_new();

		sbuf_printf(spec, "pcre:%s", sbuf_str(path));
		if ((d = dict_open(sbuf_str(spec), 0, why)) != NULL) {
			for (size_t i = 0; i < sizeof(keys) / sizeof(*keys);
			    i++)
				dict_lookup(d, keys[i], value, why);
			dict_free(&d);
		}
		sbuf_free(&spec);
		unlink(sbuf_str(path));
	}
	sbuf_free(&path);
	sbuf_free(&why);
	sbuf_free(&value);
	return 0;
}
