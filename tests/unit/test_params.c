/*
 * test_params - the parameter table, value parsing by type, computed
 * defaults and params_load()
 */
#include "testutil.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mail/params.h"
#include "util/sbuf.h"
#include "util/xmalloc.h"

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

static void
test_table(void **state)
{
	struct sbuf *why = sbuf_new();
	union param_value v;

	assert_int_equal(PARAM_COUNT, NROWS(params_table));
	assert_true(PARAM_COUNT >= 50);
	for (size_t i = 0; i < PARAM_COUNT; i++) {
		const struct param_def *d = &params_table[i];
		size_t dlen = d->desc ? strlen(d->desc) : 0;

		if (i > 0 && strcmp(params_table[i - 1].name, d->name) >= 0)
			fail_msg("params.def not sorted at %s", d->name);
		if (dlen == 0 || d->desc[dlen - 1] != '.')
			fail_msg("%s: description must be a sentence",
			    d->name);
		assert_ptr_equal(params_find(d->name), d);
		if (d->def == NULL)
			continue;
		if (params_parse_value(d, d->def, &v, why) < 0)
			fail_msg("%s: default refused: %s", d->name,
			    sbuf_str(why));
		if (d->type == PARAM_TIME &&
		    strchr("smhdw", d->def[strlen(d->def) - 1]) == NULL)
			fail_msg("%s: time default without a unit", d->name);
	}
	/* The computed ones are exactly myhostname and mydomain. */
	assert_null(params_table[PARAM_ID_myhostname].def);
	assert_null(params_table[PARAM_ID_mydomain].def);
	assert_string_equal(params_table[PARAM_ID_message_size_limit].def,
	    "10240000");
	sbuf_free(&why);
}

static void
test_find(void **state)
{
	static const char *const misses[] = {
		"", "mydomai", "mydomainx", "MYDOMAIN", "zzz", "a", "$mydomain",
		"mydomain ",
	};

	assert_non_null(params_find("alias_database"));
	assert_non_null(params_find("virtual_mailbox_maps"));
	assert_string_equal(params_find("smtpd_timeout")->name,
	    "smtpd_timeout");
	for (size_t i = 0; i < NROWS(misses); i++)
		if (params_find(misses[i]) != NULL)
			fail_msg("found \"%s\"", misses[i]);
	/* Names that are a prefix of the text, as $name expansion sees them. */
	assert_string_equal(params_find_len("max_use}x", 7)->name, "max_use");
	assert_null(params_find_len("max_use", 3));
	assert_null(params_find_len("max_use", 0));
	assert_null(params_find_len("max\0use", 7));
	assert_string_equal(params_find_len("mydomainx", 8)->name,
	    "mydomain");
}

struct value_row {
	const char *name;
	enum param_type type;
	const char *def;
	const char *in;
	int ret;
	long long number;	/* INT, TIME, BOOL (0/1) */
	unsigned long long size;
	const char *reason;	/* substring of why when ret < 0 */
};

