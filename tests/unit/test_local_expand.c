/*
 * test_local_expand - the policy checks of local delivery: which item
 * classes may reach commands and files, which virtual mailbox paths pass
 */
#include "testutil.h"

#include <string.h>

#include "local_expand.h"
#include "util/sbuf.h"

static void
test_allowed(void **state)
{
	(void)state;
	assert_true(local_expand_allowed("alias, forward", "alias"));
	assert_true(local_expand_allowed("alias, forward", "forward"));
	assert_false(local_expand_allowed("alias, forward", "include"));
	assert_true(local_expand_allowed("alias forward,include", "include"));
	assert_true(local_expand_allowed("ALIAS", "alias"));
	assert_false(local_expand_allowed("", "alias"));
	assert_false(local_expand_allowed("aliases", "alias"));
	assert_false(local_expand_allowed("alia", "alias"));
}

struct vpath_case {
	const char *path;
	bool ok;
};

static const struct vpath_case vpath_cases[] = {
	{ "example.test/demo/", true },
	{ "example.test/demo", true },
	{ "demo/", true },
	{ "a/.hidden/", true },
	{ "..x/y", true },
	{ "", false },
	{ "/etc/passwd", false },
	{ "../other/", false },
	{ "a/../../etc/", false },
	{ "a/./b", false },
	{ ".", false },
	{ "a//b", false },
	{ "a/\nb", false },
};

static void
test_vpath(void **state)
{
	struct sbuf *why = sbuf_new();

	(void)state;
	for (size_t i = 0; i < sizeof(vpath_cases) / sizeof(vpath_cases[0]);
	    i++) {
		const struct vpath_case *c = &vpath_cases[i];
		int ret = local_expand_vpath_check(c->path, why);

		if ((ret == 0) != c->ok)
			fail_msg("\"%s\": got %d (%s)", c->path, ret,
			    sbuf_str(why));
	}
	sbuf_free(&why);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allowed),
		cmocka_unit_test(test_vpath),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
