/*
 * testutil - shared helpers for the cmocka unit tests
 *
 * Captures log lines, turns msg_fatal()/msg_panic() into a jump back into
 * the test, and makes scratch files in a private temporary directory.
 */
#ifndef POSTERN_TESTUTIL_H
#define POSTERN_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

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

#endif
