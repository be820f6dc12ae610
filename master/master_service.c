/*
 * master_service - master.cf services as listening sockets
 *
 * Resolves each service's endpoints from its master.cf entry and main.cf
 * (inet_interfaces, inet_protocols, queue_directory), reads what master
 * applies to an inet service itself (service_busy_reply and
 * service_busy_delay, with the entry's -o overrides), creates the
 * sockets, fifos and status pipe before any process is started, and
 * compares a running service with a reloaded one.
 * Errors: -1 or NULL with a reason naming the service and the endpoint
 * or the parameter; nothing here logs. Misuse (freeing a service that
 * still has processes, timers or watched listeners) panics.
 * Trust: master.cf and main.cf are the administrator's and already
 * checked by their parsers; names are resolved with getaddrinfo. Paths
 * are built under queue_directory, whose private/ and public/ directories
 * protect the sockets; a file in the way that is not a socket or fifo is
 * never removed.
 */
#include "master_service.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "mail/main_cf.h"
#include "mail/params.h"
#include "util/msg.h"
#include "util/sbuf.h"
#include "util/strutil.h"
#include "util/xmalloc.h"

/* Directories of unix sockets and fifos under queue_directory. */
#define MASTER_PRIVATE_DIR	"private"
#define MASTER_PUBLIC_DIR	"public"

/* A growing list of resolved addresses. */
struct master_addr_list {
	struct master_addr *addrs;
	size_t count;
};

int
master_service_protocols(const char *value, int available, int *protocols_r,
    struct sbuf *why)
{
	char *copy = xstrdup(value), *cursor = copy, *word;
	int protocols = 0, ret = 0;

	while (ret == 0 && (word = str_token(&cursor, STR_LIST_DELIMS)) !=
	    NULL) {
		if (strcmp(word, "all") == 0)
			protocols |= available;
		else if (strcmp(word, "ipv4") == 0)
			protocols |= MASTER_PROTO_IPV4;
		else if (strcmp(word, "ipv6") == 0)
			protocols |= MASTER_PROTO_IPV6;
		else
			ret = -1;
		if (ret < 0)
			sbuf_setf(why, "inet_protocols: unknown protocol "
			    "\"%.40s\": expected all, ipv4 or ipv6", word);
	}
	free(copy);
	if (ret == 0 && protocols == 0) {
		sbuf_setf(why, "inet_protocols \"%.100s\": no address family "
		    "that this host supports", value);
		ret = -1;
	}
	if (ret == 0)
		*protocols_r = protocols;
	return ret;
}

/* True when list already holds the address in ss. */
static bool
master_addr_seen(const struct master_addr_list *list,
    const struct sockaddr *sa, socklen_t len)
{
	for (size_t i = 0; i < list->count; i++)
		if (list->addrs[i].len == len &&
		    memcmp(&list->addrs[i].ss, sa, len) == 0)
			return true;
	return false;
}

/* Appends one address, as numeric text too; 0, or -1 with a reason. */
static int
master_addr_push(struct master_addr_list *list, const struct sockaddr *sa,
    socklen_t len, struct sbuf *why)
{
	char host[NI_MAXHOST], serv[NI_MAXSERV];
	struct master_addr *a;
	struct sbuf *text;
	int err;

	if (master_addr_seen(list, sa, len))
		return 0;
	if (list->count == MASTER_LISTEN_MAX) {
		sbuf_setf(why, "more than %d addresses", MASTER_LISTEN_MAX);
		return -1;
	}
	if ((err = getnameinfo(sa, len, host, sizeof(host), serv,
	    sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV)) != 0) {
		sbuf_setf(why, "address to text: %s", gai_strerror(err));
		return -1;
	}
	text = sbuf_new();
	if (sa->sa_family == AF_INET6)
		sbuf_printf(text, "[%s]:%s", host, serv);
	else
		sbuf_printf(text, "%s:%s", host, serv);
	list->addrs = xreallocarray(list->addrs, list->count + 1,
	    sizeof(*list->addrs));
	a = &list->addrs[list->count++];
	memset(a, 0, sizeof(*a));
	memcpy(&a->ss, sa, len);
	a->len = len;
	a->text = sbuf_steal(text);
	sbuf_free(&text);
	return 0;
}

