/*
 * textfile - logical lines of configuration and table text files
 *
 * The one reader behind main.cf, master.cf, table sources and pcre files:
 * a line whose first character is whitespace continues the previous one
 * (joined to it with a single space);
 * a line whose first non-blank character is '#' is a comment and is
 * skipped (also inside a continued line); blank lines end a logical line.
 * Logical lines are handed over with leading and trailing whitespace
 * removed, with the number of the physical line they started on.
 *
 * Errors name the file and line: "FILE, line N: text". A NUL byte or a
 * logical line longer than TEXTFILE_LINE_MAX is an error, never truncated.
 */
#ifndef POSTERN_TEXTFILE_H
#define POSTERN_TEXTFILE_H

#include <stddef.h>

struct sbuf;

#define TEXTFILE_LINE_MAX (1024 * 1024)
#define TEXTFILE_SIZE_MAX ((size_t)1 << 31)

/*
 * Called with each logical line (modifiable, NUL-terminated) and the
 * number of its first physical line; returns 0 to go on or -1 to stop,
 * having set why.
 */
typedef int (*textfile_line_fn)(char *line, int lineno, void *ctx,
    struct sbuf *why);

/* Reads path line by line; 0, or -1 with a reason naming file and line. */
int textfile_read(const char *path, textfile_line_fn fn, void *ctx,
    struct sbuf *why);
/* The same over text in memory, reported as file "name". */
int textfile_parse(const char *data, size_t len, const char *name,
    textfile_line_fn fn, void *ctx, struct sbuf *why);

#endif
