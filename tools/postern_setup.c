/*
 * postern_setup - users, groups and directories of a Postern instance
 *
 * Creates missing system users and groups by running useradd and
 * groupadd (Debian's passwd package) with a fixed argument vector and
 * environment, never through a shell; creates the queue tree and fixes
 * owners and modes through descriptors opened without following
 * symbolic links; writes a minimal main.cf and master.cf when missing.
 * Existing users and configuration files are never changed.
 *
 * Errors: each function returns -1 with the reason in the caller's `why`;
 * changes (not errors) are logged with msg_info() when the report asks.
 * Trust: parameter values come from main.cf, which root (or the user of a
 * single-user instance) controls; user and group names are checked to
 * be plain names before they reach useradd.
 */
#include "postern_setup.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mail/params.h"
#include "mail/queue_file.h"
#include "util/msg.h"
#include "util/safe_file.h"
#include "util/sbuf.h"
#include "util/xmalloc.h"

#define SETUP_USERADD	"/usr/sbin/useradd"
#define SETUP_GROUPADD	"/usr/sbin/groupadd"
#define SETUP_NAME_MAX	32	/* bytes of a user or group name */

/* Which of setup_ids a directory's owner or group is. */
enum setup_who {
	WHO_ROOT,
	WHO_OWNER,
	WHO_DROP		/* setgid_group (groups only) */
};

struct setup_dir_def {
	const char *name;	/* under queue_directory; "" for itself */
	enum setup_who user;
	enum setup_who group;
	mode_t mode;
};

static const struct setup_dir_def setup_dirs[] = {
	{ "", WHO_ROOT, WHO_ROOT, 0755 },
	{ "maildrop", WHO_OWNER, WHO_DROP, 01730 },
	{ "incoming", WHO_OWNER, WHO_OWNER, 0700 },
	{ "active", WHO_OWNER, WHO_OWNER, 0700 },
	{ "deferred", WHO_OWNER, WHO_OWNER, 0700 },
	{ "hold", WHO_OWNER, WHO_OWNER, 0700 },
	{ "corrupt", WHO_OWNER, WHO_OWNER, 0700 },
	{ QUEUE_FREE_DIR, WHO_OWNER, WHO_OWNER, 0700 },
	{ "defer", WHO_OWNER, WHO_OWNER, 0700 },
	{ "bounce", WHO_OWNER, WHO_OWNER, 0700 },
	{ "private", WHO_OWNER, WHO_OWNER, 0700 },
	{ "public", WHO_OWNER, WHO_DROP, 0710 },
	{ "pid", WHO_ROOT, WHO_ROOT, 0755 },
};

#define SETUP_DIR_COUNT (sizeof(setup_dirs) / sizeof(setup_dirs[0]))

/* How a system user's home directory is chosen. */
enum setup_home {
	HOME_NONE,		/* /nonexistent */
	HOME_QUEUE,		/* queue_directory */
	HOME_VMAIL		/* virtual_mailbox_base, when set */
};

struct setup_user_def {
	const char *name;	/* NULL: mail_owner */
	const char *comment;
	enum setup_home home;
};

static const struct setup_user_def setup_users_list[] = {
	{ NULL, "Postern mail system", HOME_QUEUE },
	{ SETUP_AUTH_USER, "Postern credential service", HOME_NONE },
	{ SETUP_LOGIN_USER, "Postern mailbox login", HOME_NONE },
	{ SETUP_VMAIL_USER, "Postern virtual mailboxes", HOME_VMAIL },
};

static const char setup_main_cf[] =
    "# main.cf - Postern's parameters, written by \"postern setup\".\n"
    "# A parameter not set here takes its default: see postern.conf(5),\n"
    "# and \"postern-conf -n\" for what this file sets.\n"
    "#\n"
    "# Syntax: \"name = value\"; a line that starts with a blank continues\n"
    "# the previous one; \"#\" starts a comment line; $name refers to\n"
    "# another parameter.\n";

