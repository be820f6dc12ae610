/*
 * mbox - append one message to a classic mbox file
 *
 * Formats the From_ line, then opens the mailbox with O_RDWR | O_APPEND |
 * O_CREAT | O_NOFOLLOW and refuses anything but a regular file with one
 * link owned by the effective uid. Read access is there to see whether
 * the content ends in a blank line; O_NONBLOCK is added so that a FIFO or
 * device planted at the name cannot hang the open (POSIX leaves O_RDWR on
 * a FIFO undefined), and cleared once the file is known to be regular.
 * It takes the dotlock, then the fcntl lock, checks that the name still
 * leads to the file it opened (a mail reader may have replaced the file
 * while we waited), notes the size, writes the message with mboxrd
 * quoting, fsyncs it (and its directory when it was empty, as it is when
 * this call made it), and unlocks in reverse order.
 *
 * The dotlock is skipped when its directory refuses us (EACCES): Debian's
 * /var/mail is mode 2775 root:mail, and the local daemon runs as the
 * recipient, who is not in group mail. Readers that take an fcntl lock as
 * well (Dovecot's default, mutt's) are still kept apart from us by it, and
 * a dotlock that exists (EEXIST comes before EACCES) is still waited for.
 *
 * mboxrd rather than mboxo: mboxo quotes only "From " lines, so a reader
 * cannot tell a quoted ">From " from one that was in the message; mboxrd
 * quotes ">*From " lines, which every mboxo reader still accepts, and a
 * mboxrd reader undoes exactly.
 *
 * Errors: an enum mbox_status with a reason naming the file in why. Any
 * failure once the size is noted truncates the file back to it (and
 * fsyncs), so a failed delivery never leaves a partial message. Nothing
 * logs.
 * Trust: the path comes from the password file or configuration and we
 * run as the mailbox owner, but the directory may be shared (/var/mail is
 * mode 1777 on some systems): others may plant symbolic links, hard links,
 * FIFOs or lock files there. Those files are refused, and a planted lock
 * only delays delivery up to the wait, then earns a temporary failure.
 * Content is copied; only line starts are looked at.
 */
#include "mbox.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/safe_file.h"
#include "util/sbuf.h"
#include "util/xmalloc.h"

#define MBOX_CHUNK	65536	/* bytes asked of the reader at a time */
#define MBOX_FLUSH	65536	/* quoted bytes buffered before a write */
#define MBOX_POLL_MIN_MS 10	/* first pause between lock attempts */
#define MBOX_POLL_MAX_MS 500	/* longest pause between lock attempts */

static unsigned int mbox_wait_ms = MBOX_LOCK_WAIT_MS;
static unsigned int mbox_stale_s = MBOX_STALE_LOCK_S;

static const char mbox_from[] = "From ";
#define MBOX_FROM_LEN	(sizeof(mbox_from) - 1)

