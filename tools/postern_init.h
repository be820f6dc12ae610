/*
 * postern_init - "postern init": a complete instance in one directory
 */
#ifndef POSTERN_INIT_H
#define POSTERN_INIT_H

#define INIT_PORT_BASE	10000L		/* default --port-base */
#define INIT_DOMAIN	"example.test"	/* default --domain */

struct init_opts {
	long port_base;		/* services listen on port_base + 25, ... */
	const char *domain;	/* the instance's mail domain */
	const char *password;	/* demo@domain's; NULL: make one up */
};

/*
 * Creates an instance in config_dir (an absolute path, created when
 * missing) that its user can start at once: main.cf, a master.cf with a
 * service for each program found in daemon_directory (POSTERN_DAEMON_DIR
 * from the environment, else the compiled-in directory) on 127.0.0.1
 * ports above port_base, the queue tree, mail/, a self-signed certificate
 * and key in tls/, and a users file holding the mailbox user demo@domain.
 * Run by an ordinary user, the instance is single-user: everything
 * belongs to that user. Run by root, it is a system-mode instance: the
 * users and groups of "postern setup" are created and own what they
 * must. A made-up password is printed once on standard output.
 * main.cf is written last, so an instance that failed half-way can be
 * made again. Returns an exit status: EX_USAGE for bad options,
 * EX_CANTCREAT when config_dir already holds a main.cf or a file cannot
 * be made.
 */
int init_instance(const char *config_dir, const struct init_opts *opts);

#endif
