/*
 * test_attr - the attribute protocol: encoding, decoding, socket framing
 */
#include "testutil.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/attr.h"
#include "util/sbuf.h"

/* Appends a 32-bit big-endian number. */
static void
raw_u32(struct sbuf *sb, uint32_t v)
{
	unsigned char b[4] = { v >> 24, v >> 16, v >> 8, v };

	sbuf_catn(sb, b, 4);
}

/* Appends a record of name and len bytes of value, without any check. */
static void
raw_rec(struct sbuf *sb, const char *name, size_t name_len,
    const void *value, size_t len)
{
	raw_u32(sb, (uint32_t)name_len);
	sbuf_catn(sb, name, name_len);
	raw_u32(sb, (uint32_t)len);
	sbuf_catn(sb, value, len);
}

/* Appends a record whose name and value are C strings. */
static void
raw_str(struct sbuf *sb, const char *name, const char *value)
{
	raw_rec(sb, name, strlen(name), value, strlen(value));
}

/* Empties sb and starts a frame with a placeholder length. */
static void
raw_start(struct sbuf *sb)
{
	sbuf_reset(sb);
	raw_u32(sb, 0);
}

/* Starts a frame and adds the right version record. */
static void
raw_start_v(struct sbuf *sb)
{
	raw_start(sb);
	raw_str(sb, "attr_version", "1");
}

/* Sets the frame's length field to what follows it. */
static void
raw_finish(struct sbuf *sb)
{
	uint32_t v = (uint32_t)(sbuf_len(sb) - 4);

	sb->data[0] = (char)(v >> 24);
	sb->data[1] = (char)(v >> 16);
	sb->data[2] = (char)(v >> 8);
	sb->data[3] = (char)v;
}

/* Decodes sb; fails the test unless it succeeds. */
static struct attr_list *
decode_ok(const struct sbuf *sb)
{
	struct sbuf *why = sbuf_new();
	struct attr_list *list = NULL;

	if (attr_decode(sb->data, sb->len, &list, why) != 0)
		fail_msg("decode: %s", sbuf_str(why));
	sbuf_free(&why);
	return list;
}

static void
test_exact_bytes(void **state)
{
	static const char want[] =
	    "\0\0\0\x2c"
	    "\0\0\0\x0c" "attr_version" "\0\0\0\x01" "1"
	    "\0\0\0\x01" "a" "\0\0\0\x03" "x\0y"
	    "\0\0\0\x01" "n" "\0\0\0\x02" "-7";
	struct sbuf *frame = sbuf_new(), *why = sbuf_new();
	struct attr_writer w;

	attr_begin(&w, frame);
	attr_put_bytes(&w, "a", "x\0y", 3);
	attr_put_long(&w, "n", -7);
	assert_int_equal(attr_end(&w, why), 0);
	assert_int_equal(sbuf_len(frame), sizeof(want) - 1);
	assert_memory_equal(sbuf_str(frame), want, sizeof(want) - 1);
	sbuf_free(&frame);
	sbuf_free(&why);
}

static void
test_round_trip(void **state)
{
	struct sbuf *frame = sbuf_new(), *why = sbuf_new();
	struct sbuf *big = sbuf_new();
	struct attr_writer w;
	struct attr_list *list;
	const char *v;
	size_t len;
	long n;
	char name[32];

	for (int i = 0; i < 5000; i++)
		sbuf_catc(big, i % 251);
	attr_begin(&w, frame);
	attr_put_str(&w, "sender", "alice@example.com");
	attr_put_str(&w, "empty", "");
	attr_put_bytes(&w, "nul", "a\0b\0", 4);
	attr_put_bytes(&w, "only_nul", "\0", 1);
	attr_put_bytes(&w, "big", sbuf_str(big), sbuf_len(big));
	attr_put_long(&w, "min", LONG_MIN);
	attr_put_long(&w, "max", LONG_MAX);
	attr_put_long(&w, "zero", 0);
	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "rcpt_%d", i);
		attr_put_long(&w, name, i * 1000);
	}
	assert_int_equal(attr_end(&w, why), 0);
	list = decode_ok(frame);

	assert_int_equal(attr_count(list), 208);
	assert_string_equal(attr_get_str(list, "sender"), "alice@example.com");
	assert_string_equal(attr_get_str(list, "empty"), "");
	assert_int_equal(attr_get_bytes(list, "empty", &v, &len), 0);
	assert_int_equal(len, 0);
	/* A value holding a NUL is no string, but whole as bytes. */
	assert_null(attr_get_str(list, "nul"));
	assert_int_equal(attr_get_bytes(list, "nul", &v, &len), 0);
	assert_int_equal(len, 4);
	assert_memory_equal(v, "a\0b\0", 4);
	assert_null(attr_get_str(list, "only_nul"));
	assert_int_equal(attr_get_bytes(list, "big", &v, &len), 0);
	assert_int_equal(len, sbuf_len(big));
	assert_memory_equal(v, sbuf_str(big), len);
	assert_int_equal(v[len], '\0');
	assert_int_equal(attr_get_long(list, "min", LONG_MIN, LONG_MAX, &n,
	    why), 0);
	assert_true(n == LONG_MIN);
	assert_int_equal(attr_get_long(list, "max", LONG_MIN, LONG_MAX, &n,
	    why), 0);
	assert_true(n == LONG_MAX);
	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "rcpt_%d", i);
		assert_int_equal(attr_get_long(list, name, 0, LONG_MAX, &n,
		    why), 0);
		assert_int_equal(n, i * 1000);
	}
	/* The version is framing, not a record. */
	assert_null(attr_get_str(list, "attr_version"));
	assert_null(attr_get_str(list, "absent"));
	assert_int_equal(attr_get_bytes(list, "absent", &v, &len), -1);
	assert_null(attr_get_str(list, "rcpt_200"));
	assert_null(attr_get_str(list, "Sender"));
	attr_list_free(&list);
	assert_null(list);
	attr_list_free(&list);
	sbuf_free(&frame);
	sbuf_free(&why);
	sbuf_free(&big);
}

