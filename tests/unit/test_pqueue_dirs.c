/*
 * test_pqueue_dirs - postern-queue's walks, searches, moves and removals
 * in a scratch queue directory
 *
 * Walks see queue ids only (not temporary files or other names) and may
 * move what they visit; a message is found in whichever directory holds
 * it; moves and removals report an absent message, and a removal takes
 * the defer and bounce logs along; a move into a missing directory is a
 * failure, not an absent message.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "mail/queue_file.h"
#include "pqueue_dirs.h"
#include "util/sbuf.h"
#include "util/xmalloc.h"

static const char *const queue_subdirs[] = {
	"incoming", "active", "deferred", "hold", "defer", "bounce"
};

struct scratch {
	char *dir;
	char *cwd;
};

/* A scratch queue directory, made the current directory. */
static int
setup(void **state)
{
	struct scratch *s = xcalloc(1, sizeof(*s));
	char path[4096];

	s->dir = test_tmpdir();
	s->cwd = getcwd(NULL, 0);
	for (size_t i = 0; i < sizeof(queue_subdirs) / sizeof(*queue_subdirs);
	    i++) {
		snprintf(path, sizeof(path), "%s/%s", s->dir, queue_subdirs[i]);
		if (mkdir(path, 0700) < 0)
			return -1;
	}
	if (chdir(s->dir) < 0)
		return -1;
	*state = s;
	return 0;
}

static int
teardown(void **state)
{
	struct scratch *s = *state;

	if (chdir(s->cwd) < 0)
		return -1;
	test_rmtree(&s->dir);
	free(s->cwd);
	free(s);
	return 0;
}

/* Writes a message into incoming/ and moves it to dir; its id, malloc'ed. */
static char *
queue_message(enum pqueue_dir dir)
{
	struct queue_envelope env = {
		.sender = "alice@example.test", .proto = QUEUE_PROTO_LOCAL,
	};
	struct queue_rcpt rcpt = { .address = "bob@example.test" };
	struct sbuf *why = sbuf_new(), *from = sbuf_new(), *to = sbuf_new();
	struct queue_writer *w;
	char *id;

	if (queue_writer_open(".", &w, why) != QUEUE_WRITE_OK ||
	    queue_writer_envelope(w, &env, why) < 0 ||
	    queue_writer_add_rcpt(w, &rcpt, why) < 0 ||
	    queue_writer_write(w, "Subject: x\n\nx\n", 14, why) !=
	    QUEUE_WRITE_OK)
		fail_msg("queue_writer: %s", sbuf_str(why));
	id = xstrdup(queue_writer_id(w));
	if (queue_writer_commit(&w, why) != QUEUE_WRITE_OK)
		fail_msg("queue_writer_commit: %s", sbuf_str(why));
	if (dir != PQUEUE_INCOMING && rename(pqueue_path(from,
	    PQUEUE_INCOMING, id), pqueue_path(to, dir, id)) < 0)
		fail_msg("rename: %s", strerror(errno));
	sbuf_free(&why);
	sbuf_free(&from);
	sbuf_free(&to);
	return id;
}

/* What a walk saw: "dir/id" lines. */
struct seen {
	struct sbuf *lines;
	size_t count;
	size_t stop_after;	/* 0: never stop */
	bool move_to_hold;
};

static bool
visit(enum pqueue_dir dir, const char *id, void *ctx)
{
	struct seen *seen = ctx;
	struct sbuf *why = sbuf_new();
	enum pqueue_dir from;

	sbuf_printf(seen->lines, "%s/%s\n", pqueue_dir_name(dir), id);
	seen->count++;
	if (seen->move_to_hold)
		assert_int_equal(pqueue_move(id, PQUEUE_IN(dir), PQUEUE_HOLD,
		    &from, why), PQUEUE_DONE);
	sbuf_free(&why);
	return seen->stop_after == 0 || seen->count < seen->stop_after;
}

static void
test_walk_sees_queue_ids_only(void **state)
{
	struct scratch *s = *state;
	struct seen seen = { .lines = sbuf_new() };
	struct sbuf *why = sbuf_new(), *want = sbuf_new();
	char *a = queue_message(PQUEUE_INCOMING);
	char *b = queue_message(PQUEUE_DEFERRED);
	char *c = queue_message(PQUEUE_HOLD);
	char *junk;

	junk = test_write_text(s->dir, "incoming/tmp.abcdef", "partial");
	free(junk);
	junk = test_write_text(s->dir, "deferred/not-an-id", "x");
	free(junk);
	assert_int_equal(pqueue_walk(PQUEUE_ALL, visit, &seen, why), 0);
	sbuf_printf(want, "incoming/%s\ndeferred/%s\nhold/%s\n", a, b, c);
	assert_string_equal(sbuf_str(seen.lines), sbuf_str(want));
	/* Only the directories asked for. */
	sbuf_reset(seen.lines);
	assert_int_equal(pqueue_walk(PQUEUE_IN(PQUEUE_HOLD), visit, &seen,
	    why), 0);
	sbuf_setf(want, "hold/%s\n", c);
	assert_string_equal(sbuf_str(seen.lines), sbuf_str(want));
	/* A visitor that says stop. */
	seen = (struct seen){ .lines = seen.lines, .stop_after = 1 };
	assert_int_equal(pqueue_walk(PQUEUE_ALL, visit, &seen, why), 0);
	assert_int_equal(seen.count, 1);
	free(a);
	free(b);
	free(c);
	sbuf_free(&seen.lines);
	sbuf_free(&want);
	sbuf_free(&why);
}

