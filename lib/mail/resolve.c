/*
 * resolve - what a recipient address means here: its domain's class,
 * its virtual aliases, whether it exists, and where it is delivered
 *
 * Errors: a table that fails gives RESOLVE_ERROR with a reason naming
 * it; callers treat that as temporary (4xx), never as "unknown".
 * Trust: addresses come from clients but were checked by addr.c; table
 * values come from the admin and are checked before use.
 */
#include "mail/resolve.h"

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "mail/addr.h"
#include "mail/maps.h"
#include "mail/params.h"
#include "util/sbuf.h"
#include "util/strlist.h"
#include "util/strutil.h"
#include "util/xmalloc.h"

/* A domain list: plain names (or ".parent" patterns) and tables. */
struct resolve_domains {
	char **names;		/* lower-cased */
	size_t name_count;
	struct maps *tables;	/* the items with a ':', or NULL */
};

struct resolver {
	const struct params *p;
	struct resolve_domains mydestination;
	struct resolve_domains virtual_domains;
	struct resolve_domains relay_domains;
	struct maps *virtual_alias;
	struct maps *virtual_mailbox;
	struct maps *aliases;
	struct maps *transport;
};

/* Parses a domain list; -1 with a reason naming param. */
static int
resolve_domains_open(struct resolve_domains *d, const char *param,
    const char *list, struct sbuf *why)
{
	struct sbuf *tables = sbuf_new();
	char **items;
	size_t count;
	int ret = -1;

	if (maps_split(list, &items, &count, why) < 0) {
		sbuf_free(&tables);
		return -1;
	}
	d->names = xcalloc(count > 0 ? count : 1, sizeof(*d->names));
	for (size_t i = 0; i < count; i++) {
		if (strchr(items[i], ':') != NULL)
			sbuf_printf(tables, "%s%s", sbuf_len(tables) > 0 ?
			    ", " : "", items[i]);
		else
			d->names[d->name_count++] =
			    str_lower(xstrdup(items[i]));
	}
	if (sbuf_len(tables) == 0 || (d->tables = maps_open(sbuf_str(tables),
	    0, why)) != NULL)
		ret = 0;
	else
		sbuf_printf(why, " (in %s)", param);
	maps_split_free(&items, count);
	sbuf_free(&tables);
	return ret;
}

static void
resolve_domains_free(struct resolve_domains *d)
{
	for (size_t i = 0; i < d->name_count; i++)
		free(d->names[i]);
	free(d->names);
	maps_free(&d->tables);
}

/* True when domain (lower-cased) is a strict subdomain of parent. */
static bool
resolve_subdomain(const char *domain, const char *parent)
{
	size_t dl = strlen(domain), pl = strlen(parent);

	return dl > pl && domain[dl - pl - 1] == '.' &&
	    strcmp(domain + dl - pl, parent) == 0;
}

/* Whether the list has domain (lower-cased): 1, 0, or -1 on error. */
static int
resolve_domains_match(struct resolve_domains *d, const char *domain,
    struct sbuf *why)
{
	struct sbuf *value;
	enum dict_status st;

	for (size_t i = 0; i < d->name_count; i++) {
		const char *n = d->names[i];

		if (n[0] == '.' ? resolve_subdomain(domain, n + 1) :
		    strcmp(domain, n) == 0)
			return 1;
	}
	if (d->tables == NULL)
		return 0;
	value = sbuf_new();
	st = maps_find(d->tables, domain, value, why);
	sbuf_free(&value);
	return st == DICT_FOUND ? 1 : st == DICT_NOTFOUND ? 0 : -1;
}

/* Opens one parameter's tables (NULL for an empty list); -1 on error. */
static int
resolve_maps_open(struct maps **m, const char *list, int flags,
    struct sbuf *why)
{
	*m = maps_open(list, flags, why);
	return *m == NULL ? -1 : 0;
}

struct resolver *
resolver_open(const struct params *p, struct sbuf *why)
{
	struct resolver *r = xcalloc(1, sizeof(*r));

	r->p = p;
	if (resolve_domains_open(&r->mydestination, "mydestination",
	    p->mydestination, why) < 0 ||
	    resolve_domains_open(&r->virtual_domains,
	    "virtual_mailbox_domains", p->virtual_mailbox_domains, why) < 0 ||
	    resolve_domains_open(&r->relay_domains, "relay_domains",
	    p->relay_domains, why) < 0 ||
	    resolve_maps_open(&r->virtual_alias, p->virtual_alias_maps, 0,
	    why) < 0 ||
	    resolve_maps_open(&r->virtual_mailbox, p->virtual_mailbox_maps, 0,
	    why) < 0 ||
	    resolve_maps_open(&r->aliases, p->alias_maps, DICT_FLAG_ALIAS,
	    why) < 0 ||
	    resolve_maps_open(&r->transport, p->transport_maps, 0, why) < 0)
		resolver_free(&r);
	return r;
}

