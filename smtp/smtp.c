/*
 * smtp - the SMTP client: delivers queued mail to remote servers
 *
 * Serves qmgr on private/smtp, one request per connection: reads the
 * delivery request (deliver_req.h), opens the queue file it names,
 * finds the addresses of the request's next hop (smtp_route.h), and
 * tries them in order until every recipient has a result: a session
 * (smtp_session.h) under the TLS policy of the next hop (smtp_tls.h;
 * with smtp_tls_mta_sts, the domain's MTA-STS policy: smtp_sts.h)
 * carries one transaction (smtp_trans.h). A recipient the remote took is
 * marked done in the queue file before the reply to qmgr; one refused
 * with 4xx or 5xx is deferred or bounced; when a server is unreachable,
 * says 421, drops the connection or stalls, the recipients left go to the
 * next address, and are deferred with the last reason once none is left.
 * qmgr logs the status lines from the reply; smtp logs the connections,
 * TLS and failures of single addresses. A healthy session is kept for
 * the next request to the same next hop (smtp_cache.h).
 *
 * Errors: a malformed request drops the connection (logged); a queue file
 * that cannot be opened or does not match defers every recipient; a
 * recipient index out of range or already done is refused (deferred
 * 4.3.0) and never sent. Trust: qmgr is trusted but checked; remote
 * servers and DNS are not.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mail/deliver_agent.h"
#include "mail/deliver_req.h"
#include "mail/dns.h"
#include "mail/maps.h"
#include "mail/params.h"
#include "mail/queue_file.h"
#include "mail/server.h"
#include "smtp_cache.h"
#include "smtp_route.h"
#include "smtp_session.h"
#include "smtp_sts.h"
#include "smtp_tls.h"
#include "smtp_trans.h"
#include "util/msg.h"
#include "util/sbuf.h"
#include "util/stream.h"
#include "util/strutil.h"
#include "util/tls.h"
#include "util/xmalloc.h"

/* relay_I when no server was reached. */
#define SMTP_NO_RELAY	"none"

static struct smtp_env smtp_env;
static struct maps *smtp_policy_maps;
static enum smtp_tls_level smtp_default_level;
static struct smtp_families smtp_families;

static void
smtp_init(const struct params *p)
{
	struct sbuf *why = sbuf_new();

	smtp_env.p = p;
	if ((smtp_env.dns = dns_open(p->smtp_dns_resolver_address,
	    why)) == NULL)
		msg_fatal("smtp_dns_resolver_address: %s", sbuf_str(why));
	if (smtp_families_parse(p->inet_protocols, p->smtp_address_preference,
	    &smtp_families, why) < 0)
		msg_fatal("%s", sbuf_str(why));
	if (smtp_tls_level_parse(p->smtp_tls_security_level,
	    &smtp_default_level) < 0)
		msg_fatal("smtp_tls_security_level: unknown level \"%s\"",
		    p->smtp_tls_security_level);
	if ((smtp_policy_maps = maps_open(p->smtp_tls_policy_maps, 0,
	    why)) == NULL)
		msg_fatal("smtp_tls_policy_maps: %s", sbuf_str(why));
	if ((smtp_env.tls_ctx = tls_client_ctx_new(*p->smtp_tls_CAfile ?
	    p->smtp_tls_CAfile : NULL, NULL, why)) == NULL)
		msg_warn("TLS client context: %s: STARTTLS is not used",
		    sbuf_str(why));
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	smtp_cache_init();
	sbuf_free(&why);
}

/* Decides every recipient still undecided with no server involved. */
static void
smtp_decide_rest(struct smtp_job *job, enum deliver_status status,
    const char *dsn, const char *reason, const char *relay)
{
	for (size_t i = 0; i < job->req->rcpt_count; i++) {
		if (job->decided[i])
			continue;
		deliver_result_set(&job->reply->results[i], job->req->rcpts[i],
		    status, dsn, reason, relay, NULL, NULL);
		job->decided[i] = true;
		job->undecided--;
	}
}

