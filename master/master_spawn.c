/*
 * master_spawn - the processes of each service
 *
 * Forks and execs service processes with their credentials, descriptors
 * and arguments, keeps each pool from the status records, throttles
 * services that crash, and writes the wake-ups of trigger services.
 * Errors: a process that cannot be started (fork, unknown user, exec) is
 * logged and counts as a crash, so retries back off; the child logs its
 * own failure before exec and exits with status 127. A watch that the
 * event loop refuses (out of kernel memory) is fatal.
 * Trust: status records come from service processes, which handle network
 * data: a record is used only when its pid is a process of that service
 * and its status a known value; anything else is ignored. master never
 * reads client data: listeners are only watched for readability.
 */
#include "master_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "mail/master_proto.h"
#include "mail/params.h"
#include "master_busy.h"
#include "master_service.h"
#include "util/event.h"
#include "util/msg.h"
#include "util/sbuf.h"
#include "util/unix_sock.h"
#include "util/xmalloc.h"

#define MASTER_STATUS_BATCH	64	/* status records per read */
#define MASTER_EXEC_FAILED	127	/* exit status: could not start */
#define MASTER_CRASHES_MAX	32	/* counted; 2^30 s > any cap */

/* Everything a child needs between fork and exec, prepared by master. */
struct master_exec {
	char *path;		/* daemon_directory/COMMAND */
	char **argv;		/* NULL-terminated, argv[0] == path */
	size_t argc;
	int status_fd;
	const int *fds;		/* listeners */
	size_t fd_count;
	bool set_user;		/* become uid/gid/groups before exec */
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	int group_count;
	int log_flags;		/* msg_init() flags of master */
};

/* Appends a copy of arg to x->argv, keeping it NULL-terminated. */
static void
master_exec_push(struct master_exec *x, const char *arg)
{
	x->argv = xreallocarray(x->argv, x->argc + 2, sizeof(*x->argv));
	x->argv[x->argc++] = xstrdup(arg);
	x->argv[x->argc] = NULL;
}

static void
master_exec_free(struct master_exec *x)
{
	free(x->path);
	for (size_t i = 0; i < x->argc; i++)
		free(x->argv[i]);
	free(x->argv);
	free(x->groups);
	memset(x, 0, sizeof(*x));
}

/* Looks up mail_owner's uid, gid and groups into x; 0 or -1 with why. */
static int
master_exec_user(struct master_exec *x, const char *user, struct sbuf *why)
{
	struct passwd *pw;
	int n = 16;

	if ((pw = getpwnam(user)) == NULL) {
		sbuf_setf(why, "unknown mail_owner user %s", user);
		return -1;
	}
	if (pw->pw_uid == 0) {
		sbuf_setf(why, "mail_owner %s must not be root", user);
		return -1;
	}
	x->set_user = true;
	x->uid = pw->pw_uid;
	x->gid = pw->pw_gid;
	for (;;) {
		int got = n;

		x->groups = xreallocarray(x->groups, (size_t)n,
		    sizeof(*x->groups));
		if (getgrouplist(pw->pw_name, pw->pw_gid, x->groups,
		    &got) >= 0) {
			x->group_count = got;
			return 0;
		}
		if (got <= n) {
			sbuf_setf(why, "groups of user %s", user);
			return -1;
		}
		n = got;
	}
}

/* Prepares the program, arguments and credentials of a new process. */
static int
master_exec_prepare(struct master_serv *serv, struct master_exec *x,
    struct sbuf *why)
{
	const struct master_env *env = serv->env;
	const struct params *p = env->params;
	const struct master_service *s = &serv->cf;
	struct sbuf *num = sbuf_new(), *path = sbuf_new();
	int ret = 0;