static const struct value_row value_rows[] = {
	/* INT */
	{"int zero", PARAM_INT, "1", "0", 0, 0, 0, NULL},
	{"int plain", PARAM_INT, "1", "100", 0, 100, 0, NULL},
	{"int max", PARAM_INT, "1", "2147483647", 0, 2147483647, 0, NULL},
	{"int over max", PARAM_INT, "1", "2147483648", -1, 0, 0,
	    "parameter t: bad integer value \"2147483648\""},
	{"int huge", PARAM_INT, "1", "99999999999999999999999999", -1, 0, 0,
	    "expected a decimal number"},
	{"int negative", PARAM_INT, "1", "-1", -1, 0, 0, "bad integer"},
	{"int plus", PARAM_INT, "1", "+1", -1, 0, 0, "bad integer"},
	{"int empty", PARAM_INT, "1", "", -1, 0, 0, "bad integer value \"\""},
	{"int junk after", PARAM_INT, "1", "10x", -1, 0, 0, "bad integer"},
	{"int space", PARAM_INT, "1", "1 0", -1, 0, 0, "bad integer"},
	{"int hex", PARAM_INT, "1", "0x10", -1, 0, 0, "bad integer"},
	{"int control", PARAM_INT, "1", "1\r", -1, 0, 0, "control character"},
	/* BOOL */
	{"bool yes", PARAM_BOOL, "no", "yes", 0, 1, 0, NULL},
	{"bool YES", PARAM_BOOL, "no", "YES", 0, 1, 0, NULL},
	{"bool true", PARAM_BOOL, "no", "true", 0, 1, 0, NULL},
	{"bool no", PARAM_BOOL, "yes", "no", 0, 0, 0, NULL},
	{"bool False", PARAM_BOOL, "yes", "False", 0, 0, 0, NULL},
	{"bool 1", PARAM_BOOL, "no", "1", -1, 0, 0,
	    "bad boolean value \"1\": expected yes or no"},
	{"bool y", PARAM_BOOL, "no", "y", -1, 0, 0, "bad boolean"},
	{"bool yess", PARAM_BOOL, "no", "yess", -1, 0, 0, "bad boolean"},
	{"bool empty", PARAM_BOOL, "no", "", -1, 0, 0, "bad boolean"},
	/* TIME */
	{"time seconds", PARAM_TIME, "300s", "45s", 0, 45, 0, NULL},
	{"time minutes", PARAM_TIME, "300s", "2m", 0, 120, 0, NULL},
	{"time hours", PARAM_TIME, "300s", "3h", 0, 10800, 0, NULL},
	{"time days", PARAM_TIME, "300s", "5d", 0, 432000, 0, NULL},
	{"time weeks", PARAM_TIME, "300s", "2w", 0, 1209600, 0, NULL},
	{"time bare, default in s", PARAM_TIME, "300s", "7", 0, 7, 0, NULL},
	{"time bare, default in d", PARAM_TIME, "5d", "3", 0, 259200, 0, NULL},
	{"time bare, default in h", PARAM_TIME, "0h", "2", 0, 7200, 0, NULL},
	{"time zero", PARAM_TIME, "1s", "0", 0, 0, 0, NULL},
	{"time max", PARAM_TIME, "1s", "2147483647s", 0, 2147483647, 0, NULL},
	{"time over max", PARAM_TIME, "1s", "2147483648", -1, 0, 0,
	    "bad time value \"2147483648\": longer than"},
	{"time unit overflow", PARAM_TIME, "1s", "9999999999w", -1, 0, 0,
	    "longer than 2147483647 seconds"},
	{"time digits overflow", PARAM_TIME, "1s",
	    "999999999999999999999999999999s", -1, 0, 0, "bad time value"},
	{"time bad unit", PARAM_TIME, "1s", "5x", -1, 0, 0,
	    "bad time value \"5x\": expected a number with an optional unit"},
	{"time upper unit", PARAM_TIME, "1s", "5S", -1, 0, 0, "bad time"},
	{"time two units", PARAM_TIME, "1s", "5ms", -1, 0, 0, "bad time"},
	{"time unit only", PARAM_TIME, "1s", "s", -1, 0, 0, "bad time"},
	{"time negative", PARAM_TIME, "1s", "-5s", -1, 0, 0, "bad time"},
	{"time empty", PARAM_TIME, "1s", "", -1, 0, 0, "bad time"},
	{"time space", PARAM_TIME, "1s", "5 s", -1, 0, 0, "bad time"},
	/* SIZE */
	{"size bytes", PARAM_SIZE, "1", "10240000", 0, 0, 10240000, NULL},
	{"size k", PARAM_SIZE, "1", "10k", 0, 0, 10240, NULL},
	{"size M", PARAM_SIZE, "1", "50M", 0, 0, 52428800, NULL},
	{"size g", PARAM_SIZE, "1", "2g", 0, 0, 2147483648ULL, NULL},
	{"size zero", PARAM_SIZE, "1", "0", 0, 0, 0, NULL},
	{"size max", PARAM_SIZE, "1", "18446744073709551615", 0, 0,
	    ULLONG_MAX, NULL},
	{"size overflow", PARAM_SIZE, "1", "18446744073709551616", -1, 0, 0,
	    "bad size value"},
	{"size suffix overflow", PARAM_SIZE, "1", "18446744073709551615k",
	    -1, 0, 0, "too large"},
	{"size bad suffix", PARAM_SIZE, "1", "10t", -1, 0, 0,
	    "expected a number of bytes with an optional suffix"},
	{"size two suffixes", PARAM_SIZE, "1", "10kb", -1, 0, 0, "bad size"},
	{"size negative", PARAM_SIZE, "1", "-1", -1, 0, 0, "bad size"},
	{"size empty", PARAM_SIZE, "1", "", -1, 0, 0, "bad size"},
	/* MAPS */
	{"maps one", PARAM_MAPS, "", "db:/etc/aliases", 0, 0, 0, NULL},
	{"maps empty", PARAM_MAPS, "", "", 0, 0, 0, NULL},
	{"maps several", PARAM_MAPS, "", "db:/a, cdb:/b  pcre:/c,", 0, 0, 0,
	    NULL},
	{"maps inline", PARAM_MAPS, "", "inline:{ a=b, c=d }, static:x",
	    0, 0, 0, NULL},
	{"maps nested braces", PARAM_MAPS, "", "inline:{a={b}}", 0, 0, 0,
	    NULL},
	{"maps no type", PARAM_MAPS, "", "/etc/aliases", -1, 0, 0,
	    "bad lookup tables value \"/etc/aliases\": expected lookup"},
	{"maps empty type", PARAM_MAPS, "", ":x", -1, 0, 0, "expected lookup"},
	{"maps empty name", PARAM_MAPS, "", "db:", -1, 0, 0,
	    "expected lookup"},
	{"maps unclosed brace", PARAM_MAPS, "", "inline:{a=b", -1, 0, 0,
	    "missing '}'"},
	{"maps text after brace", PARAM_MAPS, "", "inline:{a=b}x", -1, 0, 0,
	    "text after '}'"},
	/* STR and LIST take any text but control characters. */
	{"str text", PARAM_STR, "", "any $text {here}", 0, 0, 0, NULL},
	{"str tab", PARAM_STR, "", "a\tb", 0, 0, 0, NULL},
	{"str newline", PARAM_STR, "", "a\nb", -1, 0, 0,
	    "control character"},
	{"list escape", PARAM_LIST, "", "a\033b", -1, 0, 0,
	    "control character"},
	{"str long value quoted short", PARAM_STR, "",
	    "x\001xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxx", -1, 0, 0, "xxx...\""},
};

