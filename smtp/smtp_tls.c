/*
 * smtp_tls - the SMTP client's TLS policy for a next hop
 *
 * Errors: -1 with a reason; never logs. Trust: the tables are the
 * administrator's.
 */
#include "smtp_tls.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mail/maps.h"
#include "util/sbuf.h"
#include "util/strutil.h"
#include "util/xmalloc.h"

static const char *const smtp_tls_level_names[] = {
	[SMTP_TLS_NONE] = "none",
	[SMTP_TLS_MAY] = "may",
	[SMTP_TLS_ENCRYPT] = "encrypt",
	[SMTP_TLS_VERIFY] = "verify",
	[SMTP_TLS_DANE] = "dane",
};

int
smtp_tls_level_parse(const char *name, enum smtp_tls_level *level)
{
	for (size_t i = 0; i < sizeof(smtp_tls_level_names) /
	    sizeof(smtp_tls_level_names[0]); i++) {
		if (strcasecmp(name, smtp_tls_level_names[i]) == 0) {
			*level = (enum smtp_tls_level)i;
			return 0;
		}
	}
	return -1;
}

const char *
smtp_tls_level_name(enum smtp_tls_level level)
{
	return smtp_tls_level_names[level];
}

int
smtp_tls_policy(struct maps *maps, const char *nexthop, const char *host,
    enum smtp_tls_level deflt, enum smtp_tls_level *level_r,
    struct sbuf *why)
{
	const char *keys[] = { nexthop, host };
	struct sbuf *value = sbuf_new();
	int ret = 0;

	*level_r = deflt;
	for (size_t i = 0; maps != NULL && i < 2; i++) {
		enum dict_status st = maps_find(maps, keys[i], value, why);
		char *copy, *cursor, *word;

		if (st == DICT_NOTFOUND)
			continue;
		if (st == DICT_ERROR) {
			ret = -1;
			break;
		}
		copy = xstrdup(sbuf_str(value));
		cursor = copy;
		word = str_token(&cursor, STR_LIST_DELIMS);
		if (word == NULL || smtp_tls_level_parse(word, level_r) < 0) {
			sbuf_setf(why, "smtp_tls_policy_maps: %s: bad TLS "
			    "level \"%s\"", keys[i], sbuf_str(value));
			ret = -1;
		}
		free(copy);
		break;
	}
	sbuf_free(&value);
	return ret;
}