/* AF_INET or AF_INET6 when host is a numeric address of it, else 0. */
static int
master_addr_numeric(const char *host)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (inet_pton(AF_INET, host, &a4) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return AF_INET6;
	return 0;
}

/*
 * Resolves host (NULL: the wildcard address) and port in the allowed
 * families and appends every address; 0, or -1 with a reason.
 */
static int
master_addr_resolve(struct master_addr_list *list, const char *host,
    const char *port, int protocols, struct sbuf *why)
{
	struct addrinfo hints, *res, *ai;
	size_t hlen = host != NULL ? strlen(host) : 0;
	char *bare = NULL;
	int err, numeric, ret = 0;

	/* inet_interfaces may write an IPv6 address in brackets. */
	if (hlen > 2 && host[0] == '[' && host[hlen - 1] == ']')
		host = bare = xstrndup(host + 1, hlen - 2);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if (protocols == MASTER_PROTO_IPV4)
		hints.ai_family = AF_INET;
	else if (protocols == MASTER_PROTO_IPV6)
		hints.ai_family = AF_INET6;
	else
		hints.ai_family = AF_UNSPEC;
	/* A numeric address is never looked up in the DNS. */
	if (host != NULL && (numeric = master_addr_numeric(host)) != 0) {
		hints.ai_flags |= AI_NUMERICHOST;
		if (hints.ai_family != AF_UNSPEC &&
		    hints.ai_family != numeric) {
			sbuf_setf(why, "address \"%.100s\" is %s, which "
			    "inet_protocols leaves out", host,
			    numeric == AF_INET ? "IPv4" : "IPv6");
			free(bare);
			return -1;
		}
	}
	if ((err = getaddrinfo(host, port, &hints, &res)) != 0) {
		sbuf_setf(why, "cannot resolve address \"%.100s\" port "
		    "\"%.40s\": %s", host != NULL ? host : "*", port,
		    err == EAI_SYSTEM ? strerror(errno) : gai_strerror(err));
		free(bare);
		return -1;
	}
	for (ai = res; ai != NULL && ret == 0; ai = ai->ai_next)
		if (ai->ai_family == AF_INET || ai->ai_family == AF_INET6)
			ret = master_addr_push(list, ai->ai_addr,
			    ai->ai_addrlen, why);
	freeaddrinfo(res);
	free(bare);
	return ret;
}

/* Appends the wildcard or loopback address of each allowed family. */
static int
master_addr_fixed(struct master_addr_list *list, const char *v4,
    const char *v6, const char *port, int protocols, struct sbuf *why)
{
	if ((protocols & MASTER_PROTO_IPV4) &&
	    master_addr_resolve(list, v4, port, MASTER_PROTO_IPV4, why) < 0)
		return -1;
	if ((protocols & MASTER_PROTO_IPV6) &&
	    master_addr_resolve(list, v6, port, MASTER_PROTO_IPV6, why) < 0)
		return -1;
	return 0;
}

/* Resolves the inet_interfaces list for port into list. */
static int
master_addr_interfaces(struct master_addr_list *list, const char *interfaces,
    const char *port, int protocols, struct sbuf *why)
{
	char *copy = xstrdup(interfaces), *cursor = copy, *word;
	size_t words = 0;
	bool keyword = false;
	int ret = 0;

	while ((word = str_token(&cursor, STR_LIST_DELIMS)) != NULL) {
		words++;
		keyword |= strcmp(word, "all") == 0 ||
		    strcmp(word, "loopback-only") == 0;
	}
	free(copy);
	if (words == 0) {
		sbuf_set(why, "inet_interfaces is empty");
		return -1;
	}
	if (keyword && words > 1) {
		sbuf_setf(why, "inet_interfaces \"%.100s\": all and "
		    "loopback-only must stand alone", interfaces);
		return -1;
	}
	copy = xstrdup(interfaces);
	cursor = copy;
	while (ret == 0 && (word = str_token(&cursor, STR_LIST_DELIMS)) !=
	    NULL) {
		if (strcmp(word, "all") == 0)
			ret = master_addr_fixed(list, "0.0.0.0", "::", port,
			    protocols, why);
		else if (strcmp(word, "loopback-only") == 0)
			ret = master_addr_fixed(list, "127.0.0.1", "::1",
			    port, protocols, why);
		else
			ret = master_addr_resolve(list, word, port,
			    protocols, why);
	}
	free(copy);
	return ret;
}

