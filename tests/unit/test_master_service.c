/*
 * test_master_service - master's services: inet_protocols, the addresses
 * an inet service listens on, the comparison that decides what a reload
 * keeps, and real sockets, fifos and bind failures in a scratch queue
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail/master_cf.h"
#include "mail/params.h"
#include "master_service.h"
#include "util/sbuf.h"

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))
#define BOTH	(MASTER_PROTO_IPV4 | MASTER_PROTO_IPV6)
#define V4	MASTER_PROTO_IPV4
#define V6	MASTER_PROTO_IPV6

/* The one service of a one-line master.cf. */
static struct master_cf *
parse_one(const char *line)
{
	struct sbuf *why = sbuf_new();
	struct master_cf *mc;

	mc = master_cf_parse(line, strlen(line), "master.cf", 100, why);
	if (mc == NULL)
		fail_msg("%s: %s", line, sbuf_str(why));
	assert_int_equal(mc->count, 1);
	sbuf_free(&why);
	return mc;
}

/* Parameters with the three that services use set. */
static struct params *
make_params(const char *queue, const char *interfaces, const char *protocols)
{
	struct params *p = params_new();
	struct sbuf *why = sbuf_new();

	assert_int_equal(params_set(p, params_find("queue_directory"), queue,
	    why), 0);
	assert_int_equal(params_set(p, params_find("inet_interfaces"),
	    interfaces, why), 0);
	assert_int_equal(params_set(p, params_find("inet_protocols"),
	    protocols, why), 0);
	sbuf_free(&why);
	return p;
}

struct proto_row {
	const char *name;
	const char *value;
	int available;
	int expect;		/* bits, or -1 for an error */
	const char *reason;	/* part of the error */
};

static const struct proto_row proto_rows[] = {
	{"all, both available", "all", BOTH, BOTH, NULL},
	{"all, ipv4 host", "all", V4, V4, NULL},
	{"all, ipv6 host", "all", V6, V6, NULL},
	{"ipv4", "ipv4", BOTH, V4, NULL},
	{"ipv6", "ipv6", BOTH, V6, NULL},
	{"ipv4 only even when absent", "ipv4", V6, V4, NULL},
	{"both with comma", "ipv4, ipv6", BOTH, BOTH, NULL},
	{"both with blanks", "ipv6 ipv4", V4, BOTH, NULL},
	{"unknown word", "ipv4, ipx", BOTH, -1, "unknown protocol \"ipx\""},
	{"case matters", "IPv4", BOTH, -1, "unknown protocol"},
	{"empty", "", BOTH, -1, "no address family"},
	{"all with nothing available", "all", 0, -1, "no address family"},
};

static void
test_protocols(void **state)
{
	struct sbuf *why = sbuf_new();

	for (size_t i = 0; i < NROWS(proto_rows); i++) {
		const struct proto_row *r = &proto_rows[i];
		int got = 12345;
		int ret = master_service_protocols(r->value, r->available,
		    &got, why);

		if (r->expect < 0) {
			if (ret != -1 || strstr(sbuf_str(why), r->reason) ==
			    NULL)
				fail_msg("%s: got %d, \"%s\"", r->name, ret,
				    sbuf_str(why));
			assert_int_equal(got, 12345);
		} else if (ret != 0 || got != r->expect) {
			fail_msg("%s: got %d, bits %d, \"%s\"", r->name, ret,
			    got, sbuf_str(why));
		}
	}
	sbuf_free(&why);
}

struct addr_row {
	const char *name;
	const char *service;	/* master.cf service field */
	const char *interfaces;
	int protocols;
	const char *expect;	/* endpoints joined by spaces, or NULL */
	const char *reason;	/* part of the error */
};

