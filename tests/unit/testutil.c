/*
 * testutil - shared helpers for the cmocka unit tests
 */
#include "testutil.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/msg.h"
#include "util/safe_file.h"
#include "util/sbuf.h"
#include "util/xmalloc.h"

jmp_buf test_fatal_jmp;
int test_fatal_armed;
pid_t test_child_pid = -1;
static struct sbuf *test_captured;

static void
test_output_hook(enum msg_level level, const char *line)
{
	if (test_captured == NULL)
		test_captured = sbuf_new();
	sbuf_cat(test_captured, line);
	sbuf_catc(test_captured, '\n');
}

static void
test_exit_hook(enum msg_level level, int status)
{
	if (test_fatal_armed)
		longjmp(test_fatal_jmp, 1);
}

void
test_msg_capture(void)
{
	if (test_captured != NULL)
		sbuf_reset(test_captured);
	msg_set_output_hook(test_output_hook);
	msg_set_exit_hook(test_exit_hook);
}

const char *
test_msg_captured(void)
{
	return test_captured ? sbuf_str(test_captured) : "";
}

char *
test_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	struct sbuf *path = sbuf_new();
	char *dir;

	sbuf_printf(path, "%s/postern-test.XXXXXX", base ? base : "/tmp");
	if (mkdtemp(path->data) == NULL) {
		perror("mkdtemp");
		abort();
	}
	dir = sbuf_steal(path);
	sbuf_free(&path);
	return dir;
}

void
test_rmtree(char **dir)
{
	struct sbuf *cmd = sbuf_new();

	if (*dir != NULL && strstr(*dir, "postern-test.") != NULL) {
		sbuf_printf(cmd, "rm -rf '%s'", *dir);
		if (system(sbuf_str(cmd)) != 0)
			fprintf(stderr, "could not remove %s\n", *dir);
	}
	sbuf_free(&cmd);
	xfree(dir);
}

char *
test_write_file(const char *dir, const char *name, const void *data,
    size_t len)
{
	struct sbuf *path = sbuf_new();
	struct sbuf *why = sbuf_new();
	char *p;

	sbuf_printf(path, "%s/%s", dir, name);
	if (safe_file_write(sbuf_str(path), data, len, 0644, why) < 0) {
		fprintf(stderr, "%s\n", sbuf_str(why));
		abort();
	}
	p = sbuf_steal(path);
	sbuf_free(&path);
	sbuf_free(&why);
	return p;
}

char *
test_write_text(const char *dir, const char *name, const char *text)
{
	return test_write_file(dir, name, text, strlen(text));
}

int
test_count_entries(const char *dir)
{
	DIR *dp = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (dp == NULL)
		return -1;
	while ((de = readdir(dp)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(dp);
	return n;
}

void
test_assert_dir_holds(const char *dir, const char *const *names, size_t n)
{
	DIR *dp = opendir(dir);
	struct dirent *de;
	size_t seen = 0;

	assert_non_null(dp);
	while ((de = readdir(dp)) != NULL) {
		bool known = false;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		for (size_t i = 0; i < n; i++)
			if (strcmp(de->d_name, names[i]) == 0)
				known = true;
		if (!known)
			fail_msg("unexpected file %s/%s (a leftover temporary "
			    "file?)", dir, de->d_name);
		seen++;
	}
	closedir(dp);
	assert_int_equal(seen, n);
}

int
test_stderr_to_file(const char *dir)
{
	struct sbuf *p = sbuf_new();
	int saved, fd;

	sbuf_printf(p, "%s/stderr", dir);
	fflush(stderr);
	saved = dup(2);
	fd = open(sbuf_str(p), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, 2);
	close(fd);
	sbuf_free(&p);
	return saved;
}

char *
test_stderr_restore(const char *dir, int saved)
{
	struct sbuf *p = sbuf_new(), *data = sbuf_new(), *why = sbuf_new();
	char *text;

	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	sbuf_printf(p, "%s/stderr", dir);
	assert_int_equal(safe_file_read(sbuf_str(p), SIZE_MAX, data, why),
	    0);
	unlink(sbuf_str(p));
	text = sbuf_steal(data);
	sbuf_free(&p);
	sbuf_free(&data);
	sbuf_free(&why);
	return text;
}

int
test_child_setup(void **state)
{
	alarm(TEST_ALARM_S);
	return 0;
}

int
test_child_teardown(void **state)
{
	if (test_child_pid > 0) {
		kill(test_child_pid, SIGKILL);
		waitpid(test_child_pid, NULL, 0);
		test_child_pid = -1;
	}
	alarm(0);
	return 0;
}

int
test_child_wait(void)
{
	int status;

	assert_true(test_child_pid > 0);
	assert_int_equal(waitpid(test_child_pid, &status, 0), test_child_pid);
	test_child_pid = -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) :
	    128 + WTERMSIG(status);
}

ssize_t
test_src_read(void *ctx, char *buf, size_t len)
{
	struct test_src *s = ctx;
	size_t n = s->len - s->pos;

	if (s->pos >= s->fail_at) {
		errno = EIO;
		return -1;
	}
	if (n > len)
		n = len;
	if (s->chunk > 0 && n > s->chunk)
		n = s->chunk;
	if (n > s->fail_at - s->pos)
		n = s->fail_at - s->pos;
	memcpy(buf, s->data + s->pos, n);
	s->pos += n;
	return (ssize_t)n;
}

struct test_src
test_src_text(const char *data, size_t len)
{
	return (struct test_src){ .data = data, .len = len,
	    .fail_at = SIZE_MAX };
}

long
test_ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000 +
	    (now.tv_nsec - t0->tv_nsec) / 1000000;
}