int
master_service_addrs(const struct master_service *s, const char *interfaces,
    int protocols, struct master_addr **addrs_r, size_t *count_r,
    struct sbuf *why)
{
	struct master_addr_list list = {NULL, 0};
	int ret;

	if (s->host != NULL)
		ret = master_addr_resolve(&list, s->host, s->port, protocols,
		    why);
	else
		ret = master_addr_interfaces(&list, interfaces, s->port,
		    protocols, why);
	if (ret < 0) {
		master_service_addrs_free(&list.addrs, list.count);
		return -1;
	}
	*addrs_r = list.addrs;
	*count_r = list.count;
	return 0;
}

void
master_service_addrs_free(struct master_addr **addrs, size_t count)
{
	if (*addrs == NULL)
		return;
	for (size_t i = 0; i < count; i++)
		free((*addrs)[i].text);
	xfree(addrs);
}

/* The address families this host can make sockets of. */
static int
master_service_available(void)
{
	int available = 0, fd;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0) {
		available |= MASTER_PROTO_IPV4;
		close(fd);
	}
	if ((fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0) {
		available |= MASTER_PROTO_IPV6;
		close(fd);
	}
	return available;
}

/* Resolves serv's endpoints under p; 0, or -1 with a reason. */
static int
master_service_endpoints(struct master_serv *serv, const struct params *p,
    struct sbuf *why)
{
	const struct master_service *s = &serv->cf;
	struct sbuf *path;
	int protocols;

	if (s->type == MASTER_INET) {
		if (master_service_protocols(p->inet_protocols,
		    master_service_available(), &protocols, why) < 0 ||
		    master_service_addrs(s, p->inet_interfaces, protocols,
		    &serv->addrs, &serv->endpoint_count, why) < 0)
			return -1;
		serv->endpoints = xcalloc(serv->endpoint_count + 1,
		    sizeof(*serv->endpoints));
		for (size_t i = 0; i < serv->endpoint_count; i++)
			serv->endpoints[i] = xstrdup(serv->addrs[i].text);
		return 0;
	}
	path = sbuf_new();
	sbuf_printf(path, "%s/%s/%s", p->queue_directory, s->private_socket ?
	    MASTER_PRIVATE_DIR : MASTER_PUBLIC_DIR, s->name);
	if (s->type == MASTER_UNIX &&
	    sbuf_len(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		sbuf_setf(why, "socket path %s is too long", sbuf_str(path));
		sbuf_free(&path);
		return -1;
	}
	serv->endpoints = xcalloc(2, sizeof(*serv->endpoints));
	serv->endpoints[0] = sbuf_steal(path);
	serv->endpoint_count = 1;
	sbuf_free(&path);
	return 0;
}

/* True when p has a busy reply (a params_new() one may have none). */
static bool
master_service_busy_reply(const struct params *p)
{
	return p->service_busy_reply != NULL &&
	    p->service_busy_reply[0] != '\0';
}

/* Keeps the busy settings of the parameters p for serv. */
static void
master_service_busy_from(struct master_serv *serv, const struct params *p)
{
	struct sbuf *line;

	serv->busy_delay = p->service_busy_delay;
	if (!master_service_busy_reply(p))
		return;
	line = sbuf_new();
	sbuf_printf(line, "%s\r\n", p->service_busy_reply);
	serv->busy_line = sbuf_steal(line);
	sbuf_free(&line);
}

/*
 * Reads the busy settings of an inet service: from p, or from main.cf
 * with the entry's overrides ("-o" "name=value", as master_cf.c leaves
 * them) when they may change them: when they set one, or when p has a
 * reply (whose $names they may set). 0, or -1 with a reason.
 */
static int
master_service_busy(struct master_serv *serv, const struct params *p,
    struct sbuf *why)
{
	const struct master_service *s = &serv->cf;
	bool overrides = false, busy = false;
	struct params *own;
	struct main_cf *cf;
	int ret = 0;

