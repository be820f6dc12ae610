/*
 * sendmail - the local mail submission command (also mailq, newaliases)
 *
 *	sendmail [-t] [-i | -oi] [-f sender | -r sender] [-F name] [-v]
 *		 [-N dsn] [-R ret] [-B type] [-oX...] [-C dir] [--] [rcpt...]
 *	sendmail -bs | -bp | -bi | -I | -q [-C dir]
 *	mailq, newaliases
 *
 * Runs as the caller, with no privilege of its own. Reads a message on
 * standard input (a lone "." ends it unless -i or -oi), adds Date:,
 * Message-ID: and From: (with -F's full name) when missing, removes Bcc:,
 * takes the recipients from the arguments and, with -t, from To:, Cc:
 * and Bcc:, qualifies bare names with @myorigin and hands the message to
 * postern-drop (command_directory), the only way into maildrop/. Its exit
 * status is postern-drop's: 0 once the message is safely stored, even
 * when the mail system is down.
 *
 * -bs speaks SMTP on stdin/stdout (sendmail_smtp.h); -bp (mailq) runs
 * postern-queue -p; -q runs postern-queue -f (deliver deferred mail now);
 * -bi, -I (newaliases) rebuild every indexed table (db:, btree:, cdb:) of
 * alias_database from its source. -N (DSN NOTIFY of every recipient:
 * never, or success, failure and delay) and -R (DSN RET: full or hdrs)
 * go with the message; -B, -V and other -oX options are accepted for
 * compatibility and have no effect. The configuration
 * directory is -C DIR, else $MAIL_CONFIG, else the compiled-in default.
 *
 * Errors: one line on stderr and a <sysexits.h> status: EX_USAGE (bad
 * command line, a control character in -f, -F or a recipient, no
 * recipient), EX_DATAERR (a malformed address, in an argument or a
 * header for -t; a message too big), EX_CONFIG (main.cf), EX_NOPERM
 * (newaliases without permission to write a table), EX_IOERR (input),
 * EX_UNAVAILABLE (a program that cannot be run), else postern-drop's.
 * Trust: arguments and input are the caller's; a newline or control
 * character never reaches the envelope or a header this program writes.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>

#include "mail/maps.h"
#include "mail/params.h"
#include "sendmail_inject.h"
#include "sendmail_msg.h"
#include "sendmail_smtp.h"
#include "util/dict.h"
#include "util/msg.h"
#include "util/sbuf.h"
#include "util/strlist.h"
#include "util/strutil.h"

enum sendmail_mode {
	MODE_SEND,		/* the default: a message on stdin */
	MODE_SMTP,		/* -bs */
	MODE_LIST,		/* -bp, mailq */
	MODE_ALIASES,		/* -bi, -I, newaliases */
	MODE_FLUSH		/* -q */
};

static void __attribute__((noreturn))
usage(void)
{
	msg_fatal_status(EX_USAGE, "usage: sendmail [-t] [-i] [-f sender] "
	    "[-F name] [-C dir] [options] [--] [recipient ...]; "
	    "sendmail -bs | -bp | -bi | -q");
}

/* Refuses an argument with a control character (header injection). */
static void
check_arg(const char *what, const char *value)
{
	if (str_has_ctl(value))
		msg_fatal_status(EX_USAGE, "%s: control character or newline "
		    "in argument refused", what);
}

/* The QUEUE_NOTIFY_* bits of -N "never" or "success,failure,delay". */
static int
parse_notify(const char *arg)
{
	char *copy = strdup(arg), *cursor = copy, *word;
	int bits = 0;

	if (copy == NULL)
		msg_fatal_status(EX_OSERR, "out of memory");
	while ((word = str_token(&cursor, ",")) != NULL) {
		if (strcasecmp(word, "never") == 0)
			bits |= QUEUE_NOTIFY_NEVER;
		else if (strcasecmp(word, "success") == 0)
			bits |= QUEUE_NOTIFY_SUCCESS;
		else if (strcasecmp(word, "failure") == 0)
			bits |= QUEUE_NOTIFY_FAILURE;
		else if (strcasecmp(word, "delay") == 0)
			bits |= QUEUE_NOTIFY_DELAY;
		else
			bits = -1;
		if (bits < 0)
			break;
	}
	free(copy);
	if (bits == 0 || (bits > 0 && (bits & QUEUE_NOTIFY_NEVER) &&
	    bits != QUEUE_NOTIFY_NEVER))
		bits = -1;
	if (bits < 0)
		msg_fatal_status(EX_USAGE, "-N: expected \"never\" or a list "
		    "of success, failure and delay");
	return bits;
}