bool
resolver_changed(const struct resolver *r)
{
	return maps_changed(r->mydestination.tables) ||
	    maps_changed(r->virtual_domains.tables) ||
	    maps_changed(r->relay_domains.tables) ||
	    maps_changed(r->virtual_alias) ||
	    maps_changed(r->virtual_mailbox) ||
	    maps_changed(r->aliases) || maps_changed(r->transport);
}

void
resolver_free(struct resolver **r)
{
	if (*r == NULL)
		return;
	resolve_domains_free(&(*r)->mydestination);
	resolve_domains_free(&(*r)->virtual_domains);
	resolve_domains_free(&(*r)->relay_domains);
	maps_free(&(*r)->virtual_alias);
	maps_free(&(*r)->virtual_mailbox);
	maps_free(&(*r)->aliases);
	maps_free(&(*r)->transport);
	free(*r);
	*r = NULL;
}

enum resolve_class
resolve_domain_class(struct resolver *r, const char *domain,
    enum resolve_status *status, struct sbuf *why)
{
	struct resolve_domains *lists[] = {
		&r->mydestination, &r->virtual_domains, &r->relay_domains
	};
	static const enum resolve_class classes[] = {
		RESOLVE_LOCAL, RESOLVE_VIRTUAL, RESOLVE_RELAY
	};
	enum resolve_class class = RESOLVE_DEFAULT;
	char *lower;

	*status = RESOLVE_OK;
	if (domain == NULL)
		return RESOLVE_LOCAL;
	lower = str_lower(xstrdup(domain));
	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
		int m = resolve_domains_match(lists[i], lower, why);

		if (m < 0)
			*status = RESOLVE_ERROR;
		if (m != 0) {
			class = classes[i];
			break;
		}
	}
	free(lower);
	return class;
}

void
resolve_split_ext(const char *local, const char *delimiters,
    struct sbuf *user, struct sbuf *ext)
{
	size_t n = local[0] == '\0' ? 0 : 1 + strcspn(local + 1, delimiters);

	if (delimiters[0] == '\0' || local[n] == '\0' ||
	    strchr(delimiters, local[0]) != NULL) {
		sbuf_set(user, local);
		sbuf_reset(ext);
		return;
	}
	sbuf_reset(user);
	sbuf_catn(user, local, n);
	sbuf_set(ext, local + n + 1);
}

/* The tables that which names. */
static struct maps *
resolve_which(struct resolver *r, const char *which)
{
	if (strcmp(which, "virtual_alias_maps") == 0)
		return r->virtual_alias;
	if (strcmp(which, "virtual_mailbox_maps") == 0)
		return r->virtual_mailbox;
	if (strcmp(which, "alias_maps") == 0)
		return r->aliases;
	if (strcmp(which, "transport_maps") == 0)
		return r->transport;
	return NULL;
}

/* One lookup of key: RESOLVE_OK, NOTFOUND or ERROR. */
static enum resolve_status
resolve_find(struct maps *m, const struct sbuf *key, struct sbuf *value,
    struct sbuf *why)
{
	switch (maps_find(m, sbuf_str(key), value, why)) {
	case DICT_FOUND:
		return RESOLVE_OK;
	case DICT_NOTFOUND:
		return RESOLVE_NOTFOUND;
	default:
		return RESOLVE_ERROR;
	}
}

enum resolve_status
resolve_lookup(struct resolver *r, const char *which, const char *address,
    bool with_domain, struct sbuf *value, struct sbuf *why)
{
	struct maps *m = resolve_which(r, which);
	struct sbuf *local, *user, *ext, *key;
	const char *at = addr_split_internal(address);
	enum resolve_status st;

	if (m == NULL) {
		sbuf_setf(why, "no such table list: %s", which);
		return RESOLVE_ERROR;
	}
	local = sbuf_new();
	user = sbuf_new();
	ext = sbuf_new();
	key = sbuf_new();
	if (at != NULL)
		sbuf_catn(local, address, (size_t)(at - address));
	else
		sbuf_set(local, address);
	str_lower(local->data);
	resolve_split_ext(sbuf_str(local), r->p->recipient_delimiter, user,
	    ext);
	/* user+ext[@domain], then user[@domain], then @domain. */
	sbuf_set(key, sbuf_str(local));
	if (with_domain && at != NULL)
		sbuf_cat(key, at);
	str_lower(key->data);
	st = resolve_find(m, key, value, why);
	if (st == RESOLVE_NOTFOUND && sbuf_len(ext) > 0) {
		sbuf_set(key, sbuf_str(user));
		if (with_domain && at != NULL)
			sbuf_cat(key, at);
		str_lower(key->data);
		st = resolve_find(m, key, value, why);
	}
	if (st == RESOLVE_NOTFOUND && with_domain && at != NULL) {
		sbuf_set(key, at);
		str_lower(key->data);
		st = resolve_find(m, key, value, why);
	}
	sbuf_free(&local);
	sbuf_free(&user);
	sbuf_free(&ext);
	sbuf_free(&key);
	return st;
}

