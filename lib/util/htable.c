/*
 * htable - in-memory hash table of string keys to pointer values
 *
 * Chained buckets (a power of two of them, doubled when the entries
 * outnumber them) plus a doubly linked list in insertion order for walks.
 * Errors: a key already present or absent is reported by the return
 * value; memory exhaustion, overflow and getrandom() failure are fatal.
 * Trust: keys may be hostile client data; the per-table SipHash key keeps
 * their bucket placement unpredictable.
 */
#include "util/htable.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "util/msg.h"
#include "util/xmalloc.h"

#define HTABLE_INITIAL	16	/* buckets of a new table */

struct htable_entry {
	struct htable_entry *chain;	/* next in the same bucket */
	struct htable_entry *prev;	/* insertion order */
	struct htable_entry *next;
	void *value;
	uint64_t hash;
	char key[];
};

struct htable {
	struct htable_entry **buckets;
	size_t nbuckets;		/* a power of two */
	size_t count;
	struct htable_entry *first;	/* oldest entry */
	struct htable_entry *last;	/* newest entry */
	uint8_t seed[16];		/* SipHash key */
};

static inline uint64_t
htable_rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static inline uint64_t
htable_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static inline void
htable_sipround(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = htable_rotl(v[1], 13);
	v[1] ^= v[0];
	v[0] = htable_rotl(v[0], 32);
	v[2] += v[3];
	v[3] = htable_rotl(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = htable_rotl(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = htable_rotl(v[1], 17);
	v[1] ^= v[2];
	v[2] = htable_rotl(v[2], 32);
}

uint64_t
htable_siphash(const uint8_t key[16], const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t k0 = htable_le64(key), k1 = htable_le64(key + 8);
	uint64_t v[4] = {
		0x736f6d6570736575ULL ^ k0,
		0x646f72616e646f6dULL ^ k1,
		0x6c7967656e657261ULL ^ k0,
		0x7465646279746573ULL ^ k1,
	};
	uint64_t m, b = (uint64_t)len << 56;
	size_t left = len;

	for (; left >= 8; p += 8, left -= 8) {
		m = htable_le64(p);
		v[3] ^= m;
		htable_sipround(v);
		htable_sipround(v);
		v[0] ^= m;
	}
	for (size_t i = 0; i < left; i++)
		b |= (uint64_t)p[i] << (8 * i);
	v[3] ^= b;
	htable_sipround(v);
	htable_sipround(v);
	v[0] ^= b;
	v[2] ^= 0xff;
	for (int i = 0; i < 4; i++)
		htable_sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* Fills seed with random bytes from the kernel; fatal when it cannot. */
static void
htable_seed(uint8_t *seed, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		if ((n = getrandom(seed + got, len - got, 0)) < 0) {
			if (errno == EINTR)
				continue;
			msg_fatal("htable: getrandom: %m");
		}
		got += (size_t)n;
	}
}

struct htable *
htable_new(void)
{
	struct htable *t = xcalloc(1, sizeof(*t));

	t->nbuckets = HTABLE_INITIAL;
	t->buckets = xcalloc(t->nbuckets, sizeof(*t->buckets));
	htable_seed(t->seed, sizeof(t->seed));
	return t;
}

void
htable_free(struct htable **t, htable_free_fn free_fn)
{
	struct htable_entry *e, *next;

	if (*t == NULL)
		return;
	for (e = (*t)->first; e != NULL; e = next) {
		next = e->next;
		if (free_fn != NULL)
			free_fn(e->value);
		free(e);
	}
	free((*t)->buckets);
	xfree(t);
}

/* Finds the entry for key, with its hash in *hash_r. */
static struct htable_entry *
htable_locate(const struct htable *t, const char *key, uint64_t *hash_r)
{
	uint64_t hash = htable_siphash(t->seed, key, strlen(key));
	struct htable_entry *e;

	*hash_r = hash;
	for (e = t->buckets[hash & (t->nbuckets - 1)]; e != NULL; e = e->chain)
		if (e->hash == hash && strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

/* Doubles the bucket array and redistributes the entries. */
static void
htable_grow(struct htable *t)
{
	struct htable_entry **buckets;
	size_t n, i;

	if (t->nbuckets > SIZE_MAX / 2)
		msg_fatal("htable: too many entries (%zu)", t->count);
	n = t->nbuckets * 2;
	buckets = xcalloc(n, sizeof(*buckets));
	for (struct htable_entry *e = t->first; e != NULL; e = e->next) {
		i = e->hash & (n - 1);
		e->chain = buckets[i];
		buckets[i] = e;
	}
	free(t->buckets);
	t->buckets = buckets;
	t->nbuckets = n;
}

int
htable_insert(struct htable *t, const char *key, void *value)
{
	struct htable_entry *e, **bucket;
	uint64_t hash;
	size_t len;

	if (htable_locate(t, key, &hash) != NULL)
		return -1;
	if (t->count >= t->nbuckets)
		htable_grow(t);
	len = strlen(key);
	if (len > SIZE_MAX - sizeof(*e) - 1)
		msg_fatal("htable: key too long");
	e = xmalloc(sizeof(*e) + len + 1);
	memcpy(e->key, key, len + 1);
	e->value = value;
	e->hash = hash;
	bucket = &t->buckets[hash & (t->nbuckets - 1)];
	e->chain = *bucket;
	*bucket = e;
	e->next = NULL;
	e->prev = t->last;
	if (t->last != NULL)
		t->last->next = e;
	else
		t->first = e;
	t->last = e;
	t->count++;
	return 0;
}

void *
htable_find(const struct htable *t, const char *key)
{
	struct htable_entry *e;
	uint64_t hash;

	e = htable_locate(t, key, &hash);
	return e != NULL ? e->value : NULL;
}

int
htable_delete(struct htable *t, const char *key, htable_free_fn free_fn)
{
	struct htable_entry *e, **link;
	uint64_t hash;

	if ((e = htable_locate(t, key, &hash)) == NULL)
		return -1;
	for (link = &t->buckets[hash & (t->nbuckets - 1)]; *link != e;
	    link = &(*link)->chain)
		;
	*link = e->chain;
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		t->first = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		t->last = e->prev;
	t->count--;
	if (free_fn != NULL)
		free_fn(e->value);
	free(e);
	return 0;
}

size_t
htable_size(const struct htable *t)
{
	return t->count;
}

int
htable_walk(const struct htable *t, htable_walk_fn fn, void *ctx)
{
	int ret;

	for (const struct htable_entry *e = t->first; e != NULL; e = e->next)
		if ((ret = fn(e->key, e->value, ctx)) != 0)
			return ret;
	return 0;
}