/* Runs command_directory/program [-c dir] flag; never returns. */
static void __attribute__((noreturn))
run_tool(const struct inject *in, const char *program, const char *flag)
{
	struct sbuf *path = sbuf_new();
	const char *argv[5] = { program };
	int n = 1;

	sbuf_setf(path, "%s/%s", in->p->command_directory, program);
	if (in->config_dir != NULL) {
		argv[n++] = "-c";
		argv[n++] = in->config_dir;
	}
	argv[n++] = flag;
	argv[n] = NULL;
	fflush(NULL);
	execv(sbuf_str(path), (char *const *)argv);
	msg_fatal_status(EX_UNAVAILABLE, "cannot run %s: %m", sbuf_str(path));
}

static void
aliases_warn(const char *text, void *ctx)
{
	(void)ctx;
	msg_warn("%s", text);
}

/* newaliases: builds each indexed table of alias_database. */
static int
rebuild_aliases(const struct inject *in)
{
	struct sbuf *why = sbuf_new();
	char **specs = NULL, *source = NULL, *path;
	size_t count = 0;
	int status = EX_OK;

	if (maps_split(in->p->alias_database, &specs, &count, why) < 0)
		msg_fatal_status(EX_CONFIG, "alias_database: %s",
		    sbuf_str(why));
	for (size_t i = 0; i < count; i++) {
		if ((path = dict_indexed_path(specs[i], &source)) == NULL)
			continue;
		errno = 0;
		if (dict_build(specs[i], DICT_FLAG_ALIAS, aliases_warn, NULL,
		    why) < 0) {
			if (errno == EACCES || errno == EPERM) {
				msg_error("%s (not allowed: run newaliases as "
				    "root or the table's owner)",
				    sbuf_str(why));
				status = EX_NOPERM;
			} else {
				msg_error("%s", sbuf_str(why));
				if (status == EX_OK)
					status = EX_CANTCREAT;
			}
		}
		free(path);
		free(source);
		source = NULL;
	}
	maps_split_free(&specs, count);
	sbuf_free(&why);
	return status;
}

/* The caller's login name and full name from the password file. */
static void
caller_identity(struct inject *in, const char *fullname)
{
	struct passwd *pw = getpwuid(getuid());
	struct sbuf *login = sbuf_new(), *why = sbuf_new();
	char *gecos, *comma;

	if (pw != NULL)
		sbuf_set(login, pw->pw_name);
	else
		sbuf_setf(login, "#%ld", (long)getuid());
	if (inject_address(in, sbuf_str(login), false, login, why) < 0)
		msg_fatal_status(EX_NOUSER, "cannot use the login name as a "
		    "sender address: %s", sbuf_str(why));
	in->login = sbuf_steal(login);
	if (fullname != NULL)
		in->fullname = strdup(fullname);
	else if (pw != NULL && pw->pw_gecos != NULL &&
	    (gecos = strdup(pw->pw_gecos)) != NULL) {
		if ((comma = strchr(gecos, ',')) != NULL)
			*comma = '\0';
		if (str_has_ctl(gecos))
			free(gecos);
		else
			in->fullname = gecos;
	}
	sbuf_free(&login);
	sbuf_free(&why);
}

