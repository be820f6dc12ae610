/*
 * local_loop - find the Delivered-To: headers a message already carries
 *
 * local adds "Delivered-To: RECIPIENT" to every message it delivers. A
 * message that comes back with that header for the recipient it is about
 * to be delivered to has gone round in a mail loop (a .forward or alias
 * that sends it back here); it bounces with 5.4.6 instead of circling.
 */
#ifndef POSTERN_LOCAL_LOOP_H
#define POSTERN_LOCAL_LOOP_H

#include <stdbool.h>

#include "content.h"

struct sbuf;

#define LOCAL_LOOP_HEADER_MAX	(256 * 1024)	/* header octets read */

/*
 * Reads the message header through read_fn (up to the first empty line,
 * at most LOCAL_LOOP_HEADER_MAX octets) and sets values to the value of
 * each Delivered-To: field (name in any case, folded lines joined,
 * blanks trimmed), one per line. 0, or -1 when the content cannot be
 * read.
 */
int local_loop_scan(content_read_fn read_fn, void *ctx, struct sbuf *values);

/* True when one of the lines of values equals address, ignoring case. */
bool local_loop_seen(const struct sbuf *values, const char *address);

#endif
