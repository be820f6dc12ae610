/*
 * test_htable - the string-keyed hash table
 *
 * SipHash against the reference vectors, a scripted table of inserts,
 * finds and deletes (hostile keys beside plain ones), growth to 100,000
 * keys, insertion-order walks and value destructors.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "util/htable.h"
#include "util/sbuf.h"
#include "util/xmalloc.h"

/* The reference vectors: key 00..0f, message 00..len-1. */
static void
test_siphash_vectors(void **state)
{
	static const struct {
		size_t len;
		uint64_t hash;
	} rows[] = {
		{0, 0x726fdb47dd0e0e31ULL},
		{1, 0x74f839c593dc67fdULL},
		{8, 0x93f5f5799a932462ULL},
		{15, 0xa129ca6149be45e5ULL},
	};
	uint8_t key[16], msg[16];

	for (int i = 0; i < 16; i++)
		key[i] = msg[i] = (uint8_t)i;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (htable_siphash(key, msg, rows[i].len) != rows[i].hash)
			fail_msg("siphash of %zu bytes: %016llx, expected "
			    "%016llx", rows[i].len, (unsigned long long)
			    htable_siphash(key, msg, rows[i].len),
			    (unsigned long long)rows[i].hash);
}

enum op {
	OP_INSERT,	/* expect: htable_insert() result */
	OP_FIND,	/* expect: stored value number, 0 when absent */
	OP_DELETE,	/* expect: htable_delete() result */
	OP_SIZE		/* expect: htable_size() */
};

struct script_row {
	const char *name;
	enum op op;
	const char *key;
	intptr_t arg;		/* OP_INSERT: the value to store */
	intptr_t expect;
};

static const struct script_row script[] = {
	{"insert a", OP_INSERT, "a", 1, 0},
	{"find a", OP_FIND, "a", 0, 1},
	{"duplicate a is refused", OP_INSERT, "a", 2, -1},
	{"a keeps its first value", OP_FIND, "a", 0, 1},
	{"keys are case-sensitive", OP_FIND, "A", 0, 0},
	{"insert A", OP_INSERT, "A", 3, 0},
	{"empty key", OP_INSERT, "", 4, 0},
	{"find empty key", OP_FIND, "", 0, 4},
	{"prefix is another key", OP_FIND, "ab", 0, 0},
	{"insert ab", OP_INSERT, "ab", 5, 0},
	{"high bytes", OP_INSERT, "\xff\xfe\x80", 6, 0},
	{"find high bytes", OP_FIND, "\xff\xfe\x80", 0, 6},
	{"control bytes", OP_INSERT, "\r\n\t\x01", 7, 0},
	{"find control bytes", OP_FIND, "\r\n\t\x01", 0, 7},
	{"size", OP_SIZE, NULL, 0, 6},
	{"delete a", OP_DELETE, "a", 0, 0},
	{"a is gone", OP_FIND, "a", 0, 0},
	{"deleting again fails", OP_DELETE, "a", 0, -1},
	{"delete absent key", OP_DELETE, "nope", 0, -1},
	{"A survives", OP_FIND, "A", 0, 3},
	{"size after delete", OP_SIZE, NULL, 0, 5},
	{"re-insert a", OP_INSERT, "a", 8, 0},
	{"a has its new value", OP_FIND, "a", 0, 8},
	{"insert p1", OP_INSERT, "p1", 9, 0},
	{"insert p2", OP_INSERT, "p2", 10, 0},
	{"delete p1", OP_DELETE, "p1", 0, 0},
	{"delete p2 after its predecessor", OP_DELETE, "p2", 0, 0},
	{"insert p3 after deleting the newest", OP_INSERT, "p3", 11, 0},
	{"delete p3", OP_DELETE, "p3", 0, 0},
	{"a is still there", OP_FIND, "a", 0, 8},
};

static int freed_count;

static void
count_free(void *value)
{
	freed_count++;
}

static void
test_htable_script(void **state)
{
	struct htable *t = htable_new();
	intptr_t got = 0;

	for (size_t i = 0; i < sizeof(script) / sizeof(script[0]); i++) {
		const struct script_row *row = &script[i];

		switch (row->op) {
		case OP_INSERT:
			got = htable_insert(t, row->key, (void *)row->arg);
			break;
		case OP_FIND:
			got = (intptr_t)htable_find(t, row->key);
			break;
		case OP_DELETE:
			got = htable_delete(t, row->key, NULL);
			break;
		case OP_SIZE:
			got = (intptr_t)htable_size(t);
			break;
		}
		if (got != row->expect)
			fail_msg("%s: got %ld, expected %ld", row->name,
			    (long)got, (long)row->expect);
	}
	freed_count = 0;
	htable_free(&t, count_free);
	assert_null(t);
	assert_int_equal(freed_count, 6);
	htable_free(&t, count_free);
}

