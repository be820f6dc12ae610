/*
 * smtp_cache - the one idle session a delivery process keeps for reuse
 *
 * The signal handler only shuts the socket down (async-signal-safe) and
 * sets a flag; everything else happens in smtp_cache_take(). Errors: a
 * process that cannot make the timer logs once and keeps no session.
 * Trust: a kept session's server may close it at any time; the next
 * transaction over it then breaks and the addresses are tried afresh.
 */
#include "smtp_cache.h"

#include <sys/socket.h>

#include <signal.h>
#include <string.h>
#include <time.h>

#include "smtp_session.h"
#include "util/msg.h"
#include "util/stream.h"

#define SMTP_CACHE_SIGNAL	SIGUSR2

static struct smtp_session *smtp_cache_session;
static volatile sig_atomic_t smtp_cache_fd = -1;
static volatile sig_atomic_t smtp_cache_expired;
static timer_t smtp_cache_timer;
static int smtp_cache_have_timer;

static void
smtp_cache_alarm(int sig)
{
	(void)sig;
	if (smtp_cache_fd >= 0) {
		(void)shutdown(smtp_cache_fd, SHUT_RDWR);
		smtp_cache_expired = 1;
	}
}

void
smtp_cache_init(void)
{
	struct sigaction sa;
	struct sigevent sev;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = smtp_cache_alarm;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SMTP_CACHE_SIGNAL, &sa, NULL);
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = SMTP_CACHE_SIGNAL;
	if (timer_create(CLOCK_MONOTONIC, &sev, &smtp_cache_timer) == 0)
		smtp_cache_have_timer = 1;
	else
		msg_warn("timer_create: %m: idle sessions are not cached");
}

static void
smtp_cache_arm(long seconds)
{
	struct itimerspec its;

	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = seconds;
	(void)timer_settime(smtp_cache_timer, 0, &its, NULL);
}

struct smtp_session *
smtp_cache_take(const struct smtp_env *env, const char *nexthop)
{
	struct smtp_session *s = smtp_cache_session;

	if (s == NULL)
		return NULL;
	smtp_cache_arm(0);
	smtp_cache_session = NULL;
	smtp_cache_fd = -1;
	if (smtp_cache_expired) {
		smtp_cache_expired = 0;
		smtp_session_close(env, &s, false);
		return NULL;
	}
	if (strcmp(s->nexthop, nexthop) != 0) {
		smtp_session_close(env, &s, true);
		return NULL;
	}
	return s;
}

void
smtp_cache_put(const struct smtp_env *env, struct smtp_session *s,
    long limit)
{
	struct smtp_session *old = smtp_cache_take(env, "");

	smtp_session_close(env, &old, true);
	if (limit <= 0 || !smtp_cache_have_timer) {
		smtp_session_close(env, &s, true);
		return;
	}
	smtp_cache_expired = 0;
	smtp_cache_session = s;
	smtp_cache_fd = stream_fd(s->stream);
	smtp_cache_arm(limit);
}
