/*
 * msg - the one logging call
 *
 * syslog(3) tries to connect to the log socket for every line while it
 * is not connected; where no syslog daemon runs (a container, a test
 * machine) that is three wasted system calls per line, so the socket's
 * presence is looked at once a second and lines are not offered to
 * syslog(3) while it is absent (they could not be delivered anyway).
 *
 * Errors: none reported; a failing stderr or syslog is ignored, since
 * there is nowhere else to say so.
 * Trust: formatted arguments may hold client data; control characters are
 * replaced before the line leaves the process.
 */
#include "util/msg.h"

#include <sys/stat.h>

#include <errno.h>
#include <paths.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define MSG_LINE_MAX 4096	/* longer lines are cut and marked "..." */

int msg_verbose;

static char msg_ident[128] = "postern";
static char msg_short[64] = "postern";
static int msg_flags = MSG_TO_STDERR | MSG_BRIEF;
static msg_output_fn msg_output_hook;
static msg_exit_fn msg_exit_hook;

static const char *const msg_prefix[] = {
	[MSG_DEBUG] = "debug: ",
	[MSG_INFO] = "",
	[MSG_WARN] = "warning: ",
	[MSG_ERROR] = "error: ",
	[MSG_FATAL] = "fatal: ",
	[MSG_PANIC] = "panic: ",
};

static const int msg_priority[] = {
	[MSG_DEBUG] = LOG_DEBUG,
	[MSG_INFO] = LOG_INFO,
	[MSG_WARN] = LOG_WARNING,
	[MSG_ERROR] = LOG_ERR,
	[MSG_FATAL] = LOG_CRIT,
	[MSG_PANIC] = LOG_CRIT,
};

void
msg_init(const char *name, int flags)
{
	if (strchr(name, '/') != NULL || strncmp(name, "postern", 7) == 0)
		snprintf(msg_ident, sizeof(msg_ident), "%s", name);
	else
		snprintf(msg_ident, sizeof(msg_ident), "postern/%s", name);
	snprintf(msg_short, sizeof(msg_short), "%s", name);
	msg_flags = flags;
	if (flags & MSG_TO_SYSLOG)
		openlog(msg_ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

const char *
msg_name(void)
{
	return msg_short;
}

void
msg_set_output_hook(msg_output_fn fn)
{
	msg_output_hook = fn;
}

void
msg_set_exit_hook(msg_exit_fn fn)
{
	msg_exit_hook = fn;
}

/* True unless the log socket was missing at the last look (1 s ago). */
static bool
msg_syslog_present(void)
{
	static time_t looked;
	static bool present = true;
	time_t now = time(NULL);
	struct stat st;

	if (now != looked) {
		looked = now;
		present = stat(_PATH_LOG, &st) == 0;
	}
	return present;
}

/* Replaces control characters (other than tab) with '?'. */
static void
msg_sanitize(char *line)
{
	for (unsigned char *p = (unsigned char *)line; *p; p++)
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			*p = '?';
}

void
msg_vlog(enum msg_level level, const char *fmt, va_list ap)
{
	char line[MSG_LINE_MAX];
	int saved_errno = errno;
	size_t plen;
	int n;

	if (level == MSG_DEBUG && msg_verbose < 1)
		return;
	plen = strlen(msg_prefix[level]);
	memcpy(line, msg_prefix[level], plen);
	errno = saved_errno;	/* for %m */
	n = vsnprintf(line + plen, sizeof(line) - plen, fmt, ap);
	if (n > 0 && (size_t)n >= sizeof(line) - plen)
		memcpy(line + sizeof(line) - 4, "...", 4);
	msg_sanitize(line);

	if (msg_output_hook != NULL) {
		msg_output_hook(level, line);
	} else {
		if (msg_flags & MSG_TO_STDERR) {
			if (msg_flags & MSG_BRIEF)
				fprintf(stderr, "%s: %s\n", msg_short, line);
			else
				fprintf(stderr, "%s[%ld]: %s\n", msg_ident,
				    (long)getpid(), line);
		}
		if ((msg_flags & MSG_TO_SYSLOG) && msg_syslog_present())
			syslog(LOG_MAIL | msg_priority[level], "%s", line);
	}
	errno = saved_errno;
}

#define MSG_DEFINE(fn, level)				\
void							\
fn(const char *fmt, ...)				\
{							\
	va_list ap;					\
							\
	va_start(ap, fmt);				\
	msg_vlog(level, fmt, ap);			\
	va_end(ap);					\
}

MSG_DEFINE(msg_debug, MSG_DEBUG)
MSG_DEFINE(msg_info, MSG_INFO)
MSG_DEFINE(msg_warn, MSG_WARN)
MSG_DEFINE(msg_error, MSG_ERROR)

static void __attribute__((noreturn))
msg_exit(enum msg_level level, int status)
{
	if (msg_exit_hook != NULL)
		msg_exit_hook(level, status);
	if (level == MSG_PANIC)
		abort();
	exit(status);
}

void
msg_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msg_vlog(MSG_FATAL, fmt, ap);
	va_end(ap);
	msg_exit(MSG_FATAL, 1);
}

void
msg_fatal_status(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msg_vlog(MSG_FATAL, fmt, ap);
	va_end(ap);
	msg_exit(MSG_FATAL, status);
}

void
msg_panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msg_vlog(MSG_PANIC, fmt, ap);
	va_end(ap);
	msg_exit(MSG_PANIC, 1);
}
