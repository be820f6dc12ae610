/*
 * unix_sock - connect to a UNIX stream socket, and send wake-up bytes
 *
 * Daemons reach each other through sockets in the queue's private/ and
 * public/ directories: requests over a connection (unix_connect()), and
 * one-byte wake-ups (trigger_send()) that need no answer.
 */
#ifndef POSTERN_UNIX_SOCK_H
#define POSTERN_UNIX_SOCK_H

struct sbuf;

/*
 * Connects a new close-on-exec stream socket to path, within timeout_ms
 * milliseconds (negative: no limit) for connect() itself, which waits
 * only when the listener's backlog is full. The descriptor is left
 * non-blocking. The descriptor, or -1 with a reason naming path.
 */
int unix_connect(const char *path, int timeout_ms, struct sbuf *why);

/*
 * Sends the one byte to the trigger socket at path without waiting: a
 * full backlog means wake-ups are already queued, which is success. 0, or
 * -1 with a reason naming path (nothing listens there, ...).
 */
int trigger_send(const char *path, char byte, struct sbuf *why);

#endif
