/*
 * test_drop_file - the maildrop format that postern-drop writes
 * and pickup reads (lib/mail/drop_file.h)
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/drop_file.h"
#include "util/sbuf.h"

/* Reads text as an envelope; the result of drop_envelope_read(). */
static int
read_env(const char *text, bool with_uid, uint64_t limit,
    struct drop_envelope *env, struct sbuf *why)
{
	FILE *fp = fmemopen((void *)text, strlen(text), "r");
	int rc;

	assert_non_null(fp);
	rc = drop_envelope_read(fp, with_uid, limit, env, why);
	fclose(fp);
	return rc;
}

static void
test_round_trip(void **state)
{
	struct drop_envelope env = { .uid = 1000, .size = 5 }, back;
	struct sbuf *why = sbuf_new();
	char *buf = NULL;
	size_t len = 0;
	FILE *fp;

	env.sender = strdup("");
	drop_envelope_add_rcpt(&env, "a@x.test");
	drop_envelope_add_rcpt(&env, "\"q\"@x.test");
	assert_non_null(fp = open_memstream(&buf, &len));
	assert_int_equal(drop_envelope_write(fp, &env), 0);
	fputs("hello", fp);
	fclose(fp);
	assert_string_equal(buf, "postern-maildrop 1\nuid 1000\nsender \n"
	    "rcpt a@x.test\nrcpt \"q\"@x.test\nsize 5\n\nhello");
	fp = fmemopen(buf, len, "r");
	assert_int_equal(drop_envelope_read(fp, true, 0, &back, why), 0);
	assert_int_equal(back.uid, 1000);
	assert_string_equal(back.sender, "");
	assert_int_equal(back.rcpt_count, 2);
	assert_string_equal(back.rcpts[1], "\"q\"@x.test");
	assert_int_equal(back.size, 5);
	assert_int_equal(getc(fp), 'h');
	fclose(fp);
	free(buf);
	drop_envelope_free(&back);
	drop_envelope_free(&env);
	sbuf_free(&why);
}

struct bad_row {
	const char *text;
	bool with_uid;
	const char *why;
};

static const struct bad_row bad_rows[] = {
	{ "", false, "line 1: envelope cut short" },
	{ "postern-maildrop 2\n", false, "line 1: not a maildrop file" },
	{ "postern-maildrop 1\nsender \nrcpt a@x\nsize 1\n\nx", true,
	    "line 2: bad or missing uid" },
	{ "postern-maildrop 1\nuid 01\n", true, "line 2: bad or missing uid" },
	{ "postern-maildrop 1\nuid 5\nsender \n", false,
	    "line 2: bad or missing sender" },
	{ "postern-maildrop 1\nsender a\tb\n", false,
	    "line 2: bad or missing sender" },
	{ "postern-maildrop 1\nsender \xc0\xaf\n", false,
	    "line 2: bad or missing sender" },
	{ "postern-maildrop 1\nsender \nsize 1\n\n", false,
	    "line 3: no recipients" },
	{ "postern-maildrop 1\nsender \nret ALL\n", false,
	    "line 3: bad ret" },
	{ "postern-maildrop 1\nsender \nnotify 9\n", false,
	    "line 3: bad notify" },
	{ "postern-maildrop 1\nsender \nnotify 16\n", false,
	    "line 3: bad notify" },
	{ "postern-maildrop 1\nsender \nnotify 1\nret FULL\n", false,
	    "line 4: no recipients" },
	{ "postern-maildrop 1\nsender \nrcpt nodomain\n", false,
	    "line 3: bad recipient" },
	{ "postern-maildrop 1\nsender \nrcpt a@x\nsize 99999999999999999999\n",
	    false, "line 4: bad or missing size" },
	{ "postern-maildrop 1\nsender \nrcpt a@x\nsize 11\n\n", false,
	    "line 4: message size 11 exceeds the limit 10" },
	{ "postern-maildrop 1\nsender \nrcpt a@x\nsize 1\nx\n", false,
	    "line 5: no empty line after the envelope" },
	{ "postern-maildrop 1\nsender \nrcpt a@x\nsize 1", false,
	    "line 4: envelope line without newline" },
};

static void
test_bad(void **state)
{
	struct sbuf *why = sbuf_new();
	struct drop_envelope env;

	for (size_t i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
		sbuf_reset(why);
		if (read_env(bad_rows[i].text, bad_rows[i].with_uid, 10, &env,
		    why) == 0)
			fail_msg("row %zu accepted", i);
		if (strcmp(sbuf_str(why), bad_rows[i].why) != 0)
			fail_msg("row %zu: got \"%s\", want \"%s\"", i,
			    sbuf_str(why), bad_rows[i].why);
		assert_null(env.sender);
		assert_int_equal(env.rcpt_count, 0);
	}
	sbuf_free(&why);
}

static void
test_dsn_round_trip(void **state)
{
	struct drop_envelope env = { .uid = -1, .size = 0 }, back;
	struct sbuf *why = sbuf_new();
	char *buf = NULL;
	size_t len = 0;
	FILE *fp;

	env.sender = strdup("s@x.test");
	env.ret = QUEUE_RET_HDRS;
	env.notify = QUEUE_NOTIFY_SUCCESS | QUEUE_NOTIFY_DELAY;
	drop_envelope_add_rcpt(&env, "a@x.test");
	assert_non_null(fp = open_memstream(&buf, &len));
	assert_int_equal(drop_envelope_write(fp, &env), 0);
	fclose(fp);
	assert_string_equal(buf, "postern-maildrop 1\nsender s@x.test\n"
	    "ret HDRS\nnotify 5\nrcpt a@x.test\nsize 0\n\n");
	fp = fmemopen(buf, len, "r");
	assert_int_equal(drop_envelope_read(fp, false, 0, &back, why), 0);
	assert_int_equal(back.ret, QUEUE_RET_HDRS);
	assert_int_equal(back.notify, 5);
	assert_int_equal(back.uid, -1);
	fclose(fp);
	free(buf);
	drop_envelope_free(&back);
	drop_envelope_free(&env);
	sbuf_free(&why);
}

static void
test_long_line_and_nul(void **state)
{
	struct sbuf *text = sbuf_new(), *why = sbuf_new();
	struct drop_envelope env;

	sbuf_set(text, "postern-maildrop 1\nsender ");
	for (int i = 0; i < 2000; i++)
		sbuf_catc(text, 'a');
	sbuf_cat(text, "\n");
	assert_int_equal(read_env(sbuf_str(text), false, 0, &env, why), -1);
	assert_string_equal(sbuf_str(why), "line 2: envelope line too long");
	assert_false(drop_text_ok("a\nb"));
	assert_true(drop_text_ok("j\xc3\xa9@x.test"));
	sbuf_free(&text);
	sbuf_free(&why);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_dsn_round_trip),
		cmocka_unit_test(test_long_line_and_nul),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
