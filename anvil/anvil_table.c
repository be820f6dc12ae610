/*
 * anvil_table - anvil's counts: open sessions and connection rates per
 * client and service
 *
 * Clients live in a hash table keyed by the length of the service name,
 * the service and the address, so no two pairs share a key whatever
 * bytes they hold. Sweeping walks the table, collects the keys of the
 * clients to forget, then deletes them (a walk must not delete).
 *
 * Errors: none; a full table is the caller's to report.
 * Trust: service and address come from anvil's peers, checked by the
 * protocol codec; here they are only copied and compared.
 */
#include "anvil_table.h"

#include <stdlib.h>
#include <string.h>

#include "util/htable.h"
#include "util/msg.h"
#include "util/sbuf.h"
#include "util/xmalloc.h"

struct anvil_client {
	char *key;		/* as stored in the table */
	char *service;
	char *addr;
	long count;		/* open sessions */
	long rate;		/* connects in the current window */
	long window_start;	/* when the current window opened */
};

struct anvil_table {
	struct htable *clients;
	long rate_unit;
	size_t max_clients;
	struct anvil_stats peaks;
};

/* What a sweep collects: the keys of the clients to forget. */
struct anvil_sweep {
	long now;
	long rate_unit;
	char **keys;
	size_t count;
	size_t cap;
};

struct anvil_table *
anvil_table_new(long rate_unit, size_t max_clients)
{
	struct anvil_table *t = xcalloc(1, sizeof(*t));

	if (rate_unit < 1 || max_clients < 1)
		msg_panic("anvil_table_new: rate unit %ld, max clients %zu",
		    rate_unit, max_clients);
	t->clients = htable_new();
	t->rate_unit = rate_unit;
	t->max_clients = max_clients;
	return t;
}

static void
anvil_client_free(void *value)
{
	struct anvil_client *c = value;

	free(c->key);
	free(c->service);
	free(c->addr);
	free(c);
}

void
anvil_table_free(struct anvil_table **t)
{
	if (*t == NULL)
		return;
	htable_free(&(*t)->clients, anvil_client_free);
	anvil_stats_clear(&(*t)->peaks);
	xfree(t);
}

/* The key of (service, addr); the caller frees it. */
static char *
anvil_key(const char *service, const char *addr)
{
	struct sbuf *sb = sbuf_new();
	char *key;

	sbuf_printf(sb, "%zu %s %s", strlen(service), service, addr);
	key = sbuf_steal(sb);
	sbuf_free(&sb);
	return key;
}

/* Raises peak to value when value is higher, noting the client and time. */
static void
anvil_peak_note(struct anvil_peak *peak, long value,
    const struct anvil_client *c, long now)
{
	if (value <= peak->value)
		return;
	if (peak->service == NULL || strcmp(peak->service, c->service) != 0 ||
	    strcmp(peak->addr, c->addr) != 0) {
		free(peak->service);
		free(peak->addr);
		peak->service = xstrdup(c->service);
		peak->addr = xstrdup(c->addr);
	}
	peak->value = value;
	peak->when = now;
}

struct anvil_client *
anvil_table_connect(struct anvil_table *t, const char *service,
    const char *addr, long now, long *count_r, long *rate_r)
{
	char *key = anvil_key(service, addr);
	struct anvil_client *c = htable_find(t->clients, key);

	if (c == NULL) {
		if (htable_size(t->clients) >= t->max_clients)
			anvil_table_sweep(t, now);
		if (htable_size(t->clients) >= t->max_clients) {
			free(key);
			return NULL;
		}
		c = xcalloc(1, sizeof(*c));
		c->key = key;
		c->service = xstrdup(service);
		c->addr = xstrdup(addr);
		c->window_start = now;
		if (htable_insert(t->clients, key, c) < 0)
			msg_panic("anvil_table_connect: duplicate key");
	} else {
		free(key);
		if (now - c->window_start >= t->rate_unit) {
			c->window_start = now;
			c->rate = 0;
		}
	}
	c->count++;
	c->rate++;
	anvil_peak_note(&t->peaks.count, c->count, c, now);
	anvil_peak_note(&t->peaks.rate, c->rate, c, now);
	*count_r = c->count;
	*rate_r = c->rate;
	return c;
}

void
anvil_table_disconnect(struct anvil_client *c)
{
	if (c->count <= 0)
		msg_panic("anvil_table_disconnect: %s on %s has no session",
		    c->addr, c->service);
	c->count--;
}

/* htable_walk() callback: collects a client that may be forgotten. */
static int
anvil_sweep_collect(const char *key, void *value, void *ctx)
{
	const struct anvil_client *c = value;
	struct anvil_sweep *s = ctx;

	if (c->count > 0 || s->now - c->window_start < s->rate_unit)
		return 0;
	if (s->count == s->cap) {
		s->cap = s->cap == 0 ? 64 : s->cap * 2;
		s->keys = xreallocarray(s->keys, s->cap, sizeof(*s->keys));
	}
	s->keys[s->count++] = xstrdup(key);
	return 0;
}

size_t
anvil_table_sweep(struct anvil_table *t, long now)
{
	struct anvil_sweep s = { .now = now, .rate_unit = t->rate_unit };

	htable_walk(t->clients, anvil_sweep_collect, &s);
	for (size_t i = 0; i < s.count; i++) {
		htable_delete(t->clients, s.keys[i], anvil_client_free);
		free(s.keys[i]);
	}
	free(s.keys);
	return s.count;
}

size_t
anvil_table_size(const struct anvil_table *t)
{
	return htable_size(t->clients);
}

void
anvil_table_stats_take(struct anvil_table *t, struct anvil_stats *stats)
{
	*stats = t->peaks;
	memset(&t->peaks, 0, sizeof(t->peaks));
}

void
anvil_stats_clear(struct anvil_stats *stats)
{
	free(stats->count.service);
	free(stats->count.addr);
	free(stats->rate.service);
	free(stats->rate.addr);
	memset(stats, 0, sizeof(*stats));
}