/* The default mode: one message from stdin. */
static int
send_stdin(const struct inject *in, const char *sender, bool extract,
    bool ignore_dots, struct strlist *rcpts)
{
	struct sbuf *msg = sbuf_new(), *why = sbuf_new();
	int status;

	switch (message_read(stdin, ignore_dots,
	    (size_t)in->p->message_size_limit, msg)) {
	case MESSAGE_READ_OK:
		break;
	case MESSAGE_READ_TOOBIG:
		msg_fatal_status(EX_DATAERR, "message too big: over "
		    "message_size_limit (%llu octets)",
		    in->p->message_size_limit);
	case MESSAGE_READ_ERROR:
		msg_fatal_status(EX_IOERR, "read standard input: %m");
	}
	status = inject_message(in, sender, extract, rcpts, msg, why);
	if (status != EX_OK && sbuf_len(why) > 0)
		msg_error("%s", sbuf_str(why));
	sbuf_free(&msg);
	sbuf_free(&why);
	return status;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = { { NULL, 0, NULL, 0 } };
	const char *prog = basename(argv[0]), *sender_arg = NULL;
	const char *fullname = NULL, *dir = getenv("MAIL_CONFIG");
	enum sendmail_mode mode = MODE_SEND;
	struct sbuf *why = sbuf_new(), *warnings = sbuf_new();
	struct sbuf *sender = NULL;
	struct inject in = { 0 };
	struct strlist rcpts = { 0 };
	bool extract = false, ignore_dots = false;
	struct params *p;
	int c, status;

	msg_init("sendmail", MSG_TO_SYSLOG | MSG_TO_STDERR | MSG_BRIEF);
	if (strcmp(prog, "mailq") == 0)
		mode = MODE_LIST;
	else if (strcmp(prog, "newaliases") == 0)
		mode = MODE_ALIASES;
	while ((c = getopt_long(argc, argv,
	    "A:B:b:C:F:f:h:IiL:mN:no:O:q::R:r:tV:vX:", longopts, NULL)) !=
	    -1) {
		switch (c) {
		case 'b':
			if (strcmp(optarg, "s") == 0)
				mode = MODE_SMTP;
			else if (strcmp(optarg, "p") == 0)
				mode = MODE_LIST;
			else if (strcmp(optarg, "i") == 0)
				mode = MODE_ALIASES;
			else if (strcmp(optarg, "m") == 0)
				mode = MODE_SEND;
			else
				msg_fatal_status(EX_USAGE, "-b%s: mode not "
				    "supported", optarg);
			break;
		case 'C':
			dir = optarg;
			break;
		case 'F':
			check_arg("-F", optarg);
			fullname = optarg;
			break;
		case 'f':
		case 'r':
			check_arg("-f", optarg);
			sender_arg = optarg;
			break;
		case 'I':
			mode = MODE_ALIASES;
			break;
		case 'i':
			ignore_dots = true;
			break;
		case 'o':
			if (strcmp(optarg, "i") == 0)
				ignore_dots = true;
			break;
		case 'q':
			mode = MODE_FLUSH;
			break;
		case 't':
			extract = true;
			break;
		case 'v':
			msg_verbose++;
			break;
		case 'N':
			in.notify = parse_notify(optarg);
			break;
		case 'R':
			if (strcasecmp(optarg, "full") == 0)
				in.ret = QUEUE_RET_FULL;
			else if (strcasecmp(optarg, "hdrs") == 0)
				in.ret = QUEUE_RET_HDRS;
			else
				msg_fatal_status(EX_USAGE, "-R: expected full "
				    "or hdrs");
			break;
		case 'A': case 'B': case 'h': case 'L': case 'm': case 'n':
		case 'O': case 'V': case 'X':
			break;
		default:
			usage();
		}
	}
	for (int i = optind; i < argc; i++) {
		check_arg("recipient", argv[i]);
		strlist_push(&rcpts, argv[i]);
	}
	if (dir != NULL && *dir == '\0')
		dir = NULL;
	if ((p = params_load(dir != NULL ? dir : DEF_CONFIG_DIR, warnings,
	    why)) == NULL)
		msg_fatal_status(EX_CONFIG, "%s", sbuf_str(why));
	in.p = p;
	in.config_dir = dir;
	caller_identity(&in, fullname);
	if (sender_arg != NULL) {
		sender = sbuf_new();
		if (inject_address(&in, sender_arg, true, sender, why) < 0)
			msg_fatal_status(EX_DATAERR, "bad sender address "
			    "\"%s\": %s", sender_arg, sbuf_str(why));
	}
	switch (mode) {
	case MODE_SEND:
		status = send_stdin(&in, sender != NULL ? sbuf_str(sender) :
		    NULL, extract, ignore_dots, &rcpts);
		break;
	case MODE_SMTP:
		status = smtp_dialogue(&in);
		break;
	case MODE_LIST:
		run_tool(&in, "postern-queue", "-p");
	case MODE_FLUSH:
		run_tool(&in, "postern-queue", "-f");
	case MODE_ALIASES:
		status = rebuild_aliases(&in);
		break;
	}
	strlist_free(&rcpts);
	sbuf_free(&sender);
	sbuf_free(&why);
	sbuf_free(&warnings);
	free(in.login);
	free(in.fullname);
	params_free(&p);
	return status;
}
