/*
 * anvil_table - anvil's counts: open sessions and connection rates per
 * client and service
 *
 * A client is a (service, address) pair. The table counts its sessions
 * that are open now and its connects in the current rate window: the
 * window opens at the first connect and lasts rate_unit seconds; the first
 * connect after it passed opens the next one. A client with no open
 * session whose window has passed is forgotten by anvil_table_sweep().
 * The table tracks at most max_clients clients at once.
 *
 * Time is whatever clock the caller passes as now (seconds, never going
 * back): anvil passes the monotonic clock, tests a fake one. The table
 * also remembers the highest count and rate seen since the last
 * anvil_table_stats_take(), for anvil's statistics lines.
 */
#ifndef POSTERN_ANVIL_TABLE_H
#define POSTERN_ANVIL_TABLE_H

#include <stddef.h>

struct anvil_table;
struct anvil_client;

/* The highest value of one measure, and where and when it was seen. */
struct anvil_peak {
	long value;		/* 0 when nothing was seen */
	char *service;		/* NULL when nothing was seen */
	char *addr;
	long when;		/* the caller's clock */
};

/* What anvil_table_stats_take() hands out; the caller frees it. */
struct anvil_stats {
	struct anvil_peak count;	/* most simultaneous sessions */
	struct anvil_peak rate;		/* most connects in one window */
};

/* An empty table; rate_unit at least 1 second, max_clients at least 1. */
struct anvil_table *anvil_table_new(long rate_unit, size_t max_clients);
/* Frees *t and every client and sets *t to NULL; accepts NULL. */
void anvil_table_free(struct anvil_table **t);

/*
 * Records a new session of addr on service at now. The client's entry
 * (valid until the matching anvil_table_disconnect()), with *count_r its
 * open sessions and *rate_r its connects in the current window, both
 * including this one; NULL when the client is new and the table already
 * tracks max_clients clients after forgetting the ones it may.
 */
struct anvil_client *anvil_table_connect(struct anvil_table *t,
    const char *service, const char *addr, long now, long *count_r,
    long *rate_r);
/* Records the end of one session of the client anvil_table_connect() gave. */
void anvil_table_disconnect(struct anvil_client *c);

/*
 * Forgets every client with no open session whose rate window has passed
 * at now; returns how many were forgotten.
 */
size_t anvil_table_sweep(struct anvil_table *t, long now);
/* The number of clients tracked. */
size_t anvil_table_size(const struct anvil_table *t);

/*
 * Moves the peaks seen since the last call into *stats (the caller then
 * calls anvil_stats_clear()) and starts counting them anew.
 */
void anvil_table_stats_take(struct anvil_table *t, struct anvil_stats *stats);
/* Frees what *stats holds and zeroes it. */
void anvil_stats_clear(struct anvil_stats *stats);

#endif
