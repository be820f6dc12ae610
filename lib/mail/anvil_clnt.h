/*
 * anvil_clnt - smtpd's side of the anvil service: per-client connection
 * counts and rates
 *
 * smtpd reports each client connection to anvil (private/anvil) and keeps
 * that connection to anvil open for the session: anvil counts a client's
 * simultaneous sessions by the open connections, so a session that ends
 * in any way, a crash included, is no longer counted once its connection
 * to anvil closes. The wire protocol is in anvil(8).
 */
#ifndef POSTERN_ANVIL_CLNT_H
#define POSTERN_ANVIL_CLNT_H

struct sbuf;
struct anvil_session;

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

#endif
