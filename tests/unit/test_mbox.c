/*
 * test_mbox - mbox delivery: exact bytes, quoting, locking, refusals
 */
#include "testutil.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mbox.h"
#include "util/safe_file.h"
#include "util/sbuf.h"
#include "util/xmalloc.h"

#define SENDER	"alice@example.org"
#define ARRIVAL	((time_t)1700000000)
#define FROM_LINE "From alice@example.org Tue Nov 14 22:13:20 2023\n"
#define PREFIX	"Return-Path: <alice@example.org>\n" \
		"Delivered-To: bob@example.org\n"
#define BODY	"Subject: hi\n\nbody\n"
#define MESSAGE	FROM_LINE PREFIX BODY "\n"
#define WAIT_MS	300		/* lock wait in tests that time out */
#define HOLD_MS	300		/* how long a child holds a lock it drops */

/* Fails the test, naming the table row, unless cond holds. */
#define ROW_CHECK(name, cond) do {					\
	if (!(cond))							\
		fail_msg("%s: failed: %s", (name), #cond);		\
} while (0)

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

/* The content of the file at path, or NULL when it cannot be read. */
static struct sbuf *
slurp(const char *path)
{
	struct sbuf *data = sbuf_new(), *why = sbuf_new();

	if (safe_file_read(path, SIZE_MAX, data, why) < 0)
		sbuf_free(&data);
	sbuf_free(&why);
	return data;
}

/* Fails unless the file at path holds exactly len bytes of want. */
static void
assert_file_is(const char *path, const char *want, size_t len)
{
	struct sbuf *data = slurp(path);

	if (data == NULL)
		fail_msg("cannot read %s", path);
	if (sbuf_len(data) != len || memcmp(sbuf_str(data), want, len) != 0)
		fail_msg("%s holds\n\"%.300s\" (%zu bytes), want\n\"%.300s\" "
		    "(%zu)",
		    path, sbuf_str(data), sbuf_len(data), want, len);
	sbuf_free(&data);
}

/* path.lock, malloc'ed. */
static char *
lock_of(const char *path)
{
	struct sbuf *p = sbuf_new();
	char *s;

	sbuf_printf(p, "%s.lock", path);
	s = sbuf_steal(p);
	sbuf_free(&p);
	return s;
}

/* True when nothing exists at path.lock. */
static bool
no_lock(const char *path)
{
	char *lock = lock_of(path);
	struct stat st;
	bool none;

	none = lstat(lock, &st) < 0 && errno == ENOENT;
	free(lock);
	return none;
}

static void
pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		continue;
}

/* Delivers BODY with PREFIX from SENDER at ARRIVAL; the status. */
static enum mbox_status
deliver_body(const char *path, struct sbuf *why)
{
	struct test_src s = test_src_text(BODY, strlen(BODY));

	return mbox_deliver(path, SENDER, ARRIVAL, PREFIX, test_src_read, &s, why);
}

struct from_row {
	const char *name;
	const char *sender;
	time_t arrival;
	const char *line;
};

static const struct from_row from_rows[] = {
	{ "sender", SENDER, ARRIVAL, FROM_LINE },
	{ "null sender", "", ARRIVAL,
	    "From MAILER-DAEMON Tue Nov 14 22:13:20 2023\n" },
	{ "no sender", NULL, ARRIVAL,
	    "From MAILER-DAEMON Tue Nov 14 22:13:20 2023\n" },
	{ "one-digit day", SENDER, 1000000000,
	    "From alice@example.org Sun Sep  9 01:46:40 2001\n" },
	{ "epoch", SENDER, 0,
	    "From alice@example.org Thu Jan  1 00:00:00 1970\n" },
	{ "spaces and controls in sender", "\"a b\"@x\n\tFrom y\x7f", ARRIVAL,
	    "From \"a_b\"@x__From_y_ Tue Nov 14 22:13:20 2023\n" },
	{ "eight-bit sender", "j\xc3\xb6rg@example.org", ARRIVAL,
	    "From j\xc3\xb6rg@example.org Tue Nov 14 22:13:20 2023\n" },
};

