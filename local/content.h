/*
 * content - how a mailbox writer receives the message it delivers
 *
 * The local delivery agent reads the content from the queue file; the
 * Maildir and mbox writers pull it through this callback in bounded
 * pieces, so a message is never held in memory whole.
 */
#ifndef POSTERN_LOCAL_CONTENT_H
#define POSTERN_LOCAL_CONTENT_H

#include <sys/types.h>

/*
 * Reads up to len bytes of message content into buf: the count, 0 at the
 * end, -1 with errno on error.
 */
typedef ssize_t (*content_read_fn)(void *ctx, char *buf, size_t len);

#endif
