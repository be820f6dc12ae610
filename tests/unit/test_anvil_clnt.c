/*
 * test_anvil_clnt - the anvil protocol: request checks, replies, and
 * smtpd's client against a fake anvil
 *
 * Requests, hostile ones beside good ones, go through the parser anvil
 * uses. The client talks to a forked process listening on
 * private/anvil in a temporary queue directory, which checks the request
 * and answers as scripted: a count, a refusal, numbers out of range,
 * garbage, silence, a hang-up; and sees the connection close when the
 * session ends.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "mail/anvil_clnt.h"
#include "util/attr.h"
#include "util/sbuf.h"
#include "util/xmalloc.h"

#define NAME_16 "aaaaaaaaaaaaaaaa"
#define NAME_64 NAME_16 NAME_16 NAME_16 NAME_16	/* ANVIL_NAME_MAX */

/* One request: attributes as name/value pairs, NULL-terminated. */
struct request_row {
	const char *name;
	const char *attrs[10];
	const char *reason;	/* NULL: accepted */
};

static const struct request_row request_rows[] = {
	{"good", {"request", "connect", "service", "smtp", "addr",
	    "192.0.2.1", NULL}, NULL},
	{"ipv6 with zone", {"request", "connect", "service", "smtps",
	    "addr", "fe80::1%eth0", NULL}, NULL},
	{"longest names", {"request", "connect", "service", NAME_64,
	    "addr", NAME_64, NULL}, NULL},
	{"no request", {"service", "smtp", "addr", "192.0.2.1", NULL},
	    "request is not \"connect\""},
	{"other request", {"request", "lookup", "service", "smtp", "addr",
	    "192.0.2.1", NULL}, "request is not \"connect\""},
	{"no service", {"request", "connect", "addr", "192.0.2.1", NULL},
	    "missing or malformed service"},
	{"empty service", {"request", "connect", "service", "", "addr",
	    "192.0.2.1", NULL}, "missing or malformed service"},
	{"service too long", {"request", "connect", "service", NAME_64 "a",
	    "addr", "192.0.2.1", NULL}, "missing or malformed service"},
	{"service with a space", {"request", "connect", "service", "sm tp",
	    "addr", "192.0.2.1", NULL}, "missing or malformed service"},
	{"service with a newline", {"request", "connect", "service",
	    "smtp\n", "addr", "192.0.2.1", NULL},
	    "missing or malformed service"},
	{"service with a high byte", {"request", "connect", "service",
	    "smtp\xc3\xa9", "addr", "192.0.2.1", NULL},
	    "missing or malformed service"},
	{"no addr", {"request", "connect", "service", "smtp", NULL},
	    "missing or malformed addr"},
	{"addr too long", {"request", "connect", "service", "smtp", "addr",
	    NAME_64 "a", NULL}, "missing or malformed addr"},
	{"addr with a tab", {"request", "connect", "service", "smtp", "addr",
	    "192.0.2.1\t", NULL}, "missing or malformed addr"},
	{"extra attribute", {"request", "connect", "service", "smtp", "addr",
	    "192.0.2.1", "count", "5", NULL},
	    "unexpected attributes in the request"},
};

/* Decodes a frame made of the row's attributes (plus NUL cases). */
static struct attr_list *
request_list(const char *const *attrs, const char *nul_name)
{
	struct sbuf *frame = sbuf_new(), *why = sbuf_new();
	struct attr_list *list = NULL;
	struct attr_writer w;

	attr_begin(&w, frame);
	for (size_t i = 0; attrs[i] != NULL; i += 2)
		attr_put_str(&w, attrs[i], attrs[i + 1]);
	if (nul_name != NULL)
		attr_put_bytes(&w, nul_name, "a\0b", 3);
	assert_int_equal(attr_end(&w, why), 0);
	assert_int_equal(attr_decode(sbuf_str(frame), sbuf_len(frame), &list,
	    why), 0);
	sbuf_free(&frame);
	sbuf_free(&why);
	return list;
}

static void
test_request_parse(void **state)
{
	struct sbuf *why = sbuf_new();

	(void)state;
	for (size_t i = 0; i < sizeof(request_rows) / sizeof(request_rows[0]);
	    i++) {
		const struct request_row *r = &request_rows[i];
		struct attr_list *list = request_list(r->attrs, NULL);
		const char *service = NULL, *addr = NULL;
		int rc;

		sbuf_reset(why);
		rc = anvil_request_parse(list, &service, &addr, why);
		if (r->reason == NULL && rc != 0)
			fail_msg("%s: refused: %s", r->name, sbuf_str(why));
		if (r->reason != NULL && (rc == 0 ||
		    strcmp(sbuf_str(why), r->reason) != 0))
			fail_msg("%s: %s, expected \"%s\"", r->name, rc == 0 ?
			    "accepted" : sbuf_str(why), r->reason);
		if (rc == 0) {
			assert_string_equal(service, r->attrs[3]);
			assert_string_equal(addr, r->attrs[5]);
		}
		attr_list_free(&list);
	}
	sbuf_free(&why);
}

