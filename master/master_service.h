/*
 * master_service - master.cf services as listening sockets
 *
 * A struct master_serv is one running service: its own copy of the
 * master.cf entry, the endpoints it listens on (resolved from the entry
 * and main.cf), the listening descriptors, the status pipe its processes
 * report on, the pool state that master_spawn.c keeps and the state of
 * master_busy.c. This module resolves and opens the sockets, reads the
 * parameters master applies to an inet service itself, and compares
 * services for a reload; it knows nothing of processes or of the event
 * loop.
 *
 * Endpoints, as text:
 *   inet  "ADDRESS:PORT" ("[ADDRESS]:PORT" for IPv6), numeric, one per
 *         address: the service's own host, else each inet_interfaces
 *         address ("all": 0.0.0.0 and ::, "loopback-only": 127.0.0.1 and
 *         ::1), limited to the families of inet_protocols;
 *   unix  queue_directory/private/NAME or queue_directory/public/NAME;
 *   fifo  likewise, normally in public/.
 */
#ifndef POSTERN_MASTER_SERVICE_H
#define POSTERN_MASTER_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "mail/master_cf.h"
#include "mail/master_proto.h"

struct sbuf;
struct params;
struct event_loop;
struct event_timer;
struct master_proc;

#define MASTER_BACKLOG		100	/* listen() backlog of unix sockets */
/* inet: room for a burst of clients; the kernel caps it at somaxconn. */
#define MASTER_INET_BACKLOG	4096
#define MASTER_LISTEN_MAX	64	/* sockets of one service */
#define MASTER_SOCKET_MODE	0666	/* the directory guards sockets */
#define MASTER_FIFO_MODE	0622

/* inet_protocols as bits. */
#define MASTER_PROTO_IPV4	(1 << 0)
#define MASTER_PROTO_IPV6	(1 << 1)

/* Where a service's processes run and how master was started. */
struct master_env {
	struct event_loop *loop;
	struct params *params;	/* the current main.cf */
	char *config_dir;	/* absolute */
	bool single_user;	/* started as non-root: no uid changes */
	bool foreground;	/* -F: children log to stderr too (-l) */
	bool stopping;		/* SIGTERM seen: start nothing */
	struct master_serv *live;	/* services of master.cf, in order */
	struct master_serv *retired;	/* gone; processes finishing */
};

/* One address an inet service listens on. */
struct master_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	char *text;		/* "127.0.0.1:25", "[::1]:25" */
};

/* What master_spawn.c watches a service's listeners for. */
enum master_watch {
	MASTER_WATCH_NONE,
	MASTER_WATCH_SPAWN,	/* a client waits: start a process */
	MASTER_WATCH_BUSY	/* a client waits at the limit: master_busy.c */
};

/* One kind of warning of master_busy.c: at most one per interval. */
struct master_busy_log {
	struct event_timer *timer;	/* muted until it fires */
	unsigned long count;		/* events not logged yet */
};

/* One running service. */
struct master_serv {
	struct master_env *env;
	struct master_service cf;	/* owned copy of the master.cf entry */
	char **endpoints;	/* see above; NULL-terminated */
	size_t endpoint_count;
	struct master_addr *addrs;	/* inet: endpoint_count addresses */
	int *fds;		/* listening descriptors, endpoint_count */
	int status_rd;		/* status pipe read end; -1: closed */
	int status_wr;		/* the end the processes write to */
	/* inet: the service's service_busy_reply with CRLF (NULL: none) and
	 * service_busy_delay, with its -o overrides. */
	char *busy_line;
	long busy_delay;	/* seconds */
	/* Pool state, kept by master_spawn.c. */
	struct master_proc *procs;
	int total;		/* processes alive, retiring ones included */
	int avail;		/* of those, ready and not retiring */
	int crashes;		/* consecutive abnormal exits */
	enum master_watch watching;	/* listeners in the event loop */
	bool throttled;		/* no new process until throttle_timer */
	bool used;		/* a process was started once */
	bool retired;		/* removed from master.cf or stopping */
	struct event_timer *throttle_timer;
	struct event_timer *wakeup_timer;
	unsigned char partial[sizeof(struct master_status)];
	size_t partial_len;	/* bytes of a status record read so far */
	/* Busy state, kept by master_busy.c. */
	struct event_timer *busy_timer;	/* the next look at the queues */
	unsigned int busy_waiting[MASTER_LISTEN_MAX];	/* queued, per fd */
	unsigned long busy_taken;	/* clients taken since the last look */
	struct master_busy_log busy_limit;	/* limit reached */
	struct master_busy_log busy_refused;	/* connections refused */
	struct master_serv *next;
};

