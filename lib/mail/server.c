/*
 * server - the skeleton every Postern daemon runs in
 *
 * Errors: anything wrong with the process's start (arguments, main.cf,
 * descriptors, privileges) is fatal: master logs the exit and restarts the
 * service with back-off. Client trouble is the daemon's to answer; a
 * session that outlives daemon_timeout is killed by the watchdog.
 * Trust: arguments and descriptors come from master; clients are hostile
 * and reach the daemon only after privileges are dropped.
 */
#include "mail/server.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sysexits.h>
#include <unistd.h>

#include "mail/main_cf.h"
#include "mail/master_proto.h"
#include "mail/params.h"
#include "util/event.h"
#include "util/msg.h"
#include "util/safe_file.h"
#include "util/sbuf.h"
#include "util/stream.h"
#include "util/strutil.h"
#include "util/xmalloc.h"

#define SERVER_LISTEN_MAX	64	/* sockets one service may be given */
#define SERVER_TRIGGER_MAX	64	/* wake-up bytes read per wake-up */

/* What master told this process on its command line. */
struct server_args {
	const char *config_dir;
	const char *service;
	const char *type;
	const char *user;	/* -u: become this user (started as root) */
	const char *chroot_dir;	/* -r */
	int listen_count;
	bool single_user;
	bool log_stderr;
	struct main_cf *cf;
};

static struct params *server_params_loaded;
static bool server_single;
static volatile sig_atomic_t server_stopping;
static int server_listen_count;	/* for the SIGTERM handler */
static struct event_loop *server_loop_event;	/* SERVER_EVENT */

const struct params *
server_params(void)
{
	return server_params_loaded;
}

struct event_loop *
server_event_loop(void)
{
	return server_loop_event;
}

bool
server_single_user(void)
{
	return server_single;
}

/*
 * SIGTERM: finish the current client, then exit. The listeners are closed
 * at once, so a service master removed stops taking clients now.
 */
static void
server_on_term(int sig)
{
	server_stopping = 1;
	for (int i = 0; i < server_listen_count; i++)
		close(MASTER_LISTEN_FD + i);
}

static void __attribute__((noreturn))
server_usage(const char *name)
{
	msg_fatal_status(EX_USAGE, "usage: %s -c config_dir -n service "
	    "-t inet|unix|fifo -s count [-u user] [-r dir] [-lSv] "
	    "[-o name=value ...]", name);
}

/*
 * Makes the death of master a SIGTERM: a process busy with a client
 * closes its listeners at once (so a new master can bind them) and exits
 * after that client. Set after the privilege drop, which clears it; a
 * master that died before is seen in the parent's pid.
 */
static void
server_tie_to_master(pid_t master)
{
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0)
		msg_warn("prctl: %m");
	if (getppid() != master)
		raise(SIGTERM);
}

/* Applies one "-o name=value" override. */
static void
server_override(struct main_cf *cf, const char *arg)
{
	struct sbuf *why = sbuf_new();
	const char *eq = strchr(arg, '=');
	char *name;

	if (eq == NULL || eq == arg)
		msg_fatal_status(EX_USAGE, "-o %s: expected name=value", arg);
	name = xstrndup(arg, (size_t)(eq - arg));
	if (main_cf_set(cf, name, eq + 1, why) < 0)
		msg_fatal_status(EX_CONFIG, "-o %s: %s", arg, sbuf_str(why));
	free(name);
	sbuf_free(&why);
}

static void
server_parse_args(int argc, char **argv, const struct server_def *def,
    struct server_args *a)
{
	struct sbuf *why = sbuf_new();
	char **overrides = xcalloc((size_t)argc, sizeof(*overrides));
	size_t n_overrides = 0;
	long count = 0;
	int c;