static const struct addr_row addr_rows[] = {
	{"all, both", "25", "all", BOTH, "0.0.0.0:25 [::]:25", NULL},
	{"all, ipv4", "25", "all", V4, "0.0.0.0:25", NULL},
	{"all, ipv6", "25", "all", V6, "[::]:25", NULL},
	{"loopback-only", "2525", "loopback-only", BOTH,
	    "127.0.0.1:2525 [::1]:2525", NULL},
	{"loopback-only, ipv4", "2525", "loopback-only", V4,
	    "127.0.0.1:2525", NULL},
	{"list", "2525", "127.0.0.1, ::1", BOTH,
	    "127.0.0.1:2525 [::1]:2525", NULL},
	{"bracketed IPv6 in the list", "2525", "[::1] 127.0.0.2", BOTH,
	    "[::1]:2525 127.0.0.2:2525", NULL},
	{"duplicates removed", "2525", "127.0.0.1 127.0.0.1", BOTH,
	    "127.0.0.1:2525", NULL},
	{"port by name", "smtp", "127.0.0.1", V4, "127.0.0.1:25", NULL},
	{"own host wins", "127.0.0.2:2525", "all", BOTH, "127.0.0.2:2525",
	    NULL},
	{"own IPv6 host", "[::1]:2525", "127.0.0.1", BOTH, "[::1]:2525",
	    NULL},
	{"own host, port by name", "127.0.0.1:smtp", "all", V4,
	    "127.0.0.1:25", NULL},
	{"all mixed with an address", "2525", "all 127.0.0.1", BOTH, NULL,
	    "must stand alone"},
	{"loopback-only mixed", "2525", "::1, loopback-only", BOTH, NULL,
	    "must stand alone"},
	{"empty interfaces", "2525", " , ", BOTH, NULL, "is empty"},
	{"IPv6 address with ipv4 only", "2525", "::1", V4, NULL,
	    "address \"::1\" is IPv6, which inet_protocols leaves out"},
	{"IPv4 address with ipv6 only", "2525", "127.0.0.1", V6, NULL,
	    "address \"127.0.0.1\" is IPv4, which inet_protocols leaves "
	    "out"},
	{"own IPv6 host with ipv4 only", "[::1]:2525", "all", V4, NULL,
	    "address \"::1\" is IPv6"},
	{"unknown port name", "no-such-port-name", "127.0.0.1", V4, NULL,
	    "port \"no-such-port-name\""},
};

/* Runs one row; the endpoints joined into out. */
static int
run_addr_row(const struct addr_row *r, struct sbuf *out, struct sbuf *why)
{
	struct sbuf *line = sbuf_new();
	struct master_addr *addrs = NULL;
	struct master_cf *mc;
	size_t count = 0;
	int ret;

	sbuf_printf(line, "%s inet n - n - - echo\n", r->service);
	mc = parse_one(sbuf_str(line));
	ret = master_service_addrs(&mc->services[0], r->interfaces,
	    r->protocols, &addrs, &count, why);
	sbuf_reset(out);
	for (size_t i = 0; ret == 0 && i < count; i++)
		sbuf_printf(out, "%s%s", i ? " " : "", addrs[i].text);
	if (ret < 0)
		assert_null(addrs);
	master_service_addrs_free(&addrs, count);
	assert_null(addrs);
	master_cf_free(&mc);
	sbuf_free(&line);
	return ret;
}

static void
test_addrs(void **state)
{
	struct sbuf *why = sbuf_new(), *out = sbuf_new();

	for (size_t i = 0; i < NROWS(addr_rows); i++) {
		const struct addr_row *r = &addr_rows[i];
		int ret = run_addr_row(r, out, why);

		if (r->expect == NULL) {
			if (ret != -1 || strstr(sbuf_str(why), r->reason) ==
			    NULL)
				fail_msg("%s: got %d \"%s\", \"%s\"", r->name,
				    ret, sbuf_str(out), sbuf_str(why));
		} else if (ret != 0 || strcmp(sbuf_str(out), r->expect) != 0) {
			fail_msg("%s: got %d \"%s\", \"%s\"", r->name, ret,
			    sbuf_str(out), sbuf_str(why));
		}
	}
	sbuf_free(&why);
	sbuf_free(&out);
}

/* More addresses than a service may be given. */
static void
test_addrs_too_many(void **state)
{
	struct sbuf *list = sbuf_new(), *why = sbuf_new();
	struct master_addr *addrs = NULL;
	struct master_cf *mc = parse_one("2525 inet n - n - - echo\n");
	size_t count = 0;

	for (int i = 1; i <= MASTER_LISTEN_MAX; i++)
		sbuf_printf(list, "127.0.0.%d ", i);
	assert_int_equal(master_service_addrs(&mc->services[0],
	    sbuf_str(list), V4, &addrs, &count, why), 0);
	assert_int_equal(count, MASTER_LISTEN_MAX);
	master_service_addrs_free(&addrs, count);
	sbuf_cat(list, "127.0.1.1");
	assert_int_equal(master_service_addrs(&mc->services[0],
	    sbuf_str(list), V4, &addrs, &count, why), -1);
	assert_non_null(strstr(sbuf_str(why), "more than 64 addresses"));
	assert_null(addrs);
	master_cf_free(&mc);
	sbuf_free(&list);
	sbuf_free(&why);
}