static const char setup_master_header[] =
    "# master.cf - Postern's service table, read by master(8). Run\n"
    "# \"postern-conf -M\" to see it as parsed. A line that starts with a\n"
    "# blank continues the previous one; \"#\" starts a comment line.\n"
    "#\n"
    "# service: inet port, host:port or [address]:port; unix or fifo "
    "socket name\n"
    "# private: socket in private/ (y) or public/ (n); inet services "
    "are n\n"
    "# unpriv:  run as mail_owner (y) or as root (n)\n"
    "# chroot:  chroot to queue_directory (y) or not (n)\n"
    "# wakeup:  wake the service every N seconds (N? only once used), "
    "0 never\n"
    "# maxproc: most processes at once, 0 no limit\n"
    "# \"-\" takes the default: y, y, n, 0, $default_process_limit.\n"
    "# \"-o name=value\" overrides a main.cf parameter for one service.\n"
    "# ==================================================================="
    "=======\n"
    "# service  type  private unpriv  chroot  wakeup  maxproc "
    "command + args\n"
    "#               (yes)   (yes)   (no)    (never) (100)\n"
    "# ==================================================================="
    "=======\n";

void
setup_single_ids(uid_t uid, gid_t gid, struct setup_ids *ids)
{
	ids->single = true;
	ids->root_uid = ids->owner_uid = uid;
	ids->root_gid = ids->owner_gid = ids->drop_gid = gid;
}

/* True when getpwnam() or getgrnam() failed with errno for a lack of entry. */
static bool
setup_not_found(int error)
{
	return error == 0 || error == ENOENT || error == ESRCH ||
	    error == EBADF || error == EPERM;
}

int
setup_user_ids(const char *name, uid_t *uid_r, gid_t *gid_r,
    struct sbuf *why)
{
	struct passwd *pw;

	errno = 0;
	if ((pw = getpwnam(name)) == NULL) {
		if (setup_not_found(errno))
			sbuf_setf(why, "user %s does not exist", name);
		else
			sbuf_setf(why, "look up user %s: %m", name);
		return -1;
	}
	*uid_r = pw->pw_uid;
	*gid_r = pw->pw_gid;
	return 0;
}

int
setup_system_ids(const struct params *p, struct setup_ids *ids,
    struct sbuf *why)
{
	struct group *gr;

	ids->single = false;
	ids->root_uid = 0;
	ids->root_gid = 0;
	if (setup_user_ids(p->mail_owner, &ids->owner_uid, &ids->owner_gid,
	    why) < 0)
		return -1;
	errno = 0;
	if ((gr = getgrnam(p->setgid_group)) == NULL) {
		if (setup_not_found(errno))
			sbuf_setf(why, "group %s does not exist",
			    p->setgid_group);
		else
			sbuf_setf(why, "look up group %s: %m", p->setgid_group);
		return -1;
	}
	ids->drop_gid = gr->gr_gid;
	return 0;
}

int
setup_instance_ids(const struct params *p, struct setup_ids *ids,
    struct sbuf *why)
{
	struct stat st;

	if (stat(p->queue_directory, &st) < 0) {
		sbuf_setf(why, "queue directory %s: %m", p->queue_directory);
		return -1;
	}
	if (st.st_uid != 0) {
		setup_single_ids(st.st_uid, st.st_gid, ids);
		return 0;
	}
	return setup_system_ids(p, ids, why);
}

static uid_t
setup_uid_of(const struct setup_ids *ids, enum setup_who who)
{
	return who == WHO_ROOT ? ids->root_uid : ids->owner_uid;
}

static gid_t
setup_gid_of(const struct setup_ids *ids, enum setup_who who)
{
	switch (who) {
	case WHO_ROOT:
		return ids->root_gid;
	case WHO_OWNER:
		return ids->owner_gid;
	case WHO_DROP:
		return ids->drop_gid;
	}
	return ids->root_gid;
}

bool
setup_queue_dir(const char *queue_dir, size_t i, const struct setup_ids *ids,
    struct sbuf *path, struct setup_perm *perm_r)
{
	const struct setup_dir_def *d;

