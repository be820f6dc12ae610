/*
 * smtpd - the SMTP server (RFC 5321): receives mail into the queue
 *
 * One process serves one client at a time (SERVER_SINGLE); master keeps
 * a pool of them. Before privileges are dropped the TLS key is loaded;
 * after, the lookup tables are opened and the network lists parsed, once
 * per process. Each client is then a session (smtpd_session.h), whose
 * accepted messages go into queue files in incoming/ (smtpd_txn.h) and
 * wake qmgr.
 *
 * Errors: a configuration that cannot be used (a bad network list or TLS
 * level, a table that does not open) is fatal at start: master logs it
 * and restarts the service with back-off. Clients never make the
 * process exit.
 * Trust: runs unprivileged; everything from the client is hostile.
 */
#include <stdint.h>

#include "mail/params.h"
#include "mail/resolve.h"
#include "mail/server.h"
#include "smtpd_relay.h"
#include "smtpd_session.h"
#include "smtpd_tls.h"
#include "util/cidr.h"
#include "util/msg.h"
#include "util/sbuf.h"

static struct smtpd_config smtpd_cfg;

/* Before the skeleton drops privileges (if it has any to drop). */
static void
smtpd_pre_drop(const struct params *p)
{
	struct sbuf *why = sbuf_new();

	smtpd_cfg.p = p;
	if (smtpd_tls_setup(&smtpd_cfg, why) < 0)
		msg_fatal("%s", sbuf_str(why));
	sbuf_free(&why);
}

static void
smtpd_init(const struct params *p)
{
	struct sbuf *why = sbuf_new();

	if ((smtpd_cfg.resolver = resolver_open(p, why)) == NULL)
		msg_fatal("%s", sbuf_str(why));
	if ((smtpd_cfg.mynetworks = cidr_list_new(p->mynetworks,
	    why)) == NULL)
		msg_fatal("mynetworks: %s", sbuf_str(why));
	if ((smtpd_cfg.limit_exceptions = cidr_list_new(
	    p->smtpd_client_event_limit_exceptions, why)) == NULL)
		msg_fatal("smtpd_client_event_limit_exceptions: %s",
		    sbuf_str(why));
	smtpd_cfg.relay = smtpd_relay_new(p->smtpd_relay_restrictions);
	smtpd_cfg.size_limit = p->message_size_limit == 0 ||
	    p->message_size_limit > SIZE_MAX ? SIZE_MAX :
	    (size_t)p->message_size_limit;
	sbuf_setf(why, "%s/public/qmgr", p->queue_directory);
	smtpd_cfg.qmgr_trigger = sbuf_steal(why);
	sbuf_free(&why);
}

static void
smtpd_serve(struct server_client *client)
{
	smtpd_session_run(&smtpd_cfg, client->stream, client->service,
	    client->addr);
}

int
main(int argc, char **argv)
{
	static const struct server_def def = {
		.name = "smtpd",
		.kind = SERVER_SINGLE,
		.pre_drop = smtpd_pre_drop,
		.init = smtpd_init,
		.serve = smtpd_serve,
	};

	server_main(argc, argv, &def);
}