	memset(a, 0, sizeof(*a));
	opterr = 0;
	while ((c = getopt(argc, argv, "c:n:t:s:u:r:lSvo:")) != -1) {
		switch (c) {
		case 'c':
			a->config_dir = optarg;
			break;
		case 'n':
			a->service = optarg;
			break;
		case 't':
			a->type = optarg;
			break;
		case 's':
			if (str_to_long(optarg, &count) < 0 || count < 0 ||
			    count > SERVER_LISTEN_MAX)
				server_usage(def->name);
			a->listen_count = (int)count;
			break;
		case 'u':
			a->user = optarg;
			break;
		case 'r':
			a->chroot_dir = optarg;
			break;
		case 'l':
			a->log_stderr = true;
			break;
		case 'S':
			a->single_user = true;
			break;
		case 'v':
			msg_verbose++;
			break;
		case 'o':
			overrides[n_overrides++] = optarg;
			break;
		default:
			server_usage(def->name);
		}
	}
	if (a->config_dir == NULL || a->service == NULL || a->type == NULL)
		server_usage(def->name);
	if ((a->cf = main_cf_load(a->config_dir, why)) == NULL)
		msg_fatal_status(EX_CONFIG, "%s", sbuf_str(why));
	for (size_t i = 0; i < n_overrides; i++)
		server_override(a->cf, overrides[i]);
	free(overrides);
	sbuf_free(&why);
}

/* Chroots (when asked) and becomes the service's user; verifies it. */
static void
server_drop_privileges(const struct server_args *a,
    const struct server_def *def)
{
	struct passwd *pw = NULL;

	if (a->user != NULL && (pw = getpwnam(a->user)) == NULL)
		msg_fatal("unknown user %s for service %s", a->user,
		    a->service);
	if (a->chroot_dir != NULL) {
		if (chroot(a->chroot_dir) < 0 || chdir("/") < 0)
			msg_fatal("chroot %s: %m", a->chroot_dir);
	}
	if (pw != NULL) {
		if (initgroups(pw->pw_name, pw->pw_gid) < 0 ||
		    setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
			msg_fatal("become user %s: %m", pw->pw_name);
		if (pw->pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
			msg_panic("privileges of user %s can be regained",
			    pw->pw_name);
	}
	if (!def->allow_root && (getuid() == 0 || geteuid() == 0))
		msg_fatal("service %s must not run as root: set unpriv to y "
		    "in master.cf", a->service);
}

/*
 * Tells master this process is available or busy, when that changed;
 * exits if master is gone.
 */
static void
server_report(int status)
{
	static int reported = -1;
	struct master_status st = {getpid(), status};

	if (status == reported)
		return;
	reported = status;
	if (safe_write_all(MASTER_STATUS_FD, &st, sizeof(st)) < 0) {
		if (errno == EPIPE)
			exit(0);
		msg_fatal("report to master: %m");
	}
}

/* Numeric address and port of a connected socket ("local" for unix). */
static void
server_peer(int fd, struct sbuf *addr, struct sbuf *port)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[NI_MAXHOST], serv[NI_MAXSERV];
	const char *h = host;

	sbuf_reset(addr);
	sbuf_reset(port);
	if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0 ||
	    ss.ss_family == AF_UNIX || getnameinfo((struct sockaddr *)&ss,
	    len, host, sizeof(host), serv, sizeof(serv),
	    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		sbuf_set(addr, "local");
		return;
	}
	if (str_starts(h, "::ffff:") && strchr(h, '.') != NULL)
		h += 7;
	sbuf_set(addr, h);
	sbuf_set(port, serv);
}

/* Serves one accepted client under the watchdog. */
static void
server_serve_client(const struct server_def *def, const char *service,
    int fd)
{
	const struct params *p = server_params_loaded;
	struct sbuf *addr = sbuf_new(), *port = sbuf_new();
	struct server_client client;

	server_peer(fd, addr, port);
	client.stream = stream_open(fd, (int)(p->ipc_timeout * 1000));
	client.addr = sbuf_str(addr);
	client.port = sbuf_str(port);
	client.service = service;
	alarm((unsigned)p->daemon_timeout);
	def->serve(&client);
	alarm(0);
	stream_free(&client.stream);
	sbuf_free(&addr);
	sbuf_free(&port);
}

/* Reads the wake-up bytes waiting on a trigger socket or fifo. */
static void
server_take_trigger(const struct server_def *def, const char *type, int fd)
{
	unsigned char buf[SERVER_TRIGGER_MAX];
	int conn = fd;
	ssize_t n;

	if (strcmp(type, "unix") == 0) {
		if ((conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC)) < 0)
			return;
		alarm((unsigned)server_params_loaded->ipc_timeout);
	}
	n = read(conn, buf, sizeof(buf));
	alarm(0);
	if (conn != fd)
		close(conn);
	for (ssize_t i = 0; i < n; i++)
		def->trigger(buf[i]);
}

