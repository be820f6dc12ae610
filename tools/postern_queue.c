/*
 * postern-queue - list and administer the mail queue
 *
 *	postern-queue [-c dir] [-v] -p		list, like mailq
 *	postern-queue [-c dir] [-v] -j|--json	list as JSON lines
 *	postern-queue [-c dir] [-v] -f		deliver deferred mail now
 *	postern-queue [-c dir] [-v] -i id	deliver one message now
 *	postern-queue [-c dir] [-v] -d id|ALL	delete
 *	postern-queue [-c dir] [-v] --delete-sender address
 *	postern-queue [-c dir] [-v] --delete-recipient address
 *	postern-queue [-c dir] [-v] -h id|ALL	put on hold
 *	postern-queue [-c dir] [-v] -H id|ALL	release from hold
 *	postern-queue [-c dir] [-v] -r id|ALL	requeue
 *	postern-queue [-c dir] [-v] -s id	show a queue file
 *
 * -d, -h, -H and -r may be repeated with several ids. Each change to the
 * queue is one rename() or unlink() of one queue file, so it is safe
 * while master and qmgr run; qmgr is woken up through public/qmgr after
 * messages were moved into incoming/. Every change is logged
 * ("ID: removed").
 *
 * Errors: one line on stderr and a <sysexits.h> status: EX_USAGE (bad
 * command line or queue id), EX_CONFIG (no configuration directory,
 * main.cf), EX_NOPERM (the queue
 * belongs to mail_owner: only root and that user may read it),
 * EX_NOINPUT (no such message, or not where the operation applies),
 * EX_UNAVAILABLE (qmgr cannot be reached for -f), EX_IOERR (a queue or
 * output error).
 * Trust: run by root or mail_owner; ids from the command line are checked
 * with queue_id_valid() before they go into a path; queue files are read
 * only through queue_file.h.
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>

#include "mail/master_proto.h"
#include "mail/params.h"
#include "mail/queue_file.h"
#include "mail/queue_id.h"
#include "pqueue_dirs.h"
#include "pqueue_list.h"
#include "util/msg.h"
#include "util/sbuf.h"
#include "util/unix_sock.h"
#include "util/xmalloc.h"

#define PQ_QMGR_SOCKET	"public/qmgr"	/* in the queue directory */
#define PQ_ALL		"ALL"		/* every message */
#define PQ_SHOW_TRIES	3	/* opens of a message that keeps moving */

/* What the command line asks for. */
enum pq_action {
	PQ_NONE,
	PQ_LIST,
	PQ_JSON,
	PQ_FLUSH,
	PQ_FLUSH_ONE,
	PQ_DELETE,
	PQ_DELETE_SENDER,
	PQ_DELETE_RCPT,
	PQ_HOLD,
	PQ_RELEASE,
	PQ_REQUEUE,
	PQ_SHOW
};

/* Long options without a short form. */
enum {
	PQ_OPT_DELETE_SENDER = 256,
	PQ_OPT_DELETE_RCPT
};

/* A move of messages between queue directories. */
struct pq_move {
	const char *verb;	/* for messages: "cannot VERB ..." */
	unsigned from;		/* the directories it takes from */
	enum pqueue_dir to;
	unsigned settled;	/* where a message needs no move */
	const char *done;	/* logged as "ID: DONE" */
};

static const struct pq_move pq_moves[] = {
	[PQ_FLUSH_ONE] = { "flush", PQUEUE_IN(PQUEUE_DEFERRED),
	    PQUEUE_INCOMING,
	    PQUEUE_IN(PQUEUE_INCOMING) | PQUEUE_IN(PQUEUE_ACTIVE),
	    "requeued" },
	[PQ_HOLD] = { "hold", PQUEUE_IN(PQUEUE_INCOMING) |
	    PQUEUE_IN(PQUEUE_ACTIVE) | PQUEUE_IN(PQUEUE_DEFERRED),
	    PQUEUE_HOLD, PQUEUE_IN(PQUEUE_HOLD), "placed on hold" },
	[PQ_RELEASE] = { "release", PQUEUE_IN(PQUEUE_HOLD), PQUEUE_INCOMING,
	    0, "released from hold" },
	[PQ_REQUEUE] = { "requeue", PQUEUE_IN(PQUEUE_DEFERRED) |
	    PQUEUE_IN(PQUEUE_HOLD), PQUEUE_INCOMING,
	    PQUEUE_IN(PQUEUE_INCOMING) | PQUEUE_IN(PQUEUE_ACTIVE),
	    "requeued" },
};