	memset(x, 0, sizeof(*x));
	sbuf_printf(path, "%s/%s", p->daemon_directory, s->argv[0]);
	x->path = sbuf_steal(path);
	sbuf_free(&path);
	master_exec_push(x, x->path);
	master_exec_push(x, "-c");
	master_exec_push(x, env->config_dir);
	master_exec_push(x, "-n");
	master_exec_push(x, s->name);
	master_exec_push(x, "-t");
	master_exec_push(x, master_type_name(s->type));
	master_exec_push(x, "-s");
	sbuf_printf(num, "%zu", serv->endpoint_count);
	master_exec_push(x, sbuf_str(num));
	sbuf_free(&num);
	if (!env->single_user && s->chroot) {
		/* The child chroots first, then becomes the user. */
		if (s->unprivileged) {
			master_exec_push(x, "-u");
			master_exec_push(x, p->mail_owner);
		}
		master_exec_push(x, "-r");
		master_exec_push(x, p->queue_directory);
	} else if (!env->single_user && s->unprivileged) {
		ret = master_exec_user(x, p->mail_owner, why);
	}
	if (env->foreground)
		master_exec_push(x, "-l");
	if (env->single_user)
		master_exec_push(x, "-S");
	for (int i = 0; i < msg_verbose; i++)
		master_exec_push(x, "-v");
	for (size_t i = 1; i < s->argc; i++)
		master_exec_push(x, s->argv[i]);
	x->status_fd = serv->status_wr;
	x->fds = serv->fds;
	x->fd_count = serv->endpoint_count;
	x->log_flags = MSG_TO_SYSLOG | (env->foreground ? MSG_TO_STDERR : 0);
	return ret;
}

/* Logs why a child could not start and exits; never returns. */
static void __attribute__((noreturn, format(printf, 1, 2)))
master_exec_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msg_vlog(MSG_ERROR, fmt, ap);
	va_end(ap);
	_exit(MASTER_EXEC_FAILED);
}

/*
 * In the child: puts the descriptors in place (master_proto.h), closes
 * every other one above 2, resets signals, drops to the service's user
 * and executes the program.
 */
static void __attribute__((noreturn))
master_exec_child(const struct master_exec *x)
{
	unsigned int top = MASTER_LISTEN_FD + (unsigned int)x->fd_count;
	int moved[1 + MASTER_LISTEN_MAX];
	sigset_t none;

	/* syslog may hold a descriptor that is about to be reused. */
	closelog();
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	/* First above every target, so no source is overwritten early. */
	moved[0] = fcntl(x->status_fd, F_DUPFD_CLOEXEC, (int)top);
	for (size_t i = 0; i < x->fd_count; i++)
		moved[1 + i] = fcntl(x->fds[i], F_DUPFD_CLOEXEC, (int)top);
	for (size_t i = 0; i <= x->fd_count; i++) {
		int target = i == 0 ? MASTER_STATUS_FD :
		    MASTER_LISTEN_FD + (int)i - 1;

		if (moved[i] < 0 || dup2(moved[i], target) < 0)
			master_exec_fail("%s: descriptor %d: %m", x->path,
			    target);
	}
	if (close_range(top, ~0U, 0) < 0) {
		long max = sysconf(_SC_OPEN_MAX);

		for (long fd = top; fd < max; fd++)
			close((int)fd);
	}
	/* Its descriptor lands above the others and closes on exec. */
	msg_init(msg_name(), x->log_flags);
	if (x->set_user) {
		if (setgroups((size_t)x->group_count, x->groups) < 0 ||
		    setgid(x->gid) < 0 || setuid(x->uid) < 0)
			master_exec_fail("%s: set uid %ld: %m", x->path,
			    (long)x->uid);
		if (getuid() == 0 || geteuid() == 0 || setuid(0) == 0)
			master_exec_fail("%s: still root after dropping "
			    "privileges", x->path);
	}
	execv(x->path, x->argv);
	master_exec_fail("exec %s: %m", x->path);
}

/* Timer: the throttle is over. */
static void
master_spawn_unthrottle(struct event_loop *loop, void *ctx)
{
	struct master_serv *serv = ctx;

	serv->throttle_timer = NULL;
	serv->throttled = false;
	master_spawn_watch(serv);
}

/*
 * Counts an abnormal exit (or a failed start) of serv and throttles it
 * from the second in a row on.
 */
static void
master_spawn_crashed(struct master_serv *serv)
{
	long cap = serv->env->params->service_throttle_time;
	long delay;

	if (serv->crashes < MASTER_CRASHES_MAX)
		serv->crashes++;
	if (serv->throttled || serv->crashes < 2)
		return;
	if (cap < 1)
		cap = 1;
	delay = 1L << (serv->crashes - 2);
	if (delay > cap)
		delay = cap;
	msg_warn("service %s is crashing: throttling for %ld seconds",
	    serv->cf.name, delay);
	serv->throttled = true;
	serv->throttle_timer = event_timer_add(serv->env->loop,
	    (unsigned long)delay * 1000, master_spawn_unthrottle, serv);
}

