/*
 * postern_ctl - start, stop, reload, status and flush of a running instance
 *
 * Finds master through the lock on its pid file, signals it, and waits
 * for the lock to appear or go with a deadline, polling. Status counts
 * master's children per service from /proc, by the "-n NAME -t TYPE"
 * arguments that master gives each of them.
 *
 * Errors: each command logs its failure once and returns an exit status
 * (see postern_ctl.h); nothing here exits except on a configuration that
 * cannot be read (EX_CONFIG).
 * Trust: the pid file and /proc are read with bounded reads and parsed
 * strictly; a pid is signalled only while it holds master's lock.
 */
#include "postern_ctl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "mail/master_cf.h"
#include "mail/master_proto.h"
#include "mail/params.h"
#include "postern_check.h"
#include "postern_setup.h"
#include "util/msg.h"
#include "util/safe_file.h"
#include "util/sbuf.h"
#include "util/strutil.h"
#include "util/unix_sock.h"
#include "util/xmalloc.h"

#define CTL_START_WAIT	10	/* seconds for master to take its lock */
#define CTL_STOP_EXTRA	5	/* seconds beyond master_stop_timeout */
#define CTL_POLL_NS	20000000L	/* between two looks at the lock */
#define CTL_PID_MAX	64	/* bytes of a pid file */
#define CTL_PROC_MAX	65536	/* bytes of a /proc stat or cmdline */
#define CTL_QMGR	"qmgr"	/* the service that "flush" wakes up */
#define CTL_MASTER	"master"	/* the program in daemon_directory */

#define CTL_NOT_RUNNING	"the Postern mail system is not running"

/* Loads the parameters of config_dir; exits EX_CONFIG when it cannot. */
static struct params *
ctl_params(const char *config_dir)
{
	struct sbuf *why = sbuf_new();
	struct params *p = params_load(config_dir, NULL, why);

	if (p == NULL)
		msg_fatal_status(EX_CONFIG, "%s", sbuf_str(why));
	sbuf_free(&why);
	return p;
}

/* Seconds on the monotonic clock, as a double. */
static double
ctl_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
ctl_pause(void)
{
	struct timespec ts = { 0, CTL_POLL_NS };

	nanosleep(&ts, NULL);
}

/* The pid written in the pid file path; 0, or -1 with a reason. */
static int
ctl_read_pid(const char *path, pid_t *pid_r, struct sbuf *why)
{
	struct sbuf *data = sbuf_new();
	long pid;
	int ret = -1;

	if (safe_file_read(path, CTL_PID_MAX, data, why) == 0) {
		if (str_to_long(str_trim(data->data), &pid) == 0 && pid > 0 &&
		    pid == (pid_t)pid) {
			*pid_r = (pid_t)pid;
			ret = 0;
		} else {
			sbuf_setf(why, "%s holds no process id", path);
		}
	}
	sbuf_free(&data);
	return ret;
}

/*
 * Whether master runs: 1 with its pid in *pid_r while the pid file is
 * locked, 0 when it is not (or does not exist), -1 with a reason.
 */
static int
ctl_running(const struct params *p, pid_t *pid_r, struct sbuf *why)
{
	struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET };
	struct sbuf *path = sbuf_new();
	int fd, ret = -1;

	sbuf_printf(path, "%s/%s", p->queue_directory, SETUP_PID_FILE);
	fd = open(sbuf_str(path), O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			ret = 0;
		else
			sbuf_setf(why, "open %s: %m", sbuf_str(path));
	} else if (fcntl(fd, F_GETLK, &fl) < 0) {
		sbuf_setf(why, "examine the lock on %s: %m", sbuf_str(path));
	} else if (fl.l_type == F_UNLCK) {
		ret = 0;
	} else if (fl.l_pid > 0) {
		*pid_r = fl.l_pid;
		ret = 1;
	} else if (ctl_read_pid(sbuf_str(path), pid_r, why) == 0) {
		/* An open file description lock does not name its owner. */
		ret = 1;
	}
	if (fd >= 0)
		close(fd);
	sbuf_free(&path);
	return ret;
}

/*
 * Finds the running master for a command that needs one: -1 with its pid
 * in *pid_r, else the exit status to return (the reason logged).
 */