/* The state of one run over the queue. */
struct pq_run {
	const struct pq_move *move;	/* PQ_FLUSH_ONE ... PQ_REQUEUE */
	const char *match;		/* --delete-sender/-recipient */
	enum pq_action action;
	unsigned long count;		/* messages changed */
	int status;
};

static void
pq_usage(void)
{
	fputs("usage: postern-queue [-c dir] [-v] -p | -j | --json | -f\n"
	    "       postern-queue [-c dir] [-v] -i id | -s id\n"
	    "       postern-queue [-c dir] [-v] -d id|ALL ... | "
	    "-h id|ALL ... | -H id|ALL ... | -r id|ALL ...\n"
	    "       postern-queue [-c dir] [-v] --delete-sender address | "
	    "--delete-recipient address\n", stderr);
	exit(EX_USAGE);
}

/* The status for a failed system call on the queue with errno err. */
static int
pq_errno_status(int err)
{
	return err == EACCES || err == EPERM ? EX_NOPERM : EX_IOERR;
}

/* Keeps the first failure of a run. */
static void
pq_fail(struct pq_run *run, int status)
{
	if (run->status == EX_OK)
		run->status = status;
}

/* Checks an id from the command line; exits EX_USAGE when it is bad. */
static void
pq_check_id(const char *id)
{
	if (!queue_id_valid(id))
		msg_fatal_status(EX_USAGE, "\"%s\" is not a queue id", id);
}

/* Moves one message found in dir by a walk; a walk visitor. */
static bool
pq_move_found(enum pqueue_dir dir, const char *id, void *ctx)
{
	struct pq_run *run = ctx;
	struct sbuf *why = sbuf_new();
	enum pqueue_dir from;

	switch (pqueue_move(id, PQUEUE_IN(dir), run->move->to, &from, why)) {
	case PQUEUE_DONE:
		msg_info("%s: %s", id, run->move->done);
		run->count++;
		break;
	case PQUEUE_ABSENT:
		break;		/* qmgr took it meanwhile */
	case PQUEUE_FAILED:
		pq_fail(run, pq_errno_status(errno));
		msg_error("%s", sbuf_str(why));
		break;
	}
	sbuf_free(&why);
	return true;
}

/* Moves the message id (a valid queue id) as run->move says. */
static void
pq_move_one(struct pq_run *run, const char *id)
{
	const struct pq_move *m = run->move;
	struct sbuf *why = sbuf_new();
	enum pqueue_dir from;
	int where;

	switch (pqueue_move(id, m->from, m->to, &from, why)) {
	case PQUEUE_DONE:
		msg_info("%s: %s", id, m->done);
		run->count++;
		break;
	case PQUEUE_FAILED:
		pq_fail(run, pq_errno_status(errno));
		msg_error("%s", sbuf_str(why));
		break;
	case PQUEUE_ABSENT:
		if ((where = pqueue_locate(id, PQUEUE_ALL)) < 0) {
			pq_fail(run, EX_NOINPUT);
			msg_error("%s: no such message in the queue", id);
		} else if ((m->settled & PQUEUE_IN(where)) != 0) {
			msg_info("%s: already in %s/", id,
			    pqueue_dir_name(where));
		} else {
			pq_fail(run, EX_NOINPUT);
			msg_error("%s: cannot %s a message in %s/", id,
			    m->verb, pqueue_dir_name(where));
		}
		break;
	}
	sbuf_free(&why);
}

