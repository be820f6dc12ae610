/*
 * postern_ctl - start, stop, reload, status and flush of a running instance
 *
 * The running master holds a write lock (fcntl) on
 * queue_directory/pid/master.pid, which holds its pid: the lock, not the
 * file's existence, tells whether the mail system is running, and the
 * lock's owner (F_GETLK) is the pid that is signalled. Each function
 * returns the command's exit status: 0 on success; 1 when the mail system
 * is not running (or, for start, already running); a <sysexits.h> code
 * for other failures. What they say goes through msg_*(); status lines go
 * to standard output.
 */
#ifndef POSTERN_CTL_H
#define POSTERN_CTL_H

#include <stdbool.h>

/*
 * Checks the instance (check_instance(); errors stop here), refuses when
 * it runs already or belongs to another user, then runs
 * daemon_directory/master -c config_dir, with -v for each level of
 * msg_verbose. In the foreground, master replaces this process (for
 * systemd and containers); otherwise master puts itself in the
 * background and start waits up to 10 seconds for its lock.
 */
int ctl_start(const char *config_dir, bool foreground);
/*
 * Sends SIGTERM to master and waits until its lock is released, for at
 * most master_stop_timeout and 5 seconds more.
 */
int ctl_stop(const char *config_dir);
/* Sends SIGHUP to master: it rereads main.cf and master.cf. */
int ctl_reload(const char *config_dir);
/*
 * Prints "the Postern mail system is running (pid N)" and, for each
 * master.cf service, how many processes master runs for it now.
 */
int ctl_status(const char *config_dir);
/*
 * Asks the qmgr service to retry deferred mail now: writes
 * MASTER_TRIGGER_FLUSH to its socket or fifo. EX_UNAVAILABLE when
 * master.cf has no qmgr service or it cannot be reached.
 */
int ctl_flush(const char *config_dir);

#endif
