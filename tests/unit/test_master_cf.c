/*
 * test_master_cf - master.cf parsing: every field, its defaults and its
 * errors (naming file, line and field), -o overrides, formatting
 */
#include "testutil.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mail/master_cf.h"
#include "util/sbuf.h"

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))
#define MAXPROC	77	/* default_process_limit in these tests */

static struct master_cf *
parse(const char *text, struct sbuf *why)
{
	return master_cf_parse(text, strlen(text), "master.cf", MAXPROC, why);
}

/* All services formatted, one per line. */
static char *
format_all(const struct master_cf *mc)
{
	struct sbuf *out = sbuf_new();
	char *s;

	for (size_t i = 0; i < mc->count; i++)
		master_service_format(&mc->services[i], out);
	s = sbuf_steal(out);
	sbuf_free(&out);
	return s;
}

struct ok_row {
	const char *name;
	const char *text;
	const char *formatted;
};

static const struct ok_row ok_rows[] = {
	{"defaults", "pickup unix - - - - - pickup\n",
	    "pickup     unix  -       -       -       -       -       "
	    "pickup\n"},
	{"every field", "qmgr fifo n n y 300? 1 qmgr -v\n",
	    "qmgr       fifo  n       n       y       300?    1       "
	    "qmgr -v\n"},
	{"comments, blanks and continuation",
	    "# header\n\nsmtp inet n - n - - smtpd\n# inside\n  -v\n"
	    "\n  local unix - n n - - local\n",
	    "smtp       inet  n       -       n       -       -       "
	    "smtpd -v\n"
	    "local      unix  -       n       n       -       -       "
	    "local\n"},
	{"tabs between fields", "a\tunix\t-\t-\tn\t0\t0\tcmd\n",
	    "a          unix  -       -       n       0       0       cmd\n"},
	{"same name, other type", "smtp inet n - n - - smtpd\n"
	    "smtp unix - - n - - smtp\n",
	    "smtp       inet  n       -       n       -       -       smtpd\n"
	    "smtp       unix  -       -       n       -       -       smtp\n"},
	{"inet forms", "25 inet n - - - - a\n127.0.0.1:smtp inet n - - - - b\n"
	    "[::1]:587 inet n - - - - c\nmx.example.com:2525 inet n - - - - d\n"
	    "submission inet n - - - - e\n",
	    "25         inet  n       -       -       -       -       a\n"
	    "127.0.0.1:smtp inet  n       -       -       -       -       b\n"
	    "[::1]:587  inet  n       -       -       -       -       c\n"
	    "mx.example.com:2525 inet  n       -       -       -       -       "
	    "d\n"
	    "submission inet  n       -       -       -       -       e\n"},
	{"overrides normalised", "s inet n - - - - smtpd -o smtpd_banner=x "
	    "-osmtpd_timeout=5m -o { smtpd_banner = a b } -o relayhost=\n",
	    "s          inet  n       -       -       -       -       smtpd "
	    "-o smtpd_banner=x -o smtpd_timeout=5m -o { smtpd_banner=a b } "
	    "-o relayhost=\n"},
	{"override with $name checked later",
	    "s inet n - - - - smtpd -o smtpd_timeout=$t\n",
	    "s          inet  n       -       -       -       -       smtpd "
	    "-o smtpd_timeout=$t\n"},
	{"braced arguments", "p unix - - - - - pipe { a b } {} {{x}}\n",
	    "p          unix  -       -       -       -       -       pipe "
	    "{ a b } {} { {x} }\n"},
	{"empty file", "", ""},
	{"only comments", "# a\n\n# b\n", ""},
};

static void
test_ok(void **state)
{
	struct sbuf *why = sbuf_new();

	for (size_t i = 0; i < NROWS(ok_rows); i++) {
		const struct ok_row *r = &ok_rows[i];
		struct master_cf *mc = parse(r->text, why), *again;
		char *got, *got2;

		if (mc == NULL)
			fail_msg("%s: %s", r->name, sbuf_str(why));
		got = format_all(mc);
		if (strcmp(got, r->formatted) != 0)
			fail_msg("%s: got \"%s\"", r->name, got);
		/* The formatted text parses back to the same services. */
		again = parse(got, why);
		if (again == NULL)
			fail_msg("%s: reparse: %s", r->name, sbuf_str(why));
		got2 = format_all(again);
		assert_string_equal(got, got2);
		free(got);
		free(got2);
		master_cf_free(&mc);
		assert_null(mc);
		master_cf_free(&again);
	}
	sbuf_free(&why);
}

