/*
 * test_tls - TLS contexts and real handshakes over socketpairs
 *
 * The group setup makes certificates with the openssl command in a
 * private directory: mail.example.test (RSA, self-signed), another for
 * other.example.test (EC), a key that matches neither, an encrypted key
 * and a file of junk. One side of each connection runs in a forked child
 * that reports by exit status (it must not use cmocka); it is reaped in
 * the teardown whatever happens, and every test runs under an alarm.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "testutil.h"
#include "util/sbuf.h"
#include "util/stream.h"
#include "util/tls.h"
#include "util/xmalloc.h"

#define PEER_MS 10000		/* deadline of the child's stream */

/* Exit statuses of a child peer. */
enum peer_exit {
	PEER_OK,
	PEER_CTX,		/* could not make its context */
	PEER_HANDSHAKE,		/* the handshake failed */
	PEER_PROTOCOL		/* something after the handshake was wrong */
};

static char *dir;
static char *mail_crt, *mail_key, *other_crt, *other_key;
static char *wrong_key, *locked_key, *junk;

/* dir/name, malloc'ed. */
static char *
path(const char *name)
{
	struct sbuf *p = sbuf_new();
	char *s;

	sbuf_printf(p, "%s/%s", dir, name);
	s = sbuf_steal(p);
	sbuf_free(&p);
	return s;
}

/* Runs an openssl command line in dir; 0 on success. */
static int
run_openssl(const char *args)
{
	struct sbuf *cmd = sbuf_new();
	int ret;

	sbuf_printf(cmd, "cd '%s' && openssl %s </dev/null >/dev/null 2>&1",
	    dir, args);
	ret = system(sbuf_str(cmd));
	sbuf_free(&cmd);
	return ret;
}

static int
group_setup(void **state)
{
	dir = test_tmpdir();
	mail_crt = path("mail.crt");
	mail_key = path("mail.key");
	other_crt = path("other.crt");
	other_key = path("other.key");
	wrong_key = path("wrong.key");
	locked_key = path("locked.key");
	if (run_openssl("req -x509 -newkey rsa:2048 -nodes -days 2"
	    " -keyout mail.key -out mail.crt -subj /CN=mail.example.test"
	    " -addext subjectAltName=DNS:mail.example.test") != 0 ||
	    run_openssl("req -x509 -newkey ec"
	    " -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2"
	    " -keyout other.key -out other.crt -subj /CN=other.example.test"
	    " -addext subjectAltName=DNS:other.example.test") != 0 ||
	    run_openssl("genpkey -algorithm RSA"
	    " -pkeyopt rsa_keygen_bits:2048 -out wrong.key") != 0 ||
	    run_openssl("genpkey -algorithm EC"
	    " -pkeyopt ec_paramgen_curve:P-256 -aes256 -pass pass:secret"
	    " -out locked.key") != 0) {
		fprintf(stderr, "cannot make test certificates with openssl\n");
		return -1;
	}
	junk = test_write_text(dir, "junk.pem", "not a certificate\n");
	return 0;
}

static int
group_teardown(void **state)
{
	free(mail_crt);
	free(mail_key);
	free(other_crt);
	free(other_key);
	free(wrong_key);
	free(locked_key);
	free(junk);
	test_rmtree(&dir);
	return 0;
}

typedef int (*peer_fn)(int fd, const void *arg);

/*
 * Starts fn(fd, arg) in a child on one end of a new socketpair; returns
 * the other end.
 */
static int
start_peer(peer_fn fn, const void *arg)
{
	int fds[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    fds), 0);
	test_child_pid = fork();
	assert_true(test_child_pid >= 0);
	if (test_child_pid == 0) {
		close(fds[0]);
		signal(SIGPIPE, SIG_IGN);
		_exit(fn(fds[1], arg));
	}
	close(fds[1]);
	return fds[0];
}

/*
 * Returns code, first reporting why the child's step failed unless it is
 * a handshake failure, which some tests expect.
 */
static int
peer_failed(enum peer_exit code, const char *what, const char *why)
{
	if (code != PEER_HANDSHAKE)
		fprintf(stderr, "# peer: %s: %s\n", what,
		    why != NULL ? why : "(no reason)");
	return code;
}

/* How the test server child behaves. */
struct server_opts {
	const char *cert, *key;
	const char *min_proto;	/* or NULL */
};

/*
 * The server child: TLS first, then replies "250 <line>" to each line,
 * "250 <sni or -> <protocol>" to INFO, and "221 bye" to QUIT, closing.
 */
