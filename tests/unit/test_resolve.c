/*
 * test_resolve - domain classes, virtual aliases, recipient existence
 * and routing
 *
 * A resolver is opened over a main.cf written for each test, with inline
 * and texthash tables in the test's private directory: the order of the
 * domain classes and subdomain patterns, table-listed domains, extension
 * and catch-all lookups, recursive virtual aliases with loops and limits,
 * recipients known and unknown in local and virtual domains, and
 * transport_maps routing with relayhost. A missing table must give
 * RESOLVE_ERROR, never "unknown".
 */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "mail/main_cf.h"
#include "mail/params.h"
#include "mail/resolve.h"
#include "util/sbuf.h"

struct fixture {
	char *dir;
	struct params *p;
	struct resolver *r;
};

static const char base_cf[] =
    "myhostname = mail.example.test\n"
    "mydomain = example.test\n"
    "mydestination = $myhostname, localhost, Local.Example\n"
    "virtual_mailbox_domains = virt.example, .sub.example\n"
    "virtual_mailbox_maps = texthash:@DIR@/vmailbox\n"
    "relay_domains = relay.example, inline:{listed.example=yes}\n"
    "alias_maps = texthash:@DIR@/aliases\n";

/* Opens a resolver over base_cf and extra, with @DIR@ replaced. */
static struct fixture *
open_fixture(const char *extra)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct sbuf *text = sbuf_new(), *why = sbuf_new();
	struct main_cf *cf;
	const char *s;

	f->dir = test_tmpdir();
	free(test_write_text(f->dir, "vmailbox",
	    "alice@virt.example virt.example/alice/\n"
	    "@sub.example sub/\n"));
	free(test_write_text(f->dir, "aliases",
	    "# aliases\nwebmaster: alice@virt.example\n"));
	sbuf_cat(text, base_cf);
	sbuf_cat(text, extra);
	/* @DIR@ to the directory. */
	while ((s = strstr(sbuf_str(text), "@DIR@")) != NULL) {
		struct sbuf *out = sbuf_new();

		sbuf_catn(out, sbuf_str(text), (size_t)(s - sbuf_str(text)));
		sbuf_cat(out, f->dir);
		sbuf_cat(out, s + 5);
		sbuf_set(text, sbuf_str(out));
		sbuf_free(&out);
	}
	cf = main_cf_parse(sbuf_str(text), sbuf_len(text), "main.cf", why);
	assert_non_null(cf);
	f->p = params_new();
	if (params_fill(f->p, cf, why) < 0)
		fail_msg("params: %s", sbuf_str(why));
	main_cf_free(&cf);
	f->r = resolver_open(f->p, why);
	if (f->r == NULL)
		fail_msg("resolver_open: %s", sbuf_str(why));
	sbuf_free(&text);
	sbuf_free(&why);
	return f;
}

static void
close_fixture(struct fixture *f)
{
	resolver_free(&f->r);
	params_free(&f->p);
	test_rmtree(&f->dir);
	free(f);
}

static void
test_domain_class(void **state)
{
	static const struct {
		const char *domain;
		enum resolve_class class;
	} rows[] = {
		{ NULL, RESOLVE_LOCAL },
		{ "mail.example.test", RESOLVE_LOCAL },
		{ "MAIL.Example.TEST", RESOLVE_LOCAL },
		{ "localhost", RESOLVE_LOCAL },
		{ "local.example", RESOLVE_LOCAL },
		{ "sub.mail.example.test", RESOLVE_DEFAULT },
		{ "virt.example", RESOLVE_VIRTUAL },
		{ "a.sub.example", RESOLVE_VIRTUAL },
		{ "sub.example", RESOLVE_DEFAULT },
		{ "relay.example", RESOLVE_RELAY },
		{ "Listed.Example", RESOLVE_RELAY },
		{ "example.test", RESOLVE_DEFAULT },
		{ "other.example", RESOLVE_DEFAULT },
	};
	struct fixture *f = open_fixture("");
	struct sbuf *why = sbuf_new();
	enum resolve_status st;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		enum resolve_class c = resolve_domain_class(f->r,
		    rows[i].domain, &st, why);

		assert_int_equal(st, RESOLVE_OK);
		if (c != rows[i].class)
			fail_msg("%s: class %d, expected %d",
			    rows[i].domain ? rows[i].domain : "(none)", c,
			    rows[i].class);
	}
	sbuf_free(&why);
	close_fixture(f);
}

