/*
 * fuzz_mta_sts - MTA-STS as a hostile domain publishes it: the
 * _mta-sts TXT record's text and the policy file its web server sends
 *
 * Each input is parsed as both. A record taken must have an id of 1 to
 * SMTP_STS_ID_MAX letters and digits; a policy taken must hold only
 * what smtp_sts.h allows, and each of its mx patterns must match the
 * host names it stands for (when it is a host name or "*." and one),
 * in any case and with a trailing dot.
 */
#include "fuzz.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_sts.h"
#include "util/sbuf.h"

/* Aborts unless the record parse gave what smtp_sts.h says. */
static void
fuzz_check_record(int rc, const struct sbuf *id, const struct sbuf *why)
{
	switch (rc) {
	case 1:
		if (sbuf_len(id) == 0 || sbuf_len(id) > SMTP_STS_ID_MAX)
			abort();
		for (const char *c = sbuf_str(id); *c != '\0'; c++)
			if (!isalnum((unsigned char)*c))
				abort();
		break;
	case 0:
		if (sbuf_len(id) != 0)
			abort();
		break;
	case -1:
		if (sbuf_len(why) == 0)
			abort();
		break;
	default:
		abort();
	}
}

/*
 * True when the len octets of s are a host name: labels of letters,
 * digits, '-' and '_' separated by single dots.
 */
static bool
fuzz_name_ok(const char *s, size_t len)
{
	bool label_start = true;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (label_start)
				return false;
			label_start = true;
		} else if (isalnum((unsigned char)s[i]) || s[i] == '-' ||
		    s[i] == '_') {
			label_start = false;
		} else {
			return false;
		}
	}
	return len > 0 && !label_start;
}

/* Aborts unless host matches pol, also upper-cased and dot-terminated. */
static void
fuzz_must_match(const struct smtp_sts_policy *pol, const char *host)
{
	struct sbuf *variant = sbuf_new();

	if (!smtp_sts_mx_match(pol, host))
		abort();
	sbuf_printf(variant, "%s.", host);
	for (char *c = variant->data; *c != '\0'; c++)
		*c = (char)toupper((unsigned char)*c);
	if (!smtp_sts_mx_match(pol, sbuf_str(variant)))
		abort();
	sbuf_free(&variant);
}

/* Aborts unless pol holds only what smtp_sts.h allows. */
static void
fuzz_check_policy(const struct smtp_sts_policy *pol)
{
	struct sbuf *host = sbuf_new();

	if (pol->mode != SMTP_STS_NONE && pol->mode != SMTP_STS_TESTING &&
	    pol->mode != SMTP_STS_ENFORCE)
		abort();
	if (pol->max_age < 0 || pol->mx_count > SMTP_STS_MX_MAX ||
	    (pol->mode != SMTP_STS_NONE && pol->mx_count == 0))
		abort();
	for (size_t i = 0; i < pol->mx_count; i++) {
		const char *pat = pol->mx[i];
		size_t len = strlen(pat);

		if (len == 0)
			abort();
		for (const char *c = pat; *c != '\0'; c++)
			if (isupper((unsigned char)*c) ||
			    (unsigned char)*c < 0x20 || *c == 0x7f)
				abort();
		/* A pattern ending in a dot stands for the name without. */
		if (len > 1 && pat[len - 1] == '.')
			len--;
		if (fuzz_name_ok(pat, len)) {
			sbuf_setf(host, "%.*s", (int)len, pat);
			fuzz_must_match(pol, sbuf_str(host));
		} else if (strncmp(pat, "*.", 2) == 0 &&
		    fuzz_name_ok(pat + 2, len - 2)) {
			sbuf_setf(host, "mx%.*s", (int)len - 1, pat + 1);
			fuzz_must_match(pol, sbuf_str(host));
		}
	}
	smtp_sts_mx_match(pol, "");
	smtp_sts_mx_match(pol, ".");
	smtp_sts_mx_match(pol, "mx.example.test");
	sbuf_free(&host);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbuf *id = sbuf_new(), *why = sbuf_new();
	struct smtp_sts_policy pol;
	const char *text = (const char *)data;

	fuzz_check_record(smtp_sts_record_parse(text, size, id, why), id,
	    why);
	sbuf_reset(why);
	if (smtp_sts_policy_parse(text, size, &pol, why) == 0) {
		fuzz_check_policy(&pol);
		smtp_sts_policy_clear(&pol);
	} else if (sbuf_len(why) == 0 || pol.mx != NULL) {
		abort();
	}
	sbuf_free(&id);
	sbuf_free(&why);
	return 0;
}
