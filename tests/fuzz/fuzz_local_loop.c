/*
 * fuzz_local_loop - the header of a message as local scans it for
 * Delivered-To: fields before delivering it
 *
 * The first byte is the size of the reads the content arrives in (1 to
 * 256); the rest is the message. Each value found is one line, trimmed,
 * and local_loop_seen() must find it; a content read that fails must
 * make the scan fail.
 */
#include "fuzz.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "local_loop.h"
#include "util/sbuf.h"

struct fuzz_src {
	const char *data;
	size_t len, pos, chunk;
	bool fail;		/* fails with EIO at the end */
};

static ssize_t
fuzz_read(void *ctx, char *buf, size_t len)
{
	struct fuzz_src *s = ctx;
	size_t n = s->len - s->pos;

	if (n == 0 && s->fail) {
		errno = EIO;
		return -1;
	}
	if (n > len)
		n = len;
	if (n > s->chunk)
		n = s->chunk;
	memcpy(buf, s->data + s->pos, n);
	s->pos += n;
	return (ssize_t)n;
}

/* Aborts unless every line of values is a trimmed value that is seen. */
static void
fuzz_check_values(const struct sbuf *values)
{
	struct sbuf *one = sbuf_new();
	const char *p = sbuf_str(values), *end = p + sbuf_len(values);

	if (sbuf_len(values) > 0 && end[-1] != '\n')
		abort();
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)(nl - p);

		if (len > 0 && (p[0] == ' ' || p[0] == '\t' ||
		    p[len - 1] == ' ' || p[len - 1] == '\t' ||
		    p[len - 1] == '\r'))
			abort();
		sbuf_reset(one);
		sbuf_catn(one, p, len);
		if (strlen(sbuf_str(one)) == len &&
		    !local_loop_seen(values, sbuf_str(one)))
			abort();
		p = nl + 1;
	}
	sbuf_free(&one);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbuf *values = sbuf_new();
	struct fuzz_src src;

	if (size == 0)
		goto out;
	src = (struct fuzz_src){ (const char *)data + 1, size - 1, 0,
	    (size_t)data[0] + 1, false };
	if (local_loop_scan(fuzz_read, &src, values) < 0)
		abort();
	fuzz_check_values(values);
	src.pos = 0;
	src.fail = true;
	if (local_loop_scan(fuzz_read, &src, values) == 0 &&
	    src.pos == src.len && src.len < LOCAL_LOOP_HEADER_MAX &&
	    memmem(src.data, src.len, "\n\n", 2) == NULL &&
	    memmem(src.data, src.len, "\n\r\n", 3) == NULL &&
	    memchr(src.data, '\0', src.len) == NULL)
		abort();
out:
	sbuf_free(&values);
	return 0;
}
