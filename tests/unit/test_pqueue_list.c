/*
 * test_pqueue_list - postern-queue's listing entries, text and JSON
 *
 * JSON strings are quoted; an entry lists the pending recipients only,
 * each with the reason of its deferral from the defer log when it has
 * one, the orig_rcpt when given, marks active and held messages; the
 * total line counts Kbytes rounded up; a whole listing of a scratch queue.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "mail/dsn_log.h"
#include "mail/queue_file.h"
#include "pqueue_json.h"
#include "pqueue_list.h"
#include "util/sbuf.h"
#include "util/xmalloc.h"

#define ARRIVAL_TEXT	"Tue Nov 14 22:13:20"	/* 1700000000 in UTC */

static const char content[] = "Subject: test\n\nbody\n";

/* A queue file in dir/incoming with three recipients, the second done. */
static struct queue_file *
make_message(const char *dir, const char *sender, struct sbuf *id_r)
{
	struct queue_envelope env = {
		.sender = sender, .proto = QUEUE_PROTO_ESMTP,
	};
	struct queue_rcpt rcpts[] = {
		{ .address = "bob@example.test",
		    .orcpt = "rfc822;Bob@Example.test" },
		{ .address = "carol@example.test" },
		{ .address = "dave \"x\"@example.test" },
	};
	struct sbuf *why = sbuf_new(), *path = sbuf_new();
	struct queue_writer *w;
	struct queue_file *qf;

	if (queue_writer_open(dir, &w, why) != QUEUE_WRITE_OK ||
	    queue_writer_envelope(w, &env, why) < 0)
		fail_msg("queue_writer: %s", sbuf_str(why));
	for (size_t i = 0; i < 3; i++)
		if (queue_writer_add_rcpt(w, &rcpts[i], why) < 0)
			fail_msg("add_rcpt: %s", sbuf_str(why));
	if (queue_writer_write(w, content, strlen(content), why) !=
	    QUEUE_WRITE_OK)
		fail_msg("write: %s", sbuf_str(why));
	sbuf_set(id_r, queue_writer_id(w));
	if (queue_writer_commit(&w, why) != QUEUE_WRITE_OK)
		fail_msg("commit: %s", sbuf_str(why));
	sbuf_setf(path, "%s/incoming/%s", dir, sbuf_str(id_r));
	if ((qf = queue_file_open(sbuf_str(path), QUEUE_OPEN_UPDATE,
	    why)) == NULL || queue_file_mark_done(qf, 1, why) < 0)
		fail_msg("queue_file: %s", sbuf_str(why));
	qf->arrival = 1700000000;
	sbuf_free(&why);
	sbuf_free(&path);
	return qf;
}

/* A defer log for qf's third recipient, read back. */
static struct dsn_log *
make_defer_log(const char *dir)
{
	struct dsn_entry e = {
		.rcpt = 2, .action = DSN_ACTION_DELAYED, .dsn = "4.2.0",
		.when = 1700000100, .reason = "mailbox \"busy\"",
	};
	struct sbuf *why = sbuf_new(), *path = sbuf_new();
	struct dsn_log *log = NULL;

	sbuf_setf(path, "%s/defer.log", dir);
	if (dsn_log_append(sbuf_str(path), &e, why) < 0 ||
	    dsn_log_read(sbuf_str(path), 3, &log, why) < 0)
		fail_msg("dsn_log: %s", sbuf_str(why));
	sbuf_free(&why);
	sbuf_free(&path);
	return log;
}

static int
setup(void **state)
{
	char *dir = test_tmpdir(), path[4096];
	const char *subdirs[] = {
		"incoming", "active", "deferred", "hold", "defer", "bounce"
	};

	setenv("TZ", "UTC", 1);
	tzset();
	for (size_t i = 0; i < sizeof(subdirs) / sizeof(*subdirs); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, subdirs[i]);
		if (mkdir(path, 0700) < 0)
			return -1;
	}
	*state = dir;
	return 0;
}

static int
teardown(void **state)
{
	char *dir = *state;

	test_rmtree(&dir);
	return 0;
}

static void
test_json_string(void **state)
{
	struct sbuf *out = sbuf_new();

	(void)state;
	pqueue_json_string(out, "");
	pqueue_json_string(out, "a\"b\\c");
	pqueue_json_string(out, "\x01\t\x7f");
	pqueue_json_string(out, "h\xc3\xa9llo");
	assert_string_equal(sbuf_str(out), "\"\"\"a\\\"b\\\\c\""
	    "\"\\u0001\\u0009\\u007f\"\"h\xc3\xa9llo\"");
	sbuf_free(&out);
}