/*
 * Turns one item of an alias value into an internal address in out: a
 * bare or bracketed address; "@myorigin" added when it has no domain.
 * -1 with a reason when it is not an address.
 */
static int
resolve_alias_item(struct resolver *r, const char *item, struct sbuf *out,
    struct sbuf *why)
{
	struct addr *a;
	struct sbuf *reason = sbuf_new();
	int ret = -1;

	if (addr_parse(item, strlen(item), ADDR_FLAG_BARE |
	    ADDR_FLAG_LOCAL_ONLY | ADDR_FLAG_SMTPUTF8, &a, reason) < 0) {
		sbuf_setf(why, "virtual alias \"%s\": %s", item,
		    sbuf_str(reason));
	} else {
		sbuf_setf(out, "%s@%s", a->local,
		    a->domain != NULL ? a->domain : r->p->myorigin);
		addr_free(&a);
		ret = 0;
	}
	sbuf_free(&reason);
	return ret;
}

/* Expands address at depth into out; -1 with a reason. */
static int
resolve_expand(struct resolver *r, const char *address, int depth,
    struct strlist *out, struct sbuf *why)
{
	struct sbuf *value, *item;
	enum resolve_status st;
	char *copy, *cursor, *tok;
	int ret = 0;

	if (depth > RESOLVE_ALIAS_DEPTH) {
		sbuf_setf(why, "virtual alias loop or nesting deeper than %d "
		    "at %s", RESOLVE_ALIAS_DEPTH, address);
		return -1;
	}
	value = sbuf_new();
	st = resolve_lookup(r, "virtual_alias_maps", address, true, value,
	    why);
	if (st == RESOLVE_ERROR) {
		sbuf_free(&value);
		return -1;
	}
	if (st == RESOLVE_NOTFOUND) {
		sbuf_free(&value);
		if (out->count >= RESOLVE_ALIAS_MAX) {
			sbuf_setf(why, "virtual alias expansion of more than "
			    "%d addresses", RESOLVE_ALIAS_MAX);
			return -1;
		}
		strlist_add_unique(out, address);
		return 0;
	}
	item = sbuf_new();
	copy = xstrdup(sbuf_str(value));
	cursor = copy;
	while (ret == 0 && (tok = str_token(&cursor, ", \t")) != NULL) {
		if (*tok == '\0')
			continue;
		if (resolve_alias_item(r, tok, item, why) < 0)
			ret = -1;
		else if (strcasecmp(sbuf_str(item), address) == 0)
			strlist_add_unique(out, sbuf_str(item));
		else
			ret = resolve_expand(r, sbuf_str(item), depth + 1, out,
			    why);
	}
	if (ret == 0 && out->count == 0) {
		sbuf_setf(why, "virtual alias of %s holds no address",
		    address);
		ret = -1;
	}
	free(copy);
	sbuf_free(&item);
	sbuf_free(&value);
	return ret;
}

enum resolve_status
resolve_virtual_alias(struct resolver *r, const char *address,
    char ***out_r, size_t *count_r, struct sbuf *why)
{
	struct strlist out = { NULL, 0, 0 };
	struct sbuf *value = sbuf_new();
	enum resolve_status st;

	st = resolve_lookup(r, "virtual_alias_maps", address, true, value,
	    why);
	sbuf_free(&value);
	if (st != RESOLVE_OK)
		return st;
	if (resolve_expand(r, address, 0, &out, why) < 0) {
		strlist_free(&out);
		return RESOLVE_ERROR;
	}
	*out_r = out.items;
	*count_r = out.count;
	return RESOLVE_OK;
}

void
resolve_list_free(char ***list, size_t count)
{
	if (*list == NULL)
		return;
	for (size_t i = 0; i < count; i++)
		free((*list)[i]);
	free(*list);
	*list = NULL;
}