static void
test_from_line(void **state)
{
	char *dir = test_tmpdir();
	struct sbuf *why = sbuf_new(), *want = sbuf_new();

	for (size_t i = 0; i < sizeof(from_rows) / sizeof(from_rows[0]);
	    i++) {
		const struct from_row *row = &from_rows[i];
		struct test_src s = test_src_text("x\n", 2);
		struct sbuf *name = sbuf_new();
		char *path;

		sbuf_printf(name, "mbox%zu", i);
		path = path_in(dir, sbuf_str(name));
		if (mbox_deliver(path, row->sender, row->arrival, NULL,
		    test_src_read, &s, why) != MBOX_OK)
			fail_msg("%s: %s", row->name, sbuf_str(why));
		sbuf_setf(want, "%sx\n\n", row->line);
		assert_file_is(path, sbuf_str(want), sbuf_len(want));
		free(path);
		sbuf_free(&name);
	}
	sbuf_free(&why);
	sbuf_free(&want);
	test_rmtree(&dir);
}

/* A string literal and its length, NULs included. */
#define BYTES(s)	s, sizeof(s) - 1
#define QUOTES40	">>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>"

struct quote_row {
	const char *name;
	const char *content;
	size_t len;
	const char *want;	/* after the From_ line and PREFIX */
	size_t want_len;
};

static const struct quote_row quote_rows[] = {
	{ "From line", BYTES("From me\n"), BYTES(">From me\n\n") },
	{ "quoted From line", BYTES(">From x\n"), BYTES(">>From x\n\n") },
	{ "twice quoted", BYTES(">>From y\n"), BYTES(">>>From y\n\n") },
	{ "near misses", BYTES("Fromage\nFrom\n From x\n>Fro\n>\n>>\n"
	    "x From y\nfrom z\n"), BYTES("Fromage\nFrom\n From x\n>Fro\n>\n"
	    ">>\nx From y\nfrom z\n\n") },
	{ "From in the body", BYTES("a\nFrom b\nc\n>From d\n"),
	    BYTES("a\n>From b\nc\n>>From d\n\n") },
	{ "From at the end, no newline", BYTES("x\nFrom "),
	    BYTES("x\n>From \n\n") },
	{ "partial match at the end", BYTES("x\n>>Fr"), BYTES("x\n>>Fr\n\n") },
	{ "long quote run", BYTES(QUOTES40 "From z\n"),
	    BYTES(">" QUOTES40 "From z\n\n") },
	{ "long quote run, no From", BYTES(QUOTES40 "x\n"),
	    BYTES(QUOTES40 "x\n\n") },
	{ "CRLF line", BYTES("From a\r\n"), BYTES(">From a\r\n\n") },
	{ "NUL bytes", BYTES("From\0\nFrom \0\n"),
	    BYTES("From\0\n>From \0\n\n") },
	{ "empty content", BYTES(""), BYTES("\n") },
	{ "no final newline", BYTES("a"), BYTES("a\n\n") },
	{ "blank line at the end kept", BYTES("a\n\n"), BYTES("a\n\n\n") },
	{ "empty lines then From", BYTES("\n\nFrom q\n"),
	    BYTES("\n\n>From q\n\n") },
};

