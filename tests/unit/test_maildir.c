/*
 * test_maildir - Maildir delivery: layout, names, exact bytes, refusals
 */
#include "testutil.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <pwd.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "maildir.h"
#include "util/safe_file.h"
#include "util/sbuf.h"
#include "util/xmalloc.h"

#define PREFIX	"Return-Path: <alice@example.org>\n" \
		"Delivered-To: bob@example.org\n"
#define BODY	"Subject: hi\n\nFrom here on\n>From there\n"

/* Fails the test, naming the table row, unless cond holds. */
#define ROW_CHECK(name, cond) do {					\
	if (!(cond))							\
		fail_msg("%s: failed: %s", (name), #cond);		\
} while (0)

/* len bytes of numbered text lines, malloc'ed. */
static char *
big_content(size_t len)
{
	char *p = xmalloc(len);

	for (size_t i = 0; i < len; i++)
		p[i] = i % 61 == 60 ? '\n' : (char)('a' + i % 26);
	return p;
}

/* dir/rel, malloc'ed. */
static char *
path_in(const char *dir, const char *rel)
{
	struct sbuf *p = sbuf_new();
	char *s;

	sbuf_printf(p, "%s/%s", dir, rel);
	s = sbuf_steal(p);
	sbuf_free(&p);
	return s;
}

static void
make_dir(const char *dir, const char *rel, mode_t mode)
{
	char *p = path_in(dir, rel);

	assert_int_equal(mkdir(p, mode), 0);
	free(p);
}

/* Makes dir/rel a symbolic link to dir/target. */
static void
make_link(const char *dir, const char *target, const char *rel)
{
	char *t = path_in(dir, target), *p = path_in(dir, rel);

	assert_int_equal(symlink(t, p), 0);
	free(t);
	free(p);
}

static void
make_maildir(const char *dir, const char *rel)
{
	struct sbuf *p = sbuf_new();

	make_dir(dir, rel, 0700);
	sbuf_printf(p, "%s/tmp", rel);
	make_dir(dir, sbuf_str(p), 0700);
	sbuf_setf(p, "%s/new", rel);
	make_dir(dir, sbuf_str(p), 0700);
	sbuf_setf(p, "%s/cur", rel);
	make_dir(dir, sbuf_str(p), 0700);
	sbuf_free(&p);
}

/* Entries of dir/rel other than . and .., or -1 when it cannot be read. */
static int
count_entries(const char *dir, const char *rel)
{
	char *p = path_in(dir, rel);
	int n = test_count_entries(p);

	free(p);
	return n;
}

static int files_seen;

static int
count_file(const char *path, const struct stat *st, int type,
    struct FTW *ftw)
{
	if (type == FTW_F)
		files_seen++;
	return 0;
}

/* Regular files anywhere under dir, symbolic links not followed. */
static int
count_files(const char *dir)
{
	files_seen = 0;
	assert_int_equal(nftw(dir, count_file, 16, FTW_PHYS), 0);
	return files_seen;
}

/* Fails unless the file at path holds exactly len bytes of want. */
static void
assert_file_is(const char *path, const char *want, size_t len)
{
	struct sbuf *data = sbuf_new(), *why = sbuf_new();

	if (safe_file_read(path, SIZE_MAX, data, why) < 0)
		fail_msg("%s", sbuf_str(why));
	assert_int_equal(sbuf_len(data), len);
	assert_memory_equal(sbuf_str(data), want, len);
	sbuf_free(&data);
	sbuf_free(&why);
}

/* Delivers prefix + content to dir/rel and fails the test unless it works. */
static void
deliver_ok(const char *dir, const char *rel, const char *prefix,
    const char *content, size_t len, struct maildir_result *res)
{
	char *md = path_in(dir, rel);
	struct sbuf *why = sbuf_new();
	struct test_src s = test_src_text(content, len);

	if (maildir_deliver(md, prefix, test_src_read, &s, res, why) != 0)
		fail_msg("delivery to %s failed: %s", md, sbuf_str(why));
	assert_int_equal(res->status, MAILDIR_OK);
	assert_int_equal(res->error, 0);
	assert_non_null(res->path);
	free(md);
	sbuf_free(&why);
}