/*
 * The listeners and master's status pipe in one epoll set. Listeners are
 * exclusive, so a new client wakes one idle process of the pool rather
 * than all of them.
 */
static int
server_poll_set(int count)
{
	struct epoll_event ev = {0};
	int ep;

	if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		msg_fatal("epoll_create1: %m");
	for (int i = 0; i < count; i++) {
		ev.events = EPOLLIN | EPOLLEXCLUSIVE;
		ev.data.fd = MASTER_LISTEN_FD + i;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev) < 0)
			msg_fatal("epoll_ctl: %m");
	}
	ev.events = 0;		/* EPOLLERR, EPOLLHUP: master is gone */
	ev.data.fd = MASTER_STATUS_FD;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, MASTER_STATUS_FD, &ev) < 0)
		msg_fatal("epoll_ctl: %m");
	return ep;
}

/*
 * Waits for a client or wake-up on any listener; returns the ready
 * listener, or -1 after max_idle seconds, on SIGTERM or when master is
 * gone.
 */
static int
server_wait(int count)
{
	static int ep = -1;
	long idle_ms = server_params_loaded->max_idle * 1000;
	struct epoll_event ev;

	if (ep < 0)
		ep = server_poll_set(count);
	while (!server_stopping) {
		int n = epoll_wait(ep, &ev, 1, (int)idle_ms);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			msg_fatal("epoll_wait: %m");
		if (n == 0 || ev.data.fd == MASTER_STATUS_FD)
			return -1;
		return ev.data.fd;
	}
	return -1;
}

static void __attribute__((noreturn))
server_loop(const struct server_def *def, const struct server_args *a)
{
	long max_use = server_params_loaded->max_use;

	for (long used = 0; max_use <= 0 || used < max_use; used++) {
		int fd, listener;

		server_report(MASTER_STAT_AVAIL);
		if ((listener = server_wait(a->listen_count)) < 0)
			break;
		if (def->kind == SERVER_TRIGGER) {
			server_report(MASTER_STAT_TAKEN);
			server_take_trigger(def, a->type, listener);
		} else if ((fd = accept4(listener, NULL, NULL,
		    SOCK_CLOEXEC)) >= 0) {
			server_report(MASTER_STAT_TAKEN);
			server_serve_client(def, a->service, fd);
		} else if (!server_stopping && errno != EAGAIN &&
		    errno != EWOULDBLOCK && errno != ECONNABORTED &&
		    errno != EINTR) {
			msg_fatal("accept: %m");
		} else {
			used--;		/* another process took it */
		}
		if (server_stopping)
			break;
	}
	exit(0);
}

/* The context of a SERVER_EVENT listener. */
struct server_listener {
	const struct server_def *def;
	const struct server_args *args;
};

/* SERVER_EVENT: a listener is ready: a wake-up or a new connection. */
static void
server_event_listener(struct event_loop *loop, int fd, unsigned int ready,
    void *ctx)
{
	const struct server_listener *l = ctx;
	int conn;

	(void)loop;
	(void)ready;
	if (l->def->accept == NULL) {
		server_take_trigger(l->def, l->args->type, fd);
		return;
	}
	if ((conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != ECONNABORTED && errno != EINTR)
			msg_warn("accept: %m");
		return;
	}
	l->def->accept(conn, l->args->service);
}