/* Each row read whole and in small chunks, so matches span reads. */
static void
test_quoting(void **state)
{
	static const size_t chunks[] = { 0, 1, 2, 3, 7 };
	char *dir = test_tmpdir(), *path = path_in(dir, "mbox");
	struct sbuf *why = sbuf_new(), *want = sbuf_new();

	for (size_t i = 0; i < sizeof(quote_rows) / sizeof(quote_rows[0]);
	    i++) {
		const struct quote_row *row = &quote_rows[i];

		for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]);
		    c++) {
			struct test_src s = test_src_text(row->content, row->len);
			struct sbuf *got;

			s.chunk = chunks[c];
			unlink(path);
			if (mbox_deliver(path, SENDER, ARRIVAL, PREFIX,
			    test_src_read, &s, why) != MBOX_OK)
				fail_msg("%s: %s", row->name, sbuf_str(why));
			sbuf_set(want, FROM_LINE PREFIX);
			sbuf_catn(want, row->want, row->want_len);
			got = slurp(path);
			ROW_CHECK(row->name, got != NULL);
			if (sbuf_len(got) != sbuf_len(want) ||
			    memcmp(sbuf_str(got), sbuf_str(want),
			    sbuf_len(want)) != 0)
				fail_msg("%s (chunk %zu): got \"%s\"",
				    row->name, chunks[c], sbuf_str(got));
			sbuf_free(&got);
		}
	}
	free(path);
	sbuf_free(&why);
	sbuf_free(&want);
	test_rmtree(&dir);
}

/* The mailbox's prefix headers are quoted like the content. */
static void
test_prefix_quoted(void **state)
{
	char *dir = test_tmpdir(), *path = path_in(dir, "mbox");
	struct sbuf *why = sbuf_new();
	struct test_src s = test_src_text("From b\n", 7);

	assert_int_equal(mbox_deliver(path, SENDER, ARRIVAL, "From a\nX: y\n",
	    test_src_read, &s, why), MBOX_OK);
	assert_file_is(path, BYTES(FROM_LINE ">From a\nX: y\n>From b\n\n"));
	free(path);
	sbuf_free(&why);
	test_rmtree(&dir);
}

struct append_row {
	const char *name;
	const char *existing;	/* NULL: no file */
	size_t len;
	const char *separator;	/* added before the new message */
};

static const struct append_row append_rows[] = {
	{ "no file", NULL, 0, "" },
	{ "empty file", BYTES(""), "" },
	{ "ends in a blank line", BYTES(MESSAGE), "" },
	{ "ends in a newline", BYTES("From x Thu Jan  1 00:00:00 1970\nold\n"),
	    "\n" },
	{ "no final newline", BYTES("old"), "\n\n" },
	{ "one byte", BYTES("x"), "\n\n" },
	{ "one newline", BYTES("\n"), "" },
};

static void
test_append(void **state)
{
	char *dir = test_tmpdir(), *path = path_in(dir, "mbox");
	struct sbuf *why = sbuf_new(), *want = sbuf_new();
	struct stat st;

	for (size_t i = 0; i < sizeof(append_rows) / sizeof(append_rows[0]);
	    i++) {
		const struct append_row *row = &append_rows[i];

		unlink(path);
		if (row->existing != NULL)
			free(test_write_file(dir, "mbox", row->existing,
			    row->len));
		if (deliver_body(path, why) != MBOX_OK)
			fail_msg("%s: %s", row->name, sbuf_str(why));
		sbuf_reset(want);
		if (row->existing != NULL)
			sbuf_catn(want, row->existing, row->len);
		sbuf_cat(want, row->separator);
		sbuf_cat(want, MESSAGE);
		assert_file_is(path, sbuf_str(want), sbuf_len(want));
		ROW_CHECK(row->name, no_lock(path));
		if (row->existing == NULL) {
			assert_int_equal(stat(path, &st), 0);
			ROW_CHECK(row->name, (st.st_mode & 07777) == 0600);
		}
	}
	/* Two deliveries in a row: two messages, one blank line apart. */
	unlink(path);
	assert_int_equal(deliver_body(path, why), MBOX_OK);
	assert_int_equal(deliver_body(path, why), MBOX_OK);
	assert_file_is(path, BYTES(MESSAGE MESSAGE));
	free(path);
	sbuf_free(&why);
	sbuf_free(&want);
	test_rmtree(&dir);
}