static void
test_split_ext(void **state)
{
	static const char *const rows[][4] = {
		/* local, delimiters, user, ext */
		{ "user+ext", "+", "user", "ext" },
		{ "user+a+b", "+", "user", "a+b" },
		{ "user-ext", "+-", "user", "ext" },
		{ "user", "+", "user", "" },
		{ "+user", "+", "+user", "" },
		{ "user+", "+", "user", "" },
		{ "user+ext", "", "user+ext", "" },
		{ "", "+", "", "" },
	};
	struct sbuf *user = sbuf_new(), *ext = sbuf_new();

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		resolve_split_ext(rows[i][0], rows[i][1], user, ext);
		assert_string_equal(sbuf_str(user), rows[i][2]);
		assert_string_equal(sbuf_str(ext), rows[i][3]);
	}
	sbuf_free(&user);
	sbuf_free(&ext);
}

static void
test_lookup(void **state)
{
	struct fixture *f = open_fixture("");
	struct sbuf *v = sbuf_new(), *why = sbuf_new();

	assert_int_equal(resolve_lookup(f->r, "virtual_mailbox_maps",
	    "Alice+Tag@Virt.Example", true, v, why), RESOLVE_OK);
	assert_string_equal(sbuf_str(v), "virt.example/alice/");
	assert_int_equal(resolve_lookup(f->r, "virtual_mailbox_maps",
	    "bob@a.sub.example", true, v, why), RESOLVE_NOTFOUND);
	assert_int_equal(resolve_lookup(f->r, "virtual_mailbox_maps",
	    "bob@sub.example", true, v, why), RESOLVE_OK);
	assert_string_equal(sbuf_str(v), "sub/");
	assert_int_equal(resolve_lookup(f->r, "virtual_mailbox_maps",
	    "bob@virt.example", true, v, why), RESOLVE_NOTFOUND);
	/* alias_maps by the local part alone. */
	assert_int_equal(resolve_lookup(f->r, "alias_maps",
	    "WebMaster+x@mail.example.test", false, v, why), RESOLVE_OK);
	assert_string_equal(sbuf_str(v), "alice@virt.example");
	assert_int_equal(resolve_lookup(f->r, "no_such_maps", "a@b", true, v,
	    why), RESOLVE_ERROR);
	sbuf_free(&v);
	sbuf_free(&why);
	close_fixture(f);
}

/* Expands address; the results joined by ' ', or NULL for NOTFOUND. */
static char *
expand(struct fixture *f, const char *address, enum resolve_status want,
    struct sbuf *why)
{
	struct sbuf *joined = sbuf_new();
	enum resolve_status st;
	char **out = NULL;
	size_t n = 0;
	char *ret;

	st = resolve_virtual_alias(f->r, address, &out, &n, why);
	if (st != want)
		fail_msg("%s: status %d, expected %d (%s)", address, st, want,
		    sbuf_str(why));
	for (size_t i = 0; i < n; i++)
		sbuf_printf(joined, "%s%s", i > 0 ? " " : "", out[i]);
	resolve_list_free(&out, n);
	ret = st == RESOLVE_OK ? strdup(sbuf_str(joined)) : NULL;
	sbuf_free(&joined);
	return ret;
}

static void
test_virtual_alias(void **state)
{
	struct fixture *f = open_fixture("virtual_alias_maps = inline:{"
	    "{info@virt.example = sales@virt.example, Bob@Remote.Example}, "
	    "{sales@virt.example = alice@virt.example, sales@virt.example, "
	    "bob@remote.example}, "
	    "{self@virt.example = self@virt.example}, "
	    "{short@virt.example = carol}, "
	    "{loop1@virt.example = loop2@virt.example}, "
	    "{loop2@virt.example = loop1@virt.example}, "
	    "{bad@virt.example = <<nope}, "
	    "{@catch.example = postmaster@virt.example} }\n");
	struct sbuf *why = sbuf_new();
	char *got;

	assert_null(expand(f, "nobody@virt.example", RESOLVE_NOTFOUND, why));
	got = expand(f, "info@virt.example", RESOLVE_OK, why);
	assert_string_equal(got, "alice@virt.example sales@virt.example "
	    "bob@remote.example Bob@Remote.Example");
	free(got);
	got = expand(f, "self@virt.example", RESOLVE_OK, why);
	assert_string_equal(got, "self@virt.example");
	free(got);
	got = expand(f, "short@virt.example", RESOLVE_OK, why);
	assert_string_equal(got, "carol@mail.example.test");
	free(got);
	got = expand(f, "anyone+x@catch.example", RESOLVE_OK, why);
	assert_string_equal(got, "postmaster@virt.example");
	free(got);
	assert_null(expand(f, "loop1@virt.example", RESOLVE_ERROR, why));
	assert_non_null(strstr(sbuf_str(why), "loop"));
	assert_null(expand(f, "bad@virt.example", RESOLVE_ERROR, why));
	assert_non_null(strstr(sbuf_str(why), "<<nope"));
	sbuf_free(&why);
	close_fixture(f);
}