	if (i >= SETUP_DIR_COUNT)
		return false;
	d = &setup_dirs[i];
	if (*d->name == '\0')
		sbuf_set(path, queue_dir);
	else
		sbuf_setf(path, "%s/%s", queue_dir, d->name);
	perm_r->uid = setup_uid_of(ids, d->user);
	perm_r->gid = setup_gid_of(ids, d->group);
	perm_r->mode = d->mode;
	return true;
}

void
setup_owner_text(uid_t uid, gid_t gid, struct sbuf *out)
{
	struct passwd *pw = getpwuid(uid);
	struct group *gr;

	if (pw != NULL)
		sbuf_cat(out, pw->pw_name);
	else
		sbuf_printf(out, "%lu", (unsigned long)uid);
	sbuf_catc(out, ':');
	if ((gr = getgrgid(gid)) != NULL)
		sbuf_cat(out, gr->gr_name);
	else
		sbuf_printf(out, "%lu", (unsigned long)gid);
}

/* Counts a change and logs it when the report is verbose. */
static void __attribute__((format(printf, 2, 3)))
setup_note(struct setup_report *rep, const char *fmt, ...)
{
	va_list ap;

	rep->changes++;
	if (!rep->verbose)
		return;
	va_start(ap, fmt);
	msg_vlog(MSG_INFO, fmt, ap);
	va_end(ap);
}

/* True for a plain user or group name that useradd cannot mistake. */
static bool
setup_name_ok(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > SETUP_NAME_MAX)
		return false;
	if (!((*name >= 'a' && *name <= 'z') || *name == '_'))
		return false;
	for (const char *s = name; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '_' || *s == '-'))
			return false;
	return true;
}

/* Runs argv[0] with argv and a fixed environment; 0 when it exits 0. */
static int
setup_run(const char *const argv[], struct sbuf *why)
{
	static const char *const env[] = {
		"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL
	};
	pid_t pid;
	int status;

	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) < 0) {
		sbuf_setf(why, "fork: %m");
		return -1;
	}
	if (pid == 0) {
		execve(argv[0], (char *const *)argv, (char *const *)env);
		msg_error("run %s: %m", argv[0]);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			sbuf_setf(why, "wait for %s: %m", argv[0]);
			return -1;
		}
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	sbuf_setf(why, "%s", argv[0]);
	for (size_t i = 1; argv[i] != NULL; i++)
		sbuf_printf(why, " %s", argv[i]);
	if (WIFEXITED(status))
		sbuf_printf(why, ": exit status %d", WEXITSTATUS(status));
	else
		sbuf_printf(why, ": killed by signal %d", WTERMSIG(status));
	return -1;
}

/* Creates the system group name when missing. */
static int
setup_group(const char *name, struct setup_report *rep, struct sbuf *why)
{
	const char *argv[] = { SETUP_GROUPADD, "--system", name, NULL };

	if (!setup_name_ok(name)) {
		sbuf_setf(why, "bad group name \"%s\"", name);
		return -1;
	}
	if (getgrnam(name) != NULL)
		return 0;
	if (setup_run(argv, why) < 0)
		return -1;
	setup_note(rep, "created group %s", name);
	return 0;
}

/* Creates the system user def when missing. */
static int
setup_user(const struct params *p, const struct setup_user_def *def,
    struct setup_report *rep, struct sbuf *why)
{
	const char *name = def->name != NULL ? def->name : p->mail_owner;
	const char *home = SETUP_NO_HOME;
	const char *argv[16];
	size_t n = 0;

