/*
 * queue_file - the one format of a queued message, its writer and reader
 *
 * The writer keeps what it has not yet written in one buffer and writes
 * it when it passes QUEUE_WRITE_CHUNK octets, so that a small message
 * costs one write. The content's length, unknown until the commit, is
 * patched into the end-of-envelope record then: in the buffer when the
 * record is still there, else with one pwrite.
 *
 * The reader reads the head of a file (everything before the content) in
 * large reads into a growing buffer, checks each record's type, place
 * and length before it reads its data, and copies the fields. It checks
 * the content's extent against the file's size and the end record with
 * one pread, without reading the content.
 *
 * Errors: reasons in why ("write PATH: No space left on device", "ID:
 * record 7: recipient address: control character"); never logs. Every
 * write, fchmod, fsync, close and rename of a file being committed is
 * checked, and any failure removes the file.
 * Trust: a file being read is hostile (damaged, cut short, planted):
 * every length is checked against its record's range before anything is
 * read or allocated for it, and against what the file holds. The writer's
 * input comes from smtpd and pickup, already parsed, and is checked
 * against the format's rules all the same, so that a bad field fails the
 * call that brings it rather than the reader later.
 */
#include "mail/queue_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail/queue_id.h"
#include "util/safe_file.h"
#include "util/sbuf.h"
#include "util/strutil.h"
#include "util/utf8.h"
#include "util/xmalloc.h"

#define QUEUE_HDR_LEN		5	/* a record's type and length */
#define QUEUE_RCPT_FIXED	6	/* status, notify and alen */
#define QUEUE_WRITE_CHUNK	(64 * 1024)
#define QUEUE_READ_CHUNK	(64 * 1024)
#define QUEUE_VERSION_PREFIX	"postern-queue "
#define QUEUE_VERSION_MAX	64
#define QUEUE_STATUS_PENDING	'P'
#define QUEUE_STATUS_DONE	'D'
#define QUEUE_END_TYPE		'X'
#define QUEUE_NO_FIELD		SIZE_MAX
#define QUEUE_ENV_FIELD(f)	offsetof(struct queue_envelope, f)
#define QUEUE_RETIRE_TRIES	2	/* slots qmgr tries: free/ is full */

/* The records of a file's head, in the order the file holds them. */
struct queue_rec {
	char type;
	const char *name;	/* in reasons */
	const char *label;	/* in queue_file_render(), for text fields */
	bool required;
	uint32_t min;		/* the range of the data's length */
	uint32_t max;
	size_t field;		/* text: its offset in struct queue_envelope */
};

static const struct queue_rec queue_recs[] = {
	{ 'V', "version", NULL, true, 1, QUEUE_VERSION_MAX, QUEUE_NO_FIELD },
	{ 'T', "arrival time", NULL, true, 8, 8, QUEUE_NO_FIELD },
	{ 'P', "protocol", NULL, true, 4, 6, QUEUE_NO_FIELD },
	{ 'S', "sender", "sender", true, 0, QUEUE_TEXT_MAX,
	    QUEUE_ENV_FIELD(sender) },
	{ 'C', "client address", "client_address", false, 1, QUEUE_TEXT_MAX,
	    QUEUE_ENV_FIELD(client_addr) },
	{ 'N', "client name", "client_name", false, 1, QUEUE_TEXT_MAX,
	    QUEUE_ENV_FIELD(client_name) },
	{ 'H', "HELO name", "helo_name", false, 1, QUEUE_TEXT_MAX,
	    QUEUE_ENV_FIELD(helo) },
	{ 'U', "authenticated user", "auth_user", false, 1, QUEUE_TEXT_MAX,
	    QUEUE_ENV_FIELD(auth_user) },
	{ 'I', "DSN ENVID", "dsn_envid", false, 1, QUEUE_TEXT_MAX,
	    QUEUE_ENV_FIELD(envid) },
	{ 'F', "DSN RET", NULL, false, 4, 4, QUEUE_NO_FIELD },
	{ 'B', "body", NULL, false, 2, 2, QUEUE_NO_FIELD },
	{ 'R', "recipient", NULL, true, QUEUE_RCPT_FIXED + 1,
	    QUEUE_RCPT_FIXED + 2 * QUEUE_TEXT_MAX, QUEUE_NO_FIELD },
	{ 'E', "end of envelope", NULL, true, 8, 8, QUEUE_NO_FIELD },
};

#define QUEUE_REC_COUNT	(sizeof(queue_recs) / sizeof(queue_recs[0]))

static const char *const queue_proto_names[] = {
	[QUEUE_PROTO_LOCAL] = "local",
	[QUEUE_PROTO_SMTP] = "SMTP",
	[QUEUE_PROTO_ESMTP] = "ESMTP",
	[QUEUE_PROTO_ESMTPS] = "ESMTPS",
};

static const char *const queue_ret_names[] = {
	[QUEUE_RET_FULL] = "FULL",
	[QUEUE_RET_HDRS] = "HDRS",
};

static const char *const queue_body_names[] = {
	[QUEUE_BODY_7BIT] = "7BIT",
	[QUEUE_BODY_8BITMIME] = "8BITMIME",
	[QUEUE_BODY_BINARYMIME] = "BINARYMIME",
};

/* The first octet of a body record, by body type. */
static const unsigned char queue_body_octets[] = {
	[QUEUE_BODY_7BIT] = '7',
	[QUEUE_BODY_8BITMIME] = '8',
	[QUEUE_BODY_BINARYMIME] = 'B',
};

/* Where a writer is in the order of the format. */
enum queue_writer_phase {
	QUEUE_PHASE_ENVELOPE,	/* waiting for the envelope */
	QUEUE_PHASE_RCPTS,	/* taking recipients */
	QUEUE_PHASE_CONTENT	/* envelope closed, taking content */
};

