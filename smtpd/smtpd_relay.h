/*
 * smtpd_relay - relay control: smtpd_relay_restrictions applied to RCPT
 *
 * The restriction list is walked in order; the first item that decides
 * ends the walk, and a list that ends without a decision permits (as an
 * access list with nothing against the recipient does). The items:
 *
 *	permit_mynetworks	permit when the client is in mynetworks
 *	permit_sasl_authenticated permit when the client authenticated
 *	permit_auth_destination	permit when the recipient's domain is
 *				an "auth destination": its class
 *				(resolve.h) is LOCAL, VIRTUAL or RELAY
 *	reject_unauth_destination reject unless it is one (554 5.7.1)
 *	defer_unauth_destination defer unless it is one (454 4.7.1)
 *	permit, reject		permit, reject (554 5.7.1)
 *
 * Any other item is a configuration error (451 4.3.5), reported when the
 * walk reaches it, so a list whose earlier items decide still works. The
 * domain class is given by the caller; when its lookup failed, an item
 * that needs it makes the answer a temporary lookup failure.
 *
 * Errors: none at parse time; the verdict carries them.
 * Trust: the list comes from the admin; the facts from smtpd.
 */
#ifndef POSTERN_SMTPD_RELAY_H
#define POSTERN_SMTPD_RELAY_H

#include <stdbool.h>

struct smtpd_relay;

/* What the recipient's domain class says about relaying to it. */
enum smtpd_relay_dest {
	SMTPD_DEST_AUTH,	/* LOCAL, VIRTUAL or RELAY */
	SMTPD_DEST_UNAUTH,	/* DEFAULT: someone else's domain */
	SMTPD_DEST_ERROR	/* the domain tables failed */
};

/* What is known of the client and recipient. */
struct smtpd_relay_facts {
	bool mynetworks;	/* the client is in mynetworks */
	bool authenticated;	/* the client authenticated (SASL) */
	enum smtpd_relay_dest dest;
};

enum smtpd_relay_verdict {
	SMTPD_RELAY_PERMIT,
	SMTPD_RELAY_REJECT,	/* 554 5.7.1 Relay access denied */
	SMTPD_RELAY_DEFER,	/* 454 4.7.1 Relay access denied */
	SMTPD_RELAY_LOOKUP_ERROR, /* 451 4.3.0: the domain lookup failed */
	SMTPD_RELAY_CONFIG_ERROR /* 451 4.3.5: an unknown item */
};

/* Parses a restriction list (items separated by commas or whitespace). */
struct smtpd_relay *smtpd_relay_new(const char *list);
/* Frees *r and sets it to NULL; accepts NULL. */
void smtpd_relay_free(struct smtpd_relay **r);

/*
 * Walks the list for facts. For SMTPD_RELAY_CONFIG_ERROR, *item_r is the
 * unknown item (borrowed from r), for the caller to log.
 */
enum smtpd_relay_verdict smtpd_relay_decide(const struct smtpd_relay *r,
    const struct smtpd_relay_facts *facts, const char **item_r);

#endif
