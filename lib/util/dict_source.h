/*
 * dict_source - entries of a lookup-table text source
 *
 * A source holds one entry per logical line (see textfile.h): "key value",
 * the key ending at the first whitespace, or with DICT_FLAG_ALIAS the
 * aliases(5) form "key: value". Keys are folded to lower case unless
 * DICT_FLAG_NO_FOLD is given. A line without a value is an error naming
 * the file and line.
 */
#ifndef POSTERN_DICT_SOURCE_H
#define POSTERN_DICT_SOURCE_H

#include <stddef.h>

struct sbuf;

/* Called per entry; 0 to go on, -1 (with why set) to stop. */
typedef int (*dict_source_fn)(const char *key, const char *value,
    const char *file, int line, void *ctx, struct sbuf *why);

/* Reads the source at path; 0, or -1 with a reason naming file and line. */
int dict_source_read(const char *path, int flags, dict_source_fn fn,
    void *ctx, struct sbuf *why);
/* The same over text in memory, reported as file "name". */
int dict_source_parse(const char *data, size_t len, const char *name,
    int flags, dict_source_fn fn, void *ctx, struct sbuf *why);

#endif
