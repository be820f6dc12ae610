/*
 * qmgr - the queue manager daemon
 *
 * One SERVER_EVENT process, run by master as mail_owner, with the queue
 * directory as its working directory. Wake-ups: MASTER_TRIGGER_WAKEUP
 * (new mail in incoming/; master also sends one every wakeup seconds of
 * its master.cf line) and MASTER_TRIGGER_FLUSH (postern flush: try the
 * deferred mail now). What it does with them is in qmgr.h and the
 * headers of its modules.
 *
 * Errors: a queue directory or table that cannot be used at start is
 * fatal (master restarts qmgr with back-off); trouble with one message or
 * one agent is logged with the queue id and never stops the others.
 * Trust: queue files are written by Postern's writers and checked by the
 * reader; wake-up bytes other than the two above are ignored.
 */
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>

#include "qmgr.h"
#include "qmgr_deliver.h"
#include "qmgr_message.h"
#include "qmgr_queue.h"
#include "qmgr_sched.h"
#include "mail/master_proto.h"
#include "mail/params.h"
#include "mail/resolve.h"
#include "mail/server.h"
#include "util/msg.h"
#include "util/sbuf.h"

/* Descriptors kept for agents' sockets, logs and tables. */
#define QMGR_FD_RESERVE	1024

double
qmgr_now(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/*
 * Each message in memory holds its queue file open: raises the soft
 * descriptor limit to the hard one, and keeps the active limit below
 * what it allows.
 */
static long
qmgr_active_limit(const struct params *p)
{
	struct rlimit rl;
	long limit = p->qmgr_message_active_limit, room;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return limit;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	room = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1L << 30 ?
	    1L << 30 : (long)rl.rlim_cur;
	room = room > 2 * QMGR_FD_RESERVE ? room - QMGR_FD_RESERVE : room / 2;
	if (limit > room) {
		msg_info("qmgr_message_active_limit %ld is more than the "
		    "descriptor limit allows; using %ld", limit, room);
		limit = room;
	}
	return limit > 0 ? limit : 1;
}

static void
qmgr_init(const struct params *p)
{
	struct sbuf *why = sbuf_new();
	struct resolver *r;

	if (chdir(p->queue_directory) < 0)
		msg_fatal("chdir %s: %m", p->queue_directory);
	if ((r = resolver_open(p, why)) == NULL)
		msg_fatal("%s", sbuf_str(why));
	qmgr_deliver_init(p);
	qmgr_sched_init(p);
	qmgr_message_init(p, r);
	qmgr_queue_init(p, qmgr_active_limit(p));
	sbuf_free(&why);
}

static void
qmgr_trigger(int command)
{
	switch (command) {
	case MASTER_TRIGGER_WAKEUP:
		qmgr_queue_wakeup();
		break;
	case MASTER_TRIGGER_FLUSH:
		qmgr_queue_flush();
		break;
	}
}

int
main(int argc, char **argv)
{
	static const struct server_def def = {
		.name = "qmgr",
		.kind = SERVER_EVENT,
		.init = qmgr_init,
		.trigger = qmgr_trigger,
	};

	server_main(argc, argv, &def);
}