struct queue_writer {
	int fd;			/* -1 once closed */
	char *tmp_path;		/* NULL once removed or renamed */
	char *path;		/* the final name */
	char *id;
	struct sbuf *buf;	/* octets not yet written; no limit */
	off_t written;		/* octets written before those in buf */
	off_t stale_size;	/* a reused file's size: its old octets past
				   what is written are cut at the commit */
	off_t size_offset;	/* file offset of the content length */
	uint64_t content_size;
	uint64_t size_limit;	/* 0: none */
	size_t rcpt_count;
	enum queue_writer_phase phase;
	enum queue_write_status status;	/* the first failure, or OK */
	struct sbuf *error;	/* its reason */
};

/* The state of queue_file_open() while it reads a file's head. */
struct queue_reader {
	struct queue_file *qf;
	const char *name;	/* starts reasons: the id, or the path */
	unsigned char *data;	/* the file's first len octets */
	size_t len;
	size_t cap;		/* octets allocated for data */
	size_t pos;		/* offset of the record being read */
	size_t recno;		/* its number, from 1 */
	size_t rcpt_cap;	/* recipients allocated */
	struct sbuf *why;
};

static void
queue_put_be32(unsigned char *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static void
queue_put_be64(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static uint32_t
queue_get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint64_t
queue_get_be64(const unsigned char *p)
{
	return (uint64_t)queue_get_be32(p) << 32 | queue_get_be32(p + 4);
}

/*
 * NULL when the len octets at s are text as the format defines it, else
 * what is wrong with them.
 */
static const char *
queue_text_error(const unsigned char *s, size_t len)
{
	const unsigned char *end = s + len;
	size_t n;

	for (; s < end; s += n) {
		if (*s < 0x20 || *s == 0x7f || (*s == 0xc2 && end - s > 1 &&
		    s[1] >= 0x80 && s[1] <= 0x9f))
			return "control character";
		if ((n = utf8_seq_len(s, end, 0)) == 0)
			return "malformed UTF-8";
	}
	return NULL;
}

/* True when notify is a NOTIFY value the format allows. */
static bool
queue_notify_ok(int notify)
{
	int set = QUEUE_NOTIFY_SUCCESS | QUEUE_NOTIFY_FAILURE |
	    QUEUE_NOTIFY_DELAY;

	return notify == QUEUE_NOTIFY_NEVER || (notify & ~set) == 0;
}

/* The index of name in the n names, or -1. */
static int
queue_name_index(const char *const *names, size_t n, const unsigned char *d,
    size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] != NULL && strlen(names[i]) == len &&
		    memcmp(names[i], d, len) == 0)
			return (int)i;
	return -1;
}

/* Writes all of len octets at offset off, retrying short writes; 0 or -1. */
static int
queue_pwrite_all(int fd, const void *data, size_t len, off_t off)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		off += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Appends a record's type and length to buf. */
static void
queue_put_header(struct sbuf *buf, char type, size_t len)
{
	unsigned char hdr[QUEUE_HDR_LEN];

	hdr[0] = (unsigned char)type;
	queue_put_be32(hdr + 1, (uint32_t)len);
	sbuf_catn(buf, hdr, sizeof(hdr));
}

/* Appends a whole record to buf. */
static void
queue_put_record(struct sbuf *buf, char type, const void *data, size_t len)
{
	queue_put_header(buf, type, len);
	sbuf_catn(buf, data, len);
}

/*
 * Checks that the C string s is text of at most QUEUE_TEXT_MAX octets,
 * for the field what. 0, or -1 with a reason in why.
 */
static int
queue_check_text(const char *what, const char *s, struct sbuf *why)
{
	size_t len = strlen(s);
	const char *err;

	if (len > QUEUE_TEXT_MAX) {
		sbuf_setf(why, "%s too long (%zu octets, at most %d)", what,
		    len, QUEUE_TEXT_MAX);
		return -1;
	}
	if ((err = queue_text_error((const unsigned char *)s, len)) != NULL) {
		sbuf_setf(why, "%s: %s", what, err);
		return -1;
	}
	return 0;
}

/* The text field at offset field of env. */
static const char **
queue_env_field(struct queue_envelope *env, size_t field)
{
	return (const char **)(void *)((char *)env + field);
}

/* What a failed system call with errno err comes to. */
static enum queue_write_status
queue_errno_status(int err)
{
	return err == ENOSPC || err == EDQUOT ? QUEUE_WRITE_NOSPACE :
	    QUEUE_WRITE_ERROR;
}

/* Closes and removes the temporary file and drops what is not written. */
static void
queue_writer_discard(struct queue_writer *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	if (w->tmp_path != NULL)
		unlink(w->tmp_path);
	xfree(&w->tmp_path);
	sbuf_reset(w->buf);
}

/*
 * Makes the writer fail after a system call on path failed with errno
 * err: "what path: error". Removes the temporary file.
 */
static void
queue_writer_fail_errno(struct queue_writer *w, int err, const char *what,
    const char *path)
{
	sbuf_setf(w->error, "%s %s: %s", what, path, strerror(err));
	w->status = queue_errno_status(err);
	queue_writer_discard(w);
}

/* The status and reason of a failed writer. */
static enum queue_write_status
queue_writer_failed(const struct queue_writer *w, struct sbuf *why)
{
	sbuf_set(why, sbuf_str(w->error));
	return w->status;
}

/*
 * The next slot of free/ for qmgr to try, going round: after a file is
 * taken from a slot, the slots before the next one fill up first.
 */
static unsigned
queue_free_next(void)
{
	static unsigned next;

	return next++ % QUEUE_FREE_SLOTS;
}

/*
 * Takes the retired file in slot of queue_dir/free/ as the temporary file
 * tmp in incoming/ (named after this process, pid), with its size in
 * *size_r: its open descriptor, or -1 when another writer took it first
 * or it is not fit for reuse. A file that is not a plain file with this
 * one name is not touched; its name in incoming/ is removed. The old content is written over, not cut first,
 * so that its blocks are used again rather than freed and allocated. The
 * file's times become now, as a new file's would: the queue's cleaner
 * goes by them when it removes temporary files whose writer is gone.
 */
