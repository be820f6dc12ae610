/*
 * test_dsn_log - qmgr's per-message logs in defer/ and bounce/
 *
 * Entries written and read back, the last entry of a recipient winning,
 * and what a crash or damage can leave: a torn last line, lines that do
 * not parse, recipients out of range. Text is cleaned and bounded. The
 * "warned" line of delay notifications.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "mail/dsn_log.h"
#include "util/safe_file.h"
#include "util/sbuf.h"

/* Appends an entry; fails the test on error. */
static void
append(const char *path, size_t rcpt, enum dsn_action action,
    const char *dsn, const char *reason, const char *diag)
{
	struct sbuf *why = sbuf_new();
	struct dsn_entry e = {
		.rcpt = rcpt, .action = action, .dsn = dsn, .when = 1700000000,
		.reason = reason, .diag = diag, .mta = diag != NULL ?
		    "mx.example" : NULL,
	};

	if (dsn_log_append(path, &e, why) < 0)
		fail_msg("dsn_log_append: %s", sbuf_str(why));
	sbuf_free(&why);
}

static struct dsn_log *
read_log(const char *path, size_t rcpt_count)
{
	struct sbuf *why = sbuf_new();
	struct dsn_log *log = NULL;

	if (dsn_log_read(path, rcpt_count, &log, why) < 0)
		fail_msg("dsn_log_read: %s", sbuf_str(why));
	sbuf_free(&why);
	return log;
}

static void
test_round_trip(void **state)
{
	char *dir = test_tmpdir();
	struct sbuf *path = sbuf_new(), *text = sbuf_new(), *why = sbuf_new();
	struct dsn_log *log;

	(void)state;
	sbuf_printf(path, "%s/ID", dir);
	append(sbuf_str(path), 2, DSN_ACTION_FAILED, "5.1.1", "no such user",
	    "550 5.1.1 unknown");
	append(sbuf_str(path), 0, DSN_ACTION_DELIVERED, "2.0.0",
	    "delivered to maildir", NULL);
	assert_int_equal(safe_file_read(sbuf_str(path), 4096, text, why), 0);
	assert_string_equal(sbuf_str(text),
	    "2\tfailed\t5.1.1\t1700000000\tno such user\t550 5.1.1 unknown"
	    "\tmx.example\n"
	    "0\tdelivered\t2.0.0\t1700000000\tdelivered to maildir\t\t\n");
	log = read_log(sbuf_str(path), 3);
	assert_int_equal(log->count, 2);
	/* Ordered by recipient. */
	assert_int_equal(log->entries[0].rcpt, 0);
	assert_int_equal(log->entries[0].action, DSN_ACTION_DELIVERED);
	assert_string_equal(log->entries[0].diag, "");
	assert_int_equal(log->entries[1].rcpt, 2);
	assert_int_equal(log->entries[1].action, DSN_ACTION_FAILED);
	assert_string_equal(log->entries[1].dsn, "5.1.1");
	assert_string_equal(log->entries[1].reason, "no such user");
	assert_string_equal(log->entries[1].diag, "550 5.1.1 unknown");
	assert_string_equal(log->entries[1].mta, "mx.example");
	assert_int_equal(log->entries[1].when, 1700000000);
	dsn_log_free(&log);
	assert_null(log);
	sbuf_free(&path);
	sbuf_free(&text);
	sbuf_free(&why);
	test_rmtree(&dir);
}

static void
test_last_entry_wins(void **state)
{
	char *dir = test_tmpdir();
	struct sbuf *path = sbuf_new();
	struct dsn_log *log;

	(void)state;
	sbuf_printf(path, "%s/ID", dir);
	append(sbuf_str(path), 1, DSN_ACTION_DELAYED, "4.4.1", "first", NULL);
	append(sbuf_str(path), 1, DSN_ACTION_DELAYED, "4.4.2", "second",
	    NULL);
	append(sbuf_str(path), 1, DSN_ACTION_FAILED, "5.4.2", "last", NULL);
	log = read_log(sbuf_str(path), 2);
	assert_int_equal(log->count, 1);
	assert_string_equal(log->entries[0].reason, "last");
	assert_int_equal(log->entries[0].action, DSN_ACTION_FAILED);
	dsn_log_free(&log);
	sbuf_free(&path);
	test_rmtree(&dir);
}

