/*
 * local_loop - find the Delivered-To: headers a message already carries
 *
 * Errors: a content read error is -1; the caller defers.
 * Trust: the header is the sender's: read with a bound, compared only.
 */
#include "local_loop.h"

#include <string.h>
#include <strings.h>

#include "util/sbuf.h"

#define LOCAL_LOOP_FIELD	"delivered-to:"

/* Adds the value of the header field in line (one logical line). */
static void
local_loop_field(const char *line, size_t len, struct sbuf *values)
{
	size_t name = strlen(LOCAL_LOOP_FIELD);
	const char *v, *end = line + len;

	if (len < name || strncasecmp(line, LOCAL_LOOP_FIELD, name) != 0)
		return;
	v = line + name;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t' ||
	    end[-1] == '\r'))
		end--;
	sbuf_catn(values, v, (size_t)(end - v));
	sbuf_catc(values, '\n');
}

/* Splits the header text into logical lines and takes the fields. */
static void
local_loop_fields(const struct sbuf *head, struct sbuf *values)
{
	struct sbuf *logical = sbuf_new();
	const char *p = sbuf_str(head), *end = p + sbuf_len(head);

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *stop = nl != NULL ? nl : end;
		size_t len = (size_t)(stop - p);

		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len == 0)
			break;
		if ((*p == ' ' || *p == '\t') && sbuf_len(logical) > 0) {
			sbuf_catn(logical, p, len);
		} else {
			local_loop_field(sbuf_str(logical), sbuf_len(logical),
			    values);
			sbuf_reset(logical);
			sbuf_catn(logical, p, len);
		}
		p = nl != NULL ? nl + 1 : end;
	}
	local_loop_field(sbuf_str(logical), sbuf_len(logical), values);
	sbuf_free(&logical);
}

int
local_loop_scan(content_read_fn read_fn, void *ctx, struct sbuf *values)
{
	struct sbuf *head = sbuf_new();
	char buf[8192];
	ssize_t n;
	int ret = 0;

	sbuf_reset(values);
	while (sbuf_len(head) < LOCAL_LOOP_HEADER_MAX) {
		size_t want = LOCAL_LOOP_HEADER_MAX - sbuf_len(head);

		if ((n = read_fn(ctx, buf, want < sizeof(buf) ? want :
		    sizeof(buf))) < 0) {
			ret = -1;
			break;
		}
		if (n == 0)
			break;
		sbuf_catn(head, buf, (size_t)n);
		if (strstr(sbuf_str(head), "\n\n") != NULL ||
		    strstr(sbuf_str(head), "\n\r\n") != NULL ||
		    memchr(sbuf_str(head), '\0', sbuf_len(head)) != NULL)
			break;
	}
	if (ret == 0)
		local_loop_fields(head, values);
	sbuf_free(&head);
	return ret;
}

bool
local_loop_seen(const struct sbuf *values, const char *address)
{
	const char *p = sbuf_str(values), *end = p + sbuf_len(values);
	size_t alen = strlen(address);

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl != NULL ? nl : end) - p);

		if (len == alen && strncasecmp(p, address, len) == 0)
			return true;
		if (len == alen + 2 && p[0] == '<' && p[len - 1] == '>' &&
		    strncasecmp(p + 1, address, alen) == 0)
			return true;
		p = nl != NULL ? nl + 1 : end;
	}
	return false;
}