static void
test_empty_frame(void **state)
{
	struct sbuf *frame = sbuf_new(), *why = sbuf_new();
	struct attr_writer w;
	struct attr_list *list;

	attr_begin(&w, frame);
	assert_int_equal(attr_end(&w, why), 0);
	list = decode_ok(frame);
	assert_int_equal(attr_count(list), 0);
	assert_null(attr_get_str(list, "a"));
	attr_list_free(&list);
	sbuf_free(&frame);
	sbuf_free(&why);
}

/* The largest name, value and count are accepted by both sides. */
static void
test_limits_accepted(void **state)
{
	struct sbuf *frame = sbuf_new(), *why = sbuf_new();
	struct sbuf *value = sbuf_new();
	char name[ATTR_NAME_MAX + 1];
	struct attr_writer w;
	struct attr_list *list;
	const char *v;
	size_t len;

	memset(name, 'n', ATTR_NAME_MAX);
	name[ATTR_NAME_MAX] = '\0';
	for (size_t i = 0; i < ATTR_VALUE_MAX; i++)
		sbuf_catc(value, 'v');
	attr_begin(&w, frame);
	attr_put_bytes(&w, name, sbuf_str(value), sbuf_len(value));
	for (int i = 1; i < ATTR_COUNT_MAX; i++) {
		char n[16];

		snprintf(n, sizeof(n), "r%d", i);
		attr_put_str(&w, n, "");
	}
	assert_int_equal(attr_end(&w, why), 0);
	list = decode_ok(frame);
	assert_int_equal(attr_count(list), ATTR_COUNT_MAX);
	assert_int_equal(attr_get_bytes(list, name, &v, &len), 0);
	assert_int_equal(len, ATTR_VALUE_MAX);
	assert_non_null(attr_get_str(list, "r4095"));
	attr_list_free(&list);
	sbuf_free(&frame);
	sbuf_free(&why);
	sbuf_free(&value);
}

/* Writer misuse: each row puts something wrong between good puts. */
static void
put_upper(struct attr_writer *w)
{
	attr_put_str(w, "Sender", "x");
}

static void
put_empty_name(struct attr_writer *w)
{
	attr_put_str(w, "", "x");
}

static void
put_long_name(struct attr_writer *w)
{
	char name[ATTR_NAME_MAX + 2];

	memset(name, 'n', ATTR_NAME_MAX + 1);
	name[ATTR_NAME_MAX + 1] = '\0';
	attr_put_str(w, name, "x");
}

static void
put_dash_name(struct attr_writer *w)
{
	attr_put_long(w, "a-b", 1);
}

static void
put_reserved(struct attr_writer *w)
{
	attr_put_str(w, "attr_version", "1");
}

static void
put_big_value(struct attr_writer *w)
{
	char *v = calloc(ATTR_VALUE_MAX + 1, 1);

	attr_put_bytes(w, "big", v, ATTR_VALUE_MAX + 1);
	free(v);
}

static void
put_too_many(struct attr_writer *w)
{
	char n[16];

	for (int i = 0; i <= ATTR_COUNT_MAX; i++) {
		snprintf(n, sizeof(n), "r%d", i);
		attr_put_str(w, n, "");
	}
}

static void
put_over_sbuf_limit(struct attr_writer *w)
{
	sbuf_set_limit(w->frame, sbuf_len(w->frame) + 20);
	attr_put_str(w, "long", "0123456789012345678901234567890");
}

struct writer_case {
	const char *name;
	void (*put)(struct attr_writer *);
	const char *reason;
};

