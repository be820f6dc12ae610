/*
 * sendmail_addrlist - the addresses of an RFC 5322 address list
 *
 * For sendmail -t (To:, Cc:, Bcc:) and recipient arguments: splits a
 * header value (folded lines included) into its addresses, skipping
 * display names, comments and group names:
 *
 *	Team: "Doe, Jane" <jane@example.test>, (boss) bob;, carol@x.test
 *
 * gives "<jane@example.test>", "bob" and "carol@x.test": the addr-spec of
 * each mailbox, in angle brackets when it was written in them, ready for
 * addr_parse() with ADDR_FLAG_BARE. Empty members (an empty group) give
 * nothing.
 */
#ifndef POSTERN_SENDMAIL_ADDRLIST_H
#define POSTERN_SENDMAIL_ADDRLIST_H

#include <stddef.h>

struct sbuf;
struct strlist;

/*
 * Appends the addresses in the len octets of value to out. 0, or -1 with
 * a reason (an unclosed quote, comment or angle bracket, a nested group,
 * a NUL) in why; out may then hold the addresses before the error.
 */
int addrlist_parse(const char *value, size_t len, struct strlist *out,
    struct sbuf *why);

#endif