/* Writes one wake-up byte to a trigger service's socket or fifo. */
static void
master_spawn_trigger(struct master_serv *serv)
{
	const char *path = serv->endpoints[0];
	char c = MASTER_TRIGGER_WAKEUP;
	struct sbuf *why;

	if (serv->cf.type == MASTER_FIFO) {
		if (write(serv->fds[0], &c, 1) < 0 && errno != EAGAIN)
			msg_warn("wake up %s: %m", path);
		return;
	}
	why = sbuf_new();
	if (trigger_send(path, c, why) < 0)
		msg_warn("wake up %s: %s", path, sbuf_str(why));
	sbuf_free(&why);
}

/* Timer: wakes the service up and sets the next wake-up. */
static void
master_spawn_wakeup(struct event_loop *loop, void *ctx)
{
	struct master_serv *serv = ctx;

	serv->wakeup_timer = event_timer_add(loop,
	    (unsigned long)serv->cf.wakeup * 1000, master_spawn_wakeup, serv);
	master_spawn_trigger(serv);
}

/* Starts the wake-up timer when serv has one due (now, or a period on). */
static void
master_spawn_wakeup_start(struct master_serv *serv, bool now)
{
	if (serv->cf.wakeup <= 0 || serv->wakeup_timer != NULL ||
	    (serv->cf.wakeup_if_used && !serv->used))
		return;
	serv->wakeup_timer = event_timer_add(serv->env->loop,
	    now ? 0 : (unsigned long)serv->cf.wakeup * 1000,
	    master_spawn_wakeup, serv);
}

/* Starts one process of serv. */
static void
master_spawn_start(struct master_serv *serv)
{
	struct sbuf *why = sbuf_new();
	struct master_exec x;
	struct master_proc *proc;
	pid_t pid;

	if (master_exec_prepare(serv, &x, why) < 0) {
		msg_error("service %s: %s", serv->cf.name, sbuf_str(why));
		master_spawn_crashed(serv);
	} else if ((pid = fork()) < 0) {
		msg_warn("service %s: fork: %m", serv->cf.name);
		master_spawn_crashed(serv);
	} else if (pid == 0) {
		master_exec_child(&x);
	} else {
		proc = xcalloc(1, sizeof(*proc));
		proc->pid = pid;
		proc->avail = true;
		proc->path = xstrdup(x.path);
		proc->next = serv->procs;
		serv->procs = proc;
		serv->total++;
		serv->avail++;
		msg_debug("service %s: started %s pid %ld", serv->cf.name,
		    x.path, (long)pid);
		if (!serv->used) {
			serv->used = true;
			master_spawn_wakeup_start(serv, false);
		}
	}
	master_exec_free(&x);
	sbuf_free(&why);
	master_spawn_watch(serv);
}

/* A listener is readable: a client or wake-up waits for a process. */
static void
master_spawn_listener(struct event_loop *loop, int fd, unsigned int ready,
    void *ctx)
{
	master_spawn_start(ctx);
}

/* What the pool rules say the listeners of serv are to be watched for. */
static enum master_watch
master_spawn_want(const struct master_serv *serv)
{
	if (serv->retired || serv->env->stopping || serv->fds == NULL ||
	    serv->avail > 0)
		return MASTER_WATCH_NONE;
	if (serv->cf.maxproc == 0 || serv->total < serv->cf.maxproc)
		return serv->throttled ? MASTER_WATCH_NONE : MASTER_WATCH_SPAWN;
	if (serv->cf.type == MASTER_INET && serv->busy_timer == NULL)
		return MASTER_WATCH_BUSY;
	return MASTER_WATCH_NONE;
}

void
master_spawn_watch(struct master_serv *serv)
{
	const struct master_env *env = serv->env;
	enum master_watch want = master_spawn_want(serv);
	event_fd_fn fn;
	struct sbuf *why;

	if (want == serv->watching)
		return;
	if (serv->watching != MASTER_WATCH_NONE)
		for (size_t i = 0; i < serv->endpoint_count; i++)
			event_fd_remove(env->loop, serv->fds[i]);
	serv->watching = want;
	if (want == MASTER_WATCH_NONE)
		return;
	fn = want == MASTER_WATCH_SPAWN ? master_spawn_listener :
	    master_busy_listener;
	why = sbuf_new();
	for (size_t i = 0; i < serv->endpoint_count; i++)
		if (event_fd_add(env->loop, serv->fds[i], EVENT_READ, fn,
		    serv, why) < 0)
			msg_fatal("service %s: watch %s: %s", serv->cf.name,
			    serv->endpoints[i], sbuf_str(why));
	sbuf_free(&why);
}