static int
tls_server(int fd, const void *arg)
{
	const struct server_opts *o = arg;
	struct sbuf *why = sbuf_new(), *line = sbuf_new();
	const struct tls_info *info;
	struct tls_ctx *ctx;
	struct stream *s;

	if ((ctx = tls_server_ctx_new(o->cert, o->key, why)) == NULL ||
	    tls_ctx_set_protocols(ctx, o->min_proto, NULL, why) < 0)
		return peer_failed(PEER_CTX, "context", sbuf_str(why));
	s = stream_open(fd, PEER_MS);
	if (stream_start_tls(s, ctx, NULL) < 0)
		return peer_failed(PEER_HANDSHAKE, "handshake",
		    stream_error(s));
	info = stream_tls_info(s);
	while (stream_read_line(s, line, 1 << 20) == LINE_OK) {
		if (strcmp(sbuf_str(line), "QUIT") == 0) {
			stream_puts(s, "221 bye\r\n");
			break;
		}
		if (strcmp(sbuf_str(line), "INFO") == 0)
			stream_printf(s, "250 %s %s\r\n", info->servername ?
			    info->servername : "-", info->protocol);
		else
			stream_printf(s, "250 %s\r\n", sbuf_str(line));
	}
	if (stream_flush(s) < 0)
		return peer_failed(PEER_PROTOCOL, "reply", stream_error(s));
	stream_free(&s);
	tls_ctx_free(&ctx);
	sbuf_free(&why);
	sbuf_free(&line);
	return PEER_OK;
}

static const struct server_opts mail_server = {NULL, NULL, NULL};

/* The standard server child, with the mail.example.test certificate. */
static int
start_mail_server(void)
{
	static struct server_opts o;

	o = mail_server;
	o.cert = mail_crt;
	o.key = mail_key;
	return start_peer(tls_server, &o);
}

/* Sends line and checks the reply; returns the reply in reply. */
static void
ask(struct stream *s, const char *line, struct sbuf *reply)
{
	assert_int_equal(stream_printf(s, "%s\r\n", line), 0);
	assert_int_equal(stream_flush(s), 0);
	assert_int_equal(stream_read_line(s, reply, 1 << 20), LINE_OK);
	assert_int_equal(stream_last_eol(s), STREAM_EOL_CRLF);
}

/* Ends a session with QUIT and expects the server's clean close. */
static void
quit(struct stream *s)
{
	struct sbuf *reply = sbuf_new();

	ask(s, "QUIT", reply);
	assert_string_equal(sbuf_str(reply), "221 bye");
	assert_int_equal(stream_read_line(s, reply, 100), LINE_EOF);
	assert_null(stream_error(s));
	sbuf_free(&reply);
}

static struct tls_ctx *
client_ctx(const char *ca_file)
{
	struct sbuf *why = sbuf_new();
	struct tls_ctx *ctx = tls_client_ctx_new(ca_file, NULL, why);

	if (ctx == NULL)
		fail_msg("client context: %s", sbuf_str(why));
	sbuf_free(&why);
	return ctx;
}

static struct tls_ctx *
server_ctx(const char *cert, const char *key)
{
	struct sbuf *why = sbuf_new();
	struct tls_ctx *ctx = tls_server_ctx_new(cert, key, why);

	if (ctx == NULL)
		fail_msg("server context: %s", sbuf_str(why));
	sbuf_free(&why);
	return ctx;
}

/* A verified TLS 1.3 session: lines both ways, info, clean close. */
static void
test_handshake(void **state)
{
	const struct tls_peer peer = {"mail.example.test", TLS_VERIFY_HOST,
	    NULL, NULL};
	struct sbuf *reply = sbuf_new(), *text = sbuf_new();
	struct tls_ctx *ctx = client_ctx(mail_crt);
	const struct tls_info *info;
	struct stream *s;

	s = stream_open(start_mail_server(), PEER_MS);
	assert_null(stream_tls_info(s));
	assert_int_equal(stream_start_tls(s, ctx, &peer), 0);
	info = stream_tls_info(s);
	assert_non_null(info);
	assert_string_equal(info->protocol, "TLSv1.3");
	assert_true(info->bits >= 128);
	assert_int_equal(info->bits, info->alg_bits);
	assert_string_equal(info->servername, "mail.example.test");
	assert_string_equal(info->peer_cn, "mail.example.test");
	assert_string_equal(info->issuer_cn, "mail.example.test");
	assert_true(info->verified);
	assert_string_equal(info->verify_reason, "ok");
	assert_int_equal(tls_info_describe(info, text), 0);
	sbuf_setf(reply, "TLSv1.3 with cipher %s (%d/%d bits)", info->cipher,
	    info->bits, info->alg_bits);
	assert_string_equal(sbuf_str(text), sbuf_str(reply));
	assert_true(strncmp(info->cipher, "TLS_", 4) == 0);

	ask(s, "EHLO client.example.test", reply);
	assert_string_equal(sbuf_str(reply), "250 EHLO client.example.test");
	ask(s, "INFO", reply);
	assert_string_equal(sbuf_str(reply), "250 mail.example.test TLSv1.3");
	test_msg_capture();
	EXPECT_FATAL(stream_start_tls(s, ctx, &peer));
	assert_non_null(strstr(test_msg_captured(), "already active"));
	quit(s);
	stream_free(&s);
	assert_int_equal(test_child_wait(), PEER_OK);
	tls_ctx_free(&ctx);
	tls_ctx_free(&ctx);
	sbuf_free(&reply);
	sbuf_free(&text);
}

