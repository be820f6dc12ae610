/*
 * sendmail_submit - hand a message to postern-drop
 *
 * Runs command_directory/postern-drop (with -C when sendmail was given a
 * configuration directory) on a pipe, writes the envelope (drop_file.h)
 * and the content on its standard input and waits for it: its exit
 * status is the submission's.
 */
#ifndef POSTERN_SENDMAIL_SUBMIT_H
#define POSTERN_SENDMAIL_SUBMIT_H

struct drop_envelope;
struct sbuf;

/*
 * Submits env (its size set here) with the content msg. The drop
 * program's <sysexits.h> status (EX_OK when the message is safe in
 * maildrop/), EX_UNAVAILABLE when it cannot be run, EX_SOFTWARE when it
 * died of a signal.
 */
int submit_message(const char *command_dir, const char *config_dir,
    struct drop_envelope *env, const struct sbuf *msg);

#endif