static int
ctl_need_master(const struct params *p, pid_t *pid_r)
{
	struct sbuf *why = sbuf_new();
	int r = ctl_running(p, pid_r, why);

	if (r < 0)
		msg_error("%s", sbuf_str(why));
	else if (r == 0)
		msg_error(CTL_NOT_RUNNING);
	sbuf_free(&why);
	return r < 0 ? EX_NOPERM : r == 0 ? 1 : -1;
}

/* Sends sig to master; 0, or the exit status to return (logged). */
static int
ctl_signal(pid_t pid, int sig)
{
	if (kill(pid, sig) == 0)
		return 0;
	if (errno == ESRCH) {
		msg_error(CTL_NOT_RUNNING);
		return 1;
	}
	msg_error("cannot signal master (pid %ld): %m", (long)pid);
	return EX_NOPERM;
}

/*
 * Refuses to start an instance that belongs to another user than the
 * caller: a system-mode instance needs root, a single-user instance its
 * user (root would run its services as root). 0, or the exit status.
 */
static int
ctl_may_start(const char *config_dir, const struct params *p)
{
	struct sbuf *why = sbuf_new(), *owner = sbuf_new();
	struct setup_ids ids;
	int status = 0;

	if (setup_instance_ids(p, &ids, why) < 0) {
		msg_error("%s", sbuf_str(why));
		status = EX_CONFIG;
	} else if (getuid() != ids.root_uid) {
		if (ids.single) {
			setup_owner_text(ids.owner_uid, ids.owner_gid, owner);
			msg_error("%s is a single-user instance of %s: start "
			    "it as that user", config_dir, sbuf_str(owner));
		} else {
			msg_error("only root can start the system-mode "
			    "instance of %s", config_dir);
		}
		status = EX_NOPERM;
	}
	sbuf_free(&owner);
	sbuf_free(&why);
	return status;
}

/* Waits for the master started as child to report that it is ready. */
static int
ctl_wait_start(const struct params *p, pid_t child)
{
	double deadline = ctl_now() + CTL_START_WAIT;
	struct sbuf *why = sbuf_new();
	int status = 0;
	pid_t pid;

	/*
	 * master's first process exits 0 only once the daemon holds the pid
	 * file and has created every socket, or with the daemon's failure.
	 */
	while (waitpid(child, &status, WNOHANG) != child) {
		if (ctl_now() > deadline) {
			msg_error("master did not start within %d seconds: "
			    "see the mail log", CTL_START_WAIT);
			sbuf_free(&why);
			return EX_UNAVAILABLE;
		}
		ctl_pause();
	}
	if (WIFSIGNALED(status)) {
		msg_error("master was killed by signal %d", WTERMSIG(status));
		status = 1;
	} else if ((status = WEXITSTATUS(status)) == 0) {
		if (ctl_running(p, &pid, why) == 1) {
			msg_info("the Postern mail system is running "
			    "(pid %ld)", (long)pid);
		} else {
			msg_error("master started but is gone: see the mail "
			    "log");
			status = EX_SOFTWARE;
		}
	}
	sbuf_free(&why);
	return status;
}

int
ctl_start(const char *config_dir, bool foreground)
{
	struct sbuf *path = sbuf_new(), *why = sbuf_new();
	const char *argv[8];
	struct params *p;
	int status, n = 0;
	pid_t pid;

	p = ctl_params(config_dir);
	if ((status = ctl_running(p, &pid, why)) != 0) {
		if (status < 0) {
			msg_error("%s", sbuf_str(why));
			status = EX_NOPERM;
		} else {
			msg_error("the Postern mail system is already running "
			    "(pid %ld)", (long)pid);
		}
		goto out;
	}
	if ((status = check_instance(config_dir)) != EX_OK) {
		msg_error("not starting the Postern mail system: see the "
		    "errors above");
		goto out;
	}
	if ((status = ctl_may_start(config_dir, p)) != 0)
		goto out;
	sbuf_printf(path, "%s/%s", p->daemon_directory, CTL_MASTER);
	argv[n++] = CTL_MASTER;
	argv[n++] = "-c";
	argv[n++] = config_dir;
	if (foreground)
		argv[n++] = "-F";
	for (int v = 0; v < msg_verbose && v < 3; v++)
		argv[n++] = "-v";
	argv[n] = NULL;
	fflush(stdout);
	fflush(stderr);
	if (foreground) {
		execv(sbuf_str(path), (char *const *)argv);
		msg_error("run %s: %m", sbuf_str(path));
		status = EX_UNAVAILABLE;
		goto out;
	}
	if ((pid = fork()) < 0) {
		msg_error("fork: %m");
		status = EX_OSERR;
		goto out;
	}
	if (pid == 0) {
		execv(sbuf_str(path), (char *const *)argv);
		msg_error("run %s: %m", sbuf_str(path));
		_exit(EX_UNAVAILABLE);
	}
	status = ctl_wait_start(p, pid);
out:
	params_free(&p);
	sbuf_free(&path);
	sbuf_free(&why);
	return status;
}

