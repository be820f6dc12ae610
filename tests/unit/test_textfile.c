/*
 * test_textfile - logical lines: comments, continuation, hostile bytes
 */
#include "testutil.h"

#include <string.h>

#include "util/sbuf.h"
#include "util/textfile.h"
#include "util/xmalloc.h"

/* Collects "N:text|" for each logical line. */
static int
collect(char *line, int lineno, void *ctx, struct sbuf *why)
{
	struct sbuf *out = ctx;

	sbuf_printf(out, "%d:%s|", lineno, line);
	return 0;
}

struct line_row {
	const char *name;
	const char *text;
	size_t len;		/* 0: strlen(text) */
	int ret;
	const char *expect;	/* lines on success, reason part on error */
};

static const struct line_row line_rows[] = {
	{"plain", "a = 1\nb = 2\n", 0, 0, "1:a = 1|2:b = 2|"},
	{"no final newline", "a\nb", 0, 0, "1:a|2:b|"},
	{"crlf", "a\r\nb\r\n", 0, 0, "1:a|2:b|"},
	{"continuation", "a = 1,\n  2,\n\t3\nb\n", 0, 0,
	    "1:a = 1, 2, 3|4:b|"},
	{"comment inside continuation", "a = 1\n# note\n  2\n", 0, 0,
	    "1:a = 1 2|"},
	{"indented comment", "   # x\na\n", 0, 0, "2:a|"},
	{"blank line ends", "a\n\n  b\n", 0, 0, "1:a|3:b|"},
	{"trailing spaces trimmed", "a   \t\n", 0, 0, "1:a|"},
	{"spaces around a join", "a  \n   b\n", 0, 0, "1:a b|"},
	{"empty", "", 0, 0, ""},
	{"only comments", "#a\n#b\n", 0, 0, ""},
	{"nul byte", "a\nb\0c\n", 6, -1, "test.cf, line 2: NUL byte"},
};

static void
test_lines(void **state)
{
	for (size_t i = 0; i < sizeof(line_rows) / sizeof(line_rows[0]);
	    i++) {
		const struct line_row *r = &line_rows[i];
		struct sbuf *out = sbuf_new(), *why = sbuf_new();
		size_t len = r->len ? r->len : strlen(r->text);
		int ret;

		ret = textfile_parse(r->text, len, "test.cf", collect, out,
		    why);
		if (ret != r->ret)
			fail_msg("%s: returned %d (%s)", r->name, ret,
			    sbuf_str(why));
		if (ret == 0 && strcmp(sbuf_str(out), r->expect) != 0)
			fail_msg("%s: got \"%s\"", r->name, sbuf_str(out));
		if (ret < 0 && strstr(sbuf_str(why), r->expect) == NULL)
			fail_msg("%s: reason \"%s\"", r->name, sbuf_str(why));
		sbuf_free(&out);
		sbuf_free(&why);
	}
}

static void
test_overlong_line(void **state)
{
	size_t len = TEXTFILE_LINE_MAX + 10;
	char *big = xmalloc(len + 8);
	struct sbuf *out = sbuf_new(), *why = sbuf_new();

	memcpy(big, "ok\n", 3);
	memset(big + 3, 'x', len);
	memcpy(big + 3 + len, "\n", 1);
	assert_int_equal(textfile_parse(big, len + 4, "big.cf", collect, out,
	    why), -1);
	assert_non_null(strstr(sbuf_str(why), "big.cf, line 2: line longer"));
	free(big);
	sbuf_free(&out);
	sbuf_free(&why);
}

static int
stop_at_two(char *line, int lineno, void *ctx, struct sbuf *why)
{
	if (lineno == 2) {
		sbuf_setf(why, "f, line %d: refused", lineno);
		return -1;
	}
	return 0;
}

static void
test_callback_stops(void **state)
{
	struct sbuf *why = sbuf_new();

	assert_int_equal(textfile_parse("a\nb\nc\n", 6, "f", stop_at_two,
	    NULL, why), -1);
	assert_string_equal(sbuf_str(why), "f, line 2: refused");
	sbuf_free(&why);
}

static void
test_read_file(void **state)
{
	char *dir = test_tmpdir();
	char *path = test_write_text(dir, "main.cf", "x = 1\n  y\n");
	struct sbuf *out = sbuf_new(), *why = sbuf_new();

	assert_int_equal(textfile_read(path, collect, out, why), 0);
	assert_string_equal(sbuf_str(out), "1:x = 1 y|");
	free(path);
	assert_int_equal(textfile_read("/nonexistent/main.cf", collect, out,
	    why), -1);
	assert_non_null(strstr(sbuf_str(why), "/nonexistent/main.cf"));
	sbuf_free(&out);
	sbuf_free(&why);
	test_rmtree(&dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_overlong_line),
		cmocka_unit_test(test_callback_stops),
		cmocka_unit_test(test_read_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
