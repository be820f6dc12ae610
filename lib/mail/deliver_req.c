/*
 * deliver_req - the request qmgr sends a delivery agent, and its reply
 *
 * Errors: a frame that breaks the format is refused with a reason; the
 * caller drops the peer. Trust: both sides are Postern daemons, but a
 * request names a file the agent opens, so its path is checked here.
 */
#include "mail/deliver_req.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/attr.h"
#include "util/sbuf.h"
#include "util/strutil.h"
#include "util/xmalloc.h"

#define DELIVER_NAME_MAX	32	/* "reason_499" and the like */

static const char *const deliver_status_names[] = {
	[DELIVER_SENT] = "sent",
	[DELIVER_DEFERRED] = "deferred",
	[DELIVER_BOUNCED] = "bounced",
};

const char *
deliver_status_name(enum deliver_status status)
{
	return deliver_status_names[status];
}

/* The class digit a dsn must start with for status. */
static char
deliver_class(enum deliver_status status)
{
	return status == DELIVER_SENT ? '2' :
	    status == DELIVER_DEFERRED ? '4' : '5';
}

/* True when dsn is "X.Y.Z" (RFC 3463: 1-3 digits, 1-3 digits) of class. */
static bool
deliver_dsn_ok(const char *dsn, char class)
{
	size_t digits = 0, dots = 0;

	if (dsn == NULL || dsn[0] != class || dsn[1] != '.')
		return false;
	for (const char *p = dsn + 2; *p != '\0'; p++) {
		if (*p == '.') {
			if (digits == 0 || ++dots > 1)
				return false;
			digits = 0;
		} else if (*p >= '0' && *p <= '9') {
			if (++digits > 3)
				return false;
		} else {
			return false;
		}
	}
	return dots == 1 && digits > 0;
}

/* "name_I" in buf. */
static const char *
deliver_name(char *buf, const char *name, size_t i)
{
	snprintf(buf, DELIVER_NAME_MAX, "%s_%zu", name, i);
	return buf;
}

/* A required text record of list, copied; NULL with a reason. */
static char *
deliver_get_text(const struct attr_list *list, const char *name,
    bool may_be_empty, struct sbuf *why)
{
	const char *v = attr_get_str(list, name);

	if (v == NULL || (!may_be_empty && *v == '\0') || str_has_ctl(v)) {
		sbuf_setf(why, "record %s %s", name,
		    v == NULL ? "missing" : "malformed");
		return NULL;
	}
	return xstrdup(v);
}

/* The rcpt_count record, 1 to DELIVER_RCPT_MAX; -1 with a reason. */
static int
deliver_get_count(const struct attr_list *list, size_t *count_r,
    struct sbuf *why)
{
	long n;

	if (attr_get_long(list, "rcpt_count", 1, DELIVER_RCPT_MAX, &n,
	    why) < 0)
		return -1;
	*count_r = (size_t)n;
	return 0;
}

/* True when path is "DIR/NAME": two plain non-dot components. */
static bool
deliver_path_ok(const char *path)
{
	const char *slash = strchr(path, '/');

	return slash != NULL && slash != path && slash[1] != '\0' &&
	    strchr(slash + 1, '/') == NULL && path[0] != '.' &&
	    slash[1] != '.';
}

int
deliver_request_encode(const struct deliver_request *req,
    struct sbuf *frame, struct sbuf *why)
{
	char name[DELIVER_NAME_MAX];
	struct attr_writer w;

	if (req->rcpt_count == 0 || req->rcpt_count > DELIVER_RCPT_MAX) {
		sbuf_setf(why, "delivery request for %zu recipients",
		    req->rcpt_count);
		return -1;
	}
	attr_begin(&w, frame);
	attr_put_str(&w, "queue_id", req->queue_id);
	attr_put_str(&w, "queue_file", req->queue_file);
	attr_put_str(&w, "transport", req->transport);
	attr_put_str(&w, "nexthop", req->nexthop);
	attr_put_long(&w, "rcpt_count", (long)req->rcpt_count);
	for (size_t i = 0; i < req->rcpt_count; i++)
		attr_put_long(&w, deliver_name(name, "rcpt", i),
		    (long)req->rcpts[i]);
	return attr_end(&w, why);
}

