/*
 * fuzz_sendmail_msg - a message as a local program hands it to sendmail,
 * read from standard input and given its header fixes (sendmail -t)
 *
 * The first byte chooses the reading: bit 0, dots ignored (-i); bit 1,
 * a size limit. The rest is the input. A message read must hold no line
 * that ends it (a lone "." unless dots are ignored) and end in LF; its
 * fixed form must hold no Bcc: field, a From:, a Date: and a Message-ID:
 * in its header, and fixing it again must change nothing. No address
 * taken for -t may be empty.
 */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sendmail_msg.h"
#include "util/sbuf.h"
#include "util/strlist.h"

#define FUZZ_LIMIT	1000

static const struct message_fix fuzz_fix = {
	.from = "Jane Doe <jane@example.test>",
	.date = "Mon, 23 Nov 2026 08:00:00 +0000",
	.message_id = "<fuzz.1@example.test>",
};

/* Aborts unless msg is what message_read() may return. */
static void
fuzz_check_read(const struct sbuf *msg, bool ignore_dots)
{
	const char *s = sbuf_str(msg);
	size_t len = sbuf_len(msg);

	if (len > 0 && s[len - 1] != '\n')
		abort();
	if (!ignore_dots && (strncmp(s, ".\n", 2) == 0 ||
	    memmem(s, len, "\n.\n", 3) != NULL))
		abort();
}

/*
 * The end of the header of a fixed message: its fields, as message_fix()
 * walks them, stop at the empty line it always has.
 */
static size_t
fuzz_header_end(const struct sbuf *out)
{
	const char *s = sbuf_str(out), *p;

	if (sbuf_len(out) > 0 && s[0] == '\n')
		return 0;
	if ((p = memmem(s, sbuf_len(out), "\n\n", 2)) == NULL)
		abort();
	return (size_t)(p - s) + 1;
}

/* True when the header s[0..len) has a line that starts with name. */
static bool
fuzz_has_field(const char *s, size_t len, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = s, *end = s + len; p < end; ) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if ((size_t)(end - p) >= n && strncasecmp(p, name, n) == 0)
			return true;
		p = nl != NULL ? nl + 1 : end;
	}
	return false;
}

/* Aborts unless out is msg fixed as sendmail_msg.h says. */
static void
fuzz_check_fix(const struct sbuf *out)
{
	struct sbuf *again = sbuf_new(), *why = sbuf_new();
	struct strlist rcpts = { 0 };
	size_t head = fuzz_header_end(out);

	if (fuzz_has_field(sbuf_str(out), head, "bcc:") ||
	    fuzz_has_field(sbuf_str(out), head, "bcc ") ||
	    fuzz_has_field(sbuf_str(out), head, "bcc\t") ||
	    !fuzz_has_field(sbuf_str(out), head, "from") ||
	    !fuzz_has_field(sbuf_str(out), head, "date") ||
	    !fuzz_has_field(sbuf_str(out), head, "message-id"))
		abort();
	/* Fixing again changes nothing. */
	if (message_fix(out, &fuzz_fix, again, &rcpts, why) < 0 ||
	    sbuf_len(again) != sbuf_len(out) ||
	    memcmp(sbuf_str(again), sbuf_str(out), sbuf_len(out)) != 0)
		abort();
	strlist_free(&rcpts);
	sbuf_free(&again);
	sbuf_free(&why);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbuf *msg, *out, *why;
	struct strlist rcpts = { 0 };
	enum message_read_status rs;
	bool ignore_dots;
	char *copy;
	FILE *fp;

	if (size == 0)
		return 0;
	ignore_dots = data[0] & 1;
	/* fmemopen() takes a buffer it may write to, even for reading. */
	copy = malloc(size);
	memcpy(copy, data + 1, size - 1);
	if ((fp = fmemopen(copy, size - 1, "r")) == NULL)
		abort();
	msg = sbuf_new();
	out = sbuf_new();
	why = sbuf_new();
	rs = message_read(fp, ignore_dots, data[0] & 2 ? FUZZ_LIMIT : 0, msg);
	if (rs == MESSAGE_READ_OK) {
		fuzz_check_read(msg, ignore_dots);
		if (message_fix(msg, &fuzz_fix, out, &rcpts, why) == 0)
			fuzz_check_fix(out);
		else if (sbuf_len(why) == 0)
			abort();
	} else if (rs != MESSAGE_READ_TOOBIG || !(data[0] & 2)) {
		abort();
	}
	for (size_t i = 0; i < rcpts.count; i++)
		if (rcpts.items[i][0] == '\0')
			abort();
	strlist_free(&rcpts);
	fclose(fp);
	free(copy);
	sbuf_free(&msg);
	sbuf_free(&out);
	sbuf_free(&why);
	return 0;
}
