/*
 * test_main_cf - main.cf parsing, $name expansion (forms, loops, limits),
 * unknown-name warnings and the in-place editor
 */
#include "testutil.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail/main_cf.h"
#include "mail/params.h"
#include "util/safe_file.h"
#include "util/sbuf.h"
#include "util/strutil.h"
#include "util/textfile.h"
#include "util/xmalloc.h"

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

/* Parses text as "main.cf"; fails the test with the reason on error. */
static struct main_cf *
parse(const char *text)
{
	struct sbuf *why = sbuf_new();
	struct main_cf *cf = main_cf_parse(text, strlen(text), "main.cf", why);

	if (cf == NULL)
		fail_msg("parse: %s", sbuf_str(why));
	sbuf_free(&why);
	return cf;
}

struct parse_row {
	const char *name;
	const char *text;
	size_t len;		/* 0: strlen(text) */
	const char *reason;	/* NULL: parses */
	const char *param, *value;	/* expected setting */
	int lineno;
};

static const struct parse_row parse_rows[] = {
	{"simple", "a = b\n", 0, NULL, "a", "b", 1},
	{"no blanks", "a=b", 0, NULL, "a", "b", 1},
	{"value with =", "a = b=c\n", 0, NULL, "a", "b=c", 1},
	{"empty value", "a =\n", 0, NULL, "a", "", 1},
	{"trailing blanks", "a =   x y  \t\n", 0, NULL, "a", "x y", 1},
	{"comments and blanks", "# x\n\n   # y\na = 1\n", 0, NULL, "a", "1",
	    4},
	{"continuation", "a = 1,\n  2,\n\t3\n", 0, NULL, "a", "1, 2, 3", 1},
	{"comment inside continuation", "a = 1,\n# c\n  2\n", 0, NULL, "a",
	    "1, 2", 1},
	{"hash inside value", "a = x # y\n", 0, NULL, "a", "x # y", 1},
	{"blank line ends a line", "a = 1\n\n  b = 2\n", 0, NULL, "b", "2",
	    3},
	{"indented first line", "  a = 1\n", 0, NULL, "a", "1", 1},
	{"crlf", "a = 1\r\nb = 2\r\n", 0, NULL, "a", "1", 1},
	{"last of a name wins", "a = 1\nb = 0\na = 2\n", 0, NULL, "a", "2",
	    3},
	{"no final newline", "a = 1", 0, NULL, "a", "1", 1},
	{"missing =", "a b\n", 0, "main.cf, line 1: missing '='", NULL,
	    NULL, 0},
	{"missing = on line 4", "a = 1\n# c\n\nfoo\n", 0,
	    "main.cf, line 4: missing '='", NULL, NULL, 0},
	{"empty name", "= x\n", 0,
	    "main.cf, line 1: bad parameter name \"\"", NULL, NULL, 0},
	{"bad name", "a-b = 1\n", 0,
	    "main.cf, line 1: bad parameter name \"a-b\"", NULL, NULL, 0},
	{"name with a blank", "a b = 1\n", 0,
	    "main.cf, line 1: bad parameter name \"a b\"", NULL, NULL, 0},
	{"name with $", "$a = 1\n", 0, "bad parameter name", NULL, NULL, 0},
	{"NUL byte", "a = 1\nb = x\0y\n", 12,
	    "main.cf, line 2: NUL byte", NULL, NULL, 0},
	{"control character", "a = 1\nb = x\001y\n", 0,
	    "main.cf, line 2: parameter b: control character", NULL, NULL, 0},
	{"bare CR inside", "a = x\ry\n", 0, "control character", NULL, NULL,
	    0},
};

static void
test_parse(void **state)
{
	struct sbuf *why = sbuf_new();

	for (size_t i = 0; i < NROWS(parse_rows); i++) {
		const struct parse_row *r = &parse_rows[i];
		size_t len = r->len ? r->len : strlen(r->text);
		struct main_cf *cf = main_cf_parse(r->text, len, "main.cf",
		    why);
		const struct main_cf_entry *e;

		if (r->reason != NULL) {
			if (cf != NULL)
				fail_msg("%s: parsed", r->name);
			if (strstr(sbuf_str(why), r->reason) == NULL)
				fail_msg("%s: reason \"%s\" lacks \"%s\"",
				    r->name, sbuf_str(why), r->reason);
			continue;
		}
		if (cf == NULL)
			fail_msg("%s: %s", r->name, sbuf_str(why));
		e = main_cf_lookup(cf, r->param);
		if (e == NULL || strcmp(e->value, r->value) != 0 ||
		    e->lineno != r->lineno)
			fail_msg("%s: got \"%s\" line %d", r->name,
			    e ? e->value : "(none)", e ? e->lineno : 0);
		main_cf_free(&cf);
		assert_null(cf);
	}
	sbuf_free(&why);
}