static const struct writer_case writer_cases[] = {
	{ "upper-case name", put_upper, "invalid attribute name" },
	{ "empty name", put_empty_name, "invalid attribute name" },
	{ "name too long", put_long_name, "invalid attribute name" },
	{ "dash in name", put_dash_name, "invalid attribute name" },
	{ "reserved name", put_reserved, "reserved attribute name" },
	{ "value too long", put_big_value, "attribute value too long" },
	{ "too many", put_too_many, "too many attributes" },
	{ "sbuf limit", put_over_sbuf_limit,
	    "attribute frame over the buffer limit" },
};

static void
test_writer_errors(void **state)
{
	for (size_t i = 0; i < sizeof(writer_cases) / sizeof(*writer_cases);
	    i++) {
		const struct writer_case *c = &writer_cases[i];
		struct sbuf *frame = sbuf_new(), *why = sbuf_new();
		struct attr_writer w;
		size_t len;

		attr_begin(&w, frame);
		attr_put_str(&w, "before", "ok");
		c->put(&w);
		/* Failures stick: later puts add nothing. */
		len = sbuf_len(frame);
		attr_put_str(&w, "after", "ok");
		attr_put_str(&w, "Bad", "x");
		if (sbuf_len(frame) != len)
			fail_msg("%s: frame grew after a failure", c->name);
		if (attr_end(&w, why) != -1)
			fail_msg("%s: attr_end succeeded", c->name);
		if (strcmp(sbuf_str(why), c->reason) != 0)
			fail_msg("%s: reason \"%s\"", c->name, sbuf_str(why));
		sbuf_free(&frame);
		sbuf_free(&why);
	}
}

static void
test_writer_begin_over_limit(void **state)
{
	struct sbuf *frame = sbuf_new(), *why = sbuf_new();
	struct attr_writer w;

	sbuf_set_limit(frame, 3);
	attr_begin(&w, frame);
	attr_put_str(&w, "a", "b");
	assert_int_equal(attr_end(&w, why), -1);
	assert_string_equal(sbuf_str(why),
	    "attribute frame over the buffer limit");
	sbuf_free(&frame);
	sbuf_free(&why);
}

/* Malformed frames: each builder writes one into sb. */
static void
bad_empty(struct sbuf *sb)
{
	sbuf_reset(sb);
}

static void
bad_three_bytes(struct sbuf *sb)
{
	sbuf_reset(sb);
	sbuf_catn(sb, "\0\0\0", 3);
}

static void
bad_length_max(struct sbuf *sb)
{
	raw_start_v(sb);
	memset(sb->data, 0xff, 4);
}

static void
bad_length_short(struct sbuf *sb)
{
	raw_start_v(sb);
	raw_str(sb, "a", "b");
	raw_finish(sb);
	sb->data[3]--;
}

static void
bad_length_long(struct sbuf *sb)
{
	raw_start_v(sb);
	raw_str(sb, "a", "b");
	raw_finish(sb);
	sb->data[3]++;
}

static void
bad_no_body(struct sbuf *sb)
{
	raw_start(sb);
	raw_finish(sb);
}

static void
bad_no_version(struct sbuf *sb)
{
	raw_start(sb);
	raw_str(sb, "sender", "a@b");
	raw_finish(sb);
}

static void
bad_version_second(struct sbuf *sb)
{
	raw_start(sb);
	raw_str(sb, "sender", "a@b");
	raw_str(sb, "attr_version", "1");
	raw_finish(sb);
}

static void
bad_version_2(struct sbuf *sb)
{
	raw_start(sb);
	raw_str(sb, "attr_version", "2");
	raw_finish(sb);
}

static void
bad_version_01(struct sbuf *sb)
{
	raw_start(sb);
	raw_str(sb, "attr_version", "01");
	raw_finish(sb);
}

static void
bad_version_empty(struct sbuf *sb)
{
	raw_start(sb);
	raw_str(sb, "attr_version", "");
	raw_finish(sb);
}

static void
bad_version_nul(struct sbuf *sb)
{
	raw_start(sb);
	raw_rec(sb, "attr_version", 12, "1\0", 2);
	raw_finish(sb);
}

static void
bad_version_name_prefix(struct sbuf *sb)
{
	raw_start(sb);
	raw_str(sb, "attr_versio", "1");
	raw_finish(sb);
}

static void
bad_name_len_zero(struct sbuf *sb)
{
	raw_start_v(sb);
	raw_rec(sb, "", 0, "x", 1);
	raw_finish(sb);
}

static void
bad_name_len_65(struct sbuf *sb)
{
	char name[65];

	memset(name, 'a', sizeof(name));
	raw_start_v(sb);
	raw_rec(sb, name, sizeof(name), "x", 1);
	raw_finish(sb);
}

static void
bad_name_len_max(struct sbuf *sb)
{
	raw_start_v(sb);
	raw_u32(sb, 0xffffffff);
	sbuf_cat(sb, "abc");
	raw_finish(sb);
}

static void
bad_name_truncated(struct sbuf *sb)
{
	raw_start_v(sb);
	raw_u32(sb, 10);
	sbuf_cat(sb, "abc");
	raw_finish(sb);
}

