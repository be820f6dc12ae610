/*
 * master - the Postern supervisor
 *
 * Reads main.cf and master.cf, locks the pid file, creates every
 * listening socket, detaches (unless -F) and runs the event loop in which
 * master_spawn.c keeps the service processes, master_reload.c handles
 * SIGHUP, and SIGTERM or SIGINT stop everything: listeners closed, every
 * process sent SIGTERM, survivors killed after master_stop_timeout, the
 * pid file removed.
 * Errors: anything wrong at start (options, configuration, directories,
 * the pid file, a socket that cannot be bound) is fatal and reported on
 * stderr: the process that detaches waits until the daemon is running and
 * exits with its status. Later trouble is logged and master keeps going.
 * Trust: its command line, environment and configuration come from the
 * administrator. master reads no client data: it only writes a busy
 * reply to the connections it refuses (master_busy.c); the status
 * records of its children are checked in master_spawn.c.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "mail/master_cf.h"
#include "mail/params.h"
#include "master_reload.h"
#include "master_service.h"
#include "master_spawn.h"
#include "util/event.h"
#include "util/msg.h"
#include "util/safe_file.h"
#include "util/sbuf.h"
#include "util/strutil.h"

#define MASTER_PID_FILE		"pid/master.pid"
#define MASTER_PID_TEXT_MAX	32	/* bytes of a pid file read */

/* What the signal callbacks share. */
struct master_main {
	struct master_env env;
	struct event_timer *stop_timer;
	char *pid_path;
	int pid_fd;
};

static void __attribute__((noreturn))
master_usage(void)
{
	msg_fatal_status(EX_USAGE, "usage: master [-c config_dir] [-F] [-v]");
}

/* Opens /dev/null on each of descriptors 0-2 that is closed. */
static void
master_stdio_open(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		/* The lowest free descriptor is fd. */
		if (open("/dev/null", O_RDWR) != fd)
			msg_fatal("open /dev/null as descriptor %d: %m", fd);
	}
}

/* Puts /dev/null on descriptors 0-2 (the daemon leaves its terminal). */
static void
master_stdio_null(void)
{
	int fd;

	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
		msg_fatal("open /dev/null: %m");
	for (int i = 0; i <= 2; i++)
		if (dup2(fd, i) < 0)
			msg_fatal("dup2 /dev/null: %m");
	close(fd);
}

/* Checks the queue directory that "postern setup" or "init" creates. */
static void
master_check_dirs(const struct master_env *env)
{
	static const char *const subdirs[] = {"", "/pid", "/private",
	    "/public"};
	const char *queue = env->params->queue_directory;
	struct sbuf *path = sbuf_new(), *hint = sbuf_new();
	struct stat st;

	if (env->single_user)
		sbuf_printf(hint, "postern -c %s init", env->config_dir);
	else
		sbuf_set(hint, "postern setup");
	for (size_t i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		sbuf_setf(path, "%s%s", queue, subdirs[i]);
		if (stat(sbuf_str(path), &st) < 0)
			msg_fatal("queue directory %s: %m: run \"%s\" first",
			    sbuf_str(path), sbuf_str(hint));
		if (!S_ISDIR(st.st_mode))
			msg_fatal("queue directory %s is not a directory: run "
			    "\"%s\" first", sbuf_str(path), sbuf_str(hint));
	}
	sbuf_free(&path);
	sbuf_free(&hint);
}

/* In system mode mail_owner must exist and not be root. */
static void
master_check_owner(const struct master_env *env)
{
	const char *user = env->params->mail_owner;
	struct passwd *pw;

	if (env->single_user)
		return;
	if ((pw = getpwnam(user)) == NULL)
		msg_fatal("unknown mail_owner user %s: run \"postern setup\" "
		    "first", user);
	if (pw->pw_uid == 0)
		msg_fatal("mail_owner %s must not be root", user);
}

/*
 * Forks; the parent waits for the daemon to say it runs (one byte on a
 * pipe) and exits 0, or exits with the daemon's status when it failed.
 * Returns the pipe's write end in the daemon, in a new session.
 */
