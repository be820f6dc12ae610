/*
 * attr - the attribute protocol between daemons
 *
 * Builds frames in an sbuf, decodes them into a sorted array of records
 * (binary search for lookups, neighbours compared for duplicates), and
 * moves them over a socket with one deadline per frame: non-blocking
 * send()/recv() first, poll() only when the socket is not ready.
 *
 * Errors: -1 with a reason in why; never logs. A writer's failures are
 * kept until attr_end().
 * Trust: the peer is another Postern daemon that may be compromised or
 * broken: every length is checked against what remains before it is used,
 * a frame's length against the receiver's limit before anything is
 * allocated for it, and nothing is read past the frame.
 */
#include "util/attr.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "util/sbuf.h"
#include "util/strutil.h"
#include "util/xmalloc.h"

/* No frame within the limits can overflow its 32-bit length. */
_Static_assert((uint64_t)(ATTR_COUNT_MAX + 1) *
    (8 + ATTR_NAME_MAX + ATTR_VALUE_MAX) < UINT32_MAX,
    "attribute limits overflow the frame length");

struct attr_rec {
	char *name;		/* NUL-terminated */
	char *value;		/* len bytes and an uncounted NUL */
	size_t len;
};

struct attr_list {
	struct attr_rec *recs;	/* sorted by name */
	size_t count;
};

static void
attr_put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t
attr_get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* True when the len bytes of name are a valid attribute name. */
static bool
attr_name_ok(const char *name, size_t len)
{
	if (len == 0 || len > ATTR_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= '0' && name[i] <= '9') || name[i] == '_'))
			return false;
	return true;
}

/* Appends one record to the writer's frame, its arguments checked. */
static void
attr_append(struct attr_writer *w, const char *name, const void *value,
    size_t len)
{
	size_t name_len = strlen(name);
	unsigned char num[4];

	attr_put_be32(num, (uint32_t)name_len);
	if (sbuf_catn(w->frame, num, 4) == 0 &&
	    sbuf_catn(w->frame, name, name_len) == 0) {
		attr_put_be32(num, (uint32_t)len);
		if (sbuf_catn(w->frame, num, 4) == 0 &&
		    sbuf_catn(w->frame, value, len) == 0)
			return;
	}
	w->error = "attribute frame over the buffer limit";
}

void
attr_begin(struct attr_writer *w, struct sbuf *frame)
{
	char version[16];

	w->frame = frame;
	w->count = 0;
	w->error = NULL;
	sbuf_reset(frame);
	if (sbuf_catn(frame, "\0\0\0\0", 4) < 0) {
		w->error = "attribute frame over the buffer limit";
		return;
	}
	snprintf(version, sizeof(version), "%d", ATTR_VERSION);
	attr_append(w, ATTR_VERSION_NAME, version, strlen(version));
}

void
attr_put_bytes(struct attr_writer *w, const char *name, const void *value,
    size_t len)
{
	if (w->error != NULL)
		return;
	if (!attr_name_ok(name, strlen(name)))
		w->error = "invalid attribute name";
	else if (strcmp(name, ATTR_VERSION_NAME) == 0)
		w->error = "reserved attribute name";
	else if (len > ATTR_VALUE_MAX)
		w->error = "attribute value too long";
	else if (w->count >= ATTR_COUNT_MAX)
		w->error = "too many attributes";
	else {
		attr_append(w, name, value, len);
		w->count++;
	}
}

void
attr_put_str(struct attr_writer *w, const char *name, const char *value)
{
	attr_put_bytes(w, name, value, strlen(value));
}

void
attr_put_long(struct attr_writer *w, const char *name, long value)
{
	char num[32];

	snprintf(num, sizeof(num), "%ld", value);
	attr_put_bytes(w, name, num, strlen(num));
}

int
attr_end(struct attr_writer *w, struct sbuf *why)
{
	if (w->error != NULL) {
		sbuf_set(why, w->error);
		return -1;
	}
	attr_put_be32((unsigned char *)w->frame->data,
	    (uint32_t)(w->frame->len - 4));
	return 0;
}