static void
test_rcpt_known(void **state)
{
	static const struct {
		const char *address;
		enum resolve_status st;
	} rows[] = {
		{ "root@mail.example.test", RESOLVE_OK },
		{ "ROOT+ext@localhost", RESOLVE_OK },
		{ "postmaster@localhost", RESOLVE_OK },
		{ "Postmaster", RESOLVE_OK },
		{ "webmaster@mail.example.test", RESOLVE_OK },
		{ "no-such-user-x1@mail.example.test", RESOLVE_NOTFOUND },
		{ "alice@virt.example", RESOLVE_OK },
		{ "alice+x@virt.example", RESOLVE_OK },
		{ "root@virt.example", RESOLVE_NOTFOUND },
		{ "anyone@b.sub.example", RESOLVE_NOTFOUND },
		{ "anyone@elsewhere.example", RESOLVE_OK },
		{ "anyone@relay.example", RESOLVE_OK },
	};
	struct fixture *f = open_fixture("");
	struct sbuf *why = sbuf_new();

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		enum resolve_status st = resolve_rcpt_known(f->r,
		    rows[i].address, why);

		if (st != rows[i].st)
			fail_msg("%s: %d, expected %d (%s)", rows[i].address,
			    st, rows[i].st, sbuf_str(why));
	}
	sbuf_free(&why);
	close_fixture(f);
}

static void
test_table_error(void **state)
{
	struct fixture *f = open_fixture("");
	struct sbuf *why = sbuf_new();
	struct sbuf *cf = sbuf_new();
	struct main_cf *mc;
	struct params *p = params_new();
	struct resolver *r;

	/* A table that cannot be opened fails resolver_open by name. */
	sbuf_printf(cf, "virtual_mailbox_maps = db:%s/missing\n", f->dir);
	mc = main_cf_parse(sbuf_str(cf), sbuf_len(cf), "main.cf", why);
	assert_int_equal(params_fill(p, mc, why), 0);
	r = resolver_open(p, why);
	assert_null(r);
	assert_non_null(strstr(sbuf_str(why), "missing"));
	main_cf_free(&mc);
	params_free(&p);
	sbuf_free(&cf);
	sbuf_free(&why);
	close_fixture(f);
}

/* Routes address; "transport nexthop" in out. */
static void
route(struct fixture *f, const char *address, const char *want)
{
	struct sbuf *t = sbuf_new(), *n = sbuf_new(), *why = sbuf_new();
	struct sbuf *got = sbuf_new();

	if (resolve_route(f->r, address, t, n, why) != RESOLVE_OK)
		fail_msg("%s: %s", address, sbuf_str(why));
	sbuf_printf(got, "%s %s", sbuf_str(t), sbuf_str(n));
	if (strcmp(sbuf_str(got), want) != 0)
		fail_msg("%s: \"%s\", expected \"%s\"", address,
		    sbuf_str(got), want);
	sbuf_free(&t);
	sbuf_free(&n);
	sbuf_free(&why);
	sbuf_free(&got);
}

static void
test_route(void **state)
{
	struct fixture *f = open_fixture("");

	route(f, "user@mail.example.test", "local mail.example.test");
	route(f, "postmaster", "local mail.example.test");
	route(f, "alice@Virt.Example", "local virt.example");
	route(f, "x@relay.example", "smtp relay.example");
	route(f, "x@Far.Example", "smtp far.example");
	close_fixture(f);

	f = open_fixture("relayhost = [smarthost.example]:587\n"
	    "virtual_transport = vdeliver\n"
	    "transport_maps = inline:{ {special@far.example = :[10.0.0.1]}, "
	    "{far.example = slow:}, {.deep.example = relay:[gw.example]}, "
	    "{only.example = error} }\n");
	route(f, "x@far.example", "slow [smarthost.example]:587");
	route(f, "special@far.example", "smtp [10.0.0.1]");
	route(f, "x@a.b.deep.example", "relay [gw.example]");
	route(f, "x@deep.example", "smtp [smarthost.example]:587");
	route(f, "x@only.example", "error [smarthost.example]:587");
	route(f, "x@relay.example", "smtp [smarthost.example]:587");
	route(f, "alice@virt.example", "vdeliver virt.example");
	route(f, "user@localhost", "local localhost");
	close_fixture(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_domain_class),
		cmocka_unit_test(test_split_ext),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_virtual_alias),
		cmocka_unit_test(test_rcpt_known),
		cmocka_unit_test(test_table_error),
		cmocka_unit_test(test_route),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
