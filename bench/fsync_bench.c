/*
 * fsync-bench - how many durable file commits per second a disk allows
 *
 *	fsync-bench [-n count] [-s size] [-d dir] [-t threads[,threads...]]
 *
 * Each commit does what a mail server does to make one message durable:
 * create a file in tmp/, write size bytes, fsync it, close it, rename it
 * into new/ and fsync new/. For each thread count (default 1,4,16) the
 * threads share count commits (default 2000) in one fresh directory made
 * under dir (default "."), and one line is printed:
 *
 *	fsync-bench: threads=4 commits=2000 size=1024 seconds=1.234567
 *	    commits_per_s=1620.0
 *
 * (on one line). The figure is the physical bound for any server that
 * commits each message with its own fsyncs on that filesystem.
 *
 * Errors: a bad option exits EX_USAGE; a failed system call prints one
 * line on stderr naming the call and the file, removes what was made and
 * exits EX_IOERR (EX_OSERR when a thread cannot be started).
 * Trust: the options are the caller's; files are made only in a new
 * directory of its own, which is removed afterwards.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#define BENCH_DEFAULT_COUNT	2000
#define BENCH_DEFAULT_SIZE	1024
#define BENCH_DEFAULT_THREADS	"1,4,16"
#define BENCH_MAX_THREADS	256
#define BENCH_MAX_SIZE		(64L * 1024 * 1024)
#define BENCH_MAX_COUNT		10000000L

/* One run: count commits shared by threads in the directory root. */
struct bench_run {
	char root[PATH_MAX];	/* the run's own directory */
	char tmp[PATH_MAX + 8];	/* root/tmp */
	char new[PATH_MAX + 8];	/* root/new */
	int new_fd;		/* open on new/, fsynced after each rename */
	const char *data;	/* size bytes to write in each file */
	size_t size;
	long count;
	atomic_long next;	/* the next commit number to take */
	atomic_bool failed;	/* a thread failed: the others stop */
};

/* Prints the usage text; returns EX_USAGE. */
static int
bench_usage(void)
{
	fputs("usage: fsync-bench [-n count] [-s size] [-d dir] "
	    "[-t threads[,threads...]]\n", stderr);
	return EX_USAGE;
}

/* Parses a decimal number in [min, max] into *value_r; -1 if it is not. */
static int
bench_number(const char *text, long min, long max, long *value_r)
{
	char *end;
	long value;

	errno = 0;
	value = strtol(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || value < min ||
	    value > max)
		return -1;
	*value_r = value;
	return 0;
}

/* Writes the whole buffer to fd; -1 with errno on failure. */
static int
bench_write_all(int fd, const char *data, size_t size)
{
	ssize_t n;

	while (size > 0) {
		n = write(fd, data, size);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		data += n;
		size -= (size_t)n;
	}
	return 0;
}

/* Reports a failed call on a file and marks the run failed. */
static void
bench_fail(struct bench_run *run, const char *call, const char *path)
{
	fprintf(stderr, "fsync-bench: %s %s: %s\n", call, path,
	    strerror(errno));
	atomic_store(&run->failed, true);
}

/* Makes commit number n durable in new/; -1 after reporting a failure. */
static int
bench_commit(struct bench_run *run, long n)
{
	char tmp_path[PATH_MAX + 32], new_path[PATH_MAX + 32];
	int fd;

	snprintf(tmp_path, sizeof(tmp_path), "%s/%ld", run->tmp, n);
	snprintf(new_path, sizeof(new_path), "%s/%ld", run->new, n);
	fd = open(tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		bench_fail(run, "open", tmp_path);
		return -1;
	}
	if (bench_write_all(fd, run->data, run->size) < 0) {
		bench_fail(run, "write", tmp_path);
		close(fd);
		return -1;
	}
	if (fsync(fd) < 0) {
		bench_fail(run, "fsync", tmp_path);
		close(fd);
		return -1;
	}
	if (close(fd) < 0) {
		bench_fail(run, "close", tmp_path);
		return -1;
	}
	if (rename(tmp_path, new_path) < 0) {
		bench_fail(run, "rename", tmp_path);
		return -1;
	}
	if (fsync(run->new_fd) < 0) {
		bench_fail(run, "fsync", run->new);
		return -1;
	}
	return 0;
}

/* A thread's body: takes commit numbers until none is left. */
static void *
bench_thread(void *arg)
{
	struct bench_run *run = arg;
	long n;

	while (!atomic_load(&run->failed)) {
		n = atomic_fetch_add(&run->next, 1);
		if (n >= run->count || bench_commit(run, n) < 0)
			break;
	}
	return NULL;
}

/* Removes the files of commits 0 .. count-1 and the run's directories. */
static void
bench_remove(struct bench_run *run)
{
	char path[PATH_MAX + 32];
	long n;

	for (n = 0; n < run->count; n++) {
		snprintf(path, sizeof(path), "%s/%ld", run->new, n);
		if (unlink(path) < 0 && errno == ENOENT) {
			snprintf(path, sizeof(path), "%s/%ld", run->tmp, n);
			(void)unlink(path);
		}
	}
	(void)rmdir(run->new);
	(void)rmdir(run->tmp);
	(void)rmdir(run->root);
}