/* len bytes of text lines, some of them From_ lines, malloc'ed. */
static char *
big_content(size_t len)
{
	char *p = xmalloc(len);

	for (size_t i = 0; i < len; i++)
		p[i] = i % 61 == 60 ? '\n' : (char)('a' + i % 26);
	for (size_t i = 0; i + 61 < len; i += 61 * 7)
		memcpy(p + i, "From ", 5);
	return p;
}

/*
 * A reader failing anywhere, before or after buffered bytes reached the
 * file, leaves the mailbox byte for byte as it was.
 */
static void
test_reader_fails(void **state)
{
	static const size_t fail_at[] = { 0, 1000, 100000, 250000 };
	static const char *const old[] = { NULL, MESSAGE, "no newline" };
	char *dir = test_tmpdir(), *path = path_in(dir, "mbox");
	char *big = big_content(300000);
	struct sbuf *why = sbuf_new();

	for (size_t o = 0; o < sizeof(old) / sizeof(old[0]); o++) {
		for (size_t i = 0; i < sizeof(fail_at) / sizeof(fail_at[0]);
		    i++) {
			struct test_src s = test_src_text(big, 300000);
			enum mbox_status status;

			unlink(path);
			if (old[o] != NULL)
				free(test_write_text(dir, "mbox", old[o]));
			s.fail_at = fail_at[i];
			status = mbox_deliver(path, SENDER, ARRIVAL, PREFIX,
			    test_src_read, &s, why);
			if (status != MBOX_TEMP || strstr(sbuf_str(why),
			    "read message content") == NULL)
				fail_msg("old %zu, fail at %zu: status %d, %s",
				    o, fail_at[i], status, sbuf_str(why));
			assert_file_is(path, old[o] == NULL ? "" : old[o],
			    old[o] == NULL ? 0 : strlen(old[o]));
			assert_true(no_lock(path));
		}
	}
	free(big);
	free(path);
	sbuf_free(&why);
	test_rmtree(&dir);
}

static void
setup_symlink(const char *dir, const char *path)
{
	char *victim = path_in(dir, "victim");

	assert_int_equal(symlink(victim, path), 0);
	free(victim);
}

static void
setup_dangling(const char *dir, const char *path)
{
	char *nowhere = path_in(dir, "nowhere");

	assert_int_equal(symlink(nowhere, path), 0);
	free(nowhere);
}

static void
setup_hardlink(const char *dir, const char *path)
{
	char *victim = path_in(dir, "victim");

	assert_int_equal(link(victim, path), 0);
	free(victim);
}

static void
setup_directory(const char *dir, const char *path)
{
	assert_int_equal(mkdir(path, 0700), 0);
}

static void
setup_fifo(const char *dir, const char *path)
{
	assert_int_equal(mkfifo(path, 0600), 0);
}

