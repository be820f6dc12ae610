/*
 * pqueue_json - JSON strings for postern-queue's machine-readable listing
 */
#ifndef POSTERN_PQUEUE_JSON_H
#define POSTERN_PQUEUE_JSON_H

struct sbuf;

/*
 * Appends s to out as a JSON string (RFC 8259), quotes included: '"' and
 * '\\' escaped, control characters (below 0x20, and 0x7f) as \uXXXX,
 * everything else, UTF-8 included, as it is.
 */
void pqueue_json_string(struct sbuf *out, const char *s);

#endif