struct diff_row {
	const char *name;
	const char *old_line, *new_line;
	const char *old_interfaces, *new_interfaces;
	const char *old_queue, *new_queue;
	enum master_diff expect;
};

#define Q "/var/spool/postern"

static const struct diff_row diff_rows[] = {
	{"unchanged inet", "2525 inet n - n - 3 echo",
	    "2525 inet n - n - 3 echo", "127.0.0.1", "127.0.0.1", Q, Q,
	    MASTER_SAME},
	{"unchanged unix", "qmgr unix n - n 300 1 qmgr",
	    "qmgr  unix  n  -  n  300  1  qmgr", "all", "all", Q, Q,
	    MASTER_SAME},
	{"default written out", "2525 inet n - n - - echo",
	    "2525 inet n y n 0 100 echo", "127.0.0.1", "127.0.0.1", Q, Q,
	    MASTER_SAME},
	{"maxproc", "2525 inet n - n - 3 echo", "2525 inet n - n - 4 echo",
	    "127.0.0.1", "127.0.0.1", Q, Q, MASTER_SAME_SOCKETS},
	{"an argument", "2525 inet n - n - 3 echo",
	    "2525 inet n - n - 3 echo -o max_idle=5s", "127.0.0.1",
	    "127.0.0.1", Q, Q, MASTER_SAME_SOCKETS},
	{"the command", "2525 inet n - n - 3 echo",
	    "2525 inet n - n - 3 other", "127.0.0.1", "127.0.0.1", Q, Q,
	    MASTER_SAME_SOCKETS},
	{"unpriv", "2525 inet n - n - 3 echo", "2525 inet n n n - 3 echo",
	    "127.0.0.1", "127.0.0.1", Q, Q, MASTER_SAME_SOCKETS},
	{"chroot", "a unix - - n - - echo", "a unix - - y - - echo", "all",
	    "all", Q, Q, MASTER_SAME_SOCKETS},
	{"wakeup", "a unix - - n 60 1 echo", "a unix - - n 60? 1 echo",
	    "all", "all", Q, Q, MASTER_SAME_SOCKETS},
	{"inet_interfaces", "2525 inet n - n - 3 echo",
	    "2525 inet n - n - 3 echo", "127.0.0.1", "127.0.0.2", Q, Q,
	    MASTER_DIFFERENT},
	{"own host", "127.0.0.1:2525 inet n - n - 3 echo",
	    "127.0.0.2:2525 inet n - n - 3 echo", "all", "all", Q, Q,
	    MASTER_DIFFERENT},
	{"private", "a unix y - n - - echo", "a unix n - n - - echo", "all",
	    "all", Q, Q, MASTER_DIFFERENT},
	{"queue_directory", "a unix - - n - - echo",
	    "a unix - - n - - echo", "all", "all", Q, "/srv/queue",
	    MASTER_DIFFERENT},
	{"type", "a unix n - n - - echo", "a fifo n - n - - echo", "all",
	    "all", Q, Q, MASTER_DIFFERENT},
	{"name", "a unix n - n - - echo", "b unix n - n - - echo", "all",
	    "all", Q, Q, MASTER_DIFFERENT},
};

/* A service for line under the given parameters (ipv4 only). */
static struct master_serv *
make_serv(struct master_env *env, const char *line, const char *interfaces,
    const char *queue)
{
	struct params *p = make_params(queue, interfaces, "ipv4");
	struct sbuf *why = sbuf_new(), *text = sbuf_new();
	struct master_serv *serv;
	struct master_cf *mc;

	sbuf_printf(text, "%s\n", line);
	mc = parse_one(sbuf_str(text));
	serv = master_service_new(env, &mc->services[0], p, why);
	if (serv == NULL)
		fail_msg("%s: %s", line, sbuf_str(why));
	master_cf_free(&mc);
	params_free(&p);
	sbuf_free(&why);
	sbuf_free(&text);
	return serv;
}