/* Applies one status record to the pool. */
static void
master_spawn_status_record(struct master_serv *serv,
    const struct master_status *st)
{
	struct master_proc *proc;
	bool avail;

	for (proc = serv->procs; proc != NULL; proc = proc->next)
		if (proc->pid == st->pid)
			break;
	/* Already reaped, or not ours: nothing to count. */
	if (proc == NULL) {
		msg_debug("service %s: status from unknown pid %ld",
		    serv->cf.name, (long)st->pid);
		return;
	}
	if (st->status != MASTER_STAT_AVAIL &&
	    st->status != MASTER_STAT_TAKEN) {
		msg_warn("service %s: pid %ld sent bad status %d",
		    serv->cf.name, (long)st->pid, st->status);
		return;
	}
	avail = st->status == MASTER_STAT_AVAIL;
	if (!avail)
		serv->busy_taken++;
	if (avail != proc->avail && !proc->retiring)
		serv->avail += avail ? 1 : -1;
	proc->avail = avail;
}

void
master_spawn_read_status(struct master_serv *serv)
{
	unsigned char buf[MASTER_STATUS_BATCH * sizeof(struct master_status)];
	size_t len = serv->partial_len, off;
	struct master_status st;
	ssize_t n;

	memcpy(buf, serv->partial, len);
	if ((n = read(serv->status_rd, buf + len, sizeof(buf) - len)) <= 0) {
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			msg_warn("service %s: read status: %m",
			    serv->cf.name);
		return;
	}
	len += (size_t)n;
	for (off = 0; len - off >= sizeof(st); off += sizeof(st)) {
		memcpy(&st, buf + off, sizeof(st));
		master_spawn_status_record(serv, &st);
	}
	serv->partial_len = len - off;
	memcpy(serv->partial, buf + off, serv->partial_len);
}

/* The status pipe is readable: reads the records waiting. */
static void
master_spawn_status(struct event_loop *loop, int fd, unsigned int ready,
    void *ctx)
{
	struct master_serv *serv = ctx;

	master_spawn_read_status(serv);
	master_spawn_watch(serv);
}

void
master_spawn_attach(struct master_serv *serv)
{
	struct sbuf *why = sbuf_new();

	if (serv->env->single_user && serv->cf.chroot)
		msg_warn("service %s: chroot ignored in a single-user "
		    "instance", serv->cf.name);
	if (event_fd_add(serv->env->loop, serv->status_rd, EVENT_READ,
	    master_spawn_status, serv, why) < 0)
		msg_fatal("service %s: watch status pipe: %s", serv->cf.name,
		    sbuf_str(why));
	sbuf_free(&why);
	master_spawn_wakeup_start(serv, true);
	master_spawn_watch(serv);
}

void
master_spawn_reconfigure(struct master_serv *serv)
{
	struct event_loop *loop = serv->env->loop;

	event_timer_cancel(loop, &serv->throttle_timer);
	event_timer_cancel(loop, &serv->wakeup_timer);
	serv->throttled = false;
	serv->crashes = 0;
	if (serv->env->single_user && serv->cf.chroot)
		msg_warn("service %s: chroot ignored in a single-user "
		    "instance", serv->cf.name);
	master_spawn_wakeup_start(serv, true);
	master_spawn_watch(serv);
}

void
master_spawn_renew(struct master_serv *serv)
{
	for (struct master_proc *proc = serv->procs; proc != NULL;
	    proc = proc->next) {
		if (proc->retiring)
			continue;
		if (kill(proc->pid, SIGTERM) < 0 && errno != ESRCH)
			msg_warn("kill %s pid %ld: %m", proc->path,
			    (long)proc->pid);
		proc->retiring = true;
		if (proc->avail)
			serv->avail--;
	}
	master_spawn_watch(serv);
}

