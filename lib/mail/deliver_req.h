/*
 * deliver_req - the request qmgr sends a delivery agent, and its reply
 *
 * qmgr connects to the agent's socket in private/ (private/local,
 * private/smtp, ...), sends one request frame naming a queue file and
 * some of its recipients, and reads one reply frame with a result for
 * each of them; then either side closes. Both frames are attr frames
 * (util/attr.h) with these records:
 *
 * request:
 *	queue_id	the message's queue id
 *	queue_file	its path relative to queue_directory ("active/ID")
 *	transport	the master.cf service name the request went to
 *	nexthop		where to: a domain, "[host]:port", or for local
 *			delivery the recipient's domain
 *	rcpt_count	N, 1 to DELIVER_RCPT_MAX
 *	rcpt_I		for I from 0 to N-1: the index of a recipient in
 *			the queue file (its place among the R records,
 *			from 0); distinct, each a pending recipient
 *
 * reply:
 *	rcpt_count	N, as in the request
 *	rcpt_I		the index, in the same order as the request
 *	status_I	"sent", "deferred" or "bounced"
 *	dsn_I		RFC 3463 status code, "2.0.0", "4.4.1", "5.1.1";
 *			its class agrees with status
 *	reason_I	text for the log and the DSN: "delivered to
 *			maildir", "host mx.example[192.0.2.1] said: 550 ..."
 *	relay_I		where it went: "local", "mx.example[192.0.2.1]:25",
 *			"none"
 *	diag_I		optional: the remote server's reply, for an RFC 3464
 *			Diagnostic-Code of type smtp
 *	mta_I		optional: the remote server's name, for
 *			Remote-MTA
 *
 * Who writes what: the agent marks a recipient done in the queue file
 * (queue_file_mark_done()) as soon as it is sent, before it replies, so a
 * crash of qmgr never delivers it again. A deferred or bounced recipient
 * is left pending: qmgr records the reason (defer/ or bounce/) and marks
 * a bounced one done itself. A recipient the reply leaves out, or a reply
 * that never comes, is deferred by qmgr.
 */
#ifndef POSTERN_DELIVER_REQ_H
#define POSTERN_DELIVER_REQ_H

#include <stddef.h>

struct attr_list;
struct sbuf;

#define DELIVER_RCPT_MAX	500	/* recipients in one request */

struct deliver_request {
	char *queue_id;
	char *queue_file;	/* relative to queue_directory */
	char *transport;
	char *nexthop;
	size_t rcpt_count;	/* 1 to DELIVER_RCPT_MAX */
	size_t *rcpts;		/* indexes into the queue file's recipients */
};

enum deliver_status {
	DELIVER_SENT,
	DELIVER_DEFERRED,
	DELIVER_BOUNCED
};

struct deliver_result {
	size_t rcpt;		/* index into the queue file's recipients */
	enum deliver_status status;
	char *dsn;		/* "X.Y.Z", X agreeing with status */
	char *reason;		/* text, never NULL */
	char *relay;		/* text, never NULL */
	char *diag;		/* optional: remote reply; NULL if none */
	char *mta;		/* optional: remote server; NULL if none */
};

struct deliver_reply {
	size_t count;
	struct deliver_result *results;
};

/*
 * Encodes req into frame (an attr frame ready for attr_send()). 0, or -1
 * with a reason (a field missing, a count out of range, frame too big).
 */
int deliver_request_encode(const struct deliver_request *req,
    struct sbuf *frame, struct sbuf *why);
/*
 * Decodes a request frame: 0 and a new request in *req_r, or -1 with a
 * reason (a record missing or malformed, a queue_file that is not
 * "DIR/NAME" without "..", a count out of range, an index repeated).
 */
int deliver_request_decode(const struct attr_list *list,
    struct deliver_request **req_r, struct sbuf *why);
/* Frees *req and sets it to NULL; accepts NULL. */
void deliver_request_free(struct deliver_request **req);

/*
 * Sets results[i] for the request's i-th recipient, copying the strings
 * (diag and mta may be NULL). status and dsn must agree; a dsn that is
 * not "X.Y.Z" with X 2, 4 or 5 as status says is replaced by the default
 * for status (2.0.0, 4.0.0, 5.0.0).
 */
void deliver_result_set(struct deliver_result *res, size_t rcpt,
    enum deliver_status status, const char *dsn, const char *reason,
    const char *relay, const char *diag, const char *mta);
/* A reply with count results, all zero until set; free with _free(). */
struct deliver_reply *deliver_reply_new(size_t count);
/* Encodes reply into frame. 0, or -1 with a reason. */
int deliver_reply_encode(const struct deliver_reply *reply,
    struct sbuf *frame, struct sbuf *why);
/*
 * Decodes a reply frame: 0 and a new reply in *reply_r, or -1 with a
 * reason (a record missing or malformed, a status and dsn that do not
 * agree, a count out of range).
 */
int deliver_reply_decode(const struct attr_list *list,
    struct deliver_reply **reply_r, struct sbuf *why);
/* Frees *reply and sets it to NULL; accepts NULL. */
void deliver_reply_free(struct deliver_reply **reply);

/* "sent", "deferred", "bounced": as in log lines and the reply. */
const char *deliver_status_name(enum deliver_status status);

#endif
