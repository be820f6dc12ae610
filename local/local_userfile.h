/*
 * local_userfile - read a ~/.forward or an :include: file safely
 *
 * Such a file tells local where to send someone's mail, so it is used
 * only when it can be trusted: a regular file (not reached through a
 * symbolic link at its own name), owned by the user it speaks for or by
 * root, and writable by nobody else (no group or other write bit). It is
 * read in a child running as that user (local_child.h), so it never
 * reveals a file the user could not read.
 */
#ifndef POSTERN_LOCAL_USERFILE_H
#define POSTERN_LOCAL_USERFILE_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

struct local_ident;
struct local_outcome;
struct sbuf;

#define LOCAL_USERFILE_MAX	(32 * 1024)	/* octets of such a file */

/* What local_userfile_read() found. */
enum local_userfile_status {
	LOCAL_USERFILE_FOUND,	/* text holds the file */
	LOCAL_USERFILE_ABSENT,	/* no such file (or its directory) */
	LOCAL_USERFILE_UNSAFE,	/* there but not to be trusted; see why */
	LOCAL_USERFILE_ERROR	/* could not be read; see why */
};

/*
 * Checks the stat of an opened file against the rules above for a file
 * that speaks for owner. 0, or -1 with a reason naming path.
 */
int local_userfile_check(const char *path, const struct stat *st,
    uid_t owner, struct sbuf *why);

/*
 * Reads path as the user as (under the user's ids, see local_child.h),
 * checking it speaks for as->uid. The status; text holds the content on
 * FOUND, why the reason on UNSAFE and ERROR.
 */
enum local_userfile_status local_userfile_read(const char *path,
    const struct local_ident *as, struct sbuf *text, struct sbuf *why);

#endif
