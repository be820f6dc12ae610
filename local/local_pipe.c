/*
 * local_pipe - deliver a message to a command
 *
 * Errors: every failure (pipe, fork, exec, a content read, the time
 * limit) is an outcome, never fatal; the command's process group is
 * killed whenever the delivery gives up on it.
 * Trust: the command and its output are the user's; output is bounded
 * and stripped of control characters before it enters a reason. The
 * environment holds only what is built here, and the command inherits
 * no descriptor but its standard input, output and error.
 */
#include "local_pipe.h"

#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "local_child.h"
#include "local_outcome.h"
#include "util/sbuf.h"
#include "util/xmalloc.h"

#define LOCAL_PIPE_CHUNK	8192	/* octets of content per write */
#define LOCAL_PIPE_REAP_MS	50	/* poll step waiting for the exit */

static void
local_pipe_env_add(char ***env, size_t *n, const char *name,
    const char *value)
{
	struct sbuf *s;

	if (value == NULL)
		return;
	s = sbuf_new();
	sbuf_printf(s, "%s=%s", name, value);
	*env = xreallocarray(*env, *n + 2, sizeof(**env));
	(*env)[(*n)++] = sbuf_steal(s);
	(*env)[*n] = NULL;
	sbuf_free(&s);
}

char **
local_pipe_env(const struct local_pipe_vars *v)
{
	char **env = xcalloc(1, sizeof(*env));
	size_t n = 0;

	if (v->user != NULL) {
		local_pipe_env_add(&env, &n, "HOME", v->user->home);
		local_pipe_env_add(&env, &n, "USER", v->user->name);
		local_pipe_env_add(&env, &n, "LOGNAME", v->user->name);
		local_pipe_env_add(&env, &n, "SHELL", v->user->shell);
	}
	local_pipe_env_add(&env, &n, "PATH", LOCAL_PIPE_PATH);
	local_pipe_env_add(&env, &n, "SENDER", v->sender);
	local_pipe_env_add(&env, &n, "RECIPIENT", v->recipient);
	local_pipe_env_add(&env, &n, "LOCAL", v->local);
	local_pipe_env_add(&env, &n, "DOMAIN", v->domain);
	local_pipe_env_add(&env, &n, "EXTENSION", v->extension);
	local_pipe_env_add(&env, &n, "ORIGINAL_RECIPIENT",
	    v->original_recipient);
	local_pipe_env_add(&env, &n, "QUEUE_ID", v->queue_id);
	local_pipe_env_add(&env, &n, "CLIENT_ADDRESS", v->client_address);
	local_pipe_env_add(&env, &n, "CLIENT_HOSTNAME", v->client_hostname);
	local_pipe_env_add(&env, &n, "CLIENT_HELO", v->client_helo);
	return env;
}

void
local_pipe_env_free(char ***env)
{
	if (*env == NULL)
		return;
	for (char **e = *env; *e != NULL; e++)
		free(*e);
	xfree(env);
}

/* The class of a non-zero exit code: its status and DSN. */
static enum deliver_status
local_pipe_exit_class(int code, const char **dsn_r)
{
	switch (code) {
	case EX_TEMPFAIL:
	case EX_OSERR:
	case EX_IOERR:
	case EX_CANTCREAT:
	case EX_SOFTWARE:
		*dsn_r = "4.3.0";
		return DELIVER_DEFERRED;
	case EX_NOUSER:
		*dsn_r = "5.1.1";
		return DELIVER_BOUNCED;
	case EX_NOHOST:
		*dsn_r = "5.1.2";
		return DELIVER_BOUNCED;
	case EX_NOPERM:
		*dsn_r = "5.7.1";
		return DELIVER_BOUNCED;
	case EX_DATAERR:
		*dsn_r = "5.6.0";
		return DELIVER_BOUNCED;
	}
	*dsn_r = "5.3.0";
	return DELIVER_BOUNCED;
}

void
local_pipe_map_exit(int wstatus, const char *command, const char *output,
    struct local_outcome *out)
{
	struct sbuf *text = sbuf_new(), *how = sbuf_new();
	enum deliver_status status;
	const char *dsn;

