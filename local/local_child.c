/*
 * local_child - run one delivery step in a child process as a user
 *
 * Errors: a failure to fork, to switch or to hear from the child becomes
 * a deferred outcome with the reason; the parent never dies of a child.
 * Trust: the child is ours but runs user-controlled code paths (a user's
 * files, a user's command): its frame is decoded with the bounded attr
 * reader and checked like any peer's.
 */
#include "local_child.h"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "local_outcome.h"
#include "util/attr.h"
#include "util/sbuf.h"
#include "util/xmalloc.h"

#define LOCAL_CHILD_SEND_MS	10000	/* the child's wait to send */

void
local_ident_from_pw(struct local_ident *id, const struct passwd *pw)
{
	id->uid = pw->pw_uid;
	id->gid = pw->pw_gid;
	id->name = xstrdup(pw->pw_name);
	id->home = xstrdup(pw->pw_dir != NULL && *pw->pw_dir == '/' ?
	    pw->pw_dir : "/");
	id->shell = xstrdup(pw->pw_shell != NULL && *pw->pw_shell != '\0' ?
	    pw->pw_shell : "/bin/sh");
}

void
local_ident_copy(struct local_ident *dst, const struct local_ident *src)
{
	dst->uid = src->uid;
	dst->gid = src->gid;
	dst->name = xstrdup(src->name);
	dst->home = xstrdup(src->home);
	dst->shell = xstrdup(src->shell);
}

void
local_ident_clear(struct local_ident *id)
{
	xfree(&id->name);
	xfree(&id->home);
	xfree(&id->shell);
	id->uid = 0;
	id->gid = 0;
}

int
local_child_become(const struct local_ident *as, struct sbuf *why)
{
	if (getuid() != 0 && geteuid() != 0) {
		if (as->uid != getuid()) {
			sbuf_setf(why, "a single-user instance cannot "
			    "deliver as %s", as->name);
			return -1;
		}
		return 0;
	}
	if (initgroups(as->name, as->gid) < 0 || setgid(as->gid) < 0 ||
	    setuid(as->uid) < 0) {
		sbuf_setf(why, "cannot become user %s: %s", as->name,
		    strerror(errno));
		return -1;
	}
	if (getuid() != as->uid || geteuid() != as->uid ||
	    getgid() != as->gid || getegid() != as->gid ||
	    (as->uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))) {
		sbuf_setf(why, "switching to user %s did not take effect",
		    as->name);
		return -1;
	}
	return 0;
}

/*
 * Makes the child die with local: a delivery finished by an orphan that
 * can no longer mark the recipient done would be delivered again by the
 * next attempt. Set after the switch of user, which clears it.
 */
static int
local_child_tie(pid_t parent, struct sbuf *why)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) {
		sbuf_setf(why, "prctl: %s", strerror(errno));
		return -1;
	}
	if (getppid() != parent) {
		sbuf_set(why, "local delivery process went away");
		return -1;
	}
	return 0;
}

/* The child: becomes as, runs fn and sends the frame; never returns. */
static void __attribute__((noreturn))
local_child_main(int fd, pid_t parent, const struct local_ident *as,
    local_child_fn fn, void *ctx)
{
	struct local_outcome out;
	struct sbuf *payload = sbuf_new(), *frame = sbuf_new();
	struct sbuf *why = sbuf_new();
	struct attr_writer w;

	local_outcome_init(&out);
	sbuf_set_limit(payload, LOCAL_CHILD_PAYLOAD_MAX);
	if (local_child_become(as, why) < 0 ||
	    local_child_tie(parent, why) < 0)
		local_outcome_set(&out, DELIVER_DEFERRED, "4.3.0", "%s",
		    sbuf_str(why));
	else
		fn(ctx, &out, payload);
	if (!out.set)
		local_outcome_set(&out, DELIVER_DEFERRED, "4.3.0",
		    "delivery step recorded no outcome");
	attr_begin(&w, frame);
	attr_put_long(&w, "status", (long)out.status);
	attr_put_str(&w, "dsn", out.dsn);
	attr_put_str(&w, "reason", sbuf_str(out.reason));
	attr_put_bytes(&w, "payload", sbuf_str(payload), sbuf_len(payload));
	if (attr_end(&w, why) < 0 ||
	    attr_send(fd, frame, LOCAL_CHILD_SEND_MS, why) < 0)
		_exit(1);
	_exit(0);
}

/* Takes the child's frame into out and payload; 0 or -1 with why. */
static int
local_child_decode(const struct attr_list *list, struct local_outcome *out,
    struct sbuf *payload, struct sbuf *why)
{
	const char *dsn, *reason, *data;
	size_t len;
	long status;

	if (attr_get_long(list, "status", DELIVER_SENT, DELIVER_BOUNCED,
	    &status, why) < 0)
		return -1;
	if ((dsn = attr_get_str(list, "dsn")) == NULL ||
	    (reason = attr_get_str(list, "reason")) == NULL ||
	    attr_get_bytes(list, "payload", &data, &len) < 0 ||
	    len > LOCAL_CHILD_PAYLOAD_MAX) {
		sbuf_set(why, "malformed answer");
		return -1;
	}
	local_outcome_set(out, (enum deliver_status)status, dsn, "%s",
	    reason);
	sbuf_reset(payload);
	sbuf_catn(payload, data, len);
	return 0;
}

/* Describes how the child ended, for a reason. */
static void
local_child_status(int wstatus, struct sbuf *text)
{
	if (WIFEXITED(wstatus))
		sbuf_setf(text, "exit status %d", WEXITSTATUS(wstatus));
	else if (WIFSIGNALED(wstatus))
		sbuf_setf(text, "signal %d", WTERMSIG(wstatus));
	else
		sbuf_set(text, "unknown status");
}

void
local_child_run(const struct local_ident *as, int timeout_ms,
    local_child_fn fn, void *ctx, struct local_outcome *out,
    struct sbuf *payload)
{
	struct attr_list *list = NULL;
	struct sbuf *why = sbuf_new(), *how = sbuf_new();
	int sv[2], wstatus = 0, got;
	pid_t pid, parent = getpid();

	sbuf_reset(payload);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		local_outcome_set(out, DELIVER_DEFERRED, "4.3.0",
		    "socketpair: %s", strerror(errno));
		goto done;
	}
	if ((pid = fork()) < 0) {
		local_outcome_set(out, DELIVER_DEFERRED, "4.3.0",
		    "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		goto done;
	}
	if (pid == 0) {
		close(sv[0]);
		local_child_main(sv[1], parent, as, fn, ctx);
	}
	close(sv[1]);
	got = attr_recv(sv[0], ATTR_FRAME_MAX, timeout_ms, &list, why);
	close(sv[0]);
	if (got < 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
		continue;
	if (got < 0) {
		local_child_status(wstatus, how);
		local_outcome_set(out, DELIVER_DEFERRED, "4.3.0",
		    "delivery process as %s failed (%s): %s", as->name,
		    sbuf_str(how), sbuf_str(why));
	} else if (local_child_decode(list, out, payload, why) < 0) {
		local_outcome_set(out, DELIVER_DEFERRED, "4.3.0",
		    "delivery process as %s: %s", as->name, sbuf_str(why));
	}
done:
	attr_list_free(&list);
	sbuf_free(&why);
	sbuf_free(&how);
}