/* Removes the message id, and says so. */
static void
pq_remove(struct pq_run *run, const char *id, bool must_exist)
{
	struct sbuf *why = sbuf_new();

	switch (pqueue_remove(id, why)) {
	case PQUEUE_DONE:
		msg_info("%s: removed", id);
		if (sbuf_len(why) > 0)
			msg_warn("%s: %s", id, sbuf_str(why));
		run->count++;
		break;
	case PQUEUE_ABSENT:
		if (must_exist) {
			pq_fail(run, EX_NOINPUT);
			msg_error("%s: no such message in the queue", id);
		}
		break;
	case PQUEUE_FAILED:
		pq_fail(run, pq_errno_status(errno));
		msg_error("%s", sbuf_str(why));
		break;
	}
	sbuf_free(&why);
}

/*
 * An address as given on the command line in internal form: without
 * enclosing angle brackets; "<>" and "" are the null sender.
 */
static const char *
pq_address(char *arg)
{
	size_t len = strlen(arg);

	if (len >= 2 && arg[0] == '<' && arg[len - 1] == '>') {
		arg[len - 1] = '\0';
		arg++;
	}
	return arg;
}

/* Whether the queue file qf is one that --delete-... names. */
static bool
pq_matches(const struct pq_run *run, const struct queue_file *qf)
{
	if (run->action == PQ_DELETE_SENDER)
		return strcasecmp(qf->env.sender, run->match) == 0;
	for (size_t i = 0; i < qf->rcpt_count; i++) {
		if (!qf->rcpts[i].done &&
		    strcasecmp(qf->rcpts[i].address, run->match) == 0)
			return true;
	}
	return false;
}

/* Removes the message if it matches; a walk visitor. */
static bool
pq_remove_found(enum pqueue_dir dir, const char *id, void *ctx)
{
	struct pq_run *run = ctx;
	struct sbuf *path = sbuf_new(), *why = sbuf_new();
	struct queue_file *qf;
	bool match = true;

	if (run->action != PQ_DELETE) {
		pqueue_path(path, dir, id);
		if ((qf = queue_file_open(sbuf_str(path), 0, why)) == NULL) {
			if (access(sbuf_str(path), F_OK) == 0 ||
			    errno != ENOENT)
				msg_warn("%s", sbuf_str(why));
			match = false;
		} else {
			match = pq_matches(run, qf);
			queue_file_close(&qf);
		}
	}
	if (match)
		pq_remove(run, id, false);
	sbuf_free(&path);
	sbuf_free(&why);
	return true;
}

/* Walks the directories dirs with visit; a failure ends the run. */
static void
pq_walk(struct pq_run *run, unsigned dirs, pqueue_visit_fn visit)
{
	struct sbuf *why = sbuf_new();

	if (pqueue_walk(dirs, visit, run, why) < 0) {
		pq_fail(run, pq_errno_status(errno));
		msg_error("%s", sbuf_str(why));
	}
	sbuf_free(&why);
}

/* Sends qmgr the wake-up byte; -1 with a reason when it cannot. */
static int
pq_trigger(char byte, struct sbuf *why)
{
	msg_debug("sending '%c' to %s", byte, PQ_QMGR_SOCKET);
	return trigger_send(PQ_QMGR_SOCKET, byte, why);
}

/* Wakes qmgr up for mail put into incoming/; a failure is a warning. */
static void
pq_wake(void)
{
	struct sbuf *why = sbuf_new();

	if (pq_trigger(MASTER_TRIGGER_WAKEUP, why) < 0)
		msg_warn("cannot wake up qmgr: %s; the mail is delivered "
		    "once the mail system runs", sbuf_str(why));
	sbuf_free(&why);
}

/* -f: asks qmgr to try all deferred mail now. */
static int
pq_flush(void)
{
	struct sbuf *why = sbuf_new();
	int status = EX_OK;

	if (pq_trigger(MASTER_TRIGGER_FLUSH, why) < 0) {
		msg_error("cannot reach qmgr: %s (is the mail system "
		    "running?)", sbuf_str(why));
		status = EX_UNAVAILABLE;
	}
	sbuf_free(&why);
	return status;
}