static void
test_fields(void **state)
{
	struct sbuf *why = sbuf_new();
	struct master_cf *mc = parse(
	    "pickup unix - - - - - pickup\n"
	    "qmgr fifo n n y 300? 1 qmgr -v\n"
	    "smtp inet - - - - - smtpd -o smtpd_timeout=1m\n"
	    "[::1]:587 inet n y n 0 0 smtpd\n"
	    "127.0.0.1:25 inet n - - - - smtpd\n", why);
	const struct master_service *s;

	assert_non_null(mc);
	assert_int_equal(mc->count, 5);
	assert_string_equal(mc->path, "master.cf");

	s = master_cf_find(mc, "pickup", MASTER_UNIX);
	assert_non_null(s);
	assert_true(s->private_socket);
	assert_true(s->unprivileged);
	assert_false(s->chroot);
	assert_int_equal(s->wakeup, 0);
	assert_int_equal(s->maxproc, MAXPROC);
	assert_int_equal(s->defaults, MASTER_DEF_PRIVATE | MASTER_DEF_UNPRIV |
	    MASTER_DEF_CHROOT | MASTER_DEF_WAKEUP | MASTER_DEF_MAXPROC);
	assert_int_equal(s->argc, 1);
	assert_string_equal(s->argv[0], "pickup");
	assert_null(s->argv[1]);
	assert_int_equal(s->lineno, 1);

	s = master_cf_find(mc, "qmgr", MASTER_FIFO);
	assert_non_null(s);
	assert_false(s->private_socket);
	assert_false(s->unprivileged);
	assert_true(s->chroot);
	assert_int_equal(s->wakeup, 300);
	assert_true(s->wakeup_if_used);
	assert_int_equal(s->maxproc, 1);
	assert_int_equal(s->defaults, 0);
	assert_int_equal(s->argc, 2);
	assert_string_equal(s->argv[1], "-v");
	assert_null(master_cf_find(mc, "qmgr", MASTER_UNIX));

	s = master_cf_find(mc, "smtp", MASTER_INET);
	assert_non_null(s);
	assert_false(s->private_socket);	/* inet default */
	assert_null(s->host);
	assert_string_equal(s->port, "smtp");
	assert_int_equal(s->argc, 3);
	assert_string_equal(s->argv[1], "-o");
	assert_string_equal(s->argv[2], "smtpd_timeout=1m");

	s = master_cf_find(mc, "[::1]:587", MASTER_INET);
	assert_non_null(s);
	assert_string_equal(s->host, "::1");
	assert_string_equal(s->port, "587");
	assert_int_equal(s->maxproc, 0);
	assert_int_equal(s->lineno, 4);

	s = master_cf_find(mc, "127.0.0.1:25", MASTER_INET);
	assert_non_null(s);
	assert_string_equal(s->host, "127.0.0.1");
	assert_string_equal(s->port, "25");
	master_cf_free(&mc);
	sbuf_free(&why);
}

struct bad_row {
	const char *name;
	const char *text;
	size_t len;		/* 0: strlen(text) */
	const char *reason;
};

#define SVC	"x unix - - n - - "	/* a valid start of a line */