int
ctl_stop(const char *config_dir)
{
	struct params *p = ctl_params(config_dir);
	struct sbuf *why = sbuf_new();
	double deadline;
	pid_t pid, now;
	int status, r;

	if ((status = ctl_need_master(p, &pid)) >= 0 ||
	    (status = ctl_signal(pid, SIGTERM)) != 0)
		goto out;
	msg_info("stopping the Postern mail system (pid %ld)", (long)pid);
	deadline = ctl_now() + (double)p->master_stop_timeout + CTL_STOP_EXTRA;
	while ((r = ctl_running(p, &now, why)) == 1) {
		if (ctl_now() > deadline) {
			msg_error("master (pid %ld) did not stop within %ld "
			    "seconds", (long)now,
			    p->master_stop_timeout + CTL_STOP_EXTRA);
			status = EX_TEMPFAIL;
			goto out;
		}
		ctl_pause();
	}
	if (r < 0) {
		msg_error("%s", sbuf_str(why));
		status = EX_NOPERM;
	} else {
		msg_info("the Postern mail system has stopped");
	}
out:
	params_free(&p);
	sbuf_free(&why);
	return status;
}

int
ctl_reload(const char *config_dir)
{
	struct params *p = ctl_params(config_dir);
	pid_t pid;
	int status;

	if ((status = ctl_need_master(p, &pid)) < 0 &&
	    (status = ctl_signal(pid, SIGHUP)) == 0)
		msg_info("reloading the Postern mail system (pid %ld)",
		    (long)pid);
	params_free(&p);
	return status;
}

/* The parent pid in the text of /proc/PID/stat, or -1. */
static pid_t
ctl_parent(struct sbuf *stat)
{
	char *paren = strrchr(stat->data, ')'), *cursor, *field;
	long ppid;

	if (paren == NULL)
		return -1;
	cursor = paren + 1;
	if (str_token(&cursor, " ") == NULL ||	/* state */
	    (field = str_token(&cursor, " ")) == NULL ||
	    str_to_long(field, &ppid) < 0)
		return -1;
	return (pid_t)ppid;
}

/*
 * The index in mc of the service named by "-n NAME" and "-t TYPE" in the
 * NUL-separated arguments of cmd, or -1.
 */
static long
ctl_service_of(const struct master_cf *mc, const struct sbuf *cmd)
{
	const char *name = NULL, *type = NULL, *prev = NULL;
	const struct master_service *s;
	enum master_type t;

	for (const char *arg = cmd->data; arg < cmd->data + cmd->len;
	    arg += strlen(arg) + 1) {
		if (prev != NULL && strcmp(prev, "-n") == 0)
			name = arg;
		else if (prev != NULL && strcmp(prev, "-t") == 0)
			type = arg;
		prev = arg;
	}
	if (name == NULL || type == NULL || master_type_parse(type, &t) < 0 ||
	    (s = master_cf_find(mc, name, t)) == NULL)
		return -1;
	return s - mc->services;
}

