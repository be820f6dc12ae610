/*
 * test_smtpd_relay - relay control: smtpd_relay_restrictions decisions
 */
#include "testutil.h"

#include <string.h>

#include "smtpd_relay.h"

#define AUTH	SMTPD_DEST_AUTH
#define UNAUTH	SMTPD_DEST_UNAUTH
#define ERR	SMTPD_DEST_ERROR
#define PERMIT	SMTPD_RELAY_PERMIT
#define REJECT	SMTPD_RELAY_REJECT
#define DEFER	SMTPD_RELAY_DEFER
#define LOOKUP	SMTPD_RELAY_LOOKUP_ERROR
#define CONFIG	SMTPD_RELAY_CONFIG_ERROR

#define DEFAULT_LIST	"permit_mynetworks, permit_sasl_authenticated, " \
	"defer_unauth_destination"
#define REJECT_LIST	"permit_mynetworks, permit_sasl_authenticated, " \
	"reject_unauth_destination"

struct relay_row {
	const char *name;
	const char *list;
	bool mynetworks;
	bool authenticated;
	enum smtpd_relay_dest dest;
	enum smtpd_relay_verdict want;
	const char *item;	/* the unknown item, for CONFIG */
};

static const struct relay_row relay_rows[] = {
	{ "default: own network relays", DEFAULT_LIST, true, false, UNAUTH,
	    PERMIT, NULL },
	{ "default: outsider to us", DEFAULT_LIST, false, false, AUTH,
	    PERMIT, NULL },
	{ "default: outsider relaying is deferred", DEFAULT_LIST, false,
	    false, UNAUTH, DEFER, NULL },
	{ "authenticated relays", DEFAULT_LIST, false, true, UNAUTH, PERMIT,
	    NULL },
	{ "reject list: outsider relaying", REJECT_LIST, false, false, UNAUTH,
	    REJECT, NULL },
	{ "reject list: outsider to us", REJECT_LIST, false, false, AUTH,
	    PERMIT, NULL },
	{ "mynetworks decides before a failed lookup", REJECT_LIST, true,
	    false, ERR, PERMIT, NULL },
	{ "failed lookup is temporary", REJECT_LIST, false, false, ERR,
	    LOOKUP, NULL },
	{ "failed lookup, defer list", DEFAULT_LIST, false, false, ERR,
	    LOOKUP, NULL },
	{ "permit_auth_destination to us", "permit_auth_destination, reject",
	    false, false, AUTH, PERMIT, NULL },
	{ "permit_auth_destination elsewhere", "permit_auth_destination, "
	    "reject", false, false, UNAUTH, REJECT, NULL },
	{ "permit_auth_destination failed lookup", "permit_auth_destination",
	    false, false, ERR, LOOKUP, NULL },
	{ "plain reject", "reject", true, true, AUTH, REJECT, NULL },
	{ "plain permit", "permit, reject", false, false, UNAUTH, PERMIT,
	    NULL },
	{ "empty list permits", "", false, false, UNAUTH, PERMIT, NULL },
	{ "list that decides nothing permits", "permit_mynetworks", false,
	    false, UNAUTH, PERMIT, NULL },
	{ "unknown item reached", "permit_mynetworks, reject_bogus, reject",
	    false, false, AUTH, CONFIG, "reject_bogus" },
	{ "unknown item not reached", "permit_mynetworks, reject_bogus",
	    true, false, UNAUTH, PERMIT, NULL },
	{ "names ignore case", "Permit_MyNetworks REJECT", true, false,
	    UNAUTH, PERMIT, NULL },
	{ "whitespace separated", "permit_mynetworks\treject_unauth_"
	    "destination", false, false, UNAUTH, REJECT, NULL },
	{ "sasl never without auth", "permit_sasl_authenticated, reject",
	    false, false, AUTH, REJECT, NULL },
};

static void
test_decide(void **state)
{
	for (size_t i = 0; i < sizeof(relay_rows) / sizeof(relay_rows[0]);
	    i++) {
		const struct relay_row *row = &relay_rows[i];
		struct smtpd_relay *r = smtpd_relay_new(row->list);
		struct smtpd_relay_facts f = { row->mynetworks,
		    row->authenticated, row->dest };
		const char *item = NULL;
		enum smtpd_relay_verdict v = smtpd_relay_decide(r, &f, &item);

		if (v != row->want)
			fail_msg("%s: verdict %d, want %d", row->name, (int)v,
			    (int)row->want);
		if (row->item != NULL &&
		    (item == NULL || strcmp(item, row->item) != 0))
			fail_msg("%s: item %s, want %s", row->name,
			    item != NULL ? item : "(none)", row->item);
		smtpd_relay_free(&r);
		assert_null(r);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
