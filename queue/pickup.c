/*
 * pickup - moves submissions from maildrop/ into the queue
 *
 * A SERVER_TRIGGER daemon running as mail_owner, woken through
 * public/pickup by postern-drop and every minute by master. Each wake-up
 * scans maildrop/ for files named by a queue id (postern-drop's
 * temporary files are not), reads each in the drop_file.h format, and
 * writes the message with the queue-file writer into incoming/: protocol
 * local, the submitting uid as the authenticated identity ("uid=N"), body
 * 8BITMIME when the content has 8-bit octets, the recipients expanded
 * through virtual_alias_maps as smtpd expands them, and a Received:
 * header in front of the content. The maildrop file is
 * removed only after the queue file is committed; then qmgr is woken.
 * Temporary files of a postern-drop that died are removed once they are
 * older than daemon_timeout.
 *
 * Errors: a malformed file (bad format, a uid that is not the file's
 * owner, a size that does not match, anything that the queue writer
 * refuses) is moved to corrupt/ with a warning naming the reason; a
 * temporary failure (queue write error, a lookup table that fails) is
 * logged and the file stays for the next scan.
 * Trust: maildrop files come from any local user through postern-drop;
 * only their owner uid is believed, everything else is checked again.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mail/drop_file.h"
#include "mail/master_proto.h"
#include "mail/params.h"
#include "mail/queue_file.h"
#include "mail/queue_id.h"
#include "mail/resolve.h"
#include "mail/server.h"
#include "util/msg.h"
#include "util/sbuf.h"
#include "util/strlist.h"
#include "util/unix_sock.h"
#include "util/xmalloc.h"

#define PICKUP_COPY_SIZE	65536
#define PICKUP_DATE_MAX		64
#define PICKUP_SCAN_MAX		10000	/* files in one scan */

/* What became of one maildrop file. */
enum pickup_result {
	PICKUP_DONE,		/* queued and removed */
	PICKUP_LATER,		/* a temporary failure: left in place */
	PICKUP_CORRUPT		/* malformed: to corrupt/ */
};

static const struct params *pickup_params;
static struct resolver *pickup_resolver;

static void
pickup_init(const struct params *p)
{
	struct sbuf *why = sbuf_new();

	pickup_params = p;
	if ((pickup_resolver = resolver_open(p, why)) == NULL)
		msg_fatal("%s", sbuf_str(why));
	sbuf_free(&why);
}

/* Writes the Received: header for the message id from uid. */
static enum queue_write_status
pickup_received(struct queue_writer *w, long uid, struct sbuf *why)
{
	struct sbuf *hdr = sbuf_new();
	char date[PICKUP_DATE_MAX];
	time_t now = time(NULL);
	enum queue_write_status st;
	struct tm tm;

	localtime_r(&now, &tm);
	if (strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z",
	    &tm) == 0)
		date[0] = '\0';
	sbuf_setf(hdr, "Received: by %s (%s, from userid %ld)\n\tid %s; %s\n",
	    pickup_params->myhostname, pickup_params->mail_name, uid,
	    queue_writer_id(w), date);
	st = queue_writer_write(w, sbuf_str(hdr), sbuf_len(hdr), why);
	sbuf_free(&hdr);
	return st;
}

/*
 * Adds the recipients of env, expanded through virtual_alias_maps.
 * PICKUP_DONE, PICKUP_LATER (a table failed) or PICKUP_CORRUPT, with a
 * reason in why.
 */
static enum pickup_result
pickup_rcpts(struct queue_writer *w, const struct drop_envelope *env,
    struct sbuf *why)
{
	struct queue_rcpt rcpt = { .notify = env->notify };
	char **list = NULL;
	size_t count = 0;
	enum resolve_status rs;
	int rc = 0;

	for (size_t i = 0; i < env->rcpt_count && rc == 0; i++) {
		rs = resolve_virtual_alias(pickup_resolver, env->rcpts[i],
		    &list, &count, why);
		if (rs == RESOLVE_ERROR)
			return PICKUP_LATER;
		if (rs == RESOLVE_NOTFOUND) {
			rcpt.address = env->rcpts[i];
			rc = queue_writer_add_rcpt(w, &rcpt, why);
			continue;
		}
		for (size_t j = 0; j < count && rc == 0; j++) {
			rcpt.address = list[j];
			rc = queue_writer_add_rcpt(w, &rcpt, why);
		}
		resolve_list_free(&list, count);
	}
	return rc == 0 ? PICKUP_DONE : PICKUP_CORRUPT;
}

