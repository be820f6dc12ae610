/*
 * smtp_connect - a TCP connection to a numeric address with a time limit
 */
#ifndef POSTERN_SMTP_CONNECT_H
#define POSTERN_SMTP_CONNECT_H

struct sbuf;

/*
 * Connects to addr (IPv4 or IPv6, numeric) port within timeout_ms. The
 * connected descriptor (close-on-exec), or -1 with a reason ("Connection
 * refused", "connection timed out").
 */
int smtp_connect(const char *addr, unsigned port, int timeout_ms,
    struct sbuf *why);

#endif
