/*
 * pqueue_dirs - postern-queue's view of the queue directories: walking
 * them entry by entry, finding a message, moving and removing one
 *
 * Every function works relative to the current directory, which the
 * caller has made the queue directory. Each change is one rename() or
 * unlink() of one queue file, atomic, so it is safe while qmgr runs: a
 * message that qmgr moves between two looks is searched for again.
 */
#ifndef POSTERN_PQUEUE_DIRS_H
#define POSTERN_PQUEUE_DIRS_H

#include <stdbool.h>

struct sbuf;

/* The directories that hold queue files, in the order mail passes them. */
enum pqueue_dir {
	PQUEUE_INCOMING,
	PQUEUE_ACTIVE,
	PQUEUE_DEFERRED,
	PQUEUE_HOLD,
	PQUEUE_DIR_COUNT
};

/* Sets of directories. */
#define PQUEUE_IN(d)	(1u << (d))
#define PQUEUE_ALL	((1u << PQUEUE_DIR_COUNT) - 1)

/* "incoming", "active", "deferred", "hold". */
const char *pqueue_dir_name(enum pqueue_dir dir);

/*
 * Called for each queue file of a walk with its directory and queue id;
 * returns false to stop the walk.
 */
typedef bool (*pqueue_visit_fn)(enum pqueue_dir dir, const char *id,
    void *ctx);

/*
 * Reads the directories of the set dirs one entry at a time (never the
 * whole list in memory) and calls visit for each name that is a queue id;
 * the visitor may move or remove the file it is given. 0 when every
 * directory was read or visit stopped the walk, or -1 with a reason in
 * why and errno set (EACCES for a queue the caller may not read).
 */
int pqueue_walk(unsigned dirs, pqueue_visit_fn visit, void *ctx,
    struct sbuf *why);

/*
 * The directory of the set dirs that holds id (a valid queue id) now, or
 * -1 when none does.
 */
int pqueue_locate(const char *id, unsigned dirs);

/*
 * Sets path to "DIR/ID", the queue file's path relative to the queue
 * directory; returns path's string.
 */
const char *pqueue_path(struct sbuf *path, enum pqueue_dir dir,
    const char *id);

/* What pqueue_move() and pqueue_remove() came to. */
enum pqueue_result {
	PQUEUE_DONE,		/* moved or removed */
	PQUEUE_ABSENT,		/* in none of the directories searched */
	PQUEUE_FAILED		/* a system error: see why and errno */
};

/*
 * Renames id from whichever directory of the set from holds it into to;
 * the directory it came from in *from_r when DONE.
 */
enum pqueue_result pqueue_move(const char *id, unsigned from,
    enum pqueue_dir to, enum pqueue_dir *from_r, struct sbuf *why);

/*
 * Removes the queue file id from whichever directory holds it, then its
 * logs defer/ID and bounce/ID. A log that cannot be removed is a warning
 * appended to why with the result still DONE (the queue file is gone).
 */
enum pqueue_result pqueue_remove(const char *id, struct sbuf *why);

#endif
