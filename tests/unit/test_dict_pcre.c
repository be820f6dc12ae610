/*
 * test_dict_pcre - pcre: tables, Postfix pcre_table(5) semantics
 *
 * One table of rows (file text, key, expected status and value, or the
 * load error) walked by one function: substitution, if/endif, negation,
 * each flag, delimiters, every load error, and a catastrophic pattern
 * that must give up within the match limit instead of hanging.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "util/dict.h"
#include "util/sbuf.h"

struct row {
	const char *name;
	const char *text;	/* the pcre file */
	size_t text_len;	/* 0: strlen(text) */
	const char *key;
	enum dict_status status;
	const char *value;	/* DICT_FOUND: the result; DICT_ERROR: why */
	const char *load_error;	/* open must fail with this in the reason */
};

#define NOT DICT_NOTFOUND
#define FOUND DICT_FOUND
#define ERROR DICT_ERROR

/*
 * Keys for /^(a+)+$/, whose work doubles with each 'a': 40 would take
 * hours unbounded; 21 stays under PCRE2's default limit (10,000,000) but
 * not under ours; 16 is well under ours.
 */
#define A16 "aaaaaaaaaaaaaaaa"
#define KEY_A40 A16 A16 "aaaaaaaa!"
#define KEY_A21 A16 "aaaaa!"
#define KEY_A16 A16 "!"

static const char nested_ifs[] =
    "if /@example\\.com$/\n"
    "if !/^admin@/\n"
    "/^(.*)@/ user $1\n"
    "endif\n"
    "/^admin@/ admin\n"
    "endif\n"
    "/./ other\n";

