/*
 * tls - TLS contexts and connections (OpenSSL 3) for both sides
 *
 * Connections read and write through a BIO of our own that calls the
 * transport functions given by the stream layer, so the stream alone
 * decides how to wait (poll with a deadline) and how to write without
 * SIGPIPE; OpenSSL never touches the file descriptor.
 *
 * Errors: -1, NULL or TLS_FAILED with OpenSSL's reasons in why (and the
 * file name for file errors); nothing logs. Running out of memory is
 * fatal, as with xmalloc.
 * Trust: configuration files are trusted to be the administrator's; the
 * peer's handshake, certificate and SNI name are hostile. Names taken from
 * them are cleaned of control characters and bounded before they are
 * handed out.
 */
#include "util/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "util/msg.h"
#include "util/sbuf.h"
#include "util/xmalloc.h"

struct tls_ctx {
	SSL_CTX *ssl_ctx;
	bool server;
	tls_sni_fn sni_fn;
	void *sni_arg;
};

struct tls_conn {
	SSL *ssl;
	struct tls_io io;
	bool eof;		/* the transport reported end of input */
	int io_errno;		/* errno of the last failed transport call */
	bool failed;		/* a fatal error happened: no more I/O */
	bool have_info;
	struct tls_info info;
};

static const struct {
	const char *name;
	int version;
} tls_versions[] = {
	{"TLSv1", TLS1_VERSION},
	{"TLSv1.1", TLS1_1_VERSION},
	{"TLSv1.2", TLS1_2_VERSION},
	{"TLSv1.3", TLS1_3_VERSION},
};

static BIO_METHOD *tls_bio_method;

_Static_assert(TLS_RECORD_MAX == SSL3_RT_MAX_PLAIN_LENGTH,
    "TLS_RECORD_MAX is OpenSSL's record size");

/* True for OpenSSL's "x lib" reasons, which only say where an error passed. */
static bool
tls_error_is_wrapper(unsigned long err)
{
	return ERR_COMMON_ERROR(err) && (ERR_GET_REASON(err) &
	    ~(unsigned long)(ERR_RFLAG_COMMON | ERR_RFLAG_FATAL)) < 256;
}

/*
 * Appends OpenSSL's queued error reasons to why, oldest (the cause) first,
 * each once, and empties the queue.
 */
static void
tls_cat_errors(struct sbuf *why)
{
	const char *data, *reason, *wrapper = NULL;
	size_t start = sbuf_len(why);
	unsigned long err;
	int flags;

	while ((err = ERR_get_error_all(NULL, NULL, NULL, &data,
	    &flags)) != 0) {
		if (ERR_SYSTEM_ERROR(err))
			reason = strerror(ERR_GET_REASON(err));
		else
			reason = ERR_reason_error_string(err);
		if (reason == NULL) {
			if (sbuf_len(why) > start)
				sbuf_cat(why, ": ");
			sbuf_printf(why, "OpenSSL error %#lx", err);
			continue;
		}
		if (tls_error_is_wrapper(err)) {
			wrapper = reason;
			continue;
		}
		if (strstr(sbuf_str(why) + start, reason) != NULL)
			continue;
		if (sbuf_len(why) > start)
			sbuf_cat(why, ": ");
		sbuf_cat(why, reason);
		if ((flags & ERR_TXT_STRING) && data != NULL && *data != '\0')
			sbuf_printf(why, " (%s)", data);
	}
	if (sbuf_len(why) == start)
		sbuf_cat(why, wrapper != NULL ? wrapper :
		    "unknown OpenSSL error");
}

/* BIO write: one attempt through the transport. */
static int
tls_bio_write(BIO *bio, const char *data, size_t len, size_t *written)
{
	struct tls_conn *conn = BIO_get_data(bio);
	ssize_t n;

	BIO_clear_retry_flags(bio);
	n = conn->io.write(conn->io.arg, data, len);
	if (n < 0) {
		conn->io_errno = errno;
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			BIO_set_retry_write(bio);
		return 0;
	}
	*written = (size_t)n;
	return 1;
}

