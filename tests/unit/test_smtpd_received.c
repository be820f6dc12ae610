/*
 * test_smtpd_received - the Received: header text and its protocol names
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "smtpd_received.h"
#include "util/sbuf.h"

/* 2026-11-23 05:21:44 UTC. */
#define WHEN	((time_t)1795411304)

struct received_row {
	const char *name;
	struct smtpd_received in;
	const char *want;
};

static const struct received_row received_rows[] = {
	{ "plain ESMTP, one recipient", {
		"client.example", "client.example", "192.0.2.1",
		"mail.example.test", "Postern", "ESMTP", "0TOXWPD98HD6KJYO",
		NULL, "demo@example.test", WHEN },
	    "Received: from client.example (client.example [192.0.2.1])\n"
	    "\tby mail.example.test (Postern) with ESMTP id 0TOXWPD98HD6KJYO\n"
	    "\tfor <demo@example.test>; Mon, 23 Nov 2026 05:21:44 +0000\n" },
	{ "TLS, several recipients", {
		"[192.0.2.1]", "unknown", "192.0.2.1", "mx.example",
		"Postern", "ESMTPS", "ID1",
		"TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)",
		NULL, WHEN },
	    "Received: from [192.0.2.1] (unknown [192.0.2.1])\n"
	    "\tby mx.example (Postern) with ESMTPS id ID1\n"
	    "\t(TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))"
	    "; Mon, 23 Nov 2026 05:21:44 +0000\n" },
	{ "no HELO: the name stands in", {
		NULL, "localhost", "127.0.0.1", "mx.example", "Postern",
		"SMTP", "ID2", NULL, NULL, WHEN },
	    "Received: from localhost (localhost [127.0.0.1])\n"
	    "\tby mx.example (Postern) with SMTP id ID2"
	    "; Mon, 23 Nov 2026 05:21:44 +0000\n" },
	{ "IPv6 client is tagged", {
		"h.example", "unknown", "2001:db8::1", "mx.example", "Postern",
		"UTF8SMTP", "ID3", NULL, "\"a b\"@example.com", WHEN },
	    "Received: from h.example (unknown [IPv6:2001:db8::1])\n"
	    "\tby mx.example (Postern) with UTF8SMTP id ID3\n"
	    "\tfor <\"a b\"@example.com>; Mon, 23 Nov 2026 05:21:44 +0000\n" },
};

static void
test_format(void **state)
{
	struct sbuf *out = sbuf_new();

	setenv("TZ", "UTC", 1);
	tzset();
	sbuf_set(out, "old content is replaced");
	for (size_t i = 0; i < sizeof(received_rows) /
	    sizeof(received_rows[0]); i++) {
		smtpd_received_format(&received_rows[i].in, out);
		if (strcmp(sbuf_str(out), received_rows[i].want) != 0)
			fail_msg("%s: got\n%s\nwant\n%s", received_rows[i].name,
			    sbuf_str(out), received_rows[i].want);
		/* Stored with LF endings, never CR. */
		assert_null(strchr(sbuf_str(out), '\r'));
	}
	sbuf_free(&out);
}

static void
test_zone_offset(void **state)
{
	struct smtpd_received r = received_rows[0].in;
	struct sbuf *out = sbuf_new();

	setenv("TZ", "EST5", 1);
	tzset();
	smtpd_received_format(&r, out);
	assert_non_null(strstr(sbuf_str(out),
	    "; Mon, 23 Nov 2026 00:21:44 -0500\n"));
	setenv("TZ", "UTC", 1);
	tzset();
	sbuf_free(&out);
}

static void
test_with(void **state)
{
	assert_string_equal(smtpd_received_with(false, false, false), "SMTP");
	assert_string_equal(smtpd_received_with(false, true, false), "SMTP");
	assert_string_equal(smtpd_received_with(false, false, true), "SMTP");
	assert_string_equal(smtpd_received_with(true, false, false), "ESMTP");
	assert_string_equal(smtpd_received_with(true, true, false), "ESMTPS");
	assert_string_equal(smtpd_received_with(true, false, true),
	    "UTF8SMTP");
	assert_string_equal(smtpd_received_with(true, true, true),
	    "UTF8SMTPS");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_zone_offset),
		cmocka_unit_test(test_with),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
