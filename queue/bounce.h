/*
 * bounce - delivery status notifications (RFC 3464) about a message
 *
 * qmgr reports what became of a message's recipients to its sender: the
 * failures, the deliveries the sender asked to hear about, and delays
 * (delay_warning_time). A notice
 * is a new message from MAILER-DAEMON@myhostname with the null sender,
 * written into incoming/ like any other:
 *
 *	multipart/report; report-type=delivery-status
 *	  1. text/plain: what happened, for a person to read
 *	  2. message/delivery-status: Reporting-MTA, X-Postern-Queue-ID,
 *	     Original-Envelope-Id (ENVID), Arrival-Date; then per
 *	     recipient Final-Recipient, Original-Recipient (ORCPT), Action,
 *	     Status, Remote-MTA, Diagnostic-Code, Last-Attempt-Date
 *	  3. the original: message/rfc822 (whole) or text/rfc822-headers
 *
 * The third part holds the whole message for failures unless the sender
 * asked for headers (RET=HDRS), and only the headers for a report of
 * deliveries or delays alone unless RET=FULL. A message too big to go back whole
 * within message_size_limit, or whose body is BINARYMIME, goes back as
 * its headers. The content is read from the queue file in pieces.
 * Lines end in LF, as content does in queue files.
 */
#ifndef POSTERN_BOUNCE_H
#define POSTERN_BOUNCE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "mail/queue_file.h"

struct dsn_log;
struct sbuf;

#define BOUNCE_SENDER_NAME	"MAILER-DAEMON"
#define BOUNCE_POSTMASTER	"postmaster"
#define BOUNCE_OVERHEAD		(64 * 1024)	/* room kept for parts 1, 2 */

/* What one notice is about and where it goes. */
struct bounce_notice {
	struct queue_file *qf;		/* the original message, open */
	const struct dsn_log *log;	/* the results to report */
	const char *myhostname;
	const char *recipient;		/* the sender, or postmaster */
	time_t now;
	uint64_t size_limit;		/* message_size_limit; 0: none */
	const char *boundary;		/* MIME boundary; unique */
};

/* Takes len octets of the notice; 0, or -1 with a reason. */
typedef int (*bounce_out_fn)(void *ctx, const char *data, size_t len,
    struct sbuf *why);

/*
 * Writes the notice n through out, in pieces. 0, or -1 with a reason (a
 * content read error, or what out gave).
 */
int bounce_compose(const struct bounce_notice *n, bounce_out_fn out,
    void *ctx, struct sbuf *why);

/* True when the notice holds 8-bit text (its body is then 8BITMIME). */
bool bounce_8bit(const struct bounce_notice *n);

/*
 * Writes the notice n as a new queue file in queue_dir/incoming/ with
 * the null sender and n->recipient as its one recipient, committed
 * durably; n->boundary is ignored and made unique. QUEUE_WRITE_OK with
 * the new queue id in id_r, or another status with a reason.
 */
enum queue_write_status bounce_send(const char *queue_dir,
    const struct bounce_notice *n, struct sbuf *id_r, struct sbuf *why);

#endif