static void
test_values(void **state)
{
	struct sbuf *why = sbuf_new();

	for (size_t i = 0; i < NROWS(value_rows); i++) {
		const struct value_row *r = &value_rows[i];
		struct param_def def = {"t", r->type, r->def, "Test.", 0};
		union param_value v;
		int ret;

		sbuf_reset(why);
		ret = params_parse_value(&def, r->in, &v, why);
		if (ret != r->ret)
			fail_msg("%s: returned %d (%s)", r->name, ret,
			    sbuf_str(why));
		if (ret < 0) {
			if (strstr(sbuf_str(why), r->reason) == NULL)
				fail_msg("%s: reason \"%s\" lacks \"%s\"",
				    r->name, sbuf_str(why), r->reason);
			continue;
		}
		switch (r->type) {
		case PARAM_INT:
		case PARAM_TIME:
			if (v.number != r->number)
				fail_msg("%s: got %ld", r->name, v.number);
			break;
		case PARAM_BOOL:
			if (v.flag != (r->number != 0))
				fail_msg("%s: got %d", r->name, v.flag);
			break;
		case PARAM_SIZE:
			if (v.size != r->size)
				fail_msg("%s: got %llu", r->name, v.size);
			break;
		case PARAM_STR:
		case PARAM_LIST:
		case PARAM_MAPS:
			assert_ptr_equal(v.text, r->in);
			break;
		}
	}
	sbuf_free(&why);
}