/* Adds master's children to counts[], one slot per service of mc. */
static void
ctl_count(pid_t master, const struct master_cf *mc, int *counts)
{
	struct sbuf *path = sbuf_new(), *data = sbuf_new(), *why = sbuf_new();
	DIR *dir = opendir("/proc");
	struct dirent *de;
	long pid, i;

	while (dir != NULL && (de = readdir(dir)) != NULL) {
		if (str_to_long(de->d_name, &pid) < 0 || pid <= 0)
			continue;
		sbuf_setf(path, "/proc/%ld/stat", pid);
		if (safe_file_read(sbuf_str(path), CTL_PROC_MAX, data,
		    why) < 0 || ctl_parent(data) != master)
			continue;
		sbuf_setf(path, "/proc/%ld/cmdline", pid);
		if (safe_file_read(sbuf_str(path), CTL_PROC_MAX, data,
		    why) < 0)
			continue;
		if ((i = ctl_service_of(mc, data)) >= 0)
			counts[i]++;
	}
	if (dir != NULL)
		closedir(dir);
	sbuf_free(&path);
	sbuf_free(&data);
	sbuf_free(&why);
}

int
ctl_status(const char *config_dir)
{
	struct params *p = ctl_params(config_dir);
	struct sbuf *why = sbuf_new();
	struct master_cf *mc;
	int *counts, r;
	pid_t pid;

	if ((r = ctl_running(p, &pid, why)) <= 0) {
		if (r < 0)
			msg_error("%s", sbuf_str(why));
		else
			msg_info(CTL_NOT_RUNNING);
		params_free(&p);
		sbuf_free(&why);
		return r < 0 ? EX_NOPERM : 1;
	}
	printf("the Postern mail system is running (pid %ld)\n", (long)pid);
	if ((mc = master_cf_load(config_dir, p->default_process_limit,
	    why)) == NULL) {
		msg_warn("%s", sbuf_str(why));
	} else {
		counts = xcalloc(mc->count + 1, sizeof(*counts));
		ctl_count(pid, mc, counts);
		for (size_t i = 0; i < mc->count; i++)
			printf("%s/%s: %d process%s\n", mc->services[i].name,
			    master_type_name(mc->services[i].type), counts[i],
			    counts[i] == 1 ? "" : "es");
		free(counts);
		master_cf_free(&mc);
	}
	params_free(&p);
	sbuf_free(&why);
	return 0;
}

/* Writes one trigger byte to the unix socket or fifo path. */
static int
ctl_trigger(const char *path, enum master_type type, struct sbuf *why)
{
	const char byte = MASTER_TRIGGER_FLUSH;
	int fd;

	if (type != MASTER_FIFO)
		return trigger_send(path, byte, why);
	if ((fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
		sbuf_setf(why, "open %s: %m", path);
		return -1;
	}
	if (safe_write_all(fd, &byte, 1) < 0) {
		sbuf_setf(why, "write to %s: %m", path);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int
ctl_flush(const char *config_dir)
{
	struct params *p = ctl_params(config_dir);
	struct sbuf *why = sbuf_new(), *path = sbuf_new();
	const struct master_service *s;
	struct master_cf *mc;
	pid_t pid;
	int status;

	if ((mc = master_cf_load(config_dir, p->default_process_limit,
	    why)) == NULL) {
		msg_error("%s", sbuf_str(why));
		status = EX_CONFIG;
		goto out;
	}
	if ((s = master_cf_find(mc, CTL_QMGR, MASTER_UNIX)) == NULL &&
	    (s = master_cf_find(mc, CTL_QMGR, MASTER_FIFO)) == NULL) {
		msg_error("no %s service is configured in %s", CTL_QMGR,
		    mc->path);
		status = EX_UNAVAILABLE;
		goto out;
	}
	if ((status = ctl_need_master(p, &pid)) >= 0)
		goto out;
	sbuf_printf(path, "%s/%s/%s", p->queue_directory,
	    s->private_socket ? "private" : "public", s->name);
	if (ctl_trigger(sbuf_str(path), s->type, why) < 0) {
		msg_error("cannot wake up %s: %s", CTL_QMGR, sbuf_str(why));
		status = EX_UNAVAILABLE;
	} else {
		msg_info("asked %s to deliver the deferred mail now",
		    CTL_QMGR);
		status = 0;
	}
out:
	master_cf_free(&mc);
	params_free(&p);
	sbuf_free(&why);
	sbuf_free(&path);
	return status;
}