static void
setup_socket(const char *dir, const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_true(strlen(path) < sizeof(sun.sun_path));
	memcpy(sun.sun_path, path, strlen(path) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
}

/* A mailbox owned by nobody (only root can make one). */
static void
setup_other_owner(const char *dir, const char *path)
{
	struct passwd *pw = getpwnam("nobody");

	assert_non_null(pw);
	free(test_write_text(dir, "mbox", "theirs\n"));
	assert_int_equal(chown(path, pw->pw_uid, pw->pw_gid), 0);
}

struct refuse_row {
	const char *name;
	void (*setup)(const char *dir, const char *path);
	bool needs_root;
	const char *reason;	/* in why */
};

static const struct refuse_row refuse_rows[] = {
	{ "symlink to a file", setup_symlink, false, "symbolic link" },
	{ "dangling symlink", setup_dangling, false, "symbolic link" },
	{ "hard link", setup_hardlink, false, "2 hard links" },
	{ "directory", setup_directory, false, "open" },
	{ "FIFO", setup_fifo, false, "not a regular file" },
	{ "socket", setup_socket, false, "open" },
	/* Only root can make it; skipped otherwise. */
	{ "another owner", setup_other_owner, true, "owned by uid" },
};

/*
 * Files an attacker may plant at the mailbox's name are refused for good,
 * before any lock is made, and nothing is written anywhere.
 */
static void
test_refused_files(void **state)
{
	for (size_t i = 0; i < sizeof(refuse_rows) / sizeof(refuse_rows[0]);
	    i++) {
		const struct refuse_row *row = &refuse_rows[i];
		char *dir = test_tmpdir(), *path = path_in(dir, "mbox");
		char *victim, *nowhere;
		struct sbuf *why = sbuf_new(), *before;
		enum mbox_status status;
		struct stat st;

		if (row->needs_root && geteuid() != 0) {
			free(path);
			sbuf_free(&why);
			test_rmtree(&dir);
			continue;
		}
		victim = test_write_text(dir, "victim", "keep\n");
		row->setup(dir, path);
		before = lstat(path, &st) == 0 && S_ISREG(st.st_mode) ?
		    slurp(path) : NULL;
		status = deliver_body(path, why);
		if (status != MBOX_PERM)
			fail_msg("%s: status %d, %s", row->name, status,
			    sbuf_str(why));
		if (strstr(sbuf_str(why), row->reason) == NULL)
			fail_msg("%s: reason \"%s\" lacks \"%s\"", row->name,
			    sbuf_str(why), row->reason);
		assert_file_is(victim, "keep\n", 5);
		if (before != NULL)
			assert_file_is(path, sbuf_str(before),
			    sbuf_len(before));
		ROW_CHECK(row->name, no_lock(path));
		nowhere = path_in(dir, "nowhere");
		ROW_CHECK(row->name, lstat(nowhere, &st) < 0);
		free(nowhere);
		free(victim);
		free(path);
		sbuf_free(&before);
		sbuf_free(&why);
		test_rmtree(&dir);
	}
}

/* An arrival time with no local time is refused before the file is made. */
static void
test_arrival_out_of_range(void **state)
{
	char *dir = test_tmpdir(), *path = path_in(dir, "mbox");
	struct sbuf *why = sbuf_new();
	struct test_src s = test_src_text(BODY, strlen(BODY));
	time_t huge = (time_t)(((unsigned long long)1 << 62));
	struct stat st;

	assert_int_equal(mbox_deliver(path, SENDER, huge, PREFIX, test_src_read,
	    &s, why), MBOX_PERM);
	assert_non_null(strstr(sbuf_str(why), "arrival time"));
	assert_int_equal(lstat(path, &st), -1);
	free(path);
	sbuf_free(&why);
	test_rmtree(&dir);
}

/*
 * Forks a child that takes an fcntl write lock on path and holds it until
 * *release_r is closed; returns once the lock is held.
 */
static void
fork_fcntl_holder(const char *path, int *release_r)
{
	int ready[2], release[2];
	char c;

	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(release), 0);
	test_child_pid = fork();
	assert_true(test_child_pid >= 0);
	if (test_child_pid == 0) {
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
		int fd = open(path, O_RDWR);

		close(ready[0]);
		close(release[1]);
		if (fd < 0 || fcntl(fd, F_SETLKW, &fl) < 0 ||
		    write(ready[1], "L", 1) != 1)
			_exit(1);
		while (read(release[0], &c, 1) > 0)
			continue;
		_exit(0);
	}
	close(ready[1]);
	close(release[0]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	*release_r = release[1];
}

/*
 * An fcntl lock held elsewhere: delivery waits the bounded time, fails
 * temporarily and changes nothing; once it is released, delivery works.
 */
static void
test_fcntl_lock_held(void **state)
{
	char *dir = test_tmpdir(), *path = test_write_text(dir, "mbox",
	    MESSAGE);
	struct sbuf *why = sbuf_new();
	struct timespec t0;
	long long waited;
	int release;

	mbox_set_lock_limits(WAIT_MS, MBOX_STALE_LOCK_S);
	fork_fcntl_holder(path, &release);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(deliver_body(path, why), MBOX_TEMP);
	waited = test_ms_since(&t0);
	assert_true(waited >= WAIT_MS);
	assert_true(waited < 10 * 1000);
	assert_non_null(strstr(sbuf_str(why), "locked"));
	assert_file_is(path, BYTES(MESSAGE));
	assert_true(no_lock(path));
	close(release);
	assert_int_equal(test_child_wait(), 0);
	assert_int_equal(deliver_body(path, why), MBOX_OK);
	assert_file_is(path, BYTES(MESSAGE MESSAGE));
	free(path);
	sbuf_free(&why);
	test_rmtree(&dir);
}

/* Writes path.lock, with its mtime age seconds in the past. */
static char *
make_lock(const char *path, time_t age)
{
	char *lock = lock_of(path);
	struct timespec times[2];
	int fd = open(lock, O_WRONLY | O_CREAT | O_EXCL, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "12345\n", 6), 6);
	assert_int_equal(close(fd), 0);
	clock_gettime(CLOCK_REALTIME, &times[0]);
	times[0].tv_sec -= age;
	times[1] = times[0];
	assert_int_equal(utimensat(AT_FDCWD, lock, times, 0), 0);
	return lock;
}

