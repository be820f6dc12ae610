/*
 * smtpd_tls - TLS for smtpd: the server context, STARTTLS (RFC 3207) and
 * TLS on connect (smtpd_tls_wrappermode)
 *
 * The context (smtpd_tls_cert_file, smtpd_tls_key_file) is loaded once
 * per process, before the skeleton drops privileges: as root when master
 * starts smtpd as root (a chroot service), else as the mail owner, who
 * must then be able to read the key. When it cannot be
 * loaded, smtpd logs a warning and goes on without TLS: STARTTLS is not
 * offered, and gets 454 4.7.0; at smtpd_tls_security_level encrypt mail
 * is then refused (530), and in wrapper mode every connection is closed.
 *
 * STARTTLS: "220 2.0.0 Ready to start TLS", then the handshake. Whatever
 * the client sent after STARTTLS before the handshake is thrown away (by
 * the stream), so nothing sent in clear passes for protected; after the
 * handshake the session starts over: no HELO, no transaction, no
 * extensions, and MAIL needs a new HELO or EHLO. A failed handshake ends
 * the session.
 */
#ifndef POSTERN_SMTPD_TLS_H
#define POSTERN_SMTPD_TLS_H

#include <stdbool.h>

struct smtpd_config;
struct smtpd_session;
struct sbuf;

/*
 * Reads smtpd_tls_security_level and loads the server context into cfg
 * (cfg->tls stays NULL when the level is none or loading fails, which is
 * logged). 0, or -1 with a reason for a level that is not none, may or
 * encrypt.
 */
int smtpd_tls_setup(struct smtpd_config *cfg, struct sbuf *why);

/* True when EHLO should advertise STARTTLS. */
bool smtpd_tls_offered(const struct smtpd_session *s);

/*
 * At level encrypt without TLS: replies "530 5.7.0 Must issue a STARTTLS
 * command first" and returns true. Else false.
 */
bool smtpd_tls_refuse(struct smtpd_session *s);

/* The STARTTLS command. */
void smtpd_tls_starttls(struct smtpd_session *s);

/*
 * Wrapper mode: the handshake before the greeting. 0, or -1 when the
 * session is over (logged).
 */
int smtpd_tls_wrap(struct smtpd_session *s);

#endif
