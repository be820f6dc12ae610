/*
 * cidr - match numeric client addresses against a list of networks
 *
 * Each item becomes an address family, 16 address bytes (4 used for
 * IPv4) and a prefix length; matching compares the first prefix bits.
 *
 * Errors: a bad item refuses the list, with a reason naming the item.
 * Trust: list text comes from the admin; addresses matched are hostile
 * and reach only inet_pton(), after a length check.
 */
#include "util/cidr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/sbuf.h"
#include "util/strutil.h"
#include "util/xmalloc.h"

/* Longest text of an address inet_pton() is given (IPv6 with IPv4 tail). */
#define CIDR_ADDR_TEXT_MAX	INET6_ADDRSTRLEN

struct cidr_net {
	int family;			/* AF_INET or AF_INET6 */
	unsigned char addr[16];		/* network order; 4 bytes for IPv4 */
	unsigned int prefix;		/* leading bits that must match */
};

struct cidr_list {
	struct cidr_net *nets;
	size_t count;
};

/* Bytes of an address of family. */
static size_t
cidr_addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

/*
 * Parses the numeric address in the len bytes at text as IPv4, or as
 * IPv6 when v6 is true, into *net (family and address); -1 if it is not.
 */
static int
cidr_parse_addr(const char *text, size_t len, bool v6, struct cidr_net *net)
{
	char buf[CIDR_ADDR_TEXT_MAX];

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, text, len);
	buf[len] = '\0';
	net->family = v6 ? AF_INET6 : AF_INET;
	memset(net->addr, 0, sizeof(net->addr));
	return inet_pton(net->family, buf, net->addr) == 1 ? 0 : -1;
}

/* True when the bits of net's address past its prefix are all zero. */
static bool
cidr_host_bits_clear(const struct cidr_net *net)
{
	size_t len = cidr_addr_len(net->family);

	for (size_t i = 0; i < len; i++) {
		unsigned int first = (unsigned int)i * 8;
		unsigned char mask;

		if (first + 8 <= net->prefix)
			continue;
		mask = first >= net->prefix ? 0xff :
		    (unsigned char)(0xff >> (net->prefix - first));
		if ((net->addr[i] & mask) != 0)
			return false;
	}
	return true;
}

/* Appends the network address of net (host bits cleared) to out. */
static void
cidr_describe_network(const struct cidr_net *net, struct sbuf *out)
{
	struct cidr_net clean = *net;
	char text[CIDR_ADDR_TEXT_MAX];
	size_t len = cidr_addr_len(net->family);

	for (size_t i = 0; i < len; i++) {
		unsigned int first = (unsigned int)i * 8;

		if (first >= net->prefix)
			clean.addr[i] = 0;
		else if (first + 8 > net->prefix)
			clean.addr[i] &= (unsigned char)(0xff <<
			    (8 - (net->prefix - first)));
	}
	inet_ntop(net->family, clean.addr, text, sizeof(text));
	sbuf_printf(out, net->family == AF_INET6 ? "[%s]/%u" : "%s/%u", text,
	    net->prefix);
}

/* Parses one list item into *net; -1 with a reason naming it. */
static int
cidr_parse_item(const char *item, struct cidr_net *net, struct sbuf *why)
{
	const char *addr = item, *slash, *end;
	bool v6;

	if (item[0] == '[') {
		addr = item + 1;
		if ((end = strchr(addr, ']')) == NULL || (end[1] != '\0' &&
		    end[1] != '/'))
			goto bad;
		slash = end[1] == '/' ? end + 1 : NULL;
		v6 = true;
	} else {
		slash = strchr(item, '/');
		end = slash != NULL ? slash : item + strlen(item);
		v6 = memchr(item, ':', (size_t)(end - item)) != NULL;
	}
	if (cidr_parse_addr(addr, (size_t)(end - addr), v6, net) < 0)
		goto bad;
	net->prefix = (unsigned int)cidr_addr_len(net->family) * 8;
	if (slash != NULL) {
		long bits;

		if (slash[1] < '0' || slash[1] > '9' ||
		    str_to_long(slash + 1, &bits) < 0 || bits < 0 ||
		    bits > (long)net->prefix)
			goto bad;
		net->prefix = (unsigned int)bits;
	}
	if (!cidr_host_bits_clear(net)) {
		sbuf_setf(why, "network \"%s\" has bits set past its prefix; "
		    "perhaps you mean ", item);
		cidr_describe_network(net, why);
		return -1;
	}
	return 0;
bad:
	sbuf_setf(why, "\"%s\" is not an address or address/prefix "
	    "(IPv6 as [address]/prefix)", item);
	return -1;
}

struct cidr_list *
cidr_list_new(const char *list, struct sbuf *why)
{
	struct cidr_list *l = xcalloc(1, sizeof(*l));
	char *copy = xstrdup(list != NULL ? list : "");
	char *cursor = copy, *item;
	size_t size = 0;

	while ((item = str_token(&cursor, STR_LIST_DELIMS)) != NULL) {
		if (*item == '\0')
			continue;
		if (l->count == size) {
			size = size == 0 ? 4 : size * 2;
			l->nets = xreallocarray(l->nets, size,
			    sizeof(*l->nets));
		}
		if (cidr_parse_item(item, &l->nets[l->count], why) < 0) {
			free(copy);
			cidr_list_free(&l);
			return NULL;
		}
		l->count++;
	}
	free(copy);
	return l;
}

void
cidr_list_free(struct cidr_list **l)
{
	if (*l == NULL)
		return;
	free((*l)->nets);
	free(*l);
	*l = NULL;
}

/* True when the first prefix bits of a and b are equal. */
static bool
cidr_prefix_equal(const unsigned char *a, const unsigned char *b,
    unsigned int prefix)
{
	unsigned int whole = prefix / 8, rest = prefix % 8;
	unsigned char mask;

	if (memcmp(a, b, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (unsigned char)(0xff << (8 - rest));
	return (a[whole] & mask) == (b[whole] & mask);
}

bool
cidr_list_match(const struct cidr_list *l, const char *addr)
{
	static const unsigned char v4_mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};
	struct cidr_net client;
	size_t len = strcspn(addr, "%");	/* drop an IPv6 scope */

	if (cidr_parse_addr(addr, len, memchr(addr, ':', len) != NULL,
	    &client) < 0)
		return false;
	if (client.family == AF_INET6 &&
	    memcmp(client.addr, v4_mapped, sizeof(v4_mapped)) == 0) {
		client.family = AF_INET;
		memmove(client.addr, client.addr + 12, 4);
	}
	for (size_t i = 0; i < l->count; i++)
		if (l->nets[i].family == client.family &&
		    cidr_prefix_equal(l->nets[i].addr, client.addr,
		    l->nets[i].prefix))
			return true;
	return false;
}
