/*
 * test_safe_file - atomic replacement, bounded reads, error reasons
 */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/safe_file.h"
#include "util/sbuf.h"
#include "util/xmalloc.h"

/* Counts directory entries other than . and .. */
static int
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void
test_write_replace_read(void **state)
{
	char *dir = test_tmpdir();
	struct sbuf *path = sbuf_new(), *why = sbuf_new(), *data = sbuf_new();
	struct stat st;

	sbuf_printf(path, "%s/file", dir);
	assert_int_equal(safe_file_write(sbuf_str(path), "old\0x", 5, 0640,
	    why), 0);
	assert_int_equal(safe_file_write(sbuf_str(path), "new", 3, 0600,
	    why), 0);
	assert_int_equal(safe_file_read(sbuf_str(path), 100, data, why), 0);
	assert_int_equal(sbuf_len(data), 3);
	assert_string_equal(sbuf_str(data), "new");
	assert_int_equal(stat(sbuf_str(path), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	/* No temporary file is left behind. */
	assert_int_equal(count_entries(dir), 1);
	sbuf_free(&path);
	sbuf_free(&why);
	sbuf_free(&data);
	test_rmtree(&dir);
}

static void
test_read_limit(void **state)
{
	char *dir = test_tmpdir();
	char *path = test_write_text(dir, "big", "0123456789");
	struct sbuf *why = sbuf_new(), *data = sbuf_new();

	assert_int_equal(safe_file_read(path, 10, data, why), 0);
	assert_int_equal(safe_file_read(path, 9, data, why), -1);
	assert_int_equal(errno, EFBIG);
	assert_non_null(strstr(sbuf_str(why), path));
	free(path);
	sbuf_free(&why);
	sbuf_free(&data);
	test_rmtree(&dir);
}

static void
test_errors_name_the_file(void **state)
{
	struct sbuf *why = sbuf_new(), *data = sbuf_new();

	assert_int_equal(safe_file_read("/nonexistent/postern/x", 10, data,
	    why), -1);
	assert_non_null(strstr(sbuf_str(why), "/nonexistent/postern/x"));
	assert_int_equal(safe_file_write("/nonexistent/postern/y", "a", 1,
	    0644, why), -1);
	assert_non_null(strstr(sbuf_str(why), "/nonexistent/postern/y"));
	sbuf_free(&why);
	sbuf_free(&data);
}

static void
test_abort_leaves_old(void **state)
{
	char *dir = test_tmpdir();
	char *path = test_write_text(dir, "keep", "original");
	struct sbuf *why = sbuf_new(), *data = sbuf_new();
	struct atomic_file *af = atomic_file_open(path, 0644, why);

	assert_non_null(af);
	assert_int_equal(safe_write_all(af->fd, "partial", 7), 0);
	assert_int_equal(count_entries(dir), 2);
	atomic_file_abort(&af);
	assert_null(af);
	assert_int_equal(count_entries(dir), 1);
	assert_int_equal(safe_file_read(path, 100, data, why), 0);
	assert_string_equal(sbuf_str(data), "original");
	free(path);
	sbuf_free(&why);
	sbuf_free(&data);
	test_rmtree(&dir);
}

static void
test_commit_to_missing_dir_fails(void **state)
{
	char *dir = test_tmpdir();
	struct sbuf *path = sbuf_new(), *why = sbuf_new();
	struct atomic_file *af;

	sbuf_printf(path, "%s/sub/file", dir);
	af = atomic_file_open(sbuf_str(path), 0644, why);
	assert_null(af);
	assert_non_null(strstr(sbuf_str(why), "sub/file"));
	sbuf_free(&path);
	sbuf_free(&why);
	test_rmtree(&dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_replace_read),
		cmocka_unit_test(test_read_limit),
		cmocka_unit_test(test_errors_name_the_file),
		cmocka_unit_test(test_abort_leaves_old),
		cmocka_unit_test(test_commit_to_missing_dir_fails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