static int
queue_free_take(const char *queue_dir, unsigned slot, pid_t pid,
    struct sbuf *tmp, off_t *size_r)
{
	static unsigned long seq;
	struct sbuf *path = sbuf_new();
	struct stat st;
	int fd;

	sbuf_setf(path, "%s/" QUEUE_FREE_DIR "/%u", queue_dir, slot);
	sbuf_setf(tmp, "%s/incoming/" QUEUE_TMP_PREFIX "%ld.%lu", queue_dir,
	    (long)pid, ++seq);
	fd = renameat2(AT_FDCWD, sbuf_str(path), AT_FDCWD, sbuf_str(tmp),
	    RENAME_NOREPLACE) < 0 ? -1 : open(sbuf_str(tmp),
	    O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	sbuf_free(&path);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1 &&
	    fchmod(fd, QUEUE_MODE_WRITING) == 0 && futimens(fd, NULL) == 0) {
		*size_r = st.st_size;
		return fd;
	}
	close(fd);
	unlink(sbuf_str(tmp));
	return -1;
}

/*
 * Takes a retired file out of queue_dir/free/ as a new temporary file in
 * incoming/, with its name in tmp and its old size in *size_r: the open
 * descriptor, or -1 when free/ holds none (or is missing) and a new file
 * has to be made. Writers start at different places in the listing, so
 * that two seldom race for one file.
 */
static int
queue_free_claim(const char *queue_dir, struct sbuf *tmp, off_t *size_r)
{
	struct sbuf *path = sbuf_new();
	unsigned slots[QUEUE_FREE_SLOTS];
	size_t n = 0, start;
	pid_t pid = getpid();
	long slot;
	struct dirent *de;
	DIR *dir;
	int fd = -1;

	sbuf_setf(path, "%s/" QUEUE_FREE_DIR, queue_dir);
	dir = opendir(sbuf_str(path));
	sbuf_free(&path);
	if (dir == NULL)
		return -1;
	while (n < QUEUE_FREE_SLOTS && (de = readdir(dir)) != NULL)
		if (str_to_long(de->d_name, &slot) == 0 && slot >= 0 &&
		    slot < QUEUE_FREE_SLOTS)
			slots[n++] = (unsigned)slot;
	closedir(dir);
	start = n > 0 ? (size_t)pid % n : 0;
	for (size_t i = 0; i < n && fd < 0; i++)
		fd = queue_free_take(queue_dir, slots[(start + i) % n], pid,
		    tmp, size_r);
	return fd;
}

int
queue_file_retire(const char *queue_dir, const char *path, struct sbuf *why)
{
	struct sbuf *slot = sbuf_new();
	struct stat st;
	bool kept = false;

	if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_nlink == 1 && st.st_size <= QUEUE_FREE_SIZE_MAX) {
		for (int i = 0; i < QUEUE_RETIRE_TRIES && !kept; i++) {
			sbuf_setf(slot, "%s/" QUEUE_FREE_DIR "/%u", queue_dir,
			    queue_free_next());
			if (renameat2(AT_FDCWD, path, AT_FDCWD, sbuf_str(slot),
			    RENAME_NOREPLACE) == 0)
				kept = true;
			else if (errno != EEXIST)
				break;
		}
	}
	sbuf_free(&slot);
	if (kept || unlink(path) == 0 || errno == ENOENT)
		return 0;
	sbuf_setf(why, "remove %s: %m", path);
	return -1;
}

enum queue_write_status
queue_writer_open(const char *queue_dir, struct queue_writer **w_r,
    struct sbuf *why)
{
	struct sbuf *tmp = sbuf_new(), *id = sbuf_new();
	struct queue_writer *w;
	unsigned char num[8];
	struct timeval tv;
	struct stat st;
	off_t stale = 0;
	bool named;
	int fd, err;

	if ((fd = queue_free_claim(queue_dir, tmp, &stale)) < 0) {
		sbuf_setf(tmp, "%s/incoming/" QUEUE_TMP_PREFIX "XXXXXX",
		    queue_dir);
		fd = mkostemp(tmp->data, O_CLOEXEC);
	}
	if (fd < 0) {
		err = errno;
		sbuf_setf(why, "create a file in %s/incoming: %s", queue_dir,
		    strerror(err));
		sbuf_free(&tmp);
		sbuf_free(&id);
		return queue_errno_status(err);
	}
	if (fstat(fd, &st) < 0) {
		sbuf_setf(why, "fstat %s: %m", sbuf_str(tmp));
		named = false;
	} else
		named = queue_id_new(st.st_ino, id, why) == 0;
	if (!named) {
		close(fd);
		unlink(sbuf_str(tmp));
		sbuf_free(&tmp);
		sbuf_free(&id);
		return QUEUE_WRITE_ERROR;
	}
	queue_id_time(sbuf_str(id), &tv);
	w = xcalloc(1, sizeof(*w));
	w->fd = fd;
	w->stale_size = stale;
	w->tmp_path = sbuf_steal(tmp);
	w->id = sbuf_steal(id);
	sbuf_printf(tmp, "%s/incoming/%s", queue_dir, w->id);
	w->path = sbuf_steal(tmp);
	w->buf = sbuf_new();
	w->error = sbuf_new();
	w->phase = QUEUE_PHASE_ENVELOPE;
	w->status = QUEUE_WRITE_OK;
	queue_put_record(w->buf, 'V', QUEUE_FILE_VERSION,
	    strlen(QUEUE_FILE_VERSION));
	queue_put_be64(num, (uint64_t)tv.tv_sec);
	queue_put_record(w->buf, 'T', num, sizeof(num));
	sbuf_free(&tmp);
	sbuf_free(&id);
	*w_r = w;
	return QUEUE_WRITE_OK;
}