	if (s->type != MASTER_INET)
		return 0;
	for (size_t i = 1; i + 1 < s->argc; i++) {
		if (strcmp(s->argv[i], "-o") != 0)
			continue;
		overrides = true;
		busy |= str_starts(s->argv[++i], "service_busy_");
	}
	if (!busy && (!overrides || !master_service_busy_reply(p))) {
		master_service_busy_from(serv, p);
		return 0;
	}
	if ((cf = main_cf_load(serv->env->config_dir, why)) == NULL)
		return -1;
	for (size_t i = 1; ret == 0 && i + 1 < s->argc; i++) {
		const char *arg, *eq;
		char *name;

		if (strcmp(s->argv[i], "-o") != 0)
			continue;
		arg = s->argv[++i];
		if ((eq = strchr(arg, '=')) == NULL)
			continue;
		name = xstrndup(arg, (size_t)(eq - arg));
		ret = main_cf_set(cf, name, eq + 1, why);
		free(name);
	}
	own = params_new();
	if (ret == 0 && (ret = params_fill(own, cf, why)) == 0)
		master_service_busy_from(serv, own);
	params_free(&own);
	main_cf_free(&cf);
	return ret;
}

struct master_serv *
master_service_new(struct master_env *env, const struct master_service *s,
    const struct params *p, struct sbuf *why)
{
	struct master_serv *serv = xcalloc(1, sizeof(*serv));
	struct sbuf *reason = sbuf_new();

	serv->env = env;
	serv->status_rd = serv->status_wr = -1;
	master_service_copy(&serv->cf, s);
	if (master_service_endpoints(serv, p, reason) < 0 ||
	    master_service_busy(serv, p, reason) < 0) {
		sbuf_setf(why, "service %s (%s): %s", s->name,
		    master_type_name(s->type), sbuf_str(reason));
		master_service_free(&serv);
	}
	sbuf_free(&reason);
	return serv;
}

/* Sets a socket option that is an int; 0 or -1. */
static int
master_setopt(int fd, int level, int name, int value)
{
	return setsockopt(fd, level, name, &value, sizeof(value));
}

/* Opens one inet listener; the descriptor or -1 with a reason. */
static int
master_open_inet(const struct master_addr *a, struct sbuf *why)
{
	int fd;

	if ((fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) < 0) {
		sbuf_setf(why, "socket for %s: %m", a->text);
		return -1;
	}
	if (master_setopt(fd, SOL_SOCKET, SO_REUSEADDR, 1) < 0 ||
	    (a->ss.ss_family == AF_INET6 &&
	    master_setopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1) < 0)) {
		sbuf_setf(why, "socket options for %s: %m", a->text);
	} else if (bind(fd, (const struct sockaddr *)&a->ss, a->len) < 0) {
		sbuf_setf(why, "bind %s: %m", a->text);
	} else if (listen(fd, MASTER_INET_BACKLOG) < 0) {
		sbuf_setf(why, "listen on %s: %m", a->text);
	} else {
		return fd;
	}
	close(fd);
	return -1;
}

/*
 * Removes path when it is a stale socket or fifo (of kind S_IFSOCK or
 * S_IFIFO); 0, or -1 with a reason when something else is in the way.
 */
static int
master_remove_stale(const char *path, mode_t kind, struct sbuf *why)
{
	struct stat st;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		sbuf_setf(why, "%s: %m", path);
		return -1;
	}
	if ((st.st_mode & S_IFMT) != kind) {
		sbuf_setf(why, "%s exists and is not a %s: remove it", path,
		    kind == S_IFSOCK ? "socket" : "fifo");
		return -1;
	}
	if (unlink(path) < 0) {
		sbuf_setf(why, "remove stale %s: %m", path);
		return -1;
	}
	return 0;
}

