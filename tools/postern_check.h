/*
 * postern_check - "postern check": is an instance fit to run?
 */
#ifndef POSTERN_CHECK_H
#define POSTERN_CHECK_H

/*
 * Checks the instance configured in config_dir and logs what it finds,
 * one warning or error per line: the syntax of main.cf (and its unknown
 * parameter names, as warnings), the syntax of master.cf, that each
 * service's program can be run from daemon_directory, lookup tables older
 * than their text sources (warnings), that the queue directories exist,
 * and their owners and modes (warnings). The queue belongs to root in
 * system mode; when it belongs to another user (a single-user instance),
 * everything is expected to belong to that user. Returns EX_OK when
 * nothing found would stop the mail system (warnings alone), else
 * EX_CONFIG.
 */
int check_instance(const char *config_dir);

#endif