static const char mbox_days[7][4] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
};
static const char mbox_months[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

/* Message bytes on their way into the mailbox. */
struct mbox_out {
	int fd;
	struct sbuf *buf;	/* bytes not yet written */
	int last;		/* the last byte queued, or -1 */
	bool at_bol;		/* at a line start, still matching ">*From " */
	size_t quotes;		/* '>' held back at the line start */
	size_t matched;		/* bytes of "From " held back after them */
};

void
mbox_set_lock_limits(unsigned int wait_ms, unsigned int stale_s)
{
	mbox_wait_ms = wait_ms;
	mbox_stale_s = stale_s;
}

/* The class of a failure with errno err. */
static enum mbox_status
mbox_class(int err)
{
	switch (err) {
	case ELOOP:
	case ENOTDIR:
	case EISDIR:
	case ENXIO:
	case EACCES:
	case EPERM:
	case ENAMETOOLONG:
		return MBOX_PERM;
	}
	return MBOX_TEMP;
}

/* Sets why to "what path: error" for errno err; returns err's class. */
static enum mbox_status
mbox_fail(struct sbuf *why, const char *what, const char *path, int err)
{
	sbuf_setf(why, "%s %s: %s", what, path, strerror(err));
	return mbox_class(err);
}

/*
 * Sets line to the From_ line for sender and arrival; MBOX_OK, or
 * MBOX_PERM with why set when arrival has no local time.
 */
static enum mbox_status
mbox_from_line(struct sbuf *line, const char *sender, time_t arrival,
    struct sbuf *why)
{
	struct tm tm;

	if (localtime_r(&arrival, &tm) == NULL) {
		sbuf_setf(why, "arrival time %lld out of range",
		    (long long)arrival);
		return MBOX_PERM;
	}
	if (sender == NULL || *sender == '\0')
		sender = "MAILER-DAEMON";
	sbuf_set(line, mbox_from);
	for (const char *p = sender; *p != '\0'; p++)
		sbuf_catc(line, (unsigned char)*p <= ' ' || *p == 0x7f ? '_' :
		    *p);
	sbuf_printf(line, " %s %s %2d %02d:%02d:%02d %lld\n",
	    mbox_days[tm.tm_wday], mbox_months[tm.tm_mon], tm.tm_mday,
	    tm.tm_hour, tm.tm_min, tm.tm_sec, (long long)tm.tm_year + 1900);
	return MBOX_OK;
}

/* Writes out what is buffered; 0 or -1 with errno. */
static int
mbox_flush(struct mbox_out *o)
{
	if (safe_write_all(o->fd, sbuf_str(o->buf), sbuf_len(o->buf)) < 0)
		return -1;
	sbuf_reset(o->buf);
	return 0;
}

/* Queues len bytes as they are; 0 or -1 with errno. */
static int
mbox_put(struct mbox_out *o, const char *data, size_t len)
{
	if (len == 0)
		return 0;
	/* Cannot fail: the buffer has no limit. */
	sbuf_catn(o->buf, data, len);
	o->last = (unsigned char)data[len - 1];
	return sbuf_len(o->buf) >= MBOX_FLUSH ? mbox_flush(o) : 0;
}

/* Queues n '>' bytes; 0 or -1 with errno. */
static int
mbox_put_quotes(struct mbox_out *o, size_t n)
{
	static const char quotes[] = ">>>>>>>>>>>>>>>>";

	while (n > 0) {
		size_t k = n < sizeof(quotes) - 1 ? n : sizeof(quotes) - 1;

		if (mbox_put(o, quotes, k) < 0)
			return -1;
		n -= k;
	}
	return 0;
}

/* Queues the line start held back while matching; 0 or -1 with errno. */
static int
mbox_put_held(struct mbox_out *o)
{
	size_t quotes = o->quotes, matched = o->matched;

	o->quotes = 0;
	o->matched = 0;
	if (mbox_put_quotes(o, quotes) < 0 ||
	    mbox_put(o, mbox_from, matched) < 0)
		return -1;
	return 0;
}

/*
 * Queues data with mboxrd quoting: a line starting with ">*From " gets
 * one more '>'. An undecided line start is held back, so a match may
 * span calls; mbox_put_held() releases it at the end. 0 or -1 with errno.
 */
static int
mbox_put_quoted(struct mbox_out *o, const char *data, size_t len)
{
	const char *p = data, *end = data + len;

	while (p < end) {
		if (!o->at_bol) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			const char *stop = nl == NULL ? end : nl + 1;

			if (mbox_put(o, p, (size_t)(stop - p)) < 0)
				return -1;
			o->at_bol = nl != NULL;
			p = stop;
		} else if (o->matched == 0 && *p == '>') {
			o->quotes++;
			p++;
		} else if (*p == mbox_from[o->matched]) {
			p++;
			if (++o->matched < MBOX_FROM_LEN)
				continue;
			if (mbox_put_quotes(o, 1) < 0 || mbox_put_held(o) < 0)
				return -1;
			o->at_bol = false;
		} else {
			/* Not a From_ line: *p goes out as line content. */
			if (mbox_put_held(o) < 0)
				return -1;
			o->at_bol = false;
		}
	}
	return 0;
}