static int
master_detach(void)
{
	int fds[2], status;
	ssize_t n;
	pid_t pid;
	char c;

	if (pipe2(fds, O_CLOEXEC) < 0)
		msg_fatal("pipe: %m");
	if ((pid = fork()) < 0)
		msg_fatal("fork: %m");
	if (pid > 0) {
		close(fds[1]);
		while ((n = read(fds[0], &c, 1)) < 0 && errno == EINTR)
			continue;
		if (n == 1)
			_exit(0);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			continue;
		_exit(WIFEXITED(status) && WEXITSTATUS(status) != 0 ?
		    WEXITSTATUS(status) : 1);
	}
	close(fds[0]);
	if (setsid() < 0)
		msg_fatal("setsid: %m");
	return fds[1];
}

/* Names the process that holds the pid file lock, for the message. */
static void
master_lock_holder(int fd, struct sbuf *out)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	char buf[MASTER_PID_TEXT_MAX];
	long pid;
	ssize_t n;

	if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK &&
	    fl.l_pid > 0) {
		sbuf_printf(out, " (pid %ld)", (long)fl.l_pid);
	} else if ((n = pread(fd, buf, sizeof(buf) - 1, 0)) > 0) {
		buf[n] = '\0';
		if (str_to_long(str_trim(buf), &pid) == 0 && pid > 0)
			sbuf_printf(out, " (pid %ld)", pid);
	}
}

/* The locked pid file, removed when master dies of a fatal error. */
static const char *master_locked_path;
static pid_t master_pid;

static void
master_on_fatal(enum msg_level level, int status)
{
	if (master_locked_path != NULL && getpid() == master_pid)
		unlink(master_locked_path);
}

/* Opens and locks the pid file for master's life; empties it. */
static int
master_lock(const char *path)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	struct sbuf *holder;
	int fd;

	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0644)) < 0)
		msg_fatal("open %s: %m", path);
	if (fcntl(fd, F_SETLK, &fl) < 0) {
		if (errno != EAGAIN && errno != EACCES)
			msg_fatal("lock %s: %m", path);
		holder = sbuf_new();
		master_lock_holder(fd, holder);
		msg_fatal("the Postern mail system is already running%s",
		    sbuf_str(holder));
	}
	master_locked_path = path;
	master_pid = getpid();
	msg_set_exit_hook(master_on_fatal);
	if (ftruncate(fd, 0) < 0)
		msg_fatal("truncate %s: %m", path);
	return fd;
}

/* Writes master's pid into the locked pid file. */
static void
master_write_pid(const struct master_main *m)
{
	struct sbuf *text = sbuf_new();

	sbuf_printf(text, "%ld\n", (long)getpid());
	if (safe_write_all(m->pid_fd, sbuf_str(text), sbuf_len(text)) < 0)
		msg_fatal("write %s: %m", m->pid_path);
	sbuf_free(&text);
}

/* Creates every service of mc at start; any failure is fatal. */
static void
master_start_services(struct master_env *env, const struct master_cf *mc)
{
	struct master_serv **tail = &env->live, *serv;
	struct sbuf *why = sbuf_new();

	for (size_t i = 0; i < mc->count; i++) {
		if ((serv = master_service_new(env, &mc->services[i],
		    env->params, why)) == NULL ||
		    master_service_open(serv, why) < 0)
			msg_fatal("%s", sbuf_str(why));
		*tail = serv;
		tail = &serv->next;
	}
	for (serv = env->live; serv != NULL; serv = serv->next)
		master_spawn_attach(serv);
	sbuf_free(&why);
}

/* Timer: the processes had master_stop_timeout to exit. */
static void
master_on_stop_timeout(struct event_loop *loop, void *ctx)
{
	struct master_main *m = ctx;

	m->stop_timer = NULL;
	msg_warn("%d processes still running after %ld seconds: killing "
	    "them", master_spawn_count(&m->env),
	    m->env.params->master_stop_timeout);
	master_spawn_kill(&m->env, SIGKILL);
}

/* SIGTERM, SIGINT: retires every service, then waits for the processes. */
static void
master_on_term(struct event_loop *loop, int signo, void *ctx)
{
	struct master_main *m = ctx;
	struct master_env *env = &m->env;
	struct master_serv *serv;

	if (env->stopping)
		return;
	msg_info("terminating on signal %d", signo);
	env->stopping = true;
	while ((serv = env->live) != NULL) {
		env->live = serv->next;
		serv->next = NULL;
		master_spawn_retire(serv);
	}
	if (master_spawn_count(env) == 0)
		event_loop_stop(loop);
	else
		m->stop_timer = event_timer_add(loop,
		    (unsigned long)env->params->master_stop_timeout * 1000,
		    master_on_stop_timeout, m);
}