/*
 * Someone else's dotlock: waited for up to the limit, then a temporary
 * failure that leaves their lock alone; removed once older than the stale
 * age.
 */
static void
test_dotlock_age(void **state)
{
	static const struct {
		const char *name;
		time_t age;
		enum mbox_status status;
	} rows[] = {
		{ "fresh lock", 0, MBOX_TEMP },
		{ "younger than the stale age", 250, MBOX_TEMP },
		{ "stale lock", 400, MBOX_OK },
	};

	mbox_set_lock_limits(WAIT_MS, 300);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *dir = test_tmpdir(), *path = test_write_text(dir, "mbox",
		    MESSAGE);
		char *lock = make_lock(path, rows[i].age);
		struct sbuf *why = sbuf_new();
		enum mbox_status status;
		struct timespec t0;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		status = deliver_body(path, why);
		if (status != rows[i].status)
			fail_msg("%s: status %d, %s", rows[i].name, status,
			    sbuf_str(why));
		if (status == MBOX_OK) {
			assert_file_is(path, BYTES(MESSAGE MESSAGE));
			ROW_CHECK(rows[i].name, no_lock(path));
		} else {
			ROW_CHECK(rows[i].name, test_ms_since(&t0) >= WAIT_MS);
			ROW_CHECK(rows[i].name,
			    strstr(sbuf_str(why), "locked") != NULL);
			assert_file_is(path, BYTES(MESSAGE));
			assert_file_is(lock, "12345\n", 6);
		}
		free(lock);
		free(path);
		sbuf_free(&why);
		test_rmtree(&dir);
	}
}

/* Appends a line to path, as a mail program holding the lock might. */
static int
child_append(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND);

	if (fd < 0 || write(fd, "child was here\n", 15) != 15)
		return -1;
	return close(fd);
}

/* Replaces the file at path, as a mail reader rewriting it might. */
static int
child_replace(const char *path)
{
	struct sbuf *tmp = sbuf_new();
	int fd, ret = -1;

	sbuf_printf(tmp, "%s.new", path);
	fd = open(sbuf_str(tmp), O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd >= 0 && write(fd, "replacement\n", 12) == 12 &&
	    close(fd) == 0 && rename(sbuf_str(tmp), path) == 0)
		ret = 0;
	sbuf_free(&tmp);
	return ret;
}

/*
 * Waits up to 10 s until process pid has the file at path open (Linux
 * /proc); 0, or -1 when it never does.
 */
