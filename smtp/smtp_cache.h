/*
 * smtp_cache - the one idle session a delivery process keeps for reuse
 *
 * After a request, a healthy session (reset with RSET) stays open for
 * smtp_connection_cache_time_limit, so that the next request to the same
 * next hop, served by this process, skips the connection, greeting, EHLO
 * and TLS handshake. The process waits for its next client in the daemon
 * skeleton, so a timer (SIGALRM is the skeleton's, so a POSIX timer on
 * SIGUSR2) shuts the idle connection down when the limit passes: the
 * server sees it closed at once rather than at its own timeout. The
 * session itself is freed at the next request or when the process
 * exits.
 */
#ifndef POSTERN_SMTP_CACHE_H
#define POSTERN_SMTP_CACHE_H

struct smtp_env;
struct smtp_session;

/* Sets up the timer; call once at start. */
void smtp_cache_init(void);
/*
 * Keeps s (now idle) for limit seconds; a session already kept is
 * closed first. limit 0 closes s at once.
 */
void smtp_cache_put(const struct smtp_env *env, struct smtp_session *s,
    long limit);
/*
 * Returns the kept session when it is for nexthop and still open, and
 * forgets it; otherwise closes any kept session and returns NULL.
 */
struct smtp_session *smtp_cache_take(const struct smtp_env *env,
    const char *nexthop);

#endif
