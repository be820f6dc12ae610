/*
 * queue_file - the one format of a queued message, its writer and reader
 *
 * smtpd and pickup write queue files; qmgr, bounce generation, the
 * delivery agents and postern-queue read them; qmgr marks recipients done
 * in place. The format is a sequence of records that need no quoting:
 *
 *	record	= type length data
 *	type	= 1 octet, an ASCII letter
 *	length	= 4 octets, unsigned big-endian: the number of octets of data
 *	data	= length octets
 *
 * A file holds exactly these, in this order ([] marks an optional one):
 *
 *	type	record		length		data
 *	'V'	version		15		"postern-queue 1"
 *	'T'	arrival time	8		seconds since the epoch,
 *						unsigned big-endian, at
 *						most QUEUE_ID_SEC_MAX
 *	'P'	protocol	4 to 6		"local", "SMTP", "ESMTP" or
 *						"ESMTPS"
 *	'S'	sender		0 to 1024	text; empty for the null sender
 *	['C']	client address	1 to 1024	text
 *	['N']	client name	1 to 1024	text
 *	['H']	HELO name	1 to 1024	text
 *	['U']	authenticated	1 to 1024	text
 *		user
 *	['I']	DSN ENVID	1 to 1024	text, xtext-decoded
 *	['F']	DSN RET		4		"FULL" or "HDRS"
 *	['B']	body		2		see below; absent means
 *						7BIT without SMTPUTF8
 *	'R'	recipient	7 to 2054	see below; one record per
 *						recipient, at least one
 *	'E'	end of envelope	8		the number of octets of content,
 *						unsigned big-endian
 *	(none)	content		E's value	the message as received, opaque
 *	'X'	end		0		(none)
 *
 * The data of a recipient record:
 *
 *	status	1 octet: 'P' (pending) or 'D' (done); the first octet of the
 *		record's data, overwritten in place when the recipient is
 *		done
 *	notify	1 octet: DSN NOTIFY, 0 when not given, QUEUE_NOTIFY_NEVER
 *		alone, or a non-empty set of QUEUE_NOTIFY_SUCCESS,
 *		QUEUE_NOTIFY_FAILURE and QUEUE_NOTIFY_DELAY
 *	alen	4 octets, unsigned big-endian: 1 to 1024, the length of address
 *	address	alen octets: text, the address in internal form (addr.h)
 *	orcpt	the rest, 0 to 1024 octets: text, DSN ORCPT as
 *		"addr-type;address", xtext-decoded; empty when not given
 *
 * The data of a body record, which the writer leaves out when it would
 * say 7BIT without SMTPUTF8:
 *
 *	body	1 octet: the body type, '7' for 7BIT, '8' for 8BITMIME (RFC
 *		6152), 'B' for BINARYMIME (RFC 3030)
 *	utf8	1 octet: 1 when the transaction used SMTPUTF8 (RFC 6531),
 *		else 0
 *
 * "Text" is UTF-8 without control characters: no octet below 0x20, no
 * 0x7f, no C1 control (U+0080 to U+009F), no malformed, overlong or
 * surrogate sequence, nothing past U+10FFFF. So no text holds a NUL, a
 * newline or a tab. The file ends right after the end record: a file cut
 * anywhere, or with anything after the end, is damaged. Nothing else is
 * allowed: no other record type, no record out of its place or repeated,
 * no length outside its range, no more than QUEUE_RCPT_MAX recipients.
 *
 * The commit point: a writer creates "incoming/tmp.XXXXXX" (mode 0600)
 * in the queue directory, takes the queue id from its inode (queue_id.h),
 * writes the records, and at commit sets mode 0700 (complete, as Postfix
 * marks complete files), fsyncs the file, renames it to "incoming/ID" and
 * fsyncs the directory. Only a file that went through all of this has a
 * queue id for its name. A crash before the rename leaves a temporary file
 * (never a valid queue id) for the queue's cleaner to remove.
 *
 * Reuse: when every recipient of a message is done, qmgr retires its file
 * into one of the QUEUE_FREE_SLOTS slots of "free/" (files named "0" to
 * "63") instead of removing it, and a writer takes a file from there,
 * renamed to a temporary name, before it makes a new one. The writer
 * writes over the old content (its blocks are used again) and cuts what
 * is left of it at the commit, before the fsync.
 * The queue thus frees and allocates few inodes: on ext4 without a
 * journal, making a file passes over every inode of its group freed in
 * the last minutes, which was most of smtpd's CPU time per message at a
 * few hundred messages a second. Only small files (QUEUE_FREE_SIZE_MAX)
 * are kept; with the slots tried full, or no free/ at all, the file is
 * removed as before. A reused file gets a new id: its time is that of the
 * new message.
 */
#ifndef POSTERN_QUEUE_FILE_H
#define POSTERN_QUEUE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

struct sbuf;