/*
 * Reads the record at *p (with *left bytes remaining) into its parts and
 * advances past it.
 */
static int
attr_read_record(const unsigned char **p, size_t *left, const char **name_r,
    size_t *name_len_r, const char **value_r, size_t *len_r,
    struct sbuf *why)
{
	uint32_t name_len, len;

	if (*left < 4) {
		sbuf_set(why, "truncated attribute record");
		return -1;
	}
	name_len = attr_get_be32(*p);
	*p += 4;
	*left -= 4;
	if (name_len == 0 || name_len > ATTR_NAME_MAX) {
		sbuf_setf(why, "attribute name length %lu out of range",
		    (unsigned long)name_len);
		return -1;
	}
	if (name_len > *left) {
		sbuf_set(why, "truncated attribute name");
		return -1;
	}
	*name_r = (const char *)*p;
	*name_len_r = name_len;
	if (!attr_name_ok(*name_r, name_len)) {
		sbuf_set(why, "invalid character in attribute name");
		return -1;
	}
	*p += name_len;
	*left -= name_len;
	if (*left < 4) {
		sbuf_set(why, "truncated attribute record");
		return -1;
	}
	len = attr_get_be32(*p);
	*p += 4;
	*left -= 4;
	if (len > ATTR_VALUE_MAX) {
		sbuf_setf(why, "attribute %.*s: value of %lu bytes over "
		    "the limit", (int)name_len, *name_r, (unsigned long)len);
		return -1;
	}
	if (len > *left) {
		sbuf_set(why, "truncated attribute value");
		return -1;
	}
	*value_r = (const char *)*p;
	*len_r = len;
	*p += len;
	*left -= len;
	return 0;
}

static int
attr_rec_cmp(const void *a, const void *b)
{
	return strcmp(((const struct attr_rec *)a)->name,
	    ((const struct attr_rec *)b)->name);
}

/* Checks that the first record of a body is the right version. */
static int
attr_check_version(const unsigned char **p, size_t *left, struct sbuf *why)
{
	const char *name, *value;
	size_t name_len, len;
	char want[16];

	if (attr_read_record(p, left, &name, &name_len, &value, &len,
	    why) < 0)
		return -1;
	if (name_len != strlen(ATTR_VERSION_NAME) ||
	    memcmp(name, ATTR_VERSION_NAME, name_len) != 0) {
		sbuf_set(why, "missing attribute protocol version");
		return -1;
	}
	snprintf(want, sizeof(want), "%d", ATTR_VERSION);
	if (len != strlen(want) || memcmp(value, want, len) != 0) {
		sbuf_set(why, "unsupported attribute protocol version");
		return -1;
	}
	return 0;
}

int
attr_decode(const char *data, size_t len, struct attr_list **out,
    struct sbuf *why)
{
	const unsigned char *p = (const unsigned char *)data;
	struct attr_list *list;
	size_t left;

	if (len < 4) {
		sbuf_set(why, "truncated frame length");
		return -1;
	}
	if (attr_get_be32(p) != len - 4) {
		sbuf_setf(why, "frame length %lu does not match its %zu bytes",
		    (unsigned long)attr_get_be32(p), len - 4);
		return -1;
	}
	p += 4;
	left = len - 4;
	if (attr_check_version(&p, &left, why) < 0)
		return -1;
	list = xmalloc(sizeof(*list));
	list->recs = NULL;
	list->count = 0;
	for (size_t cap = 0; left > 0; list->count++) {
		const char *name, *value;
		size_t name_len, value_len;
		struct attr_rec *r;

		if (list->count == ATTR_COUNT_MAX) {
			sbuf_set(why, "too many attributes");
			goto fail;
		}
		if (attr_read_record(&p, &left, &name, &name_len, &value,
		    &value_len, why) < 0)
			goto fail;
		if (list->count == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			list->recs = xreallocarray(list->recs, cap,
			    sizeof(*list->recs));
		}
		r = &list->recs[list->count];
		r->name = xstrndup(name, name_len);
		r->value = xstrndup(value, value_len);
		r->len = value_len;
	}
	if (list->count > 0)
		qsort(list->recs, list->count, sizeof(*list->recs),
		    attr_rec_cmp);
	for (size_t i = 0; i < list->count; i++) {
		if (strcmp(list->recs[i].name, ATTR_VERSION_NAME) == 0 ||
		    (i > 0 && strcmp(list->recs[i - 1].name,
		    list->recs[i].name) == 0)) {
			sbuf_setf(why, "duplicate attribute %s",
			    list->recs[i].name);
			goto fail;
		}
	}
	*out = list;
	return 0;
fail:
	attr_list_free(&list);
	return -1;
}