static void
test_diff(void **state)
{
	struct master_env env = {0};

	for (size_t i = 0; i < NROWS(diff_rows); i++) {
		const struct diff_row *r = &diff_rows[i];
		struct master_serv *old = make_serv(&env, r->old_line,
		    r->old_interfaces, r->old_queue);
		struct master_serv *new = make_serv(&env, r->new_line,
		    r->new_interfaces, r->new_queue);
		enum master_diff got = master_service_diff(old, new);

		if (got != r->expect)
			fail_msg("%s: got %d, expected %d", r->name, (int)got,
			    (int)r->expect);
		master_service_free(&old);
		master_service_free(&new);
		assert_null(old);
	}
}

/* Taking a changed entry swaps the entries and keeps the endpoints. */
static void
test_take_cf(void **state)
{
	struct master_env env = {0};
	struct master_serv *old = make_serv(&env, "2525 inet n - n - 3 echo",
	    "127.0.0.1", Q);
	struct master_serv *new = make_serv(&env,
	    "2525 inet n - n - 7 echo -v", "127.0.0.1", Q);

	master_service_take_cf(old, new);
	assert_int_equal(old->cf.maxproc, 7);
	assert_int_equal(old->cf.argc, 2);
	assert_int_equal(new->cf.maxproc, 3);
	assert_string_equal(old->endpoints[0], "127.0.0.1:2525");
	assert_int_equal(master_service_diff(old, new), MASTER_SAME_SOCKETS);
	master_service_free(&old);
	master_service_free(&new);
}

static void
test_new_errors(void **state)
{
	struct master_env env = {0};
	struct sbuf *why = sbuf_new(), *queue = sbuf_new();
	struct master_cf *mc = parse_one("a unix - - n - - echo\n");
	struct params *p;

	/* A unix socket path that does not fit in sun_path. */
	sbuf_cat(queue, "/");
	for (int i = 0; i < 120; i++)
		sbuf_catc(queue, 'q');
	p = make_params(sbuf_str(queue), "all", "all");
	assert_null(master_service_new(&env, &mc->services[0], p, why));
	assert_non_null(strstr(sbuf_str(why), "service a (unix): socket "
	    "path /qqq"));
	assert_non_null(strstr(sbuf_str(why), "is too long"));
	params_free(&p);
	master_cf_free(&mc);

	mc = parse_one("2525 inet n - n - - echo\n");
	p = make_params(Q, "all", "ipv5");
	assert_null(master_service_new(&env, &mc->services[0], p, why));
	assert_non_null(strstr(sbuf_str(why), "service 2525 (inet): "
	    "inet_protocols: unknown protocol \"ipv5\""));
	params_free(&p);
	master_cf_free(&mc);
	sbuf_free(&why);
	sbuf_free(&queue);
}

/* A scratch queue directory with private/ and public/. */
static char *
make_queue(void)
{
	char *dir = test_tmpdir();
	struct sbuf *sub = sbuf_new();

	sbuf_printf(sub, "%s/private", dir);
	assert_int_equal(mkdir(sbuf_str(sub), 0700), 0);
	sbuf_setf(sub, "%s/public", dir);
	assert_int_equal(mkdir(sbuf_str(sub), 0755), 0);
	sbuf_free(&sub);
	return dir;
}

static mode_t
mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	return st.st_mode;
}