	for (const unsigned char *p = (const unsigned char *)output;
	    *p != '\0'; p++)
		sbuf_catc(text, *p == '\n' || *p == '\t' ? ' ' :
		    (*p < 0x20 || *p == 0x7f) ? '?' : *p);
	while (sbuf_len(text) > 0 && sbuf_str(text)[sbuf_len(text) - 1] == ' ')
		sbuf_truncate(text, sbuf_len(text) - 1);
	if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) {
		local_outcome_set(out, DELIVER_SENT, "2.0.0",
		    "delivered to command: %s", command);
		goto done;
	}
	if (WIFEXITED(wstatus)) {
		status = local_pipe_exit_class(WEXITSTATUS(wstatus), &dsn);
		sbuf_setf(how, "exit status %d", WEXITSTATUS(wstatus));
	} else {
		status = DELIVER_DEFERRED;
		dsn = "4.3.0";
		sbuf_setf(how, "signal %d", WIFSIGNALED(wstatus) ?
		    WTERMSIG(wstatus) : 0);
	}
	local_outcome_set(out, status, dsn, "command %s failed with %s%s%s",
	    command, sbuf_str(how), sbuf_len(text) > 0 ? ": " : "",
	    sbuf_str(text));
done:
	sbuf_free(&text);
	sbuf_free(&how);
}