void
attr_list_free(struct attr_list **list)
{
	if (*list == NULL)
		return;
	for (size_t i = 0; i < (*list)->count; i++) {
		free((*list)->recs[i].name);
		free((*list)->recs[i].value);
	}
	free((*list)->recs);
	xfree(list);
}

size_t
attr_count(const struct attr_list *list)
{
	return list->count;
}

/* The record named name, or NULL. */
static const struct attr_rec *
attr_find(const struct attr_list *list, const char *name)
{
	struct attr_rec key = { .name = (char *)name };

	if (list->count == 0)
		return NULL;
	return bsearch(&key, list->recs, list->count, sizeof(*list->recs),
	    attr_rec_cmp);
}

const char *
attr_get_str(const struct attr_list *list, const char *name)
{
	const struct attr_rec *r = attr_find(list, name);

	if (r == NULL || memchr(r->value, '\0', r->len) != NULL)
		return NULL;
	return r->value;
}

int
attr_get_long(const struct attr_list *list, const char *name, long min,
    long max, long *value_r, struct sbuf *why)
{
	const struct attr_rec *r = attr_find(list, name);
	long v;

	if (r == NULL) {
		sbuf_setf(why, "attribute %s missing", name);
		return -1;
	}
	if (memchr(r->value, '\0', r->len) != NULL ||
	    str_to_long(r->value, &v) < 0) {
		sbuf_setf(why, "attribute %s: not a number", name);
		return -1;
	}
	if (v < min || v > max) {
		sbuf_setf(why, "attribute %s: %ld out of range %ld to %ld",
		    name, v, min, max);
		return -1;
	}
	*value_r = v;
	return 0;
}

int
attr_get_bytes(const struct attr_list *list, const char *name,
    const char **value_r, size_t *len_r)
{
	const struct attr_rec *r = attr_find(list, name);

	if (r == NULL)
		return -1;
	*value_r = r->value;
	*len_r = r->len;
	return 0;
}

/* Sets *deadline to timeout_ms from now on the monotonic clock. */
static void
attr_deadline(struct timespec *deadline, int timeout_ms)
{
	clock_gettime(CLOCK_MONOTONIC, deadline);
	deadline->tv_sec += timeout_ms / 1000;
	deadline->tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (deadline->tv_nsec >= 1000000000) {
		deadline->tv_sec++;
		deadline->tv_nsec -= 1000000000;
	}
}

/*
 * Waits until fd is ready for events or the deadline (NULL: none) passes.
 * 0 when ready; -1 on timeout (errno ETIMEDOUT) or a poll() failure.
 */
