/*
 * smtp_https - the one HTTPS GET the SMTP client makes: an MTA-STS policy
 *
 * Fetches https://HOST/PATH over HTTP/1.1: HOST's addresses from DNS
 * (the SMTP client's resolver), port 443, TLS with the certificate
 * verified against the client context's trust anchors and HOST's name.
 * Only a 200 reply is accepted; redirects and every other status fail.
 * The body may come with Content-Length, chunked, or up to the close; it
 * is limited to SMTP_HTTPS_BODY_MAX bytes, and the whole exchange to
 * timeout seconds.
 */
#ifndef POSTERN_SMTP_HTTPS_H
#define POSTERN_SMTP_HTTPS_H

struct dns_resolver;
struct sbuf;
struct stream;
struct tls_ctx;

#define SMTP_HTTPS_PORT		443
#define SMTP_HTTPS_BODY_MAX	65536	/* bytes of body accepted */
#define SMTP_HTTPS_LINE_MAX	4096	/* bytes of a status or header line */

/*
 * GETs path ("/.well-known/mta-sts.txt") from host within timeout
 * seconds and puts the body in body. 0, or -1 with a reason in why.
 */
int smtp_https_get(struct dns_resolver *dns, struct tls_ctx *ctx,
    const char *host, const char *path, long timeout, struct sbuf *body,
    struct sbuf *why);

/*
 * Reads an HTTP/1.1 reply from s within timeout_ms milliseconds: the
 * status line (only 200 is accepted), the header and the body as
 * described above, into body. 0, or -1 with a reason in why. The reply
 * half of smtp_https_get(), on its own for the fuzz target.
 */
int smtp_https_reply(struct stream *s, long timeout_ms, struct sbuf *body,
    struct sbuf *why);

#endif