void
master_spawn_retire(struct master_serv *serv)
{
	struct master_env *env = serv->env;

	serv->retired = true;
	master_spawn_watch(serv);
	master_busy_stop(serv);
	/* An opened service is attached, so its status pipe is watched. */
	if (serv->status_rd >= 0)
		event_fd_remove(env->loop, serv->status_rd);
	event_timer_cancel(env->loop, &serv->throttle_timer);
	event_timer_cancel(env->loop, &serv->wakeup_timer);
	master_service_close(serv);
	master_spawn_renew(serv);
	if (serv->procs == NULL) {
		master_service_free(&serv);
		return;
	}
	serv->next = env->retired;
	env->retired = serv;
}

/* Logs how a process ended; true when it was abnormal. */
static bool
master_spawn_log_exit(const struct master_proc *proc, int status)
{
	if (WIFSIGNALED(status)) {
		msg_warn("process %s pid %ld killed by signal %d", proc->path,
		    (long)proc->pid, WTERMSIG(status));
		return true;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
		msg_warn("process %s pid %ld exit status %d", proc->path,
		    (long)proc->pid, WEXITSTATUS(status));
		return true;
	}
	msg_debug("process %s pid %ld exited", proc->path, (long)proc->pid);
	return false;
}

/* Removes serv from the list at *head. */
static void
master_spawn_unlink(struct master_serv **head, struct master_serv *serv)
{
	for (; *head != NULL; head = &(*head)->next) {
		if (*head == serv) {
			*head = serv->next;
			return;
		}
	}
}

/*
 * Finds the process pid among the services of list; sets *serv_r and
 * returns the link that points to it, or NULL.
 */
static struct master_proc **
master_spawn_find(struct master_serv *list, pid_t pid,
    struct master_serv **serv_r)
{
	for (struct master_serv *serv = list; serv != NULL;
	    serv = serv->next) {
		for (struct master_proc **pp = &serv->procs; *pp != NULL;
		    pp = &(*pp)->next) {
			if ((*pp)->pid == pid) {
				*serv_r = serv;
				return pp;
			}
		}
	}
	return NULL;
}

/* Accounts for one reaped process. */
static void
master_spawn_exited(struct master_env *env, pid_t pid, int status)
{
	struct master_serv *serv = NULL;
	struct master_proc **pp, *proc;
	bool abnormal;

	if ((pp = master_spawn_find(env->live, pid, &serv)) == NULL &&
	    (pp = master_spawn_find(env->retired, pid, &serv)) == NULL) {
		msg_debug("reaped unknown pid %ld", (long)pid);
		return;
	}
	proc = *pp;
	*pp = proc->next;
	serv->total--;
	if (proc->avail && !proc->retiring)
		serv->avail--;
	abnormal = master_spawn_log_exit(proc, status);
	if (!serv->retired && !proc->retiring) {
		if (abnormal)
			master_spawn_crashed(serv);
		else
			serv->crashes = 0;
	}
	free(proc->path);
	free(proc);
	if (serv->retired && serv->procs == NULL) {
		master_spawn_unlink(&env->retired, serv);
		master_service_free(&serv);
		return;
	}
	master_spawn_watch(serv);
}

void
master_spawn_reap(struct master_env *env)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		master_spawn_exited(env, pid, status);
}

/* Sends signo to the processes of the services in list. */
static void
master_spawn_kill_list(struct master_serv *list, int signo)
{
	for (struct master_serv *serv = list; serv != NULL; serv = serv->next)
		for (struct master_proc *proc = serv->procs; proc != NULL;
		    proc = proc->next)
			if (kill(proc->pid, signo) < 0 && errno != ESRCH)
				msg_warn("kill %s pid %ld: %m", proc->path,
				    (long)proc->pid);
}

void
master_spawn_kill(struct master_env *env, int signo)
{
	master_spawn_kill_list(env->live, signo);
	master_spawn_kill_list(env->retired, signo);
}

/* The number of processes of the services in list. */
static int
master_spawn_count_list(const struct master_serv *list)
{
	int n = 0;

	for (const struct master_serv *serv = list; serv != NULL;
	    serv = serv->next)
		n += serv->total;
	return n;
}

int
master_spawn_count(const struct master_env *env)
{
	return master_spawn_count_list(env->live) +
	    master_spawn_count_list(env->retired);
}