	if (!setup_name_ok(name)) {
		sbuf_setf(why, "bad user name \"%s\"", name);
		return -1;
	}
	if (getpwnam(name) != NULL)
		return 0;
	switch (def->home) {
	case HOME_NONE:
		break;
	case HOME_QUEUE:
		home = p->queue_directory;
		break;
	case HOME_VMAIL:
		if (*p->virtual_mailbox_base != '\0')
			home = p->virtual_mailbox_base;
		break;
	}
	argv[n++] = SETUP_USERADD;
	argv[n++] = "--system";
	argv[n++] = "--no-create-home";
	argv[n++] = "--home-dir";
	argv[n++] = home;
	argv[n++] = "--shell";
	argv[n++] = SETUP_NOLOGIN;
	argv[n++] = "--comment";
	argv[n++] = def->comment;
	if (getgrnam(name) != NULL) {
		argv[n++] = "--gid";
		argv[n++] = name;
	} else {
		argv[n++] = "--user-group";
	}
	argv[n++] = "--";
	argv[n++] = name;
	argv[n] = NULL;
	if (setup_run(argv, why) < 0)
		return -1;
	if (getpwnam(name) == NULL) {
		sbuf_setf(why, "user %s is still unknown after useradd", name);
		return -1;
	}
	setup_note(rep, "created user %s (home %s)", name, home);
	return 0;
}

int
setup_users(const struct params *p, struct setup_report *rep,
    struct sbuf *why)
{
	size_t count = sizeof(setup_users_list) / sizeof(setup_users_list[0]);

	if (geteuid() != 0) {
		sbuf_setf(why, "only root can create users and groups");
		return -1;
	}
	if (setup_group(p->setgid_group, rep, why) < 0)
		return -1;
	for (size_t i = 0; i < count; i++)
		if (setup_user(p, &setup_users_list[i], rep, why) < 0)
			return -1;
	return 0;
}

int
setup_dir(const char *path, const struct setup_perm *perm,
    struct setup_report *rep, struct sbuf *why)
{
	struct sbuf *had = NULL, *want = NULL;
	bool created = false;
	struct stat st;
	int fd, ret = -1;

	if (mkdir(path, 0700) == 0)
		created = true;
	else if (errno != EEXIST) {
		sbuf_setf(why, "create directory %s: %m", path);
		return -1;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOTDIR || errno == ELOOP)
			sbuf_setf(why, "%s is not a directory", path);
		else
			sbuf_setf(why, "open %s: %m", path);
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		sbuf_setf(why, "stat %s: %m", path);
		goto out;
	}
	had = sbuf_new();
	want = sbuf_new();
	setup_owner_text(st.st_uid, st.st_gid, had);
	setup_owner_text(perm->uid, perm->gid, want);
	if (st.st_uid != perm->uid || st.st_gid != perm->gid) {
		if (fchown(fd, perm->uid, perm->gid) < 0) {
			sbuf_setf(why, "change owner of %s to %s: %m", path,
			    sbuf_str(want));
			goto out;
		}
		/* chown may clear mode bits: compare with what is left. */
		if (fstat(fd, &st) < 0) {
			sbuf_setf(why, "stat %s: %m", path);
			goto out;
		}
		if (!created)
			setup_note(rep, "changed owner of %s from %s to %s",
			    path, sbuf_str(had), sbuf_str(want));
	}
	if ((st.st_mode & 07777) != perm->mode) {
		if (fchmod(fd, perm->mode) < 0) {
			sbuf_setf(why, "change mode of %s to %04o: %m", path,
			    (unsigned)perm->mode);
			goto out;
		}
		if (!created)
			setup_note(rep, "changed mode of %s from %04o to %04o",
			    path, (unsigned)(st.st_mode & 07777),
			    (unsigned)perm->mode);
	}
	if (created)
		setup_note(rep, "created directory %s (owner %s, mode %04o)",
		    path, sbuf_str(want), (unsigned)perm->mode);
	ret = 0;
out:
	sbuf_free(&had);
	sbuf_free(&want);
	close(fd);
	return ret;
}

/* Creates the missing parents of path, mode 0755. */
static int
setup_parents(const char *path, struct setup_report *rep, struct sbuf *why)
{
	char *copy = xstrdup(path);
	int ret = 0;

	for (char *slash = strchr(copy + 1, '/'); slash != NULL;
	    slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (mkdir(copy, 0755) == 0) {
			setup_note(rep, "created directory %s", copy);
		} else if (errno != EEXIST) {
			sbuf_setf(why, "create directory %s: %m", copy);
			ret = -1;
			break;
		}
		*slash = '/';
	}
	free(copy);
	return ret;
}

