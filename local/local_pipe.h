/*
 * local_pipe - deliver a message to a command
 *
 * "|command" in an alias, a .forward or an include file: /bin/sh -c
 * command runs with the message (the prefix headers, then the content) on
 * its standard input, in its own process group, in the user's home
 * directory (or /), with only the environment built here. Its output
 * (stdout and stderr) is kept, at most LOCAL_PIPE_OUTPUT_MAX octets, for
 * the reason of a failure. It runs as the user the caller already became
 * (local_child.h).
 *
 * Exit statuses (sysexits.h) and what they make of the delivery:
 *
 *	0			sent		2.0.0
 *	EX_TEMPFAIL (75), EX_OSERR (71), EX_IOERR (74),
 *	EX_CANTCREAT (73), EX_SOFTWARE (70)
 *				deferred	4.3.0
 *	EX_NOUSER (67)		bounced		5.1.1
 *	EX_NOHOST (68)		bounced		5.1.2
 *	EX_UNAVAILABLE (69)	bounced		5.3.0
 *	EX_NOPERM (77)		bounced		5.7.1
 *	EX_DATAERR (65)		bounced		5.6.0
 *	any other non-zero	bounced		5.3.0
 *	killed by a signal	deferred	4.3.0
 *	past command_time_limit	deferred	4.3.0 (the whole process
 *				group is killed)
 */
#ifndef POSTERN_LOCAL_PIPE_H
#define POSTERN_LOCAL_PIPE_H

#include "content.h"

struct local_ident;
struct local_outcome;

#define LOCAL_PIPE_OUTPUT_MAX	300	/* octets of output kept */
#define LOCAL_PIPE_PATH		"/usr/bin:/bin"
#define LOCAL_PIPE_SHELL	"/bin/sh"

/* What the environment of a command tells it; NULL leaves a name out. */
struct local_pipe_vars {
	const struct local_ident *user;	/* HOME USER LOGNAME SHELL */
	const char *sender;		/* SENDER: "" for the null sender */
	const char *recipient;		/* RECIPIENT: local@domain */
	const char *local;		/* LOCAL: the local part */
	const char *domain;		/* DOMAIN */
	const char *extension;		/* EXTENSION: after the delimiter */
	const char *original_recipient;	/* ORIGINAL_RECIPIENT */
	const char *queue_id;		/* QUEUE_ID */
	const char *client_address;	/* CLIENT_ADDRESS */
	const char *client_hostname;	/* CLIENT_HOSTNAME */
	const char *client_helo;	/* CLIENT_HELO */
};

/*
 * The environment for vars: a malloc'ed NULL-terminated array of
 * malloc'ed "NAME=value" strings, PATH=LOCAL_PIPE_PATH among them.
 */
char **local_pipe_env(const struct local_pipe_vars *vars);
/* Frees what local_pipe_env() returned and sets *env to NULL. */
void local_pipe_env_free(char ***env);

/*
 * Records in out what the wait status of command means (table above);
 * output (what it printed, may be empty) goes into the reason of a
 * failure, with control characters replaced.
 */
void local_pipe_map_exit(int wstatus, const char *command,
    const char *output, struct local_outcome *out);

/* One command to run. */
struct local_pipe_req {
	const char *command;
	const char *cwd;		/* working directory; "/" if unusable */
	char *const *env;		/* from local_pipe_env() */
	const char *prefix;		/* prefix header lines, or NULL */
	content_read_fn read_fn;	/* the content */
	void *read_ctx;
	long time_limit;		/* seconds: command_time_limit */
};

/*
 * Runs req and records the outcome in out. SIGPIPE must be ignored (the
 * daemon skeleton does so): a command that exits without reading all of
 * its input makes the writes fail with EPIPE, and its exit status tells.
 */
void local_pipe_run(const struct local_pipe_req *req,
    struct local_outcome *out);

#endif