#define QUEUE_FILE_VERSION	"postern-queue 1"
#define QUEUE_TEXT_MAX		1024	/* octets of one text field */
#define QUEUE_RCPT_MAX		100000	/* recipients in one file */
#define QUEUE_TMP_PREFIX	"tmp."	/* temporary files in incoming/ */
#define QUEUE_FREE_DIR		"free"	/* retired files, for reuse */
#define QUEUE_FREE_SLOTS	64	/* files free/ holds at most */
#define QUEUE_FREE_SIZE_MAX	(256 * 1024)	/* larger ones are removed */
#define QUEUE_MODE_WRITING	0600	/* a file being written */
#define QUEUE_MODE_COMPLETE	0700	/* a committed file */

/* DSN NOTIFY (RFC 3461), as stored in a recipient record. */
#define QUEUE_NOTIFY_SUCCESS	0x01
#define QUEUE_NOTIFY_FAILURE	0x02
#define QUEUE_NOTIFY_DELAY	0x04
#define QUEUE_NOTIFY_NEVER	0x08

/* How a message arrived; 0 is no protocol, so an unset field is caught. */
enum queue_proto {
	QUEUE_PROTO_LOCAL = 1,	/* sendmail, or made by Postern itself */
	QUEUE_PROTO_SMTP,
	QUEUE_PROTO_ESMTP,
	QUEUE_PROTO_ESMTPS	/* ESMTP over TLS */
};

/* DSN RET (RFC 3461). */
enum queue_ret {
	QUEUE_RET_NONE,		/* not given */
	QUEUE_RET_FULL,
	QUEUE_RET_HDRS
};

/* The body type (RFC 6152 BODY=, RFC 3030 BINARYMIME); 0 is the default. */
enum queue_body {
	QUEUE_BODY_7BIT,
	QUEUE_BODY_8BITMIME,
	QUEUE_BODY_BINARYMIME
};

/*
 * The envelope of a message apart from its recipients and arrival time.
 * Strings are text (see above) of at most QUEUE_TEXT_MAX octets. The
 * writer takes NULL or "" for an optional field that is not known; the
 * reader gives NULL for it.
 */
struct queue_envelope {
	const char *sender;	/* internal form; "" for the null sender */
	enum queue_proto proto;
	const char *client_addr;	/* optional: the client's IP address */
	const char *client_name;	/* optional: its verified name */
	const char *helo;		/* optional: its HELO/EHLO argument */
	const char *auth_user;		/* optional: its AUTH identity */
	const char *envid;		/* optional: DSN ENVID, decoded */
	enum queue_ret ret;
	enum queue_body body;
	bool smtputf8;		/* the transaction used SMTPUTF8 */
};

/* One recipient. The writer takes NULL or "" for no orcpt. */
struct queue_rcpt {
	const char *address;	/* internal form, never empty */
	const char *orcpt;	/* optional: DSN ORCPT, decoded */
	int notify;		/* QUEUE_NOTIFY_* bits; 0 when not given */
	bool done;		/* delivered or bounced: not to be retried */
};

/*
 * What writing a queue file can come to. A caller maps them to replies:
 * smtpd answers ERROR with 451 4.3.0, NOSPACE with 452 4.3.1 and TOOBIG
 * with 552 5.3.4; sendmail exits EX_TEMPFAIL, EX_TEMPFAIL and EX_DATAERR.
 */
enum queue_write_status {
	QUEUE_WRITE_OK,
	QUEUE_WRITE_ERROR,	/* any other failure; see why */
	QUEUE_WRITE_NOSPACE,	/* ENOSPC or EDQUOT: disk or quota full */
	QUEUE_WRITE_TOOBIG	/* content over the writer's size limit */
};

/* A queue file being written. */
struct queue_writer;

/*
 * Creates a temporary file in queue_dir/incoming/ and gives it a queue id
 * from its inode. QUEUE_WRITE_OK and a new writer in *w_r, or another
 * status (NOSPACE when no file can be created for lack of space or
 * inodes) with a reason in why and *w_r untouched.
 */
enum queue_write_status queue_writer_open(const char *queue_dir,
    struct queue_writer **w_r, struct sbuf *why);

/* The writer's queue id, borrowed until the writer is freed. */
const char *queue_writer_id(const struct queue_writer *w);

/*
 * Sets the largest content, in octets, that the writer takes (0, the
 * default, for no limit): message_size_limit.
 */
void queue_writer_set_size_limit(struct queue_writer *w, uint64_t limit);

/*
 * Sets the envelope, once, before any recipient; copies it. 0, or -1 with
 * a reason in why (a field that is not text or too long, no protocol, an
 * unknown DSN RET or body type, a second call) and the writer unchanged.
 */
int queue_writer_envelope(struct queue_writer *w,
    const struct queue_envelope *env, struct sbuf *why);

/*
 * Adds a recipient, after the envelope and before any content; copies it.
 * 0, or -1 with a reason in why (an address or orcpt that is not text, an
 * empty address, a NOTIFY set that mixes NEVER with others, more than
 * QUEUE_RCPT_MAX, content already written) and the writer unchanged.
 */
int queue_writer_add_rcpt(struct queue_writer *w,
    const struct queue_rcpt *rcpt, struct sbuf *why);