static const struct row rows[] = {
	/* Matching and results. */
	{"plain match", "/^foo$/ bar\n", 0, "foo", FOUND, "bar", NULL},
	{"caseless by default", "/^foo$/ bar\n", 0, "FoO", FOUND, "bar",
	    NULL},
	{"no match", "/^foo$/ bar\n", 0, "food", NOT, NULL, NULL},
	{"first matching rule wins", "/a/ first\n/a/ second\n", 0, "a",
	    FOUND, "first", NULL},
	{"later rule when first fails", "/x/ first\n/a/ second\n", 0, "a",
	    FOUND, "second", NULL},
	{"$1", "/^(.*)@example\\.com$/ $1@local\n", 0, "joe@example.com",
	    FOUND, "joe@local", NULL},
	{"$12, ${12}, ${1}2 and $$",
	    "/^(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)(l)$/ "
	    "${12}-$12-${1}2-$$-$1$2\n",
	    0, "abcdefghijkl", FOUND, "l-l-a2-$-ab", NULL},
	{"$(N)", "/^(x)/ $(1)y\n", 0, "xz", FOUND, "xy", NULL},
	{"$$ is a dollar", "/x/ cost $$5 $$$$\n", 0, "x", FOUND,
	    "cost $5 $$", NULL},
	{"unset group is empty (second)", "/^(a)|(b)$/ [$1][$2]\n", 0, "b",
	    FOUND, "[][b]", NULL},
	{"unset group is empty (first)", "/^(a)|(b)$/ [$1][$2]\n", 0, "a",
	    FOUND, "[a][]", NULL},
	{"result with spaces", "/x/ REJECT go away\n", 0, "x", FOUND,
	    "REJECT go away", NULL},
	{"continued result", "/x/ one\n  two\n", 0, "x", FOUND, "one two",
	    NULL},
	{"comments skipped", "# /x/ commented\n/x/ live\n", 0, "x", FOUND,
	    "live", NULL},
	{"hostile key", "/^a+$/ x\n", 0, "\xff\r\n\x01", NOT, NULL, NULL},
	{"empty key", "/^$/ empty\n", 0, "", FOUND, "empty", NULL},
	{"empty file", "", 0, "x", NOT, NULL, NULL},
	/* Negation. */
	{"negated: no match holds", "!/^foo/ notfoo\n", 0, "bar", FOUND,
	    "notfoo", NULL},
	{"negated: match fails", "!/^foo/ notfoo\n", 0, "foobar", NOT, NULL,
	    NULL},
	{"double negation", "!!/^foo/ foo\n", 0, "foo", FOUND, "foo", NULL},
	/* if / endif. */
	{"nested if: inner rule", nested_ifs, 0, "joe@example.com", FOUND,
	    "user joe", NULL},
	{"nested if: negated inner if skipped", nested_ifs, 0,
	    "admin@example.com", FOUND, "admin", NULL},
	{"nested if: outer if skipped", nested_ifs, 0, "joe@other.org",
	    FOUND, "other", NULL},
	{"upper-case IF/ENDIF", "IF /a/\n/a/ in\nENDIF\n", 0, "a", FOUND,
	    "in", NULL},
	{"if skips to its own endif",
	    "if /nomatch/\nif /a/\n/a/ inner\nendif\n/a/ outer\nendif\n"
	    "/a/ after\n", 0, "a", FOUND, "after", NULL},
	{"if without space", "if/a/\n/a/ in\nendif\n", 0, "a", FOUND, "in",
	    NULL},
	/* Delimiters. */
	{"other delimiter", "|^a/b$| pipe\n", 0, "a/b", FOUND, "pipe", NULL},
	{"escaped delimiter", "/^a\\/b$/ esc\n", 0, "a/b", FOUND, "esc",
	    NULL},
	{"escaped other delimiter", "%^a\\%b$% pct\n", 0, "a%b", FOUND, "pct",
	    NULL},
	/* Flags. */
	{"i: case-sensitive", "/^foo$/i bar\n", 0, "FOO", NOT, NULL, NULL},
	{"i: same case", "/^foo$/i bar\n", 0, "foo", FOUND, "bar", NULL},
	{"ii toggles back", "/^foo$/ii bar\n", 0, "FOO", FOUND, "bar", NULL},
	{"without m", "/^b$/ x\n", 0, "a\nb", NOT, NULL, NULL},
	{"m: multiline", "/^b$/m x\n", 0, "a\nb", FOUND, "x", NULL},
	{"dotall by default", "/^a.b$/ x\n", 0, "a\nb", FOUND, "x", NULL},
	{"s: dotall off", "/^a.b$/s x\n", 0, "a\nb", NOT, NULL, NULL},
	{"without x", "/a b c/ x\n", 0, "abc", NOT, NULL, NULL},
	{"x: extended", "/a b c/x x\n", 0, "abc", FOUND, "x", NULL},
	{"without A", "/b/ x\n", 0, "ab", FOUND, "x", NULL},
	{"A: anchored, no match", "/b/A x\n", 0, "ab", NOT, NULL, NULL},
	{"A: anchored, match", "/b/A x\n", 0, "ba", FOUND, "x", NULL},
	{"without E", "/a$/ x\n", 0, "a\n", FOUND, "x", NULL},
	{"E: dollar end only", "/a$/E x\n", 0, "a\n", NOT, NULL, NULL},
	{"without U", "/^(a+)/ $1\n", 0, "aaa", FOUND, "aaa", NULL},
	{"U: ungreedy", "/^(a+)/U $1\n", 0, "aaa", FOUND, "a", NULL},
	{"X: accepted", "/^abc$/X x\n", 0, "abc", FOUND, "x", NULL},
	{"several flags", "/^B$/im x\n", 0, "a\nB", FOUND, "x", NULL},
	/* Bounded work. */
	{"catastrophic backtracking gives up", "/^(a+)+$/ x\n", 0, KEY_A40,
	    ERROR, "line 1: matching gave up: match limit", NULL},
	{"limit error stops the search", "/^(a+)+$/ x\n/a/ later\n", 0,
	    KEY_A40, ERROR, "line 1:", NULL},
	{"our match limit, not PCRE2's", "/^(a+)+$/ x\n", 0, KEY_A21, ERROR,
	    "match limit", NULL},
	{"work under the limit completes", "/^(a+)+$/ x\n", 0, KEY_A16, NOT,
	    NULL, NULL},
	{"deep nesting", "/^(?:a|b)*c$/ deep\n", 0, NULL, ERROR,
	    "depth limit", NULL},
	{"catastrophic pattern, short key", "/^(a+)+$/ x\n", 0, "aaaa",
	    FOUND, "x", NULL},
	/* Load errors. */
	{"bad pattern", "/ok/ x\n/a(b/ x\n", 0, "a", NOT, NULL,
	    "line 2: bad pattern at offset 3: missing closing parenthesis"},
	{"X: unknown escape still an error", "/a\\qb/X x\n", 0, "a", NOT,
	    NULL, "line 1: bad pattern"},
	{"unknown flag", "/a/q x\n", 0, "a", NOT, NULL,
	    "line 1: unknown flag 'q'"},
	{"missing result", "/a/ b\n/a/\n", 0, "a", NOT, NULL,
	    "line 2: missing result"},
	{"missing result after flags", "/a/i\n", 0, "a", NOT, NULL,
	    "line 1: missing result"},
	{"missing closing delimiter", "/abc x\n", 0, "a", NOT, NULL,
	    "line 1: missing closing delimiter '/'"},
	{"missing pattern", "!\n", 0, "a", NOT, NULL,
	    "line 1: missing pattern"},
	{"backslash delimiter", "\\a\\ x\n", 0, "a", NOT, NULL,
	    "line 1: pattern delimiter"},
	{"alphanumeric delimiter", "if afooa\nendif\n", 0, "a", NOT, NULL,
	    "line 1: pattern delimiter 'a'"},
	{"endif without if", "/a/ b\nendif\n", 0, "a", NOT, NULL,
	    "line 2: endif without if"},
	{"too many endifs", "if /a/\nendif\nendif\n", 0, "a", NOT, NULL,
	    "line 3: endif without if"},
	{"if without endif names the if", "/a/ b\nif /a/\nif /b/\nendif\n",
	    0, "a", NOT, NULL, "line 2: if without endif"},
	{"innermost open if is named", "if /a/\nif /b/\n/x/ y\n", 0, "a",
	    NOT, NULL, "line 2: if without endif"},
	{"result on an if line", "if /a/ x\nendif\n", 0, "a", NOT, NULL,
	    "line 1: text after the pattern of an if"},
	{"text after endif", "if /a/\nendif x\n", 0, "a", NOT, NULL,
	    "line 2: text after endif"},
	{"unknown statement", "iff /a/\n", 0, "a", NOT, NULL,
	    "line 1: unknown statement \"iff\""},
	{"group beyond the pattern's", "/(a)/ $2\n", 0, "a", NOT, NULL,
	    "line 1: $2 in the result, but the pattern has 1 capture groups"},
	{"${N} beyond the pattern's", "/(a)(b)/ ${12}\n", 0, "a", NOT, NULL,
	    "line 1: $12 in the result"},
	{"$N with a negated pattern", "!/(a)/ $1\n", 0, "b", NOT, NULL,
	    "line 1: $1 in the result of a negated pattern"},
	{"stray dollar", "/a/ cost $\n", 0, "a", NOT, NULL,
	    "line 1: stray '$'"},
	{"stray dollar before space", "/a/ $ x\n", 0, "a", NOT, NULL,
	    "line 1: stray '$'"},
	{"non-numeric reference", "/(a)/ $1x\n", 0, "a", NOT, NULL,
	    "line 1: non-numeric $ reference \"1x\""},
	{"non-numeric braced reference", "/(a)/ ${x}\n", 0, "a", NOT, NULL,
	    "line 1: non-numeric $ reference \"x\""},
	{"$0", "/(a)/ $0\n", 0, "a", NOT, NULL,
	    "line 1: $0 in the result"},
	{"unclosed ${", "/(a)/ ${1\n", 0, "a", NOT, NULL,
	    "line 1: missing '}' after \"${\""},
	{"empty ${}", "/(a)/ ${}\n", 0, "a", NOT, NULL,
	    "line 1: empty $ reference"},
	{"huge group number", "/(a)/ $99999999999999999999\n", 0, "a", NOT,
	    NULL, "line 1: $ reference \"99999999999999999999\" out of range"},
	{"NUL byte", "/a/ b\n/c/ \0d\n", 12, "a", NOT, NULL,
	    "line 2: NUL byte"},
};

