/*
 * test_local_userfile - when a .forward or include file is trusted, and
 * reading it through a child
 */
#include "testutil.h"

#include <sys/stat.h>

#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "local_child.h"
#include "local_userfile.h"
#include "util/sbuf.h"
#include "util/xmalloc.h"

#define OWNER	1000
#define OTHER	1001

struct check_case {
	const char *name;
	mode_t mode;		/* type and permission bits */
	uid_t uid;
	const char *reason;	/* expected in why; NULL when trusted */
};

static const struct check_case check_cases[] = {
	{ "owner, 0644", S_IFREG | 0644, OWNER, NULL },
	{ "owner, 0600", S_IFREG | 0600, OWNER, NULL },
	{ "root, 0644", S_IFREG | 0644, 0, NULL },
	{ "owner, world readable only", S_IFREG | 0444, OWNER, NULL },
	{ "other owner", S_IFREG | 0644, OTHER, "owned by uid 1001" },
	{ "group writable", S_IFREG | 0664, OWNER, "writable by its group" },
	{ "world writable", S_IFREG | 0646, OWNER, "writable by others" },
	{ "root but world writable", S_IFREG | 0666, 0, "writable by" },
	{ "directory", S_IFDIR | 0755, OWNER, "not a regular file" },
	{ "fifo", S_IFIFO | 0600, OWNER, "not a regular file" },
};

static void
test_check_table(void **state)
{
	struct sbuf *why = sbuf_new();

	(void)state;
	for (size_t i = 0; i < sizeof(check_cases) / sizeof(check_cases[0]);
	    i++) {
		const struct check_case *c = &check_cases[i];
		struct stat st;
		int ret;

		memset(&st, 0, sizeof(st));
		st.st_mode = c->mode;
		st.st_uid = c->uid;
		sbuf_reset(why);
		ret = local_userfile_check("/h/.forward", &st, OWNER, why);
		if (c->reason == NULL && ret != 0)
			fail_msg("%s: refused: %s", c->name, sbuf_str(why));
		if (c->reason != NULL && (ret != -1 ||
		    strstr(sbuf_str(why), c->reason) == NULL))
			fail_msg("%s: got %d \"%s\", expected \"%s\"",
			    c->name, ret, sbuf_str(why), c->reason);
	}
	sbuf_free(&why);
}

/* The identity of the test process, to read as. */
static void
self_ident(struct local_ident *id)
{
	struct passwd *pw = getpwuid(getuid());

	assert_non_null(pw);
	local_ident_from_pw(id, pw);
}

static enum local_userfile_status
read_as_self(const char *path, struct sbuf *text, struct sbuf *why)
{
	struct local_ident self;
	enum local_userfile_status st;

	self_ident(&self);
	st = local_userfile_read(path, &self, text, why);
	local_ident_clear(&self);
	return st;
}

static void
test_read(void **state)
{
	char *dir = test_tmpdir(), *path, *link;
	struct sbuf *text = sbuf_new(), *why = sbuf_new();
	struct sbuf *p = sbuf_new();

	(void)state;
	path = test_write_text(dir, "forward", "alice, |cmd\n");
	chmod(path, 0644);
	assert_int_equal(read_as_self(path, text, why), LOCAL_USERFILE_FOUND);
	assert_string_equal(sbuf_str(text), "alice, |cmd\n");

	sbuf_setf(p, "%s/missing", dir);
	assert_int_equal(read_as_self(sbuf_str(p), text, why),
	    LOCAL_USERFILE_ABSENT);

	chmod(path, 0664);
	assert_int_equal(read_as_self(path, text, why),
	    LOCAL_USERFILE_UNSAFE);
	assert_non_null(strstr(sbuf_str(why), "writable by its group"));
	chmod(path, 0644);

	sbuf_setf(p, "%s/link", dir);
	link = xstrdup(sbuf_str(p));
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(read_as_self(link, text, why),
	    LOCAL_USERFILE_UNSAFE);
	assert_non_null(strstr(sbuf_str(why), "symbolic link"));

	sbuf_setf(p, "%s/fifo", dir);
	assert_int_equal(mkfifo(sbuf_str(p), 0600), 0);
	assert_int_equal(read_as_self(sbuf_str(p), text, why),
	    LOCAL_USERFILE_UNSAFE);
	assert_non_null(strstr(sbuf_str(why), "not a regular file"));

	free(link);
	free(path);
	sbuf_free(&text);
	sbuf_free(&why);
	sbuf_free(&p);
	test_rmtree(&dir);
}

static void
test_read_refusals(void **state)
{
	char *dir = test_tmpdir(), *path, *big;
	struct sbuf *text = sbuf_new(), *why = sbuf_new();

	(void)state;
	big = xmalloc(LOCAL_USERFILE_MAX + 2);
	memset(big, 'a', LOCAL_USERFILE_MAX + 1);
	big[LOCAL_USERFILE_MAX + 1] = '\0';
	path = test_write_text(dir, "big", big);
	chmod(path, 0644);
	assert_int_equal(read_as_self(path, text, why), LOCAL_USERFILE_ERROR);
	assert_non_null(strstr(sbuf_str(why), "larger than"));
	free(path);

	path = test_write_file(dir, "nul", "a\0b", 3);
	chmod(path, 0644);
	assert_int_equal(read_as_self(path, text, why), LOCAL_USERFILE_ERROR);
	assert_non_null(strstr(sbuf_str(why), "NUL"));
	free(path);
	free(big);
	sbuf_free(&text);
	sbuf_free(&why);
	test_rmtree(&dir);
}

/* As root, the child becomes the user and reads with that user's rights. */
static void
test_read_as_other_user(void **state)
{
	char *dir, *path;
	struct passwd *pw;
	struct local_ident nobody;
	struct sbuf *text = sbuf_new(), *why = sbuf_new();

	(void)state;
	if (getuid() != 0 || (pw = getpwnam("nobody")) == NULL) {
		sbuf_free(&text);
		sbuf_free(&why);
		skip();
	}
	dir = test_tmpdir();
	chmod(dir, 0755);
	local_ident_from_pw(&nobody, pw);
	path = test_write_text(dir, "secret", "root only\n");
	chmod(path, 0600);
	/* Owned by root, so trusted, but nobody cannot read it. */
	assert_int_equal(local_userfile_read(path, &nobody, text, why),
	    LOCAL_USERFILE_ERROR);
	assert_non_null(strstr(sbuf_str(why), "Permission denied"));
	chmod(path, 0644);
	assert_int_equal(local_userfile_read(path, &nobody, text, why),
	    LOCAL_USERFILE_FOUND);
	local_ident_clear(&nobody);
	free(path);
	sbuf_free(&text);
	sbuf_free(&why);
	test_rmtree(&dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_table),
		cmocka_unit_test(test_read),
		cmocka_unit_test(test_read_refusals),
		cmocka_unit_test(test_read_as_other_user),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
