/*
 * local_item - the destinations an alias, a .forward or an include lists
 *
 * Errors: -1 with a reason quoting the offending item; nothing logs.
 * Trust: alias values come from the administrator, but .forward and
 * include files from users: every item is bounded and checked, and
 * addresses go through the RFC 5321 parser.
 */
#include "local_item.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mail/addr.h"
#include "util/sbuf.h"
#include "util/strutil.h"
#include "util/xmalloc.h"

#define LOCAL_INCLUDE_PREFIX	":include:"

const char *
local_item_kind_name(enum local_item_kind kind)
{
	switch (kind) {
	case LOCAL_ITEM_ADDRESS:
		return "address";
	case LOCAL_ITEM_SELF:
		return "own mailbox";
	case LOCAL_ITEM_COMMAND:
		return "command";
	case LOCAL_ITEM_FILE:
		return "file";
	case LOCAL_ITEM_INCLUDE:
		return "include";
	}
	return "item";
}

void
local_items_free(struct local_items *list)
{
	for (size_t i = 0; i < list->count; i++)
		free(list->items[i].value);
	free(list->items);
	list->items = NULL;
	list->count = 0;
}

static void
local_items_add(struct local_items *list, enum local_item_kind kind,
    char *value)
{
	list->items = xreallocarray(list->items, list->count + 1,
	    sizeof(*list->items));
	list->items[list->count].kind = kind;
	list->items[list->count].value = value;
	list->count++;
}

/* Skips blanks (spaces and tabs). */
static const char *
local_skip_blanks(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/* The address item text in internal form, in out; 0 or -1 with why. */
static int
local_item_address(const char *text, struct sbuf *out, struct sbuf *why)
{
	struct addr *a = NULL;
	struct sbuf *reason = sbuf_new();
	int ret = -1;

	if (addr_parse(text, strlen(text), ADDR_FLAG_BARE |
	    ADDR_FLAG_LOCAL_ONLY | ADDR_FLAG_SMTPUTF8, &a, reason) < 0) {
		sbuf_setf(why, "bad address \"%s\": %s", text,
		    sbuf_str(reason));
	} else if (*a->local == '\0') {
		sbuf_setf(why, "bad address \"%s\": empty", text);
	} else {
		sbuf_set(out, a->local);
		if (a->domain != NULL)
			sbuf_printf(out, "@%s", a->domain);
		ret = 0;
	}
	addr_free(&a);
	sbuf_free(&reason);
	return ret;
}

/* Classifies one unquoted item and adds it to list; 0 or -1 with why. */
static int
local_item_classify(const char *text, struct local_items *list,
    struct sbuf *why)
{
	struct sbuf *addr;
	const char *rest;
	char *value;

	if (*text == '|') {
		rest = text + 1;
		while (*rest == ' ' || *rest == '\t')
			rest++;
		if (*rest == '\0') {
			sbuf_set(why, "empty command after \"|\"");
			return -1;
		}
		local_items_add(list, LOCAL_ITEM_COMMAND, xstrdup(rest));
		return 0;
	}
	if (strncasecmp(text, LOCAL_INCLUDE_PREFIX,
	    strlen(LOCAL_INCLUDE_PREFIX)) == 0) {
		rest = text + strlen(LOCAL_INCLUDE_PREFIX);
		while (*rest == ' ' || *rest == '\t')
			rest++;
		if (*rest != '/') {
			sbuf_setf(why, "\"%s\": an include file needs an "
			    "absolute path", text);
			return -1;
		}
		local_items_add(list, LOCAL_ITEM_INCLUDE, xstrdup(rest));
		return 0;
	}
	if (*text == '/') {
		local_items_add(list, LOCAL_ITEM_FILE, xstrdup(text));
		return 0;
	}
	if (*text == '\\') {
		if (text[1] == '\0' || strpbrk(text + 1, " \t@") != NULL) {
			sbuf_setf(why, "\"%s\": a user name must follow "
			    "\"\\\"", text);
			return -1;
		}
		value = str_lower(xstrdup(text + 1));
		local_items_add(list, LOCAL_ITEM_SELF, value);
		return 0;
	}
	addr = sbuf_new();
	if (local_item_address(text, addr, why) < 0) {
		sbuf_free(&addr);
		return -1;
	}
	local_items_add(list, LOCAL_ITEM_ADDRESS, sbuf_steal(addr));
	sbuf_free(&addr);
	return 0;
}

/*
 * Where the quoted string that starts at p (at its '"') ends: the
 * closing quote, or NULL when there is none before end.
 */
static const char *
local_quote_end(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '\\' && p + 1 < end)
			p++;
		else if (*p == '"')
			return p;
	}
	return NULL;
}