static int
wait_opened_by(pid_t pid, const char *path)
{
	struct sbuf *fds = sbuf_new(), *fd_path = sbuf_new();
	struct stat want, st;
	struct dirent *e;
	int ret = -1;
	DIR *d;

	sbuf_printf(fds, "/proc/%ld/fd", (long)pid);
	for (int i = 0; i < 1000 && ret < 0 && stat(path, &want) == 0; i++) {
		if ((d = opendir(sbuf_str(fds))) == NULL)
			break;
		while ((e = readdir(d)) != NULL && ret < 0) {
			sbuf_setf(fd_path, "%s/%s", sbuf_str(fds), e->d_name);
			if (stat(sbuf_str(fd_path), &st) == 0 &&
			    st.st_dev == want.st_dev &&
			    st.st_ino == want.st_ino)
				ret = 0;
		}
		closedir(d);
		if (ret < 0)
			pause_ms(10);
	}
	sbuf_free(&fds);
	sbuf_free(&fd_path);
	return ret;
}

/*
 * Forks a child that makes path.lock, waits until we have path open (so
 * our delivery is under way), and HOLD_MS later runs action on path,
 * removes the lock and exits; returns once the lock exists.
 */
static void
fork_dotlock_holder(const char *path, int (*action)(const char *path))
{
	int ready[2];
	char c;

	assert_int_equal(pipe(ready), 0);
	test_child_pid = fork();
	assert_true(test_child_pid >= 0);
	if (test_child_pid == 0) {
		char *lock = lock_of(path);
		int fd = open(lock, O_WRONLY | O_CREAT | O_EXCL, 0600);

		close(ready[0]);
		if (fd < 0 || close(fd) < 0 || write(ready[1], "L", 1) != 1)
			_exit(1);
		if (wait_opened_by(getppid(), path) < 0)
			_exit(2);
		pause_ms(HOLD_MS);
		if (action(path) < 0 || unlink(lock) < 0)
			_exit(3);
		_exit(0);
	}
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
}

/*
 * A dotlock another process holds for a while is waited for: its write
 * under the lock lands first, ours after.
 */
static void
test_dotlock_waited_for(void **state)
{
	char *dir = test_tmpdir(), *path = test_write_text(dir, "mbox", "");
	struct sbuf *why = sbuf_new();

	mbox_set_lock_limits(10 * 1000, MBOX_STALE_LOCK_S);
	fork_dotlock_holder(path, child_append);
	assert_int_equal(deliver_body(path, why), MBOX_OK);
	assert_int_equal(test_child_wait(), 0);
	assert_file_is(path, BYTES("child was here\n\n" MESSAGE));
	assert_true(no_lock(path));
	free(path);
	sbuf_free(&why);
	test_rmtree(&dir);
}

/*
 * A mailbox replaced while we wait for its lock is not written through
 * the stale descriptor: a temporary failure, the new file untouched.
 */
static void
test_replaced_while_waiting(void **state)
{
	char *dir = test_tmpdir(), *path = test_write_text(dir, "mbox",
	    MESSAGE);
	struct sbuf *why = sbuf_new();

	mbox_set_lock_limits(10 * 1000, MBOX_STALE_LOCK_S);
	fork_dotlock_holder(path, child_replace);
	assert_int_equal(deliver_body(path, why), MBOX_TEMP);
	assert_non_null(strstr(sbuf_str(why), "replaced"));
	assert_int_equal(test_child_wait(), 0);
	assert_file_is(path, BYTES("replacement\n"));
	assert_true(no_lock(path));
	free(path);
	sbuf_free(&why);
	test_rmtree(&dir);
}

/* What the reader saw of the locks while the message was written. */
struct probe {
	struct test_src src;
	const char *path;
	bool probed;
	bool dotlock_ours;	/* path.lock held our pid */
	int fcntl_seen;		/* child's status: 0 when it saw our lock */
};