/* Base name of a path. */
static const char *
base_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash == NULL ? path : slash + 1;
}

static struct timespec
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts;
}

static void
test_creates_tree(void **state)
{
	static const char *const subs[] = { "Maildir/tmp", "Maildir/new",
	    "Maildir/cur" };
	char *dir = test_tmpdir(), *want;
	struct maildir_result res;
	struct stat st;

	umask(022);
	deliver_ok(dir, "Maildir/", PREFIX, BODY, strlen(BODY), &res);
	for (size_t i = 0; i < 3; i++) {
		char *p = path_in(dir, subs[i]);

		assert_int_equal(lstat(p, &st), 0);
		assert_true(S_ISDIR(st.st_mode));
		assert_int_equal(st.st_mode & 07777, 0700);
		free(p);
	}
	assert_int_equal(count_entries(dir, "Maildir/tmp"), 0);
	assert_int_equal(count_entries(dir, "Maildir/cur"), 0);
	assert_int_equal(count_entries(dir, "Maildir/new"), 1);
	want = path_in(dir, "Maildir/new/");
	assert_int_equal(strncmp(res.path, want, strlen(want)), 0);
	assert_non_null(strchr(base_of(res.path), ','));
	assert_int_equal(lstat(res.path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_file_is(res.path, PREFIX BODY, strlen(PREFIX BODY));
	maildir_result_clear(&res);
	assert_null(res.path);
	free(want);
	test_rmtree(&dir);
}

/* The parts of a delivered file's name. */
struct name_parts {
	long long secs, usec, pid, count, size;
	char *host;
};

static long long
name_field(const char *name, regmatch_t m)
{
	char *s = xstrndup(name + m.rm_so, (size_t)(m.rm_eo - m.rm_so));
	long long v = strtoll(s, NULL, 10);

	free(s);
	return v;
}

/* Splits a new/ file name, failing the test when it is malformed. */
static struct name_parts
parse_name(const char *name)
{
	struct name_parts np;
	regmatch_t m[7];
	regex_t re;

	assert_int_equal(regcomp(&re, "^([0-9]+)\\.M([0-9]+)P([0-9]+)"
	    "Q([0-9]+)\\.(.*),S=([0-9]+)$", REG_EXTENDED), 0);
	if (regexec(&re, name, 7, m, 0) != 0)
		fail_msg("malformed maildir name %s", name);
	regfree(&re);
	np.secs = name_field(name, m[1]);
	np.usec = name_field(name, m[2]);
	np.pid = name_field(name, m[3]);
	np.count = name_field(name, m[4]);
	np.host = xstrndup(name + m[5].rm_so,
	    (size_t)(m[5].rm_eo - m[5].rm_so));
	np.size = name_field(name, m[6]);
	return np;
}

/* This host's name as it appears in maildir names, malloc'ed. */
static char *
escaped_hostname(void)
{
	char host[256];
	struct sbuf *sb = sbuf_new();
	char *s;

	assert_int_equal(gethostname(host, sizeof(host)), 0);
	host[sizeof(host) - 1] = '\0';
	maildir_hostname_escape(host, sb);
	s = sbuf_steal(sb);
	sbuf_free(&sb);
	return s;
}

struct bytes_row {
	const char *name;
	const char *prefix;
	const char *content;	/* NULL: big_content(len) */
	size_t len;
	size_t chunk;		/* most bytes per read; 0: no limit */
};

static const struct bytes_row bytes_rows[] = {
	{ "headers and body", PREFIX, BODY, sizeof(BODY) - 1, 0 },
	{ "no prefix", NULL, BODY, sizeof(BODY) - 1, 0 },
	{ "empty message", NULL, "", 0, 0 },
	{ "prefix only", PREFIX, "", 0, 0 },
	{ "NUL and CR bytes", PREFIX, "a\0b\r\nc\n", 7, 0 },
	{ "no final newline", PREFIX, "body", 4, 0 },
	{ "one byte per read", PREFIX, BODY, sizeof(BODY) - 1, 1 },
	{ "several chunks", PREFIX, NULL, 300000, 0 },
};

static void
test_bytes_and_name(void **state)
{
	char *dir = test_tmpdir(), *host = escaped_hostname();

	for (size_t i = 0; i < sizeof(bytes_rows) / sizeof(bytes_rows[0]);
	    i++) {
		const struct bytes_row *row = &bytes_rows[i];
		char *big = row->content == NULL ? big_content(row->len) :
		    NULL;
		const char *content = big != NULL ? big : row->content;
		size_t plen = row->prefix == NULL ? 0 : strlen(row->prefix);
		struct sbuf *rel = sbuf_new(), *want = sbuf_new();
		struct sbuf *why = sbuf_new();
		struct test_src s = test_src_text(content, row->len);
		struct maildir_result res;
		struct timespec t0, t1;
		struct name_parts np;
		struct stat st;
		char *md;

		s.chunk = row->chunk;
		sbuf_printf(rel, "Maildir%zu", i);
		md = path_in(dir, sbuf_str(rel));
		t0 = now();
		if (maildir_deliver(md, row->prefix, test_src_read, &s, &res,
		    why) != 0)
			fail_msg("%s: %s", row->name, sbuf_str(why));
		t1 = now();
		ROW_CHECK(row->name, res.status == MAILDIR_OK);
		sbuf_catn(want, row->prefix == NULL ? "" : row->prefix, plen);
		sbuf_catn(want, content, row->len);
		assert_file_is(res.path, sbuf_str(want), sbuf_len(want));
		assert_int_equal(stat(res.path, &st), 0);
		ROW_CHECK(row->name, res.size == st.st_size);
		ROW_CHECK(row->name, st.st_size == (off_t)sbuf_len(want));

		np = parse_name(base_of(res.path));
		ROW_CHECK(row->name, np.secs >= t0.tv_sec &&
		    np.secs <= t1.tv_sec);
		ROW_CHECK(row->name, np.usec >= 0 && np.usec <= 999999);
		ROW_CHECK(row->name, np.pid == getpid());
		ROW_CHECK(row->name, np.count > 0);
		ROW_CHECK(row->name, strcmp(np.host, host) == 0);
		ROW_CHECK(row->name, np.size == st.st_size);
		ROW_CHECK(row->name, count_entries(md, "tmp") == 0);
		ROW_CHECK(row->name, count_entries(md, "new") == 1);

		free(np.host);
		maildir_result_clear(&res);
		free(md);
		free(big);
		sbuf_free(&rel);
		sbuf_free(&want);
		sbuf_free(&why);
	}
	free(host);
	test_rmtree(&dir);
}

static void
test_hostname_escape(void **state)
{
	static const struct {
		const char *name, *host, *want;
	} rows[] = {
		{ "plain", "mx.example.org", "mx.example.org" },
		{ "slash", "a/b", "a\\057b" },
		{ "colon", "a:b", "a\\072b" },
		{ "repeated", "//::", "\\057\\057\\072\\072" },
		{ "backslash kept", "a\\b", "a\\b" },
		{ "empty", "", "" },
	};
	struct sbuf *out = sbuf_new();

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		sbuf_set(out, "x");
		maildir_hostname_escape(rows[i].host, out);
		if (strcmp(sbuf_str(out), "x") < 0 ||
		    strcmp(sbuf_str(out) + 1, rows[i].want) != 0)
			fail_msg("%s: got \"%s\", want \"x%s\"", rows[i].name,
			    sbuf_str(out), rows[i].want);
	}
	sbuf_free(&out);
}

#define SAME_SECOND_RUNS 20

/*
 * Many deliveries in a row: by pigeonhole at least two share a second
 * unless the run takes over SAME_SECOND_RUNS - 1 seconds; all names differ.
 */
static void
test_same_second_unique(void **state)
{
	char *dir = test_tmpdir();
	char *names[SAME_SECOND_RUNS];
	struct name_parts np[SAME_SECOND_RUNS];
	bool shared = false, usec_varies = false;

	for (int i = 0; i < SAME_SECOND_RUNS; i++) {
		struct maildir_result res;

		deliver_ok(dir, "Maildir", PREFIX, BODY, strlen(BODY), &res);
		names[i] = xstrdup(base_of(res.path));
		np[i] = parse_name(names[i]);
		maildir_result_clear(&res);
	}
	for (int i = 0; i < SAME_SECOND_RUNS; i++) {
		for (int j = 0; j < i; j++) {
			assert_string_not_equal(names[i], names[j]);
			if (np[i].secs == np[j].secs)
				shared = true;
			if (np[i].usec != np[j].usec)
				usec_varies = true;
		}
		if (i > 0)
			assert_true(np[i].count > np[i - 1].count);
	}
	assert_true(shared);
	assert_true(usec_varies);
	assert_int_equal(count_entries(dir, "Maildir/new"), SAME_SECOND_RUNS);
	assert_int_equal(count_entries(dir, "Maildir/tmp"), 0);
	for (int i = 0; i < SAME_SECOND_RUNS; i++) {
		free(names[i]);
		free(np[i].host);
	}
	test_rmtree(&dir);
}

/*
 * Reads like test_src_read(), but first plants a file in new/ at the name the
 * message in tmp/ will be given.
 */
struct collide {
	struct test_src src;
	const char *maildir;
	off_t size;		/* the delivered file's size */
	char *planted;		/* its path in new/ */
};

static ssize_t
collide_read(void *ctx, char *buf, size_t len)
{
	struct collide *c = ctx;
	char *tmp, *new;
	struct sbuf *name;
	struct dirent *e;
	DIR *d;

	if (c->planted != NULL)
		return test_src_read(&c->src, buf, len);
	tmp = path_in(c->maildir, "tmp");
	new = path_in(c->maildir, "new");
	name = sbuf_new();
	d = opendir(tmp);
	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			sbuf_printf(name, "%s,S=%lld", e->d_name,
			    (long long)c->size);
	closedir(d);
	c->planted = test_write_text(new, sbuf_str(name), "planted\n");
	free(tmp);
	free(new);
	sbuf_free(&name);
	return test_src_read(&c->src, buf, len);
}

/* A name taken in new/ is never replaced: delivery takes another. */
static void
test_name_taken_in_new(void **state)
{
	char *dir = test_tmpdir(), *md = path_in(dir, "Maildir");
	struct sbuf *why = sbuf_new();
	struct collide c = { .src = test_src_text(BODY, strlen(BODY)),
	    .maildir = md, .size = (off_t)strlen(PREFIX BODY) };
	struct maildir_result res;

	make_maildir(dir, "Maildir");
	if (maildir_deliver(md, PREFIX, collide_read, &c, &res, why) != 0)
		fail_msg("%s", sbuf_str(why));
	assert_non_null(c.planted);
	assert_string_not_equal(res.path, c.planted);
	assert_file_is(c.planted, "planted\n", 8);
	assert_file_is(res.path, PREFIX BODY, strlen(PREFIX BODY));
	assert_int_equal(count_entries(md, "new"), 2);
	assert_int_equal(count_entries(md, "tmp"), 0);
	maildir_result_clear(&res);
	free(c.planted);
	free(md);
	sbuf_free(&why);
	test_rmtree(&dir);
}

/* A complete maildir "outside" and, at Maildir/sub, a link to its sub. */
static void
setup_sub_link(const char *dir, const char *sub)
{
	static const char *const subs[] = { "tmp", "new", "cur" };
	struct sbuf *a = sbuf_new(), *b = sbuf_new();

	make_maildir(dir, "outside");
	make_dir(dir, "Maildir", 0700);
	for (size_t i = 0; i < 3; i++) {
		sbuf_setf(a, "Maildir/%s", subs[i]);
		sbuf_setf(b, "outside/%s", subs[i]);
		if (strcmp(subs[i], sub) == 0)
			make_link(dir, sbuf_str(b), sbuf_str(a));
		else
			make_dir(dir, sbuf_str(a), 0700);
	}
	sbuf_free(&a);
	sbuf_free(&b);
}

static void
setup_top_link(const char *dir)
{
	make_maildir(dir, "outside");
	make_link(dir, "outside", "Maildir");
}

static void
setup_tmp_link(const char *dir)
{
	setup_sub_link(dir, "tmp");
}

static void
setup_new_link(const char *dir)
{
	setup_sub_link(dir, "new");
}

static void
setup_cur_link(const char *dir)
{
	setup_sub_link(dir, "cur");
}

static void
setup_dangling_link(const char *dir)
{
	make_link(dir, "nowhere", "Maildir");
}

static void
setup_file_top(const char *dir)
{
	free(test_write_text(dir, "Maildir", "not a maildir\n"));
}

static void
setup_file_new(const char *dir)
{
	make_dir(dir, "Maildir", 0700);
	make_dir(dir, "Maildir/tmp", 0700);
	make_dir(dir, "Maildir/cur", 0700);
	free(test_write_text(dir, "Maildir/new", "not a directory\n"));
}

static void
setup_file_parent(const char *dir)
{
	free(test_write_text(dir, "file", "x\n"));
}

static void
setup_nothing(const char *dir)
{
}

struct layout_row {
	const char *name;
	void (*setup)(const char *dir);
	const char *maildir;	/* relative to the test directory */
	enum maildir_status status;
	int error;
	const char *reason;	/* in why */
};

static const struct layout_row layout_rows[] = {
	{ "maildir is a symlink to a maildir", setup_top_link, "Maildir",
	    MAILDIR_PERM, ELOOP, "Maildir is a symbolic link" },
	{ "maildir/ is a symlink (trailing slash)", setup_top_link,
	    "Maildir/", MAILDIR_PERM, ELOOP, "symbolic link" },
	{ "tmp is a symlink", setup_tmp_link, "Maildir", MAILDIR_PERM, ELOOP,
	    "Maildir/tmp is a symbolic link" },
	{ "new is a symlink", setup_new_link, "Maildir", MAILDIR_PERM, ELOOP,
	    "Maildir/new is a symbolic link" },
	{ "cur is a symlink", setup_cur_link, "Maildir", MAILDIR_PERM, ELOOP,
	    "Maildir/cur is a symbolic link" },
	{ "dangling symlink as maildir", setup_dangling_link, "Maildir",
	    MAILDIR_PERM, ELOOP, "symbolic link" },
	{ "file at the maildir's name", setup_file_top, "Maildir",
	    MAILDIR_PERM, ENOTDIR, "Maildir" },
	{ "file at new", setup_file_new, "Maildir", MAILDIR_PERM, ENOTDIR,
	    "Maildir/new" },
	{ "parent is a file", setup_file_parent, "file/Maildir", MAILDIR_PERM,
	    ENOTDIR, "file" },
	{ "parent missing", setup_nothing, "absent/Maildir", MAILDIR_TEMP,
	    ENOENT, "absent" },
	{ "empty path", setup_nothing, NULL, MAILDIR_PERM, EINVAL,
	    "invalid maildir path" },
};

/*
 * Each hostile layout fails with its class, and no file appears anywhere:
 * not in the maildir, not where a planted link points.
 */
static void
test_hostile_layouts(void **state)
{
	for (size_t i = 0; i < sizeof(layout_rows) / sizeof(layout_rows[0]);
	    i++) {
		const struct layout_row *row = &layout_rows[i];
		char *dir = test_tmpdir(), *md, *nowhere;
		struct sbuf *why = sbuf_new();
		struct test_src s = test_src_text(BODY, strlen(BODY));
		struct maildir_result res;
		struct stat st;
		int files;

		row->setup(dir);
		files = count_files(dir);
		md = row->maildir == NULL ? xstrdup("") :
		    path_in(dir, row->maildir);
		ROW_CHECK(row->name, maildir_deliver(md, PREFIX, test_src_read, &s,
		    &res, why) == -1);
		ROW_CHECK(row->name, res.status == row->status);
		if (res.error != row->error)
			fail_msg("%s: error %s, want %s", row->name,
			    strerror(res.error), strerror(row->error));
		ROW_CHECK(row->name, res.path == NULL);
		if (strstr(sbuf_str(why), row->reason) == NULL)
			fail_msg("%s: reason \"%s\" lacks \"%s\"", row->name,
			    sbuf_str(why), row->reason);
		ROW_CHECK(row->name, count_files(dir) == files);
		nowhere = path_in(dir, "nowhere");
		ROW_CHECK(row->name, lstat(nowhere, &st) == -1);
		free(nowhere);
		free(md);
		sbuf_free(&why);
		test_rmtree(&dir);
	}
}

/* A reader failing at any point leaves nothing in tmp/ or new/. */
static void
test_reader_fails(void **state)
{
	static const size_t fail_at[] = { 0, 1000, 65536, 150000 };
	char *dir = test_tmpdir(), *big = big_content(300000);
	char *md = path_in(dir, "Maildir");
	struct sbuf *why = sbuf_new();

	for (size_t i = 0; i < sizeof(fail_at) / sizeof(fail_at[0]); i++) {
		struct test_src s = test_src_text(big, 300000);
		struct maildir_result res;

		s.fail_at = fail_at[i];
		if (maildir_deliver(md, PREFIX, test_src_read, &s, &res, why) !=
		    -1 || res.status != MAILDIR_TEMP || res.error != EIO ||
		    res.path != NULL ||
		    strstr(sbuf_str(why), "read message content") == NULL)
			fail_msg("fail at %zu: status %d, %s", fail_at[i],
			    res.status, sbuf_str(why));
		if (count_entries(dir, "Maildir/tmp") != 0 ||
		    count_entries(dir, "Maildir/new") != 0 ||
		    count_files(dir) != 0)
			fail_msg("fail at %zu: a file was left", fail_at[i]);
	}
	free(md);
	free(big);
	sbuf_free(&why);
	test_rmtree(&dir);
}

/* When root, goes on as nobody (owning dir), so permissions apply. */
static void
become_unprivileged(const char *dir)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return;
	pw = getpwnam("nobody");
	assert_non_null(pw);
	assert_int_equal(chown(dir, pw->pw_uid, pw->pw_gid), 0);
	assert_int_equal(setegid(pw->pw_gid), 0);
	assert_int_equal(seteuid(pw->pw_uid), 0);
}