const char *
queue_writer_id(const struct queue_writer *w)
{
	return w->id;
}

void
queue_writer_set_size_limit(struct queue_writer *w, uint64_t limit)
{
	w->size_limit = limit;
}

int
queue_writer_envelope(struct queue_writer *w,
    const struct queue_envelope *env, struct sbuf *why)
{
	struct queue_envelope copy = *env;
	size_t mark = sbuf_len(w->buf);

	if (w->phase != QUEUE_PHASE_ENVELOPE) {
		sbuf_set(why, "envelope set twice");
		return -1;
	}
	if ((int)env->proto < QUEUE_PROTO_LOCAL ||
	    (int)env->proto > QUEUE_PROTO_ESMTPS) {
		sbuf_set(why, "no protocol");
		return -1;
	}
	if ((int)env->ret < QUEUE_RET_NONE || (int)env->ret > QUEUE_RET_HDRS) {
		sbuf_set(why, "invalid DSN RET");
		return -1;
	}
	if ((int)env->body < QUEUE_BODY_7BIT ||
	    (int)env->body > QUEUE_BODY_BINARYMIME) {
		sbuf_set(why, "invalid body type");
		return -1;
	}
	if (env->sender == NULL) {
		sbuf_set(why, "no sender");
		return -1;
	}
	for (size_t i = 0; i < QUEUE_REC_COUNT; i++) {
		const struct queue_rec *rec = &queue_recs[i];
		const char *value;

		if (rec->type == 'P') {
			value = queue_proto_names[env->proto];
			queue_put_record(w->buf, 'P', value, strlen(value));
		} else if (rec->type == 'F' && env->ret != QUEUE_RET_NONE) {
			value = queue_ret_names[env->ret];
			queue_put_record(w->buf, 'F', value, strlen(value));
		} else if (rec->type == 'B' && (env->body != QUEUE_BODY_7BIT ||
		    env->smtputf8)) {
			unsigned char body[2];

			body[0] = queue_body_octets[env->body];
			body[1] = env->smtputf8 ? 1 : 0;
			queue_put_record(w->buf, 'B', body, sizeof(body));
		} else if (rec->field != QUEUE_NO_FIELD) {
			value = *queue_env_field(&copy, rec->field);
			if (value == NULL || (*value == '\0' && rec->min > 0))
				continue;
			if (queue_check_text(rec->name, value, why) < 0) {
				sbuf_truncate(w->buf, mark);
				return -1;
			}
			queue_put_record(w->buf, rec->type, value,
			    strlen(value));
		}
	}
	w->phase = QUEUE_PHASE_RCPTS;
	return 0;
}

int
queue_writer_add_rcpt(struct queue_writer *w, const struct queue_rcpt *rcpt,
    struct sbuf *why)
{
	const char *orcpt = rcpt->orcpt != NULL ? rcpt->orcpt : "";
	unsigned char fixed[QUEUE_RCPT_FIXED];
	size_t alen, olen;

	if (w->phase != QUEUE_PHASE_RCPTS) {
		sbuf_set(why, w->phase == QUEUE_PHASE_ENVELOPE ?
		    "recipient before the envelope" :
		    "recipient after the content");
		return -1;
	}
	if (w->rcpt_count >= QUEUE_RCPT_MAX) {
		sbuf_setf(why, "more than %d recipients", QUEUE_RCPT_MAX);
		return -1;
	}
	if (rcpt->address == NULL || *rcpt->address == '\0') {
		sbuf_set(why, "empty recipient address");
		return -1;
	}
	if (queue_check_text("recipient address", rcpt->address, why) < 0 ||
	    queue_check_text("recipient ORCPT", orcpt, why) < 0)
		return -1;
	if (!queue_notify_ok(rcpt->notify)) {
		sbuf_setf(why, "invalid NOTIFY set 0x%x",
		    (unsigned)rcpt->notify);
		return -1;
	}
	alen = strlen(rcpt->address);
	olen = strlen(orcpt);
	fixed[0] = rcpt->done ? QUEUE_STATUS_DONE : QUEUE_STATUS_PENDING;
	fixed[1] = (unsigned char)rcpt->notify;
	queue_put_be32(fixed + 2, (uint32_t)alen);
	queue_put_header(w->buf, 'R', sizeof(fixed) + alen + olen);
	sbuf_catn(w->buf, fixed, sizeof(fixed));
	sbuf_catn(w->buf, rcpt->address, alen);
	sbuf_catn(w->buf, orcpt, olen);
	w->rcpt_count++;
	return 0;
}

/*
 * Ends the envelope with a placeholder for the content length, once.
 * 0, or -1 with a reason in why when the envelope is not complete.
 */
static int
queue_writer_close_envelope(struct queue_writer *w, struct sbuf *why)
{
	if (w->phase == QUEUE_PHASE_CONTENT)
		return 0;
	if (w->phase == QUEUE_PHASE_ENVELOPE) {
		sbuf_set(why, "content before the envelope");
		return -1;
	}
	if (w->rcpt_count == 0) {
		sbuf_set(why, "content before any recipient");
		return -1;
	}
	queue_put_record(w->buf, 'E', "\0\0\0\0\0\0\0\0", 8);
	w->size_offset = w->written + (off_t)sbuf_len(w->buf) - 8;
	w->phase = QUEUE_PHASE_CONTENT;
	return 0;
}

/* Writes the buffer to the file; 0, or -1 with the writer failed. */
static int
queue_writer_flush(struct queue_writer *w)
{
	if (safe_write_all(w->fd, sbuf_str(w->buf), sbuf_len(w->buf)) < 0) {
		queue_writer_fail_errno(w, errno, "write", w->tmp_path);
		return -1;
	}
	w->written += (off_t)sbuf_len(w->buf);
	sbuf_reset(w->buf);
	return 0;
}

