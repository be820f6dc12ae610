/*
 * tls - TLS contexts and connections (OpenSSL 3) for both sides
 *
 * A context holds what many connections share: the server's certificate
 * chain and key, or the client's trust anchors, plus protocol versions and
 * ciphers. Protocol code only creates contexts and hands them to
 * stream_start_tls(); it never calls OpenSSL. The tls_conn_*() calls are
 * the layer under struct stream and are used by stream.c alone.
 *
 * Defaults: TLS 1.2 at least, compression and renegotiation off, session
 * tickets on, a peer's TCP close without close_notify read as end of
 * input (mail protocols frame their own data). Encrypted private keys are
 * refused rather than prompted for.
 *
 * Errors are returned with OpenSSL's reasons (and the file name, when a
 * file was involved) in the caller's `why`; nothing logs. Initialisation
 * happens on first use; none of this is thread-safe.
 */
#ifndef POSTERN_TLS_H
#define POSTERN_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct sbuf;
struct ssl_st;			/* OpenSSL's SSL */
struct tls_ctx;

/* What a client requires of the server's certificate. */
enum tls_verify {
	TLS_VERIFY_NONE,	/* opportunistic: verify, record, go on */
	TLS_VERIFY_HOST		/* trusted chain and a name matching host */
};

/*
 * Called with a client connection's SSL before its handshake, to add
 * checks of its own (a DANE implementation calls SSL_dane_enable() and
 * SSL_dane_tlsa_add() here). Returns 0, or -1 with a reason in why, which
 * abandons the connection.
 */
typedef int (*tls_hook_fn)(struct ssl_st *ssl, void *arg, struct sbuf *why);

/* A client's expectations of one server; all fields optional. */
struct tls_peer {
	const char *host;	/* sent as SNI (unless an IP address) and
				 * checked against the certificate */
	enum tls_verify verify;
	tls_hook_fn hook;	/* or NULL */
	void *hook_arg;
};

/*
 * What a finished handshake agreed, for log lines and Received headers.
 * Names from the peer's certificate are untrusted text: control
 * characters are replaced with '?' and they are cut at TLS_NAME_MAX bytes.
 */
struct tls_info {
	char *protocol;		/* "TLSv1.3" */
	char *cipher;		/* "TLS_AES_256_GCM_SHA384" */
	int bits;		/* secret bits of the cipher in use */
	int alg_bits;		/* bits of the algorithm */
	char *servername;	/* SNI sent (client) or received (server),
				 * or NULL */
	char *peer_cn;		/* peer certificate subject CN, or NULL */
	char *issuer_cn;	/* its issuer's CN, or NULL */
	bool verified;		/* chain (and name, when given) verified */
	char *verify_reason;	/* "ok", or why verified is false */
};

#define TLS_NAME_MAX 256

/*
 * Server SNI hook: given the host name a client asked for, returns the
 * context whose certificate to use, or NULL to keep the current one. The
 * name is untrusted (OpenSSL has checked only that it has no NUL and at
 * most 255 bytes).
 */
typedef struct tls_ctx *(*tls_sni_fn)(const char *servername, void *arg);

/*
 * Returns a server context using the PEM certificate chain in cert_file
 * (the server's certificate first, then intermediates) and the PEM
 * private key in key_file, which must belong to that certificate; NULL
 * with a reason naming the file at fault.
 */
struct tls_ctx *tls_server_ctx_new(const char *cert_file, const char *key_file,
    struct sbuf *why);
/*
 * Returns a client context trusting the PEM certificates in ca_file and
 * the hashed directory ca_path (either may be NULL; when both are, the
 * system's default trust store); NULL with a reason naming the file.
 */
struct tls_ctx *tls_client_ctx_new(const char *ca_file, const char *ca_path,
    struct sbuf *why);
