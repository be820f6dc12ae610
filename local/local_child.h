/*
 * local_child - run one delivery step in a child process as a user
 *
 * local runs as root in a system instance. Nothing that touches a
 * mailbox, a user's file or a command runs with that privilege. Steps
 * that only open and write files (mailbox deliveries, reading a
 * .forward) run in this process under the user's effective ids
 * (supplementary groups, egid, euid, verified; the real and saved uid
 * stay root, so the user can neither signal nor trace the process) and
 * switch back after: no fork per delivery. Steps that run the user's
 * command or hand the message on run in a child that becomes the user
 * completely (real, effective and saved ids) and verifies it, so a
 * mistake or crash stays in the child. The child reports an outcome and
 * an optional payload (the text of a .forward, a new queue id) back on a
 * socket as one attr frame.
 *
 * In a single-user instance nothing switches: the child runs as the
 * invoking user, and asking for anybody else is refused.
 */
#ifndef POSTERN_LOCAL_CHILD_H
#define POSTERN_LOCAL_CHILD_H

#include <sys/types.h>

struct local_groups;
struct local_outcome;
struct passwd;
struct sbuf;

#define LOCAL_CHILD_PAYLOAD_MAX	(64 * 1024)	/* octets of a payload */

/* Who a step runs as. */
struct local_ident {
	uid_t uid;
	gid_t gid;
	char *name;		/* login name, for its groups and USER */
	char *home;		/* home directory, "/" when unknown */
	char *shell;		/* login shell, "/bin/sh" when unknown */
};

/* Fills id with copies of pw's fields; clear with local_ident_clear(). */
void local_ident_from_pw(struct local_ident *id, const struct passwd *pw);
/* Copies src into dst (which holds nothing). */
void local_ident_copy(struct local_ident *dst, const struct local_ident *src);
/* Frees the strings of id and zeroes it. */
void local_ident_clear(struct local_ident *id);

/*
 * The work done in the child: records an outcome in out and may put up
 * to LOCAL_CHILD_PAYLOAD_MAX octets in payload.
 */
typedef void (*local_child_fn)(void *ctx, struct local_outcome *out,
    struct sbuf *payload);

/*
 * Switches the calling process to as with the supplementary groups the
 * parent looked up, as described above, and verifies getuid(),
 * geteuid(), getgid(), getegid() and, for anybody but root, that root
 * cannot be regained. 0, or -1 with a reason. Only for a child.
 */
int local_child_become(const struct local_ident *as,
    const struct local_groups *groups, struct sbuf *why);

/*
 * Runs fn(ctx, ...) in a child process as as and waits for it at most
 * timeout_ms milliseconds, then kills it. out gets the child's outcome
 * and payload (replaced) its payload. A child that cannot switch,
 * crashes, or stays silent leaves out deferred (4.3.0) with the reason.
 */
void local_child_run(const struct local_ident *as, int timeout_ms,
    local_child_fn fn, void *ctx, struct local_outcome *out,
    struct sbuf *payload);

/*
 * Runs fn(ctx, ...) in this process with the effective ids of as, then
 * switches back (a failure to switch back is fatal: the process must not
 * go on as anybody else). out and payload as for local_child_run(); a
 * failure to switch leaves out deferred (4.3.0) with the reason. fn must
 * only open, read and write files: it runs without a time limit of its
 * own (the process watchdog, daemon_timeout, bounds it).
 */
void local_switch_run(const struct local_ident *as, local_child_fn fn,
    void *ctx, struct local_outcome *out, struct sbuf *payload);

#endif