static void
test_set(void **state)
{
	struct params *p = params_new();
	struct sbuf *why = sbuf_new();

	assert_int_equal(params_set(p, &params_table[PARAM_ID_myorigin],
	    "one.example", why), 0);
	/* Replacing a string frees the old one (LeakSanitizer checks). */
	assert_int_equal(params_set(p, &params_table[PARAM_ID_myorigin],
	    "two.example", why), 0);
	assert_string_equal(p->myorigin, "two.example");
	assert_int_equal(params_set(p,
	    &params_table[PARAM_ID_maximal_queue_lifetime], "2", why), 0);
	assert_int_equal(p->maximal_queue_lifetime, 2 * 86400);
	assert_int_equal(params_set(p,
	    &params_table[PARAM_ID_message_size_limit], "1k", why), 0);
	assert_true(p->message_size_limit == 1024);
	assert_int_equal(params_set(p,
	    &params_table[PARAM_ID_smtpd_helo_required], "yes", why), 0);
	assert_true(p->smtpd_helo_required);
	/* A refused value leaves the field alone. */
	assert_int_equal(params_set(p, &params_table[PARAM_ID_max_use],
	    "lots", why), -1);
	assert_string_equal(sbuf_str(why), "parameter max_use: bad integer "
	    "value \"lots\": expected a decimal number from 0 to 2147483647");
	assert_int_equal(p->max_use, 0);
	params_free(&p);
	assert_null(p);
	params_free(&p);
	sbuf_free(&why);
}

struct domain_row {
	const char *host, *domain;
};

static const struct domain_row domain_rows[] = {
	{"mail.example.com", "example.com"},
	{"a.b", "b"},
	{"host", "localdomain"},
	{"host.", "localdomain"},
	{"", "localdomain"},
};

