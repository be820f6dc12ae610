/*
 * sendmail_submit - run postern-drop and feed it (see the header file)
 *
 * Errors: failures to run the program are reported with msg_error() and
 * a status; postern-drop reports its own errors on the shared stderr.
 * Trust: runs with the caller's privileges only.
 */
#include "sendmail_submit.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "mail/drop_file.h"
#include "util/msg.h"
#include "util/sbuf.h"

#define SUBMIT_PROGRAM	"postern-drop"

int
submit_message(const char *command_dir, const char *config_dir,
    struct drop_envelope *env, const struct sbuf *msg)
{
	struct sbuf *path = sbuf_new();
	const char *argv[5] = { SUBMIT_PROGRAM, NULL };
	int fds[2], status;
	FILE *out;
	pid_t pid;

	sbuf_setf(path, "%s/%s", command_dir, SUBMIT_PROGRAM);
	if (config_dir != NULL) {
		argv[1] = "-C";
		argv[2] = config_dir;
	}
	env->size = sbuf_len(msg);
	if (pipe(fds) < 0 || (pid = fork()) < 0) {
		msg_error("cannot run %s: %m", sbuf_str(path));
		sbuf_free(&path);
		return EX_OSERR;
	}
	if (pid == 0) {
		close(fds[1]);
		if (dup2(fds[0], STDIN_FILENO) < 0)
			_exit(EX_OSERR);
		if (fds[0] != STDIN_FILENO)
			close(fds[0]);
		execv(sbuf_str(path), (char *const *)argv);
		msg_error("cannot run %s: %m", sbuf_str(path));
		_exit(EX_UNAVAILABLE);
	}
	close(fds[0]);
	signal(SIGPIPE, SIG_IGN);
	if ((out = fdopen(fds[1], "w")) == NULL)
		msg_fatal_status(EX_OSERR, "fdopen: %m");
	/* A write error means postern-drop gave up; its status says why. */
	if (drop_envelope_write(out, env) == 0)
		fwrite(sbuf_str(msg), 1, sbuf_len(msg), out);
	fclose(out);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			msg_fatal_status(EX_OSERR, "waitpid: %m");
	sbuf_free(&path);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	msg_error("%s died of signal %d", SUBMIT_PROGRAM, WTERMSIG(status));
	return EX_SOFTWARE;
}