static void
test_damage_is_skipped(void **state)
{
	static const char text[] =
	    "0\tfailed\t5.1.1\t1\tgood\t\t\n"
	    "1\tfailed\t5.1.1\t1\ttoo\tmany\tfields\there\n"
	    "1\texploded\t5.1.1\t1\tbad action\t\t\n"
	    "1\tfailed\t6.1.1\t1\tbad class\t\t\n"
	    "1\tfailed\t5.1\t1\tbad code\t\t\n"
	    "1\tfailed\t5.1.1\tsoon\tbad time\t\t\n"
	    "-1\tfailed\t5.1.1\t1\tbad index\t\t\n"
	    "9\tfailed\t5.1.1\t1\tout of range\t\t\n"
	    "\n"
	    "1\tfailed\t5.1.1\t1\tgood too\t\t\n"
	    "2\tfailed\t5.1.1\t1\ttorn";
	char *dir = test_tmpdir();
	char *path = test_write_text(dir, "ID", text);
	struct dsn_log *log = read_log(path, 3);

	(void)state;
	assert_int_equal(log->count, 2);
	assert_string_equal(log->entries[0].reason, "good");
	assert_string_equal(log->entries[1].reason, "good too");
	dsn_log_free(&log);
	free(path);
	test_rmtree(&dir);
}

static void
test_warned_line(void **state)
{
	char *dir = test_tmpdir();
	struct sbuf *path = sbuf_new(), *why = sbuf_new();
	struct dsn_log *log;

	(void)state;
	sbuf_printf(path, "%s/ID", dir);
	append(sbuf_str(path), 0, DSN_ACTION_DELAYED, "4.4.1", "waiting", NULL);
	log = read_log(sbuf_str(path), 1);
	assert_int_equal(log->warned, 0);
	dsn_log_free(&log);
	assert_int_equal(dsn_log_append_warned(sbuf_str(path), 1700000123,
	    why), 0);
	log = read_log(sbuf_str(path), 1);
	assert_int_equal(log->warned, 1700000123);
	assert_int_equal(log->count, 1);
	assert_string_equal(log->entries[0].reason, "waiting");
	dsn_log_free(&log);
	sbuf_free(&path);
	sbuf_free(&why);
	test_rmtree(&dir);
}

static void
test_missing_file_is_empty(void **state)
{
	char *dir = test_tmpdir();
	struct sbuf *path = sbuf_new();
	struct dsn_log *log;

	(void)state;
	sbuf_printf(path, "%s/none", dir);
	log = read_log(sbuf_str(path), 1);
	assert_int_equal(log->count, 0);
	dsn_log_free(&log);
	dsn_log_free(&log);	/* accepts NULL */
	sbuf_free(&path);
	test_rmtree(&dir);
}

static void
test_text_is_cleaned_and_bounded(void **state)
{
	char *dir = test_tmpdir();
	struct sbuf *path = sbuf_new(), *reason = sbuf_new();
	struct dsn_log *log;

	(void)state;
	sbuf_printf(path, "%s/ID", dir);
	append(sbuf_str(path), 0, DSN_ACTION_FAILED, "5.0.0",
	    "tab\there\nnewline", NULL);
	/* 999 ASCII octets then a 2-octet character across the limit. */
	for (int i = 0; i < DSN_LOG_TEXT_MAX - 1; i++)
		sbuf_catc(reason, 'x');
	sbuf_cat(reason, "\xc3\xa9tail");
	append(sbuf_str(path), 1, DSN_ACTION_FAILED, "5.0.0",
	    sbuf_str(reason), NULL);
	log = read_log(sbuf_str(path), 2);
	assert_int_equal(log->count, 2);
	assert_string_equal(log->entries[0].reason, "tab?here?newline");
	assert_int_equal(strlen(log->entries[1].reason), DSN_LOG_TEXT_MAX - 1);
	dsn_log_free(&log);
	sbuf_free(&path);
	sbuf_free(&reason);
	test_rmtree(&dir);
}

static void
test_append_failure(void **state)
{
	struct sbuf *why = sbuf_new();
	struct dsn_entry e = {
		.rcpt = 0, .action = DSN_ACTION_FAILED, .dsn = "5.0.0",
		.reason = "x",
	};

	(void)state;
	assert_int_equal(dsn_log_append("/nonexistent/dir/ID", &e, why), -1);
	assert_non_null(strstr(sbuf_str(why), "/nonexistent/dir/ID"));
	sbuf_free(&why);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_last_entry_wins),
		cmocka_unit_test(test_damage_is_skipped),
		cmocka_unit_test(test_warned_line),
		cmocka_unit_test(test_missing_file_is_empty),
		cmocka_unit_test(test_text_is_cleaned_and_bounded),
		cmocka_unit_test(test_append_failure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