/* A value with a NUL byte is no string: refused. */
static void
test_request_nul(void **state)
{
	static const char *const base[] = {"request", "connect", "service",
	    "smtp", NULL};
	struct sbuf *why = sbuf_new();
	struct attr_list *list = request_list(base, "addr");
	const char *service, *addr;

	(void)state;
	assert_int_equal(anvil_request_parse(list, &service, &addr, why), -1);
	assert_string_equal(sbuf_str(why), "missing or malformed addr");
	attr_list_free(&list);
	sbuf_free(&why);
}

static void
test_replies(void **state)
{
	struct sbuf *frame = sbuf_new(), *why = sbuf_new();
	struct attr_list *list = NULL;
	long v;

	(void)state;
	anvil_reply_counted(frame, 12, 345);
	assert_int_equal(attr_decode(sbuf_str(frame), sbuf_len(frame), &list,
	    why), 0);
	assert_int_equal(attr_count(list), 3);
	assert_int_equal(attr_get_long(list, "status", 0, 9, &v, why), 0);
	assert_int_equal(v, ANVIL_STATUS_OK);
	assert_int_equal(attr_get_long(list, "count", 0, 1000, &v, why), 0);
	assert_int_equal(v, 12);
	assert_int_equal(attr_get_long(list, "rate", 0, 1000, &v, why), 0);
	assert_int_equal(v, 345);
	attr_list_free(&list);

	anvil_reply_refused(frame, "too many clients tracked");
	assert_int_equal(attr_decode(sbuf_str(frame), sbuf_len(frame), &list,
	    why), 0);
	assert_int_equal(attr_get_long(list, "status", 0, 9, &v, why), 0);
	assert_int_equal(v, ANVIL_STATUS_REFUSED);
	assert_string_equal(attr_get_str(list, "reason"),
	    "too many clients tracked");
	attr_list_free(&list);
	sbuf_free(&frame);
	sbuf_free(&why);
}

/* What the fake anvil answers. */
enum fake_reply {
	FAKE_COUNT,		/* count 3, rate 7; then waits for the close */
	FAKE_REFUSED,
	FAKE_COUNT_ZERO,
	FAKE_STATUS_UNKNOWN,
	FAKE_EXTRA,
	FAKE_GARBAGE,
	FAKE_SILENT,
	FAKE_HANGUP
};

struct client_row {
	const char *name;
	enum fake_reply reply;
	const char *reason;	/* NULL: a session; else a part of why */
};

static const struct client_row client_rows[] = {
	{"counted", FAKE_COUNT, NULL},
	{"refused", FAKE_REFUSED,
	    "anvil: anvil did not count the session: too many clients"},
	{"count out of range", FAKE_COUNT_ZERO,
	    "anvil: attribute count: 0 out of range"},
	{"unknown status", FAKE_STATUS_UNKNOWN,
	    "anvil: unknown anvil status 9"},
	{"extra attribute", FAKE_EXTRA,
	    "anvil: unexpected attributes in the anvil reply"},
	{"garbage", FAKE_GARBAGE, "anvil: truncated attribute record"},
	{"silence", FAKE_SILENT, "anvil: timeout waiting for a frame"},
	{"hang-up", FAKE_HANGUP, "anvil: connection closed before a frame"},
};

/* A listener on dir/private/anvil. */
static int
fake_listen(const char *dir)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char *priv = NULL;
	int fd;

	assert_true(asprintf(&priv, "%s/private", dir) > 0);
	mkdir(priv, 0700);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/anvil", priv);
	free(priv);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	unlink(sun.sun_path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(fd, 5), 0);
	return fd;
}

/* Sends the scripted reply built with the attribute writer. */
static int
fake_send(int fd, long status, long count, bool extra)
{
	struct sbuf *frame = sbuf_new(), *why = sbuf_new();
	struct attr_writer w;
	int rc;

	attr_begin(&w, frame);
	attr_put_long(&w, "status", status);
	attr_put_long(&w, "count", count);
	attr_put_long(&w, "rate", 7);
	if (extra)
		attr_put_str(&w, "note", "x");
	rc = attr_end(&w, why) == 0 && attr_send(fd, frame, 5000, why) == 0 ?
	    0 : -1;
	sbuf_free(&frame);
	sbuf_free(&why);
	return rc;
}

