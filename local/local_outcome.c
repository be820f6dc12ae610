/*
 * local_outcome - what became of one delivery in the local agent
 *
 * Errors: none; reasons longer than LOCAL_REASON_MAX are cut, as they
 * only feed log lines and DSN text.
 * Trust: reasons may quote command output; msg.c and the DSN writer
 * neutralise control characters downstream.
 */
#include "local_outcome.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/sbuf.h"

void
local_outcome_init(struct local_outcome *o)
{
	o->set = false;
	o->status = DELIVER_DEFERRED;
	snprintf(o->dsn, sizeof(o->dsn), "4.3.0");
	o->reason = sbuf_new();
}

void
local_outcome_clear(struct local_outcome *o)
{
	sbuf_free(&o->reason);
	o->set = false;
}

/* Appends text to reason, cutting it at LOCAL_REASON_MAX octets. */
static void
local_outcome_append(struct sbuf *reason, const char *text)
{
	size_t room = LOCAL_REASON_MAX > sbuf_len(reason) ?
	    LOCAL_REASON_MAX - sbuf_len(reason) : 0;
	size_t len = strlen(text);

	sbuf_catn(reason, text, len < room ? len : room);
}

void
local_outcome_set(struct local_outcome *o, enum deliver_status status,
    const char *dsn, const char *fmt, ...)
{
	struct sbuf *text = sbuf_new();
	va_list ap;

	va_start(ap, fmt);
	sbuf_vprintf(text, fmt, ap);
	va_end(ap);
	o->set = true;
	o->status = status;
	snprintf(o->dsn, sizeof(o->dsn), "%s", dsn);
	sbuf_reset(o->reason);
	local_outcome_append(o->reason, sbuf_str(text));
	sbuf_free(&text);
}

/* The weight of a status when outcomes combine: the larger wins. */
static int
local_outcome_rank(enum deliver_status status)
{
	switch (status) {
	case DELIVER_SENT:
		return 0;
	case DELIVER_BOUNCED:
		return 1;
	case DELIVER_DEFERRED:
		return 2;
	}
	return 2;
}

void
local_outcome_merge(struct local_outcome *all,
    const struct local_outcome *part)
{
	if (!part->set)
		return;
	if (!all->set || local_outcome_rank(part->status) >
	    local_outcome_rank(all->status)) {
		local_outcome_set(all, part->status, part->dsn, "%s",
		    sbuf_str(part->reason));
		return;
	}
	if (part->status == DELIVER_SENT && all->status == DELIVER_SENT) {
		local_outcome_append(all->reason, "; ");
		local_outcome_append(all->reason, sbuf_str(part->reason));
	}
}