int
deliver_request_decode(const struct attr_list *list,
    struct deliver_request **req_r, struct sbuf *why)
{
	struct deliver_request *req = xcalloc(1, sizeof(*req));
	char name[DELIVER_NAME_MAX];
	long idx;

	if ((req->queue_id = deliver_get_text(list, "queue_id", false,
	    why)) == NULL ||
	    (req->queue_file = deliver_get_text(list, "queue_file", false,
	    why)) == NULL ||
	    (req->transport = deliver_get_text(list, "transport", false,
	    why)) == NULL ||
	    (req->nexthop = deliver_get_text(list, "nexthop", true,
	    why)) == NULL ||
	    deliver_get_count(list, &req->rcpt_count, why) < 0)
		goto bad;
	if (!deliver_path_ok(req->queue_file)) {
		sbuf_setf(why, "record queue_file malformed");
		goto bad;
	}
	req->rcpts = xcalloc(req->rcpt_count, sizeof(*req->rcpts));
	for (size_t i = 0; i < req->rcpt_count; i++) {
		if (attr_get_long(list, deliver_name(name, "rcpt", i), 0,
		    100000000, &idx, why) < 0)
			goto bad;
		for (size_t j = 0; j < i; j++)
			if (req->rcpts[j] == (size_t)idx) {
				sbuf_setf(why, "recipient %ld repeated", idx);
				goto bad;
			}
		req->rcpts[i] = (size_t)idx;
	}
	*req_r = req;
	return 0;
bad:
	deliver_request_free(&req);
	return -1;
}

void
deliver_request_free(struct deliver_request **req)
{
	if (*req == NULL)
		return;
	free((*req)->queue_id);
	free((*req)->queue_file);
	free((*req)->transport);
	free((*req)->nexthop);
	free((*req)->rcpts);
	free(*req);
	*req = NULL;
}

/* Frees the strings of res. */
static void
deliver_result_clear(struct deliver_result *res)
{
	free(res->dsn);
	free(res->reason);
	free(res->relay);
	free(res->diag);
	free(res->mta);
	memset(res, 0, sizeof(*res));
}

void
deliver_result_set(struct deliver_result *res, size_t rcpt,
    enum deliver_status status, const char *dsn, const char *reason,
    const char *relay, const char *diag, const char *mta)
{
	char class = deliver_class(status);
	char fallback[] = "X.0.0";

	deliver_result_clear(res);
	fallback[0] = class;
	res->rcpt = rcpt;
	res->status = status;
	res->dsn = xstrdup(deliver_dsn_ok(dsn, class) ? dsn : fallback);
	res->reason = xstrdup(reason != NULL ? reason : "");
	res->relay = xstrdup(relay != NULL ? relay : "none");
	res->diag = diag != NULL ? xstrdup(diag) : NULL;
	res->mta = mta != NULL ? xstrdup(mta) : NULL;
}

struct deliver_reply *
deliver_reply_new(size_t count)
{
	struct deliver_reply *reply = xcalloc(1, sizeof(*reply));

	reply->count = count;
	reply->results = xcalloc(count > 0 ? count : 1,
	    sizeof(*reply->results));
	return reply;
}

int
deliver_reply_encode(const struct deliver_reply *reply, struct sbuf *frame,
    struct sbuf *why)
{
	char name[DELIVER_NAME_MAX];
	struct attr_writer w;