/*
 * The owner that unix sockets and fifos get: mail_owner in system mode;
 * 0, or -1 with a reason. *uid_r is (uid_t)-1 in single-user mode.
 */
static int
master_owner(const struct master_env *env, uid_t *uid_r, gid_t *gid_r,
    struct sbuf *why)
{
	struct passwd *pw;

	*uid_r = (uid_t)-1;
	*gid_r = (gid_t)-1;
	if (env->single_user)
		return 0;
	if ((pw = getpwnam(env->params->mail_owner)) == NULL) {
		sbuf_setf(why, "unknown mail_owner user %s",
		    env->params->mail_owner);
		return -1;
	}
	*uid_r = pw->pw_uid;
	*gid_r = pw->pw_gid;
	return 0;
}

/* Opens the unix listener at path; the descriptor or -1 with a reason. */
static int
master_open_unix(const struct master_env *env, const char *path,
    struct sbuf *why)
{
	struct sockaddr_un sun;
	mode_t old_mask;
	uid_t uid;
	gid_t gid;
	int fd, ret;

	if (master_owner(env, &uid, &gid, why) < 0 ||
	    master_remove_stale(path, S_IFSOCK, why) < 0)
		return -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	/* The length was checked against sun_path by master_service_new(). */
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) < 0) {
		sbuf_setf(why, "socket for %s: %m", path);
		return -1;
	}
	/* bind() creates the file with mode 0777 & ~umask. */
	old_mask = umask(0777 & ~MASTER_SOCKET_MODE);
	ret = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old_mask);
	if (ret < 0)
		sbuf_setf(why, "bind %s: %m", path);
	else if (uid != (uid_t)-1 && lchown(path, uid, gid) < 0)
		sbuf_setf(why, "chown %s: %m", path);
	else if (listen(fd, MASTER_BACKLOG) < 0)
		sbuf_setf(why, "listen on %s: %m", path);
	else
		return fd;
	close(fd);
	return -1;
}

/* Makes and opens the fifo at path; the descriptor or -1 with a reason. */
static int
master_open_fifo(const struct master_env *env, const char *path,
    struct sbuf *why)
{
	struct stat st;
	uid_t uid;
	gid_t gid;
	int fd;

	if (master_owner(env, &uid, &gid, why) < 0 ||
	    master_remove_stale(path, S_IFIFO, why) < 0)
		return -1;
	if (mkfifo(path, MASTER_FIFO_MODE) < 0) {
		sbuf_setf(why, "mkfifo %s: %m", path);
		return -1;
	}
	/* Read-write: the fifo never reports end of file to master. */
	if ((fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW)) <
	    0) {
		sbuf_setf(why, "open %s: %m", path);
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode))
		sbuf_setf(why, "%s is not the fifo just made", path);
	else if (fchmod(fd, MASTER_FIFO_MODE) < 0)
		sbuf_setf(why, "chmod %s: %m", path);
	else if (uid != (uid_t)-1 && fchown(fd, uid, gid) < 0)
		sbuf_setf(why, "chown %s: %m", path);
	else
		return fd;
	close(fd);
	return -1;
}

