/*
 * dict_inline - inline:{key=value, ...}, a table written in its name
 *
 * Postfix's inline-table syntax. The whole name is wrapped in braces;
 * entries are separated by commas and/or whitespace. An entry is
 * key=value, with optional blanks around the '=' (blanks after it are
 * skipped, so an empty value is written "key=," or "key=}"); the value
 * may contain '=' but no comma, whitespace or brace. An entry whose key
 * or value needs those is wrapped in braces of its own:
 * "{ key = text, with comma }", split at its first '=', key and value
 * trimmed, balanced braces allowed inside.
 *
 * When a key is given twice the first entry wins. Keys are folded to
 * lower case unless DICT_FLAG_NO_FOLD; walks follow the written order.
 * Errors: open returns NULL with a reason quoting the table (missing or
 * unbalanced braces, an entry without '=' or with an empty key, an empty
 * table); lookups cannot fail. Nothing logs.
 * Trust: the name comes from configuration; lookup keys may be hostile.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/dict_drivers.h"
#include "util/htable.h"
#include "util/sbuf.h"
#include "util/strutil.h"
#include "util/xmalloc.h"

#define INLINE_BLANKS	" \t\r\n"
#define INLINE_STOP_KEY	", \t\r\n={}"	/* end of an unbraced key */
#define INLINE_STOP_VAL	", \t\r\n{}"	/* end of an unbraced value */

/* Sets why to the reason, quoting the table; returns -1. */
static int __attribute__((format(printf, 3, 4)))
dict_inline_error(const char *name, struct sbuf *why, const char *fmt, ...)
{
	va_list ap;

	sbuf_setf(why, "table \"inline:%s\": ", name);
	va_start(ap, fmt);
	sbuf_vprintf(why, fmt, ap);
	va_end(ap);
	return -1;
}

/* The '}' that closes the '{' at open; braces are known to balance. */
static const char *
dict_inline_close_brace(const char *open)
{
	int depth = 0;
	const char *p;

	for (p = open; *p != '\0'; p++) {
		if (*p == '{')
			depth++;
		else if (*p == '}' && --depth == 0)
			break;
	}
	return p;
}

/* Trims blanks from both ends of [*start, *end). */
static void
dict_inline_trim(const char **start, const char **end)
{
	while (*start < *end && strchr(INLINE_BLANKS, **start) != NULL)
		(*start)++;
	while (*end > *start && strchr(INLINE_BLANKS, (*end)[-1]) != NULL)
		(*end)--;
}

/* Adds one entry (first wins). */
static void
dict_inline_add(struct htable *table, int flags, const char *key,
    size_t key_len, const char *value, size_t value_len)
{
	char *k = xstrndup(key, key_len);
	char *v = xstrndup(value, value_len);

	if (!(flags & DICT_FLAG_NO_FOLD))
		str_lower(k);
	if (htable_insert(table, k, v) < 0)
		free(v);
	free(k);
}

/* Parses the braced entry whose braces are at open and close. */
static int
dict_inline_braced(const char *name, struct htable *table, int flags,
    const char *open, const char *close, struct sbuf *why)
{
	const char *eq = memchr(open, '=', (size_t)(close - open));
	const char *ks = open + 1, *ke = eq, *vs, *ve = close;

	if (eq == NULL)
		return dict_inline_error(name, why,
		    "missing '=' in entry \"%.*s\"",
		    (int)(close - open + 1), open);
	vs = eq + 1;
	dict_inline_trim(&ks, &ke);
	dict_inline_trim(&vs, &ve);
	if (ks == ke)
		return dict_inline_error(name, why,
		    "empty key in entry \"%.*s\"",
		    (int)(close - open + 1), open);
	dict_inline_add(table, flags, ks, (size_t)(ke - ks), vs,
	    (size_t)(ve - vs));
	return 0;
}

/* Parses the entries between the outer braces at open and close. */
static int
dict_inline_entries(const char *name, struct htable *table, int flags,
    const char *open, const char *close, struct sbuf *why)
{
	const char *p = open + 1, *ks, *ke, *vs, *end;

	for (;;) {
		p += strspn(p, STR_LIST_DELIMS);
		if (p == close)
			return 0;
		if (*p == '{') {
			end = dict_inline_close_brace(p);
			if (dict_inline_braced(name, table, flags, p, end,
			    why) < 0)
				return -1;
			if (end + 1 != close &&
			    strchr(STR_LIST_DELIMS, end[1]) == NULL)
				return dict_inline_error(name, why,
				    "text after entry \"%.*s\"",
				    (int)(end - p + 1), p);
			p = end + 1;
			continue;
		}
		ks = p;
		p += strcspn(p, INLINE_STOP_KEY);
		ke = p;
		p += strspn(p, INLINE_BLANKS);
		if (*p == '{')
			return dict_inline_error(name, why, "'{' inside entry "
			    "\"%.*s\": wrap the whole entry in braces",
			    (int)(p - ks + 1), ks);
		if (*p != '=')
			return dict_inline_error(name, why,
			    "missing '=' after \"%.*s\"", (int)(ke - ks), ks);
		if (ks == ke)
			return dict_inline_error(name, why,
			    "empty key before \"%.*s\"",
			    (int)strcspn(p, INLINE_STOP_VAL), p);
		p++;
		p += strspn(p, INLINE_BLANKS);
		vs = p;
		p += strcspn(p, INLINE_STOP_VAL);
		if (*p == '{')
			return dict_inline_error(name, why, "'{' inside entry "
			    "\"%.*s\": wrap the whole entry in braces",
			    (int)(p - ks + 1), ks);
		dict_inline_add(table, flags, ks, (size_t)(ke - ks), vs,
		    (size_t)(p - vs));
	}
}

/* Parses the whole name into table; 0, or -1 with a reason. */
static int
dict_inline_parse(const char *name, struct htable *table, int flags,
    struct sbuf *why)
{
	const char *open = name + strspn(name, INLINE_BLANKS), *close;
	int depth = 0;

	if (*open != '{')
		return dict_inline_error(name, why,
		    "expected {key=value, ...}");
	for (const char *p = open; *p != '\0'; p++) {
		if (*p == '{')
			depth++;
		else if (*p == '}' && --depth < 0)
			return dict_inline_error(name, why,
			    "unbalanced braces: unexpected '}'");
	}
	if (depth > 0)
		return dict_inline_error(name, why,
		    "unbalanced braces: missing '}'");
	close = dict_inline_close_brace(open);
	if (close[1 + strspn(close + 1, INLINE_BLANKS)] != '\0')
		return dict_inline_error(name, why,
		    "text after the closing '}'");
	if (dict_inline_entries(name, table, flags, open, close, why) < 0)
		return -1;
	if (htable_size(table) == 0)
		return dict_inline_error(name, why, "empty table");
	return 0;
}

struct dict *
dict_inline_open(const char *type, const char *name, int flags,
    struct sbuf *why)
{
	struct htable *table = htable_new();

	if (dict_inline_parse(name, table, flags, why) < 0) {
		htable_free(&table, free);
		return NULL;
	}
	return dict_mem_open(type, name, flags, table);
}