static const struct bad_row bad_rows[] = {
	{"too few fields", "smtp inet n - n - -\n", 0,
	    "master.cf, line 1: 7 fields: expected service type private"},
	{"one field", "# c\nsmtp\n", 0, "master.cf, line 2: 1 fields"},
	{"bad type", "smtp tcp n - n - - smtpd\n", 0,
	    "master.cf, line 1: field type: bad value \"tcp\": expected inet, "
	    "unix or fifo"},
	{"type in upper case", "smtp INET n - n - - smtpd\n", 0,
	    "field type: bad value"},
	{"bad private", "x unix q - n - - cmd\n", 0,
	    "master.cf, line 1: field private: bad value \"q\": expected y, n "
	    "or -"},
	{"private yes", "x unix yes - n - - cmd\n", 0, "field private"},
	{"bad unpriv", "x unix - 1 n - - cmd\n", 0, "field unpriv: bad value"},
	{"bad chroot", "x unix - - Y - - cmd\n", 0, "field chroot: bad value"},
	{"private inet", "smtp inet y - n - - smtpd\n", 0,
	    "master.cf, line 1: field private: an inet service cannot be "
	    "private"},
	{"bad wakeup", "x unix - - n soon - cmd\n", 0,
	    "field wakeup: bad value \"soon\": expected seconds"},
	{"negative wakeup", "x unix - - n -5 - cmd\n", 0, "field wakeup"},
	{"wakeup ??", "x unix - - n 5?? - cmd\n", 0, "field wakeup"},
	{"wakeup ? alone", "x unix - - n ? - cmd\n", 0, "field wakeup"},
	{"wakeup overflow", "x unix - - n 99999999999 - cmd\n", 0,
	    "field wakeup"},
	{"wakeup on inet", "smtp inet n - n 60 - smtpd\n", 0,
	    "field wakeup: an inet service cannot be woken up"},
	{"bad maxproc", "x unix - - n - many cmd\n", 0,
	    "field maxproc: bad value \"many\": expected a number or -"},
	{"negative maxproc", "x unix - - n - -1 cmd\n", 0, "field maxproc"},
	{"maxproc overflow", "x unix - - n - 2147483648 cmd\n", 0,
	    "field maxproc"},
	{"empty port", "host: inet n - n - - smtpd\n", 0,
	    "field service: bad port in inet service \"host:\""},
	{"port zero", "0 inet n - n - - smtpd\n", 0, "field service: bad port"},
	{"port too big", "65536 inet n - n - - smtpd\n", 0, "bad port"},
	{"port junk", "25x inet n - n - - smtpd\n", 0, "bad port"},
	{"port name junk", "sm_tp inet n - n - - smtpd\n", 0, "bad port"},
	{"bare IPv6", "::1:25 inet n - n - - smtpd\n", 0,
	    "field service: bad inet service \"::1:25\": write an IPv6 "
	    "address in brackets"},
	{"bracket without port", "[::1]25 inet n - n - - smtpd\n", 0,
	    "expected [address]:port"},
	{"unclosed bracket", "[::1:25 inet n - n - - smtpd\n", 0,
	    "expected [address]:port"},
	{"bad IPv6", "[zz]:25 inet n - n - - smtpd\n", 0,
	    "field service: bad IPv6 address in \"[zz]:25\""},
	{"empty IPv6", "[]:25 inet n - n - - smtpd\n", 0, "bad IPv6 address"},
	{"bad host", "bad_host:25 inet n - n - - smtpd\n", 0,
	    "field service: bad host in inet service"},
	{"bad IPv4", "1.2.3.400:25 inet n - n - - smtpd\n", 0, "bad host"},
	{"host starting with -", "-h:25 inet n - n - - smtpd\n", 0,
	    "bad host"},
	{"empty host", ":25 inet n - n - - smtpd\n", 0, "bad host"},
	{"unix name with /", "../x unix - - n - - cmd\n", 0,
	    "field service: bad unix service name \"../x\""},
	{"unix name starting with .", ".x unix - - n - - cmd\n", 0,
	    "bad unix service name"},
	{"unix name too long",
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx "
	    "unix - - n - - cmd\n", 0, "bad unix service name"},
	{"fifo name with :", "a:b fifo - - n - - cmd\n", 0,
	    "bad fifo service name"},
	{"command with /", "x unix - - n - - /bin/sh\n", 0,
	    "field command: bad command \"/bin/sh\": expected a program name"},
	{"command starting with -", "x unix - - n - - -v\n", 0,
	    "field command: bad command"},
	{"unknown -o", SVC "cmd -o nosuch=1\n", 0,
	    "master.cf, line 1: field command: -o nosuch: unknown parameter"},
	{"bad -o value", SVC "cmd -o smtpd_timeout=soon\n", 0,
	    "field command: -o parameter smtpd_timeout: bad time value "
	    "\"soon\""},
	{"bad -oname=value", SVC "cmd -omax_use=-1\n", 0,
	    "-o parameter max_use: bad integer"},
	{"-o without =", SVC "cmd -o smtpd_timeout\n", 0,
	    "field command: -o \"smtpd_timeout\": expected name=value"},
	{"-o at the end", SVC "cmd -v -o\n", 0,
	    "field command: -o needs name=value"},
	{"bad braced -o", SVC "cmd -o { max_use = x }\n", 0,
	    "parameter max_use: bad integer"},
	{"control character", SVC "cmd -v\001\n", 0,
	    "field command: control character in argument"},
	{"control character after -o", SVC "cmd -o relayhost=a\033b\n", 0,
	    "control character"},
	{"unclosed brace", SVC "cmd { a b\n", 0,
	    "field command: argument \"{ a b\": expected { text }"},
	{"text after brace", SVC "cmd {a}b\n", 0, "expected { text }"},
	{"duplicate", "smtp inet n - n - - smtpd\n# c\nsmtp inet n - n - - "
	    "smtpd\n", 0,
	    "master.cf, line 3: field service: service \"smtp\" of type inet "
	    "already defined at line 1"},
	{"error after continuations", "a unix - - n - - cmd\n  -v\n  -w\n"
	    "b unix - - n - x cmd\n", 0, "master.cf, line 4: field maxproc"},
	{"NUL byte", "a unix - - n - - cmd\nb unix\0 - - n - - cmd\n", 43,
	    "master.cf, line 2: NUL byte"},
};