/*
 * Appends len octets to the content; the first call closes the envelope,
 * which must have at least one recipient by then. Writes are buffered.
 * Calling before the envelope is complete is an ERROR that changes
 * nothing. Any other failure sticks: the temporary file is removed at
 * once, later writes do nothing and return the same status and reason,
 * and so does queue_writer_commit(). TOOBIG when the content would pass
 * the size limit (nothing of len is taken).
 */
enum queue_write_status queue_writer_write(struct queue_writer *w,
    const void *data, size_t len, struct sbuf *why);

/*
 * Completes the file at the commit point described above and frees *w
 * (setting it to NULL) whatever happens. QUEUE_WRITE_OK only when the
 * file is on stable storage under its queue id in incoming/: only then
 * may the message be acknowledged. Any other status comes with a reason
 * in why and leaves no file behind (unless the directory fsync failed
 * after the rename and qmgr took the file at once, which can then be
 * delivered although not acknowledged). Copy the id before committing.
 */
enum queue_write_status queue_writer_commit(struct queue_writer **w,
    struct sbuf *why);

/*
 * Removes the finished queue file path of the queue in queue_dir,
 * retiring it into free/ for reuse when it is small and there is room
 * (see "Reuse" above). 0 (also when path is already gone), or -1 with a
 * reason in why.
 */
int queue_file_retire(const char *queue_dir, const char *path,
    struct sbuf *why);

/* Removes the temporary file and frees *w; accepts NULL. */
void queue_writer_abort(struct queue_writer **w);

/* Flags of queue_file_open(). */
#define QUEUE_OPEN_UPDATE	(1 << 0)	/* for queue_file_mark_done() */
/*
 * Wait for an exclusive flock() on the file before reading it, held until
 * queue_file_close(): a delivery agent takes it so that a second agent
 * asked for the same recipients (by a qmgr that restarted while the first
 * was still at work) sees them done, never delivers them again.
 */
#define QUEUE_OPEN_LOCK		(1 << 1)

/*
 * An open queue file. Every field is read-only and borrowed until
 * queue_file_close(); the content is not read into memory.
 */
struct queue_file {
	char *path;		/* as given to queue_file_open() */
	char *id;		/* the file name if a queue id, else NULL */
	time_t arrival;		/* from the arrival time record */
	struct queue_envelope env;
	struct queue_rcpt *rcpts;
	size_t rcpt_count;	/* at least 1 */
	off_t content_offset;	/* where the content starts in the file */
	off_t content_size;	/* octets of content: the message size */
	/* Private. */
	int fd;
	int flags;
	off_t *status_offsets;	/* of each recipient's status octet */
};

/*
 * Opens the queue file path (read-only, or read-write with
 * QUEUE_OPEN_UPDATE), reads and checks its envelope, recipients and
 * framing as described above. A new queue_file, or NULL with a reason in
 * why: "open PATH: ..." when it cannot be opened, else "NAME: record N:
 * reason" where NAME is the queue id (or the path when the file name is
 * not one) and N counts records from 1.
 */
struct queue_file *queue_file_open(const char *path, int flags,
    struct sbuf *why);

/*
 * Reads up to len octets of content starting at pos octets into it.
 * The number read, len unless the content ends first (0 at or past its
 * end), or -1 with a reason in why (an I/O error, the file shrank).
 */
ssize_t queue_file_read(struct queue_file *qf, off_t pos, void *buf,
    size_t len, struct sbuf *why);

/*
 * Marks recipient index done, in the file (one octet written in place)
 * and in qf. Marking a done recipient again does nothing. 0, or -1 with
 * a reason in why (index out of range, file not opened with
 * QUEUE_OPEN_UPDATE, a write failure).
 *
 * The mark is not synced: every process sees it at once, so a crashed
 * process never causes a second delivery, while a crash of the whole
 * host before the kernel writes it back can deliver that recipient
 * twice (never lose it: the delivery itself was durable first).
 */
int queue_file_mark_done(struct queue_file *qf, size_t index,
    struct sbuf *why);

/* True when every recipient is done: the file may be removed. */
bool queue_file_all_done(const struct queue_file *qf);

/*
 * Appends to out a readable form of the file, for postern-queue: lines
 * "name: value" for the queue id (when known), arrival time, message
 * size, protocol, each envelope field present and the sender, "body:
 * 8BITMIME" or "body: BINARYMIME" and "smtputf8: yes" when so, then one
 * line per recipient, "recipient: ADDRESS" followed by TAB "done" or TAB
 * "pending", TAB "notify=SUCCESS,FAILURE,DELAY" (or "notify=NEVER") when
 * NOTIFY was given, TAB "orcpt=ORCPT" when ORCPT was given (no text holds
 * a tab); then an empty line and the content as it is. 0, or -1 with a
 * reason in why (content read error, out's limit reached).
 */
int queue_file_render(struct queue_file *qf, struct sbuf *out,
    struct sbuf *why);

/* Closes the file and frees *qf, setting it to NULL; accepts NULL. */
void queue_file_close(struct queue_file **qf);

#endif