/* Opens the status pipe; 0, or -1 with a reason. */
static int
master_open_status(struct master_serv *serv, struct sbuf *why)
{
	int fds[2];

	if (pipe2(fds, O_CLOEXEC) < 0) {
		sbuf_setf(why, "status pipe: %m");
		return -1;
	}
	if (fcntl(fds[0], F_SETFL, O_NONBLOCK) < 0) {
		sbuf_setf(why, "status pipe: %m");
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	serv->status_rd = fds[0];
	serv->status_wr = fds[1];
	return 0;
}

int
master_service_open(struct master_serv *serv, struct sbuf *why)
{
	struct sbuf *reason = sbuf_new();
	size_t i;
	int fd = -1;

	serv->fds = xcalloc(serv->endpoint_count, sizeof(*serv->fds));
	for (i = 0; i < serv->endpoint_count; i++)
		serv->fds[i] = -1;
	for (i = 0; i < serv->endpoint_count; i++) {
		switch (serv->cf.type) {
		case MASTER_INET:
			fd = master_open_inet(&serv->addrs[i], reason);
			break;
		case MASTER_UNIX:
			fd = master_open_unix(serv->env, serv->endpoints[i],
			    reason);
			break;
		case MASTER_FIFO:
			fd = master_open_fifo(serv->env, serv->endpoints[i],
			    reason);
			break;
		}
		if (fd < 0)
			break;
		serv->fds[i] = fd;
	}
	if (fd >= 0 && master_open_status(serv, reason) == 0) {
		sbuf_free(&reason);
		return 0;
	}
	sbuf_setf(why, "service %s (%s): %s", serv->cf.name,
	    master_type_name(serv->cf.type), sbuf_str(reason));
	sbuf_free(&reason);
	master_service_close(serv);
	return -1;
}

void
master_service_close(struct master_serv *serv)
{
	if (serv->watching != MASTER_WATCH_NONE)
		msg_panic("service %s: closing watched listeners",
		    serv->cf.name);
	for (size_t i = 0; serv->fds != NULL && i < serv->endpoint_count;
	    i++)
		if (serv->fds[i] >= 0)
			close(serv->fds[i]);
	free(serv->fds);
	serv->fds = NULL;
	if (serv->status_rd >= 0)
		close(serv->status_rd);
	if (serv->status_wr >= 0)
		close(serv->status_wr);
	serv->status_rd = serv->status_wr = -1;
}

/* True when two optional strings are equal. */
static bool
master_same_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* True when every field that a process sees is equal. */
static bool
master_same_fields(const struct master_service *a,
    const struct master_service *b)
{
	if (!master_same_str(a->host, b->host) ||
	    !master_same_str(a->port, b->port) ||
	    a->private_socket != b->private_socket ||
	    a->unprivileged != b->unprivileged || a->chroot != b->chroot ||
	    a->wakeup != b->wakeup || a->wakeup_if_used != b->wakeup_if_used ||
	    a->maxproc != b->maxproc || a->argc != b->argc)
		return false;
	for (size_t i = 0; i < a->argc; i++)
		if (strcmp(a->argv[i], b->argv[i]) != 0)
			return false;
	return true;
}

enum master_diff
master_service_diff(const struct master_serv *old,
    const struct master_serv *new)
{
	if (old->cf.type != new->cf.type ||
	    strcmp(old->cf.name, new->cf.name) != 0 ||
	    old->endpoint_count != new->endpoint_count)
		return MASTER_DIFFERENT;
	for (size_t i = 0; i < old->endpoint_count; i++)
		if (strcmp(old->endpoints[i], new->endpoints[i]) != 0)
			return MASTER_DIFFERENT;
	return master_same_fields(&old->cf, &new->cf) ? MASTER_SAME :
	    MASTER_SAME_SOCKETS;
}

void
master_service_take_cf(struct master_serv *serv, struct master_serv *from)
{
	struct master_service tmp = serv->cf;

	serv->cf = from->cf;
	from->cf = tmp;
}

void
master_service_take_settings(struct master_serv *serv,
    struct master_serv *from)
{
	char *line = serv->busy_line;

	serv->busy_line = from->busy_line;
	from->busy_line = line;
	serv->busy_delay = from->busy_delay;
}

void
master_service_free(struct master_serv **servp)
{
	struct master_serv *serv = *servp;

	if (serv == NULL)
		return;
	if (serv->procs != NULL || serv->throttle_timer != NULL ||
	    serv->wakeup_timer != NULL || serv->busy_timer != NULL ||
	    serv->busy_limit.timer != NULL ||
	    serv->busy_refused.timer != NULL)
		msg_panic("service %s: freed while still in use",
		    serv->cf.name);
	master_service_close(serv);
	for (size_t i = 0; serv->endpoints != NULL &&
	    i < serv->endpoint_count; i++)
		free(serv->endpoints[i]);
	free(serv->endpoints);
	master_service_addrs_free(&serv->addrs, serv->endpoint_count);
	master_service_clear(&serv->cf);
	free(serv->busy_line);
	xfree(servp);
}