/* Large data both ways: many records, full socket buffers. */
static void
test_large_lines(void **state)
{
	const size_t n = 300000;
	struct sbuf *big = sbuf_new(), *reply = sbuf_new();
	struct tls_ctx *ctx = client_ctx(NULL);
	struct stream *s;
	size_t i;

	for (i = 0; i < n; i++)
		sbuf_catc(big, 'a' + (int)(i % 26));
	s = stream_open(start_mail_server(), PEER_MS);
	assert_int_equal(stream_start_tls(s, ctx, NULL), 0);
	ask(s, sbuf_str(big), reply);
	assert_int_equal(sbuf_len(reply), n + 4);
	assert_memory_equal(sbuf_str(reply), "250 ", 4);
	assert_memory_equal(sbuf_str(reply) + 4, sbuf_str(big), n);
	quit(s);
	stream_free(&s);
	assert_int_equal(test_child_wait(), PEER_OK);
	tls_ctx_free(&ctx);
	sbuf_free(&big);
	sbuf_free(&reply);
}

/* Client verification of the server certificate. */
struct verify_case {
	const char *name;
	const char *ca;		/* "mail", "other", or NULL: system store */
	const char *host;
	enum tls_verify verify;
	bool handshake;		/* the handshake is expected to succeed */
	bool verified;
	const char *reason;	/* in verify_reason, or in the error */
	const char *sni;	/* what the server saw ("-": none) */
};

static const struct verify_case verify_cases[] = {
	{"trusted, name required", "mail", "mail.example.test",
	    TLS_VERIFY_HOST, true, true, "ok", "mail.example.test"},
	{"wrong name, required", "mail", "wrong.example.test",
	    TLS_VERIFY_HOST, false, false, "hostname mismatch", NULL},
	{"untrusted, required", "other", "mail.example.test",
	    TLS_VERIFY_HOST, false, false, "certificate verify failed",
	    NULL},
	{"system store, required", NULL, "mail.example.test",
	    TLS_VERIFY_HOST, false, false, "certificate verify failed",
	    NULL},
	{"no name, required", "mail", NULL, TLS_VERIFY_HOST, false, false,
	    "requires a host name", NULL},
	{"wrong name, opportunistic", "mail", "wrong.example.test",
	    TLS_VERIFY_NONE, true, false, "hostname mismatch",
	    "wrong.example.test"},
	{"untrusted, opportunistic", "other", "mail.example.test",
	    TLS_VERIFY_NONE, true, false, "self-signed",
	    "mail.example.test"},
	{"no name, opportunistic", "mail", NULL, TLS_VERIFY_NONE, true, true,
	    "ok", "-"},
	{"ip address, opportunistic", "mail", "127.0.0.1", TLS_VERIFY_NONE,
	    true, false, "IP address mismatch", "-"},
};

