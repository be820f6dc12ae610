/*
 * master_cf - master.cf, the service table
 *
 * One logical line per service (textfile.h: '#' comments, indented
 * continuation lines), in Postfix's format:
 *
 *   service type private unpriv chroot wakeup maxproc command [args...]
 *
 *   service  inet: port, host:port or [IPv6 address]:port (a port is a
 *            number or a service name); unix and fifo: a socket name
 *   type     inet, unix or fifo
 *   private  y or n: socket in private/ (y) or public/; inet: n
 *   unpriv   y or n: run as mail_owner (y) or root
 *   chroot   y or n: chroot to queue_directory
 *   wakeup   N (seconds), N? (only once used) or 0: wake the service up
 *   maxproc  N processes at most, 0 for no limit
 *   command  a program in daemon_directory, then its arguments; "-o
 *            name=value" overrides a main.cf parameter for this service
 *            and names a known parameter. An argument with spaces is
 *            written "{ text }".
 *
 * A "-" takes the default: private y (n for inet), unpriv y, chroot n,
 * wakeup 0, maxproc default_process_limit. A service name and type may
 * appear once. Errors name the file, the line and the field.
 */
#ifndef POSTERN_MASTER_CF_H
#define POSTERN_MASTER_CF_H

#include <stdbool.h>
#include <stddef.h>

struct sbuf;

enum master_type {
	MASTER_INET,
	MASTER_UNIX,
	MASTER_FIFO
};

/* Bits of master_service.defaults: fields written as "-". */
#define MASTER_DEF_PRIVATE	(1 << 0)
#define MASTER_DEF_UNPRIV	(1 << 1)
#define MASTER_DEF_CHROOT	(1 << 2)
#define MASTER_DEF_WAKEUP	(1 << 3)
#define MASTER_DEF_MAXPROC	(1 << 4)

#define MASTER_NAME_MAX		64	/* bytes of a unix/fifo name */

struct master_service {
	char *name;		/* the service field as written */
	char *host;		/* inet: host or address; NULL for all */
	char *port;		/* inet: port number or service name */
	enum master_type type;
	bool private_socket;	/* unix, fifo: in private/, else public/ */
	bool unprivileged;	/* runs as mail_owner, not root */
	bool chroot;
	int wakeup;		/* seconds; 0 for none */
	bool wakeup_if_used;	/* "N?": only once the service was used */
	int maxproc;		/* 0 for no limit */
	int defaults;		/* MASTER_DEF_* bits */
	char **argv;		/* command and arguments, NULL-terminated */
	size_t argc;
	int lineno;
};

struct master_cf {
	char *path;
	struct master_service *services;	/* in file order */
	size_t count;
};

/*
 * Parses master.cf text reported as file "name"; "-" in maxproc means
 * default_maxproc. NULL with "FILE, line N: field F: ..." in why.
 */
struct master_cf *master_cf_parse(const char *data, size_t len,
    const char *name, long default_maxproc, struct sbuf *why);
/* Reads config_dir/master.cf; as master_cf_parse(). */
struct master_cf *master_cf_load(const char *config_dir,
    long default_maxproc, struct sbuf *why);
/* Frees *mc and sets it to NULL; accepts NULL. */
void master_cf_free(struct master_cf **mc);

/*
 * Makes *to a deep copy of *from (owned strings), e.g. to keep it across
 * a reload after the master_cf it came from is freed.
 */
void master_service_copy(struct master_service *to,
    const struct master_service *from);
/* Frees the strings of *s (parsed or copied) and zeroes it. */
void master_service_clear(struct master_service *s);
/* The service with this name and type, or NULL. */
const struct master_service *master_cf_find(const struct master_cf *mc,
    const char *name, enum master_type type);
/* "inet", "unix" or "fifo". */
const char *master_type_name(enum master_type type);
/* Parses a type name; 0, or -1 when it is none. */
int master_type_parse(const char *s, enum master_type *type_r);
/*
 * Appends the service as one master.cf line in aligned columns (fields
 * that took their default shown as "-"), with a newline.
 */
void master_service_format(const struct master_service *s, struct sbuf *out);

#endif