/*
 * In system mode, gives command_directory/postern-drop, when installed
 * there, its group setgid_group and mode 2755: the one way into
 * maildrop/. A program that is not a regular file owned by root is left
 * alone with an error.
 */
static int
setup_drop_program(const struct params *p, const struct setup_ids *ids,
    struct setup_report *rep, struct sbuf *why)
{
	struct sbuf *path = sbuf_new();
	struct stat st;
	int fd, ret = 0;

	sbuf_setf(path, "%s/postern-drop", p->command_directory);
	fd = open(sbuf_str(path), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (ids->single || (fd < 0 && errno == ENOENT))
		goto out;
	if (fd < 0 || fstat(fd, &st) < 0) {
		sbuf_setf(why, "%s: %s", sbuf_str(path), strerror(errno));
		ret = -1;
	} else if (!S_ISREG(st.st_mode) || st.st_uid != 0) {
		sbuf_setf(why, "%s: not a regular file owned by root",
		    sbuf_str(path));
		ret = -1;
	} else if (st.st_gid != ids->drop_gid ||
	    (st.st_mode & 07777) != 02755) {
		if (fchown(fd, 0, ids->drop_gid) < 0 ||
		    fchmod(fd, 02755) < 0) {
			sbuf_setf(why, "%s: %s", sbuf_str(path),
			    strerror(errno));
			ret = -1;
		} else
			setup_note(rep, "set group %s and mode 2755 of %s",
			    p->setgid_group, sbuf_str(path));
	}
out:
	if (fd >= 0)
		close(fd);
	sbuf_free(&path);
	return ret;
}

int
setup_queue(const struct params *p, const struct setup_ids *ids,
    struct setup_report *rep, struct sbuf *why)
{
	struct sbuf *path = sbuf_new();
	struct setup_perm perm;
	int ret = 0;

	if (*p->queue_directory != '/') {
		sbuf_setf(why, "queue_directory \"%s\" is not an absolute path",
		    p->queue_directory);
		sbuf_free(&path);
		return -1;
	}
	if (setup_parents(p->queue_directory, rep, why) < 0)
		ret = -1;
	for (size_t i = 0; ret == 0 &&
	    setup_queue_dir(p->queue_directory, i, ids, path, &perm); i++)
		ret = setup_dir(sbuf_str(path), &perm, rep, why);
	if (ret == 0)
		ret = setup_drop_program(p, ids, rep, why);
	sbuf_free(&path);
	return ret;
}

void
setup_master_cf_header(struct sbuf *out)
{
	sbuf_cat(out, setup_master_header);
}

/* Writes dir/name with text when no such file exists. */
static int
setup_file(const char *dir, const char *name, const char *text,
    struct setup_report *rep, struct sbuf *why)
{
	struct sbuf *path = sbuf_new();
	struct stat st;
	int ret = 0;

	sbuf_printf(path, "%s/%s", dir, name);
	if (lstat(sbuf_str(path), &st) == 0) {
		sbuf_free(&path);
		return 0;
	}
	if (errno != ENOENT) {
		sbuf_setf(why, "%s: %m", sbuf_str(path));
		ret = -1;
	} else if ((ret = safe_file_write(sbuf_str(path), text, strlen(text),
	    0644, why)) == 0) {
		setup_note(rep, "created %s", sbuf_str(path));
	}
	sbuf_free(&path);
	return ret;
}

int
setup_config(const char *config_dir, struct setup_report *rep,
    struct sbuf *why)
{
	if (mkdir(config_dir, 0755) == 0)
		setup_note(rep, "created directory %s", config_dir);
	else if (errno != EEXIST) {
		sbuf_setf(why, "create directory %s: %m", config_dir);
		return -1;
	}
	if (setup_file(config_dir, SETUP_MAIN_CF, setup_main_cf, rep, why) < 0)
		return -1;
	return setup_file(config_dir, SETUP_MASTER_CF, setup_master_header, rep,
	    why);
}
