/*
 * test_local_loop - Delivered-To: headers found in a message
 */
#include "testutil.h"

#include <errno.h>
#include <string.h>

#include "local_loop.h"
#include "util/sbuf.h"
#include "util/xmalloc.h"

struct mem_reader {
	const char *data;
	size_t len, pos;
	size_t step;		/* most octets returned per call */
};

static ssize_t
mem_read(void *ctx, char *buf, size_t len)
{
	struct mem_reader *r = ctx;
	size_t n = r->len - r->pos;

	if (n > len)
		n = len;
	if (r->step > 0 && n > r->step)
		n = r->step;
	memcpy(buf, r->data + r->pos, n);
	r->pos += n;
	return (ssize_t)n;
}

static ssize_t
failing_read(void *ctx, char *buf, size_t len)
{
	(void)ctx;
	(void)buf;
	(void)len;
	errno = EIO;
	return -1;
}

struct scan_case {
	const char *name;
	const char *message;
	const char *values;	/* expected, one per line */
};

static const struct scan_case scan_cases[] = {
	{ "none", "Subject: x\n\nbody\n", "" },
	{ "one", "Delivered-To: a@b\nSubject: x\n\nbody\n", "a@b\n" },
	{ "any case, blanks", "DELIVERED-to:   a@b  \r\n\r\n", "a@b\n" },
	{ "several", "Delivered-To: a@b\nX: y\nDelivered-To: <c@d>\n\n",
	    "a@b\n<c@d>\n" },
	{ "folded", "Delivered-To:\n a@b\n\n", "a@b\n" },
	{ "only in body", "Subject: x\n\nDelivered-To: a@b\n", "" },
	{ "no body", "Delivered-To: a@b", "a@b\n" },
	{ "similar name", "Delivered-Tox: a@b\nX-Delivered-To: c@d\n\n",
	    "" },
};

static void
test_scan_table(void **state)
{
	struct sbuf *values = sbuf_new();

	(void)state;
	for (size_t i = 0; i < sizeof(scan_cases) / sizeof(scan_cases[0]);
	    i++) {
		const struct scan_case *c = &scan_cases[i];

		for (size_t step = 0; step <= 3; step += 3) {
			struct mem_reader r = { c->message,
			    strlen(c->message), 0, step };

			assert_int_equal(local_loop_scan(mem_read, &r,
			    values), 0);
			if (strcmp(sbuf_str(values), c->values) != 0)
				fail_msg("%s (step %zu): got \"%s\"", c->name,
				    step, sbuf_str(values));
		}
	}
	sbuf_free(&values);
}

/* The header is read with a bound, whatever the message holds. */
static void
test_scan_bounded(void **state)
{
	size_t len = LOCAL_LOOP_HEADER_MAX * 2;
	char *big = xmalloc(len);
	struct mem_reader r = { big, len, 0, 0 };
	struct sbuf *values = sbuf_new();

	(void)state;
	memset(big, 'x', len);
	memcpy(big, "Delivered-To: a@b\n", 18);
	assert_int_equal(local_loop_scan(mem_read, &r, values), 0);
	assert_true(r.pos <= LOCAL_LOOP_HEADER_MAX);
	assert_string_equal(sbuf_str(values), "a@b\n");
	assert_int_equal(local_loop_scan(failing_read, NULL, values), -1);
	free(big);
	sbuf_free(&values);
}

static void
test_seen(void **state)
{
	struct sbuf *values = sbuf_new();

	(void)state;
	sbuf_set(values, "alice@example.com\n<bob@example.com>\n");
	assert_true(local_loop_seen(values, "alice@example.com"));
	assert_true(local_loop_seen(values, "ALICE@Example.com"));
	assert_true(local_loop_seen(values, "bob@example.com"));
	assert_false(local_loop_seen(values, "alice@example.co"));
	assert_false(local_loop_seen(values, "lice@example.com"));
	assert_false(local_loop_seen(values, "carol@example.com"));
	sbuf_reset(values);
	assert_false(local_loop_seen(values, "alice@example.com"));
	sbuf_free(&values);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scan_table),
		cmocka_unit_test(test_scan_bounded),
		cmocka_unit_test(test_seen),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
