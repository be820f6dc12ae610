/*
 * server - the skeleton every Postern daemon runs in
 *
 * A daemon hands server_main() a definition and writes only its protocol:
 * the skeleton parses the arguments master passes (master_proto.h), loads
 * main.cf with the service's -o overrides, chroots and drops privileges
 * (and checks they cannot be regained), sets up logging, tells master when
 * the process is available or busy, accepts clients or wake-ups, applies
 * the session watchdog (daemon_timeout) and exits after max_use clients or
 * max_idle seconds without one. SIGTERM makes a process close its
 * listeners, finish its current client and exit; the death of master is
 * a SIGTERM too (so a new master can bind the ports at once).
 *
 * A SERVER_EVENT daemon (qmgr, anvil) is one long-lived process that
 * serves many peers at once on the skeleton's event loop: it registers
 * its own descriptors and timers there (server_event_loop()), gets
 * wake-up bytes through trigger() and, when accept is set, new
 * connections through accept() instead. It is told nothing about
 * max_use or max_idle and runs until SIGTERM or until master is gone;
 * then stop() (when set) runs and the process exits.
 */
#ifndef POSTERN_SERVER_H
#define POSTERN_SERVER_H

#include <stdbool.h>

struct event_loop;
struct params;
struct stream;

enum server_kind {
	SERVER_SINGLE,		/* one client at a time on a stream socket */
	SERVER_TRIGGER,		/* wake-up bytes on a unix socket or fifo */
	SERVER_EVENT		/* many peers at once on the event loop */
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
	/* SERVER_TRIGGER, SERVER_EVENT: one wake-up byte (MASTER_TRIGGER_*). */
	void (*trigger)(int command);
	/*
	 * SERVER_EVENT, may be NULL: a new connection on a stream listener,
	 * non-blocking and close-on-exec, owned by the daemon from now on.
	 * When NULL, connections carry wake-up bytes for trigger().
	 */
	void (*accept)(int fd, const char *service);
	/* SERVER_EVENT, may be NULL: called once before the process exits. */
	void (*stop)(void);
};

/* Runs the daemon; never returns. */
void server_main(int argc, char **argv, const struct server_def *def)
    __attribute__((noreturn));
/* The effective parameters (after -o overrides), once loaded. */
const struct params *server_params(void);
/* SERVER_EVENT: the loop the daemon runs on, once init() is called. */
struct event_loop *server_event_loop(void);
/* True in a single-user instance (every service as the invoking user). */
bool server_single_user(void);

#endif