static void
test_open_unix_fifo(void **state)
{
	char *dir = make_queue();
	struct params *p = make_params(dir, "all", "all");
	struct master_env env = {.params = p, .single_user = true};
	struct sbuf *why = sbuf_new(), *path = sbuf_new();
	struct master_serv *serv;
	struct master_cf *mc;
	int fl;

	/* A stale socket is replaced; the new one is mode 0666. */
	mc = parse_one("sock unix - - n - - echo\n");
	for (int round = 0; round < 2; round++) {
		serv = master_service_new(&env, &mc->services[0], p, why);
		assert_non_null(serv);
		if (master_service_open(serv, why) < 0)
			fail_msg("%s", sbuf_str(why));
		assert_true(serv->fds[0] > 2 && serv->status_rd > 2 &&
		    serv->status_wr > 2);
		assert_true(fcntl(serv->fds[0], F_GETFD) & FD_CLOEXEC);
		assert_true(fcntl(serv->status_wr, F_GETFD) & FD_CLOEXEC);
		fl = fcntl(serv->status_rd, F_GETFL);
		assert_true(fl & O_NONBLOCK);
		assert_false(fcntl(serv->status_wr, F_GETFL) & O_NONBLOCK);
		assert_int_equal(mode_of(serv->endpoints[0]),
		    S_IFSOCK | 0666);
		master_service_free(&serv);
	}
	master_cf_free(&mc);

	/* The fifo: mode 0622, open for reading and writing. */
	mc = parse_one("pick fifo n - n 60 1 pickup\n");
	serv = master_service_new(&env, &mc->services[0], p, why);
	assert_non_null(serv);
	sbuf_printf(path, "%s/public/pick", dir);
	assert_string_equal(serv->endpoints[0], sbuf_str(path));
	assert_int_equal(master_service_open(serv, why), 0);
	assert_int_equal(mode_of(sbuf_str(path)), S_IFIFO | 0622);
	fl = fcntl(serv->fds[0], F_GETFL);
	assert_int_equal(fl & O_ACCMODE, O_RDWR);
	assert_true(fl & O_NONBLOCK);
	assert_int_equal(write(serv->fds[0], "W", 1), 1);
	master_service_free(&serv);
	master_cf_free(&mc);

	/* Something else in the way is kept and named. */
	sbuf_setf(path, "%s/private/plain", dir);
	free(test_write_text(dir, "private/plain", "data"));
	mc = parse_one("plain unix - - n - - echo\n");
	serv = master_service_new(&env, &mc->services[0], p, why);
	assert_int_equal(master_service_open(serv, why), -1);
	assert_non_null(strstr(sbuf_str(why), "service plain (unix): "));
	assert_non_null(strstr(sbuf_str(why), "exists and is not a socket"));
	assert_true(S_ISREG(mode_of(sbuf_str(path))));
	assert_null(serv->fds);
	assert_int_equal(serv->status_rd, -1);
	master_service_free(&serv);
	master_cf_free(&mc);

	params_free(&p);
	sbuf_free(&why);
	sbuf_free(&path);
	test_rmtree(&dir);
}

/* A port in use fails with the service and address named. */
static void
test_open_inet(void **state)
{
	struct params *p = make_params("/nonexistent", "127.0.0.1", "ipv4");
	struct master_env env = {.params = p, .single_user = true};
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct sbuf *why = sbuf_new(), *line = sbuf_new(), *expect =
	    sbuf_new();
	socklen_t len = sizeof(sin);
	struct master_serv *serv;
	struct master_cf *mc;
	int blocker, client, one = 1;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	blocker = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(blocker >= 0);
	setsockopt(blocker, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(blocker, (struct sockaddr *)&sin, len), 0);
	assert_int_equal(getsockname(blocker, (struct sockaddr *)&sin, &len),
	    0);
	assert_int_equal(listen(blocker, 1), 0);

	sbuf_printf(line, "%d inet n - n - - echo\n", ntohs(sin.sin_port));
	mc = parse_one(sbuf_str(line));
	serv = master_service_new(&env, &mc->services[0], p, why);
	assert_non_null(serv);
	assert_int_equal(master_service_open(serv, why), -1);
	sbuf_printf(expect, "service %d (inet): bind 127.0.0.1:%d: Address "
	    "already in use", ntohs(sin.sin_port), ntohs(sin.sin_port));
	assert_string_equal(sbuf_str(why), sbuf_str(expect));
	assert_null(serv->fds);

	/* Free again, the port is taken, and clients queue on it. */
	close(blocker);
	assert_int_equal(master_service_open(serv, why), 0);
	client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(client, (struct sockaddr *)&sin,
	    sizeof(sin)), 0);
	close(client);
	master_service_free(&serv);
	master_cf_free(&mc);
	params_free(&p);
	sbuf_free(&why);
	sbuf_free(&line);
	sbuf_free(&expect);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_protocols),
		cmocka_unit_test(test_addrs),
		cmocka_unit_test(test_addrs_too_many),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_take_cf),
		cmocka_unit_test(test_new_errors),
		cmocka_unit_test(test_open_unix_fifo),
		cmocka_unit_test(test_open_inet),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
