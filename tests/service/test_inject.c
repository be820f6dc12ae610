/*
 * test_inject - writes a queue file for the integration tests of qmgr
 *
 *	test-inject [-f sender] [-r FULL|HDRS] [-e envid] queue_dir rcpt...
 *
 * The message content is read from stdin; each rcpt is
 * "address[/NOTIFY[/ORCPT]]" with NOTIFY a comma-separated list of
 * SUCCESS, FAILURE, DELAY, NEVER (or empty). The file is committed into
 * queue_dir/incoming/ with queue_writer, its queue id printed on stdout,
 * and qmgr woken up through public/qmgr when it listens. Exit codes as
 * sysexits.h says. Never installed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "mail/master_proto.h"
#include "mail/queue_file.h"
#include "util/msg.h"
#include "util/sbuf.h"
#include "util/strutil.h"
#include "util/unix_sock.h"
#include "util/xmalloc.h"

static void __attribute__((noreturn))
inject_usage(void)
{
	msg_fatal_status(EX_USAGE, "usage: test-inject [-f sender] "
	    "[-r FULL|HDRS] [-e envid] queue_dir address[/NOTIFY[/ORCPT]]...");
}

/* Parses a NOTIFY list; -1 on an unknown keyword. */
static int
inject_notify(char *list)
{
	int bits = 0;
	char *tok;

	while ((tok = str_token(&list, ",")) != NULL) {
		if (strcmp(tok, "SUCCESS") == 0)
			bits |= QUEUE_NOTIFY_SUCCESS;
		else if (strcmp(tok, "FAILURE") == 0)
			bits |= QUEUE_NOTIFY_FAILURE;
		else if (strcmp(tok, "DELAY") == 0)
			bits |= QUEUE_NOTIFY_DELAY;
		else if (strcmp(tok, "NEVER") == 0)
			bits |= QUEUE_NOTIFY_NEVER;
		else
			return -1;
	}
	return bits;
}

int
main(int argc, char **argv)
{
	struct queue_envelope env = {
		.sender = "", .proto = QUEUE_PROTO_LOCAL,
	};
	struct queue_writer *w = NULL;
	struct sbuf *why = sbuf_new(), *id = sbuf_new(), *path = sbuf_new();
	char buf[8192];
	size_t n;
	int c;

	msg_init("test-inject", MSG_TO_STDERR | MSG_BRIEF);
	while ((c = getopt(argc, argv, "f:r:e:")) != -1) {
		switch (c) {
		case 'f':
			env.sender = optarg;
			break;
		case 'r':
			if (strcmp(optarg, "FULL") == 0)
				env.ret = QUEUE_RET_FULL;
			else if (strcmp(optarg, "HDRS") == 0)
				env.ret = QUEUE_RET_HDRS;
			else
				inject_usage();
			break;
		case 'e':
			env.envid = optarg;
			break;
		default:
			inject_usage();
		}
	}
	if (argc - optind < 2)
		inject_usage();
	if (queue_writer_open(argv[optind], &w, why) != QUEUE_WRITE_OK ||
	    queue_writer_envelope(w, &env, why) < 0)
		msg_fatal_status(EX_TEMPFAIL, "%s", sbuf_str(why));
	for (int i = optind + 1; i < argc; i++) {
		struct queue_rcpt r = { 0 };
		char *spec = xstrdup(argv[i]), *slash;

		r.address = spec;
		if ((slash = strchr(spec, '/')) != NULL) {
			*slash++ = '\0';
			if ((r.orcpt = strchr(slash, '/')) != NULL)
				*(char *)r.orcpt++ = '\0';
			if ((r.notify = inject_notify(slash)) < 0)
				inject_usage();
		}
		if (queue_writer_add_rcpt(w, &r, why) < 0)
			msg_fatal_status(EX_DATAERR, "%s", sbuf_str(why));
		free(spec);
	}
	while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
		if (queue_writer_write(w, buf, n, why) != QUEUE_WRITE_OK)
			msg_fatal_status(EX_TEMPFAIL, "%s", sbuf_str(why));
	sbuf_set(id, queue_writer_id(w));
	if (queue_writer_commit(&w, why) != QUEUE_WRITE_OK)
		msg_fatal_status(EX_TEMPFAIL, "%s", sbuf_str(why));
	printf("%s\n", sbuf_str(id));
	sbuf_printf(path, "%s/public/qmgr", argv[optind]);
	trigger_send(sbuf_str(path), MASTER_TRIGGER_WAKEUP, why);
	sbuf_free(&why);
	sbuf_free(&id);
	sbuf_free(&path);
	return fflush(stdout) == 0 ? EX_OK : EX_IOERR;
}