static void
test_rows(void **state)
{
	struct sbuf *why = sbuf_new(), *value = sbuf_new(), *spec = sbuf_new();
	struct sbuf *deep_key = sbuf_new();

	/* A group repeated over more characters than the depth limit. */
	for (int i = 0; i < 60000; i++)
		sbuf_cat(deep_key, "ab");
	sbuf_catc(deep_key, 'd');
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *row = &rows[i];
		char *dir = test_tmpdir();
		char *path = test_write_file(dir, "table.pcre", row->text,
		    row->text_len ? row->text_len : strlen(row->text));
		const char *key = row->key ? row->key : sbuf_str(deep_key);
		enum dict_status status;
		struct dict *d;

		sbuf_setf(spec, "pcre:%s", path);
		sbuf_reset(why);
		d = dict_open(sbuf_str(spec), 0, why);
		if (row->load_error != NULL) {
			if (d != NULL)
				fail_msg("%s: loaded, expected \"%s\"",
				    row->name, row->load_error);
			if (strstr(sbuf_str(why), row->load_error) == NULL ||
			    strstr(sbuf_str(why), path) == NULL)
				fail_msg("%s: reason \"%s\", expected \"%s\" "
				    "and the file", row->name, sbuf_str(why),
				    row->load_error);
		} else {
			if (d == NULL)
				fail_msg("%s: load failed: %s", row->name,
				    sbuf_str(why));
			status = dict_lookup(d, key, value, why);
			if (status != row->status)
				fail_msg("%s: status %d, expected %d (%s)",
				    row->name, status, row->status,
				    sbuf_str(why));
			if (status == DICT_FOUND &&
			    strcmp(sbuf_str(value), row->value) != 0)
				fail_msg("%s: value \"%s\", expected \"%s\"",
				    row->name, sbuf_str(value), row->value);
			if (status == DICT_ERROR &&
			    (strstr(sbuf_str(why), row->value) == NULL ||
			    strstr(sbuf_str(why), path) == NULL))
				fail_msg("%s: reason \"%s\", expected \"%s\"",
				    row->name, sbuf_str(why), row->value);
			dict_free(&d);
		}
		free(path);
		test_rmtree(&dir);
	}
	sbuf_free(&why);
	sbuf_free(&value);
	sbuf_free(&spec);
	sbuf_free(&deep_key);
}