static void
bad_name_upper(struct sbuf *sb)
{
	raw_start_v(sb);
	raw_str(sb, "Sender", "x");
	raw_finish(sb);
}

static void
bad_name_dash(struct sbuf *sb)
{
	raw_start_v(sb);
	raw_str(sb, "a-b", "x");
	raw_finish(sb);
}

static void
bad_name_nul(struct sbuf *sb)
{
	raw_start_v(sb);
	raw_rec(sb, "a\0b", 3, "x", 1);
	raw_finish(sb);
}

static void
bad_name_space(struct sbuf *sb)
{
	raw_start_v(sb);
	raw_str(sb, "a b", "x");
	raw_finish(sb);
}

static void
bad_name_8bit(struct sbuf *sb)
{
	raw_start_v(sb);
	raw_str(sb, "\xc3\xa9", "x");
	raw_finish(sb);
}

static void
bad_name_equals(struct sbuf *sb)
{
	raw_start_v(sb);
	raw_str(sb, "a=b", "x");
	raw_finish(sb);
}

static void
bad_value_len_missing(struct sbuf *sb)
{
	raw_start_v(sb);
	raw_u32(sb, 1);
	sbuf_cat(sb, "a");
	raw_finish(sb);
}

static void
bad_value_len_partial(struct sbuf *sb)
{
	raw_start_v(sb);
	raw_u32(sb, 1);
	sbuf_cat(sb, "a");
	sbuf_catn(sb, "\0\0", 2);
	raw_finish(sb);
}

static void
bad_value_len_max(struct sbuf *sb)
{
	raw_start_v(sb);
	raw_u32(sb, 1);
	sbuf_cat(sb, "a");
	raw_u32(sb, 0xffffffff);
	sbuf_cat(sb, "xyz");
	raw_finish(sb);
}

static void
bad_value_over_limit(struct sbuf *sb)
{
	char *v = calloc(ATTR_VALUE_MAX + 1, 1);

	raw_start_v(sb);
	raw_rec(sb, "big", 3, v, ATTR_VALUE_MAX + 1);
	raw_finish(sb);
	free(v);
}

static void
bad_value_truncated(struct sbuf *sb)
{
	raw_start_v(sb);
	raw_u32(sb, 1);
	sbuf_cat(sb, "a");
	raw_u32(sb, 10);
	sbuf_cat(sb, "abc");
	raw_finish(sb);
}

static void
bad_duplicate(struct sbuf *sb)
{
	raw_start_v(sb);
	raw_str(sb, "a", "1");
	raw_str(sb, "b", "2");
	raw_str(sb, "a", "3");
	raw_finish(sb);
}

static void
bad_duplicate_version(struct sbuf *sb)
{
	raw_start_v(sb);
	raw_str(sb, "attr_version", "1");
	raw_finish(sb);
}

static void
bad_too_many(struct sbuf *sb)
{
	char n[16];

	raw_start_v(sb);
	for (int i = 0; i <= ATTR_COUNT_MAX; i++) {
		snprintf(n, sizeof(n), "r%d", i);
		raw_str(sb, n, "");
	}
	raw_finish(sb);
}

static void
bad_trailing_byte(struct sbuf *sb)
{
	raw_start_v(sb);
	raw_str(sb, "a", "1");
	sbuf_catc(sb, 0);
	raw_finish(sb);
}

struct bad_case {
	const char *name;
	void (*build)(struct sbuf *);
	const char *reason;	/* expected in why */
};

static const struct bad_case bad_cases[] = {
	{ "empty", bad_empty, "truncated frame length" },
	{ "three bytes", bad_three_bytes, "truncated frame length" },
	{ "length 0xffffffff", bad_length_max,
	    "frame length 4294967295 does not match" },
	{ "length one short", bad_length_short, "does not match" },
	{ "length one long", bad_length_long, "does not match" },
	{ "no body", bad_no_body, "truncated attribute record" },
	{ "no version", bad_no_version,
	    "missing attribute protocol version" },
	{ "version second", bad_version_second,
	    "missing attribute protocol version" },
	{ "version 2", bad_version_2,
	    "unsupported attribute protocol version" },
	{ "version 01", bad_version_01,
	    "unsupported attribute protocol version" },
	{ "version empty", bad_version_empty,
	    "unsupported attribute protocol version" },
	{ "version with nul", bad_version_nul,
	    "unsupported attribute protocol version" },
	{ "version name prefix", bad_version_name_prefix,
	    "missing attribute protocol version" },
	{ "name length 0", bad_name_len_zero,
	    "attribute name length 0 out of range" },
	{ "name length 65", bad_name_len_65,
	    "attribute name length 65 out of range" },
	{ "name length 0xffffffff", bad_name_len_max,
	    "attribute name length 4294967295 out of range" },
	{ "name truncated", bad_name_truncated, "truncated attribute name" },
	{ "name upper case", bad_name_upper,
	    "invalid character in attribute name" },
	{ "name dash", bad_name_dash, "invalid character in attribute name" },
	{ "name nul", bad_name_nul, "invalid character in attribute name" },
	{ "name space", bad_name_space,
	    "invalid character in attribute name" },
	{ "name 8-bit", bad_name_8bit, "invalid character in attribute name" },
	{ "name equals", bad_name_equals,
	    "invalid character in attribute name" },
	{ "value length missing", bad_value_len_missing,
	    "truncated attribute record" },
	{ "value length partial", bad_value_len_partial,
	    "truncated attribute record" },
	{ "value length 0xffffffff", bad_value_len_max,
	    "attribute a: value of 4294967295 bytes over the limit" },
	{ "value over limit", bad_value_over_limit,
	    "attribute big: value of 262145 bytes over the limit" },
	{ "value truncated", bad_value_truncated,
	    "truncated attribute value" },
	{ "duplicate", bad_duplicate, "duplicate attribute a" },
	{ "duplicate version", bad_duplicate_version,
	    "duplicate attribute attr_version" },
	{ "too many", bad_too_many, "too many attributes" },
	{ "trailing byte", bad_trailing_byte, "truncated attribute record" },
};

