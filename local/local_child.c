/*
 * local_child - run one delivery step in a child process as a user
 *
 * The parent looks each user's supplementary groups up once per process
 * (the group database can be slow to consult: a fresh child would load
 * its name-service modules for every delivery) and the child only sets
 * them.
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
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "local_outcome.h"
#include "util/attr.h"
#include "util/htable.h"
#include "util/msg.h"
#include "util/sbuf.h"
#include "util/xmalloc.h"

#define LOCAL_CHILD_SEND_MS	10000	/* the child's wait to send */
#define LOCAL_GROUPS_CACHED	1000	/* users whose groups are kept */

/* A user's supplementary groups. */
struct local_groups {
	int count;
	gid_t gids[];
};

/* "name:gid" -> struct local_groups, for this process's lifetime. */
static struct htable *local_groups_cache;

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

/* Looks up the groups as belongs to (as->gid first); NULL with why. */
static struct local_groups *
local_groups_lookup(const struct local_ident *as, struct sbuf *why)
{
	long max = sysconf(_SC_NGROUPS_MAX);
	int count = 32;

	if (max <= 0 || max > 65536)
		max = 65536;
	for (;;) {
		struct local_groups *g = xmalloc(sizeof(*g) +
		    (size_t)count * sizeof(gid_t));
		int want = count;

		if (getgrouplist(as->name, as->gid, g->gids, &want) >= 0) {
			g->count = want;
			return g;
		}
		free(g);
		if (want <= count)
			want = count * 2;
		if (want > max) {
			sbuf_setf(why, "user %s is in more than %ld groups",
			    as->name, max);
			return NULL;
		}
		count = want;
	}
}

/* The groups of as, from the cache or looked up; NULL with why. */
static const struct local_groups *
local_groups_of(const struct local_ident *as, struct sbuf *why)
{
	struct sbuf *key = sbuf_new();
	struct local_groups *g;

	sbuf_setf(key, "%s:%lu", as->name, (unsigned long)as->gid);
	if (local_groups_cache == NULL)
		local_groups_cache = htable_new();
	if ((g = htable_find(local_groups_cache, sbuf_str(key))) == NULL &&
	    (g = local_groups_lookup(as, why)) != NULL) {
		if (htable_size(local_groups_cache) >= LOCAL_GROUPS_CACHED)
			htable_free(&local_groups_cache, free);
		if (local_groups_cache == NULL)
			local_groups_cache = htable_new();
		htable_insert(local_groups_cache, sbuf_str(key), g);
	}
	sbuf_free(&key);
	return g;
}

int
local_child_become(const struct local_ident *as,
    const struct local_groups *groups, struct sbuf *why)
{
	if (getuid() != 0 && geteuid() != 0) {
		if (as->uid != getuid()) {
			sbuf_setf(why, "a single-user instance cannot "
			    "deliver as %s", as->name);
			return -1;
		}
		return 0;
	}
	if (groups == NULL) {
		sbuf_setf(why, "no group list for user %s", as->name);
		return -1;
	}
	if (setgroups((size_t)groups->count, groups->gids) < 0 ||
	    setgid(as->gid) < 0 || setuid(as->uid) < 0) {
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

/* The process's own groups and gid, to switch back to. */
static struct local_groups *local_own_groups;
static gid_t local_own_gid;

/* Records the process's own groups once; NULL with why. */
static const struct local_groups *
local_own_groups_get(struct sbuf *why)
{
	int count;

	if (local_own_groups != NULL)
		return local_own_groups;
	if ((count = getgroups(0, NULL)) < 0) {
		sbuf_setf(why, "getgroups: %s", strerror(errno));
		return NULL;
	}
	local_own_groups = xmalloc(sizeof(*local_own_groups) +
	    (size_t)(count > 0 ? count : 1) * sizeof(gid_t));
	if ((count = getgroups(count, local_own_groups->gids)) < 0) {
		sbuf_setf(why, "getgroups: %s", strerror(errno));
		xfree(&local_own_groups);
		return NULL;
	}
	local_own_groups->count = count;
	local_own_gid = getegid();
	return local_own_groups;
}

/* Back to root's own ids after local_switch_to(); fatal on failure. */
static void
local_switch_back(void)
{
	if (seteuid(0) < 0 || setegid(local_own_gid) < 0 ||
	    setgroups((size_t)local_own_groups->count,
	    local_own_groups->gids) < 0 || geteuid() != 0 ||
	    getegid() != local_own_gid)
		msg_fatal("cannot switch back from a user's ids: %m");
}

/*
 * Takes the effective ids of as (groups first, uid last) and verifies
 * them; 0, or -1 with why and the process back on its own ids.
 */
static int
local_switch_to(const struct local_ident *as,
    const struct local_groups *groups, struct sbuf *why)
{
	if (setgroups((size_t)groups->count, groups->gids) < 0 ||
	    setegid(as->gid) < 0 || seteuid(as->uid) < 0) {
		sbuf_setf(why, "cannot take the ids of user %s: %s", as->name,
		    strerror(errno));
		local_switch_back();
		return -1;
	}
	if (geteuid() != as->uid || getegid() != as->gid) {
		sbuf_setf(why, "switching to user %s did not take effect",
		    as->name);
		local_switch_back();
		return -1;
	}
	return 0;
}

void
local_switch_run(const struct local_ident *as, local_child_fn fn, void *ctx,
    struct local_outcome *out, struct sbuf *payload)
{
	struct sbuf *why = sbuf_new();
	const struct local_groups *groups;
	bool privileged = getuid() == 0 || geteuid() == 0;

	sbuf_reset(payload);
	if (!privileged) {
		if (local_child_become(as, NULL, why) < 0)
			local_outcome_set(out, DELIVER_DEFERRED, "4.3.0", "%s",
			    sbuf_str(why));
		else
			fn(ctx, out, payload);
	} else if (local_own_groups_get(why) == NULL ||
	    (groups = local_groups_of(as, why)) == NULL ||
	    local_switch_to(as, groups, why) < 0) {
		local_outcome_set(out, DELIVER_DEFERRED, "4.3.0", "%s",
		    sbuf_str(why));
	} else {
		fn(ctx, out, payload);
		local_switch_back();
	}
	if (!out->set)
		local_outcome_set(out, DELIVER_DEFERRED, "4.3.0",
		    "delivery step recorded no outcome");
	sbuf_free(&why);
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
    const struct local_groups *groups, local_child_fn fn, void *ctx)
{
	struct local_outcome out;
	struct sbuf *payload = sbuf_new(), *frame = sbuf_new();
	struct sbuf *why = sbuf_new();
	struct attr_writer w;

	local_outcome_init(&out);
	sbuf_set_limit(payload, LOCAL_CHILD_PAYLOAD_MAX);
	if (local_child_become(as, groups, why) < 0 ||
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
	const struct local_groups *groups = NULL;
	int sv[2], wstatus = 0, got;
	pid_t pid, parent = getpid();

	sbuf_reset(payload);
	if ((getuid() == 0 || geteuid() == 0) &&
	    (groups = local_groups_of(as, why)) == NULL) {
		local_outcome_set(out, DELIVER_DEFERRED, "4.3.0",
		    "groups of user %s: %s", as->name, sbuf_str(why));
		goto done;
	}
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
		local_child_main(sv[1], parent, as, groups, fn, ctx);
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