static void
test_verify(void **state)
{
	const struct verify_case *c;
	const struct tls_info *info;
	struct sbuf *reply = sbuf_new();
	struct tls_peer peer = {NULL, TLS_VERIFY_NONE, NULL, NULL};
	struct tls_ctx *ctx;
	struct stream *s;
	int ret, status;

	for (c = verify_cases; c < verify_cases + sizeof(verify_cases) /
	    sizeof(verify_cases[0]); c++) {
		ctx = client_ctx(c->ca == NULL ? NULL :
		    strcmp(c->ca, "mail") == 0 ? mail_crt : other_crt);
		peer.host = c->host;
		peer.verify = c->verify;
		s = stream_open(start_mail_server(), PEER_MS);
		ret = stream_start_tls(s, ctx, &peer);
		if (ret != (c->handshake ? 0 : -1))
			fail_msg("%s: start_tls %d: %s", c->name, ret,
			    stream_error(s));
		if (!c->handshake) {
			if (strstr(stream_error(s), c->reason) == NULL)
				fail_msg("%s: error \"%s\"", c->name,
				    stream_error(s));
			assert_int_equal(stream_puts(s, "x"), -1);
			stream_free(&s);
			status = test_child_wait();
			if (status != PEER_HANDSHAKE)
				fail_msg("%s: server exit %d", c->name,
				    status);
			tls_ctx_free(&ctx);
			continue;
		}
		info = stream_tls_info(s);
		if (info->verified != c->verified ||
		    strstr(info->verify_reason, c->reason) == NULL)
			fail_msg("%s: verified %d (%s)", c->name,
			    info->verified, info->verify_reason);
		assert_string_equal(info->peer_cn, "mail.example.test");
		ask(s, "INFO", reply);
		sbuf_truncate(reply, 4 + strlen(c->sni));
		if (strcmp(sbuf_str(reply) + 4, c->sni) != 0)
			fail_msg("%s: server saw SNI %s", c->name,
			    sbuf_str(reply));
		quit(s);
		stream_free(&s);
		assert_int_equal(test_child_wait(), PEER_OK);
		tls_ctx_free(&ctx);
	}
	sbuf_free(&reply);
}

/* Forced TLS 1.2 with a chosen cipher, and versions that do not meet. */
static void
test_protocols(void **state)
{
	static struct server_opts strict;
	struct sbuf *why = sbuf_new(), *text = sbuf_new();
	struct tls_ctx *ctx = client_ctx(NULL);
	const struct tls_info *info;
	struct stream *s;

	assert_int_equal(tls_ctx_set_protocols(ctx, NULL, "TLSv1.2", why), 0);
	assert_int_equal(tls_ctx_set_ciphers(ctx,
	    "ECDHE-RSA-AES128-GCM-SHA256", NULL, why), 0);
	s = stream_open(start_mail_server(), PEER_MS);
	assert_int_equal(stream_start_tls(s, ctx, NULL), 0);
	info = stream_tls_info(s);
	assert_int_equal(tls_info_describe(info, text), 0);
	assert_string_equal(sbuf_str(text),
	    "TLSv1.2 with cipher ECDHE-RSA-AES128-GCM-SHA256 (128/128 bits)");
	assert_false(info->verified);
	quit(s);
	stream_free(&s);
	assert_int_equal(test_child_wait(), PEER_OK);

	/* A server that wants TLS 1.3 and a client that stops at 1.2. */
	strict.cert = mail_crt;
	strict.key = mail_key;
	strict.min_proto = "TLSv1.3";
	s = stream_open(start_peer(tls_server, &strict), PEER_MS);
	assert_int_equal(stream_start_tls(s, ctx, NULL), -1);
	assert_non_null(strstr(stream_error(s), "TLS handshake"));
	stream_free(&s);
	assert_int_equal(test_child_wait(), PEER_HANDSHAKE);
	tls_ctx_free(&ctx);
	sbuf_free(&why);
	sbuf_free(&text);
}

/* Settings that are refused say what was wrong. */
static void
test_bad_settings(void **state)
{
	struct sbuf *why = sbuf_new();
	struct tls_ctx *ctx = client_ctx(NULL);

	assert_int_equal(tls_ctx_set_protocols(ctx, "SSLv3", NULL, why), -1);
	assert_non_null(strstr(sbuf_str(why), "\"SSLv3\""));
	assert_int_equal(tls_ctx_set_protocols(ctx, NULL, "TLSv9", why), -1);
	assert_non_null(strstr(sbuf_str(why), "\"TLSv9\""));
	assert_int_equal(tls_ctx_set_protocols(ctx, "TLSv1.3", "TLSv1.2",
	    why), -1);
	assert_non_null(strstr(sbuf_str(why), "above"));
	assert_int_equal(tls_ctx_set_protocols(ctx, "TLSv1.3", NULL, why), 0);
	assert_int_equal(tls_ctx_set_ciphers(ctx, "NO-SUCH-CIPHER", NULL,
	    why), -1);
	assert_non_null(strstr(sbuf_str(why), "NO-SUCH-CIPHER"));
	assert_int_equal(tls_ctx_set_ciphers(ctx, NULL, "TLS_BOGUS", why),
	    -1);
	assert_non_null(strstr(sbuf_str(why), "TLS_BOGUS"));
	assert_int_equal(tls_ctx_set_ciphers(ctx, "HIGH",
	    "TLS_AES_128_GCM_SHA256", why), 0);
	tls_ctx_free(&ctx);
	sbuf_free(&why);
}

