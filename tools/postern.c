/*
 * postern - run and look after the Postern mail system, like postfix(1)
 *
 *   postern [-c dir] [-v] check | setup | start [-F] | stop | reload |
 *           status | flush
 *   postern [-c dir] [-v] init [--port-base N] [--domain D] [--password P]
 *
 * Parses the options and runs one command: check (postern_check.c),
 * setup (postern_setup.c), init (postern_init.c), and start, stop,
 * reload, status and flush (postern_ctl.c). The configuration directory
 * is -c DIR, else $MAIL_CONFIG, else the compiled-in default; it is made
 * absolute before use, since master runs from "/". See postern(1).
 *
 * Errors: sysexits codes: EX_USAGE for bad options, EX_CONFIG for a
 * configuration that cannot be read, EX_NOPERM for setup by another user
 * than root, 1 when the mail system is not running (stop, reload, status,
 * flush) or already running (start); the commands' own codes otherwise.
 * Trust: the caller's options and environment; what needs root is
 * refused to others before anything is changed.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "mail/params.h"
#include "postern_check.h"
#include "postern_ctl.h"
#include "postern_init.h"
#include "postern_setup.h"
#include "util/msg.h"
#include "util/sbuf.h"
#include "util/strutil.h"
#include "util/xmalloc.h"

/* One command: its name, whether it needs an existing directory. */
struct command {
	const char *name;
	bool need_dir;
	int (*run)(const char *dir, int argc, char **argv);
};

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
	    "usage: postern [-c dir] [-v] command [args]\n"
	    "commands:\n"
	    "  check                  check the configuration and the queue\n"
	    "  setup                  create users, groups and directories "
	    "(root)\n"
	    "  init [--port-base N] [--domain D] [--password P]\n"
	    "                         create an instance in the -c "
	    "directory\n"
	    "  start [-F]             start the mail system (-F: in the "
	    "foreground)\n"
	    "  stop                   stop the mail system\n"
	    "  reload                 reread main.cf and master.cf\n"
	    "  status                 show whether it runs, and its "
	    "processes\n"
	    "  flush                  retry deferred mail now\n");
	exit(EX_USAGE);
}

/* Refuses arguments after a command that takes none. */
static void
no_args(int argc)
{
	if (argc > 1)
		usage();
}

static int
cmd_check(const char *dir, int argc, char **argv)
{
	no_args(argc);
	return check_instance(dir);
}

static int
cmd_setup(const char *dir, int argc, char **argv)
{
	struct sbuf *why = sbuf_new(), *warnings = sbuf_new();
	struct setup_report rep = { 0, true };
	struct params *p = NULL;
	struct setup_ids ids;
	struct stat st;
	char *cursor, *line;
	int status = EX_OK;

	no_args(argc);
	if (geteuid() != 0) {
		msg_error("only root can run setup (an instance of your own "
		    "is made with \"postern -c DIR init\")");
		status = EX_NOPERM;
	} else if (setup_config(dir, &rep, why) < 0) {
		msg_error("%s", sbuf_str(why));
		status = EX_CANTCREAT;
	} else if ((p = params_load(dir, warnings, why)) == NULL) {
		msg_error("%s", sbuf_str(why));
		status = EX_CONFIG;
	}
	cursor = warnings->data;
	while ((line = str_token(&cursor, "\n")) != NULL)
		msg_warn("%s", line);
	if (status != EX_OK)
		goto out;
	if (stat(p->queue_directory, &st) == 0 && st.st_uid != 0) {
		msg_error("%s belongs to uid %lu: it is a single-user "
		    "instance, which setup does not change", p->queue_directory,
		    (unsigned long)st.st_uid);
		status = EX_CONFIG;
	} else if (setup_users(p, &rep, why) < 0) {
		msg_error("%s", sbuf_str(why));
		status = EX_OSERR;
	} else if (setup_system_ids(p, &ids, why) < 0) {
		msg_error("%s", sbuf_str(why));
		status = EX_NOUSER;
	} else if (setup_queue(p, &ids, &rep, why) < 0) {
		msg_error("%s", sbuf_str(why));
		status = EX_CANTCREAT;
	} else if (rep.changes == 0) {
		msg_info("nothing to change: the users, groups and "
		    "directories of %s are in place", dir);
	} else {
		msg_info("made %d change%s", rep.changes,
		    rep.changes == 1 ? "" : "s");
	}
out:
	params_free(&p);
	sbuf_free(&why);
	sbuf_free(&warnings);
	return status;
}