static void
test_bad(void **state)
{
	struct sbuf *why = sbuf_new();

	for (size_t i = 0; i < NROWS(bad_rows); i++) {
		const struct bad_row *r = &bad_rows[i];
		size_t len = r->len ? r->len : strlen(r->text);
		struct master_cf *mc = master_cf_parse(r->text, len,
		    "master.cf", MAXPROC, why);

		if (mc != NULL) {
			master_cf_free(&mc);
			fail_msg("%s: parsed", r->name);
		}
		if (strstr(sbuf_str(why), r->reason) == NULL)
			fail_msg("%s: reason \"%s\" lacks \"%s\"", r->name,
			    sbuf_str(why), r->reason);
	}
	sbuf_free(&why);
}

static void
test_long_line(void **state)
{
	struct sbuf *text = sbuf_new(), *why = sbuf_new();
	struct master_cf *mc;

	/* Many arguments under the line limit: parsed, in linear time. */
	sbuf_cat(text, "x unix - - n - - cmd");
	for (int i = 0; i < 200000; i++)
		sbuf_cat(text, " -v");
	sbuf_catc(text, '\n');
	mc = master_cf_parse(sbuf_str(text), sbuf_len(text), "master.cf",
	    MAXPROC, why);
	assert_non_null(mc);
	assert_int_equal(mc->services[0].argc, 200001);
	assert_null(mc->services[0].argv[200001]);
	master_cf_free(&mc);
	/* Over the line limit: refused. */
	sbuf_set(text, "x unix - - n - - cmd");
	for (int i = 0; i < 400000; i++)
		sbuf_cat(text, " -v");
	sbuf_catc(text, '\n');
	assert_null(master_cf_parse(sbuf_str(text), sbuf_len(text),
	    "master.cf", MAXPROC, why));
	assert_non_null(strstr(sbuf_str(why),
	    "master.cf, line 1: line longer"));
	sbuf_free(&text);
	sbuf_free(&why);
}

static void
test_types(void **state)
{
	enum master_type t;

	assert_int_equal(master_type_parse("inet", &t), 0);
	assert_int_equal(t, MASTER_INET);
	assert_int_equal(master_type_parse("fifo", &t), 0);
	assert_int_equal(t, MASTER_FIFO);
	assert_int_equal(master_type_parse("unix", &t), 0);
	assert_int_equal(t, MASTER_UNIX);
	assert_int_equal(master_type_parse("pass", &t), -1);
	assert_int_equal(master_type_parse("", &t), -1);
	assert_int_equal(master_type_parse("inet ", &t), -1);
	assert_string_equal(master_type_name(MASTER_INET), "inet");
	assert_string_equal(master_type_name(MASTER_UNIX), "unix");
}

static void
test_load(void **state)
{
	char *dir = test_tmpdir(), *path;
	struct sbuf *why = sbuf_new();
	struct master_cf *mc;

	assert_null(master_cf_load(dir, MAXPROC, why));
	assert_non_null(strstr(sbuf_str(why), "master.cf"));
	path = test_write_text(dir, "master.cf",
	    "smtp inet n - n - - smtpd\nqmgr unix n - n 300 1 qmgr\n");
	mc = master_cf_load(dir, MAXPROC, why);
	assert_non_null(mc);
	assert_string_equal(mc->path, path);
	assert_int_equal(mc->count, 2);
	master_cf_free(&mc);
	free(path);
	path = test_write_text(dir, "master.cf", "\nsmtp inet n\n");
	assert_null(master_cf_load(dir, MAXPROC, why));
	assert_non_null(strstr(sbuf_str(why), "/master.cf, line 2: "));
	free(path);
	sbuf_free(&why);
	test_rmtree(&dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ok),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