/*
 * Copies exactly size octets from fp into the writer and checks that
 * nothing follows. PICKUP_DONE, or another result with a reason.
 */
static enum pickup_result
pickup_content(struct queue_writer *w, FILE *fp, uint64_t size,
    struct sbuf *why)
{
	char buf[PICKUP_COPY_SIZE];
	size_t want;

	while (size > 0) {
		want = size < sizeof(buf) ? (size_t)size : sizeof(buf);
		if (fread(buf, 1, want, fp) != want) {
			sbuf_set(why, ferror(fp) ? "read error" :
			    "content cut short");
			return ferror(fp) ? PICKUP_LATER : PICKUP_CORRUPT;
		}
		if (queue_writer_write(w, buf, want, why) != QUEUE_WRITE_OK)
			return PICKUP_LATER;
		size -= want;
	}
	if (getc(fp) != EOF) {
		sbuf_set(why, "data after the content");
		return PICKUP_CORRUPT;
	}
	return PICKUP_DONE;
}

/*
 * The body type of the size octets of content at fp's position:
 * 8BITMIME when one has its high bit set, else 7BIT. Leaves fp where it
 * was; PICKUP_LATER on a read error.
 */
static enum pickup_result
pickup_body(FILE *fp, uint64_t size, enum queue_body *body,
    struct sbuf *why)
{
	off_t start = ftello(fp);
	int c;

	*body = QUEUE_BODY_7BIT;
	for (uint64_t i = 0; i < size && (c = getc(fp)) != EOF; i++)
		if (c & 0x80) {
			*body = QUEUE_BODY_8BITMIME;
			break;
		}
	if (start < 0 || ferror(fp) || fseeko(fp, start, SEEK_SET) < 0) {
		sbuf_setf(why, "read: %s", strerror(errno));
		return PICKUP_LATER;
	}
	return PICKUP_DONE;
}

/*
 * Writes the queue file for the open maildrop file fp (whose owner is
 * owner) and commits it, the queue id going to qid.
 */
static enum pickup_result
pickup_queue(FILE *fp, uid_t owner, struct sbuf *qid, struct sbuf *why)
{
	struct queue_envelope qenv = { .proto = QUEUE_PROTO_LOCAL };
	struct drop_envelope env;
	struct queue_writer *w = NULL;
	struct sbuf *auth = sbuf_new();
	enum pickup_result res = PICKUP_CORRUPT;

	if (drop_envelope_read(fp, true, 0, &env, why) < 0) {
		sbuf_free(&auth);
		return PICKUP_CORRUPT;
	}
	if (env.uid != (long)owner) {
		sbuf_setf(why, "uid %ld is not the file's owner %ld", env.uid,
		    (long)owner);
		goto out;
	}
	if (pickup_body(fp, env.size, &qenv.body, why) != PICKUP_DONE ||
	    queue_writer_open(pickup_params->queue_directory, &w, why) !=
	    QUEUE_WRITE_OK) {
		res = PICKUP_LATER;
		goto out;
	}
	sbuf_set(qid, queue_writer_id(w));
	sbuf_setf(auth, "uid=%ld", env.uid);
	qenv.sender = env.sender;
	qenv.auth_user = sbuf_str(auth);
	qenv.ret = env.ret;
	if (queue_writer_envelope(w, &qenv, why) < 0 ||
	    (res = pickup_rcpts(w, &env, why)) != PICKUP_DONE)
		goto out;
	res = PICKUP_LATER;
	if (pickup_received(w, env.uid, why) != QUEUE_WRITE_OK ||
	    (res = pickup_content(w, fp, env.size, why)) != PICKUP_DONE)
		goto out;
	if (queue_writer_commit(&w, why) != QUEUE_WRITE_OK) {
		res = PICKUP_LATER;
		goto out;
	}
	msg_info("%s: uid=%ld from=<%s> nrcpt=%zu", sbuf_str(qid), env.uid,
	    env.sender, env.rcpt_count);
	res = PICKUP_DONE;
out:
	queue_writer_abort(&w);
	drop_envelope_free(&env);
	sbuf_free(&auth);
	return res;
}

/* Moves maildrop/name to corrupt/name, logging why. */
static void
pickup_corrupt(const char *name, const char *path, const char *why)
{
	struct sbuf *to = sbuf_new();

	sbuf_setf(to, "%s/corrupt/%s", pickup_params->queue_directory, name);
	if (rename(path, sbuf_str(to)) < 0)
		msg_error("%s: malformed maildrop file (%s); cannot move it "
		    "to corrupt/: %m", name, why);
	else
		msg_warn("%s: malformed maildrop file moved to corrupt/: %s",
		    name, why);
	sbuf_free(&to);
}

