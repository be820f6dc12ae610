/*
 * dict_source - entries of a lookup-table text source
 *
 * Errors: -1 with "FILE, line N: text" in why; nothing logs.
 * Trust: the source may be written by any user who can edit it.
 */
#include "util/dict_source.h"

#include <string.h>

#include "util/dict.h"
#include "util/sbuf.h"
#include "util/strutil.h"
#include "util/textfile.h"

struct dict_source_state {
	const char *name;
	int flags;
	dict_source_fn fn;
	void *ctx;
};

static int
dict_source_line(char *line, int lineno, void *ctx, struct sbuf *why)
{
	struct dict_source_state *st = ctx;
	char *key = line, *value;

	if (st->flags & DICT_FLAG_ALIAS) {
		char *colon = strchr(line, ':');

		if (colon == NULL || colon == line || colon[1] == '\0') {
			sbuf_setf(why, "%s, line %d: expected format: "
			    "key: value", st->name, lineno);
			return -1;
		}
		*colon = '\0';
		key = str_trim(line);
		value = str_trim(colon + 1);
		if (*key == '\0' || *value == '\0') {
			sbuf_setf(why, "%s, line %d: expected format: "
			    "key: value", st->name, lineno);
			return -1;
		}
	} else {
		value = line + strcspn(line, " \t");
		if (*value == '\0') {
			sbuf_setf(why, "%s, line %d: expected format: "
			    "key whitespace value", st->name, lineno);
			return -1;
		}
		*value++ = '\0';
		value = str_trim(value);
	}
	if (!(st->flags & DICT_FLAG_NO_FOLD))
		str_lower(key);
	return st->fn(key, value, st->name, lineno, st->ctx, why);
}

int
dict_source_parse(const char *data, size_t len, const char *name, int flags,
    dict_source_fn fn, void *ctx, struct sbuf *why)
{
	struct dict_source_state st = {name, flags, fn, ctx};

	return textfile_parse(data, len, name, dict_source_line, &st, why);
}

int
dict_source_read(const char *path, int flags, dict_source_fn fn, void *ctx,
    struct sbuf *why)
{
	struct dict_source_state st = {path, flags, fn, ctx};

	return textfile_read(path, dict_source_line, &st, why);
}
