/*
 * test_local_pipe - delivery to a command: environment, exit statuses,
 * input and output, the time limit
 */
#include "testutil.h"

#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "local_child.h"
#include "local_outcome.h"
#include "local_pipe.h"
#include "util/safe_file.h"
#include "util/sbuf.h"
#include "util/xmalloc.h"

/* An exit status as waitpid() reports it. */
#define EXITED(code)	((code) << 8)

struct exit_case {
	const char *name;
	int wstatus;
	enum deliver_status status;
	const char *dsn;
	const char *reason;	/* expected in the reason */
};

static const struct exit_case exit_cases[] = {
	{ "success", EXITED(0), DELIVER_SENT, "2.0.0",
	    "delivered to command: cmd" },
	{ "tempfail", EXITED(EX_TEMPFAIL), DELIVER_DEFERRED, "4.3.0",
	    "exit status 75: some output" },
	{ "oserr", EXITED(EX_OSERR), DELIVER_DEFERRED, "4.3.0", "status 71" },
	{ "ioerr", EXITED(EX_IOERR), DELIVER_DEFERRED, "4.3.0", "status 74" },
	{ "cantcreat", EXITED(EX_CANTCREAT), DELIVER_DEFERRED, "4.3.0",
	    "status 73" },
	{ "software", EXITED(EX_SOFTWARE), DELIVER_DEFERRED, "4.3.0",
	    "status 70" },
	{ "nouser", EXITED(EX_NOUSER), DELIVER_BOUNCED, "5.1.1",
	    "status 67" },
	{ "nohost", EXITED(EX_NOHOST), DELIVER_BOUNCED, "5.1.2",
	    "status 68" },
	{ "unavailable", EXITED(EX_UNAVAILABLE), DELIVER_BOUNCED, "5.3.0",
	    "status 69" },
	{ "noperm", EXITED(EX_NOPERM), DELIVER_BOUNCED, "5.7.1",
	    "status 77" },
	{ "dataerr", EXITED(EX_DATAERR), DELIVER_BOUNCED, "5.6.0",
	    "status 65" },
	{ "other", EXITED(1), DELIVER_BOUNCED, "5.3.0", "status 1" },
	{ "shell not found", EXITED(127), DELIVER_BOUNCED, "5.3.0",
	    "status 127" },
	{ "signal", SIGSEGV, DELIVER_DEFERRED, "4.3.0", "signal 11" },
};

static void
test_exit_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(exit_cases) / sizeof(exit_cases[0]);
	    i++) {
		const struct exit_case *c = &exit_cases[i];
		struct local_outcome out;

		local_outcome_init(&out);
		local_pipe_map_exit(c->wstatus, "cmd", "some output\n", &out);
		if (out.status != c->status || strcmp(out.dsn, c->dsn) != 0)
			fail_msg("%s: got %d %s", c->name, (int)out.status,
			    out.dsn);
		if (strstr(sbuf_str(out.reason), c->reason) == NULL)
			fail_msg("%s: reason \"%s\" lacks \"%s\"", c->name,
			    sbuf_str(out.reason), c->reason);
		local_outcome_clear(&out);
	}
}

/* Output with control characters cannot forge lines in a reason. */
static void
test_exit_output_cleaned(void **state)
{
	struct local_outcome out;

	(void)state;
	local_outcome_init(&out);
	local_pipe_map_exit(EXITED(1), "cmd", "bad\r\nline\033[2J\n", &out);
	assert_string_equal(sbuf_str(out.reason),
	    "command cmd failed with exit status 1: bad? line?[2J");
	local_pipe_map_exit(EXITED(1), "cmd", "", &out);
	assert_string_equal(sbuf_str(out.reason),
	    "command cmd failed with exit status 1");
	local_outcome_clear(&out);
}

/* The value of NAME in env, or NULL. */
static const char *
env_get(char **env, const char *name)
{
	size_t len = strlen(name);

	for (char **e = env; *e != NULL; e++)
		if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
			return *e + len + 1;
	return NULL;
}

