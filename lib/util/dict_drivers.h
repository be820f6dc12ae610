/*
 * dict_drivers - entry points of the table drivers, for dict.c only
 *
 * Each open function receives the type as written ("db" or "btree" share
 * one driver) and the name after the colon, and returns a struct dict made
 * by dict_alloc() or NULL with a reason. Build functions compile the text
 * source `name` into the driver's indexed file.
 */
#ifndef POSTERN_DICT_DRIVERS_H
#define POSTERN_DICT_DRIVERS_H

#include <stddef.h>

#include "util/dict.h"

/* Allocates a struct dict with type, name and flags copied; fold unset. */
struct dict *dict_alloc(const char *type, const char *name, int flags,
    size_t size);
/* Frees type, name and the struct (for drivers' close functions). */
void dict_release(struct dict *d);

struct htable;
/*
 * Makes a table that answers from a hash table of malloc'ed string values
 * (texthash, inline), taking ownership of it. Keys must already be folded
 * unless DICT_FLAG_NO_FOLD is in flags.
 */
struct dict *dict_mem_open(const char *type, const char *name, int flags,
    struct htable *table);

struct dict *dict_db_open(const char *type, const char *name, int flags,
    struct sbuf *why);
int dict_db_build(const char *type, const char *name, int flags,
    dict_warn_fn warn, void *ctx, struct sbuf *why);
struct dict *dict_cdb_open(const char *type, const char *name, int flags,
    struct sbuf *why);
int dict_cdb_build(const char *type, const char *name, int flags,
    dict_warn_fn warn, void *ctx, struct sbuf *why);
struct dict *dict_texthash_open(const char *type, const char *name,
    int flags, struct sbuf *why);
struct dict *dict_inline_open(const char *type, const char *name, int flags,
    struct sbuf *why);
struct dict *dict_static_open(const char *type, const char *name, int flags,
    struct sbuf *why);
struct dict *dict_pcre_open(const char *type, const char *name, int flags,
    struct sbuf *why);

#endif