static void
test_walk_may_move_what_it_visits(void **state)
{
	struct seen seen = { .lines = sbuf_new(), .move_to_hold = true };
	struct sbuf *why = sbuf_new();
	char *ids[4];

	(void)state;
	for (int i = 0; i < 4; i++)
		ids[i] = queue_message(i % 2 == 0 ? PQUEUE_INCOMING :
		    PQUEUE_DEFERRED);
	assert_int_equal(pqueue_walk(PQUEUE_IN(PQUEUE_INCOMING) |
	    PQUEUE_IN(PQUEUE_DEFERRED), visit, &seen, why), 0);
	assert_int_equal(seen.count, 4);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pqueue_locate(ids[i], PQUEUE_ALL),
		    PQUEUE_HOLD);
		free(ids[i]);
	}
	sbuf_free(&seen.lines);
	sbuf_free(&why);
}

static void
test_walk_of_a_missing_directory_fails(void **state)
{
	struct seen seen = { .lines = sbuf_new() };
	struct sbuf *why = sbuf_new();

	(void)state;
	assert_int_equal(rmdir("hold"), 0);
	assert_int_equal(pqueue_walk(PQUEUE_ALL, visit, &seen, why), -1);
	assert_int_equal(errno, ENOENT);
	assert_non_null(strstr(sbuf_str(why), "open hold/"));
	sbuf_free(&seen.lines);
	sbuf_free(&why);
}

static void
test_locate_and_move(void **state)
{
	struct sbuf *why = sbuf_new();
	enum pqueue_dir from;
	char *id = queue_message(PQUEUE_DEFERRED);

	(void)state;
	assert_int_equal(pqueue_locate(id, PQUEUE_ALL), PQUEUE_DEFERRED);
	assert_int_equal(pqueue_locate(id, PQUEUE_IN(PQUEUE_HOLD)), -1);
	/* Not in the directories it may come from. */
	assert_int_equal(pqueue_move(id, PQUEUE_IN(PQUEUE_HOLD),
	    PQUEUE_INCOMING, &from, why), PQUEUE_ABSENT);
	assert_int_equal(pqueue_move(id, PQUEUE_IN(PQUEUE_INCOMING) |
	    PQUEUE_IN(PQUEUE_DEFERRED), PQUEUE_HOLD, &from, why),
	    PQUEUE_DONE);
	assert_int_equal(from, PQUEUE_DEFERRED);
	assert_int_equal(pqueue_locate(id, PQUEUE_ALL), PQUEUE_HOLD);
	/* The destination is never a source. */
	assert_int_equal(pqueue_move(id, PQUEUE_ALL, PQUEUE_HOLD, &from,
	    why), PQUEUE_ABSENT);
	/* A missing destination is a failure, the file stays. */
	assert_int_equal(rmdir("incoming"), 0);
	assert_int_equal(pqueue_move(id, PQUEUE_IN(PQUEUE_HOLD),
	    PQUEUE_INCOMING, &from, why), PQUEUE_FAILED);
	assert_non_null(strstr(sbuf_str(why), "move hold/"));
	assert_int_equal(pqueue_locate(id, PQUEUE_ALL), PQUEUE_HOLD);
	free(id);
	sbuf_free(&why);
}

static void
test_remove_takes_the_logs(void **state)
{
	struct scratch *s = *state;
	struct sbuf *why = sbuf_new(), *name = sbuf_new();
	char *id = queue_message(PQUEUE_ACTIVE), *path;

	sbuf_setf(name, "defer/%s", id);
	path = test_write_text(s->dir, sbuf_str(name), "x\n");
	free(path);
	sbuf_setf(name, "bounce/%s", id);
	path = test_write_text(s->dir, sbuf_str(name), "x\n");
	free(path);
	assert_int_equal(pqueue_remove(id, why), PQUEUE_DONE);
	assert_int_equal(sbuf_len(why), 0);
	assert_int_equal(pqueue_locate(id, PQUEUE_ALL), -1);
	sbuf_setf(name, "%s/defer", s->dir);
	test_assert_dir_holds(sbuf_str(name), NULL, 0);
	sbuf_setf(name, "%s/bounce", s->dir);
	test_assert_dir_holds(sbuf_str(name), NULL, 0);
	assert_int_equal(pqueue_remove(id, why), PQUEUE_ABSENT);
	free(id);
	sbuf_free(&why);
	sbuf_free(&name);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_walk_sees_queue_ids_only,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_walk_may_move_what_it_visits, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_walk_of_a_missing_directory_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_locate_and_move, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_remove_takes_the_logs,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