enum queue_write_status
queue_writer_write(struct queue_writer *w, const void *data, size_t len,
    struct sbuf *why)
{
	if (w->status != QUEUE_WRITE_OK)
		return queue_writer_failed(w, why);
	if (queue_writer_close_envelope(w, why) < 0)
		return QUEUE_WRITE_ERROR;
	if (w->size_limit > 0 && len > w->size_limit - w->content_size) {
		sbuf_setf(w->error, "message content exceeds the size limit "
		    "of %llu octets", (unsigned long long)w->size_limit);
		w->status = QUEUE_WRITE_TOOBIG;
		queue_writer_discard(w);
		return queue_writer_failed(w, why);
	}
	sbuf_catn(w->buf, data, len);
	w->content_size += len;
	if (sbuf_len(w->buf) >= QUEUE_WRITE_CHUNK && queue_writer_flush(w) < 0)
		return queue_writer_failed(w, why);
	return QUEUE_WRITE_OK;
}

/*
 * Takes a writer that has not failed through the commit point; on a
 * failure the writer has failed and no file is left.
 */
static void
queue_writer_finish(struct queue_writer *w)
{
	unsigned char num[8];
	int fd;

	if (queue_writer_close_envelope(w, w->error) < 0) {
		w->status = QUEUE_WRITE_ERROR;
		queue_writer_discard(w);
		return;
	}
	queue_put_be64(num, w->content_size);
	if (w->size_offset >= w->written)
		memcpy(w->buf->data + (w->size_offset - w->written), num, 8);
	else if (queue_pwrite_all(w->fd, num, sizeof(num),
	    w->size_offset) < 0) {
		queue_writer_fail_errno(w, errno, "write", w->tmp_path);
		return;
	}
	queue_put_header(w->buf, QUEUE_END_TYPE, 0);
	if (queue_writer_flush(w) < 0)
		return;
	if (w->stale_size > w->written && ftruncate(w->fd, w->written) < 0) {
		queue_writer_fail_errno(w, errno, "truncate", w->tmp_path);
		return;
	}
	/* The mode is set before the fsync, so that it is durable too. */
	if (fchmod(w->fd, QUEUE_MODE_COMPLETE) < 0) {
		queue_writer_fail_errno(w, errno, "set mode of", w->tmp_path);
		return;
	}
	if (fsync(w->fd) < 0) {
		queue_writer_fail_errno(w, errno, "fsync", w->tmp_path);
		return;
	}
	fd = w->fd;
	w->fd = -1;
	if (close(fd) < 0) {
		queue_writer_fail_errno(w, errno, "close", w->tmp_path);
		return;
	}
	if (rename(w->tmp_path, w->path) < 0) {
		int err = errno;

		sbuf_setf(w->error, "rename %s to %s: %s", w->tmp_path,
		    w->path, strerror(err));
		w->status = queue_errno_status(err);
		queue_writer_discard(w);
		return;
	}
	xfree(&w->tmp_path);
	if (safe_file_sync_dir(w->path, w->error) < 0) {
		/* Not acknowledged: take the message back if still there. */
		w->status = QUEUE_WRITE_ERROR;
		unlink(w->path);
	}
}

enum queue_write_status
queue_writer_commit(struct queue_writer **wp, struct sbuf *why)
{
	struct queue_writer *w = *wp;
	enum queue_write_status status;

	if (w->status == QUEUE_WRITE_OK)
		queue_writer_finish(w);
	status = w->status;
	if (status != QUEUE_WRITE_OK)
		queue_writer_failed(w, why);
	queue_writer_abort(wp);
	return status;
}

void
queue_writer_abort(struct queue_writer **wp)
{
	struct queue_writer *w = *wp;

	if (w == NULL)
		return;
	queue_writer_discard(w);
	free(w->path);
	free(w->id);
	sbuf_free(&w->buf);
	sbuf_free(&w->error);
	xfree(wp);
}