/* The command's side: never returns. */
static void __attribute__((noreturn))
local_pipe_exec(const struct local_pipe_req *req, int in, int out)
{
	char *argv[] = { "sh", "-c", (char *)req->command, NULL };

	setsid();
	signal(SIGPIPE, SIG_DFL);
	if (dup2(in, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 ||
	    dup2(out, STDERR_FILENO) < 0)
		_exit(EX_OSERR);
	/* Nothing of the daemon's: master's status pipe, the listeners. */
	closefrom(STDERR_FILENO + 1);
	if (chdir(req->cwd) < 0 && chdir("/") < 0)
		_exit(EX_OSERR);
	execve(LOCAL_PIPE_SHELL, argv, req->env);
	_exit(EX_OSERR);
}

/* Milliseconds left until deadline (CLOCK_MONOTONIC), at least 0. */
static int
local_pipe_ms_left(const struct timespec *deadline)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(deadline->tv_sec - now.tv_sec) * 1000 +
	    (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : ms > 60000 ? 60000 : (int)ms;
}

/* The state of feeding the command and reading its output. */
struct local_pipe_io {
	const struct local_pipe_req *req;
	int in;			/* our end of its stdin; -1 once closed */
	int out;		/* our end of its output; -1 at its end */
	char buf[LOCAL_PIPE_CHUNK];
	size_t buf_len, buf_off;
	bool prefix_sent, content_done;
	struct sbuf *output;
	bool read_failed;
};

/* Refills io->buf from the prefix or the content; false when done. */
static bool
local_pipe_refill(struct local_pipe_io *io)
{
	ssize_t n;

	io->buf_off = 0;
	io->buf_len = 0;
	if (!io->prefix_sent) {
		io->prefix_sent = true;
		if (io->req->prefix != NULL && *io->req->prefix != '\0') {
			io->buf_len = strlen(io->req->prefix);
			if (io->buf_len > sizeof(io->buf))
				io->buf_len = sizeof(io->buf);
			memcpy(io->buf, io->req->prefix, io->buf_len);
			return true;
		}
	}
	if (io->content_done)
		return false;
	n = io->req->read_fn(io->req->read_ctx, io->buf, sizeof(io->buf));
	if (n <= 0) {
		io->read_failed = n < 0;
		io->content_done = true;
		return false;
	}
	io->buf_len = (size_t)n;
	return true;
}

/* Writes what stdin takes now; closes it when all is written. */
static void
local_pipe_feed(struct local_pipe_io *io)
{
	ssize_t n;

	for (;;) {
		if (io->buf_off == io->buf_len && !local_pipe_refill(io)) {
			close(io->in);
			io->in = -1;
			return;
		}
		n = write(io->in, io->buf + io->buf_off,
		    io->buf_len - io->buf_off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0) {
			/* EPIPE: it stopped reading; its exit tells. */
			close(io->in);
			io->in = -1;
			return;
		}
		io->buf_off += (size_t)n;
	}
}

/* Reads the output there is, keeping the first LOCAL_PIPE_OUTPUT_MAX. */
static void
local_pipe_drain(struct local_pipe_io *io)
{
	char buf[4096];
	ssize_t n;
	size_t room;

	for (;;) {
		n = read(io->out, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			close(io->out);
			io->out = -1;
			return;
		}
		room = LOCAL_PIPE_OUTPUT_MAX - sbuf_len(io->output);
		sbuf_catn(io->output, buf, (size_t)n < room ? (size_t)n :
		    room);
	}
}

/*
 * Feeds and drains until both are done and the command has exited, or
 * the deadline passes. 0 with *wstatus_r, or -1 on the time limit.
 */
static int
local_pipe_wait(struct local_pipe_io *io, pid_t pid,
    const struct timespec *deadline, int *wstatus_r)
{
	struct pollfd pfd[2];
	int ms;

	while (io->in >= 0 || io->out >= 0) {
		nfds_t n = 0;

		if ((ms = local_pipe_ms_left(deadline)) == 0)
			return -1;
		if (io->in >= 0) {
			pfd[n].fd = io->in;
			pfd[n++].events = POLLOUT;
		}
		if (io->out >= 0) {
			pfd[n].fd = io->out;
			pfd[n++].events = POLLIN;
		}
		if (poll(pfd, n, ms) < 0 && errno != EINTR)
			return -1;
		for (nfds_t i = 0; i < n; i++) {
			if (pfd[i].revents == 0)
				continue;
			if (pfd[i].fd == io->in)
				local_pipe_feed(io);
			else if (pfd[i].fd == io->out)
				local_pipe_drain(io);
		}
	}
	for (;;) {
		pid_t got = waitpid(pid, wstatus_r, WNOHANG);

		if (got == pid)
			return 0;
		if (got < 0 && errno != EINTR)
			return -1;
		if (local_pipe_ms_left(deadline) == 0)
			return -1;
		poll(NULL, 0, LOCAL_PIPE_REAP_MS);
	}
}

void
local_pipe_run(const struct local_pipe_req *req, struct local_outcome *out)
{
	struct local_pipe_io io = { .req = req, .in = -1, .out = -1 };
	struct timespec deadline;
	int in[2] = { -1, -1 }, outp[2] = { -1, -1 }, wstatus = 0;
	pid_t pid;

	io.output = sbuf_new();
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(outp, O_CLOEXEC) < 0) {
		local_outcome_set(out, DELIVER_DEFERRED, "4.3.0", "pipe: %s",
		    strerror(errno));
		goto done;
	}
	if ((pid = fork()) < 0) {
		local_outcome_set(out, DELIVER_DEFERRED, "4.3.0", "fork: %s",
		    strerror(errno));
		goto done;
	}
	if (pid == 0)
		local_pipe_exec(req, in[0], outp[1]);
	close(in[0]);
	close(outp[1]);
	in[0] = outp[1] = -1;
	io.in = in[1];
	io.out = outp[0];
	in[1] = outp[0] = -1;
	fcntl(io.in, F_SETFL, O_NONBLOCK);
	fcntl(io.out, F_SETFL, O_NONBLOCK);
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += req->time_limit;
	if (local_pipe_wait(&io, pid, &deadline, &wstatus) < 0) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			continue;
		local_outcome_set(out, DELIVER_DEFERRED, "4.3.0",
		    "command %s: time limit of %lds exceeded", req->command,
		    req->time_limit);
	} else if (io.read_failed) {
		kill(-pid, SIGKILL);
		local_outcome_set(out, DELIVER_DEFERRED, "4.3.0",
		    "command %s: cannot read the message from the queue file",
		    req->command);
	} else {
		/* Whatever it left running in its group is done with. */
		kill(-pid, SIGKILL);
		local_pipe_map_exit(wstatus, req->command,
		    sbuf_str(io.output), out);
	}
done:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (outp[i] >= 0)
			close(outp[i]);
	}
	if (io.in >= 0)
		close(io.in);
	if (io.out >= 0)
		close(io.out);
	sbuf_free(&io.output);
}