	if (reply->count == 0 || reply->count > DELIVER_RCPT_MAX) {
		sbuf_setf(why, "delivery reply for %zu recipients",
		    reply->count);
		return -1;
	}
	attr_begin(&w, frame);
	attr_put_long(&w, "rcpt_count", (long)reply->count);
	for (size_t i = 0; i < reply->count; i++) {
		const struct deliver_result *res = &reply->results[i];

		if (res->dsn == NULL) {
			sbuf_setf(why, "delivery reply: result %zu not set",
			    i);
			return -1;
		}
		attr_put_long(&w, deliver_name(name, "rcpt", i),
		    (long)res->rcpt);
		attr_put_str(&w, deliver_name(name, "status", i),
		    deliver_status_name(res->status));
		attr_put_str(&w, deliver_name(name, "dsn", i), res->dsn);
		attr_put_str(&w, deliver_name(name, "reason", i),
		    res->reason);
		attr_put_str(&w, deliver_name(name, "relay", i), res->relay);
		if (res->diag != NULL)
			attr_put_str(&w, deliver_name(name, "diag", i),
			    res->diag);
		if (res->mta != NULL)
			attr_put_str(&w, deliver_name(name, "mta", i),
			    res->mta);
	}
	return attr_end(&w, why);
}

/* The status record value; -1 when it is none of the names. */
static int
deliver_status_parse(const char *v)
{
	for (size_t i = 0; i < sizeof(deliver_status_names) /
	    sizeof(deliver_status_names[0]); i++)
		if (v != NULL && strcmp(v, deliver_status_names[i]) == 0)
			return (int)i;
	return -1;
}

/* Decodes result i of list into res; -1 with a reason. */
static int
deliver_result_decode(const struct attr_list *list, size_t i,
    struct deliver_result *res, struct sbuf *why)
{
	char name[DELIVER_NAME_MAX];
	long idx;
	int st;

	if (attr_get_long(list, deliver_name(name, "rcpt", i), 0, 100000000,
	    &idx, why) < 0)
		return -1;
	res->rcpt = (size_t)idx;
	if ((st = deliver_status_parse(attr_get_str(list,
	    deliver_name(name, "status", i)))) < 0) {
		sbuf_setf(why, "record %s missing or malformed", name);
		return -1;
	}
	res->status = (enum deliver_status)st;
	if ((res->dsn = deliver_get_text(list, deliver_name(name, "dsn", i),
	    false, why)) == NULL ||
	    (res->reason = deliver_get_text(list,
	    deliver_name(name, "reason", i), true, why)) == NULL ||
	    (res->relay = deliver_get_text(list,
	    deliver_name(name, "relay", i), false, why)) == NULL)
		return -1;
	if (!deliver_dsn_ok(res->dsn, deliver_class(res->status))) {
		sbuf_setf(why, "dsn_%zu \"%s\" does not agree with status %s",
		    i, res->dsn, deliver_status_name(res->status));
		return -1;
	}
	if (attr_get_str(list, deliver_name(name, "diag", i)) != NULL &&
	    (res->diag = deliver_get_text(list, name, false, why)) == NULL)
		return -1;
	if (attr_get_str(list, deliver_name(name, "mta", i)) != NULL &&
	    (res->mta = deliver_get_text(list, name, false, why)) == NULL)
		return -1;
	return 0;
}

int
deliver_reply_decode(const struct attr_list *list,
    struct deliver_reply **reply_r, struct sbuf *why)
{
	struct deliver_reply *reply;
	size_t count;

	if (deliver_get_count(list, &count, why) < 0)
		return -1;
	reply = deliver_reply_new(count);
	for (size_t i = 0; i < count; i++)
		if (deliver_result_decode(list, i, &reply->results[i],
		    why) < 0) {
			deliver_reply_free(&reply);
			return -1;
		}
	*reply_r = reply;
	return 0;
}

void
deliver_reply_free(struct deliver_reply **reply)
{
	if (*reply == NULL)
		return;
	for (size_t i = 0; i < (*reply)->count; i++)
		deliver_result_clear(&(*reply)->results[i]);
	free((*reply)->results);
	free(*reply);
	*reply = NULL;
}