/* Seconds elapsed since start on the monotonic clock. */
static double
bench_elapsed(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) +
	    (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* Makes the run's directories under dir; an exit status on failure. */
static int
bench_prepare(struct bench_run *run, const char *dir)
{
	if ((size_t)snprintf(run->root, sizeof(run->root),
	    "%s/fsync-bench.XXXXXX", dir) >= sizeof(run->root)) {
		fprintf(stderr, "fsync-bench: directory name too long\n");
		return EX_USAGE;
	}
	if (mkdtemp(run->root) == NULL) {
		fprintf(stderr, "fsync-bench: mkdtemp %s: %s\n", run->root,
		    strerror(errno));
		return EX_IOERR;
	}
	snprintf(run->tmp, sizeof(run->tmp), "%s/tmp", run->root);
	snprintf(run->new, sizeof(run->new), "%s/new", run->root);
	if (mkdir(run->tmp, 0700) < 0 || mkdir(run->new, 0700) < 0) {
		fprintf(stderr, "fsync-bench: mkdir in %s: %s\n", run->root,
		    strerror(errno));
		(void)rmdir(run->tmp);
		(void)rmdir(run->root);
		return EX_IOERR;
	}
	run->new_fd = open(run->new, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (run->new_fd < 0) {
		fprintf(stderr, "fsync-bench: open %s: %s\n", run->new,
		    strerror(errno));
		bench_remove(run);
		return EX_IOERR;
	}
	return EX_OK;
}

/* Runs count commits of size bytes with threads threads under dir and
 * prints the result line; returns an exit status. */
static int
bench_measure(const char *dir, long threads, long count, const char *data,
    size_t size)
{
	struct bench_run run = {
		.data = data, .size = size, .count = count,
	};
	pthread_t tids[BENCH_MAX_THREADS];
	struct timespec start;
	double seconds;
	long started, i;
	int status, err;

	atomic_init(&run.next, 0);
	atomic_init(&run.failed, false);
	if ((status = bench_prepare(&run, dir)) != EX_OK)
		return status;
	status = EX_OK;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (started = 0; started < threads; started++) {
		err = pthread_create(&tids[started], NULL, bench_thread, &run);
		if (err != 0) {
			fprintf(stderr, "fsync-bench: pthread_create: %s\n",
			    strerror(err));
			atomic_store(&run.failed, true);
			status = EX_OSERR;
			break;
		}
	}
	for (i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	seconds = bench_elapsed(&start);
	if (status == EX_OK && atomic_load(&run.failed))
		status = EX_IOERR;
	if (status == EX_OK)
		printf("fsync-bench: threads=%ld commits=%ld size=%zu "
		    "seconds=%.6f commits_per_s=%.1f\n", threads, count, size,
		    seconds, seconds > 0 ? (double)count / seconds : 0.0);
	fflush(stdout);
	close(run.new_fd);
	bench_remove(&run);
	return status;
}

int
main(int argc, char **argv)
{
	const char *dir = ".", *thread_list = BENCH_DEFAULT_THREADS;
	long count = BENCH_DEFAULT_COUNT, size = BENCH_DEFAULT_SIZE;
	long threads[BENCH_MAX_THREADS];
	size_t nthreads = 0, i;
	char *list, *item, *save, *data;
	int ch, status = EX_OK;

	while ((ch = getopt(argc, argv, "d:n:s:t:")) != -1) {
		switch (ch) {
		case 'd':
			dir = optarg;
			break;
		case 'n':
			if (bench_number(optarg, 1, BENCH_MAX_COUNT, &count) < 0)
				return bench_usage();
			break;
		case 's':
			if (bench_number(optarg, 0, BENCH_MAX_SIZE, &size) < 0)
				return bench_usage();
			break;
		case 't':
			thread_list = optarg;
			break;
		default:
			return bench_usage();
		}
	}
	if (optind != argc)
		return bench_usage();
	if ((list = strdup(thread_list)) == NULL) {
		perror("fsync-bench: strdup");
		return EX_OSERR;
	}
	for (item = strtok_r(list, ",", &save); item != NULL;
	    item = strtok_r(NULL, ",", &save)) {
		if (nthreads == BENCH_MAX_THREADS ||
		    bench_number(item, 1, BENCH_MAX_THREADS,
		    &threads[nthreads]) < 0) {
			free(list);
			return bench_usage();
		}
		nthreads++;
	}
	free(list);
	if (nthreads == 0)
		return bench_usage();
	if ((data = malloc((size_t)size + 1)) == NULL) {
		perror("fsync-bench: malloc");
		return EX_OSERR;
	}
	memset(data, 'x', (size_t)size);
	for (i = 0; i < nthreads && status == EX_OK; i++)
		status = bench_measure(dir, threads[i], count, data,
		    (size_t)size);
	free(data);
	return status;
}
