/*
 * test_local_item - alias, .forward and include items: parsing and kinds
 */
#include "testutil.h"

#include <string.h>

#include "local_item.h"
#include "util/sbuf.h"
#include "util/xmalloc.h"

struct item_case {
	const char *name;
	const char *in;
	/* "KIND:value" per item, joined by "|"; NULL when an error */
	const char *items;
	const char *reason;	/* expected in why on error */
};

static const struct item_case item_cases[] = {
	{ "one user", "alice", "A:alice", NULL },
	{ "qualified", "alice@example.com", "A:alice@example.com", NULL },
	{ "angle brackets", "<alice@example.com>", "A:alice@example.com",
	    NULL },
	{ "list with blanks", " alice ,bob@x.example,\tcarol ",
	    "A:alice|A:bob@x.example|A:carol", NULL },
	{ "empty items skipped", "alice,,, bob,", "A:alice|A:bob", NULL },
	{ "own mailbox", "\\Alice", "S:alice", NULL },
	{ "command", "|/usr/bin/procmail -a x", "C:/usr/bin/procmail -a x",
	    NULL },
	{ "command blank after bar", "| cat", "C:cat", NULL },
	{ "quoted command with comma", "\"|filter -a, -b\", alice",
	    "C:filter -a, -b|A:alice", NULL },
	{ "quoted escapes", "\"|echo \\\"hi\\\"\"", "C:echo \"hi\"", NULL },
	{ "file", "/var/spool/archive", "F:/var/spool/archive", NULL },
	{ "maildir file", "/home/a/Backup/", "F:/home/a/Backup/", NULL },
	{ "include", ":include:/etc/postern/team",
	    "I:/etc/postern/team", NULL },
	{ "include any case", ":INCLUDE: /etc/team", "I:/etc/team", NULL },
	{ "lines and comments", "# who gets it\nalice\n  # more\n\nbob\r\n",
	    "A:alice|A:bob", NULL },
	{ "quoted local part", "\"john doe\"@example.com",
	    "A:john doe@example.com", NULL },
	{ "nothing", "", "", NULL },
	{ "only comments", "# nothing here\n", "", NULL },

	/* Refusals. */
	{ "unbalanced quote", "\"|cat, alice", NULL, "unbalanced quote" },
	{ "text after quote", "\"alice\" bob", NULL, "bad address" },
	{ "empty command", "|  ", NULL, "empty command" },
	{ "relative include", ":include:team", NULL, "absolute path" },
	{ "bare backslash", "\\", NULL, "user name must follow" },
	{ "backslash address", "\\a@b", NULL, "user name must follow" },
	{ "bad address", "alice@", NULL, "bad address" },
	{ "address with space", "ali ce", NULL, "bad address" },
	{ "control character", "alice\001", NULL, "control character" },
	{ "escape character", "a\033[2J", NULL, "control character" },
};

/* The items as "KIND:value|...". */
static void
render(const struct local_items *list, struct sbuf *out)
{
	static const char kinds[] = { 'A', 'S', 'C', 'F', 'I' };

	sbuf_reset(out);
	for (size_t i = 0; i < list->count; i++)
		sbuf_printf(out, "%s%c:%s", i > 0 ? "|" : "",
		    kinds[list->items[i].kind], list->items[i].value);
}

static void
test_item_table(void **state)
{
	struct sbuf *why = sbuf_new(), *got = sbuf_new();

	(void)state;
	for (size_t i = 0; i < sizeof(item_cases) / sizeof(item_cases[0]);
	    i++) {
		const struct item_case *c = &item_cases[i];
		struct local_items list = { NULL, 0 };
		int ret;

		sbuf_reset(why);
		ret = local_items_parse(c->in, &list, why);
		if (c->items == NULL) {
			if (ret != -1 || list.count != 0)
				fail_msg("%s: expected an error", c->name);
			if (strstr(sbuf_str(why), c->reason) == NULL)
				fail_msg("%s: reason \"%s\" lacks \"%s\"",
				    c->name, sbuf_str(why), c->reason);
			continue;
		}
		if (ret != 0)
			fail_msg("%s: failed: %s", c->name, sbuf_str(why));
		render(&list, got);
		if (strcmp(sbuf_str(got), c->items) != 0)
			fail_msg("%s: got \"%s\", expected \"%s\"", c->name,
			    sbuf_str(got), c->items);
		local_items_free(&list);
	}
	sbuf_free(&why);
	sbuf_free(&got);
}

/* A failed parse leaves what out held before alone. */
static void
test_failure_keeps_list(void **state)
{
	struct local_items list = { NULL, 0 };
	struct sbuf *why = sbuf_new();

	(void)state;
	assert_int_equal(local_items_parse("alice, bob", &list, why), 0);
	assert_int_equal(local_items_parse("carol, \"|x", &list, why), -1);
	assert_int_equal(list.count, 2);
	assert_string_equal(list.items[1].value, "bob");
	assert_int_equal(local_items_parse("carol", &list, why), 0);
	assert_int_equal(list.count, 3);
	local_items_free(&list);
	assert_null(list.items);
	assert_int_equal(list.count, 0);
	sbuf_free(&why);
}

/* The limits: items per list and octets per item. */
static void
test_limits(void **state)
{
	struct local_items list = { NULL, 0 };
	struct sbuf *in = sbuf_new(), *why = sbuf_new();

	(void)state;
	for (int i = 0; i < LOCAL_ITEMS_MAX; i++)
		sbuf_printf(in, "u%d,", i);
	assert_int_equal(local_items_parse(sbuf_str(in), &list, why), 0);
	assert_int_equal(list.count, LOCAL_ITEMS_MAX);
	local_items_free(&list);
	sbuf_cat(in, "one.too.many");
	assert_int_equal(local_items_parse(sbuf_str(in), &list, why), -1);
	assert_non_null(strstr(sbuf_str(why), "more than"));

	sbuf_set(in, "/");
	for (int i = 0; i < LOCAL_ITEM_LEN_MAX; i++)
		sbuf_catc(in, 'x');
	assert_int_equal(local_items_parse(sbuf_str(in), &list, why), -1);
	assert_non_null(strstr(sbuf_str(why), "longer than"));
	assert_int_equal(list.count, 0);
	sbuf_free(&in);
	sbuf_free(&why);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_item_table),
		cmocka_unit_test(test_failure_keeps_list),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
