/*
 * queue_id - unique queue ids that sort by arrival time
 *
 * A queue id names a queue file in every queue directory, appears at the
 * start of every log line about its message and in the Received header.
 * It is made of characters of QUEUE_ID_ALPHABET, the digits and the
 * upper-case ASCII letters: base 36, digit values in ASCII order, so that
 * comparing two ids with strcmp() compares their times.
 *
 *	id	= seconds microseconds inode
 *	seconds	= 7 characters: seconds since the epoch (up to 36^7 - 1,
 *		  in the year 4453), most significant first
 *	microseconds = 4 characters: 0 to 999999, most significant first
 *	inode	= 1 to 13 characters: the inode number of the queue file,
 *		  without leading zeros (the inode 0 is "0")
 *
 * An id is thus 12 to 24 characters long: "0SCT2O0APSW247H" is the file
 * with inode 98765 made at 2024-05-01 12:00:00.5 UTC.
 * Two files that exist at once on one filesystem never share an inode,
 * and a reused inode comes with a later time, so the ids of the files in
 * one queue are distinct. The id holds no '/', '.' or lower-case letter:
 * a temporary file name ("tmp.XXXXXX") is never a queue id, and an id is
 * safe to put in a path once queue_id_valid() has accepted it.
 */
#ifndef POSTERN_QUEUE_ID_H
#define POSTERN_QUEUE_ID_H

#include <stdbool.h>
#include <sys/time.h>
#include <sys/types.h>

struct sbuf;

#define QUEUE_ID_ALPHABET	"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define QUEUE_ID_SEC_LEN	7
#define QUEUE_ID_USEC_LEN	4
#define QUEUE_ID_TIME_LEN	(QUEUE_ID_SEC_LEN + QUEUE_ID_USEC_LEN)
#define QUEUE_ID_INO_MAX_LEN	13
#define QUEUE_ID_MIN_LEN	(QUEUE_ID_TIME_LEN + 1)
#define QUEUE_ID_MAX_LEN	(QUEUE_ID_TIME_LEN + QUEUE_ID_INO_MAX_LEN)
/* The latest second an id can hold: 36^7 - 1. */
#define QUEUE_ID_SEC_MAX	78364164095LL

/*
 * Makes the id of the time tv (tv_sec from 0 to QUEUE_ID_SEC_MAX, tv_usec
 * from 0 to 999999) and the inode ino, replacing the content of id_r.
 * 0, or -1 with a reason in why when the time is out of range.
 */
int queue_id_make(const struct timeval *tv, ino_t ino, struct sbuf *id_r,
    struct sbuf *why);

/*
 * Makes the id of a new queue file whose inode is ino from the current
 * time, as queue_id_make() does. Within one process each id's time is
 * later than the previous one's: when the clock has not moved on since
 * (or went back), the time used is one microsecond after the previous
 * one, so ids made in sequence sort in sequence. 0, or -1 with a reason
 * in why when the clock is outside what an id can hold.
 */
int queue_id_new(ino_t ino, struct sbuf *id_r, struct sbuf *why);

/*
 * True when id is exactly an id that queue_id_make() can return: the
 * length, the alphabet, microseconds below one million, an inode without
 * leading zeros that fits in ino_t. Check every id taken from a file name
 * or a command line with this before building a path from it.
 */
bool queue_id_valid(const char *id);

/* The time encoded in a valid id in *tv_r: 0, or -1 when id is invalid. */
int queue_id_time(const char *id, struct timeval *tv_r);

#endif
