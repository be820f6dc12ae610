/*
 * textfile - logical lines of configuration and table text files
 *
 * Errors: -1 with "FILE, line N: text" in why; nothing logs.
 * Trust: file content may be malformed or hostile (a table source written
 * by a user); every line is bounded and NUL bytes are refused.
 */
#include "util/textfile.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "util/safe_file.h"
#include "util/sbuf.h"
#include "util/strutil.h"

struct textfile_state {
	const char *name;
	textfile_line_fn fn;
	void *ctx;
	struct sbuf *logical;	/* the logical line being gathered */
	int start_line;		/* its first physical line; 0 when empty */
};

/* Hands over the gathered logical line, if any. */
static int
textfile_flush(struct textfile_state *st, struct sbuf *why)
{
	char *text;
	int line = st->start_line;

	if (line == 0)
		return 0;
	st->start_line = 0;
	text = str_trim(st->logical->data);
	if (*text == '\0') {
		sbuf_reset(st->logical);
		return 0;
	}
	if (st->fn(text, line, st->ctx, why) < 0) {
		sbuf_reset(st->logical);
		return -1;
	}
	sbuf_reset(st->logical);
	return 0;
}

static int
textfile_too_long(const struct textfile_state *st, struct sbuf *why)
{
	sbuf_setf(why, "%s, line %d: line longer than %d bytes", st->name,
	    st->start_line, TEXTFILE_LINE_MAX);
	return -1;
}

/* Takes one physical line (without its newline). */
static int
textfile_physical(struct textfile_state *st, const char *p, size_t len,
    int lineno, struct sbuf *why)
{
	size_t i = 0;

	if (memchr(p, '\0', len) != NULL) {
		sbuf_setf(why, "%s, line %d: NUL byte in text", st->name,
		    lineno);
		return -1;
	}
	while (len > 0 && isspace((unsigned char)p[len - 1]))
		len--;
	while (i < len && isspace((unsigned char)p[i]))
		i++;
	if (i < len && p[i] == '#')
		return 0;
	if (i == len)
		return textfile_flush(st, why);
	if (i == 0 && textfile_flush(st, why) < 0)
		return -1;
	/* A continuation joins its text to the line with one space. */
	if (st->start_line == 0)
		st->start_line = lineno;
	else if (sbuf_catc(st->logical, ' ') < 0)
		return textfile_too_long(st, why);
	if (sbuf_catn(st->logical, p + i, len - i) < 0)
		return textfile_too_long(st, why);
	return 0;
}

int
textfile_parse(const char *data, size_t len, const char *name,
    textfile_line_fn fn, void *ctx, struct sbuf *why)
{
	struct textfile_state st = {name, fn, ctx, sbuf_new(), 0};
	const char *end = data + len;
	int lineno = 0, ret = 0;

	sbuf_set_limit(st.logical, TEXTFILE_LINE_MAX);
	while (data < end && ret == 0) {
		const char *nl = memchr(data, '\n', (size_t)(end - data));
		size_t n = nl ? (size_t)(nl - data) : (size_t)(end - data);

		ret = textfile_physical(&st, data, n, ++lineno, why);
		data += n + (nl != NULL);
	}
	if (ret == 0)
		ret = textfile_flush(&st, why);
	sbuf_free(&st.logical);
	return ret;
}

int
textfile_read(const char *path, textfile_line_fn fn, void *ctx,
    struct sbuf *why)
{
	struct sbuf *data = sbuf_new();
	int ret;

	if (safe_file_read(path, TEXTFILE_SIZE_MAX, data, why) < 0)
		ret = -1;
	else
		ret = textfile_parse(sbuf_str(data), sbuf_len(data), path, fn,
		    ctx, why);
	sbuf_free(&data);
	return ret;
}
