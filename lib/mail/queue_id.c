/*
 * queue_id - unique queue ids that sort by arrival time
 *
 * Encodes a time and an inode number in fixed-width base 36 (variable
 * width, without leading zeros, for the inode) and decodes them again.
 * queue_id_new() keeps the last time it used, so that ids made in one
 * process sort in the order they were made.
 *
 * Errors: -1 with a reason in why when a time is out of range; never logs.
 * Trust: ids given to queue_id_valid() and queue_id_time() are hostile
 * (file names, command-line arguments); nothing is assumed of them.
 */
#include "mail/queue_id.h"

#include <stdint.h>
#include <string.h>
#include <time.h>

#include "util/sbuf.h"

#define QUEUE_ID_BASE	36
#define QUEUE_ID_USEC	1000000L

/* The value of an id character, or -1 when it is not in the alphabet. */
static int
queue_id_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return -1;
}

/* Writes v at p as exactly width base-36 digits; v must fit. */
static void
queue_id_put_fixed(char *p, uintmax_t v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		p[i] = QUEUE_ID_ALPHABET[v % QUEUE_ID_BASE];
		v /= QUEUE_ID_BASE;
	}
}

/*
 * Decodes the len characters at p as a base-36 number no larger than max.
 * 0 and *v_r, or -1 on a character outside the alphabet or a value over
 * max.
 */
static int
queue_id_get(const char *p, size_t len, uintmax_t max, uintmax_t *v_r)
{
	uintmax_t v = 0;

	for (size_t i = 0; i < len; i++) {
		int d = queue_id_digit(p[i]);

		if (d < 0 || v > (max - (uintmax_t)d) / QUEUE_ID_BASE)
			return -1;
		v = v * QUEUE_ID_BASE + (uintmax_t)d;
	}
	*v_r = v;
	return 0;
}

int
queue_id_make(const struct timeval *tv, ino_t ino, struct sbuf *id_r,
    struct sbuf *why)
{
	char id[QUEUE_ID_MAX_LEN];
	char ino_digits[QUEUE_ID_INO_MAX_LEN];
	uintmax_t v = (uintmax_t)ino;
	size_t n = 0;

	if (tv->tv_sec < 0 || tv->tv_sec > QUEUE_ID_SEC_MAX ||
	    tv->tv_usec < 0 || tv->tv_usec >= QUEUE_ID_USEC) {
		sbuf_setf(why, "time %lld.%06ld out of range for a queue id",
		    (long long)tv->tv_sec, (long)tv->tv_usec);
		return -1;
	}
	queue_id_put_fixed(id, (uintmax_t)tv->tv_sec, QUEUE_ID_SEC_LEN);
	queue_id_put_fixed(id + QUEUE_ID_SEC_LEN, (uintmax_t)tv->tv_usec,
	    QUEUE_ID_USEC_LEN);
	do {
		ino_digits[n++] = QUEUE_ID_ALPHABET[v % QUEUE_ID_BASE];
		v /= QUEUE_ID_BASE;
	} while (v > 0);
	for (size_t i = 0; i < n; i++)
		id[QUEUE_ID_TIME_LEN + i] = ino_digits[n - 1 - i];
	sbuf_reset(id_r);
	if (sbuf_catn(id_r, id, QUEUE_ID_TIME_LEN + n) < 0) {
		sbuf_set(why, "queue id over the buffer limit");
		return -1;
	}
	return 0;
}

int
queue_id_new(ino_t ino, struct sbuf *id_r, struct sbuf *why)
{
	static struct timeval last;
	struct timespec now;
	struct timeval tv;

	if (clock_gettime(CLOCK_REALTIME, &now) < 0) {
		sbuf_setf(why, "read the clock: %m");
		return -1;
	}
	tv.tv_sec = now.tv_sec;
	tv.tv_usec = now.tv_nsec / 1000;
	if (tv.tv_sec < last.tv_sec || (tv.tv_sec == last.tv_sec &&
	    tv.tv_usec <= last.tv_usec)) {
		tv = last;
		if (++tv.tv_usec == QUEUE_ID_USEC) {
			tv.tv_usec = 0;
			tv.tv_sec++;
		}
	}
	if (queue_id_make(&tv, ino, id_r, why) < 0)
		return -1;
	last = tv;
	return 0;
}

bool
queue_id_valid(const char *id)
{
	struct timeval tv;

	return queue_id_time(id, &tv) == 0;
}

int
queue_id_time(const char *id, struct timeval *tv_r)
{
	size_t len = strnlen(id, QUEUE_ID_MAX_LEN + 1);
	const char *ino = id + QUEUE_ID_TIME_LEN;
	uintmax_t sec, usec, inode;

	if (len < QUEUE_ID_MIN_LEN || len > QUEUE_ID_MAX_LEN)
		return -1;
	if (queue_id_get(id, QUEUE_ID_SEC_LEN, QUEUE_ID_SEC_MAX, &sec) < 0 ||
	    queue_id_get(id + QUEUE_ID_SEC_LEN, QUEUE_ID_USEC_LEN,
	    QUEUE_ID_USEC - 1, &usec) < 0)
		return -1;
	if (ino[0] == '0' && ino[1] != '\0')
		return -1;
	if (queue_id_get(ino, len - QUEUE_ID_TIME_LEN, (ino_t)-1, &inode) < 0)
		return -1;
	if ((uintmax_t)(time_t)sec != sec)
		return -1;
	tv_r->tv_sec = (time_t)sec;
	tv_r->tv_usec = (suseconds_t)usec;
	return 0;
}