/* SERVER_EVENT: SIGTERM, or master gone (the status pipe failed). */
static void __attribute__((noreturn))
server_event_exit(const struct server_def *def)
{
	if (def->stop != NULL)
		def->stop();
	exit(0);
}

static void
server_event_term(struct event_loop *loop, int signo, void *ctx)
{
	(void)loop;
	(void)signo;
	server_event_exit(ctx);
}

static void
server_event_master_gone(struct event_loop *loop, int fd, unsigned int ready,
    void *ctx)
{
	(void)loop;
	(void)fd;
	(void)ready;
	server_event_exit(ctx);
}

/* Sets up the event loop and the listeners of a SERVER_EVENT daemon. */
static void
server_event_setup(const struct server_def *def, const struct server_args *a)
{
	static struct server_listener listener;
	struct sbuf *why;

	if (server_stopping)		/* SIGTERM while starting */
		exit(0);
	why = sbuf_new();
	if ((server_loop_event = event_loop_new(why)) == NULL)
		msg_fatal("%s", sbuf_str(why));
	listener.def = def;
	listener.args = a;
	for (int i = 0; i < a->listen_count; i++)
		if (event_fd_add(server_loop_event, MASTER_LISTEN_FD + i,
		    EVENT_READ, server_event_listener, &listener, why) < 0)
			msg_fatal("%s", sbuf_str(why));
	if (event_fd_add(server_loop_event, MASTER_STATUS_FD, 0,
	    server_event_master_gone, (void *)def, why) < 0 ||
	    event_signal_add(server_loop_event, SIGTERM, server_event_term,
	    (void *)def, why) < 0)
		msg_fatal("%s", sbuf_str(why));
	sbuf_free(&why);
}

/* Runs a SERVER_EVENT daemon's loop until it exits. */
static void __attribute__((noreturn))
server_event_run(const struct server_def *def)
{
	struct sbuf *why = sbuf_new();

	server_report(MASTER_STAT_AVAIL);
	if (event_loop_run(server_loop_event, why) < 0)
		msg_fatal("%s", sbuf_str(why));
	server_event_exit(def);
}

/* Checks the descriptors master passes and makes listeners non-blocking. */
static void
server_check_fds(const struct server_args *a)
{
	if (fcntl(MASTER_STATUS_FD, F_GETFD) < 0)
		msg_fatal("no status pipe on descriptor %d: run services "
		    "through master", MASTER_STATUS_FD);
	if (a->listen_count == 0)
		msg_fatal("service %s was given no listening socket",
		    a->service);
	for (int i = 0; i < a->listen_count; i++) {
		int fd = MASTER_LISTEN_FD + i;
		int fl = fcntl(fd, F_GETFL);

		if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
			msg_fatal("listening socket %d: %m", fd);
	}
}

void
server_main(int argc, char **argv, const struct server_def *def)
{
	struct sbuf *why = sbuf_new();
	struct server_args a;
	struct sigaction sa;
	pid_t master = getppid();

	/* First, so that a SIGTERM during start-up is an orderly exit. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = server_on_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	msg_init(def->name, MSG_TO_SYSLOG | MSG_TO_STDERR);
	server_parse_args(argc, argv, def, &a);
	msg_init(def->name, MSG_TO_SYSLOG | (a.log_stderr ? MSG_TO_STDERR : 0));
	server_single = a.single_user;
	server_params_loaded = params_new();
	if (params_fill(server_params_loaded, a.cf, why) < 0)
		msg_fatal_status(EX_CONFIG, "%s", sbuf_str(why));
	main_cf_free(&a.cf);
	sbuf_free(&why);

	server_check_fds(&a);
	server_listen_count = a.listen_count;

	if (def->pre_drop != NULL)
		def->pre_drop(server_params_loaded);
	server_drop_privileges(&a, def);
	server_tie_to_master(master);
	if (def->kind == SERVER_EVENT)
		server_event_setup(def, &a);
	if (def->init != NULL)
		def->init(server_params_loaded);
	msg_debug("service %s ready", a.service);
	if (def->kind == SERVER_EVENT)
		server_event_run(def);
	server_loop(def, &a);
}