/*
 * The fake anvil: takes one connection, checks the request, answers.
 * Exit 0 when all went as scripted (for FAKE_COUNT: the client closed
 * without sending more), else a number naming the step that failed.
 */
static void __attribute__((noreturn))
fake_anvil(int lfd, enum fake_reply reply)
{
	struct sbuf *why = sbuf_new(), *frame = sbuf_new();
	struct attr_list *req = NULL;
	const char *service, *addr;
	struct pollfd pfd;
	char byte;
	int fd;

	if ((fd = accept(lfd, NULL, NULL)) < 0)
		_exit(10);
	if (attr_recv(fd, ANVIL_FRAME_MAX, 5000, &req, why) < 0 ||
	    anvil_request_parse(req, &service, &addr, why) < 0 ||
	    strcmp(service, "submission") != 0 ||
	    strcmp(addr, "2001:db8::7") != 0)
		_exit(11);
	switch (reply) {
	case FAKE_COUNT:
		if (fake_send(fd, ANVIL_STATUS_OK, 3, false) < 0)
			_exit(12);
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 10000) != 1 || read(fd, &byte, 1) != 0)
			_exit(13);
		break;
	case FAKE_REFUSED:
		anvil_reply_refused(frame, "too many clients tracked");
		if (attr_send(fd, frame, 5000, why) < 0)
			_exit(12);
		break;
	case FAKE_COUNT_ZERO:
		fake_send(fd, ANVIL_STATUS_OK, 0, false);
		break;
	case FAKE_STATUS_UNKNOWN:
		fake_send(fd, 9, 1, false);
		break;
	case FAKE_EXTRA:
		fake_send(fd, ANVIL_STATUS_OK, 1, true);
		break;
	case FAKE_GARBAGE:
		if (write(fd, "\0\0\0\2xy", 6) != 6)
			_exit(12);
		break;
	case FAKE_SILENT:
		pfd.fd = fd;
		pfd.events = POLLIN;
		poll(&pfd, 1, 10000);
		break;
	case FAKE_HANGUP:
		break;
	}
	_exit(0);
}

static void
test_client(void **state)
{
	struct sbuf *why = sbuf_new();
	char *dir = test_tmpdir();

	(void)state;
	for (size_t i = 0; i < sizeof(client_rows) / sizeof(client_rows[0]);
	    i++) {
		const struct client_row *r = &client_rows[i];
		struct anvil_session *s;
		long count = -1, rate = -1;
		int lfd = fake_listen(dir), status;

		test_child_pid = fork();
		assert_true(test_child_pid >= 0);
		if (test_child_pid == 0)
			fake_anvil(lfd, r->reply);
		close(lfd);
		sbuf_reset(why);
		s = anvil_connect(dir, "submission", "2001:db8::7", &count,
		    &rate, r->reply == FAKE_SILENT ? 300 : 5000, why);
		if (r->reason == NULL) {
			if (s == NULL)
				fail_msg("%s: %s", r->name, sbuf_str(why));
			assert_int_equal(count, 3);
			assert_int_equal(rate, 7);
			anvil_disconnect(&s);
			assert_null(s);
		} else if (s != NULL || strstr(sbuf_str(why),
		    r->reason) == NULL) {
			fail_msg("%s: %s, expected \"%s\"", r->name,
			    s != NULL ? "a session" : sbuf_str(why),
			    r->reason);
		}
		status = test_child_wait();
		if (status != 0)
			fail_msg("%s: fake anvil failed at step %d", r->name,
			    status);
	}
	test_rmtree(&dir);
	sbuf_free(&why);
}

/*
 * No anvil: a reason naming the socket; unfit names never leave; ending
 * no session is harmless.
 */
static void
test_client_refusals(void **state)
{
	struct sbuf *why = sbuf_new();
	char *dir = test_tmpdir();
	struct anvil_session *none = NULL;
	long count, rate;

	(void)state;
	assert_null(anvil_connect(dir, "smtp", "192.0.2.1", &count, &rate,
	    1000, why));
	assert_non_null(strstr(sbuf_str(why), "/private/anvil"));
	assert_null(anvil_connect(dir, "smtp", "local host", &count, &rate,
	    1000, why));
	assert_string_equal(sbuf_str(why), "anvil: service or client address "
	    "unfit for the protocol");
	assert_null(anvil_connect(dir, "", "192.0.2.1", &count, &rate,
	    1000, why));
	anvil_disconnect(&none);
	assert_null(none);
	test_rmtree(&dir);
	sbuf_free(&why);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_parse),
		cmocka_unit_test(test_request_nul),
		cmocka_unit_test(test_replies),
		cmocka_unit_test_setup_teardown(test_client,
		    test_child_setup, test_child_teardown),
		cmocka_unit_test(test_client_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
