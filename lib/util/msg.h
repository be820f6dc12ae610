/*
 * msg - the one logging call
 *
 * Every log line in Postern is written here: to syslog facility mail as
 * "postern/NAME[pid]: text", and to stderr when running in the foreground.
 * Lines about a message start with its queue id ("%s: from=<%s>", qid, ...).
 * Formats are printf-checked and accept %m. Control characters in the
 * formatted line are replaced with '?', so client data cannot forge lines.
 *
 * msg_fatal() logs and exits (a supervisor restarts daemons with back-off);
 * msg_panic() logs and aborts for a core. Tests install a hook that
 * longjmps back instead.
 */
#ifndef POSTERN_MSG_H
#define POSTERN_MSG_H

#include <stdarg.h>

enum msg_level {
	MSG_DEBUG,
	MSG_INFO,
	MSG_WARN,
	MSG_ERROR,
	MSG_FATAL,
	MSG_PANIC
};

#define MSG_TO_SYSLOG	(1 << 0)	/* syslog facility mail */
#define MSG_TO_STDERR	(1 << 1)	/* stderr as well */
#define MSG_BRIEF	(1 << 2)	/* stderr lines "name: text" (commands) */

/*
 * Starts logging as NAME ("smtpd" logs as "postern/smtpd"; a name that
 * already contains a '/' or starts with "postern" is used as it is).
 */
void msg_init(const char *name, int flags);
/* The name given to msg_init(), for messages and Received headers. */
const char *msg_name(void);
/* Debug lines are written only when verbose is at least 1. */
extern int msg_verbose;

/* Called with each finished line instead of the outputs (tests). */
typedef void (*msg_output_fn)(enum msg_level, const char *line);
void msg_set_output_hook(msg_output_fn fn);
/*
 * Called after a fatal or panic line has been written and before exit or
 * abort; a hook that returns lets the exit proceed, one that longjmps
 * (tests) resumes elsewhere.
 */
typedef void (*msg_exit_fn)(enum msg_level, int status);
void msg_set_exit_hook(msg_exit_fn fn);

void msg_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Logs and exits with status 1. */
void msg_fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
/* Logs and exits with the given status (sysexits.h codes in commands). */
void msg_fatal_status(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));
/* Logs and aborts. */
void msg_panic(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void msg_vlog(enum msg_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#endif
