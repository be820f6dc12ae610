/*
 * htable - in-memory hash table of string keys to pointer values
 *
 * Keys are NUL-terminated strings, copied into the table; values are the
 * caller's pointers, never looked at. A key is stored at most once:
 * inserting a key that is already there changes nothing and says so.
 * Walks visit entries in insertion order (a deleted and re-inserted key
 * moves to the end).
 *
 * Keys may be client data, so buckets are chosen by SipHash-2-4 under a
 * random key drawn from getrandom() for each table: collisions cannot be
 * planned from outside. The table grows as entries are added.
 *
 * Memory exhaustion, size overflow and a kernel that gives no random
 * bytes are fatal (msg_fatal), as in xmalloc.
 */
#ifndef POSTERN_HTABLE_H
#define POSTERN_HTABLE_H

#include <stddef.h>
#include <stdint.h>

struct htable;

/* Releases a value; given to htable_delete() and htable_free(). */
typedef void (*htable_free_fn)(void *value);
/* Called for each entry of htable_walk(); non-zero stops the walk. */
typedef int (*htable_walk_fn)(const char *key, void *value, void *ctx);

/* Returns an empty table with its own random hash key. */
struct htable *htable_new(void);
/*
 * Frees *t, its keys and, when free_fn is not NULL, each value; sets *t
 * to NULL. Accepts a NULL *t.
 */
void htable_free(struct htable **t, htable_free_fn free_fn);
/*
 * Adds key (copied) with value: 0, or -1 when the key is already in the
 * table, which is then left unchanged (the caller still owns value).
 */
int htable_insert(struct htable *t, const char *key, void *value);
/*
 * The value stored under key, or NULL when there is none (store non-NULL
 * values to tell the two apart).
 */
void *htable_find(const struct htable *t, const char *key);
/*
 * Removes key, passing its value to free_fn unless that is NULL: 0, or -1
 * when the key is not in the table.
 */
int htable_delete(struct htable *t, const char *key, htable_free_fn free_fn);
/* The number of entries. */
size_t htable_size(const struct htable *t);
/*
 * Calls fn for each entry in insertion order until fn returns non-zero;
 * returns that value, or 0 when every entry was visited. fn must not
 * insert or delete entries.
 */
int htable_walk(const struct htable *t, htable_walk_fn fn, void *ctx);

/*
 * SipHash-2-4 of len bytes under a 16-byte key (the reference algorithm:
 * key bytes and the result are little-endian). Exported for its test.
 */
uint64_t htable_siphash(const uint8_t key[16], const void *data, size_t len);

#endif
