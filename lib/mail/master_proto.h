/*
 * master_proto - what master and the daemon skeleton agree on
 *
 * master creates every listening socket itself and starts a service
 * process as
 *
 *   PROGRAM -c CONFIG_DIR -n NAME -t TYPE -s COUNT [-u USER] [-r DIR]
 *           [-l] [-S] [-v] [-o name=value ...]
 *
 *   -c  configuration directory      -n  service name from master.cf
 *   -t  inet, unix or fifo           -s  listening sockets passed down
 *   -u  become USER (its uid, gid and groups) before serving; given only
 *       when the process starts as root because it must chroot first
 *   -r  chroot to DIR (then -u applies)
 *   -l  log to stderr as well as syslog (master runs in the foreground)
 *   -S  single-user instance: every service runs as the invoking user
 *   -v  verbose logging              -o  parameter override (master.cf)
 *
 * Descriptors:
 *   MASTER_STATUS_FD      write end of the service's status pipe
 *   MASTER_LISTEN_FD + i  the i-th listening socket, i < COUNT
 * All other descriptors above 2 are closed.
 *
 * A process of a service writes one struct master_status to the status
 * pipe when it is ready for a client (MASTER_STAT_AVAIL) and when it takes
 * one (MASTER_STAT_TAKEN); each record is smaller than PIPE_BUF, so it is
 * written whole. master starts another process when none is available and
 * a client is waiting, up to the service's maxproc. A process exits after
 * max_use clients or max_idle seconds without one.
 *
 * A wake-up (wakeup column, or "postern flush") is one byte written to a
 * trigger service's socket or fifo: MASTER_TRIGGER_WAKEUP or
 * MASTER_TRIGGER_FLUSH.
 */
#ifndef POSTERN_MASTER_PROTO_H
#define POSTERN_MASTER_PROTO_H

#include <sys/types.h>

#define MASTER_STATUS_FD	3
#define MASTER_LISTEN_FD	4

enum master_stat {
	MASTER_STAT_TAKEN = 0,
	MASTER_STAT_AVAIL = 1
};

struct master_status {
	pid_t pid;
	int status;		/* enum master_stat */
};

#define MASTER_TRIGGER_WAKEUP	'W'
#define MASTER_TRIGGER_FLUSH	'F'

#endif