static void
test_malformed(void **state)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(*bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct sbuf *sb = sbuf_new(), *why = sbuf_new();
		struct attr_list *list = NULL;

		c->build(sb);
		if (attr_decode(sb->data, sb->len, &list, why) != -1)
			fail_msg("%s: decoded", c->name);
		if (strstr(sbuf_str(why), c->reason) == NULL)
			fail_msg("%s: reason \"%s\", want \"%s\"", c->name,
			    sbuf_str(why), c->reason);
		assert_null(list);
		sbuf_free(&sb);
		sbuf_free(&why);
	}
}

/*
 * Cut a valid frame at every byte. As it is, every cut fails on the length
 * field; with the length fixed to match, a cut decodes only where a whole
 * record ends, and then holds the records before it.
 */
static void
test_truncated_everywhere(void **state)
{
	struct sbuf *frame = sbuf_new(), *cut = sbuf_new(), *why = sbuf_new();
	struct attr_writer w;
	size_t ends[8], nends = 0;

	attr_begin(&w, frame);
	ends[nends++] = sbuf_len(frame);
	attr_put_str(&w, "sender", "a@example.com");
	ends[nends++] = sbuf_len(frame);
	attr_put_bytes(&w, "nul", "\0x\0", 3);
	ends[nends++] = sbuf_len(frame);
	attr_put_str(&w, "empty", "");
	ends[nends++] = sbuf_len(frame);
	attr_put_long(&w, "size", 123456);
	ends[nends++] = sbuf_len(frame);
	assert_int_equal(attr_end(&w, why), 0);

	for (size_t k = 0; k < sbuf_len(frame); k++) {
		struct attr_list *list = NULL;
		size_t at = nends;

		if (attr_decode(frame->data, k, &list, why) != -1)
			fail_msg("cut at %zu decoded", k);
		assert_null(list);
		if (k < 4)
			continue;
		sbuf_reset(cut);
		sbuf_catn(cut, frame->data, k);
		raw_finish(cut);
		for (size_t j = 0; j < nends; j++)
			if (ends[j] == k)
				at = j;
		if (attr_decode(cut->data, k, &list, why) == 0) {
			if (at == nends)
				fail_msg("cut at %zu decoded", k);
			assert_int_equal(attr_count(list), at);
			attr_list_free(&list);
		} else if (at != nends)
			fail_msg("cut at record end %zu: %s", k,
			    sbuf_str(why));
	}
	sbuf_free(&frame);
	sbuf_free(&cut);
	sbuf_free(&why);
}

struct long_case {
	const char *name;
	const char *value;	/* NULL: absent */
	size_t len;
	long min, max;
	long want;
	const char *reason;	/* NULL when accepted */
};

static const struct long_case long_cases[] = {
	{ "plain", "42", 2, 0, 100, 42, NULL },
	{ "negative", "-5", 2, -10, 10, -5, NULL },
	{ "at min", "-10", 3, -10, 10, -10, NULL },
	{ "at max", "10", 2, -10, 10, 10, NULL },
	{ "below min", "-11", 3, -10, 10, 0, "n: -11 out of range -10 to 10" },
	{ "above max", "11", 2, -10, 10, 0, "n: 11 out of range -10 to 10" },
	{ "absent", NULL, 0, 0, 10, 0, "attribute n missing" },
	{ "empty", "", 0, 0, 10, 0, "n: not a number" },
	{ "letters", "abc", 3, 0, 10, 0, "n: not a number" },
	{ "trailing junk", "12x", 3, 0, 100, 0, "n: not a number" },
	{ "leading space", " 1", 2, 0, 10, 0, "n: not a number" },
	{ "trailing nul", "1\0", 2, 0, 10, 0, "n: not a number" },
	{ "nul then digits", "1\0" "5", 3, 0, 100, 0, "n: not a number" },
	{ "overflow", "99999999999999999999", 20, LONG_MIN, LONG_MAX, 0,
	    "n: not a number" },
};

