/*
 * smtp_connect - a TCP connection to a numeric address with a time limit
 *
 * The socket is non-blocking only while it connects; the stream layer
 * (util/stream.h) never relies on the descriptor's flags. Errors: -1
 * with the system's reason; never logs. Trust: the address comes from
 * DNS or the configuration and is only ever parsed with inet_pton().
 */
#include "smtp_connect.h"

#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "util/sbuf.h"

int
smtp_connect(const char *addr, unsigned port, int timeout_ms,
    struct sbuf *why)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	struct pollfd pfd;
	int fd, err = 0, flags, n;
	socklen_t errlen = sizeof(err);

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		len = sizeof(*sin6);
	} else {
		sbuf_setf(why, "bad address \"%s\"", addr);
		return -1;
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) < 0) {
		sbuf_setf(why, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
		if (errno != EINPROGRESS) {
			err = errno;
			goto fail;
		}
		pfd.fd = fd;
		pfd.events = POLLOUT;
		while ((n = poll(&pfd, 1, timeout_ms)) < 0 && errno == EINTR)
			;
		if (n == 0) {
			sbuf_set(why, "connection timed out");
			close(fd);
			return -1;
		}
		if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err,
		    &errlen) < 0)
			err = errno;
		if (err != 0)
			goto fail;
	}
	if ((flags = fcntl(fd, F_GETFL)) >= 0)
		(void)fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	return fd;
fail:
	sbuf_set(why, strerror(err));
	close(fd);
	return -1;
}
