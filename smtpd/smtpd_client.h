/*
 * smtpd_client - who the client is, and whether it may connect now
 *
 * The client's name is the one its address resolves to (getnameinfo,
 * which reads /etc/hosts before DNS) when that name is a valid host name
 * and resolves back to the address ("forward-confirmed"), else
 * "unknown". Nothing is decided on it; it goes to log lines, the
 * Received: header and the queue file.
 *
 * Connection limits: unless the client is in
 * smtpd_client_event_limit_exceptions, or both limits are 0, the session
 * is reported to anvil (anvil_clnt.h), which counts the client's
 * simultaneous sessions and its sessions per anvil_rate_time_unit on this
 * service. Past smtpd_client_connection_count_limit or
 * smtpd_client_connection_rate_limit the client gets "421 4.7.0
 * MYHOSTNAME Error: too many connections from ADDR" and is disconnected.
 * When anvil cannot be reached, or does not answer within ipc_timeout or
 * smtpd_timeout (the shorter), the client is served without limits, with
 * a warning.
 */
#ifndef POSTERN_SMTPD_CLIENT_H
#define POSTERN_SMTPD_CLIENT_H

struct anvil_session;
struct smtpd_session;

/* Sets s->name and s->client from s->addr. */
void smtpd_client_name(struct smtpd_session *s);

/*
 * Applies the connection limits. 0 to serve the client, with the anvil
 * session (to keep until the end, or NULL) in *anvil_r; -1 when the
 * client was turned away (replied and logged).
 */
int smtpd_client_limits(struct smtpd_session *s,
    struct anvil_session **anvil_r);

#endif