struct order {
	char **keys;
	size_t n;
	size_t stop_after;	/* 0: never stop */
};

static int
record_key(const char *key, void *value, void *ctx)
{
	struct order *o = ctx;

	o->keys[o->n++] = xstrdup(key);
	return o->stop_after != 0 && o->n == o->stop_after ? 42 : 0;
}

static void
free_order(struct order *o)
{
	for (size_t i = 0; i < o->n; i++)
		free(o->keys[i]);
	o->n = 0;
}

/* 100,000 keys: every one found, half deleted, walk order kept. */
static void
test_htable_growth(void **state)
{
	enum { N = 100000 };
	struct htable *t = htable_new();
	struct order o = {xcalloc(N, sizeof(char *)), 0, 0};
	char key[32];

	for (size_t i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "key%zu", i);
		assert_int_equal(htable_insert(t, key, (void *)(i + 1)), 0);
	}
	assert_int_equal(htable_size(t), N);
	for (size_t i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "key%zu", i);
		if (htable_find(t, key) != (void *)(i + 1))
			fail_msg("%s lost after growth", key);
	}
	assert_null(htable_find(t, "key100000"));
	for (size_t i = 0; i < N; i += 2) {
		snprintf(key, sizeof(key), "key%zu", i);
		assert_int_equal(htable_delete(t, key, NULL), 0);
	}
	assert_int_equal(htable_size(t), N / 2);
	for (size_t i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "key%zu", i);
		if ((htable_find(t, key) != NULL) != (i % 2 == 1))
			fail_msg("%s: wrong presence after deletes", key);
	}
	assert_int_equal(htable_walk(t, record_key, &o), 0);
	assert_int_equal(o.n, N / 2);
	for (size_t i = 0; i < o.n; i++) {
		snprintf(key, sizeof(key), "key%zu", 2 * i + 1);
		if (strcmp(o.keys[i], key) != 0)
			fail_msg("walk position %zu: %s, expected %s", i,
			    o.keys[i], key);
	}
	free_order(&o);
	free(o.keys);
	htable_free(&t, NULL);
}

/* Walks follow insertion order; a re-inserted key moves to the end. */
static void
test_htable_walk(void **state)
{
	static const char *const expect[] = {"c", "b", "a"};
	struct htable *t = htable_new();
	char *keys[4];
	struct order o = {keys, 0, 0};

	htable_insert(t, "a", "1");
	htable_insert(t, "c", "3");
	htable_insert(t, "b", "2");
	htable_delete(t, "a", NULL);
	htable_insert(t, "a", "4");
	assert_int_equal(htable_walk(t, record_key, &o), 0);
	assert_int_equal(o.n, 3);
	for (size_t i = 0; i < 3; i++)
		assert_string_equal(o.keys[i], expect[i]);
	free_order(&o);
	o.stop_after = 2;
	assert_int_equal(htable_walk(t, record_key, &o), 42);
	assert_int_equal(o.n, 2);
	free_order(&o);
	htable_free(&t, NULL);
}

/* Destructors: delete frees one value, free frees the rest. */
static void
test_htable_free_values(void **state)
{
	struct htable *t = htable_new();

	htable_insert(t, "x", xstrdup("value x"));
	htable_insert(t, "y", xstrdup("value y"));
	htable_insert(t, "z", xstrdup("value z"));
	assert_int_equal(htable_delete(t, "y", free), 0);
	assert_null(htable_find(t, "y"));
	assert_string_equal(htable_find(t, "x"), "value x");
	/* LeakSanitizer reports a value that free misses. */
	htable_free(&t, free);
	assert_null(t);
}

/* Many keys that share long prefixes and differ in one byte. */
static void
test_htable_similar_keys(void **state)
{
	struct htable *t = htable_new();
	struct sbuf *key = sbuf_new();

	for (int i = 0; i < 256; i++) {
		sbuf_reset(key);
		for (int j = 0; j < 200; j++)
			sbuf_catc(key, 'a');
		if (i != 0)
			sbuf_catc(key, i);
		assert_int_equal(htable_insert(t, sbuf_str(key),
		    (void *)(intptr_t)(i + 1)), 0);
	}
	assert_int_equal(htable_size(t), 256);
	sbuf_set(key, "");
	for (int j = 0; j < 200; j++)
		sbuf_catc(key, 'a');
	sbuf_catc(key, 'b');
	assert_ptr_equal(htable_find(t, sbuf_str(key)), (void *)('b' + 1));
	sbuf_free(&key);
	htable_free(&t, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_siphash_vectors),
		cmocka_unit_test(test_htable_script),
		cmocka_unit_test(test_htable_growth),
		cmocka_unit_test(test_htable_walk),
		cmocka_unit_test(test_htable_free_values),
		cmocka_unit_test(test_htable_similar_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
