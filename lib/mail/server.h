/*
 * server - the skeleton every Postern daemon runs in
 *
 * A daemon hands server_main() a definition and writes only its protocol:
 * the skeleton parses the arguments master passes (master_proto.h), loads
 * main.cf with the service's -o overrides, chroots and drops privileges
 * (and checks they cannot be regained), sets up logging, tells master when
 * the process is available or busy, accepts clients or wake-ups, applies
 * the session watchdog (daemon_timeout) and exits after max_use clients or
 * max_idle seconds without one. SIGTERM makes a process finish its current
 * client and exit.
 */
#ifndef POSTERN_SERVER_H
#define POSTERN_SERVER_H

#include <stdbool.h>

struct params;
struct stream;

enum server_kind {
	SERVER_SINGLE,		/* one client at a time on a stream socket */
	SERVER_TRIGGER		/* wake-up bytes on a unix socket or fifo */
};

/* One accepted client. */
struct server_client {
	struct stream *stream;	/* the connection; timeout ipc_timeout */
	const char *addr;	/* numeric client address, "local" for unix */
	const char *port;	/* client port, "" for unix */
	const char *service;	/* master.cf service name */
};

struct server_def {
	const char *name;	/* program name, logged as postern/NAME */
	enum server_kind kind;
	bool allow_root;	/* may keep root (local delivery only) */
	/* Called before chroot and privilege drop; may be NULL. */
	void (*pre_drop)(const struct params *p);
	/* Called once privileges are dropped; may be NULL. */
	void (*init)(const struct params *p);
	/* SERVER_SINGLE: serves one client; the skeleton closes it after. */
	void (*serve)(struct server_client *client);
	/* SERVER_TRIGGER: one wake-up byte (MASTER_TRIGGER_*). */
	void (*trigger)(int command);
};

/* Runs the daemon; never returns. */
void server_main(int argc, char **argv, const struct server_def *def)
    __attribute__((noreturn));
/* The effective parameters (after -o overrides), once loaded. */
const struct params *server_params(void);
/* True in a single-user instance (every service as the invoking user). */
bool server_single_user(void);

#endif