/* -s: writes the readable form of the message id on stdout. */
static int
pq_show(const char *id)
{
	struct sbuf *path = sbuf_new(), *why = sbuf_new(), *out = sbuf_new();
	struct queue_file *qf = NULL;
	int where, status = EX_OK;

	pq_check_id(id);
	/* Looks again when the file moves between finding and opening. */
	for (int tries = 0; tries < PQ_SHOW_TRIES && qf == NULL; tries++) {
		if ((where = pqueue_locate(id, PQUEUE_ALL)) < 0) {
			sbuf_reset(why);
			break;
		}
		qf = queue_file_open(pqueue_path(path, where, id), 0, why);
	}
	if (qf == NULL) {
		if (sbuf_len(why) > 0) {
			msg_error("%s", sbuf_str(why));
			status = EX_DATAERR;
		} else {
			msg_error("%s: no such message in the queue", id);
			status = EX_NOINPUT;
		}
	} else if (queue_file_render(qf, out, why) < 0) {
		msg_error("%s: %s", id, sbuf_str(why));
		status = EX_IOERR;
	} else {
		fwrite(sbuf_str(out), 1, sbuf_len(out), stdout);
	}
	queue_file_close(&qf);
	sbuf_free(&path);
	sbuf_free(&why);
	sbuf_free(&out);
	return status;
}

/* Runs -d, -h, -H, -r or -i on each of the count arguments. */
static int
pq_change(enum pq_action action, char **args, int count)
{
	struct pq_run run = { .action = action };

	if (action != PQ_DELETE)
		run.move = &pq_moves[action];
	/* Nothing is done unless every argument is good. */
	for (int i = 0; i < count; i++)
		if (strcmp(args[i], PQ_ALL) != 0 || action == PQ_FLUSH_ONE)
			pq_check_id(args[i]);
	for (int i = 0; i < count && run.status != EX_NOPERM; i++) {
		if (strcmp(args[i], PQ_ALL) == 0 && action != PQ_FLUSH_ONE) {
			if (action == PQ_DELETE)
				pq_walk(&run, PQUEUE_ALL, pq_remove_found);
			else
				pq_walk(&run, run.move->from, pq_move_found);
		} else if (action == PQ_DELETE) {
			pq_remove(&run, args[i], true);
		} else {
			pq_move_one(&run, args[i]);
		}
	}
	if (run.move != NULL && run.move->to == PQUEUE_INCOMING &&
	    (run.count > 0 || action == PQ_FLUSH_ONE))
		pq_wake();
	return run.status;
}

/* --delete-sender, --delete-recipient. */
static int
pq_delete_matching(enum pq_action action, char *address)
{
	struct pq_run run = { .action = action };

	run.match = pq_address(address);
	pq_walk(&run, PQUEUE_ALL, pq_remove_found);
	msg_info("%lu message%s removed", run.count,
	    run.count == 1 ? "" : "s");
	return run.status;
}

/* -p, -j: the listing. */
static int
pq_list(enum pqueue_format format)
{
	struct sbuf *why = sbuf_new();
	int status = EX_OK;

	if (pqueue_list(stdout, format, why) < 0) {
		status = pq_errno_status(errno);
		msg_error("%s", sbuf_str(why));
	}
	sbuf_free(&why);
	return status;
}

/*
 * Loads the configuration of dir and enters its queue directory; exits
 * when it cannot, with a word about who may use the queue.
 */
