/*
 * cidr - match numeric client addresses against a list of networks
 *
 * A network list is the value of a parameter such as mynetworks: items
 * separated by commas or whitespace, each one of
 *
 *	192.0.2.0/24		an IPv4 network, address/prefix
 *	192.0.2.1		one IPv4 address (as /32)
 *	[2001:db8::]/32		an IPv6 network, the address in brackets
 *	[::1]			one IPv6 address (as /128)
 *	2001:db8::/32, ::1	the same without brackets
 *
 * A prefix is 0 to 32 (IPv4) or 0 to 128 (IPv6) decimal digits; an item
 * whose address has bits set past its prefix ("10.1.2.3/8") is refused,
 * as it most likely means something else than it says. IPv4 items also
 * match IPv4-mapped IPv6 addresses (::ffff:192.0.2.1), which a dual-stack
 * socket reports for IPv4 clients.
 *
 * Errors: cidr_list_new() refuses the whole list with a reason naming the
 * item at fault; never logs.
 * Trust: the list comes from the admin; the address matched may come from
 * anywhere and is only ever parsed with inet_pton().
 */
#ifndef POSTERN_CIDR_H
#define POSTERN_CIDR_H

#include <stdbool.h>

struct sbuf;
struct cidr_list;

/*
 * Parses a network list (NULL or "" for an empty one, which matches
 * nothing). A new list, or NULL with a reason in why.
 */
struct cidr_list *cidr_list_new(const char *list, struct sbuf *why);
/* Frees *l and sets it to NULL; accepts NULL. */
void cidr_list_free(struct cidr_list **l);
/*
 * True when the numeric address addr ("192.0.2.1", "2001:db8::1",
 * "fe80::1%eth0") is in one of the list's networks; false for anything
 * that is not a numeric address ("local", "unknown").
 */
bool cidr_list_match(const struct cidr_list *l, const char *addr);

#endif