/*
 * Limits the protocol versions to min..max, given as "TLSv1", "TLSv1.1",
 * "TLSv1.2" or "TLSv1.3"; NULL leaves a bound as it is (min TLSv1.2, max
 * the newest). 0, or -1 with a reason (nothing changed).
 */
int tls_ctx_set_protocols(struct tls_ctx *ctx, const char *min,
    const char *max, struct sbuf *why);
/*
 * Sets the OpenSSL cipher list for TLS 1.2 and older and the cipher
 * suites for TLS 1.3 (either NULL to keep the default); 0, or -1 with a
 * reason when a list selects nothing (the other, if valid, still holds).
 */
int tls_ctx_set_ciphers(struct tls_ctx *ctx, const char *list,
    const char *suites, struct sbuf *why);
/*
 * Installs a server SNI hook. A context it returns lends its certificate
 * and key; protocol and cipher settings stay those of ctx.
 */
void tls_ctx_set_sni(struct tls_ctx *ctx, tls_sni_fn fn, void *arg);
/*
 * Frees *ctx and sets it to NULL; accepts NULL. A context (and one an SNI
 * hook may return) must outlive the handshakes that use it.
 */
void tls_ctx_free(struct tls_ctx **ctx);

/*
 * Appends "TLSv1.3 with cipher NAME (256/256 bits)" to out; as
 * sbuf_catn().
 */
int tls_info_describe(const struct tls_info *info, struct sbuf *out);

/* The layer under struct stream: one connection over caller-done I/O. */
struct tls_conn;

/*
 * Transport for a connection: each call makes one attempt that does not
 * wait and returns the byte count, 0 at end of input (read), or -1 with
 * errno (EAGAIN when it would have to wait).
 */
struct tls_io {
	ssize_t (*read)(void *arg, void *buf, size_t len);
	ssize_t (*write)(void *arg, const void *buf, size_t len);
	void *arg;
};

/* Result of one connection step. */
enum tls_result {
	TLS_DONE,		/* finished */
	TLS_WANT_READ,		/* call again once the transport is readable */
	TLS_WANT_WRITE,		/* call again once it is writable */
	TLS_CLOSED,		/* the peer closed the connection */
	TLS_FAILED		/* fatal; reason in why */
};

/*
 * Returns a connection on ctx: the server side for a server context, else
 * the client side with the expectations in peer (NULL: none). NULL with a
 * reason when it cannot be set up (the hook failed, or verification was
 * required without a host name). *io is copied.
 */
struct tls_conn *tls_conn_new(struct tls_ctx *ctx, const struct tls_peer *peer,
    const struct tls_io *io, struct sbuf *why);
/* Advances the handshake; on TLS_DONE the connection's info is set. */
enum tls_result tls_conn_handshake(struct tls_conn *conn, struct sbuf *why);
/* Largest plaintext in one TLS record. */
#define TLS_RECORD_MAX 16384

/*
 * Reads up to len (> 0) bytes of application data, from one record at
 * most; TLS_DONE with *len_r > 0, TLS_CLOSED at the end of input. With
 * len at least TLS_RECORD_MAX, nothing decrypted is left behind in
 * OpenSSL.
 */
enum tls_result tls_conn_read(struct tls_conn *conn, void *buf, size_t len,
    size_t *len_r, struct sbuf *why);
/*
 * Writes all len (> 0) bytes; after TLS_WANT_*, call again with the same
 * arguments.
 */
enum tls_result tls_conn_write(struct tls_conn *conn, const void *buf,
    size_t len, struct sbuf *why);
/*
 * Sends close_notify (without waiting for the peer's); TLS_FAILED at once
 * after a fatal error, when no alert may be sent.
 */
enum tls_result tls_conn_shutdown(struct tls_conn *conn, struct sbuf *why);
/* The handshake's outcome; NULL before it has finished. */
const struct tls_info *tls_conn_info(const struct tls_conn *conn);
/* Frees *conn (no I/O) and sets it to NULL; accepts NULL. */
void tls_conn_free(struct tls_conn **conn);

#endif
