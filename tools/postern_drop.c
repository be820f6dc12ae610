/*
 * postern-drop - the one privileged path into maildrop/
 *
 *	postern-drop [-C dir]
 *
 * Installed setgid setgid_group (mode 2755); maildrop/ is writable by
 * that group only and readable by nobody else. Reads a submission in the
 * drop_file.h format on standard input (written by sendmail), checks it,
 * records the real uid as the submitter, writes it into maildrop/ under a
 * temporary name, fsyncs it, renames it to a queue id and fsyncs the
 * directory, then wakes pickup through public/pickup (a failure to wake
 * it is fine: pickup scans maildrop/ at its next start and every minute).
 * Exits 0 only once the file is durable.
 *
 * Errors: one line on stderr (and syslog) and a <sysexits.h> status:
 * EX_USAGE (command line), EX_DATAERR (malformed submission, too big),
 * EX_CONFIG (main.cf), EX_CANTCREAT (maildrop/ not writable),
 * EX_TEMPFAIL (a write or sync error).
 * Trust: the caller is hostile. Descriptors 0 to 2 are made sure to be
 * open and the environment is cleared. -C and MAIL_CONFIG only name a
 * configuration directory; main.cf is opened with the caller's group and
 * read through descriptors, so it cannot be swapped after the check. A
 * directory other than the default keeps the group privilege only when
 * it and its main.cf belong to root and are writable by nobody else (or
 * the caller is root); otherwise the privilege is given up for good, so
 * the caller can only write where it could anyway.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "mail/drop_file.h"
#include "mail/main_cf.h"
#include "mail/master_proto.h"
#include "mail/params.h"
#include "mail/queue_file.h"
#include "mail/queue_id.h"
#include "util/msg.h"
#include "util/safe_file.h"
#include "util/sbuf.h"
#include "util/unix_sock.h"

#define DROP_MAIN_CF_MAX	(1024 * 1024)	/* bytes of main.cf */
#define DROP_COPY_SIZE		65536
/* pickup (mail_owner) reads the file; maildrop/ hides it from others. */
#define DROP_FILE_MODE		0644

int __lsan_is_turned_off(void);

/*
 * Read by the leak checker of a sanitizer build at exit: a process
 * started setgid cannot be traced, which that checker needs, so it is
 * off then. Unused in other builds.
 */
int
__lsan_is_turned_off(void)
{
	return prctl(PR_GET_DUMPABLE) != 1;
}

/* True when st belongs to root and only its owner may write it. */
static bool
drop_trusted_stat(const struct stat *st)
{
	return st->st_uid == 0 && (st->st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

/*
 * Reads dir/main.cf through descriptors into *p, with the caller's own
 * group, so nothing is read that the caller could not read. Then takes
 * the group privilege back for the default directory or a trusted one
 * (root's, writable only by root), and gives it up for good otherwise.
 * Exits on any error.
 */
static struct params *
drop_config(const char *dir)
{
	struct sbuf *data = sbuf_new(), *why = sbuf_new();
	struct main_cf *cf = NULL;
	struct params *p;
	struct stat dst, fst;
	gid_t priv_gid = getegid(), gid = getgid();
	bool privileged = priv_gid != gid && getuid() != 0;
	char buf[8192];
	ssize_t n;
	int dfd, fd;

	if (privileged && setegid(gid) < 0)
		msg_fatal_status(EX_OSERR, "setegid: %m");
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    fstat(dfd, &dst) < 0)
		msg_fatal_status(EX_CONFIG, "open %s: %m", dir);
	fd = openat(dfd, "main.cf", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &fst) < 0 || !S_ISREG(fst.st_mode))
		msg_fatal_status(EX_CONFIG, "open %s/main.cf: %s", dir,
		    fd < 0 ? strerror(errno) : "not a regular file");
	if (privileged && (strcmp(dir, DEF_CONFIG_DIR) == 0 ||
	    (drop_trusted_stat(&dst) && drop_trusted_stat(&fst)))) {
		if (setegid(priv_gid) < 0)
			msg_fatal_status(EX_OSERR, "setegid: %m");
	} else if (privileged && setresgid(gid, gid, gid) < 0)
		msg_fatal_status(EX_OSERR, "setresgid: %m");
	sbuf_set_limit(data, DROP_MAIN_CF_MAX);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (sbuf_catn(data, buf, (size_t)n) < 0)
			msg_fatal_status(EX_CONFIG, "%s/main.cf: too large",
			    dir);
	if (n < 0)
		msg_fatal_status(EX_CONFIG, "read %s/main.cf: %m", dir);
	close(fd);
	close(dfd);
	sbuf_setf(why, "%s/main.cf", dir);
	cf = main_cf_parse(sbuf_str(data), sbuf_len(data), sbuf_str(why),
	    why);
	if (cf == NULL || main_cf_set(cf, "config_directory", dir, why) < 0)
		msg_fatal_status(EX_CONFIG, "%s", sbuf_str(why));
	p = params_new();
	if (params_fill(p, cf, why) < 0)
		msg_fatal_status(EX_CONFIG, "%s", sbuf_str(why));
	main_cf_free(&cf);
	sbuf_free(&data);
	sbuf_free(&why);
	return p;
}

/*
 * Opens /dev/null on whichever of descriptors 0, 1 and 2 the caller left
 * closed, so that no file opened later takes their place and receives
 * error messages.
 */
static void
drop_std_fds(void)
{
	int fd;

	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= STDERR_FILENO)
		;
	if (fd < 0)
		_exit(EX_OSERR);
	close(fd);
}