/* Refuses recipients the request should not have named; scans content. */
static int
smtp_job_check(struct smtp_job *job, struct sbuf *why)
{
	struct queue_file *qf = job->qf;
	char buf[8192];
	off_t pos = 0;
	ssize_t n;

	for (size_t i = 0; i < job->req->rcpt_count; i++) {
		size_t index = job->req->rcpts[i];

		if (index < qf->rcpt_count && !qf->rcpts[index].done)
			continue;
		msg_warn("%s: request names recipient %zu, which is %s: "
		    "refused", job->req->queue_id, index,
		    index < qf->rcpt_count ? "already done" : "not there");
		deliver_result_set(&job->reply->results[i], index,
		    DELIVER_DEFERRED, "4.3.0", "recipient is not pending",
		    SMTP_NO_RELAY, NULL, NULL);
		job->decided[i] = true;
		job->undecided--;
	}
	smtp_content_scan_init(&job->scan);
	while ((n = queue_file_read(qf, pos, buf, sizeof(buf), why)) > 0) {
		smtp_content_scan(&job->scan, buf, (size_t)n);
		pos += n;
	}
	if (!job->scan.ends_with_lf)
		job->scan.wire_size += 2;
	return n < 0 ? -1 : 0;
}

/* Runs the job over s; false (s closed) when the session broke. */
static bool
smtp_job_over(struct smtp_job *job, struct smtp_session **sp,
    struct sbuf *last, struct sbuf *last_dsn)
{
	if (smtp_trans_run(&smtp_env, *sp, job, last) == 0)
		return true;
	msg_info("%s: %s", job->req->queue_id, sbuf_str(last));
	sbuf_set(last_dsn, "4.4.2");
	smtp_session_close(&smtp_env, sp, false);
	return false;
}

/*
 * Whether MTA-STS may decide nh's TLS: a domain (MX lookup) whose level
 * is not dane and not set by smtp_tls_policy_maps (a table's entry gives
 * the same level whatever the default).
 */
static bool
smtp_sts_applies(const struct smtp_nexthop *nh, const char *nexthop,
    enum smtp_tls_level level)
{
	enum smtp_tls_level low, high;
	struct sbuf *why;
	bool listed;

	if (!smtp_env.p->smtp_tls_mta_sts || !nh->mx ||
	    level == SMTP_TLS_DANE)
		return false;
	why = sbuf_new();
	listed = smtp_tls_policy(smtp_policy_maps, nexthop, nh->host,
	    SMTP_TLS_NONE, &low, why) == 0 && smtp_tls_policy(
	    smtp_policy_maps, nexthop, nh->host, SMTP_TLS_DANE, &high,
	    why) == 0 && low == high;
	sbuf_free(&why);
	return !listed;
}

/*
 * Whether host may be used under sts (NULL: no policy). Under testing,
 * what enforce would refuse is logged and the host used.
 */
static bool
smtp_sts_allows(const struct smtp_sts_policy *sts, const char *domain,
    const struct smtp_host *host, const char *qid)
{
	if (sts == NULL || sts->mode == SMTP_STS_NONE ||
	    smtp_sts_mx_match(sts, host->name))
		return true;
	msg_info("%s: MTA-STS policy for %s (%s): MX host %s does not match "
	    "the policy%s", qid, domain, smtp_sts_mode_name(sts->mode),
	    host->name, sts->mode == SMTP_STS_TESTING ?
	    "; enforce would refuse it" : ": skipped");
	return sts->mode != SMTP_STS_ENFORCE;
}

/* Under testing, logs when the session's TLS would fail enforce. */
static void
smtp_sts_check_tls(const struct smtp_sts_policy *sts, const char *domain,
    const struct smtp_session *s, const char *qid)
{
	const struct tls_info *info;

	if (sts == NULL || sts->mode != SMTP_STS_TESTING)
		return;
	info = s->tls != NULL ? stream_tls_info(s->stream) : NULL;
	if (info == NULL || !info->verified)
		msg_info("%s: MTA-STS policy for %s (testing): TLS to %s is "
		    "%s; enforce would refuse it", qid, domain, s->label,
		    info == NULL ? "not used" : "not verified");
}