static void
test_compute(void **state)
{
	struct sbuf *out = sbuf_new();
	const char *host;

	params_compute(&params_table[PARAM_ID_myhostname], NULL, out);
	host = sbuf_str(out);
	assert_non_null(strchr(host, '.'));
	assert_true(strspn(host, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") == strlen(host));
	for (size_t i = 0; i < NROWS(domain_rows); i++) {
		sbuf_reset(out);
		params_compute(&params_table[PARAM_ID_mydomain],
		    domain_rows[i].host, out);
		if (strcmp(sbuf_str(out), domain_rows[i].domain) != 0)
			fail_msg("domain of \"%s\": got \"%s\"",
			    domain_rows[i].host, sbuf_str(out));
	}
	sbuf_free(&out);
}

static void
test_load_defaults(void **state)
{
	char *dir = test_tmpdir();
	struct sbuf *why = sbuf_new(), *warnings = sbuf_new(), *want;
	struct params *p = params_load(dir, warnings, why);

	/* No main.cf at all: every default. */
	assert_non_null(p);
	assert_string_equal(sbuf_str(warnings), "");
	assert_true(p->message_size_limit == 10240000);
	assert_int_equal(p->smtpd_timeout, 300);
	assert_int_equal(p->maximal_queue_lifetime, 5 * 86400);
	assert_int_equal(p->delay_warning_time, 0);
	assert_int_equal(p->default_process_limit, 100);
	assert_false(p->smtpd_tls_wrappermode);
	assert_string_equal(p->config_directory, dir);
	assert_string_equal(p->mail_name, "Postern");
	assert_string_equal(p->myorigin, p->myhostname);
	assert_string_equal(p->smtpd_tls_key_file, "");
	want = sbuf_new();
	sbuf_printf(want, "%s ESMTP Postern", p->myhostname);
	assert_string_equal(p->smtpd_banner, sbuf_str(want));
	sbuf_setf(want, "%s, localhost.%s, localhost", p->myhostname,
	    p->mydomain);
	assert_string_equal(p->mydestination, sbuf_str(want));
	params_free(&p);
	sbuf_free(&want);
	sbuf_free(&why);
	sbuf_free(&warnings);
	test_rmtree(&dir);
}

struct load_row {
	const char *name;
	const char *main_cf;
	const char *reason;	/* NULL: loads */
	const char *warnings;	/* expected; DIR stands for the dir */
};

static const struct load_row load_rows[] = {
	{"settings", "myhostname = mail.example.org\n"
	    "message_size_limit = 20m\nsmtpd_timeout = 1m\n", NULL, ""},
	{"bad time names file and line",
	    "# comment\n\nsmtpd_timeout = soon\n",
	    "DIR/main.cf, line 3: parameter smtpd_timeout: bad time value "
	    "\"soon\"", NULL},
	{"bad int after continuation",
	    "mydestination = a,\n  b\nmax_use = -3\n",
	    "DIR/main.cf, line 3: parameter max_use: bad integer", NULL},
	{"bad size through $name", "x = 12q\nmessage_size_limit = $x\n",
	    "DIR/main.cf, line 2: parameter message_size_limit: bad size "
	    "value \"12q\"", NULL},
	{"loop", "myorigin = $a\na = $b\nb = $a\n",
	    "expansion loop: $a -> $b -> $a", NULL},
	{"syntax error", "relayhost\n", "DIR/main.cf, line 1: missing '='",
	    NULL},
	{"unknown names warned", "foo = 1\nmyorigin = $bar\nbar = x\n"
	    "baz = $baz\n", NULL,
	    "DIR/main.cf, line 4: unknown parameter baz\n"
	    "DIR/main.cf, line 1: unknown parameter foo\n"},
};

/* Replaces DIR in pattern with dir. */
static char *
with_dir(const char *pattern, const char *dir)
{
	struct sbuf *out = sbuf_new();
	const char *p;
	char *s;

	while ((p = strstr(pattern, "DIR")) != NULL) {
		sbuf_catn(out, pattern, (size_t)(p - pattern));
		sbuf_cat(out, dir);
		pattern = p + 3;
	}
	sbuf_cat(out, pattern);
	s = sbuf_steal(out);
	sbuf_free(&out);
	return s;
}

static void
test_load(void **state)
{
	for (size_t i = 0; i < NROWS(load_rows); i++) {
		const struct load_row *r = &load_rows[i];
		char *dir = test_tmpdir();
		char *path = test_write_text(dir, "main.cf", r->main_cf);
		struct sbuf *why = sbuf_new(), *warnings = sbuf_new();
		struct params *p = params_load(dir, warnings, why);

		if (r->reason == NULL) {
			char *want = with_dir(r->warnings, dir);

			if (p == NULL)
				fail_msg("%s: %s", r->name, sbuf_str(why));
			if (strcmp(sbuf_str(warnings), want) != 0)
				fail_msg("%s: warnings \"%s\"", r->name,
				    sbuf_str(warnings));
			free(want);
		} else {
			char *want = with_dir(r->reason, dir);

			if (p != NULL)
				fail_msg("%s: loaded", r->name);
			if (strstr(sbuf_str(why), want) == NULL)
				fail_msg("%s: reason \"%s\" lacks \"%s\"",
				    r->name, sbuf_str(why), want);
			free(want);
		}
		if (i == 0) {
			assert_string_equal(p->myhostname, "mail.example.org");
			assert_string_equal(p->mydomain, "example.org");
			assert_string_equal(p->myorigin, "mail.example.org");
			assert_true(p->message_size_limit == 20 * 1048576);
			assert_int_equal(p->smtpd_timeout, 60);
		}
		params_free(&p);
		sbuf_free(&why);
		sbuf_free(&warnings);
		free(path);
		test_rmtree(&dir);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_compute),
		cmocka_unit_test(test_load_defaults),
		cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
