/*
 * anvil_clnt - smtpd's side of the anvil service: per-client connection
 * counts and rates; and the request and reply codec anvil uses
 *
 * smtpd reports each client connection to anvil (private/anvil) and keeps
 * that connection to anvil open for the session: anvil counts a client's
 * simultaneous sessions by the open connections, so a session that ends
 * in any way, a crash included, is no longer counted once its connection
 * to anvil closes. The wire protocol is in anvil(8): one attr frame
 * (util/attr.h) each way,
 *
 * request:
 *	request		"connect"
 *	service		the master.cf service name
 *	addr		the client's numeric address
 * reply:
 *	status		0: counted; count and rate follow
 *	count		the client's open sessions on that service, this one
 *			included
 *	rate		its connects in the current anvil_rate_time_unit,
 *			this one included
 * or
 *	status		1: not counted (anvil tracks too many clients)
 *	reason		text for the log
 *
 * service and addr are 1 to ANVIL_NAME_MAX printable ASCII characters
 * other than space. After the reply the client sends nothing more.
 */
#ifndef POSTERN_ANVIL_CLNT_H
#define POSTERN_ANVIL_CLNT_H

struct attr_list;
struct sbuf;
struct anvil_session;

#define ANVIL_NAME_MAX		64	/* longest service or addr */
#define ANVIL_FRAME_MAX		1024	/* largest request or reply body */
#define ANVIL_STATUS_OK		0	/* counted */
#define ANVIL_STATUS_REFUSED	1	/* not counted: anvil is full */

/*
 * Connects to queue_dir/private/anvil and reports a new session of the
 * client at addr (numeric) on service (master.cf name). On success a
 * session handle, with *count_r the client's simultaneous sessions on
 * that service (this one included) and *rate_r its sessions started in
 * the current anvil_rate_time_unit (this one included). NULL with a
 * reason when anvil cannot be reached or answers wrongly within
 * timeout_ms; smtpd then does not limit the client and logs a warning.
 */
struct anvil_session *anvil_connect(const char *queue_dir,
    const char *service, const char *addr, long *count_r, long *rate_r,
    int timeout_ms, struct sbuf *why);
/* Ends the session (closes the connection) and sets *s to NULL. */
void anvil_disconnect(struct anvil_session **s);

/*
 * anvil's side: checks a decoded request. 0 with *service_r and *addr_r
 * (borrowed from req), or -1 with a reason.
 */
int anvil_request_parse(const struct attr_list *req, const char **service_r,
    const char **addr_r, struct sbuf *why);
/* anvil's side: puts the reply to a counted session in frame. */
void anvil_reply_counted(struct sbuf *frame, long count, long rate);
/* anvil's side: puts the reply to a session it does not count in frame. */
void anvil_reply_refused(struct sbuf *frame, const char *reason);

#endif
