/*
 * fuzz_textfile - logical-line reader of configuration and table files
 */
#include "fuzz.h"

#include "util/sbuf.h"
#include "util/textfile.h"

static int
accept_line(char *line, int lineno, void *ctx, struct sbuf *why)
{
	(*(size_t *)ctx)++;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbuf *why = sbuf_new();
	size_t lines = 0;

	textfile_parse((const char *)data, size, "fuzz", accept_line, &lines,
	    why);
	sbuf_free(&why);
	return 0;
}
