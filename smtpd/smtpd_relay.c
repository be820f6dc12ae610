/*
 * smtpd_relay - relay control: smtpd_relay_restrictions applied to RCPT
 *
 * Items are looked up in one table when the list is parsed; unknown ones
 * are kept by name so the walk can report them.
 *
 * Errors: none; unknown items become a verdict. Trust: admin text.
 */
#include "smtpd_relay.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/strutil.h"
#include "util/xmalloc.h"

enum smtpd_relay_kind {
	SMTPD_ITEM_UNKNOWN,
	SMTPD_ITEM_PERMIT_MYNETWORKS,
	SMTPD_ITEM_PERMIT_SASL,
	SMTPD_ITEM_PERMIT_AUTH_DEST,
	SMTPD_ITEM_REJECT_UNAUTH_DEST,
	SMTPD_ITEM_DEFER_UNAUTH_DEST,
	SMTPD_ITEM_PERMIT,
	SMTPD_ITEM_REJECT
};

static const struct {
	const char *name;
	enum smtpd_relay_kind kind;
} smtpd_relay_items[] = {
	{ "permit_mynetworks", SMTPD_ITEM_PERMIT_MYNETWORKS },
	{ "permit_sasl_authenticated", SMTPD_ITEM_PERMIT_SASL },
	{ "permit_auth_destination", SMTPD_ITEM_PERMIT_AUTH_DEST },
	{ "reject_unauth_destination", SMTPD_ITEM_REJECT_UNAUTH_DEST },
	{ "defer_unauth_destination", SMTPD_ITEM_DEFER_UNAUTH_DEST },
	{ "permit", SMTPD_ITEM_PERMIT },
	{ "reject", SMTPD_ITEM_REJECT },
};

struct smtpd_relay_item {
	enum smtpd_relay_kind kind;
	char *name;
};

struct smtpd_relay {
	struct smtpd_relay_item *items;
	size_t count;
};

static enum smtpd_relay_kind
smtpd_relay_kind(const char *name)
{
	for (size_t i = 0; i < sizeof(smtpd_relay_items) /
	    sizeof(smtpd_relay_items[0]); i++)
		if (strcasecmp(name, smtpd_relay_items[i].name) == 0)
			return smtpd_relay_items[i].kind;
	return SMTPD_ITEM_UNKNOWN;
}

struct smtpd_relay *
smtpd_relay_new(const char *list)
{
	struct smtpd_relay *r = xcalloc(1, sizeof(*r));
	char *copy = xstrdup(list), *cursor = copy, *tok;
	size_t size = 0;

	while ((tok = str_token(&cursor, STR_LIST_DELIMS)) != NULL) {
		if (*tok == '\0')
			continue;
		if (r->count == size) {
			size = size == 0 ? 4 : size * 2;
			r->items = xreallocarray(r->items, size,
			    sizeof(*r->items));
		}
		r->items[r->count].kind = smtpd_relay_kind(tok);
		r->items[r->count].name = xstrdup(tok);
		r->count++;
	}
	free(copy);
	return r;
}

void
smtpd_relay_free(struct smtpd_relay **r)
{
	if (*r == NULL)
		return;
	for (size_t i = 0; i < (*r)->count; i++)
		free((*r)->items[i].name);
	free((*r)->items);
	free(*r);
	*r = NULL;
}

enum smtpd_relay_verdict
smtpd_relay_decide(const struct smtpd_relay *r,
    const struct smtpd_relay_facts *facts, const char **item_r)
{
	for (size_t i = 0; i < r->count; i++) {
		switch (r->items[i].kind) {
		case SMTPD_ITEM_UNKNOWN:
			*item_r = r->items[i].name;
			return SMTPD_RELAY_CONFIG_ERROR;
		case SMTPD_ITEM_PERMIT_MYNETWORKS:
			if (facts->mynetworks)
				return SMTPD_RELAY_PERMIT;
			break;
		case SMTPD_ITEM_PERMIT_SASL:
			if (facts->authenticated)
				return SMTPD_RELAY_PERMIT;
			break;
		case SMTPD_ITEM_PERMIT_AUTH_DEST:
			if (facts->dest == SMTPD_DEST_ERROR)
				return SMTPD_RELAY_LOOKUP_ERROR;
			if (facts->dest == SMTPD_DEST_AUTH)
				return SMTPD_RELAY_PERMIT;
			break;
		case SMTPD_ITEM_REJECT_UNAUTH_DEST:
			if (facts->dest == SMTPD_DEST_ERROR)
				return SMTPD_RELAY_LOOKUP_ERROR;
			if (facts->dest == SMTPD_DEST_UNAUTH)
				return SMTPD_RELAY_REJECT;
			break;
		case SMTPD_ITEM_DEFER_UNAUTH_DEST:
			if (facts->dest == SMTPD_DEST_ERROR)
				return SMTPD_RELAY_LOOKUP_ERROR;
			if (facts->dest == SMTPD_DEST_UNAUTH)
				return SMTPD_RELAY_DEFER;
			break;
		case SMTPD_ITEM_PERMIT:
			return SMTPD_RELAY_PERMIT;
		case SMTPD_ITEM_REJECT:
			return SMTPD_RELAY_REJECT;
		}
	}
	return SMTPD_RELAY_PERMIT;
}