static int
cmd_init(const char *dir, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "port-base", required_argument, NULL, 'p' },
		{ "domain", required_argument, NULL, 'd' },
		{ "password", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 }
	};
	struct init_opts o = { INIT_PORT_BASE, INIT_DOMAIN, NULL };
	int ch;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			if (str_to_long(optarg, &o.port_base) < 0)
				msg_fatal_status(EX_USAGE, "--port-base %s: "
				    "not a number", optarg);
			break;
		case 'd':
			o.domain = optarg;
			break;
		case 'P':
			o.password = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	return init_instance(dir, &o);
}

static int
cmd_start(const char *dir, int argc, char **argv)
{
	bool foreground = false;
	int ch;

	optind = 0;
	while ((ch = getopt(argc, argv, "+F")) != -1) {
		switch (ch) {
		case 'F':
			foreground = true;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	return ctl_start(dir, foreground);
}

static int
cmd_stop(const char *dir, int argc, char **argv)
{
	no_args(argc);
	return ctl_stop(dir);
}

static int
cmd_reload(const char *dir, int argc, char **argv)
{
	no_args(argc);
	return ctl_reload(dir);
}

static int
cmd_status(const char *dir, int argc, char **argv)
{
	no_args(argc);
	return ctl_status(dir);
}

static int
cmd_flush(const char *dir, int argc, char **argv)
{
	no_args(argc);
	return ctl_flush(dir);
}

static const struct command commands[] = {
	{ "check", true, cmd_check },
	{ "setup", false, cmd_setup },
	{ "init", false, cmd_init },
	{ "start", true, cmd_start },
	{ "stop", true, cmd_stop },
	{ "reload", true, cmd_reload },
	{ "status", true, cmd_status },
	{ "flush", true, cmd_flush },
};

/*
 * The configuration directory as an absolute path (malloc'ed): resolved
 * when it exists, else joined to the working directory.
 */
static char *
absolute_dir(const char *dir)
{
	struct sbuf *path;
	char *abs, *cwd;

	if ((abs = realpath(dir, NULL)) != NULL)
		return abs;
	if (*dir == '/')
		return xstrdup(dir);
	if ((cwd = getcwd(NULL, 0)) == NULL)
		msg_fatal_status(EX_OSERR, "current directory: %m");
	path = sbuf_new();
	sbuf_printf(path, "%s/%s", cwd, dir);
	free(cwd);
	abs = sbuf_steal(path);
	sbuf_free(&path);
	return abs;
}

int
main(int argc, char **argv)
{
	const struct command *cmd = NULL;
	const char *dir = NULL;
	struct stat st;
	char *abs;
	int ch, status;

	msg_init("postern", MSG_TO_STDERR | MSG_BRIEF);
	while ((ch = getopt(argc, argv, "+c:v")) != -1) {
		switch (ch) {
		case 'c':
			dir = optarg;
			break;
		case 'v':
			msg_verbose++;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			cmd = &commands[i];
	if (cmd == NULL) {
		msg_error("unknown command \"%s\"", argv[0]);
		usage();
	}
	if (dir == NULL && (dir = getenv("MAIL_CONFIG")) == NULL) {
		if (cmd->run == cmd_init)
			msg_fatal_status(EX_USAGE, "init needs the directory "
			    "of the new instance: postern -c DIR init");
		dir = DEF_CONFIG_DIR;
	}
	if (*dir == '\0')
		msg_fatal_status(EX_USAGE, "empty configuration directory");
	abs = absolute_dir(dir);
	if (cmd->need_dir) {
		if (stat(abs, &st) < 0)
			msg_fatal_status(EX_CONFIG, "configuration directory "
			    "%s: %m", abs);
		if (!S_ISDIR(st.st_mode))
			msg_fatal_status(EX_CONFIG, "configuration directory "
			    "%s: not a directory", abs);
	}
	status = cmd->run(abs, argc, argv);
	free(abs);
	if (fflush(stdout) != 0 || ferror(stdout))
		msg_fatal_status(EX_IOERR, "write standard output: %m");
	return status;
}