/* BIO read: one attempt through the transport. */
static int
tls_bio_read(BIO *bio, char *buf, size_t len, size_t *read_r)
{
	struct tls_conn *conn = BIO_get_data(bio);
	ssize_t n;

	BIO_clear_retry_flags(bio);
	n = conn->io.read(conn->io.arg, buf, len);
	if (n < 0) {
		conn->io_errno = errno;
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			BIO_set_retry_read(bio);
		return 0;
	}
	if (n == 0) {
		conn->eof = true;
		return 0;
	}
	*read_r = (size_t)n;
	return 1;
}

/* BIO control: a plain byte pipe that knows when its input ended. */
static long
tls_bio_ctrl(BIO *bio, int cmd, long num, void *ptr)
{
	struct tls_conn *conn = BIO_get_data(bio);

	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_EOF:
		return conn != NULL && conn->eof;
	default:
		return 0;
	}
}

static int
tls_bio_create(BIO *bio)
{
	BIO_set_init(bio, 1);
	return 1;
}

/* Sets up what every context needs, once. */
static void
tls_init(void)
{
	int index;

	if (tls_bio_method != NULL)
		return;
	index = BIO_get_new_index();
	if (index < 0 || (tls_bio_method = BIO_meth_new(index |
	    BIO_TYPE_SOURCE_SINK, "postern stream")) == NULL)
		msg_fatal("out of memory setting up TLS");
	BIO_meth_set_write_ex(tls_bio_method, tls_bio_write);
	BIO_meth_set_read_ex(tls_bio_method, tls_bio_read);
	BIO_meth_set_ctrl(tls_bio_method, tls_bio_ctrl);
	BIO_meth_set_create(tls_bio_method, tls_bio_create);
}

/* Refuses to prompt for the passphrase of an encrypted key. */
static int
tls_no_password(char *buf, int size, int rwflag, void *arg)
{
	return -1;
}

