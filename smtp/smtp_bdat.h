/*
 * smtp_bdat - the content of a message in BDAT chunks (RFC 3030)
 *
 * When the server offers CHUNKING, smtp_trans.c sends the content with
 * BDAT instead of DATA once the envelope's replies are in: chunks of
 * SMTP_BDAT_CHUNK octets, the last one "BDAT n LAST", in the encoding of
 * smtp_content.h (no dot-stuffing, no end marker; BINARYMIME content as
 * stored). With PIPELINING a window of chunks goes out before their
 * replies are read, else each chunk waits for its reply. A 4xx or 5xx
 * reply to any chunk ends the transaction: no more chunks are sent and
 * the accepted recipients are decided by it; a 2xx to BDAT LAST sends
 * the message to them. Writes have smtp_data_xfer_timeout, as do the
 * replies to chunks but the last; the reply to BDAT LAST has
 * smtp_data_done_timeout.
 */
#ifndef POSTERN_SMTP_BDAT_H
#define POSTERN_SMTP_BDAT_H

#include <stddef.h>

struct sbuf;
struct smtp_env;
struct smtp_job;
struct smtp_session;

/* The size of a BDAT chunk but the last. */
#define SMTP_BDAT_CHUNK		(64 * 1024)

/*
 * Sends the content of job in BDAT chunks and decides the naccepted
 * request recipients in accepted by the replies. 0, or -1 with a reason
 * when the session broke (a lost connection, a timeout, 421).
 */
int smtp_bdat_send(const struct smtp_env *env, struct smtp_session *s,
    struct smtp_job *job, const size_t *accepted, size_t naccepted,
    struct sbuf *why);

#endif