static void
test_get_long(void **state)
{
	for (size_t i = 0; i < sizeof(long_cases) / sizeof(*long_cases); i++) {
		const struct long_case *c = &long_cases[i];
		struct sbuf *frame = sbuf_new(), *why = sbuf_new();
		struct attr_writer w;
		struct attr_list *list;
		long v = 77777;
		int rc;

		attr_begin(&w, frame);
		if (c->value != NULL)
			attr_put_bytes(&w, "n", c->value, c->len);
		assert_int_equal(attr_end(&w, why), 0);
		list = decode_ok(frame);
		rc = attr_get_long(list, "n", c->min, c->max, &v, why);
		if (c->reason == NULL) {
			if (rc != 0 || v != c->want)
				fail_msg("%s: rc %d v %ld: %s", c->name, rc, v,
				    sbuf_str(why));
		} else {
			if (rc != -1 || v != 77777)
				fail_msg("%s: accepted", c->name);
			if (strstr(sbuf_str(why), c->reason) == NULL)
				fail_msg("%s: reason \"%s\"", c->name,
				    sbuf_str(why));
		}
		attr_list_free(&list);
		sbuf_free(&frame);
		sbuf_free(&why);
	}
}

/* A connected pair of UNIX stream sockets. */
static void
pair(int fds[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* Builds a small valid frame with a "seq" attribute. */
static void
small_frame(struct sbuf *frame, long seq)
{
	struct attr_writer w;
	struct sbuf *why = sbuf_new();

	attr_begin(&w, frame);
	attr_put_long(&w, "seq", seq);
	attr_put_bytes(&w, "data", "x\0y", 3);
	assert_int_equal(attr_end(&w, why), 0);
	sbuf_free(&why);
}

/* Two frames back to back come out one at a time, nothing over-read. */
static void
test_socket_round_trip(void **state)
{
	struct sbuf *f1 = sbuf_new(), *f2 = sbuf_new(), *why = sbuf_new();
	struct attr_list *list = NULL;
	int fds[2];
	long seq;

	pair(fds);
	small_frame(f1, 1);
	small_frame(f2, 2);
	assert_int_equal(attr_send(fds[1], f1, 1000, why), 0);
	assert_int_equal(attr_send(fds[1], f2, 1000, why), 0);

	assert_int_equal(attr_recv(fds[0], ATTR_FRAME_MAX, 1000, &list, why),
	    0);
	assert_int_equal(attr_get_long(list, "seq", 0, 9, &seq, why), 0);
	assert_int_equal(seq, 1);
	attr_list_free(&list);
	assert_int_equal(attr_recv(fds[0], ATTR_FRAME_MAX, -1, &list, why),
	    0);
	assert_int_equal(attr_get_long(list, "seq", 0, 9, &seq, why), 0);
	assert_int_equal(seq, 2);
	attr_list_free(&list);
	/* Nothing is left: the next read times out at once. */
	assert_int_equal(attr_recv(fds[0], ATTR_FRAME_MAX, 0, &list, why),
	    -1);
	assert_string_equal(sbuf_str(why), "timeout waiting for a frame");
	assert_null(list);
	close(fds[0]);
	close(fds[1]);
	sbuf_free(&f1);
	sbuf_free(&f2);
	sbuf_free(&why);
}

/* A frame far larger than the socket buffer, sent by another process. */
static void
test_socket_large_frame(void **state)
{
	struct sbuf *frame = sbuf_new(), *why = sbuf_new();
	struct sbuf *value = sbuf_new();
	struct attr_writer w;
	struct attr_list *list = NULL;
	const char *v;
	size_t len;
	int fds[2], status;
	pid_t pid;

	for (size_t i = 0; i < ATTR_VALUE_MAX; i++)
		sbuf_catc(value, (int)(i * 7 % 256));
	attr_begin(&w, frame);
	attr_put_bytes(&w, "a", sbuf_str(value), sbuf_len(value));
	attr_put_bytes(&w, "b", sbuf_str(value), sbuf_len(value));
	attr_put_bytes(&w, "c", sbuf_str(value), sbuf_len(value));
	assert_int_equal(attr_end(&w, why), 0);
	pair(fds);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		_exit(attr_send(fds[1], frame, 10000, why) == 0 ? 0 : 1);
	}
	close(fds[1]);
	assert_int_equal(attr_recv(fds[0], ATTR_FRAME_MAX, 10000, &list,
	    why), 0);
	assert_int_equal(attr_get_bytes(list, "c", &v, &len), 0);
	assert_int_equal(len, ATTR_VALUE_MAX);
	assert_memory_equal(v, sbuf_str(value), len);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	attr_list_free(&list);
	close(fds[0]);
	sbuf_free(&frame);
	sbuf_free(&why);
	sbuf_free(&value);
}

/* A peer that sends part of a frame and stalls meets the deadline. */
static void
test_socket_stall(void **state)
{
	struct sbuf *frame = sbuf_new(), *why = sbuf_new();
	struct attr_list *list = NULL;
	int fds[2];
	double start, took;

	pair(fds);
	small_frame(frame, 1);
	assert_int_equal(write(fds[1], frame->data, 10), 10);
	start = now_ms();
	assert_int_equal(attr_recv(fds[0], ATTR_FRAME_MAX, 300, &list, why),
	    -1);
	took = now_ms() - start;
	assert_null(list);
	assert_string_equal(sbuf_str(why),
	    "timeout inside a frame (6 of 48 bytes of its body)");
	assert_true(took >= 300);
	assert_true(took < 5000);

	/* Stalled inside the length. */
	close(fds[0]);
	close(fds[1]);
	pair(fds);
	assert_int_equal(write(fds[1], "\0\0", 2), 2);
	assert_int_equal(attr_recv(fds[0], ATTR_FRAME_MAX, 100, &list, why),
	    -1);
	assert_string_equal(sbuf_str(why),
	    "timeout inside a frame (2 of 4 bytes of its length)");
	close(fds[0]);
	close(fds[1]);
	sbuf_free(&frame);
	sbuf_free(&why);
}

struct close_case {
	const char *name;
	size_t sent;		/* bytes of the frame sent before closing */
	const char *reason;
};

static const struct close_case close_cases[] = {
	{ "before a frame", 0, "connection closed before a frame" },
	{ "inside the length", 3,
	    "connection closed inside a frame (3 of 4 bytes of its length)" },
	{ "after the length", 4,
	    "connection closed inside a frame (0 of 48 bytes of its body)" },
	{ "inside the body", 20,
	    "connection closed inside a frame (16 of 48 bytes of its body)" },
	{ "one byte short", 51,
	    "connection closed inside a frame (47 of 48 bytes of its body)" },
};

static void
test_socket_peer_closes(void **state)
{
	struct sbuf *frame = sbuf_new();

	small_frame(frame, 1);
	assert_int_equal(sbuf_len(frame), 52);
	for (size_t i = 0; i < sizeof(close_cases) / sizeof(*close_cases);
	    i++) {
		const struct close_case *c = &close_cases[i];
		struct sbuf *why = sbuf_new();
		struct attr_list *list = NULL;
		int fds[2];

		pair(fds);
		if (c->sent > 0)
			assert_int_equal(write(fds[1], frame->data, c->sent),
			    (ssize_t)c->sent);
		close(fds[1]);
		if (attr_recv(fds[0], ATTR_FRAME_MAX, 5000, &list, why) != -1)
			fail_msg("%s: received", c->name);
		if (strcmp(sbuf_str(why), c->reason) != 0)
			fail_msg("%s: reason \"%s\"", c->name, sbuf_str(why));
		assert_null(list);
		close(fds[0]);
		sbuf_free(&why);
	}
	sbuf_free(&frame);
}

/* A length over max_frame is refused before its body is read. */
static void
test_socket_over_max_frame(void **state)
{
	struct sbuf *raw = sbuf_new(), *why = sbuf_new();
	struct attr_list *list = NULL;
	char rest[256];
	int fds[2];

	pair(fds);
	raw_u32(raw, 2000);
	for (int i = 0; i < 100; i++)
		sbuf_catc(raw, 'x');
	assert_int_equal(write(fds[1], raw->data, raw->len),
	    (ssize_t)raw->len);
	assert_int_equal(attr_recv(fds[0], 1000, 1000, &list, why), -1);
	assert_string_equal(sbuf_str(why),
	    "frame of 2000 bytes over the limit of 1000");
	assert_null(list);
	/* The body is still in the socket. */
	assert_int_equal(recv(fds[0], rest, sizeof(rest), MSG_DONTWAIT), 100);

	/* The same with the largest length there is. */
	sbuf_reset(raw);
	raw_u32(raw, 0xffffffff);
	assert_int_equal(write(fds[1], raw->data, raw->len), 4);
	assert_int_equal(attr_recv(fds[0], ATTR_FRAME_MAX, 1000, &list, why),
	    -1);
	assert_string_equal(sbuf_str(why),
	    "frame of 4294967295 bytes over the limit of 1048576");
	close(fds[0]);
	close(fds[1]);
	sbuf_free(&raw);
	sbuf_free(&why);
}

/* A frame exactly at max_frame passes; one byte lower refuses it. */
static void
test_socket_max_frame_boundary(void **state)
{
	struct sbuf *frame = sbuf_new(), *why = sbuf_new();
	struct attr_list *list = NULL;
	size_t body;
	int fds[2];

	small_frame(frame, 3);
	body = sbuf_len(frame) - 4;
	pair(fds);
	assert_int_equal(attr_send(fds[1], frame, 1000, why), 0);
	assert_int_equal(attr_recv(fds[0], body, 1000, &list, why), 0);
	attr_list_free(&list);
	assert_int_equal(attr_send(fds[1], frame, 1000, why), 0);
	assert_int_equal(attr_recv(fds[0], body - 1, 1000, &list, why), -1);
	assert_non_null(strstr(sbuf_str(why), "over the limit"));
	close(fds[0]);
	close(fds[1]);
	sbuf_free(&frame);
	sbuf_free(&why);
}

/* A well-framed but malformed frame fails attr_recv() like attr_decode(). */
static void
test_socket_malformed(void **state)
{
	struct sbuf *raw = sbuf_new(), *why = sbuf_new();
	struct attr_list *list = NULL;
	int fds[2];

	pair(fds);
	bad_version_2(raw);
	assert_int_equal(attr_send(fds[1], raw, 1000, why), 0);
	assert_int_equal(attr_recv(fds[0], ATTR_FRAME_MAX, 1000, &list, why),
	    -1);
	assert_string_equal(sbuf_str(why),
	    "unsupported attribute protocol version");
	assert_null(list);
	close(fds[0]);
	close(fds[1]);
	sbuf_free(&raw);
	sbuf_free(&why);
}

static volatile sig_atomic_t alarms;

static void
on_alarm(int sig)
{
	alarms++;
}

/* Signals arriving while attr_recv() waits do not end the wait. */
static void
test_socket_eintr(void **state)
{
	struct itimerval tick = { { 0, 2000 }, { 0, 2000 } }, off = { 0 };
	struct sigaction sa = { .sa_handler = on_alarm }, old;
	struct sbuf *frame = sbuf_new(), *why = sbuf_new();
	struct attr_list *list = NULL;
	struct timespec pause = { 0, 100 * 1000 * 1000 };
	int fds[2], status, rc;
	pid_t pid;

	small_frame(frame, 5);
	pair(fds);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		nanosleep(&pause, NULL);
		_exit(attr_send(fds[1], frame, 5000, why) == 0 ? 0 : 1);
	}
	close(fds[1]);
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART */
	assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
	alarms = 0;
	assert_int_equal(setitimer(ITIMER_REAL, &tick, NULL), 0);
	rc = attr_recv(fds[0], ATTR_FRAME_MAX, 5000, &list, why);
	setitimer(ITIMER_REAL, &off, NULL);
	sigaction(SIGALRM, &old, NULL);
	if (rc != 0)
		fail_msg("attr_recv: %s", sbuf_str(why));
	assert_true(alarms > 0);
	assert_non_null(list);
	attr_list_free(&list);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(fds[0]);
	sbuf_free(&frame);
	sbuf_free(&why);
}