/* The table stays usable after a lookup gives up; keys are not folded. */
static void
test_after_limit(void **state)
{
	char *dir = test_tmpdir();
	char *path = test_write_text(dir, "t.pcre",
	    "/^(a+)+$/ x\n/^B(.)$/i b$1\n");
	struct sbuf *why = sbuf_new(), *value = sbuf_new(), *spec = sbuf_new();
	struct dict *d;

	sbuf_setf(spec, "pcre:%s", path);
	d = dict_open(sbuf_str(spec), 0, why);
	assert_non_null(d);
	assert_false(d->fold);
	assert_int_equal(dict_lookup(d, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!",
	    value, why), DICT_ERROR);
	assert_int_equal(dict_lookup(d, "BZ", value, why), DICT_FOUND);
	assert_string_equal(sbuf_str(value), "bZ");
	assert_int_equal(dict_lookup(d, "bZ", value, why), DICT_NOTFOUND);
	assert_int_equal(dict_iterate(d, NULL, NULL, why), -1);
	assert_non_null(strstr(sbuf_str(why), "cannot be listed"));
	dict_free(&d);
	sbuf_free(&why);
	sbuf_free(&value);
	sbuf_free(&spec);
	free(path);
	test_rmtree(&dir);
}

/* A missing file names the file. */
static void
test_missing_file(void **state)
{
	struct sbuf *why = sbuf_new();
	char *dir = test_tmpdir();
	struct sbuf *spec = sbuf_new();

	sbuf_setf(spec, "pcre:%s/none.pcre", dir);
	assert_null(dict_open(sbuf_str(spec), 0, why));
	assert_non_null(strstr(sbuf_str(why), "none.pcre"));
	assert_non_null(strstr(sbuf_str(why), "No such file"));
	sbuf_free(&spec);
	sbuf_free(&why);
	test_rmtree(&dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_after_limit),
		cmocka_unit_test(test_missing_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