static void
test_env(void **state)
{
	struct local_ident user = { 1234, 1234, "alice", "/home/alice",
	    "/bin/bash" };
	struct local_pipe_vars vars = {
		.user = &user,
		.sender = "",
		.recipient = "alice+x@example.com",
		.local = "alice+x",
		.domain = "example.com",
		.extension = "x",
		.original_recipient = "Alice+X@Example.COM",
		.queue_id = "0SCT2O0APSW247H",
		.client_address = "192.0.2.1",
	};
	char **env;
	size_t n = 0;

	(void)state;
	env = local_pipe_env(&vars);
	for (char **e = env; *e != NULL; e++)
		n++;
	assert_int_equal(n, 13);
	assert_string_equal(env_get(env, "HOME"), "/home/alice");
	assert_string_equal(env_get(env, "USER"), "alice");
	assert_string_equal(env_get(env, "LOGNAME"), "alice");
	assert_string_equal(env_get(env, "SHELL"), "/bin/bash");
	assert_string_equal(env_get(env, "PATH"), LOCAL_PIPE_PATH);
	assert_string_equal(env_get(env, "SENDER"), "");
	assert_string_equal(env_get(env, "RECIPIENT"), "alice+x@example.com");
	assert_string_equal(env_get(env, "LOCAL"), "alice+x");
	assert_string_equal(env_get(env, "DOMAIN"), "example.com");
	assert_string_equal(env_get(env, "EXTENSION"), "x");
	assert_string_equal(env_get(env, "ORIGINAL_RECIPIENT"),
	    "Alice+X@Example.COM");
	assert_string_equal(env_get(env, "QUEUE_ID"), "0SCT2O0APSW247H");
	assert_string_equal(env_get(env, "CLIENT_ADDRESS"), "192.0.2.1");
	assert_null(env_get(env, "CLIENT_HELO"));
	local_pipe_env_free(&env);
	assert_null(env);
}

/* Content from memory, optionally failing. */
struct mem_reader {
	const char *data;
	size_t len, pos;
	bool fail;
};

static ssize_t
mem_read(void *ctx, char *buf, size_t len)
{
	struct mem_reader *r = ctx;
	size_t n = r->len - r->pos < len ? r->len - r->pos : len;

	if (r->fail) {
		errno = EIO;
		return -1;
	}
	memcpy(buf, r->data + r->pos, n);
	r->pos += n;
	return (ssize_t)n;
}

/* Runs command with data on stdin; the outcome in out. */
static void
run(const char *command, const char *dir, struct mem_reader *r,
    long limit, struct local_outcome *out)
{
	char *env[] = { "PATH=/usr/bin:/bin", "FROMENV=yes", NULL };
	struct local_pipe_req req = {
		.command = command,
		.cwd = dir,
		.env = env,
		.prefix = "Delivered-To: a@b\n",
		.read_fn = mem_read,
		.read_ctx = r,
		.time_limit = limit,
	};

	local_pipe_run(&req, out);
}

static void
test_run_input_env_cwd(void **state)
{
	char *dir = test_tmpdir();
	struct mem_reader r = { "body\n", 5, 0, false };
	struct local_outcome out;
	struct sbuf *got = sbuf_new(), *why = sbuf_new(), *cmd = sbuf_new();
	char *real;

	(void)state;
	local_outcome_init(&out);
	sbuf_printf(cmd, "cat > msg; echo $FROMENV > env; pwd > cwd");
	run(sbuf_str(cmd), dir, &r, 30, &out);
	assert_int_equal(out.status, DELIVER_SENT);
	sbuf_setf(cmd, "%s/msg", dir);
	assert_int_equal(safe_file_read(sbuf_str(cmd), 1000, got, why), 0);
	assert_string_equal(sbuf_str(got), "Delivered-To: a@b\nbody\n");
	sbuf_setf(cmd, "%s/env", dir);
	assert_int_equal(safe_file_read(sbuf_str(cmd), 1000, got, why), 0);
	assert_string_equal(sbuf_str(got), "yes\n");
	sbuf_setf(cmd, "%s/cwd", dir);
	assert_int_equal(safe_file_read(sbuf_str(cmd), 1000, got, why), 0);
	real = realpath(dir, NULL);
	sbuf_setf(cmd, "%s\n", real);
	assert_string_equal(sbuf_str(got), sbuf_str(cmd));
	free(real);
	local_outcome_clear(&out);
	sbuf_free(&got);
	sbuf_free(&why);
	sbuf_free(&cmd);
	test_rmtree(&dir);
}

