/*
 * smtp_session - one SMTP connection to one server address
 *
 * Opening a session connects, reads the greeting, says EHLO (HELO when
 * EHLO is refused), and starts TLS as the policy asks, saying EHLO again
 * over TLS. Each step has its own time limit (smtp_connect_timeout,
 * smtp_helo_timeout). A session that finished a transaction cleanly can
 * be reset (RSET) and used for the next message to the same next hop.
 */
#ifndef POSTERN_SMTP_SESSION_H
#define POSTERN_SMTP_SESSION_H

#include <stdbool.h>
#include <time.h>

#include "smtp_reply.h"
#include "smtp_tls.h"

struct dns_resolver;
struct params;
struct sbuf;
struct smtp_host;
struct stream;
struct tls_ctx;

/* A TIME parameter (seconds) as a stream deadline in milliseconds. */
#define SMTP_MS(sec) \
	((int)((sec) > 0 && (sec) < 2000000 ? (sec) * 1000 : 2000000000))

/* What sessions share: the parameters, the TLS context, the resolver. */
struct smtp_env {
	const struct params *p;
	struct tls_ctx *tls_ctx;	/* NULL when it could not be made */
	struct dns_resolver *dns;
};

struct smtp_session {
	struct stream *stream;
	char *name;		/* the server's host name (or address) */
	char *addr;
	unsigned port;
	char *label;		/* "name[addr]:port": logs, relay_I */
	char *nexthop;		/* the request's next hop: reuse key */
	bool esmtp;		/* EHLO was accepted */
	struct smtp_ehlo ehlo;
	char *tls;		/* TLS description, or NULL in clear text */
	unsigned messages;	/* transactions completed over it */
	time_t idle_since;	/* monotonic seconds, when cached */
};

/* How opening a session ended. */
enum smtp_open_status {
	SMTP_OPEN_OK,
	SMTP_OPEN_FAILED,	/* try the next address; reason in why */
	SMTP_OPEN_TLS_FAILED	/* TLS failed; "may" allows clear text */
};

/*
 * Opens a session to host for nexthop under level; clear_text skips
 * STARTTLS (the retry after SMTP_OPEN_TLS_FAILED). queue_id prefixes the
 * log lines. On failure dsn gets an RFC 3463 code and why a reason.
 */
enum smtp_open_status smtp_session_open(const struct smtp_env *env,
    const struct smtp_host *host, const char *nexthop,
    enum smtp_tls_level level, bool clear_text, const char *queue_id,
    struct smtp_session **sess_r, struct sbuf *dsn, struct sbuf *why);

/*
 * Sends cmd (without CRLF) and reads its reply within timeout seconds.
 * 0, or -1 with a reason when the session broke.
 */
int smtp_session_command(struct smtp_session *s, const char *cmd,
    long timeout, struct smtp_reply *reply, struct sbuf *why);
/* RSET for the next transaction; 0, or -1 when the session is unusable. */
int smtp_session_reset(const struct smtp_env *env, struct smtp_session *s);
/* Says QUIT (when send_quit) and frees *sp; accepts NULL. */
void smtp_session_close(const struct smtp_env *env, struct smtp_session **sp,
    bool send_quit);

/* "host NAME[ADDR] said: TEXT (in reply to WHAT command)" into why. */
void smtp_session_said(const struct smtp_session *s, const struct smtp_reply *r,
    const char *what, struct sbuf *why);

#endif