/* Sets why to "NAME: record N: " and the formatted reason. */
static void queue_reader_error(struct queue_reader *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
queue_reader_error(struct queue_reader *r, const char *fmt, ...)
{
	va_list ap;

	sbuf_setf(r->why, "%s: record %zu: ", r->name, r->recno);
	va_start(ap, fmt);
	sbuf_vprintf(r->why, fmt, ap);
	va_end(ap);
}

/* Describes a record type octet: 'R' when printable, else 0x0a. */
static void
queue_reader_bad_type(struct queue_reader *r, const char *what,
    unsigned char type)
{
	if (type > 0x20 && type < 0x7f)
		queue_reader_error(r, "%s record type '%c'", what, type);
	else
		queue_reader_error(r, "%s record type 0x%02x", what, type);
}

/*
 * Makes the first need octets of the file available in r->data. 0, or
 * -1 with a reason (a read error, a file shorter than need).
 */
static int
queue_reader_fill(struct queue_reader *r, size_t need)
{
	while (r->len < need) {
		ssize_t n;

		if (r->len == r->cap) {
			r->cap = r->cap == 0 ? QUEUE_READ_CHUNK : 2 * r->cap;
			r->data = xreallocarray(r->data, r->cap, 1);
		}
		n = read(r->qf->fd, r->data + r->len, r->cap - r->len);
		if (n < 0) {
			int err = errno;

			if (err == EINTR)
				continue;
			queue_reader_error(r, "read: %s", strerror(err));
			return -1;
		}
		if (n == 0) {
			queue_reader_error(r, "truncated");
			return -1;
		}
		r->len += (size_t)n;
	}
	return 0;
}

/* Reads the data of a recipient record. 0, or -1 with a reason. */
static int
queue_reader_rcpt(struct queue_reader *r, const unsigned char *d,
    uint32_t len)
{
	struct queue_file *qf = r->qf;
	struct queue_rcpt *rcpt;
	uint32_t alen = queue_get_be32(d + 2), olen;
	const char *err;

	if (d[0] != QUEUE_STATUS_PENDING && d[0] != QUEUE_STATUS_DONE) {
		queue_reader_error(r, "recipient status octet 0x%02x", d[0]);
		return -1;
	}
	if (!queue_notify_ok(d[1])) {
		queue_reader_error(r, "recipient NOTIFY octet 0x%02x", d[1]);
		return -1;
	}
	if (alen == 0 || alen > QUEUE_TEXT_MAX ||
	    alen > len - QUEUE_RCPT_FIXED) {
		queue_reader_error(r, "recipient address length %lu out of "
		    "range", (unsigned long)alen);
		return -1;
	}
	olen = len - QUEUE_RCPT_FIXED - alen;
	if (olen > QUEUE_TEXT_MAX) {
		queue_reader_error(r, "recipient ORCPT too long");
		return -1;
	}
	d += QUEUE_RCPT_FIXED;
	if ((err = queue_text_error(d, alen)) != NULL) {
		queue_reader_error(r, "recipient address: %s", err);
		return -1;
	}
	if ((err = queue_text_error(d + alen, olen)) != NULL) {
		queue_reader_error(r, "recipient ORCPT: %s", err);
		return -1;
	}
	if (qf->rcpt_count == QUEUE_RCPT_MAX) {
		queue_reader_error(r, "more than %d recipients",
		    QUEUE_RCPT_MAX);
		return -1;
	}
	if (qf->rcpt_count == r->rcpt_cap) {
		r->rcpt_cap = r->rcpt_cap == 0 ? 16 : 2 * r->rcpt_cap;
		qf->rcpts = xreallocarray(qf->rcpts, r->rcpt_cap,
		    sizeof(*qf->rcpts));
		qf->status_offsets = xreallocarray(qf->status_offsets,
		    r->rcpt_cap, sizeof(*qf->status_offsets));
	}
	rcpt = &qf->rcpts[qf->rcpt_count];
	rcpt->address = xstrndup((const char *)d, alen);
	rcpt->orcpt = olen > 0 ? xstrndup((const char *)d + alen, olen) : NULL;
	rcpt->notify = d[-QUEUE_RCPT_FIXED + 1];
	rcpt->done = d[-QUEUE_RCPT_FIXED] == QUEUE_STATUS_DONE;
	qf->status_offsets[qf->rcpt_count++] =
	    (off_t)(r->pos + QUEUE_HDR_LEN);
	return 0;
}

/*
 * Checks and stores the len octets of data d of a record of kind rec.
 * 0, or -1 with a reason. *content_size_r is set by the end of envelope.
 */
static int
queue_reader_record(struct queue_reader *r, const struct queue_rec *rec,
    const unsigned char *d, uint32_t len, uint64_t *content_size_r)
{
	struct queue_envelope *env = &r->qf->env;
	const char *err;
	uint64_t v;
	int i;

	switch (rec->type) {
	case 'V':
		if (len < strlen(QUEUE_VERSION_PREFIX) || memcmp(d,
		    QUEUE_VERSION_PREFIX, strlen(QUEUE_VERSION_PREFIX)) != 0) {
			queue_reader_error(r, "not a Postern queue file");
			return -1;
		}
		if (len != strlen(QUEUE_FILE_VERSION) ||
		    memcmp(d, QUEUE_FILE_VERSION, len) != 0) {
			queue_reader_error(r, "unsupported queue file version");
			return -1;
		}
		return 0;
	case 'T':
		v = queue_get_be64(d);
		if (v > QUEUE_ID_SEC_MAX || (uint64_t)(time_t)v != v) {
			queue_reader_error(r, "arrival time %llu out of range",
			    (unsigned long long)v);
			return -1;
		}
		r->qf->arrival = (time_t)v;
		return 0;
	case 'P':
		i = queue_name_index(queue_proto_names,
		    sizeof(queue_proto_names) / sizeof(*queue_proto_names), d,
		    len);
		if (i < 0) {
			queue_reader_error(r, "unknown protocol");
			return -1;
		}
		env->proto = (enum queue_proto)i;
		return 0;
	case 'F':
		i = queue_name_index(queue_ret_names,
		    sizeof(queue_ret_names) / sizeof(*queue_ret_names), d, len);
		if (i < 0) {
			queue_reader_error(r, "unknown DSN RET");
			return -1;
		}
		env->ret = (enum queue_ret)i;
		return 0;
	case 'B':
		for (i = 0; i < (int)sizeof(queue_body_octets) &&
		    queue_body_octets[i] != d[0]; i++)
			continue;
		if (i == (int)sizeof(queue_body_octets)) {
			queue_reader_error(r, "unknown body type octet 0x%02x",
			    d[0]);
			return -1;
		}
		if (d[1] > 1) {
			queue_reader_error(r, "SMTPUTF8 octet 0x%02x", d[1]);
			return -1;
		}
		env->body = (enum queue_body)i;
		env->smtputf8 = d[1] == 1;
		return 0;
	case 'R':
		return queue_reader_rcpt(r, d, len);
	case 'E':
		*content_size_r = queue_get_be64(d);
		return 0;
	default:
		if ((err = queue_text_error(d, len)) != NULL) {
			queue_reader_error(r, "%s: %s", rec->name, err);
			return -1;
		}
		*queue_env_field(env, rec->field) =
		    xstrndup((const char *)d, len);
		return 0;
	}
}

/*
 * Reads the records of the head up to the end of the envelope. 0 and the
 * announced content size in *content_size_r, or -1 with a reason.
 */
static int
queue_reader_head(struct queue_reader *r, uint64_t *content_size_r)
{
	size_t next = 0;	/* index in queue_recs of the next expected */

	for (;;) {
		const struct queue_rec *rec;
		const unsigned char *d;
		uint32_t len;
		size_t i;

		r->recno++;
		if (queue_reader_fill(r, r->pos + QUEUE_HDR_LEN) < 0)
			return -1;
		d = r->data + r->pos;
		if (r->recno == 1 && d[0] != 'V') {
			queue_reader_error(r, "not a Postern queue file");
			return -1;
		}
		for (i = 0; i < QUEUE_REC_COUNT && queue_recs[i].type != d[0];
		    i++)
			continue;
		if (i == QUEUE_REC_COUNT) {
			queue_reader_bad_type(r, "unknown", d[0]);
			return -1;
		}
		rec = &queue_recs[i];
		if (i < next && !(rec->type == 'R' && next == i + 1)) {
			queue_reader_error(r, "%s record out of place",
			    rec->name);
			return -1;
		}
		for (size_t k = next; k < i; k++)
			if (queue_recs[k].required) {
				queue_reader_error(r, "%s record missing",
				    queue_recs[k].name);
				return -1;
			}
		if (i >= next)
			next = i + 1;
		len = queue_get_be32(d + 1);
		if (len < rec->min || len > rec->max) {
			queue_reader_error(r, "%s record length %lu out of "
			    "range", rec->name, (unsigned long)len);
			return -1;
		}
		if (queue_reader_fill(r, r->pos + QUEUE_HDR_LEN + len) < 0)
			return -1;
		d = r->data + r->pos + QUEUE_HDR_LEN;
		if (queue_reader_record(r, rec, d, len, content_size_r) < 0)
			return -1;
		r->pos += QUEUE_HDR_LEN + len;
		if (rec->type == 'E')
			return 0;
	}
}

/*
 * Checks that size octets of content and the end record fill the rest of
 * the file_size octets of the file, exactly. 0, or -1 with a reason.
 */
static int
queue_reader_content(struct queue_reader *r, uint64_t size, off_t file_size)
{
	struct queue_file *qf = r->qf;
	uint64_t avail = 0;
	unsigned char end[QUEUE_HDR_LEN];
	ssize_t n;

	if (file_size > (off_t)r->pos)
		avail = (uint64_t)file_size - r->pos;
	if (size > avail) {
		queue_reader_error(r, "content truncated (%llu of %llu "
		    "octets)", (unsigned long long)avail,
		    (unsigned long long)size);
		return -1;
	}
	qf->content_offset = (off_t)r->pos;
	qf->content_size = (off_t)size;
	r->recno++;
	if (avail - size < QUEUE_HDR_LEN) {
		queue_reader_error(r, "truncated");
		return -1;
	}
	do
		n = pread(qf->fd, end, sizeof(end), qf->content_offset +
		    qf->content_size);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		int err = errno;

		queue_reader_error(r, "read: %s", strerror(err));
		return -1;
	}
	if (n != (ssize_t)sizeof(end)) {
		queue_reader_error(r, "truncated");
		return -1;
	}
	if (end[0] != QUEUE_END_TYPE) {
		queue_reader_bad_type(r, "end expected, found", end[0]);
		return -1;
	}
	if (queue_get_be32(end + 1) != 0) {
		queue_reader_error(r, "end record length %lu out of range",
		    (unsigned long)queue_get_be32(end + 1));
		return -1;
	}
	if (avail - size > QUEUE_HDR_LEN) {
		queue_reader_error(r, "%llu octets after the end record",
		    (unsigned long long)(avail - size - QUEUE_HDR_LEN));
		return -1;
	}
	return 0;
}