/*
 * Whether a cached session may carry mail under sts: under enforce, only
 * one to a matching MX host over verified TLS.
 */
static bool
smtp_sts_reusable(const struct smtp_sts_policy *sts,
    const struct smtp_session *s)
{
	const struct tls_info *info;

	if (sts == NULL || sts->mode != SMTP_STS_ENFORCE)
		return true;
	info = s->tls != NULL ? stream_tls_info(s->stream) : NULL;
	return info != NULL && info->verified &&
	    smtp_sts_mx_match(sts, s->name);
}

/* Names the enforced MTA-STS policy in front of a TLS failure's reason. */
static void
smtp_sts_reason(struct sbuf *why, const char *domain)
{
	char *reason = xstrdup(sbuf_str(why));

	sbuf_setf(why, "MTA-STS policy for %s (enforce): %s", domain, reason);
	free(reason);
}

/* Tries the addresses of the next hop; the session left healthy, or NULL. */
static struct smtp_session *
smtp_job_route(struct smtp_job *job, const struct smtp_nexthop *nh,
    enum smtp_tls_level level, const struct smtp_sts_policy *sts,
    struct sbuf *last, struct sbuf *last_dsn)
{
	bool sts_enforce = sts != NULL && sts->mode == SMTP_STS_ENFORCE;
	size_t allowed = 0;
	const char *qid = job->req->queue_id;
	struct smtp_host_list hosts;
	struct smtp_session *s = NULL;
	enum smtp_route_status route;

	route = smtp_route_find(smtp_env.dns, nh, &smtp_families,
	    smtp_env.p->myhostname, &hosts, last_dsn, last);
	if (route != SMTP_ROUTE_OK) {
		smtp_decide_rest(job, route == SMTP_ROUTE_BOUNCE ?
		    DELIVER_BOUNCED : DELIVER_DEFERRED, sbuf_str(last_dsn),
		    sbuf_str(last), SMTP_NO_RELAY);
		return NULL;
	}
	for (size_t h = 0; h < hosts.count && job->undecided > 0; h++) {
		enum smtp_open_status st;

		if (!smtp_sts_allows(sts, nh->host, &hosts.hosts[h], qid))
			continue;
		allowed++;
		st = smtp_session_open(&smtp_env, &hosts.hosts[h],
		    job->req->nexthop, level, false, qid, &s, last_dsn, last);
		if (st == SMTP_OPEN_TLS_FAILED) {
			msg_info("%s: %s; trying again in clear text", qid,
			    sbuf_str(last));
			st = smtp_session_open(&smtp_env, &hosts.hosts[h],
			    job->req->nexthop, level, true, qid, &s, last_dsn,
			    last);
		}
		if (st != SMTP_OPEN_OK && sts_enforce &&
		    str_starts(sbuf_str(last_dsn), "4.7."))
			smtp_sts_reason(last, nh->host);
		if (st != SMTP_OPEN_OK) {
			msg_info("%s: %s", qid, sbuf_str(last));
			s = NULL;
			continue;
		}
		msg_info("%s: connected to %s (%s)", qid, s->label,
		    s->tls != NULL ? s->tls : "clear text");
		smtp_sts_check_tls(sts, nh->host, s, qid);
		if (!smtp_job_over(job, &s, last, last_dsn))
			continue;
		break;
	}
	if (sts_enforce && allowed == 0) {
		sbuf_set(last_dsn, "4.7.5");
		sbuf_setf(last, "MTA-STS policy for %s: no MX host matches "
		    "the policy", nh->host);
	}
	smtp_host_list_clear(&hosts);
	return s;
}