/*
 * Reads one item starting at p (not at a blank or comma) up to the next
 * comma outside quotes, or end, into item; an item that is one quoted
 * string loses its quotes and escapes, other quotes (an address's
 * quoted local part) are kept for the address parser. Returns where the
 * next item may start, or NULL with why set.
 */
static const char *
local_item_scan(const char *p, const char *end, struct sbuf *item,
    struct sbuf *why)
{
	const char *start = p, *stop, *q;

	sbuf_reset(item);
	while (p < end && *p != ',') {
		if (*p == '"') {
			if ((q = local_quote_end(p, end)) == NULL) {
				sbuf_set(why, "unbalanced quote");
				return NULL;
			}
			p = q;
		}
		p++;
	}
	stop = p;
	while (stop > start && (stop[-1] == ' ' || stop[-1] == '\t'))
		stop--;
	if (*start == '"' && local_quote_end(start, stop) == stop - 1) {
		for (q = start + 1; q < stop - 1; q++) {
			if (*q == '\\' && q + 1 < stop - 1)
				q++;
			sbuf_catc(item, *q);
		}
	} else {
		sbuf_catn(item, start, (size_t)(stop - start));
	}
	return p;
}

/* Parses the items of one line [p, end) into list; 0 or -1 with why. */
static int
local_items_line(const char *p, const char *end, struct local_items *list,
    struct sbuf *item, struct sbuf *why)
{
	p = local_skip_blanks(p, end);
	if (p < end && *p == '#')
		return 0;
	while (p < end) {
		p = local_skip_blanks(p, end);
		if (p < end && *p == ',') {
			p++;
			continue;
		}
		if (p >= end)
			break;
		if ((p = local_item_scan(p, end, item, why)) == NULL)
			return -1;
		if (sbuf_len(item) > LOCAL_ITEM_LEN_MAX) {
			sbuf_setf(why, "an item longer than %d octets",
			    LOCAL_ITEM_LEN_MAX);
			return -1;
		}
		if (sbuf_len(item) == 0)
			continue;
		if (list->count >= LOCAL_ITEMS_MAX) {
			sbuf_setf(why, "more than %d items",
			    LOCAL_ITEMS_MAX);
			return -1;
		}
		if (local_item_classify(sbuf_str(item), list, why) < 0)
			return -1;
	}
	return 0;
}

int
local_items_parse(const char *text, struct local_items *out,
    struct sbuf *why)
{
	struct local_items add = { NULL, 0 };
	struct sbuf *item = sbuf_new();
	const char *p = text, *nl, *end;
	int ret = 0;

	for (const unsigned char *c = (const unsigned char *)text; *c != '\0';
	    c++) {
		if ((*c < 0x20 && *c != '\t' && *c != '\n' && *c != '\r') ||
		    *c == 0x7f) {
			sbuf_set(why, "a control character in the list");
			sbuf_free(&item);
			return -1;
		}
	}
	while (ret == 0 && *p != '\0') {
		nl = strchr(p, '\n');
		end = nl != NULL ? nl : p + strlen(p);
		if (end > p && end[-1] == '\r')
			end--;
		ret = local_items_line(p, end, &add, item, why);
		p = nl != NULL ? nl + 1 : p + strlen(p);
	}
	sbuf_free(&item);
	if (ret < 0) {
		local_items_free(&add);
		return -1;
	}
	for (size_t i = 0; i < add.count; i++)
		local_items_add(out, add.items[i].kind, add.items[i].value);
	free(add.items);
	return 0;
}