/* Certificate and key files that cannot be used. */
struct file_case {
	const char *name;
	char *const *cert, *const *key;	/* NULL key: client CA */
	char *const *named;		/* the file the error must name */
	const char *reason;		/* also in the error, or NULL */
};

static char missing_path[] = "/nonexistent/postern-test.pem";
static char *missing = missing_path;

static const struct file_case file_cases[] = {
	{"missing certificate", &missing, &mail_key, &missing, NULL},
	{"missing key", &mail_crt, &missing, &missing, NULL},
	{"junk certificate", &junk, &mail_key, &junk, NULL},
	{"junk key", &mail_crt, &junk, &junk, NULL},
	{"key of another certificate", &mail_crt, &wrong_key, &wrong_key,
	    "mismatch"},
	{"key of another type", &mail_crt, &other_key, &other_key, NULL},
	{"encrypted key", &mail_crt, &locked_key, &locked_key, NULL},
	{"missing CA file", &missing, NULL, &missing, NULL},
	{"junk CA file", &junk, NULL, &junk, NULL},
};

static void
test_bad_files(void **state)
{
	const struct file_case *c;
	struct sbuf *why = sbuf_new();
	struct tls_ctx *ctx;

	for (c = file_cases; c < file_cases + sizeof(file_cases) /
	    sizeof(file_cases[0]); c++) {
		sbuf_reset(why);
		if (c->key != NULL)
			ctx = tls_server_ctx_new(*c->cert, *c->key, why);
		else
			ctx = tls_client_ctx_new(*c->cert, NULL, why);
		if (ctx != NULL)
			fail_msg("%s: accepted", c->name);
		if (strstr(sbuf_str(why), *c->named) == NULL ||
		    (c->reason != NULL &&
		    strstr(sbuf_str(why), c->reason) == NULL))
			fail_msg("%s: reason \"%s\"", c->name, sbuf_str(why));
	}
	sbuf_free(&why);
}

/* The SNI hook picks the certificate for the name the client sent. */
static char *sni_seen;

static struct tls_ctx *
pick_ctx(const char *name, void *arg)
{
	free(sni_seen);
	sni_seen = xstrdup(name);
	return strcmp(name, "other.example.test") == 0 ? arg : NULL;
}

/* The client child for server-side tests. */
struct client_opts {
	const char *ca;
	const char *host;
	const char *clear;	/* sent in clear before STARTTLS, or NULL */
};

/*
 * Optionally says clear text and waits for "220", then starts TLS
 * (verifying host when given), sends NOOP and RSET at once, then QUIT
 * after the first reply.
 */
static int
tls_client(int fd, const void *arg)
{
	const struct client_opts *o = arg;
	struct tls_peer peer = {o->host, o->host != NULL ? TLS_VERIFY_HOST :
	    TLS_VERIFY_NONE, NULL, NULL};
	struct sbuf *why = sbuf_new(), *line = sbuf_new();
	struct tls_ctx *ctx;
	struct stream *s;

	if ((ctx = tls_client_ctx_new(o->ca, NULL, why)) == NULL)
		return peer_failed(PEER_CTX, "context", sbuf_str(why));
	s = stream_open(fd, PEER_MS);
	if (o->clear != NULL) {
		stream_puts(s, o->clear);
		if (stream_read_line(s, line, 100) != LINE_OK ||
		    strncmp(sbuf_str(line), "220", 3) != 0)
			return peer_failed(PEER_PROTOCOL, "greeting",
			    sbuf_str(line));
	}
	if (stream_start_tls(s, ctx, &peer) < 0)
		return peer_failed(PEER_HANDSHAKE, "handshake",
		    stream_error(s));
	stream_puts(s, "NOOP\r\nRSET\r\n");
	if (stream_read_line(s, line, 100) != LINE_OK ||
	    strcmp(sbuf_str(line), "250 NOOP") != 0)
		return peer_failed(PEER_PROTOCOL, "NOOP", sbuf_str(line));
	stream_puts(s, "QUIT\r\n");
	if (stream_read_line(s, line, 100) != LINE_OK ||
	    strcmp(sbuf_str(line), "221 bye") != 0)
		return peer_failed(PEER_PROTOCOL, "QUIT", sbuf_str(line));
	stream_free(&s);
	tls_ctx_free(&ctx);
	sbuf_free(&why);
	sbuf_free(&line);
	return PEER_OK;
}

