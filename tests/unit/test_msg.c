/*
 * test_msg - log line format, sanitising, fatal and panic paths
 */
#include "testutil.h"

#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sys/wait.h>

#include "util/msg.h"

static void
test_levels_and_prefixes(void **state)
{
	test_msg_capture();
	msg_info("%s: from=<%s>, size=%d", "4Xq1", "a@b", 12);
	msg_warn("w");
	msg_error("e");
	msg_debug("hidden");
	msg_verbose = 1;
	msg_debug("shown");
	msg_verbose = 0;
	assert_string_equal(test_msg_captured(),
	    "4Xq1: from=<a@b>, size=12\nwarning: w\nerror: e\n"
	    "debug: shown\n");
}

static void
test_control_chars_replaced(void **state)
{
	test_msg_capture();
	msg_info("client said %s", "a\r\nfake: line\x01\x7f\tok");
	assert_string_equal(test_msg_captured(),
	    "client said a??fake: line??\tok\n");
}

static void
test_errno_format(void **state)
{
	test_msg_capture();
	errno = ENOENT;
	msg_warn("open x: %m");
	assert_non_null(strstr(test_msg_captured(), "No such file"));
}

static void
test_long_line_cut(void **state)
{
	char big[10000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	test_msg_capture();
	msg_info("%s", big);
	assert_true(strlen(test_msg_captured()) < 4100);
	assert_non_null(strstr(test_msg_captured(), "...\n"));
}

static void
test_fatal_and_panic_jump(void **state)
{
	test_msg_capture();
	EXPECT_FATAL(msg_fatal("cannot go on: %s", "reason"));
	EXPECT_FATAL(msg_panic("broken"));
	EXPECT_FATAL(msg_fatal_status(75, "temp"));
	assert_string_equal(test_msg_captured(),
	    "fatal: cannot go on: reason\npanic: broken\nfatal: temp\n");
}

/* A real fatal exit, in a child, with the daemon stderr format. */
static void
test_fatal_exit_status(void **state)
{
	int fds[2], status;
	char out[256] = "";
	ssize_t n;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 2);
		msg_set_output_hook(NULL);
		msg_set_exit_hook(NULL);
		msg_init("smtpd", MSG_TO_STDERR);
		msg_fatal_status(75, "queue unwritable");
	}
	close(fds[1]);
	n = read(fds[0], out, sizeof(out) - 1);
	assert_true(n > 0);
	out[n] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 75);
	assert_true(strncmp(out, "postern/smtpd[", 14) == 0);
	assert_non_null(strstr(out, "]: fatal: queue unwritable\n"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_levels_and_prefixes),
		cmocka_unit_test(test_control_chars_replaced),
		cmocka_unit_test(test_errno_format),
		cmocka_unit_test(test_long_line_cut),
		cmocka_unit_test(test_fatal_and_panic_jump),
		cmocka_unit_test(test_fatal_exit_status),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
