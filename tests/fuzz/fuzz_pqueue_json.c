/*
 * fuzz_pqueue_json - text from queue files (addresses, reasons a remote
 * server gave) as postern-queue -j writes it into JSON strings
 *
 * The input (to a NUL) is the text. The JSON string must be quoted, hold
 * no raw control character, '"' or '\\' outside an escape, and decode
 * back to the text.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "pqueue_json.h"
#include "util/sbuf.h"

/* The value of the hex digit c, or -1. */
static int
fuzz_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes the JSON string json into text; aborts when it is not one. */
static void
fuzz_decode(const char *json, size_t len, struct sbuf *text)
{
	size_t i;

	if (len < 2 || json[0] != '"' || json[len - 1] != '"')
		abort();
	for (i = 1; i < len - 1; i++) {
		unsigned char c = (unsigned char)json[i];
		int v = 0;

		if (c < 0x20 || c == 0x7f || c == '"')
			abort();
		if (c != '\\') {
			sbuf_catc(text, (char)c);
			continue;
		}
		if (++i >= len - 1)
			abort();
		switch (json[i]) {
		case '"':
		case '\\':
		case '/':
			sbuf_catc(text, json[i]);
			break;
		case 'b':
			sbuf_catc(text, '\b');
			break;
		case 'f':
			sbuf_catc(text, '\f');
			break;
		case 'n':
			sbuf_catc(text, '\n');
			break;
		case 'r':
			sbuf_catc(text, '\r');
			break;
		case 't':
			sbuf_catc(text, '\t');
			break;
		case 'u':
			if (i + 4 >= len - 1)
				abort();
			for (int k = 1; k <= 4; k++) {
				int h = fuzz_hex(json[i + k]);

				if (h < 0)
					abort();
				v = v * 16 + h;
			}
			/* Only control characters are escaped this way. */
			if (v >= 0x80)
				abort();
			sbuf_catc(text, (char)v);
			i += 4;
			break;
		default:
			abort();
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbuf *in = sbuf_new(), *json = sbuf_new(), *back = sbuf_new();

	sbuf_catn(in, (const char *)data, size);
	pqueue_json_string(json, sbuf_str(in));
	fuzz_decode(sbuf_str(json), sbuf_len(json), back);
	if (strcmp(sbuf_str(back), sbuf_str(in)) != 0 ||
	    sbuf_len(back) != strlen(sbuf_str(in)))
		abort();
	sbuf_free(&in);
	sbuf_free(&json);
	sbuf_free(&back);
	return 0;
}