/* Sending to a closed peer fails with EPIPE instead of killing us. */
static void
test_send_closed_peer(void **state)
{
	struct sbuf *frame = sbuf_new(), *why = sbuf_new();
	void (*old)(int) = signal(SIGPIPE, SIG_DFL);
	int fds[2];

	small_frame(frame, 1);
	pair(fds);
	close(fds[0]);
	errno = 0;
	assert_int_equal(attr_send(fds[1], frame, 1000, why), -1);
	assert_int_equal(errno, EPIPE);
	assert_non_null(strstr(sbuf_str(why), "send frame"));
	signal(SIGPIPE, old);
	close(fds[1]);
	sbuf_free(&frame);
	sbuf_free(&why);
}

/* A peer that does not read makes attr_send() give up at the deadline. */
static void
test_send_timeout(void **state)
{
	struct sbuf *big = sbuf_new(), *why = sbuf_new();
	int fds[2], size = 4096;
	double start, took;

	for (int i = 0; i < 4 * 1024 * 1024; i++)
		sbuf_catc(big, 'x');
	pair(fds);
	setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	start = now_ms();
	assert_int_equal(attr_send(fds[1], big, 200, why), -1);
	took = now_ms() - start;
	assert_non_null(strstr(sbuf_str(why), "timeout sending a frame"));
	assert_true(took >= 200);
	assert_true(took < 5000);
	close(fds[0]);
	close(fds[1]);
	sbuf_free(&big);
	sbuf_free(&why);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_bytes),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_empty_frame),
		cmocka_unit_test(test_limits_accepted),
		cmocka_unit_test(test_writer_errors),
		cmocka_unit_test(test_writer_begin_over_limit),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_truncated_everywhere),
		cmocka_unit_test(test_get_long),
		cmocka_unit_test(test_socket_round_trip),
		cmocka_unit_test(test_socket_large_frame),
		cmocka_unit_test(test_socket_stall),
		cmocka_unit_test(test_socket_peer_closes),
		cmocka_unit_test(test_socket_over_max_frame),
		cmocka_unit_test(test_socket_max_frame_boundary),
		cmocka_unit_test(test_socket_malformed),
		cmocka_unit_test(test_socket_eintr),
		cmocka_unit_test(test_send_closed_peer),
		cmocka_unit_test(test_send_timeout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