/* Returns a context with the defaults both sides share; NULL with why. */
static struct tls_ctx *
tls_ctx_new(bool server, struct sbuf *why)
{
	struct tls_ctx *ctx;
	SSL_CTX *sc;

	tls_init();
	ERR_clear_error();
	sc = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (sc == NULL || !SSL_CTX_set_min_proto_version(sc, TLS1_2_VERSION)) {
		sbuf_set(why, "create TLS context: ");
		tls_cat_errors(why);
		SSL_CTX_free(sc);
		return NULL;
	}
	SSL_CTX_set_options(sc, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_mode(sc, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_default_passwd_cb(sc, tls_no_password);
	if (server)
		SSL_CTX_set_dh_auto(sc, 1);
	ctx = xcalloc(1, sizeof(*ctx));
	ctx->ssl_ctx = sc;
	ctx->server = server;
	return ctx;
}

struct tls_ctx *
tls_server_ctx_new(const char *cert_file, const char *key_file,
    struct sbuf *why)
{
	struct tls_ctx *ctx = tls_ctx_new(true, why);

	if (ctx == NULL)
		return NULL;
	if (!SSL_CTX_use_certificate_chain_file(ctx->ssl_ctx, cert_file)) {
		sbuf_setf(why, "load certificate chain from %s: ", cert_file);
		goto fail;
	}
	if (!SSL_CTX_use_PrivateKey_file(ctx->ssl_ctx, key_file,
	    SSL_FILETYPE_PEM)) {
		sbuf_setf(why, "load private key from %s: ", key_file);
		goto fail;
	}
	if (!SSL_CTX_check_private_key(ctx->ssl_ctx)) {
		sbuf_setf(why, "private key %s does not match certificate %s: ",
		    key_file, cert_file);
		goto fail;
	}
	return ctx;

fail:
	tls_cat_errors(why);
	tls_ctx_free(&ctx);
	return NULL;
}

struct tls_ctx *
tls_client_ctx_new(const char *ca_file, const char *ca_path,
    struct sbuf *why)
{
	struct tls_ctx *ctx = tls_ctx_new(false, why);

	if (ctx == NULL)
		return NULL;
	if (ca_file == NULL && ca_path == NULL) {
		if (!SSL_CTX_set_default_verify_paths(ctx->ssl_ctx)) {
			sbuf_set(why, "load the default trust store: ");
			goto fail;
		}
	} else if (!SSL_CTX_load_verify_locations(ctx->ssl_ctx, ca_file,
	    ca_path)) {
		sbuf_setf(why, "load trusted certificates from %s: ",
		    ca_file != NULL ? ca_file : ca_path);
		goto fail;
	}
	return ctx;

fail:
	tls_cat_errors(why);
	tls_ctx_free(&ctx);
	return NULL;
}

/* Looks up a protocol version by name; 0, or -1 when unknown. */
static int
tls_version(const char *name, int *version_r)
{
	size_t i;

	for (i = 0; i < sizeof(tls_versions) / sizeof(tls_versions[0]); i++) {
		if (strcmp(name, tls_versions[i].name) == 0) {
			*version_r = tls_versions[i].version;
			return 0;
		}
	}
	return -1;
}

int
tls_ctx_set_protocols(struct tls_ctx *ctx, const char *min, const char *max,
    struct sbuf *why)
{
	int lo = (int)SSL_CTX_get_min_proto_version(ctx->ssl_ctx);
	int hi = (int)SSL_CTX_get_max_proto_version(ctx->ssl_ctx);

	if (min != NULL && tls_version(min, &lo) < 0) {
		sbuf_setf(why, "unknown TLS protocol version \"%s\"", min);
		return -1;
	}
	if (max != NULL && tls_version(max, &hi) < 0) {
		sbuf_setf(why, "unknown TLS protocol version \"%s\"", max);
		return -1;
	}
	if (hi != 0 && lo > hi) {
		sbuf_set(why, "TLS protocol minimum is above the maximum");
		return -1;
	}
	ERR_clear_error();
	if (!SSL_CTX_set_min_proto_version(ctx->ssl_ctx, lo) ||
	    !SSL_CTX_set_max_proto_version(ctx->ssl_ctx, hi)) {
		sbuf_set(why, "set TLS protocol versions: ");
		tls_cat_errors(why);
		return -1;
	}
	return 0;
}

int
tls_ctx_set_ciphers(struct tls_ctx *ctx, const char *list, const char *suites,
    struct sbuf *why)
{
	ERR_clear_error();
	if (list != NULL && !SSL_CTX_set_cipher_list(ctx->ssl_ctx, list)) {
		sbuf_setf(why, "TLS cipher list \"%s\": ", list);
		tls_cat_errors(why);
		return -1;
	}
	if (suites != NULL && !SSL_CTX_set_ciphersuites(ctx->ssl_ctx,
	    suites)) {
		sbuf_setf(why, "TLS 1.3 cipher suites \"%s\": ", suites);
		tls_cat_errors(why);
		return -1;
	}
	return 0;
}

/* OpenSSL's servername callback: lets the hook pick the context. */
static int
tls_sni_callback(SSL *ssl, int *alert, void *arg)
{
	struct tls_ctx *ctx = arg;
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	struct tls_ctx *to;

	if (name == NULL || ctx->sni_fn == NULL)
		return SSL_TLSEXT_ERR_OK;
	to = ctx->sni_fn(name, ctx->sni_arg);
	if (to != NULL && to->ssl_ctx != SSL_get_SSL_CTX(ssl) &&
	    SSL_set_SSL_CTX(ssl, to->ssl_ctx) == NULL) {
		*alert = SSL_AD_INTERNAL_ERROR;
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	}
	return SSL_TLSEXT_ERR_OK;
}

void
tls_ctx_set_sni(struct tls_ctx *ctx, tls_sni_fn fn, void *arg)
{
	ctx->sni_fn = fn;
	ctx->sni_arg = arg;
	SSL_CTX_set_tlsext_servername_callback(ctx->ssl_ctx, tls_sni_callback);
	SSL_CTX_set_tlsext_servername_arg(ctx->ssl_ctx, ctx);
}

void
tls_ctx_free(struct tls_ctx **ctx)
{
	if (*ctx == NULL)
		return;
	SSL_CTX_free((*ctx)->ssl_ctx);
	xfree(ctx);
}

int
tls_info_describe(const struct tls_info *info, struct sbuf *out)
{
	return sbuf_printf(out, "%s with cipher %s (%d/%d bits)",
	    info->protocol, info->cipher, info->bits, info->alg_bits);
}

/* Copies untrusted text, bounded, with control characters as '?'. */
static char *
tls_clean_name(const unsigned char *text, size_t len)
{
	char *name;
	size_t i;

	if (len > TLS_NAME_MAX)
		len = TLS_NAME_MAX;
	name = xmalloc(len + 1);
	for (i = 0; i < len; i++)
		name[i] = text[i] < 0x20 || text[i] == 0x7f ? '?' :
		    (char)text[i];
	name[len] = '\0';
	return name;
}

/* The first common name in a certificate name, cleaned; NULL if none. */
static char *
tls_name_cn(const X509_NAME *xname)
{
	int pos = X509_NAME_get_index_by_NID(xname, NID_commonName, -1);
	unsigned char *utf8;
	char *name;
	int len;

	if (pos < 0)
		return NULL;
	len = ASN1_STRING_to_UTF8(&utf8,
	    X509_NAME_ENTRY_get_data(X509_NAME_get_entry(xname, pos)));
	if (len < 0)
		return NULL;
	name = tls_clean_name(utf8, (size_t)len);
	OPENSSL_free(utf8);
	return name;
}

/* Records what the finished handshake agreed. */
static void
tls_conn_set_info(struct tls_conn *conn)
{
	struct tls_info *info = &conn->info;
	const SSL_CIPHER *cipher = SSL_get_current_cipher(conn->ssl);
	X509 *cert = SSL_get0_peer_certificate(conn->ssl);
	const char *sni = SSL_get_servername(conn->ssl,
	    TLSEXT_NAMETYPE_host_name);
	long result = SSL_get_verify_result(conn->ssl);

	info->protocol = xstrdup(SSL_get_version(conn->ssl));
	info->cipher = xstrdup(cipher != NULL ? SSL_CIPHER_get_name(cipher) :
	    "unknown");
	info->bits = cipher != NULL ?
	    SSL_CIPHER_get_bits(cipher, &info->alg_bits) : 0;
	if (sni != NULL)
		info->servername = tls_clean_name((const unsigned char *)sni,
		    strlen(sni));
	if (cert != NULL) {
		info->peer_cn = tls_name_cn(X509_get_subject_name(cert));
		info->issuer_cn = tls_name_cn(X509_get_issuer_name(cert));
	}
	info->verified = cert != NULL && result == X509_V_OK;
	info->verify_reason = xstrdup(cert == NULL ? "no peer certificate" :
	    X509_verify_cert_error_string(result));
	conn->have_info = true;
}

/* Prepares the client side: SNI, names to verify, the hook. */
static int
tls_conn_client(struct tls_conn *conn, const struct tls_peer *peer,
    struct sbuf *why)
{
	unsigned char addr[16];
	bool is_ip;
	int ok;

	SSL_set_connect_state(conn->ssl);
	if (peer->verify == TLS_VERIFY_HOST &&
	    (peer->host == NULL || *peer->host == '\0')) {
		sbuf_set(why, "certificate verification requires a host name");
		return -1;
	}
	if (peer->host != NULL && *peer->host != '\0') {
		is_ip = inet_pton(AF_INET, peer->host, addr) == 1 ||
		    inet_pton(AF_INET6, peer->host, addr) == 1;
		if (is_ip)
			ok = X509_VERIFY_PARAM_set1_ip_asc(
			    SSL_get0_param(conn->ssl), peer->host);
		else
			ok = SSL_set_tlsext_host_name(conn->ssl, peer->host) &&
			    SSL_set1_host(conn->ssl, peer->host);
		if (!ok) {
			sbuf_setf(why, "TLS peer name \"%s\": ", peer->host);
			tls_cat_errors(why);
			return -1;
		}
		SSL_set_hostflags(conn->ssl,
		    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	}
	SSL_set_verify(conn->ssl, peer->verify == TLS_VERIFY_HOST ?
	    SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
	if (peer->hook != NULL && peer->hook(conn->ssl, peer->hook_arg,
	    why) < 0)
		return -1;
	return 0;
}

struct tls_conn *
tls_conn_new(struct tls_ctx *ctx, const struct tls_peer *peer,
    const struct tls_io *io, struct sbuf *why)
{
	static const struct tls_peer no_peer = {NULL, TLS_VERIFY_NONE, NULL,
	    NULL};
	struct tls_conn *conn = xcalloc(1, sizeof(*conn));
	BIO *bio;

	conn->io = *io;
	ERR_clear_error();
	conn->ssl = SSL_new(ctx->ssl_ctx);
	bio = BIO_new(tls_bio_method);
	if (conn->ssl == NULL || bio == NULL) {
		sbuf_set(why, "create TLS connection: ");
		tls_cat_errors(why);
		BIO_free(bio);
		tls_conn_free(&conn);
		return NULL;
	}
	BIO_set_data(bio, conn);
	SSL_set_bio(conn->ssl, bio, bio);
	if (ctx->server)
		SSL_set_accept_state(conn->ssl);
	else if (tls_conn_client(conn, peer != NULL ? peer : &no_peer,
	    why) < 0)
		tls_conn_free(&conn);
	return conn;
}

/* Turns a failed OpenSSL call's outcome into a result and a reason. */
static enum tls_result
tls_conn_result(struct tls_conn *conn, int ret, struct sbuf *why)
{
	int err = SSL_get_error(conn->ssl, ret);
	long result;

	switch (err) {
	case SSL_ERROR_WANT_READ:
		return TLS_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return TLS_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		sbuf_set(why, "connection closed by peer");
		return TLS_CLOSED;
	case SSL_ERROR_SYSCALL:
		conn->failed = true;
		if (ERR_peek_error() != 0) {
			sbuf_reset(why);
			tls_cat_errors(why);
		} else if (conn->io_errno != 0) {
			sbuf_set(why, strerror(conn->io_errno));
		} else {
			sbuf_set(why, "connection closed by peer");
		}
		return TLS_FAILED;
	case SSL_ERROR_SSL:
		conn->failed = true;
		sbuf_reset(why);
		tls_cat_errors(why);
		result = SSL_get_verify_result(conn->ssl);
		if ((SSL_get_verify_mode(conn->ssl) & SSL_VERIFY_PEER) &&
		    result != X509_V_OK)
			sbuf_printf(why, " (%s)",
			    X509_verify_cert_error_string(result));
		return TLS_FAILED;
	default:
		conn->failed = true;
		sbuf_setf(why, "unexpected OpenSSL state %d", err);
		return TLS_FAILED;
	}
}

/* Refuses I/O after a fatal error; true when refused. */
static bool
tls_conn_refused(struct tls_conn *conn, struct sbuf *why)
{
	if (!conn->failed)
		return false;
	sbuf_set(why, "TLS connection already failed");
	return true;
}

enum tls_result
tls_conn_handshake(struct tls_conn *conn, struct sbuf *why)
{
	int ret;

	if (tls_conn_refused(conn, why))
		return TLS_FAILED;
	ERR_clear_error();
	conn->io_errno = 0;
	ret = SSL_do_handshake(conn->ssl);
	if (ret != 1)
		return tls_conn_result(conn, ret, why);
	tls_conn_set_info(conn);
	return TLS_DONE;
}

enum tls_result
tls_conn_read(struct tls_conn *conn, void *buf, size_t len, size_t *len_r,
    struct sbuf *why)
{
	int ret;

	*len_r = 0;
	if (tls_conn_refused(conn, why))
		return TLS_FAILED;
	ERR_clear_error();
	conn->io_errno = 0;
	ret = SSL_read_ex(conn->ssl, buf, len, len_r);
	return ret == 1 ? TLS_DONE : tls_conn_result(conn, ret, why);
}

enum tls_result
tls_conn_write(struct tls_conn *conn, const void *buf, size_t len,
    struct sbuf *why)
{
	size_t written;
	int ret;

	if (tls_conn_refused(conn, why))
		return TLS_FAILED;
	ERR_clear_error();
	conn->io_errno = 0;
	ret = SSL_write_ex(conn->ssl, buf, len, &written);
	return ret == 1 ? TLS_DONE : tls_conn_result(conn, ret, why);
}

enum tls_result
tls_conn_shutdown(struct tls_conn *conn, struct sbuf *why)
{
	int ret;

	if (tls_conn_refused(conn, why))
		return TLS_FAILED;
	ERR_clear_error();
	conn->io_errno = 0;
	ret = SSL_shutdown(conn->ssl);
	return ret >= 0 ? TLS_DONE : tls_conn_result(conn, ret, why);
}

const struct tls_info *
tls_conn_info(const struct tls_conn *conn)
{
	return conn->have_info ? &conn->info : NULL;
}

void
tls_conn_free(struct tls_conn **conn)
{
	struct tls_conn *c = *conn;

	if (c == NULL)
		return;
	SSL_free(c->ssl);
	free(c->info.protocol);
	free(c->info.cipher);
	free(c->info.servername);
	free(c->info.peer_cn);
	free(c->info.issuer_cn);
	free(c->info.verify_reason);
	xfree(conn);
}