static ssize_t
probe_read(void *ctx, char *buf, size_t len)
{
	struct probe *p = ctx;
	char *lock;
	struct sbuf *data, *want;

	if (p->probed)
		return test_src_read(&p->src, buf, len);
	p->probed = true;
	lock = lock_of(p->path);
	data = slurp(lock);
	want = sbuf_new();
	sbuf_printf(want, "%ld\n", (long)getpid());
	p->dotlock_ours = data != NULL &&
	    strcmp(sbuf_str(data), sbuf_str(want)) == 0;
	test_child_pid = fork();
	if (test_child_pid == 0) {
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
		int fd = open(p->path, O_RDWR);

		if (fd < 0 || fcntl(fd, F_GETLK, &fl) < 0)
			_exit(1);
		_exit(fl.l_type == F_WRLCK && fl.l_pid == getppid() &&
		    fl.l_start == 0 && fl.l_len == 0 ? 0 : 2);
	}
	p->fcntl_seen = test_child_pid < 0 ? -1 : test_child_wait();
	free(lock);
	sbuf_free(&data);
	sbuf_free(&want);
	return test_src_read(&p->src, buf, len);
}

/* Both locks are held while the content is written. */
static void
test_locks_held_while_writing(void **state)
{
	char *dir = test_tmpdir(), *path = path_in(dir, "mbox");
	struct sbuf *why = sbuf_new();
	struct probe p = { .src = test_src_text(BODY, strlen(BODY)), .path = path };

	assert_int_equal(mbox_deliver(path, SENDER, ARRIVAL, PREFIX,
	    probe_read, &p, why), MBOX_OK);
	assert_true(p.probed);
	assert_true(p.dotlock_ours);
	assert_int_equal(p.fcntl_seen, 0);
	assert_file_is(path, BYTES(MESSAGE));
	assert_true(no_lock(path));
	free(path);
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

/*
 * A directory we may not create the dotlock in (as /var/mail, mode 2775
 * root:mail, to a user outside group mail): delivered under the fcntl
 * lock alone. A dotlock someone else made there is still waited for.
 */
static void
test_unwritable_dir_skips_dotlock(void **state)
{
	char *dir = test_tmpdir(), *spool, *path, *lock;
	struct sbuf *why = sbuf_new();

	mbox_set_lock_limits(WAIT_MS, MBOX_STALE_LOCK_S);
	become_unprivileged(dir);
	spool = path_in(dir, "spool");
	assert_int_equal(mkdir(spool, 0700), 0);
	path = test_write_text(spool, "mbox", MESSAGE);
	assert_int_equal(chmod(spool, 0500), 0);
	if (deliver_body(path, why) != MBOX_OK)
		fail_msg("%s", sbuf_str(why));
	assert_file_is(path, BYTES(MESSAGE MESSAGE));
	assert_true(no_lock(path));

	assert_int_equal(chmod(spool, 0700), 0);
	lock = make_lock(path, 0);
	assert_int_equal(chmod(spool, 0500), 0);
	assert_int_equal(deliver_body(path, why), MBOX_TEMP);
	assert_non_null(strstr(sbuf_str(why), "locked"));
	assert_file_is(path, BYTES(MESSAGE MESSAGE));
	assert_file_is(lock, "12345\n", 6);

	assert_int_equal(chmod(spool, 0700), 0);
	become_root_again();
	free(lock);
	free(spool);
	free(path);
	sbuf_free(&why);
	test_rmtree(&dir);
}

static int
setup(void **state)
{
	mbox_set_lock_limits(5000, MBOX_STALE_LOCK_S);
	return test_child_setup(state);
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

#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_from_line),
		TEST(test_quoting),
		TEST(test_prefix_quoted),
		TEST(test_append),
		TEST(test_reader_fails),
		TEST(test_refused_files),
		TEST(test_arrival_out_of_range),
		TEST(test_fcntl_lock_held),
		TEST(test_dotlock_age),
		TEST(test_dotlock_waited_for),
		TEST(test_replaced_while_waiting),
		TEST(test_locks_held_while_writing),
		TEST(test_unwritable_dir_skips_dotlock),
	};

	/* From_ lines carry local time: make it UTC for exact bytes. */
	setenv("TZ", "UTC", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