/* Waits for an exclusive lock on fd; 0, or -1 with errno. */
static int
queue_file_lock(int fd)
{
	int rc;

	while ((rc = flock(fd, LOCK_EX)) < 0 && errno == EINTR)
		continue;
	return rc;
}

struct queue_file *
queue_file_open(const char *path, int flags, struct sbuf *why)
{
	const char *base = strrchr(path, '/');
	struct queue_reader r = { 0 };
	struct queue_file *qf;
	uint64_t content_size = 0;
	struct stat st;
	int fd;

	/* O_NONBLOCK: a FIFO planted in the way does not block the open. */
	fd = open(path, ((flags & QUEUE_OPEN_UPDATE) ? O_RDWR : O_RDONLY) |
	    O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		sbuf_setf(why, "open %s: %m", path);
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		sbuf_setf(why, "fstat %s: %m", path);
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		sbuf_setf(why, "open %s: not a regular file", path);
		close(fd);
		return NULL;
	}
	if ((flags & QUEUE_OPEN_LOCK) != 0 && queue_file_lock(fd) < 0) {
		sbuf_setf(why, "lock %s: %m", path);
		close(fd);
		return NULL;
	}
	qf = xcalloc(1, sizeof(*qf));
	qf->fd = fd;
	qf->flags = flags;
	qf->path = xstrdup(path);
	base = base != NULL ? base + 1 : path;
	if (queue_id_valid(base))
		qf->id = xstrdup(base);
	r.qf = qf;
	r.name = qf->id != NULL ? qf->id : qf->path;
	r.why = why;
	if (queue_reader_head(&r, &content_size) < 0 ||
	    queue_reader_content(&r, content_size, st.st_size) < 0)
		queue_file_close(&qf);
	free(r.data);
	return qf;
}

ssize_t
queue_file_read(struct queue_file *qf, off_t pos, void *buf, size_t len,
    struct sbuf *why)
{
	size_t want = len, got = 0;

