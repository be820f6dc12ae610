/*
 * qmgr_window - how many deliveries one destination takes at once
 *
 * A destination starts with a window of initial_destination_concurrency
 * parallel deliveries (at most its concurrency limit). Every delivery
 * that reaches the destination widens the window by 1/window, so a
 * window-full of them adds one, up to the limit (slow start). A delivery
 * that fails to reach it ("cannot connect": every recipient deferred
 * with a 4.4.x status) narrows the window by 1/window, never below one,
 * and counts as 1/window of a failed cohort; once the failed cohorts
 * since the last success reach the cohort limit (destination_
 * concurrency_failed_cohort_limit, 0 for never) the destination is
 * dead, and the caller suspends it.
 */
#ifndef POSTERN_QMGR_WINDOW_H
#define POSTERN_QMGR_WINDOW_H

#include <stdbool.h>

struct qmgr_window {
	double size;		/* deliveries at once, its floor */
	double failed;		/* failed cohorts since the last success */
	int limit;		/* the size never exceeds it */
	long cohort_limit;	/* failed cohorts that make it dead; 0 never */
};

/* A fresh window: initial (1 to limit) deliveries at once. */
void qmgr_window_init(struct qmgr_window *w, long initial, long limit,
    long cohort_limit);

/* How many deliveries the window allows at once now: 1 or more. */
int qmgr_window_room(const struct qmgr_window *w);

/* A delivery reached the destination. */
void qmgr_window_success(struct qmgr_window *w);

/* A delivery could not reach it: true when the destination is dead. */
bool qmgr_window_failure(struct qmgr_window *w);

#endif
