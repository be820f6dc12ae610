/*
 * master_spawn - the processes of each service
 *
 * master starts a service's processes on demand and keeps the count of
 * those ready for a client from their status records (master_proto.h).
 * A fresh process counts as available from its fork. While a service has
 * no available process, is not throttled and has fewer than maxproc
 * processes (0: no limit), its listeners are watched; a listener that
 * becomes readable starts one process, which makes the service available
 * again, so at most one process starts per event-loop batch. While a
 * process is available the listeners are left to the processes. An inet
 * service with maxproc processes and none available has its listeners
 * watched by master_busy.c instead, until its busy clock runs.
 *
 * An exit with a signal or a non-zero status is logged and counted; the
 * k-th abnormal exit in a row keeps the service from starting processes
 * for 0 (k = 1), 1, 2, 4, ... seconds, at most service_throttle_time.
 * An exit with status 0 resets the count. Listeners stay open meanwhile.
 *
 * A service with a wake-up time gets MASTER_TRIGGER_WAKEUP written to
 * its unix socket or fifo at once and then every wakeup seconds; a "N?"
 * service only from its first process on.
 *
 * Processes are started as daemon_directory/COMMAND with the arguments
 * and descriptors of master_proto.h. In system mode a process of an
 * unprivileged service runs as mail_owner with its groups, one of a
 * privileged service as root, and a chroot service starts as root with
 * -r and (unprivileged) -u so that it chroots before it drops. In a
 * single-user instance every process runs as the invoking user, with -S.
 */
#ifndef POSTERN_MASTER_SPAWN_H
#define POSTERN_MASTER_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

struct master_env;
struct master_serv;

/* One process of a service. */
struct master_proc {
	pid_t pid;
	bool avail;		/* its last status was MASTER_STAT_AVAIL */
	bool retiring;		/* sent SIGTERM: not available */
	char *path;		/* the program, for log lines */
	struct master_proc *next;
};

/*
 * Puts an opened service to work: watches its status pipe and, as the
 * pool rules say, its listeners; starts its wake-up timer.
 */
void master_spawn_attach(struct master_serv *serv);
/*
 * Watches the listeners of serv exactly when the pool rules above say
 * so, for a process to start or for master_busy.c.
 */
void master_spawn_watch(struct master_serv *serv);
/*
 * Reads the status records waiting on serv's status pipe into the pool
 * (without changing what is watched); counts the clients taken in
 * serv->busy_taken.
 */
void master_spawn_read_status(struct master_serv *serv);
/*
 * Applies a changed master.cf entry to a running service (its sockets
 * kept): forgets its crash count and throttling and starts its wake-up
 * timer again.
 */
void master_spawn_reconfigure(struct master_serv *serv);
/*
 * Sends SIGTERM to every process of serv: each finishes its current
 * client and exits, and is no longer counted as available, so new
 * processes (with the current main.cf) start on demand.
 */
void master_spawn_renew(struct master_serv *serv);
/*
 * Takes serv, already removed from env->live, out of service: stops
 * watching it and its busy clock (master_busy_stop()), cancels its
 * timers, closes its sockets and status pipe and sends SIGTERM to its
 * processes. It is freed now when it has no process, else kept on
 * env->retired until its last process is reaped.
 */
void master_spawn_retire(struct master_serv *serv);
/* Reaps every exited process (SIGCHLD), logging abnormal exits. */
void master_spawn_reap(struct master_env *env);
/* Sends signo to every process of every service. */
void master_spawn_kill(struct master_env *env, int signo);
/* The number of processes not yet reaped. */
int master_spawn_count(const struct master_env *env);

#endif