	if (pos < 0) {
		sbuf_setf(why, "read %s: negative offset", qf->path);
		return -1;
	}
	if (pos >= qf->content_size)
		return 0;
	if ((uint64_t)(qf->content_size - pos) < want)
		want = (size_t)(qf->content_size - pos);
	if (want > SSIZE_MAX)
		want = SSIZE_MAX;
	while (got < want) {
		ssize_t n = pread(qf->fd, (char *)buf + got, want - got,
		    qf->content_offset + pos + (off_t)got);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			sbuf_setf(why, "read %s: %m", qf->path);
			return -1;
		}
		if (n == 0) {
			sbuf_setf(why, "read %s: file shrank while open",
			    qf->path);
			return -1;
		}
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int
queue_file_mark_done(struct queue_file *qf, size_t index, struct sbuf *why)
{
	const char *name = qf->id != NULL ? qf->id : qf->path;
	static const char done = QUEUE_STATUS_DONE;

	if (index >= qf->rcpt_count) {
		sbuf_setf(why, "%s: no recipient %zu", name, index);
		return -1;
	}
	if (qf->rcpts[index].done)
		return 0;
	if ((qf->flags & QUEUE_OPEN_UPDATE) == 0) {
		sbuf_setf(why, "%s: not opened for update", name);
		return -1;
	}
	if (queue_pwrite_all(qf->fd, &done, 1, qf->status_offsets[index]) < 0) {
		sbuf_setf(why, "%s: mark recipient %zu done in %s: %m", name,
		    index, qf->path);
		return -1;
	}
	qf->rcpts[index].done = true;
	return 0;
}

bool
queue_file_all_done(const struct queue_file *qf)
{
	for (size_t i = 0; i < qf->rcpt_count; i++)
		if (!qf->rcpts[i].done)
			return false;
	return true;
}

/* Appends the recipient's line to out; 0, or -1 at out's limit. */
static int
queue_render_rcpt(const struct queue_rcpt *rcpt, struct sbuf *out)
{
	static const struct {
		int bit;
		const char *name;
	} bits[] = {
		{ QUEUE_NOTIFY_SUCCESS, "SUCCESS" },
		{ QUEUE_NOTIFY_FAILURE, "FAILURE" },
		{ QUEUE_NOTIFY_DELAY, "DELAY" },
		{ QUEUE_NOTIFY_NEVER, "NEVER" },
	};
	const char *sep = "\tnotify=";
	int ret;

	ret = sbuf_printf(out, "recipient: %s\t%s", rcpt->address,
	    rcpt->done ? "done" : "pending");
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
		if (rcpt->notify & bits[i].bit) {
			ret |= sbuf_printf(out, "%s%s", sep, bits[i].name);
			sep = ",";
		}
	if (rcpt->orcpt != NULL)
		ret |= sbuf_printf(out, "\torcpt=%s", rcpt->orcpt);
	ret |= sbuf_catc(out, '\n');
	return ret;
}

/* Appends the envelope's lines to out; 0, or -1 at out's limit. */
static int
queue_render_envelope(const struct queue_file *qf, struct sbuf *out)
{
	struct queue_envelope env = qf->env;
	struct tm tm;
	int ret = 0;

	if (qf->id != NULL)
		ret |= sbuf_printf(out, "queue_id: %s\n", qf->id);
	ret |= sbuf_printf(out, "arrival_time: %lld", (long long)qf->arrival);
	if (gmtime_r(&qf->arrival, &tm) != NULL)
		ret |= sbuf_printf(out, " (%04d-%02d-%02d %02d:%02d:%02d UTC)",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec);
	ret |= sbuf_printf(out, "\nmessage_size: %lld\nprotocol: %s\n",
	    (long long)qf->content_size, queue_proto_names[qf->env.proto]);
	for (size_t i = 0; i < QUEUE_REC_COUNT; i++) {
		const struct queue_rec *rec = &queue_recs[i];
		const char *value;

		if (rec->field == QUEUE_NO_FIELD)
			continue;
		value = *queue_env_field(&env, rec->field);
		if (value != NULL)
			ret |= sbuf_printf(out, "%s: %s\n", rec->label, value);
	}
	if (qf->env.ret != QUEUE_RET_NONE)
		ret |= sbuf_printf(out, "dsn_ret: %s\n",
		    queue_ret_names[qf->env.ret]);
	if (qf->env.body != QUEUE_BODY_7BIT)
		ret |= sbuf_printf(out, "body: %s\n",
		    queue_body_names[qf->env.body]);
	if (qf->env.smtputf8)
		ret |= sbuf_cat(out, "smtputf8: yes\n");
	for (size_t i = 0; i < qf->rcpt_count; i++)
		ret |= queue_render_rcpt(&qf->rcpts[i], out);
	ret |= sbuf_catc(out, '\n');
	return ret;
}

int
queue_file_render(struct queue_file *qf, struct sbuf *out, struct sbuf *why)
{
	size_t chunk_len = QUEUE_READ_CHUNK;
	char *chunk;
	off_t pos = 0;
	ssize_t n;

	if (queue_render_envelope(qf, out) < 0) {
		sbuf_setf(why, "%s: rendering over the buffer limit", qf->path);
		return -1;
	}
	if ((off_t)chunk_len > qf->content_size)
		chunk_len = (size_t)qf->content_size;
	chunk = xmalloc(chunk_len);
	while ((n = queue_file_read(qf, pos, chunk, chunk_len, why)) > 0) {
		if (sbuf_catn(out, chunk, (size_t)n) < 0) {
			sbuf_setf(why, "%s: rendering over the buffer limit",
			    qf->path);
			n = -1;
			break;
		}
		pos += n;
	}
	free(chunk);
	return n < 0 ? -1 : 0;
}

void
queue_file_close(struct queue_file **qfp)
{
	struct queue_file *qf = *qfp;

	if (qf == NULL)
		return;
	close(qf->fd);
	for (size_t i = 0; i < qf->rcpt_count; i++) {
		free((void *)qf->rcpts[i].address);
		free((void *)qf->rcpts[i].orcpt);
	}
	for (size_t i = 0; i < QUEUE_REC_COUNT; i++)
		if (queue_recs[i].field != QUEUE_NO_FIELD)
			free((void *)*queue_env_field(&qf->env,
			    queue_recs[i].field));
	free(qf->rcpts);
	free(qf->status_offsets);
	free(qf->path);
	free(qf->id);
	xfree(qfp);
}