/* Undoes become_unprivileged(). */
static void
become_root_again(void)
{
	if (getuid() == 0 && geteuid() != 0) {
		assert_int_equal(seteuid(0), 0);
		assert_int_equal(setegid(0), 0);
	}
}

/* A new/ we may not write in: permanent, and tmp/ is cleaned. */
static void
test_unwritable_new(void **state)
{
	char *dir = test_tmpdir(), *md, *new;
	struct sbuf *why = sbuf_new();
	struct test_src s = test_src_text(BODY, strlen(BODY));
	struct maildir_result res;

	become_unprivileged(dir);
	make_maildir(dir, "Maildir");
	new = path_in(dir, "Maildir/new");
	assert_int_equal(chmod(new, 0500), 0);
	md = path_in(dir, "Maildir");
	assert_int_equal(maildir_deliver(md, PREFIX, test_src_read, &s, &res,
	    why), -1);
	assert_int_equal(res.status, MAILDIR_PERM);
	assert_int_equal(res.error, EACCES);
	assert_non_null(strstr(sbuf_str(why), "Maildir/new/"));
	assert_int_equal(count_entries(dir, "Maildir/tmp"), 0);
	assert_int_equal(count_entries(dir, "Maildir/new"), 0);
	assert_int_equal(chmod(new, 0700), 0);
	become_root_again();
	free(md);
	free(new);
	sbuf_free(&why);
	test_rmtree(&dir);
}

/* Restores root (when a test failed as nobody), then reaps children. */
static int
teardown(void **state)
{
	if (getuid() == 0 && geteuid() != 0) {
		if (seteuid(0) < 0 || setegid(0) < 0)
			return -1;
	}
	return test_child_teardown(state);
}

#define TEST(f) cmocka_unit_test_setup_teardown(f, test_child_setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_creates_tree),
		TEST(test_bytes_and_name),
		TEST(test_hostname_escape),
		TEST(test_same_second_unique),
		TEST(test_name_taken_in_new),
		TEST(test_hostile_layouts),
		TEST(test_reader_fails),
		TEST(test_unwritable_new),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
