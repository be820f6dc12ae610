/*
 * attr - the attribute protocol between daemons
 *
 * A request or reply between two Postern daemons is one frame of named
 * values, sent over a UNIX stream socket. The format, exactly:
 *
 *	frame	= length body
 *	length	= 4 octets, unsigned big-endian: the number of octets in body
 *	body	= version *record
 *	version	= record whose name is "attr_version" and whose value is
 *		  the decimal text of ATTR_VERSION ("1")
 *	record	= name-length name value-length value
 *	name-length  = 4 octets, unsigned big-endian, 1 to ATTR_NAME_MAX
 *	name	= name-length octets, each one of a-z 0-9 _
 *	value-length = 4 octets, unsigned big-endian, 0 to ATTR_VALUE_MAX
 *	value	= value-length octets, any (NUL included)
 *
 * Records after the version carry distinct names, none "attr_version",
 * and number at most ATTR_COUNT_MAX; their order carries no meaning. A
 * number (attr_put_long()) is sent as its decimal text, "-" for negatives.
 * The receiver bounds the body with its own max_frame (ATTR_FRAME_MAX by
 * default). Anything else, including a version other than ATTR_VERSION,
 * is malformed: the decoder fails and the receiver drops the peer.
 *
 * Writing a frame:
 *
 *	struct attr_writer w;
 *
 *	attr_begin(&w, frame);
 *	attr_put_str(&w, "sender", sender);
 *	attr_put_long(&w, "size", size);
 *	if (attr_end(&w, why) < 0 || attr_send(fd, frame, 10000, why) < 0)
 *		...
 *
 * A put that fails (bad name, value or count over its limit, frame over
 * the sbuf's limit) makes the writer fail: later puts do nothing and
 * attr_end() reports the first error. The writer does not look for
 * duplicate names; the receiver rejects them.
 */
#ifndef POSTERN_ATTR_H
#define POSTERN_ATTR_H

#include <stddef.h>

struct sbuf;

#define ATTR_VERSION		1
#define ATTR_VERSION_NAME	"attr_version"
#define ATTR_NAME_MAX		64
#define ATTR_VALUE_MAX		(256 * 1024)
#define ATTR_COUNT_MAX		4096
#define ATTR_FRAME_MAX		(1024 * 1024)	/* default max_frame */

/* A frame being written; set up by attr_begin(), no destroyer. */
struct attr_writer {
	struct sbuf *frame;	/* the caller's buffer */
	size_t count;		/* records put, the version excluded */
	const char *error;	/* the first failure, or NULL */
};

/* Empties frame and starts a frame in it: the length and the version. */
void attr_begin(struct attr_writer *w, struct sbuf *frame);
/* Adds a record whose value is the C string value. */
void attr_put_str(struct attr_writer *w, const char *name, const char *value);
/* Adds a record whose value is len bytes (NULs allowed). */
void attr_put_bytes(struct attr_writer *w, const char *name,
    const void *value, size_t len);
/* Adds a record whose value is the decimal text of value. */
void attr_put_long(struct attr_writer *w, const char *name, long value);
/*
 * Finishes the frame by filling in its length. 0, or -1 with the first
 * failure of a put in why (the frame is then not to be sent).
 */
int attr_end(struct attr_writer *w, struct sbuf *why);

/* A decoded frame: its records, without the version. */
struct attr_list;

/*
 * Decodes the len bytes of data, which must be exactly one whole frame
 * (length included). 0 and a new list in *out, or -1 with a reason in why
 * and *out untouched. Every length, the version, each name's charset and
 * uniqueness and every limit above are checked.
 */
int attr_decode(const char *data, size_t len, struct attr_list **out,
    struct sbuf *why);
/* Frees *list and sets it to NULL; accepts NULL. */
void attr_list_free(struct attr_list **list);
/* The number of records, the version excluded. */
size_t attr_count(const struct attr_list *list);
/*
 * The value of name as a C string, borrowed until the list is freed; NULL
 * when there is no such record or its value holds a NUL byte.
 */
const char *attr_get_str(const struct attr_list *list, const char *name);
/*
 * Parses the value of name as a decimal number from min to max. 0 and
 * *value_r, or -1 with a reason when absent, not a number or out of range.
 */
int attr_get_long(const struct attr_list *list, const char *name, long min,
    long max, long *value_r, struct sbuf *why);
/*
 * The value of name: *value_r (borrowed until the list is freed; an
 * uncounted NUL follows it) and *len_r. 0, or -1 when absent.
 */
int attr_get_bytes(const struct attr_list *list, const char *name,
    const char **value_r, size_t *len_r);

/*
 * Writes the whole frame to the socket fd within timeout_ms milliseconds
 * (negative: no deadline), with MSG_NOSIGNAL so that a closed peer gives
 * EPIPE, not SIGPIPE. fd may be blocking or not; its flags are left alone.
 * 0, or -1 with a reason in why (errno kept).
 */
int attr_send(int fd, const struct sbuf *frame, int timeout_ms,
    struct sbuf *why);
/*
 * Reads exactly one frame from the socket fd, and nothing after it, within
 * timeout_ms milliseconds for the whole frame (negative: no deadline), and
 * decodes it as attr_decode() does. A length over max_frame is rejected
 * before anything more is read or allocated. 0 and a new list in *out, or
 * -1 with a reason in why, which tells a peer that closed before a frame
 * ("connection closed before a frame") from one that closed or stalled
 * inside one. After -1 the stream is out of step: the caller closes fd.
 */
int attr_recv(int fd, size_t max_frame, int timeout_ms,
    struct attr_list **out, struct sbuf *why);

#endif
