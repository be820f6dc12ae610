/*
 * smtpd_client - who the client is, and whether it may connect now
 *
 * Errors: a name that does not resolve or confirm is "unknown"; anvil
 * trouble is a warning. Neither ends the session.
 * Trust: names from the resolver are untrusted text: one that is not a
 * valid host name is not used.
 */
#include "smtpd_client.h"

#include <limits.h>
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>

#include "mail/addr.h"
#include "mail/anvil_clnt.h"
#include "mail/params.h"
#include "smtpd_reply.h"
#include "smtpd_session.h"
#include "util/cidr.h"
#include "util/msg.h"
#include "util/sbuf.h"
#include "util/xmalloc.h"

/* True when one of name's addresses is addr (numeric, as the server has it). */
static bool
smtpd_client_confirm(const char *name, const char *addr)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
	struct addrinfo *res, *ai;
	char host[NI_MAXHOST];
	bool found = false;

	if (getaddrinfo(name, NULL, &hints, &res) != 0)
		return false;
	for (ai = res; ai != NULL && !found; ai = ai->ai_next)
		found = getnameinfo(ai->ai_addr, ai->ai_addrlen, host,
		    sizeof(host), NULL, 0, NI_NUMERICHOST) == 0 &&
		    strcmp(host, addr) == 0;
	freeaddrinfo(res);
	return found;
}

/* The verified name of addr, malloc'ed, or NULL. */
static char *
smtpd_client_lookup(const char *addr)
{
	struct addrinfo hints = {
		.ai_flags = AI_NUMERICHOST,
		.ai_socktype = SOCK_STREAM
	};
	struct addrinfo *res;
	struct sbuf *why;
	char name[NI_MAXHOST];
	char *verified = NULL;

	if (getaddrinfo(addr, NULL, &hints, &res) != 0)
		return NULL;
	if (getnameinfo(res->ai_addr, res->ai_addrlen, name, sizeof(name),
	    NULL, 0, NI_NAMEREQD) == 0) {
		why = sbuf_new();
		/* A PTR that is an address literal or junk is no name. */
		if (addr_domain_check(name, strlen(name), 0, why) == 0 &&
		    name[0] != '[' && strchr(name, ':') == NULL &&
		    smtpd_client_confirm(name, addr))
			verified = xstrdup(name);
		sbuf_free(&why);
	}
	freeaddrinfo(res);
	return verified;
}

void
smtpd_client_name(struct smtpd_session *s)
{
	struct sbuf *client = sbuf_new();

	if ((s->name = smtpd_client_lookup(s->addr)) == NULL)
		s->name = xstrdup("unknown");
	sbuf_setf(client, "%s[%s]", s->name, s->addr);
	s->client = sbuf_steal(client);
	sbuf_free(&client);
}

/* Turns the client away for passing a limit. */
static int
smtpd_client_refuse(struct smtpd_session *s, const char *what, long value)
{
	msg_warn("connection %s limit exceeded: %ld from %s for service %s",
	    what, value, s->client, s->service);
	smtpd_reply(s, "421 4.7.0 %s Error: too many connections from %s",
	    s->cfg->p->myhostname, s->addr);
	return -1;
}

int
smtpd_client_limits(struct smtpd_session *s, struct anvil_session **anvil_r)
{
	const struct params *p = s->cfg->p;
	long count, rate;
	long wait = p->ipc_timeout < p->smtpd_timeout ? p->ipc_timeout :
	    p->smtpd_timeout;
	long ms = wait > INT_MAX / 1000 ? INT_MAX : wait * 1000;
	struct sbuf *why;

	*anvil_r = NULL;
	if ((p->smtpd_client_connection_count_limit == 0 &&
	    p->smtpd_client_connection_rate_limit == 0) ||
	    cidr_list_match(s->cfg->limit_exceptions, s->addr))
		return 0;
	why = sbuf_new();
	*anvil_r = anvil_connect(p->queue_directory, s->service, s->addr,
	    &count, &rate, ms > 0 ? (int)ms : 1, why);
	if (*anvil_r == NULL)
		msg_warn("connection limits not applied to %s: %s", s->client,
		    sbuf_str(why));
	sbuf_free(&why);
	if (*anvil_r == NULL)
		return 0;
	if (p->smtpd_client_connection_count_limit > 0 &&
	    count > p->smtpd_client_connection_count_limit)
		return smtpd_client_refuse(s, "count", count);
	if (p->smtpd_client_connection_rate_limit > 0 &&
	    rate > p->smtpd_client_connection_rate_limit)
		return smtpd_client_refuse(s, "rate", rate);
	return 0;
}