/*
 * Queues what makes the size bytes already in the mailbox end in a blank
 * line; 0 or -1 with errno.
 */
static int
mbox_separate(struct mbox_out *o, off_t size)
{
	size_t want = size >= 2 ? 2 : (size_t)size;
	char tail[2];
	ssize_t n;

	if (want == 0)
		return 0;
	n = pread(o->fd, tail, want, size - (off_t)want);
	if (n < 0)
		return -1;
	if ((size_t)n != want) {
		/* Shorter than fstat said: someone truncates it unlocked. */
		errno = EIO;
		return -1;
	}
	if (tail[want - 1] != '\n')
		return mbox_put(o, "\n\n", 2);
	if (want == 2 && tail[0] != '\n')
		return mbox_put(o, "\n", 1);
	return 0;
}

/*
 * Writes the message after the old bytes of the locked mailbox and fsyncs
 * it; on failure truncates the mailbox back to old. MBOX_OK, or the
 * failure's class with why set.
 */
static enum mbox_status
mbox_write(struct mbox_out *o, const char *path, const struct sbuf *from,
    const char *prefix, content_read_fn read_fn, void *ctx, off_t old,
    struct sbuf *why)
{
	char *buf = xmalloc(MBOX_CHUNK);
	const char *what = "write";
	enum mbox_status status;
	ssize_t n;
	int err;

	o->buf = sbuf_new();
	if (mbox_separate(o, old) < 0 ||
	    mbox_put(o, sbuf_str(from), sbuf_len(from)) < 0 ||
	    mbox_put_quoted(o, prefix == NULL ? "" : prefix,
	    prefix == NULL ? 0 : strlen(prefix)) < 0)
		goto fail;
	while ((n = read_fn(ctx, buf, MBOX_CHUNK)) != 0) {
		if (n < 0 || n > MBOX_CHUNK) {
			err = n < 0 ? errno : EINVAL;
			sbuf_setf(why, "read message content: %s",
			    strerror(err));
			status = MBOX_TEMP;
			goto undo;
		}
		if (mbox_put_quoted(o, buf, (size_t)n) < 0)
			goto fail;
	}
	if (mbox_put_held(o) < 0 ||
	    (o->last != '\n' && mbox_put(o, "\n", 1) < 0) ||
	    mbox_put(o, "\n", 1) < 0 || mbox_flush(o) < 0)
		goto fail;
	what = "fsync";
	if (fsync(o->fd) < 0)
		goto fail;
	/* A mailbox this call may have made needs its name on disk too. */
	if (old == 0 && safe_file_sync_dir(path, why) < 0) {
		status = MBOX_TEMP;
		goto undo;
	}
	free(buf);
	sbuf_free(&o->buf);
	return MBOX_OK;

fail:
	status = mbox_fail(why, what, path, errno);
undo:
	if (ftruncate(o->fd, old) < 0 || fsync(o->fd) < 0)
		sbuf_printf(why, "; truncating it back to %lld bytes failed: "
		    "%s, a partial message may remain", (long long)old,
		    strerror(errno));
	free(buf);
	sbuf_free(&o->buf);
	return status;
}

/*
 * MBOX_OK when st is a file we may append to: regular, one link, owned by
 * the effective uid; else MBOX_PERM with why set.
 */