/* A command that ignores a big input still succeeds by its exit. */
static void
test_run_unread_input(void **state)
{
	size_t len = 4 * 1024 * 1024;
	char *big = xmalloc(len);
	struct mem_reader r = { big, len, 0, false };
	struct local_outcome out;

	(void)state;
	memset(big, 'x', len);
	local_outcome_init(&out);
	run("exit 0", "/", &r, 30, &out);
	assert_int_equal(out.status, DELIVER_SENT);
	local_outcome_clear(&out);
	free(big);
}

/* Output beyond the bound is read and dropped, not kept. */
static void
test_run_output_bounded(void **state)
{
	struct mem_reader r = { "", 0, 0, false };
	struct local_outcome out;

	(void)state;
	local_outcome_init(&out);
	run("head -c 100000 /dev/zero | tr '\\0' y; exit 69", "/", &r, 30,
	    &out);
	assert_int_equal(out.status, DELIVER_BOUNCED);
	assert_string_equal(out.dsn, "5.3.0");
	assert_true(sbuf_len(out.reason) < LOCAL_PIPE_OUTPUT_MAX + 100);
	local_outcome_clear(&out);
}

static void
test_run_time_limit(void **state)
{
	struct mem_reader r = { "", 0, 0, false };
	struct local_outcome out;

	(void)state;
	local_outcome_init(&out);
	run("sleep 60 & sleep 60", "/", &r, 1, &out);
	assert_int_equal(out.status, DELIVER_DEFERRED);
	assert_non_null(strstr(sbuf_str(out.reason), "time limit of 1s"));
	local_outcome_clear(&out);
}

static void
test_run_read_error(void **state)
{
	struct mem_reader r = { "", 0, 0, true };
	struct local_outcome out;

	(void)state;
	local_outcome_init(&out);
	run("cat > /dev/null", "/", &r, 30, &out);
	assert_int_equal(out.status, DELIVER_DEFERRED);
	assert_non_null(strstr(sbuf_str(out.reason), "cannot read"));
	local_outcome_clear(&out);
}

/* The command inherits no descriptor of the daemon's. */
static void
test_run_no_inherited_fds(void **state)
{
	struct mem_reader r = { "", 0, 0, false };
	struct local_outcome out;
	struct sbuf *cmd = sbuf_new();
	int fd = open("/dev/null", O_RDONLY);

	(void)state;
	assert_true(fd > 2);
	local_outcome_init(&out);
	sbuf_setf(cmd, "test -e /proc/$$/fd/%d && exit 1; exit 0", fd);
	run(sbuf_str(cmd), "/", &r, 30, &out);
	assert_int_equal(out.status, DELIVER_SENT);
	local_outcome_clear(&out);
	close(fd);
	sbuf_free(&cmd);
}

/* An unusable working directory falls back to /. */
static void
test_run_bad_cwd(void **state)
{
	struct mem_reader r = { "", 0, 0, false };
	struct local_outcome out;

	(void)state;
	local_outcome_init(&out);
	run("test \"$(pwd)\" = /", "/nonexistent/dir", &r, 30, &out);
	assert_int_equal(out.status, DELIVER_SENT);
	local_outcome_clear(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_table),
		cmocka_unit_test(test_exit_output_cleaned),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_run_input_env_cwd),
		cmocka_unit_test(test_run_unread_input),
		cmocka_unit_test(test_run_output_bounded),
		cmocka_unit_test(test_run_time_limit),
		cmocka_unit_test(test_run_read_error),
		cmocka_unit_test(test_run_no_inherited_fds),
		cmocka_unit_test(test_run_bad_cwd),
	};

	signal(SIGPIPE, SIG_IGN);	/* as the daemon skeleton does */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
