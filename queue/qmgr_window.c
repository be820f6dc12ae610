/*
 * qmgr_window - how many deliveries one destination takes at once
 *
 * Errors: none; limits below one are taken as one. Trust: the numbers
 * come from the admin's parameters.
 */
#include "qmgr_window.h"

void
qmgr_window_init(struct qmgr_window *w, long initial, long limit,
    long cohort_limit)
{
	w->limit = limit < 1 ? 1 : limit > 1000000 ? 1000000 : (int)limit;
	if (initial < 1)
		initial = 1;
	w->size = initial > w->limit ? w->limit : (double)initial;
	w->failed = 0;
	w->cohort_limit = cohort_limit < 0 ? 0 : cohort_limit;
}

int
qmgr_window_room(const struct qmgr_window *w)
{
	int room = (int)(w->size + 1e-9);

	return room < 1 ? 1 : room;
}

void
qmgr_window_success(struct qmgr_window *w)
{
	w->failed = 0;
	w->size += 1.0 / w->size;
	if (w->size > w->limit)
		w->size = w->limit;
}

bool
qmgr_window_failure(struct qmgr_window *w)
{
	w->failed += 1.0 / w->size;
	w->size -= 1.0 / w->size;
	if (w->size < 1)
		w->size = 1;
	return w->cohort_limit > 0 && w->failed + 1e-9 >= w->cohort_limit;
}
