/*
 * testutil - shared helpers for the cmocka unit tests
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/msg.h"
#include "util/safe_file.h"
#include "util/sbuf.h"
#include "util/xmalloc.h"

jmp_buf test_fatal_jmp;
int test_fatal_armed;
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
