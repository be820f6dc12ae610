/*
 * unix_sock - connect to a UNIX stream socket, and send wake-up bytes
 *
 * Errors: every failure comes back with a reason naming the path.
 */
#include "util/unix_sock.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/sbuf.h"

/* A non-blocking socket connecting to path: 0 connected, -1 failed
 * (reason in why), 1 in progress (backlog full). */
static int
unix_start(const char *path, int *fd_r, struct sbuf *why)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		sbuf_setf(why, "socket path %s is too long", path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) < 0) {
		sbuf_setf(why, "socket: %m");
		return -1;
	}
	*fd_r = fd;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		return 0;
	if (errno == EAGAIN || errno == EINPROGRESS)
		return 1;
	sbuf_setf(why, "connect to %s: %m", path);
	close(fd);
	return -1;
}

int
unix_connect(const char *path, int timeout_ms, struct sbuf *why)
{
	struct sockaddr_un sun;
	struct pollfd pfd;
	int fd, rc, n;

	if ((rc = unix_start(path, &fd, why)) <= 0)
		return rc == 0 ? fd : -1;
	/*
	 * The backlog is full: a UNIX socket does not finish a connect in
	 * the background, so retry it as the listener makes room.
	 */
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	for (;;) {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		n = poll(&pfd, 1, timeout_ms < 0 ? 100 :
		    timeout_ms < 100 ? timeout_ms : 100);
		if (n < 0 && errno != EINTR)
			break;
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 ||
		    errno == EISCONN)
			return fd;
		if (errno != EAGAIN && errno != EINPROGRESS &&
		    errno != EALREADY)
			break;
		if (timeout_ms >= 0 && (timeout_ms -= 100) <= 0) {
			errno = ETIMEDOUT;
			break;
		}
	}
	sbuf_setf(why, "connect to %s: %m", path);
	close(fd);
	return -1;
}

int
trigger_send(const char *path, char byte, struct sbuf *why)
{
	int fd, rc;

	if ((rc = unix_start(path, &fd, why)) < 0)
		return -1;
	if (rc == 0 && send(fd, &byte, 1, MSG_NOSIGNAL) < 0 &&
	    errno != EAGAIN) {
		sbuf_setf(why, "write to %s: %m", path);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}