/* Server side of tls_client(): NOOP, drops the pipelined RSET, QUIT. */
static void
serve_client(struct stream *s)
{
	struct sbuf *line = sbuf_new();

	assert_int_equal(stream_read_line(s, line, 100), LINE_OK);
	assert_string_equal(sbuf_str(line), "NOOP");
	assert_int_equal(stream_pending(s), 6);
	stream_discard_pending(s);
	assert_int_equal(stream_pending(s), 0);
	assert_int_equal(stream_puts(s, "250 NOOP\r\n"), 0);
	assert_int_equal(stream_read_line(s, line, 100), LINE_OK);
	assert_string_equal(sbuf_str(line), "QUIT");
	assert_int_equal(stream_puts(s, "221 bye\r\n"), 0);
	assert_int_equal(stream_flush(s), 0);
	sbuf_free(&line);
}

static void
test_sni(void **state)
{
	static struct client_opts o;
	struct tls_ctx *ctx = server_ctx(mail_crt, mail_key);
	struct tls_ctx *other = server_ctx(other_crt, other_key);
	struct stream *s;

	tls_ctx_set_sni(ctx, pick_ctx, other);
	o.ca = other_crt;
	o.host = "other.example.test";
	s = stream_open(start_peer(tls_client, &o), PEER_MS);
	assert_int_equal(stream_start_tls(s, ctx, NULL), 0);
	assert_non_null(sni_seen);
	assert_string_equal(sni_seen, "other.example.test");
	assert_string_equal(stream_tls_info(s)->servername,
	    "other.example.test");
	assert_null(stream_tls_info(s)->peer_cn);
	assert_false(stream_tls_info(s)->verified);
	serve_client(s);
	stream_free(&s);
	assert_int_equal(test_child_wait(), PEER_OK);

	/* A name the hook does not know keeps the default certificate. */
	o.ca = mail_crt;
	o.host = "mail.example.test";
	s = stream_open(start_peer(tls_client, &o), PEER_MS);
	assert_int_equal(stream_start_tls(s, ctx, NULL), 0);
	assert_string_equal(sni_seen, "mail.example.test");
	serve_client(s);
	stream_free(&s);
	assert_int_equal(test_child_wait(), PEER_OK);
	tls_ctx_free(&ctx);
	tls_ctx_free(&other);
	xfree(&sni_seen);
}

/* Text sent in clear before STARTTLS never reads as protected. */
static void
test_clear_text_dropped(void **state)
{
	static struct client_opts o;
	struct sbuf *line = sbuf_new();
	struct tls_ctx *ctx = server_ctx(mail_crt, mail_key);
	struct stream *s;

	o.clear = "STARTTLS\r\nMAIL FROM:<evil@example.test>\r\n";
	s = stream_open(start_peer(tls_client, &o), PEER_MS);
	assert_int_equal(stream_read_line(s, line, 100), LINE_OK);
	assert_string_equal(sbuf_str(line), "STARTTLS");
	assert_true(stream_pending(s) > 0);
	assert_int_equal(stream_puts(s, "220 go ahead\r\n"), 0);
	assert_int_equal(stream_start_tls(s, ctx, NULL), 0);
	serve_client(s);
	stream_free(&s);
	assert_int_equal(test_child_wait(), PEER_OK);
	tls_ctx_free(&ctx);
	sbuf_free(&line);
}

/* The client hook sees the SSL before the handshake and can veto it. */
static int hook_calls;

static int
count_hook(struct ssl_st *ssl, void *arg, struct sbuf *why)
{
	if (ssl != NULL)
		hook_calls++;
	return 0;
}

static int
refuse_hook(struct ssl_st *ssl, void *arg, struct sbuf *why)
{
	sbuf_set(why, arg);
	return -1;
}

static void
test_hook(void **state)
{
	struct tls_peer peer = {"mail.example.test", TLS_VERIFY_HOST,
	    count_hook, NULL};
	struct tls_ctx *ctx = client_ctx(mail_crt);
	struct stream *s;

	s = stream_open(start_mail_server(), PEER_MS);
	assert_int_equal(stream_start_tls(s, ctx, &peer), 0);
	assert_int_equal(hook_calls, 1);
	quit(s);
	stream_free(&s);
	assert_int_equal(test_child_wait(), PEER_OK);

	peer.hook = refuse_hook;
	peer.hook_arg = "no usable TLSA records";
	s = stream_open(start_mail_server(), PEER_MS);
	assert_int_equal(stream_start_tls(s, ctx, &peer), -1);
	assert_non_null(strstr(stream_error(s), "no usable TLSA records"));
	stream_free(&s);
	assert_int_equal(test_child_wait(), PEER_HANDSHAKE);
	tls_ctx_free(&ctx);
}