static void
test_long_line(void **state)
{
	struct sbuf *text = sbuf_new(), *why = sbuf_new();
	struct main_cf *cf;

	sbuf_cat(text, "a = 1\nb = ");
	for (size_t i = 0; i < TEXTFILE_LINE_MAX; i++)
		sbuf_catc(text, 'x');
	sbuf_cat(text, "\n");
	cf = main_cf_parse(sbuf_str(text), sbuf_len(text), "main.cf", why);
	assert_null(cf);
	assert_non_null(strstr(sbuf_str(why), "main.cf, line 2: line longer"));
	/* Folded over continuation lines, the logical line is still long. */
	sbuf_set(text, "b = x\n");
	for (size_t i = 0; i < TEXTFILE_LINE_MAX / 32; i++)
		sbuf_cat(text, "  xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		    "xxxxxxxxxxxxxx\n");
	cf = main_cf_parse(sbuf_str(text), sbuf_len(text), "main.cf", why);
	assert_null(cf);
	assert_non_null(strstr(sbuf_str(why), "main.cf, line 1: line longer"));
	sbuf_free(&text);
	sbuf_free(&why);
}

static void
test_entries_sorted(void **state)
{
	struct main_cf *cf = parse("c = 3\na = 1\nb = 2\na = 4\n");

	assert_int_equal(main_cf_count(cf), 3);
	assert_string_equal(main_cf_entry_at(cf, 0)->name, "a");
	assert_string_equal(main_cf_entry_at(cf, 0)->value, "4");
	assert_string_equal(main_cf_entry_at(cf, 1)->name, "b");
	assert_string_equal(main_cf_entry_at(cf, 2)->name, "c");
	assert_null(main_cf_entry_at(cf, 3));
	assert_null(main_cf_lookup(cf, "d"));
	assert_string_equal(main_cf_path(cf), "main.cf");
	main_cf_free(&cf);
}

struct expand_row {
	const char *name;
	const char *text;	/* main.cf */
	const char *param;	/* expanded */
	const char *value;	/* NULL: an error */
	const char *reason;
};

static const struct expand_row expand_rows[] = {
	{"$name", "a = x\nb = <$a>\n", "b", "<x>", NULL},
	{"${name}", "a = x\nb = ${a}y\n", "b", "xy", NULL},
	{"$(name)", "a = x\nb = $(a)y\n", "b", "xy", NULL},
	{"$name ends at a non-name byte", "a = x\nb = $a.$a-$a\n", "b",
	    "x.x-x", NULL},
	{"$name takes the longest name", "a = x\nab = y\nb = $ab\n", "b", "y",
	    NULL},
	{"${name?text} set", "a = x\nb = ${a?yes}\n", "b", "yes", NULL},
	{"${name?text} empty", "a =\nb = [${a?yes}]\n", "b", "[]", NULL},
	{"${name:text} empty", "a =\nb = ${a:no}\n", "b", "no", NULL},
	{"${name:text} set", "a = x\nb = [${a:no}]\n", "b", "[]", NULL},
	{"$(name?text)", "a = x\nb = $(a?yes)\n", "b", "yes", NULL},
	{"$(name:text)", "b = $(a:no)\n", "b", "no", NULL},
	{"undefined is empty", "b = [$nosuch]\n", "b", "[]", NULL},
	{"undefined ?", "b = [${nosuch?x}]\n", "b", "[]", NULL},
	{"undefined :", "b = ${nosuch:x}\n", "b", "x", NULL},
	{"$$", "b = a$$b\n", "b", "a$b", NULL},
	{"$$name is literal", "a = x\nb = $$a$$\n", "b", "$a$", NULL},
	{"text is expanded", "a = x\nb = ${a?<$a>${c:none}}\n", "b",
	    "<x>none", NULL},
	{"braces nest in text", "a = x\nb = ${a?{${a}}}\n", "b", "{x}", NULL},
	{"parens nest in text", "a = x\nb = $(a?($(a)))\n", "b", "(x)", NULL},
	{"colon text keeps colons", "b = ${c:db:/etc/x}\n", "b", "db:/etc/x",
	    NULL},
	{"chain", "b = $c\nc = ${d}!\nd = end\n", "b", "end!", NULL},
	{"repeated reference", "a = xy\nb = $a$a$a\n", "b", "xyxyxy", NULL},
	{"default", "b = $mail_name\n", "b", "Postern", NULL},
	{"default expands", "myhostname = h.example\nb = $myorigin\n", "b",
	    "h.example", NULL},
	{"default of a parameter", "myhostname = h.example\n", "smtpd_banner",
	    "h.example ESMTP Postern", NULL},
	{"computed mydomain", "myhostname = mail.example.net\n",
	    "mydestination", "mail.example.net, localhost.example.net, "
	    "localhost", NULL},
	{"unqualified myhostname", "myhostname = box\n", "mydomain",
	    "localdomain", NULL},
	{"setting beats default", "mail_name = Other\nb = $mail_name\n", "b",
	    "Other", NULL},
	{"loop in branch not taken", "a = ${c?$a}\nc =\n", "a", "", NULL},
	{"self loop", "a = $a\n", "a", NULL,
	    "main.cf, line 1: parameter a: expansion loop: $a -> $a"},
	{"two-name loop", "a = $b\nb = ${a}\n", "a", NULL,
	    "main.cf, line 2: parameter b: expansion loop: $a -> $b -> $a"},
	{"loop below the start", "x = $a\na = $b\nb = $a\n", "x", NULL,
	    "main.cf, line 3: parameter b: expansion loop: $a -> $b -> $a"},
	{"loop in taken branch", "a = ${b?$a}\nb = 1\n", "a", NULL,
	    "expansion loop: $a -> $a"},
	{"loop through a default", "myhostname = $myorigin\n", "myhostname",
	    NULL, "main.cf, line 1: parameter myhostname: expansion loop: "
	    "$myhostname -> $myorigin -> $myhostname"},
	{"loop through a computed default", "myhostname = x.$mydomain\n",
	    "mydestination", NULL, "main.cf, line 1: parameter myhostname: "
	    "expansion loop: $myhostname -> $mydomain -> $myhostname"},
	{"unterminated ${", "a = x\nb = ${a\n", "b", NULL,
	    "main.cf, line 2: parameter b: missing '}' after \"${a\""},
	{"unterminated ${?", "a = x\nb = ${a?x\n", "b", NULL,
	    "missing '}' after \"${a?\""},
	{"unterminated $(", "b = $(a\n", "b", NULL,
	    "missing ')' after \"$(a\""},
	{"${} without a name", "b = ${}\n", "b", NULL,
	    "missing name after \"${\""},
	{"${ at the end", "b = x${\n", "b", NULL, "missing name after"},
	{"$ at the end", "b = x$\n", "b", NULL,
	    "\"$\" is not followed by a name"},
	{"$ before a blank", "b = $ x\n", "b", NULL, "is not followed"},
	{"bad operator", "b = ${a!x}\n", "b", NULL,
	    "bad character after \"${a\""},
	{"mixed brackets", "b = ${a)\n", "b", NULL, "bad character"},
	{"error blamed on its own line", "a = ${\nb = $a\n", "b", NULL,
	    "main.cf, line 1: parameter a: missing name"},
	{"error in a default's reference", "myhostname = ${x\n",
	    "smtpd_banner", NULL, "main.cf, line 1: parameter myhostname: "
	    "missing '}'"},
};

static void
test_expand(void **state)
{
	struct sbuf *out = sbuf_new(), *why = sbuf_new();

	for (size_t i = 0; i < NROWS(expand_rows); i++) {
		const struct expand_row *r = &expand_rows[i];
		struct main_cf *cf = parse(r->text);
		int ret;

		sbuf_reset(out);
		ret = main_cf_value(cf, r->param, out, why);
		if (r->value != NULL) {
			if (ret < 0)
				fail_msg("%s: %s", r->name, sbuf_str(why));
			if (strcmp(sbuf_str(out), r->value) != 0)
				fail_msg("%s: got \"%s\"", r->name,
				    sbuf_str(out));
		} else {
			if (ret == 0)
				fail_msg("%s: got \"%s\"", r->name,
				    sbuf_str(out));
			if (strstr(sbuf_str(why), r->reason) == NULL)
				fail_msg("%s: reason \"%s\" lacks \"%s\"",
				    r->name, sbuf_str(why), r->reason);
			/* The same again: the cache was emptied. */
			assert_int_equal(main_cf_value(cf, r->param, out,
			    why), -1);
			assert_non_null(strstr(sbuf_str(why), r->reason));
		}
		main_cf_free(&cf);
	}
	sbuf_free(&out);
	sbuf_free(&why);
}

static void
test_expand_text(void **state)
{
	struct main_cf *cf = parse("a = x\n");
	struct sbuf *out = sbuf_new(), *why = sbuf_new();

	assert_int_equal(main_cf_expand(cf, "<$a ${a?y} $$>", out, why), 0);
	assert_string_equal(sbuf_str(out), "<x y $>");
	sbuf_reset(out);
	assert_int_equal(main_cf_expand(cf, "${a", out, why), -1);
	assert_string_equal(sbuf_str(why), "missing '}' after \"${a\"");
	assert_string_equal(sbuf_str(out), "");
	/* A capped output buffer is an error, not a truncation. */
	sbuf_set_limit(out, 2);
	assert_int_equal(main_cf_expand(cf, "$a$a$a", out, why), -1);
	assert_string_equal(sbuf_str(out), "");
	main_cf_free(&cf);
	sbuf_free(&out);
	sbuf_free(&why);
}

/* Expands param over text; returns the value or NULL, reason in why. */
static char *
expand_generated(const char *text, const char *param, struct sbuf *why)
{
	struct main_cf *cf = parse(text);
	struct sbuf *out = sbuf_new();
	char *value = NULL;

	if (main_cf_value(cf, param, out, why) == 0)
		value = sbuf_steal(out);
	sbuf_free(&out);
	main_cf_free(&cf);
	return value;
}

static void
test_expand_limits(void **state)
{
	struct sbuf *text = sbuf_new(), *why = sbuf_new(), *nest;
	char *value;
	int i;

	/* A chain of 60 references is fine, one of 70 is too deep. */
	for (i = 0; i < 60; i++)
		sbuf_printf(text, "p%d = $p%d\n", i, i + 1);
	sbuf_printf(text, "p%d = end\n", i);
	value = expand_generated(sbuf_str(text), "p0", why);
	assert_non_null(value);
	assert_string_equal(value, "end");
	free(value);
	sbuf_reset(text);
	for (i = 0; i < 70; i++)
		sbuf_printf(text, "p%d = $p%d\n", i, i + 1);
	sbuf_printf(text, "p%d = end\n", i);
	assert_null(expand_generated(sbuf_str(text), "p0", why));
	assert_non_null(strstr(sbuf_str(why),
	    "expansion nested deeper than 64 levels"));

	/* Nested conditional text counts too. */
	nest = sbuf_new();
	for (i = 0; i < 100; i++)
		sbuf_cat(nest, "${a?");
	sbuf_cat(nest, "x");
	for (i = 0; i < 100; i++)
		sbuf_cat(nest, "}");
	sbuf_setf(text, "a = 1\nb = %s\n", sbuf_str(nest));
	assert_null(expand_generated(sbuf_str(text), "b", why));
	assert_non_null(strstr(sbuf_str(why), "main.cf, line 2: parameter b: "
	    "expansion nested deeper than 64 levels"));
	sbuf_free(&nest);

	/* Doubling 2^15 times: refused at the length limit. */
	sbuf_set(text, "a0 = xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n");
	for (i = 1; i <= 20; i++)
		sbuf_printf(text, "a%d = $a%d$a%d\n", i, i - 1, i - 1);
	assert_null(expand_generated(sbuf_str(text), "a20", why));
	assert_non_null(strstr(sbuf_str(why),
	    "expanded value longer than 1048576 bytes"));

	/*
	 * Ten references per level, forty levels, empty values: 10^40
	 * expansions without the cache, a few hundred with it.
	 */
	sbuf_set(text, "e0 =\n");
	for (i = 1; i <= 40; i++) {
		sbuf_printf(text, "e%d = ", i);
		for (int j = 0; j < 10; j++)
			sbuf_printf(text, "${e%d?x}$e%d", i - 1, i - 1);
		sbuf_catc(text, '\n');
	}
	value = expand_generated(sbuf_str(text), "e40", why);
	assert_non_null(value);
	assert_string_equal(value, "");
	free(value);
	sbuf_free(&text);
	sbuf_free(&why);
}

static void
test_expand_total(void **state)
{
	struct sbuf *text = sbuf_new(), *why = sbuf_new(), *out = sbuf_new();
	struct main_cf *cf;
	int i, ret = 0;

	sbuf_cat(text, "base = ");
	for (i = 0; i < 512 * 1024; i++)
		sbuf_catc(text, 'x');
	sbuf_catc(text, '\n');
	for (i = 0; i < 40; i++)
		sbuf_printf(text, "b%d = $base$base\n", i);
	cf = parse(sbuf_str(text));
	for (i = 0; i < 40 && ret == 0; i++) {
		char name[16];

		snprintf(name, sizeof(name), "b%d", i);
		sbuf_reset(out);
		ret = main_cf_value(cf, name, out, why);
	}
	assert_int_equal(ret, -1);
	assert_true(i > 10 && i < 20);
	assert_non_null(strstr(sbuf_str(why), "in all"));
	main_cf_free(&cf);
	sbuf_free(&text);
	sbuf_free(&why);
	sbuf_free(&out);
}

static void
test_raw(void **state)
{
	struct main_cf *cf = parse("myhostname = mx.example.org\nb = $a\n");
	struct sbuf *why = sbuf_new();
	const char *v;

	assert_int_equal(main_cf_raw(cf, "b", &v, why), 0);
	assert_string_equal(v, "$a");
	assert_int_equal(main_cf_raw(cf, "myorigin", &v, why), 0);
	assert_string_equal(v, "$myhostname");
	assert_int_equal(main_cf_raw(cf, "mydomain", &v, why), 0);
	assert_string_equal(v, "example.org");
	assert_int_equal(main_cf_raw(cf, "nosuch", &v, why), 0);
	assert_null(v);
	/* Without a directory, config_directory is its default. */
	assert_int_equal(main_cf_raw(cf, "config_directory", &v, why), 0);
	assert_string_equal(v,
	    params_table[PARAM_ID_config_directory].def);
	main_cf_free(&cf);

	cf = parse("myhostname = $mydomain\n");
	assert_int_equal(main_cf_raw(cf, "mydomain", &v, why), -1);
	assert_non_null(strstr(sbuf_str(why), "expansion loop"));
	main_cf_free(&cf);

	cf = parse("");
	assert_int_equal(main_cf_raw(cf, "myhostname", &v, why), 0);
	assert_non_null(strchr(v, '.'));
	main_cf_free(&cf);
	sbuf_free(&why);
}

static void
test_load(void **state)
{
	char *dir = test_tmpdir(), *path;
	struct sbuf *why = sbuf_new(), *out = sbuf_new();
	struct main_cf *cf;
	const char *v;

	/* Missing main.cf: no settings; config_directory is the dir. */
	cf = main_cf_load(dir, why);
	assert_non_null(cf);
	assert_int_equal(main_cf_count(cf), 0);
	assert_int_equal(main_cf_raw(cf, "config_directory", &v, why), 0);
	assert_string_equal(v, dir);
	assert_int_equal(main_cf_value(cf, "config_directory", out, why), 0);
	assert_string_equal(sbuf_str(out), dir);
	main_cf_free(&cf);

	path = test_write_text(dir, "main.cf", "a = 1\n\nb = ${a\n");
	cf = main_cf_load(dir, why);
	assert_non_null(cf);
	assert_string_equal(main_cf_path(cf), path);
	assert_int_equal(main_cf_value(cf, "b", out, why), -1);
	assert_true(str_starts(sbuf_str(why), path));
	assert_non_null(strstr(sbuf_str(why), ", line 3: parameter b:"));
	sbuf_reset(out);
	main_cf_where(cf, "b", out);
	assert_non_null(strstr(sbuf_str(out), ", line 3: "));
	sbuf_reset(out);
	main_cf_where(cf, "myorigin", out);
	assert_string_equal(sbuf_str(out), "");
	main_cf_free(&cf);

	/* An unreadable main.cf (here: a directory) is an error. */
	unlink(path);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_null(main_cf_load(dir, why));
	assert_non_null(strstr(sbuf_str(why), path));
	rmdir(path);
	free(path);
	sbuf_free(&why);
	sbuf_free(&out);
	test_rmtree(&dir);
}

static void
test_set(void **state)
{
	struct main_cf *cf = parse("a = x\nb = <$a>\n");
	struct sbuf *out = sbuf_new(), *why = sbuf_new();

	assert_int_equal(main_cf_value(cf, "b", out, why), 0);
	assert_string_equal(sbuf_str(out), "<x>");
	/* Setting a forgets the cached expansion of b. */
	assert_int_equal(main_cf_set(cf, "a", "y", why), 0);
	assert_int_equal(main_cf_lookup(cf, "a")->lineno, 0);
	sbuf_reset(out);
	assert_int_equal(main_cf_value(cf, "b", out, why), 0);
	assert_string_equal(sbuf_str(out), "<y>");
	/* New names are inserted in order. */
	assert_int_equal(main_cf_set(cf, "aa", "1", why), 0);
	assert_int_equal(main_cf_set(cf, "0", "2", why), 0);
	assert_int_equal(main_cf_set(cf, "z", "$aa$0", why), 0);
	assert_int_equal(main_cf_count(cf), 5);
	assert_string_equal(main_cf_entry_at(cf, 0)->name, "0");
	assert_string_equal(main_cf_entry_at(cf, 2)->name, "aa");
	sbuf_reset(out);
	assert_int_equal(main_cf_value(cf, "z", out, why), 0);
	assert_string_equal(sbuf_str(out), "12");
	assert_int_equal(main_cf_set(cf, "bad name", "1", why), -1);
	assert_non_null(strstr(sbuf_str(why), "bad parameter name"));
	assert_int_equal(main_cf_set(cf, "c", "x\ny", why), -1);
	assert_string_equal(sbuf_str(why),
	    "parameter c: control character in value");
	assert_int_equal(main_cf_count(cf), 5);
	main_cf_free(&cf);
	sbuf_free(&out);
	sbuf_free(&why);
}

struct unknown_row {
	const char *name;
	const char *text;
	const char *warnings;
	const char *also;	/* more text referring to names */
};

static const struct unknown_row unknown_rows[] = {
	{"known names", "myorigin = x\nrelayhost = y\n", "", NULL},
	{"unknown", "# c\nfoo = 1\n",
	    "main.cf, line 2: unknown parameter foo\n", NULL},
	{"referenced by a parameter", "foo = 1\nmyorigin = $foo\n", "", NULL},
	{"referenced in ${x?}", "foo = 1\nmyorigin = ${foo?x}\n", "", NULL},
	{"referenced in text", "foo = 1\nmyorigin = ${a:$(foo)}\n", "", NULL},
	{"referenced by another unknown", "foo = $bar\nbar = $foo\n", "", NULL},
	{"self reference only", "foo = $foo\n",
	    "main.cf, line 1: unknown parameter foo\n", NULL},
	{"$$ is no reference", "foo = 1\nmyorigin = $$foo\n",
	    "main.cf, line 1: unknown parameter foo\n", NULL},
	{"several, by name", "zz = 1\nmyorigin = x\naa = 2\n",
	    "main.cf, line 3: unknown parameter aa\n"
	    "main.cf, line 1: unknown parameter zz\n", NULL},
	{"reported at the last setting", "foo = 1\nfoo = 2\n",
	    "main.cf, line 2: unknown parameter foo\n", NULL},
	{"referenced from other text", "foo = 1\nbar = 2\n",
	    "main.cf, line 2: unknown parameter bar\n",
	    "smtpd_client_restrictions=${foo}\nbar=x $$bar\n"},
};

static void
test_unknown(void **state)
{
	struct sbuf *warnings = sbuf_new();

	for (size_t i = 0; i < NROWS(unknown_rows); i++) {
		const struct unknown_row *r = &unknown_rows[i];
		struct main_cf *cf = parse(r->text);

		sbuf_reset(warnings);
		main_cf_unknown(cf, r->also, warnings);
		if (strcmp(sbuf_str(warnings), r->warnings) != 0)
			fail_msg("%s: got \"%s\"", r->name,
			    sbuf_str(warnings));
		main_cf_free(&cf);
	}
	sbuf_free(&warnings);
}

static void
test_referenced(void **state)
{
	struct main_cf *cf = parse("a = $b\nb = 1\nc = $c\nd = 2\n");

	assert_true(main_cf_referenced(cf, "b"));
	assert_false(main_cf_referenced(cf, "a"));
	assert_false(main_cf_referenced(cf, "c"));
	assert_false(main_cf_referenced(cf, "d"));
	assert_false(main_cf_referenced(cf, "nosuch"));
	main_cf_free(&cf);
}

struct edit_row {
	const char *name;
	const char *old;
	struct main_cf_edit edits[3];
	size_t count;
	const char *want;	/* NULL: refused */
	const char *reason;
};

static const struct edit_row edit_rows[] = {
	{"replace in place", "# head\nmyorigin = a\n# mid\nrelayhost = r\n",
	    {{"myorigin", "b"}}, 1,
	    "# head\nmyorigin = b\n# mid\nrelayhost = r\n", NULL},
	{"replace with continuation lines", "a = 1,\n  2,\n\t3\nb = x\n",
	    {{"a", "9"}}, 1, "a = 9\nb = x\n", NULL},
	{"comment inside continuation kept", "a = 1,\n# c\n  2\nb = x\n",
	    {{"a", "9"}}, 1, "a = 9\n# c\nb = x\n", NULL},
	{"append", "a = 1\n", {{"b", "2"}}, 1, "a = 1\nb = 2\n", NULL},
	{"append after missing newline", "a = 1", {{"b", "2"}}, 1,
	    "a = 1\nb = 2\n", NULL},
	{"replace last line without newline", "# c\na = 1", {{"a", "2"}}, 1,
	    "# c\na = 2\n", NULL},
	{"empty file", "", {{"a", "1"}}, 1, "a = 1\n", NULL},
	{"first replaced, later dropped", "a = 1\nb = x\na = 2\n  more\n",
	    {{"a", "3"}}, 1, "a = 3\nb = x\n", NULL},
	{"remove", "# c\na = 1\n  cont\nb = 2\n", {{"a", NULL}}, 1,
	    "# c\nb = 2\n", NULL},
	{"remove every setting", "a = 1\n\na = 2\n", {{"a", NULL}}, 1, "\n",
	    NULL},
	{"remove absent name", "a = 1\n", {{"b", NULL}}, 1, "a = 1\n", NULL},
	{"later edit wins", "a = 0\n", {{"a", "1"}, {"a", "2"}}, 2,
	    "a = 2\n", NULL},
	{"set then remove", "a = 0\nb = 1\n", {{"a", "1"}, {"a", NULL}}, 2,
	    "b = 1\n", NULL},
	{"remove then set", "x = 0\n", {{"a", NULL}, {"a", "5"}}, 2,
	    "x = 0\na = 5\n", NULL},
	{"several", "a = 1\nb = 2\nc = 3\n",
	    {{"c", "30"}, {"d", "4"}, {"a", "10"}}, 3,
	    "a = 10\nb = 2\nc = 30\nd = 4\n", NULL},
	{"value trimmed", "", {{"a", "  x y\t "}}, 1, "a = x y\n", NULL},
	{"empty value", "a = 1\n", {{"a", ""}}, 1, "a = \n", NULL},
	{"exact name only", "ab = 1\n", {{"a", "2"}}, 1, "ab = 1\na = 2\n",
	    NULL},
	{"= on a continuation line", "a\n  = 1\nb = 2\n", {{"a", "2"}}, 1,
	    "a = 2\nb = 2\n", NULL},
	{"blank lines kept", "a = 1\n\n\nb = 2\n\n", {{"b", "3"}}, 1,
	    "a = 1\n\n\nb = 3\n\n", NULL},
	{"crlf lines kept", "a = 1\r\nb = 2\r\n", {{"b", "3"}}, 1,
	    "a = 1\r\nb = 3\n", NULL},
	{"malformed line kept", "junk line\na = 1\n", {{"a", "2"}}, 1,
	    "junk line\na = 2\n", NULL},
	{"indented line after a blank", "a = 1\n\n  b = 2\n", {{"b", "3"}},
	    1, "a = 1\n\nb = 3\n", NULL},
	{"commented-out setting untouched", "#a = 1\n", {{"a", "2"}}, 1,
	    "#a = 1\na = 2\n", NULL},
	{"bad name", "a = 1\n", {{"a b", "1"}}, 1, NULL,
	    "bad parameter name \"a b\""},
	{"newline in value", "a = 1\n", {{"a", "1\nb = 2"}}, 1, NULL,
	    "parameter a: control character in value"},
	{"bad name to remove", "a = 1\n", {{"", NULL}}, 1, NULL,
	    "bad parameter name"},
};

static void
test_edit_text(void **state)
{
	struct sbuf *out = sbuf_new(), *why = sbuf_new();

	for (size_t i = 0; i < NROWS(edit_rows); i++) {
		const struct edit_row *r = &edit_rows[i];
		int ret;

		sbuf_reset(out);
		ret = main_cf_edit_text(r->old, strlen(r->old), r->edits,
		    r->count, out, why);
		if (r->want == NULL) {
			if (ret == 0)
				fail_msg("%s: accepted", r->name);
			if (strstr(sbuf_str(why), r->reason) == NULL)
				fail_msg("%s: reason \"%s\"", r->name,
				    sbuf_str(why));
		} else if (ret < 0) {
			fail_msg("%s: %s", r->name, sbuf_str(why));
		} else if (strcmp(sbuf_str(out), r->want) != 0) {
			fail_msg("%s: got \"%s\"", r->name, sbuf_str(out));
		}
	}
	sbuf_free(&out);
	sbuf_free(&why);
}

/* The content of dir/name; "" when missing. */
static char *
read_text(const char *dir, const char *name)
{
	struct sbuf *path = sbuf_new(), *data = sbuf_new(), *why = sbuf_new();
	char *s;

	sbuf_printf(path, "%s/%s", dir, name);
	if (safe_file_read(sbuf_str(path), 1 << 20, data, why) < 0)
		sbuf_reset(data);
	s = sbuf_steal(data);
	sbuf_free(&path);
	sbuf_free(&data);
	sbuf_free(&why);
	return s;
}

struct file_edit_row {
	const char *name;
	const char *old;
	struct main_cf_edit edits[2];
	size_t count;
	enum main_cf_edit_status status;
	const char *want;	/* new content; NULL: unchanged */
	const char *reason;
};

static const struct file_edit_row file_edit_rows[] = {
	{"set", "# keep\nmessage_size_limit = 1\n",
	    {{"message_size_limit", "20m"}}, 1, MAIN_CF_EDIT_OK,
	    "# keep\nmessage_size_limit = 20m\n", NULL},
	{"bad size", "# keep\nmessage_size_limit = 1\n",
	    {{"message_size_limit", "lots"}}, 1, MAIN_CF_EDIT_BAD_VALUE, NULL,
	    "parameter message_size_limit: bad size value \"lots\""},
	{"second edit bad", "", {{"relayhost", "x"},
	    {"smtpd_timeout", "10q"}}, 2, MAIN_CF_EDIT_BAD_VALUE, NULL,
	    "bad time value \"10q\""},
	{"bad through $name", "x = 12q\n",
	    {{"message_size_limit", "$x"}}, 1, MAIN_CF_EDIT_BAD_VALUE, NULL,
	    "bad size value \"12q\""},
	{"loop", "", {{"myorigin", "$myorigin"}}, 1, MAIN_CF_EDIT_BAD_VALUE,
	    NULL, "expansion loop"},
	{"unknown name", "", {{"no_such_thing", "1"}}, 1,
	    MAIN_CF_EDIT_UNKNOWN, NULL, "unknown parameter no_such_thing"},
	{"user macro referenced", "", {{"mynets", "192.0.2.0/24"},
	    {"mynetworks", "127.0.0.0/8 $mynets"}}, 2, MAIN_CF_EDIT_OK,
	    "mynets = 192.0.2.0/24\nmynetworks = 127.0.0.0/8 $mynets\n",
	    NULL},
	{"remove unknown", "a = 1\nrelayhost = x\n", {{"a", NULL}}, 1,
	    MAIN_CF_EDIT_OK, "relayhost = x\n", NULL},
	{"broken file", "relayhost = x\njunk\n", {{"relayhost", "y"}}, 1,
	    MAIN_CF_EDIT_BAD_FILE, NULL, "main.cf, line 2: missing '='"},
	{"bad name", "", {{"a=b", "1"}}, 1, MAIN_CF_EDIT_BAD_VALUE, NULL,
	    "bad parameter name"},
};

static void
test_edit_file(void **state)
{
	struct sbuf *why = sbuf_new();

	for (size_t i = 0; i < NROWS(file_edit_rows); i++) {
		const struct file_edit_row *r = &file_edit_rows[i];
		char *dir = test_tmpdir();
		char *path = test_write_text(dir, "main.cf", r->old), *now;
		enum main_cf_edit_status st;
		struct stat sb;

		assert_int_equal(chmod(path, 0640), 0);
		sbuf_reset(why);
		st = main_cf_edit(dir, r->edits, r->count, why);
		if (st != r->status)
			fail_msg("%s: status %d: %s", r->name, st,
			    sbuf_str(why));
		now = read_text(dir, "main.cf");
		if (strcmp(now, r->want ? r->want : r->old) != 0)
			fail_msg("%s: main.cf is \"%s\"", r->name, now);
		if (r->reason != NULL && strstr(sbuf_str(why), r->reason) ==
		    NULL)
			fail_msg("%s: reason \"%s\"", r->name, sbuf_str(why));
		assert_int_equal(stat(path, &sb), 0);
		if ((sb.st_mode & 07777) != 0640)
			fail_msg("%s: mode %o", r->name, sb.st_mode & 07777);
		/* No temporary file is left behind. */
		assert_int_equal(test_count_entries(dir), 1);
		free(now);
		free(path);
		test_rmtree(&dir);
	}
	sbuf_free(&why);
}

static void
test_edit_new_file(void **state)
{
	char *dir = test_tmpdir(), *text;
	struct sbuf *why = sbuf_new(), *path = sbuf_new();
	struct main_cf_edit e = {"relayhost", "[smtp.example.net]:587"};
	struct stat sb;

	assert_int_equal(main_cf_edit(dir, &e, 1, why), MAIN_CF_EDIT_OK);
	text = read_text(dir, "main.cf");
	assert_string_equal(text, "relayhost = [smtp.example.net]:587\n");
	sbuf_printf(path, "%s/main.cf", dir);
	assert_int_equal(stat(sbuf_str(path), &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0644);
	free(text);

	/* A directory that does not exist cannot be written. */
	sbuf_setf(path, "%s/nosuch", dir);
	assert_int_equal(main_cf_edit(sbuf_str(path), &e, 1, why),
	    MAIN_CF_EDIT_WRITE);
	sbuf_free(&why);
	sbuf_free(&path);
	test_rmtree(&dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_entries_sorted),
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_expand_text),
		cmocka_unit_test(test_expand_limits),
		cmocka_unit_test(test_expand_total),
		cmocka_unit_test(test_raw),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_referenced),
		cmocka_unit_test(test_edit_text),
		cmocka_unit_test(test_edit_file),
		cmocka_unit_test(test_edit_new_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