static void
pq_enter_queue(const char *dir, bool changes)
{
	struct sbuf *why = sbuf_new();
	struct params *p;
	struct stat st;

	if (stat(dir, &st) < 0)
		msg_fatal_status(EX_CONFIG, "configuration directory %s: %m",
		    dir);
	if (!S_ISDIR(st.st_mode))
		msg_fatal_status(EX_CONFIG, "configuration directory %s: "
		    "not a directory", dir);
	if ((p = params_load(dir, NULL, why)) == NULL)
		msg_fatal_status(EX_CONFIG, "%s", sbuf_str(why));
	if (chdir(p->queue_directory) < 0)
		msg_fatal_status(pq_errno_status(errno) == EX_NOPERM ?
		    EX_NOPERM : EX_CONFIG, "queue directory %s: %m",
		    p->queue_directory);
	if (access("incoming", changes ? R_OK | W_OK | X_OK :
	    R_OK | X_OK) < 0) {
		if (errno == EACCES)
			msg_fatal_status(EX_NOPERM, "no permission to %s the "
			    "queue %s: only root and %s may",
			    changes ? "change" : "read", p->queue_directory,
			    p->mail_owner);
		msg_fatal_status(EX_CONFIG, "queue directory %s/incoming: %m",
		    p->queue_directory);
	}
	msg_debug("queue directory %s", p->queue_directory);
	params_free(&p);
	sbuf_free(&why);
}

/* Records the action of an option; only one kind per command line. */
static void
pq_set_action(enum pq_action *action, enum pq_action a)
{
	if (*action != PQ_NONE && *action != a) {
		msg_error("one kind of operation at a time");
		pq_usage();
	}
	*action = a;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "delete-sender", required_argument, NULL,
		    PQ_OPT_DELETE_SENDER },
		{ "delete-recipient", required_argument, NULL,
		    PQ_OPT_DELETE_RCPT },
		{ NULL, 0, NULL, 0 }
	};
	enum pq_action action = PQ_NONE;
	const char *dir = NULL;
	char **args = xcalloc((size_t)argc + 1, sizeof(*args));
	int ch, count = 0, status;

	msg_init("postern-queue", MSG_TO_SYSLOG | MSG_TO_STDERR | MSG_BRIEF);
	while ((ch = getopt_long(argc, argv, "c:d:fh:H:i:jpr:s:v", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			dir = optarg;
			continue;
		case 'v':
			msg_verbose++;
			continue;
		case 'p':
			pq_set_action(&action, PQ_LIST);
			continue;
		case 'j':
			pq_set_action(&action, PQ_JSON);
			continue;
		case 'f':
			pq_set_action(&action, PQ_FLUSH);
			continue;
		case 'i':
			pq_set_action(&action, PQ_FLUSH_ONE);
			break;
		case 'd':
			pq_set_action(&action, PQ_DELETE);
			break;
		case PQ_OPT_DELETE_SENDER:
			pq_set_action(&action, PQ_DELETE_SENDER);
			break;
		case PQ_OPT_DELETE_RCPT:
			pq_set_action(&action, PQ_DELETE_RCPT);
			break;
		case 'h':
			pq_set_action(&action, PQ_HOLD);
			break;
		case 'H':
			pq_set_action(&action, PQ_RELEASE);
			break;
		case 'r':
			pq_set_action(&action, PQ_REQUEUE);
			break;
		case 's':
			pq_set_action(&action, PQ_SHOW);
			break;
		default:
			pq_usage();
		}
		args[count++] = optarg;
	}
	if (optind != argc || action == PQ_NONE ||
	    ((action == PQ_SHOW || action == PQ_DELETE_SENDER ||
	    action == PQ_DELETE_RCPT) && count != 1))
		pq_usage();
	if (dir == NULL && (dir = getenv("MAIL_CONFIG")) == NULL)
		dir = DEF_CONFIG_DIR;
	pq_enter_queue(dir, action != PQ_LIST && action != PQ_JSON &&
	    action != PQ_SHOW && action != PQ_FLUSH);
	switch (action) {
	case PQ_LIST:
		status = pq_list(PQUEUE_TEXT);
		break;
	case PQ_JSON:
		status = pq_list(PQUEUE_JSON);
		break;
	case PQ_FLUSH:
		status = pq_flush();
		break;
	case PQ_SHOW:
		status = pq_show(args[0]);
		break;
	case PQ_DELETE_SENDER:
	case PQ_DELETE_RCPT:
		status = pq_delete_matching(action, args[0]);
		break;
	default:
		status = pq_change(action, args, count);
		break;
	}
	free(args);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		msg_error("write standard output: %m");
		status = EX_IOERR;
	}
	return status;
}