/* Whether a system user has the lower-cased local part of address. */
static enum resolve_status
resolve_local_user(struct resolver *r, const char *address, struct sbuf *why)
{
	const char *at = addr_split_internal(address);
	struct sbuf *local = sbuf_new(), *user = sbuf_new(), *ext = sbuf_new();
	enum resolve_status st = RESOLVE_NOTFOUND;

	sbuf_catn(local, address, at != NULL ? (size_t)(at - address) :
	    strlen(address));
	str_lower(local->data);
	resolve_split_ext(sbuf_str(local), r->p->recipient_delimiter, user,
	    ext);
	if (strcmp(sbuf_str(user), "postmaster") == 0) {
		st = RESOLVE_OK;
	} else {
		errno = 0;
		if (getpwnam(sbuf_str(user)) != NULL)
			st = RESOLVE_OK;
		else if (errno != 0 && errno != ENOENT && errno != ESRCH &&
		    errno != EBADF && errno != EPERM) {
			sbuf_setf(why, "look up user %s: %m", sbuf_str(user));
			st = RESOLVE_ERROR;
		}
	}
	sbuf_free(&local);
	sbuf_free(&user);
	sbuf_free(&ext);
	return st;
}

enum resolve_status
resolve_rcpt_known(struct resolver *r, const char *address, struct sbuf *why)
{
	const char *at = addr_split_internal(address);
	struct sbuf *value = sbuf_new();
	enum resolve_status st;
	enum resolve_class class;

	class = resolve_domain_class(r, at != NULL ? at + 1 : NULL, &st, why);
	if (st == RESOLVE_OK) {
		switch (class) {
		case RESOLVE_LOCAL:
			st = resolve_local_user(r, address, why);
			if (st == RESOLVE_NOTFOUND)
				st = resolve_lookup(r, "alias_maps", address,
				    false, value, why);
			break;
		case RESOLVE_VIRTUAL:
			st = resolve_lookup(r, "virtual_mailbox_maps",
			    address, true, value, why);
			break;
		default:
			st = RESOLVE_OK;
			break;
		}
	}
	sbuf_free(&value);
	return st;
}

/* Looks up the transport_maps entry of address, domain, parents. */
static enum resolve_status
resolve_transport_entry(struct resolver *r, const char *address,
    const char *domain, struct sbuf *value, struct sbuf *why)
{
	struct sbuf *key = sbuf_new();
	enum resolve_status st;

	sbuf_set(key, address);
	str_lower(key->data);
	st = resolve_find(r->transport, key, value, why);
	for (const char *d = domain; st == RESOLVE_NOTFOUND && d != NULL;
	    d = strchr(d + 1, '.')) {
		sbuf_set(key, d);
		str_lower(key->data);
		st = resolve_find(r->transport, key, value, why);
	}
	sbuf_free(&key);
	return st;
}

enum resolve_status
resolve_route(struct resolver *r, const char *address,
    struct sbuf *transport, struct sbuf *nexthop, struct sbuf *why)
{
	const char *at = addr_split_internal(address);
	const char *domain = at != NULL ? at + 1 : NULL;
	struct sbuf *value = sbuf_new();
	enum resolve_status st;
	enum resolve_class class;
	const char *colon;

	class = resolve_domain_class(r, domain, &st, why);
	if (st == RESOLVE_ERROR)
		goto out;
	switch (class) {
	case RESOLVE_LOCAL:
		sbuf_set(transport, r->p->local_transport);
		break;
	case RESOLVE_VIRTUAL:
		sbuf_set(transport, r->p->virtual_transport);
		break;
	case RESOLVE_RELAY:
		sbuf_set(transport, r->p->relay_transport);
		break;
	default:
		sbuf_set(transport, r->p->default_transport);
		break;
	}
	sbuf_set(nexthop, domain != NULL ? domain : r->p->myhostname);
	str_lower(nexthop->data);
	if ((class == RESOLVE_RELAY || class == RESOLVE_DEFAULT) &&
	    r->p->relayhost[0] != '\0')
		sbuf_set(nexthop, r->p->relayhost);
	st = resolve_transport_entry(r, address, domain, value, why);
	if (st == RESOLVE_ERROR)
		goto out;
	if (st == RESOLVE_OK) {
		colon = strchr(sbuf_str(value), ':');
		if (colon == NULL) {
			if (sbuf_len(value) > 0)
				sbuf_set(transport, sbuf_str(value));
		} else {
			if (colon > sbuf_str(value)) {
				sbuf_reset(transport);
				sbuf_catn(transport, sbuf_str(value),
				    (size_t)(colon - sbuf_str(value)));
			}
			if (colon[1] != '\0')
				sbuf_set(nexthop, colon + 1);
		}
	}
	st = RESOLVE_OK;
out:
	sbuf_free(&value);
	return st;
}