static void
test_text_entry(void **state)
{
	const char *dir = *state;
	struct sbuf *id = sbuf_new(), *out = sbuf_new(), *want = sbuf_new();
	struct queue_file *qf = make_message(dir, "alice@example.test", id);
	struct dsn_log *defer = make_defer_log(dir);
	const char *indent = "                                        "
	    "                ";
	const char *sender;

	pqueue_format(out, PQUEUE_TEXT, PQUEUE_DEFERRED, qf, defer);
	sbuf_printf(want, "%-25s %8zu %-20s alice@example.test\n"
	    "%sbob@example.test\n"
	    "%s(mailbox \"busy\")\n"
	    "%sdave \"x\"@example.test\n\n", sbuf_str(id),
	    strlen(content), ARRIVAL_TEXT, indent, indent, indent);
	assert_string_equal(sbuf_str(out), sbuf_str(want));
	/* Marks: '*' in active/, '!' in hold/; the null sender. */
	sender = qf->env.sender;
	qf->env.sender = "";
	sbuf_reset(out);
	pqueue_format(out, PQUEUE_TEXT, PQUEUE_ACTIVE, qf, NULL);
	sbuf_setf(want, "%s*", sbuf_str(id));
	assert_memory_equal(sbuf_str(out), sbuf_str(want), sbuf_len(want));
	assert_non_null(strstr(sbuf_str(out), ARRIVAL_TEXT "  <>\n"));
	assert_null(strstr(sbuf_str(out), "busy"));
	sbuf_reset(out);
	pqueue_format(out, PQUEUE_TEXT, PQUEUE_HOLD, qf, NULL);
	sbuf_setf(want, "%s!", sbuf_str(id));
	assert_memory_equal(sbuf_str(out), sbuf_str(want), sbuf_len(want));
	qf->env.sender = sender;
	dsn_log_free(&defer);
	queue_file_close(&qf);
	sbuf_free(&id);
	sbuf_free(&out);
	sbuf_free(&want);
}

static void
test_json_entry(void **state)
{
	const char *dir = *state;
	struct sbuf *id = sbuf_new(), *out = sbuf_new(), *want = sbuf_new();
	struct queue_file *qf = make_message(dir, "alice@example.test", id);
	struct dsn_log *defer = make_defer_log(dir);

	pqueue_format(out, PQUEUE_JSON, PQUEUE_DEFERRED, qf, defer);
	sbuf_printf(want, "{\"queue_name\":\"deferred\",\"queue_id\":\"%s\","
	    "\"arrival_time\":1700000000,\"message_size\":%zu,"
	    "\"sender\":\"alice@example.test\",\"recipients\":["
	    "{\"address\":\"bob@example.test\","
	    "\"orig_rcpt\":\"rfc822;Bob@Example.test\"},"
	    "{\"address\":\"dave \\\"x\\\"@example.test\","
	    "\"delay_reason\":\"mailbox \\\"busy\\\"\"}]}\n",
	    sbuf_str(id), strlen(content));
	assert_string_equal(sbuf_str(out), sbuf_str(want));
	sbuf_reset(out);
	pqueue_format(out, PQUEUE_JSON, PQUEUE_HOLD, qf, NULL);
	assert_non_null(strstr(sbuf_str(out), "\"queue_name\":\"hold\""));
	assert_non_null(strstr(sbuf_str(out), "}],\"held\":true}\n"));
	dsn_log_free(&defer);
	queue_file_close(&qf);
	sbuf_free(&id);
	sbuf_free(&out);
	sbuf_free(&want);
}

static void
test_total(void **state)
{
	struct sbuf *out = sbuf_new();

	(void)state;
	pqueue_format_total(out, 0, 0);
	pqueue_format_total(out, 1, 1);
	pqueue_format_total(out, 2, 2048);
	pqueue_format_total(out, 3, 2049);
	assert_string_equal(sbuf_str(out), "Mail queue is empty\n"
	    "-- 1 Kbytes in 1 Request.\n"
	    "-- 2 Kbytes in 2 Requests.\n"
	    "-- 3 Kbytes in 3 Requests.\n");
	sbuf_free(&out);
}

static void
test_whole_listing(void **state)
{
	const char *dir = *state;
	struct sbuf *id = sbuf_new(), *why = sbuf_new();
	struct queue_file *qf = make_message(dir, "alice@example.test", id);
	char *cwd = getcwd(NULL, 0), *text = NULL, *junk;
	size_t size = 0;
	FILE *out;

	queue_file_close(&qf);
	/* A damaged file is warned about and skipped. */
	junk = test_write_text(dir, "deferred/0TOXZ5FD6JK6LEJ3", "damaged");
	free(junk);
	assert_int_equal(chdir(dir), 0);
	test_msg_capture();
	assert_non_null(out = open_memstream(&text, &size));
	assert_int_equal(pqueue_list(out, PQUEUE_TEXT, why), 0);
	fclose(out);
	assert_int_equal(chdir(cwd), 0);
	assert_true(strncmp(text, PQUEUE_TEXT_HEADING,
	    strlen(PQUEUE_TEXT_HEADING)) == 0);
	assert_non_null(strstr(text, sbuf_str(id)));
	assert_non_null(strstr(text, "\n-- 1 Kbytes in 1 Request.\n"));
	assert_non_null(strstr(test_msg_captured(), "0TOXZ5FD6JK6LEJ3"));
	free(text);
	free(cwd);
	sbuf_free(&id);
	sbuf_free(&why);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_string),
		cmocka_unit_test_setup_teardown(test_text_entry, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_json_entry, setup,
		    teardown),
		cmocka_unit_test(test_total),
		cmocka_unit_test_setup_teardown(test_whole_listing, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