static int
attr_wait(int fd, short events, const struct timespec *deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };

	for (;;) {
		int ms = -1, n;

		if (deadline != NULL) {
			struct timespec now;
			int64_t ns;

			clock_gettime(CLOCK_MONOTONIC, &now);
			ns = (int64_t)(deadline->tv_sec - now.tv_sec) *
			    1000000000 + (deadline->tv_nsec - now.tv_nsec);
			if (ns <= 0) {
				errno = ETIMEDOUT;
				return -1;
			}
			ms = (int)((ns + 999999) / 1000000);
		}
		if ((n = poll(&pfd, 1, ms)) > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

int
attr_send(int fd, const struct sbuf *frame, int timeout_ms, struct sbuf *why)
{
	struct timespec deadline, *dl = NULL;
	const char *p = frame->data;
	size_t left = frame->len;

	if (timeout_ms >= 0) {
		attr_deadline(&deadline, timeout_ms);
		dl = &deadline;
	}
	while (left > 0) {
		ssize_t n = send(fd, p, left, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n >= 0) {
			p += n;
			left -= (size_t)n;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (attr_wait(fd, POLLOUT, dl) < 0)
				break;
		} else if (errno != EINTR)
			break;
	}
	if (left > 0) {
		int saved = errno;

		sbuf_setf(why, saved == ETIMEDOUT ? "timeout sending a frame "
		    "(%zu of %zu bytes sent)" : "send frame (%zu of %zu bytes "
		    "sent): %m", frame->len - left, frame->len);
		errno = saved;
		return -1;
	}
	return 0;
}

enum attr_read_status {
	ATTR_READ_OK,
	ATTR_READ_EOF,
	ATTR_READ_TIMEOUT,
	ATTR_READ_ERROR
};

/*
 * Reads len bytes into buf before the deadline (NULL: none), counting
 * them in *got_r. errno is kept on ATTR_READ_ERROR.
 */
static enum attr_read_status
attr_read_exact(int fd, void *buf, size_t len,
    const struct timespec *deadline, size_t *got_r)
{
	*got_r = 0;
	while (*got_r < len) {
		ssize_t n = recv(fd, (char *)buf + *got_r, len - *got_r,
		    MSG_DONTWAIT);

		if (n > 0)
			*got_r += (size_t)n;
		else if (n == 0)
			return ATTR_READ_EOF;
		else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (attr_wait(fd, POLLIN, deadline) < 0)
				return errno == ETIMEDOUT ?
				    ATTR_READ_TIMEOUT : ATTR_READ_ERROR;
		} else if (errno != EINTR)
			return ATTR_READ_ERROR;
	}
	return ATTR_READ_OK;
}

/*
 * Turns a failed read of a frame's part (what) into a reason: got of want
 * bytes of it had arrived, after done bytes of the frame.
 */
static void
attr_read_why(enum attr_read_status st, const char *what, size_t done,
    size_t got, size_t want, struct sbuf *why)
{
	switch (st) {
	case ATTR_READ_OK:
		break;
	case ATTR_READ_EOF:
		if (done + got == 0)
			sbuf_set(why, "connection closed before a frame");
		else
			sbuf_setf(why, "connection closed inside a frame "
			    "(%zu of %zu bytes of its %s)", got, want, what);
		break;
	case ATTR_READ_TIMEOUT:
		if (done + got == 0)
			sbuf_set(why, "timeout waiting for a frame");
		else
			sbuf_setf(why, "timeout inside a frame "
			    "(%zu of %zu bytes of its %s)", got, want, what);
		break;
	case ATTR_READ_ERROR:
		sbuf_setf(why, "receive frame: %m");
		break;
	}
}

int
attr_recv(int fd, size_t max_frame, int timeout_ms, struct attr_list **out,
    struct sbuf *why)
{
	struct timespec deadline, *dl = NULL;
	unsigned char head[4];
	enum attr_read_status st;
	size_t got, len;
	char *buf;
	int ret;

	if (timeout_ms >= 0) {
		attr_deadline(&deadline, timeout_ms);
		dl = &deadline;
	}
	if ((st = attr_read_exact(fd, head, 4, dl, &got)) != ATTR_READ_OK) {
		attr_read_why(st, "length", 0, got, 4, why);
		return -1;
	}
	len = attr_get_be32(head);
	if (len > max_frame || len > SIZE_MAX - 4) {
		sbuf_setf(why, "frame of %zu bytes over the limit of %zu",
		    len, max_frame);
		return -1;
	}
	buf = xmalloc(4 + len);
	memcpy(buf, head, 4);
	if ((st = attr_read_exact(fd, buf + 4, len, dl, &got)) !=
	    ATTR_READ_OK) {
		attr_read_why(st, "body", 4, got, len, why);
		free(buf);
		return -1;
	}
	ret = attr_decode(buf, 4 + len, out, why);
	free(buf);
	return ret;
}