/* Delivers what req asks and fills reply. */
static void
smtp_deliver(const struct deliver_request *req, struct deliver_reply *reply)
{
	const struct params *p = smtp_env.p;
	struct sbuf *why = sbuf_new(), *dsn = sbuf_new(), *path = sbuf_new();
	struct smtp_job job = {
		.req = req,
		.reply = reply,
		.decided = xcalloc(req->rcpt_count, sizeof(bool)),
		.undecided = req->rcpt_count,
	};
	struct smtp_nexthop nh = { 0 };
	struct smtp_session *s = NULL;
	enum smtp_tls_level level;
	const struct smtp_sts_policy *sts = NULL;

	sbuf_set(dsn, "4.4.1");
	sbuf_printf(path, "%s/%s", p->queue_directory, req->queue_file);
	if ((job.qf = queue_file_open(sbuf_str(path),
	    QUEUE_OPEN_UPDATE | QUEUE_OPEN_LOCK, why)) == NULL ||
	    job.qf->id == NULL || strcmp(job.qf->id, req->queue_id) != 0 ||
	    smtp_job_check(&job, why) < 0) {
		if (job.qf != NULL && sbuf_len(why) == 0)
			sbuf_setf(why, "queue file %s is not message %s",
			    req->queue_file, req->queue_id);
		msg_warn("%s: %s", req->queue_id, sbuf_str(why));
		smtp_decide_rest(&job, DELIVER_DEFERRED, "4.3.0",
		    sbuf_str(why), SMTP_NO_RELAY);
		goto done;
	}
	if (smtp_nexthop_parse(req->nexthop, &nh, why) < 0 ||
	    smtp_tls_policy(smtp_policy_maps, req->nexthop, nh.host,
	    smtp_default_level, &level, why) < 0) {
		msg_warn("%s: %s", req->queue_id, sbuf_str(why));
		smtp_decide_rest(&job, DELIVER_DEFERRED, "4.3.5",
		    sbuf_str(why), SMTP_NO_RELAY);
		goto done;
	}
	if (smtp_sts_applies(&nh, req->nexthop, level) &&
	    (sts = smtp_sts_lookup(&smtp_env, nh.host, req->queue_id)) !=
	    NULL && sts->mode == SMTP_STS_ENFORCE)
		level = SMTP_TLS_VERIFY;
	if (job.undecided > 0 &&
	    (s = smtp_cache_take(&smtp_env, req->nexthop)) != NULL &&
	    !smtp_sts_reusable(sts, s))
		smtp_session_close(&smtp_env, &s, true);
	if (s != NULL) {
		msg_info("%s: reusing connection to %s (message %u on it, %s)",
		    req->queue_id, s->label, s->messages + 1,
		    s->tls != NULL ? s->tls : "clear text");
		(void)smtp_job_over(&job, &s, why, dsn);
	}
	if (job.undecided > 0 && s == NULL)
		s = smtp_job_route(&job, &nh, level, sts, why, dsn);
	if (job.undecided > 0)
		smtp_decide_rest(&job, DELIVER_DEFERRED, sbuf_str(dsn),
		    sbuf_str(why), SMTP_NO_RELAY);
	if (s != NULL && smtp_session_reset(&smtp_env, s) == 0)
		smtp_cache_put(&smtp_env, s,
		    p->smtp_connection_cache_time_limit);
	else
		smtp_session_close(&smtp_env, &s, false);
done:
	smtp_nexthop_clear(&nh);
	queue_file_close(&job.qf);
	free(job.decided);
	sbuf_free(&why);
	sbuf_free(&dsn);
	sbuf_free(&path);
}

static void
smtp_serve(struct server_client *client)
{
	deliver_agent_serve(client, smtp_deliver);
}

int
main(int argc, char **argv)
{
	static const struct server_def def = {
		.name = "smtp",
		.kind = SERVER_SINGLE,
		.init = smtp_init,
		.serve = smtp_serve,
	};

	server_main(argc, argv, &def);
}