/* Copies exactly size octets of content from in to fd; exits on error. */
static void
drop_copy(FILE *in, int fd, uint64_t size, const char *tmp)
{
	char buf[DROP_COPY_SIZE];
	size_t want, got;

	while (size > 0) {
		want = size < sizeof(buf) ? (size_t)size : sizeof(buf);
		if ((got = fread(buf, 1, want, in)) != want) {
			unlink(tmp);
			msg_fatal_status(EX_DATAERR, "message content cut "
			    "short");
		}
		if (safe_write_all(fd, buf, got) < 0) {
			unlink(tmp);
			msg_fatal_status(EX_TEMPFAIL, "write %s: %m", tmp);
		}
		size -= got;
	}
	if (getc(in) != EOF) {
		unlink(tmp);
		msg_fatal_status(EX_DATAERR, "data after the message content");
	}
}

/*
 * Writes env and the content into maildrop/ as described above; the
 * queue id of the new file goes to id. Exits on error.
 */
static void
drop_write(const struct params *p, const struct drop_envelope *env,
    FILE *in, struct sbuf *id)
{
	struct sbuf *tmp = sbuf_new(), *path = sbuf_new(), *dir = sbuf_new();
	struct sbuf *why = sbuf_new();
	struct stat st;
	FILE *out;
	int fd;

	sbuf_setf(dir, "%s/maildrop", p->queue_directory);
	sbuf_setf(tmp, "%s/" QUEUE_TMP_PREFIX "%ld.%lld", sbuf_str(dir),
	    (long)getpid(), (long long)time(NULL));
	fd = open(sbuf_str(tmp), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, DROP_FILE_MODE);
	if (fd < 0)
		msg_fatal_status(errno == EACCES || errno == ENOENT ||
		    errno == EPERM ? EX_CANTCREAT : EX_TEMPFAIL,
		    "create file in %s: %m", sbuf_str(dir));
	if (fchmod(fd, DROP_FILE_MODE) < 0 || (out = fdopen(dup(fd), "w")) ==
	    NULL || drop_envelope_write(out, env) < 0 || fclose(out) != 0) {
		unlink(sbuf_str(tmp));
		msg_fatal_status(EX_TEMPFAIL, "write %s: %m", sbuf_str(tmp));
	}
	drop_copy(in, fd, env->size, sbuf_str(tmp));
	if (fsync(fd) < 0 || fstat(fd, &st) < 0 ||
	    queue_id_new(st.st_ino, id, why) < 0) {
		unlink(sbuf_str(tmp));
		msg_fatal_status(EX_TEMPFAIL, "sync %s: %s", sbuf_str(tmp),
		    sbuf_len(why) > 0 ? sbuf_str(why) : strerror(errno));
	}
	close(fd);
	sbuf_setf(path, "%s/%s", sbuf_str(dir), sbuf_str(id));
	if (rename(sbuf_str(tmp), sbuf_str(path)) < 0) {
		unlink(sbuf_str(tmp));
		msg_fatal_status(EX_TEMPFAIL, "rename %s: %m", sbuf_str(tmp));
	}
	if (safe_file_sync_dir(sbuf_str(dir), why) < 0)
		msg_fatal_status(EX_TEMPFAIL, "%s", sbuf_str(why));
	sbuf_free(&tmp);
	sbuf_free(&path);
	sbuf_free(&dir);
	sbuf_free(&why);
}

/* Wakes pickup; a failure only delays the message until its next scan. */
static void
drop_wake_pickup(const struct params *p)
{
	struct sbuf *path = sbuf_new(), *why = sbuf_new();

	sbuf_setf(path, "%s/public/pickup", p->queue_directory);
	if (trigger_send(sbuf_str(path), MASTER_TRIGGER_WAKEUP, why) < 0)
		msg_debug("%s", sbuf_str(why));
	sbuf_free(&path);
	sbuf_free(&why);
}

int
main(int argc, char **argv)
{
	const char *dir = getenv("MAIL_CONFIG");
	char *config_dir;
	struct sbuf *why = sbuf_new(), *id = sbuf_new();
	struct drop_envelope env;
	struct params *p;
	int c;

	drop_std_fds();
	msg_init("postern-drop", MSG_TO_SYSLOG | MSG_TO_STDERR | MSG_BRIEF);
	while ((c = getopt(argc, argv, "C:v")) != -1) {
		switch (c) {
		case 'C':
			dir = optarg;
			break;
		case 'v':
			msg_verbose++;
			break;
		default:
			msg_fatal_status(EX_USAGE, "usage: postern-drop "
			    "[-C dir] [-v] < submission");
		}
	}
	if (optind != argc)
		msg_fatal_status(EX_USAGE, "usage: postern-drop [-C dir] [-v] "
		    "< submission");
	if (dir == NULL || *dir == '\0')
		dir = DEF_CONFIG_DIR;
	/* The copy outlives the environment it may point into. */
	if ((config_dir = strdup(dir)) == NULL || clearenv() != 0)
		msg_fatal_status(EX_OSERR, "cannot clear the environment");
	umask(077);
	p = drop_config(config_dir);
	free(config_dir);
	if (drop_envelope_read(stdin, false, p->message_size_limit, &env,
	    why) < 0)
		msg_fatal_status(EX_DATAERR, "malformed submission: %s",
		    sbuf_str(why));
	env.uid = (long)getuid();
	drop_write(p, &env, stdin, id);
	msg_debug("%s: uid=%ld from=<%s> size=%llu nrcpt=%zu", sbuf_str(id),
	    env.uid, env.sender, (unsigned long long)env.size,
	    env.rcpt_count);
	drop_wake_pickup(p);
	drop_envelope_free(&env);
	params_free(&p);
	sbuf_free(&why);
	sbuf_free(&id);
	return EX_OK;
}
