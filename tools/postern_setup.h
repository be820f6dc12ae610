/*
 * postern_setup - users, groups and directories of a Postern instance
 *
 * Shared by "postern setup", "postern init" and "postern check": which
 * users a system-mode instance needs, which queue directories it has and
 * what owner and mode each must have, and the code that creates what is
 * missing and fixes what is wrong.
 *
 * A system-mode instance (run by root) has its queue directory owned by
 * root; daemons run as mail_owner and the other users below. A
 * single-user instance has its queue directory owned by the user who runs
 * it, and everything else belongs to that user as well.
 */
#ifndef POSTERN_SETUP_H
#define POSTERN_SETUP_H

#include <stdbool.h>
#include <sys/types.h>

struct params;
struct sbuf;

/* System users beside mail_owner (DESIGN.md, "Processes and privileges"). */
#define SETUP_AUTH_USER		"posternauth"	/* the credential service */
#define SETUP_LOGIN_USER	"posternlogin"	/* pop3d, imapd before login */
#define SETUP_VMAIL_USER	"vmail"		/* owner of virtual mailboxes */

#define SETUP_MAIN_CF		"main.cf"
#define SETUP_MASTER_CF		"master.cf"
#define SETUP_PID_FILE		"pid/master.pid"	/* under the queue */

#define SETUP_NOLOGIN		"/usr/sbin/nologin"
#define SETUP_NO_HOME		"/nonexistent"

/* Who owns the queue directories. */
struct setup_ids {
	bool single;		/* single-user: all ids are the user's */
	uid_t root_uid;		/* the queue directory itself, pid/ */
	gid_t root_gid;
	uid_t owner_uid;	/* mail_owner: the queue, private/ */
	gid_t owner_gid;
	gid_t drop_gid;		/* setgid_group: maildrop/, public/ */
};

/* An owner and a mode (permission bits with the sticky bit). */
struct setup_perm {
	uid_t uid;
	gid_t gid;
	mode_t mode;
};

/* What the creating and fixing functions changed. */
struct setup_report {
	int changes;		/* how many changes were made */
	bool verbose;		/* log each change with msg_info() */
};

/* Fills ids for a single-user instance of uid and gid. */
void setup_single_ids(uid_t uid, gid_t gid, struct setup_ids *ids);
/*
 * Fills ids for a system-mode instance from the users and groups named
 * in p; 0, or -1 with a reason when mail_owner or setgid_group is not
 * known to the system.
 */
int setup_system_ids(const struct params *p, struct setup_ids *ids,
    struct sbuf *why);
/*
 * Fills ids for the existing instance whose parameters are p: single-user
 * when queue_directory belongs to a user other than root. 0, or -1 with a
 * reason (the queue directory cannot be examined, or as for
 * setup_system_ids()).
 */
int setup_instance_ids(const struct params *p, struct setup_ids *ids,
    struct sbuf *why);
/* The uid and primary gid of user name; 0, or -1 with a reason. */
int setup_user_ids(const char *name, uid_t *uid_r, gid_t *gid_r,
    struct sbuf *why);
/*
 * Sets path to the i-th directory of the queue tree under queue_dir (0 is
 * queue_dir itself) and *perm_r to the owner and mode it must have under
 * ids; false once i is past the last.
 */
bool setup_queue_dir(const char *queue_dir, size_t i,
    const struct setup_ids *ids, struct sbuf *path,
    struct setup_perm *perm_r);
/* Appends "user:group" (names, else numbers) to out. */
void setup_owner_text(uid_t uid, gid_t gid, struct sbuf *out);

/*
 * Creates the group setgid_group and the users mail_owner, posternauth,
 * posternlogin and vmail when missing (with useradd and groupadd; system
 * accounts without a login shell). Only root may call it. 0, or -1 with a
 * reason.
 */
int setup_users(const struct params *p, struct setup_report *rep,
    struct sbuf *why);
/*
 * Creates the directory path with perm when missing, else fixes its owner
 * and mode; a symbolic link or another kind of file is an error. 0, or -1
 * with a reason.
 */
int setup_dir(const char *path, const struct setup_perm *perm,
    struct setup_report *rep, struct sbuf *why);
/*
 * Creates the queue tree of p under ids (missing parents of
 * queue_directory too, mode 0755) and fixes owners and modes; 0, or -1
 * with a reason.
 */
int setup_queue(const struct params *p, const struct setup_ids *ids,
    struct setup_report *rep, struct sbuf *why);
/*
 * Creates config_dir when missing and writes a main.cf holding only a
 * comment and a master.cf holding only the column header, each when
 * missing; never changes an existing file. 0, or -1 with a reason.
 */
int setup_config(const char *config_dir, struct setup_report *rep,
    struct sbuf *why);
/* Appends master.cf's comment header, ending with the column titles. */
void setup_master_cf_header(struct sbuf *out);

#endif