/*
 * Makes a connection treat a TCP close without close_notify as an error,
 * so a test can tell an orderly TLS close from a cut connection.
 */
static int
strict_eof_hook(struct ssl_st *ssl, void *arg, struct sbuf *why)
{
	SSL_clear_options(ssl, SSL_OP_IGNORE_UNEXPECTED_EOF);
	return 0;
}

/* stream_free() ends a healthy session with close_notify. */
static void
test_close_notify(void **state)
{
	const struct tls_peer peer = {NULL, TLS_VERIFY_NONE, strict_eof_hook,
	    NULL};
	struct sbuf *reply = sbuf_new();
	struct tls_ctx *ctx = client_ctx(NULL);
	struct stream *s;

	s = stream_open(start_mail_server(), PEER_MS);
	assert_int_equal(stream_start_tls(s, ctx, &peer), 0);
	quit(s);
	stream_free(&s);
	assert_int_equal(test_child_wait(), PEER_OK);

	/* The same check sees a server killed without a word. */
	s = stream_open(start_mail_server(), PEER_MS);
	assert_int_equal(stream_start_tls(s, ctx, &peer), 0);
	ask(s, "NOOP", reply);
	kill(test_child_pid, SIGKILL);
	assert_int_equal(test_child_wait(), 128 + SIGKILL);
	assert_int_equal(stream_read_line(s, reply, 100), LINE_ERROR);
	assert_non_null(strstr(stream_error(s), "unexpected eof"));
	stream_free(&s);
	tls_ctx_free(&ctx);
	sbuf_free(&reply);
}

/* A peer that writes bytes, then waits for the end of input. */
static int
babble(int fd, const void *arg)
{
	const struct sbuf *bytes = arg;
	char buf[4096];
	ssize_t n;

	if (write(fd, sbuf_str(bytes), sbuf_len(bytes)) < 0)
		return PEER_PROTOCOL;
	while ((n = read(fd, buf, sizeof(buf))) != 0)
		if (n < 0 && errno != EINTR)
			break;
	return PEER_OK;
}

/* A peer that writes bytes and hangs up at once. */
static int
babble_close(int fd, const void *arg)
{
	const struct sbuf *bytes = arg;

	return write(fd, sbuf_str(bytes), sbuf_len(bytes)) < 0 ?
	    PEER_PROTOCOL : PEER_OK;
}

struct garbage_case {
	const char *name;
	const char *bytes;
	size_t len;
	bool hang_up;
};

#define BYTES(str) str, sizeof(str) - 1

static const struct garbage_case garbage_cases[] = {
	{"smtp command", BYTES("EHLO x\r\n"), false},
	{"http request", BYTES("GET / HTTP/1.0\r\n\r\n"), false},
	{"bad handshake record", BYTES("\x16\x03\x01\x00\x04\x01\x00\x00\x00"),
	    false},
	{"oversized record", BYTES("\x16\x03\x01\xff\xff"), false},
	{"cut record", BYTES("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"),
	    true},
	{"nothing then hang up", BYTES(""), true},
	{"nul bytes", BYTES("\0\0\0\0\0\0\0\0\0\0"), false},
};

/* Junk instead of TLS fails the handshake cleanly, on either side. */
static void
test_garbage(void **state)
{
	struct tls_ctx *sctx = server_ctx(mail_crt, mail_key);
	struct tls_ctx *cctx = client_ctx(mail_crt);
	const struct garbage_case *c;
	struct sbuf *bytes = sbuf_new();
	struct tls_ctx *ctx;
	struct stream *s;
	int side;

	for (c = garbage_cases; c < garbage_cases + sizeof(garbage_cases) /
	    sizeof(garbage_cases[0]); c++) {
		for (side = 0; side < 2; side++) {
			sbuf_reset(bytes);
			sbuf_catn(bytes, c->bytes, c->len);
			s = stream_open(start_peer(c->hang_up ? babble_close :
			    babble, bytes), PEER_MS);
			ctx = side == 0 ? sctx : cctx;
			if (stream_start_tls(s, ctx, NULL) != -1)
				fail_msg("%s: handshake passed", c->name);
			if (strstr(stream_error(s), "TLS handshake") == NULL)
				fail_msg("%s: error \"%s\"", c->name,
				    stream_error(s));
			assert_null(stream_tls_info(s));
			stream_free(&s);
			assert_int_equal(test_child_wait(), PEER_OK);
		}
	}
	tls_ctx_free(&sctx);
	tls_ctx_free(&cctx);
	sbuf_free(&bytes);
}