/* How a reloaded service compares with the running one. */
enum master_diff {
	MASTER_SAME,		/* every field and endpoint equal */
	MASTER_SAME_SOCKETS,	/* same name, type and endpoints */
	MASTER_DIFFERENT	/* anything else */
};

/*
 * Parses inet_protocols ("all", "ipv4", "ipv6", "ipv4, ipv6") into
 * MASTER_PROTO_* bits; "all" gives the families in available (those the
 * host supports). 0, or -1 with a reason: an unknown word, or "all" with
 * no family available.
 */
int master_service_protocols(const char *value, int available,
    int *protocols_r, struct sbuf *why);
/*
 * Resolves the addresses inet service s listens on (see above) into a new
 * array of *count_r addresses, duplicates removed. Hosts and ports may be
 * names (getaddrinfo). 0, or -1 with a reason naming the address: a name
 * that does not resolve in the allowed families, "all" or
 * "loopback-only" mixed with other addresses, an empty list, or more
 * than MASTER_LISTEN_MAX addresses.
 */
int master_service_addrs(const struct master_service *s,
    const char *interfaces, int protocols, struct master_addr **addrs_r,
    size_t *count_r, struct sbuf *why);
/* Frees an array of count addresses and sets *addrs to NULL. */
void master_service_addrs_free(struct master_addr **addrs, size_t count);

/*
 * A new service for entry s (copied) with its endpoints resolved under
 * the parameters p; nothing is opened yet. An inet service's busy_line
 * and busy_delay come from p, or, when its -o overrides may change them
 * (they set one, or p has a reply), from env->config_dir's main.cf read
 * again with them applied, as its processes will see it. NULL with a
 * reason naming the service (a -o value that does not expand or parse).
 */
struct master_serv *master_service_new(struct master_env *env,
    const struct master_service *s, const struct params *p,
    struct sbuf *why);
/*
 * Creates the listening sockets and the status pipe of serv, every
 * descriptor close-on-exec: inet with SO_REUSEADDR (IPV6_V6ONLY on IPv6);
 * unix sockets mode MASTER_SOCKET_MODE after removing a stale socket;
 * fifos mode MASTER_FIFO_MODE, opened read-write and non-blocking. In
 * system mode unix sockets and fifos are given to mail_owner. 0, or -1
 * with a reason naming the service and the endpoint, nothing left open.
 */
int master_service_open(struct master_serv *serv, struct sbuf *why);
/* Closes the listeners and the status pipe (not watched any more). */
void master_service_close(struct master_serv *serv);
/* Compares a running service with a newly read one. */
enum master_diff master_service_diff(const struct master_serv *old,
    const struct master_serv *new);
/*
 * Gives the entry of from (its master.cf fields) to serv, keeping serv's
 * sockets; from is left for master_service_free().
 */
void master_service_take_cf(struct master_serv *serv,
    struct master_serv *from);
/*
 * Gives the parameters read for from (busy_line, busy_delay) to serv,
 * after a reload; from is left for master_service_free().
 */
void master_service_take_settings(struct master_serv *serv,
    struct master_serv *from);
/*
 * Closes what is still open and frees *serv, setting it to NULL; accepts
 * NULL. Panics when it still has processes, timers or watched listeners.
 */
void master_service_free(struct master_serv **serv);

#endif
