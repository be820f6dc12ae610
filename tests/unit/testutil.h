/*
 * testutil - shared helpers for the cmocka unit tests
 *
 * Captures log lines and stderr, turns msg_fatal()/msg_panic() into a jump
 * back into the test, makes scratch files in a private temporary directory,
 * and reaps a forked peer whatever the test did.
 */
#ifndef POSTERN_TESTUTIL_H
#define POSTERN_TESTUTIL_H

#include <sys/types.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

struct sbuf;

extern jmp_buf test_fatal_jmp;
extern int test_fatal_armed;

/* Runs stmt and fails the test unless it ends in msg_fatal/msg_panic. */
#define EXPECT_FATAL(stmt) do {						\
	test_fatal_armed = 1;						\
	if (setjmp(test_fatal_jmp) == 0) {				\
		stmt;							\
		test_fatal_armed = 0;					\
		fail_msg("expected a fatal error from: %s", #stmt);	\
	}								\
	test_fatal_armed = 0;						\
} while (0)

/* Collects log lines (newline-separated) instead of printing them. */
void test_msg_capture(void);
/* The lines collected since the last test_msg_capture(). */
const char *test_msg_captured(void);

/* Creates a fresh temporary directory; the caller frees the path. */
char *test_tmpdir(void);
/* Removes a directory tree made by test_tmpdir() and frees *dir. */
void test_rmtree(char **dir);
/* Writes len bytes to dir/name; returns the malloc'ed path. */
char *test_write_file(const char *dir, const char *name, const void *data,
    size_t len);
/* The same for a C string. */
char *test_write_text(const char *dir, const char *name, const char *text);
/* Entries of dir other than . and .., or -1 when it cannot be read. */
int test_count_entries(const char *dir);
/* Fails unless dir holds exactly the n names listed (besides . and ..). */
void test_assert_dir_holds(const char *dir, const char *const *names,
    size_t n);

/* Redirects stderr to dir/stderr; returns the saved descriptor. */
int test_stderr_to_file(const char *dir);
/* Restores stderr; returns what was written to it meanwhile, malloc'ed. */
char *test_stderr_restore(const char *dir, int saved);

#define TEST_ALARM_S 60		/* longest any one test may run */

/* The child a test forked as its peer, or -1. */
extern pid_t test_child_pid;
/* cmocka setup: arms an alarm, so a hang is a failure, not a stuck run. */
int test_child_setup(void **state);
/*
 * cmocka teardown: kills and reaps test_child_pid if a failed test left it
 * behind, and disarms the alarm.
 */
int test_child_teardown(void **state);
/* Waits for test_child_pid; its exit status, or 128 + signal. */
int test_child_wait(void);

struct timespec;
/* Milliseconds elapsed on the monotonic clock since *t0. */
long test_ms_since(const struct timespec *t0);

/* Message content handed out by test_src_read() in bounded chunks. */
struct test_src {
	const char *data;
	size_t len;
	size_t pos;
	size_t chunk;		/* most bytes per call; 0: as many as fit */
	size_t fail_at;		/* fails with EIO at this offset */
};

/* A content reader over a struct test_src (ctx): bytes, 0, or -1 EIO. */
ssize_t test_src_read(void *ctx, char *buf, size_t len);
/* A source of the len bytes at data that never fails. */
struct test_src test_src_text(const char *data, size_t len);

#endif