static void
master_on_child(struct event_loop *loop, int signo, void *ctx)
{
	struct master_main *m = ctx;

	master_spawn_reap(&m->env);
	if (m->env.stopping && master_spawn_count(&m->env) == 0)
		event_loop_stop(loop);
}

static void
master_on_hup(struct event_loop *loop, int signo, void *ctx)
{
	struct master_main *m = ctx;

	master_reload(&m->env);
}

/* Routes the signals master handles into the event loop. */
static void
master_signals(struct master_main *m)
{
	static const struct {
		int signo;
		event_signal_fn fn;
	} table[] = {
		{SIGHUP, master_on_hup},
		{SIGTERM, master_on_term},
		{SIGINT, master_on_term},
		{SIGCHLD, master_on_child},
	};
	struct sbuf *why = sbuf_new();

	/* An ignored signal would never reach the loop (nohup, shells). */
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		signal(table[i].signo, SIG_DFL);
		if (event_signal_add(m->env.loop, table[i].signo, table[i].fn,
		    m, why) < 0)
			msg_fatal("%s", sbuf_str(why));
	}
	signal(SIGPIPE, SIG_IGN);
	sbuf_free(&why);
}

int
main(int argc, char **argv)
{
	static struct master_main m;
	struct master_env *env = &m.env;
	const char *config_dir = NULL;
	struct master_cf *mc;
	struct sbuf *why;
	int c, ready = -1;

	master_stdio_open();
	msg_init("master", MSG_TO_SYSLOG | MSG_TO_STDERR);
	opterr = 0;
	while ((c = getopt(argc, argv, "c:Fv")) != -1) {
		switch (c) {
		case 'c':
			config_dir = optarg;
			break;
		case 'F':
			env->foreground = true;
			break;
		case 'v':
			msg_verbose++;
			break;
		default:
			master_usage();
		}
	}
	if (optind != argc)
		master_usage();
	if (config_dir == NULL && (config_dir = getenv("MAIL_CONFIG")) ==
	    NULL)
		config_dir = DEF_CONFIG_DIR;
	if ((env->config_dir = realpath(config_dir, NULL)) == NULL)
		msg_fatal("configuration directory %s: %m", config_dir);

	why = sbuf_new();
	if (master_reload_read(env->config_dir, &env->params, &mc, why) < 0)
		msg_fatal("%s", sbuf_str(why));
	env->single_user = getuid() != 0 || geteuid() != 0;
	master_check_owner(env);
	master_check_dirs(env);
	umask(022);
	if (chdir(env->params->queue_directory) < 0)
		msg_fatal("chdir %s: %m", env->params->queue_directory);
	if (!env->foreground)
		ready = master_detach();

	sbuf_setf(why, "%s/%s", env->params->queue_directory,
	    MASTER_PID_FILE);
	m.pid_path = sbuf_steal(why);
	m.pid_fd = master_lock(m.pid_path);
	if ((env->loop = event_loop_new(why)) == NULL)
		msg_fatal("%s", sbuf_str(why));
	master_signals(&m);
	master_start_services(env, mc);
	master_cf_free(&mc);
	master_write_pid(&m);
	if (ready >= 0) {
		master_stdio_null();
		msg_init("master", MSG_TO_SYSLOG);
		if (safe_write_all(ready, "", 1) < 0)
			msg_warn("tell the starting process: %m");
		close(ready);
	}
	msg_info("daemon started -- version %s, configuration %s",
	    PACKAGE_VERSION, env->config_dir);

	if (event_loop_run(env->loop, why) < 0)
		msg_fatal("%s", sbuf_str(why));
	event_timer_cancel(env->loop, &m.stop_timer);
	event_loop_free(&env->loop);
	master_locked_path = NULL;
	if (unlink(m.pid_path) < 0)
		msg_warn("remove %s: %m", m.pid_path);
	close(m.pid_fd);
	free(m.pid_path);
	params_free(&env->params);
	free(env->config_dir);
	sbuf_free(&why);
	return 0;
}