static enum mbox_status
mbox_check(const struct stat *st, const char *path, struct sbuf *why)
{
	if (!S_ISREG(st->st_mode)) {
		sbuf_setf(why, "%s is not a regular file: refused", path);
		return MBOX_PERM;
	}
	if (st->st_nlink != 1) {
		sbuf_setf(why, "%s has %ju hard links: refused", path,
		    (uintmax_t)st->st_nlink);
		return MBOX_PERM;
	}
	if (st->st_uid != geteuid()) {
		sbuf_setf(why, "%s is owned by uid %ju, not %ju: refused", path,
		    (uintmax_t)st->st_uid, (uintmax_t)geteuid());
		return MBOX_PERM;
	}
	return MBOX_OK;
}

/* The CLOCK_MONOTONIC time ms milliseconds from now. */
static struct timespec
mbox_deadline(unsigned int ms)
{
	struct timespec ts;

	/* Cannot fail: the clock exists and the pointer is valid. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return ts;
}

/*
 * Milliseconds left until deadline, rounded up so that no wait ends
 * early; 0 once it has passed.
 */
static long long
mbox_ms_left(const struct timespec *deadline)
{
	struct timespec now;
	long long ns;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (long long)(deadline->tv_sec - now.tv_sec) * 1000000000 +
	    (deadline->tv_nsec - now.tv_nsec);
	return ns <= 0 ? 0 : (ns + 999999) / 1000000;
}

/*
 * Sleeps *delay_ms, or less when the deadline comes first, and doubles
 * *delay_ms up to MBOX_POLL_MAX_MS; -1 without sleeping once the deadline
 * has passed.
 */
static int
mbox_pause(const struct timespec *deadline, unsigned int *delay_ms)
{
	long long ms = mbox_ms_left(deadline);
	struct timespec ts;

	if (ms <= 0)
		return -1;
	if (ms > *delay_ms)
		ms = *delay_ms;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	/* A signal only shortens the pause; the caller tries again. */
	nanosleep(&ts, NULL);
	*delay_ms = *delay_ms >= MBOX_POLL_MAX_MS / 2 ? MBOX_POLL_MAX_MS :
	    *delay_ms * 2;
	return 0;
}

/*
 * Makes the dotlock file lock (holding our pid), waiting for another's
 * until deadline and removing one older than the stale age. Sets *made_r
 * when it made one: none is made, and MBOX_OK returned, when the
 * directory does not let us create files. Else the failure's class with
 * why set.
 */
static enum mbox_status
mbox_dotlock(const char *lock, const struct timespec *deadline,
    bool *made_r, struct sbuf *why)
{
	unsigned int delay = MBOX_POLL_MIN_MS;
	struct sbuf *pid;
	struct stat st;
	bool gone;
	int fd, err;

	*made_r = false;
	while ((fd = open(lock, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) < 0) {
		err = errno;
		if (err == EACCES)
			return MBOX_OK;
		if (err != EEXIST)
			return mbox_fail(why, "create lock", lock, err);
		/*
		 * Two deliveries may both find a stale lock, and the later
		 * one remove the lock the earlier one just made; the fcntl
		 * lock still keeps them apart.
		 */
		if (lstat(lock, &st) < 0)
			gone = errno == ENOENT;
		else
			gone = time(NULL) - st.st_mtime >
			    (time_t)mbox_stale_s && unlink(lock) == 0;
		if (gone && mbox_ms_left(deadline) > 0)
			continue;
		if (mbox_pause(deadline, &delay) < 0) {
			sbuf_setf(why, "mailbox is locked: %s exists", lock);
			return MBOX_TEMP;
		}
	}
	pid = sbuf_new();
	sbuf_printf(pid, "%ld\n", (long)getpid());
	err = 0;
	if (safe_write_all(fd, sbuf_str(pid), sbuf_len(pid)) < 0) {
		err = errno;
		close(fd);
	} else if (close(fd) < 0)
		err = errno;
	sbuf_free(&pid);
	if (err != 0) {
		unlink(lock);
		return mbox_fail(why, "write lock", lock, err);
	}
	*made_r = true;
	return MBOX_OK;
}

/*
 * Takes an fcntl write lock on all of fd (the mailbox path), trying again
 * until deadline; MBOX_OK or the failure's class with why set.
 */
static enum mbox_status
mbox_fcntl_lock(int fd, const char *path, const struct timespec *deadline,
    struct sbuf *why)
{
	unsigned int delay = MBOX_POLL_MIN_MS;
	struct flock fl;

	for (;;) {
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		if (fcntl(fd, F_SETLK, &fl) == 0)
			return MBOX_OK;
		if (errno == EINTR)
			continue;
		if (errno != EACCES && errno != EAGAIN)
			return mbox_fail(why, "lock", path, errno);
		if (mbox_pause(deadline, &delay) < 0) {
			sbuf_setf(why, "mailbox %s is locked by another "
			    "process (fcntl)", path);
			return MBOX_TEMP;
		}
	}
}

/*
 * Opens the mailbox at path, creating it when missing, and checks it;
 * the descriptor with *st filled, or -1 with *status and why set.
 */
static int
mbox_open(const char *path, struct stat *st, enum mbox_status *status,
    struct sbuf *why)
{
	int fd, flags, err;

	fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW |
	    O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = errno;
		if (err == ELOOP) {
			sbuf_setf(why, "%s is a symbolic link: refused", path);
			*status = MBOX_PERM;
		} else
			*status = mbox_fail(why, "open", path, err);
		return -1;
	}
	if (fstat(fd, st) < 0)
		*status = mbox_fail(why, "fstat", path, errno);
	else
		*status = mbox_check(st, path, why);
	if (*status == MBOX_OK && ((flags = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0))
		*status = mbox_fail(why, "fcntl", path, errno);
	if (*status == MBOX_OK)
		return fd;
	close(fd);
	return -1;
}

enum mbox_status
mbox_deliver(const char *path, const char *sender, time_t arrival,
    const char *prefix_headers, content_read_fn read_fn, void *ctx,
    struct sbuf *why)
{
	struct mbox_out o = { .fd = -1, .last = -1, .at_bol = true };
	struct sbuf *from = sbuf_new(), *lock = sbuf_new();
	struct timespec deadline;
	enum mbox_status status;
	struct stat st, now;
	bool dotlocked = false;

	sbuf_printf(lock, "%s.lock", path);
	if ((status = mbox_from_line(from, sender, arrival, why)) != MBOX_OK ||
	    (o.fd = mbox_open(path, &st, &status, why)) < 0)
		goto out;
	deadline = mbox_deadline(mbox_wait_ms);
	if ((status = mbox_dotlock(sbuf_str(lock), &deadline, &dotlocked,
	    why)) != MBOX_OK ||
	    (status = mbox_fcntl_lock(o.fd, path, &deadline, why)) != MBOX_OK)
		goto out;
	if (lstat(path, &now) < 0 || now.st_dev != st.st_dev ||
	    now.st_ino != st.st_ino) {
		sbuf_setf(why, "%s was replaced while waiting for its lock",
		    path);
		status = MBOX_TEMP;
		goto out;
	}
	if (fstat(o.fd, &st) < 0) {
		status = mbox_fail(why, "fstat", path, errno);
		goto out;
	}
	if ((status = mbox_check(&st, path, why)) != MBOX_OK)
		goto out;
	status = mbox_write(&o, path, from, prefix_headers, read_fn, ctx,
	    st.st_size, why);
out:
	/* Closing the descriptor drops the fcntl lock: before the dotlock. */
	if (o.fd >= 0 && close(o.fd) < 0 && status == MBOX_OK)
		status = mbox_fail(why, "close", path, errno);
	/*
	 * Only our own dotlock is removed. Should that fail after a
	 * delivery, the lock goes stale and is removed later; reporting
	 * a failure instead would have the message delivered twice.
	 */
	if (dotlocked)
		unlink(sbuf_str(lock));
	sbuf_free(&from);
	sbuf_free(&lock);
	return status;
}
