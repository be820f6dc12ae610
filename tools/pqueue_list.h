/*
 * pqueue_list - the queue listing of postern-queue: text (like mailq) or
 * JSON lines
 *
 * Text: a heading line, then per message a line with its queue id
 * (followed by '*' when in active/, '!' when in hold/), size in octets,
 * arrival time and sender ("<>" for the null sender), then per pending
 * recipient the reason of its last deferral in parentheses, when there
 * is one, and its address, each on a line of its own; an empty line
 * after each message, and at the end "-- N Kbytes in M Requests." (or
 * "Mail queue is empty").
 *
 * JSON: one object per message and line, with the members queue_name,
 * queue_id, arrival_time (seconds since the epoch), message_size
 * (octets), sender ("" for the null sender), recipients (an array of
 * objects with address, and orig_rcpt and delay_reason when known; the
 * pending recipients only) and "held": true for a message in hold/.
 */
#ifndef POSTERN_PQUEUE_LIST_H
#define POSTERN_PQUEUE_LIST_H

#include <stdio.h>

#include "pqueue_dirs.h"

struct dsn_log;
struct queue_file;
struct sbuf;

enum pqueue_format {
	PQUEUE_TEXT,
	PQUEUE_JSON
};

/* The heading line of the text listing, with its newline. */
#define PQUEUE_TEXT_HEADING \
	"-Queue ID-                --Size-- ----Arrival Time---- " \
	"-Sender/Recipient-------\n"

/*
 * Appends to out the entry of the message qf found in dir, whose defer
 * log is defer (NULL when it has none), in format.
 */
void pqueue_format(struct sbuf *out, enum pqueue_format format,
    enum pqueue_dir dir, const struct queue_file *qf,
    const struct dsn_log *defer);

/*
 * Appends to out the last line of the text listing for count messages of
 * size octets in all.
 */
void pqueue_format_total(struct sbuf *out, unsigned long long count,
    unsigned long long size);

/*
 * Lists every message of the queue (the current directory) on out in
 * format, reading one queue file at a time. A file that cannot be read
 * is skipped with a warning (one that has gone meanwhile silently). 0, or
 * -1 with a reason in why and errno set when a directory cannot be read.
 */
int pqueue_list(FILE *out, enum pqueue_format format, struct sbuf *why);

#endif