/* A peer that sends a record header, then one byte every 20 ms. */
static int
trickle(int fd, const void *arg)
{
	const struct timespec pause = {0, 20000000};

	if (write(fd, "\x16\x03\x01\x40\x00", 5) != 5)
		return PEER_PROTOCOL;
	while (write(fd, "\x01", 1) == 1)
		nanosleep(&pause, NULL);
	return PEER_OK;
}

/* A peer that never speaks: the handshake times out, either side. */
static void
test_silent_peer(void **state)
{
	struct tls_ctx *sctx = server_ctx(mail_crt, mail_key);
	struct tls_ctx *cctx = client_ctx(mail_crt);
	struct sbuf *nothing = sbuf_new();
	struct sbuf *line = sbuf_new();
	struct timespec t0, t1;
	struct stream *s;
	long ms;
	int side;

	for (side = 0; side < 2; side++) {
		s = stream_open(start_peer(babble, nothing), 300);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		assert_int_equal(stream_start_tls(s, side == 0 ? sctx : cctx,
		    NULL), -1);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms = (t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000;
		assert_true(ms >= 300 && ms < 5000);
		assert_non_null(strstr(stream_error(s),
		    "TLS handshake timed out"));
		assert_int_equal(stream_read_line(s, line, 100), LINE_TIMEOUT);
		assert_int_equal(stream_puts(s, "x"), -1);
		stream_free(&s);
		assert_int_equal(test_child_wait(), PEER_OK);
	}

	/* Trickling bytes do not stretch the handshake's deadline. */
	s = stream_open(start_peer(trickle, NULL), 300);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(stream_start_tls(s, sctx, NULL), -1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms >= 300 && ms < 3000);
	assert_non_null(strstr(stream_error(s), "TLS handshake timed out"));
	stream_free(&s);
	assert_int_equal(test_child_wait(), PEER_OK);
	tls_ctx_free(&sctx);
	tls_ctx_free(&cctx);
	sbuf_free(&nothing);
	sbuf_free(&line);
}

/* A peer gone in the middle of a session: an error, the process lives. */
static void
test_peer_gone(void **state)
{
	struct sbuf *reply = sbuf_new();
	struct tls_ctx *ctx = client_ctx(NULL);
	struct stream *s;
	int fd, i, ret = 0;

	fd = start_mail_server();
	s = stream_open(fd, PEER_MS);
	assert_int_equal(stream_start_tls(s, ctx, NULL), 0);
	ask(s, "NOOP", reply);
	kill(test_child_pid, SIGKILL);
	assert_int_equal(test_child_wait(), 128 + SIGKILL);
	for (i = 0; i < 100 && ret == 0; i++) {
		ret = stream_puts(s, "NOOP\r\n");
		if (ret == 0)
			ret = stream_flush(s);
	}
	assert_int_equal(ret, -1);
	assert_non_null(stream_error(s));
	assert_int_not_equal(stream_read_line(s, reply, 100), LINE_OK);
	stream_free(&s);
	tls_ctx_free(&ctx);
	sbuf_free(&reply);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_handshake,
		    test_child_setup, test_child_teardown),
		cmocka_unit_test_setup_teardown(test_large_lines,
		    test_child_setup, test_child_teardown),
		cmocka_unit_test_setup_teardown(test_verify,
		    test_child_setup, test_child_teardown),
		cmocka_unit_test_setup_teardown(test_protocols,
		    test_child_setup, test_child_teardown),
		cmocka_unit_test_setup_teardown(test_bad_settings,
		    test_child_setup, test_child_teardown),
		cmocka_unit_test_setup_teardown(test_bad_files,
		    test_child_setup, test_child_teardown),
		cmocka_unit_test_setup_teardown(test_sni,
		    test_child_setup, test_child_teardown),
		cmocka_unit_test_setup_teardown(test_clear_text_dropped,
		    test_child_setup, test_child_teardown),
		cmocka_unit_test_setup_teardown(test_hook,
		    test_child_setup, test_child_teardown),
		cmocka_unit_test_setup_teardown(test_close_notify,
		    test_child_setup, test_child_teardown),
		cmocka_unit_test_setup_teardown(test_garbage,
		    test_child_setup, test_child_teardown),
		cmocka_unit_test_setup_teardown(test_silent_peer,
		    test_child_setup, test_child_teardown),
		cmocka_unit_test_setup_teardown(test_peer_gone,
		    test_child_setup, test_child_teardown),
	};

	signal(SIGPIPE, SIG_DFL);
	return cmocka_run_group_tests_name("tls", tests, group_setup,
	    group_teardown);
}