/* Takes maildrop/name into the queue; true when a message was queued. */
static bool
pickup_file(const char *name)
{
	struct sbuf *path = sbuf_new(), *why = sbuf_new(), *qid = sbuf_new();
	enum pickup_result res = PICKUP_CORRUPT;
	struct stat st;
	FILE *fp = NULL;
	int fd;

	sbuf_setf(path, "%s/maildrop/%s", pickup_params->queue_directory,
	    name);
	fd = open(sbuf_str(path), O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		res = PICKUP_LATER;
		goto out;
	}
	if (fd < 0 || fstat(fd, &st) < 0)
		sbuf_setf(why, "open: %s", strerror(errno));
	else if (!S_ISREG(st.st_mode))
		sbuf_set(why, "not a regular file");
	else if ((fp = fdopen(fd, "r")) == NULL)
		msg_fatal("fdopen: %m");
	else
		res = pickup_queue(fp, st.st_uid, qid, why);
	if (fp == NULL && fd >= 0)
		close(fd);
	switch (res) {
	case PICKUP_DONE:
		if (unlink(sbuf_str(path)) < 0)
			msg_error("%s: queued as %s, but cannot remove %s: %m",
			    name, sbuf_str(qid), sbuf_str(path));
		break;
	case PICKUP_LATER:
		msg_warn("%s: left in maildrop/ for later: %s", name,
		    sbuf_str(why));
		break;
	case PICKUP_CORRUPT:
		pickup_corrupt(name, sbuf_str(path), sbuf_str(why));
		break;
	}
out:
	if (fp != NULL)
		fclose(fp);
	sbuf_free(&path);
	sbuf_free(&why);
	sbuf_free(&qid);
	return res == PICKUP_DONE;
}

/* Wakes qmgr for the messages just queued; failure waits for its timer. */
static void
pickup_wake_qmgr(void)
{
	struct sbuf *path = sbuf_new(), *why = sbuf_new();

	sbuf_setf(path, "%s/public/qmgr", pickup_params->queue_directory);
	if (trigger_send(sbuf_str(path), MASTER_TRIGGER_WAKEUP, why) < 0)
		msg_warn("cannot wake qmgr: %s", sbuf_str(why));
	sbuf_free(&path);
	sbuf_free(&why);
}

/*
 * Removes maildrop/name, a temporary file of postern-drop, when it was
 * not modified for daemon_timeout: its writer died before the commit.
 */
static void
pickup_stale(const char *dir, const char *name)
{
	struct sbuf *path = sbuf_new();
	struct stat st;

	sbuf_setf(path, "%s/%s", dir, name);
	if (lstat(sbuf_str(path), &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_mtime + pickup_params->daemon_timeout < time(NULL)) {
		if (unlink(sbuf_str(path)) == 0)
			msg_info("removed stale temporary file maildrop/%s",
			    name);
		else if (errno != ENOENT)
			msg_warn("remove %s: %m", sbuf_str(path));
	}
	sbuf_free(&path);
}

/* Scans maildrop/ and takes every submission in it. */
static void
pickup_trigger(int command)
{
	struct sbuf *dir = sbuf_new();
	struct strlist names = { 0 };
	struct dirent *de;
	size_t queued = 0;
	DIR *d;

	(void)command;
	sbuf_setf(dir, "%s/maildrop", pickup_params->queue_directory);
	if ((d = opendir(sbuf_str(dir))) == NULL)
		msg_fatal("open %s: %m", sbuf_str(dir));
	while ((de = readdir(d)) != NULL && names.count < PICKUP_SCAN_MAX) {
		if (queue_id_valid(de->d_name))
			strlist_push(&names, de->d_name);
		else if (strncmp(de->d_name, QUEUE_TMP_PREFIX,
		    strlen(QUEUE_TMP_PREFIX)) == 0)
			pickup_stale(sbuf_str(dir), de->d_name);
	}
	closedir(d);
	for (size_t i = 0; i < names.count; i++)
		if (pickup_file(names.items[i]))
			queued++;
	if (queued > 0)
		pickup_wake_qmgr();
	strlist_free(&names);
	sbuf_free(&dir);
}

int
main(int argc, char **argv)
{
	static const struct server_def def = {
		.name = "pickup",
		.kind = SERVER_TRIGGER,
		.init = pickup_init,
		.trigger = pickup_trigger,
	};

	server_main(argc, argv, &def);
}
