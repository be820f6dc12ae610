/*
 * main_cf - main.cf: parameter settings, $name expansion, in-place edits
 *
 * Settings are kept sorted by name (one per name, the last one read) and
 * expanded on demand; each name's expanded value is computed once and
 * cached, so a chain of references costs linear time, and every expansion
 * is bounded in depth (MAIN_CF_DEPTH_MAX), in length (MAIN_CF_VALUE_MAX)
 * and in total (MAIN_CF_EXPAND_MAX).
 * Errors: NULL or -1 with "FILE, line N: ..." in why (an enum status for
 * main_cf_edit()); warnings about unknown names are handed to the caller
 * as text. Nothing here logs.
 * Trust: main.cf is written by the administrator but read as if hostile:
 * NUL bytes, over-long lines, control characters, bad names, loops and
 * exponential expansions are refused. The file is replaced only whole,
 * through safe_file_write().
 */
#include "mail/main_cf.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mail/params.h"
#include "util/safe_file.h"
#include "util/sbuf.h"
#include "util/strutil.h"
#include "util/textfile.h"
#include "util/xmalloc.h"

#define MAIN_CF_FILE	"main.cf"
#define MAIN_CF_MODE	0644	/* of a main.cf main_cf_edit() creates */
#define NO_SLOT		SIZE_MAX

enum slot_state {
	SLOT_NEW,		/* not expanded yet */
	SLOT_BUSY,		/* being expanded; met again: a loop */
	SLOT_DONE		/* value holds the expansion */
};

/* The expansion cache: one slot per setting, then one per parameter. */
struct main_cf_slot {
	enum slot_state state;
	char *value;
};

struct main_cf {
	char *path;
	char *dir;			/* config_directory, or NULL */
	struct main_cf_entry *entries;	/* sorted by name, unique */
	size_t count;
	struct main_cf_slot *slots;	/* count + PARAM_COUNT; NULL: none */
	size_t cached;			/* bytes of values in slots */
};

/* One expansion in progress. */
struct expand {
	struct main_cf *cf;
	size_t chain[MAIN_CF_DEPTH_MAX];	/* slots being expanded */
	int chain_len;
	int depth;			/* chain plus nested ${name?text} */
};

static bool
main_cf_name_char(int c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* True when s[0..len) is a valid parameter name. */
static bool
main_cf_name_ok(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!main_cf_name_char(s[i]))
			return false;
	return true;
}

/* strcmp() of a[0..alen) against the C string b. */
static int
main_cf_name_cmp(const char *a, size_t alen, const char *b)
{
	int r = strncmp(a, b, alen);

	if (r != 0)
		return r;
	return b[alen] == '\0' ? 0 : -1;
}

/* Index of the setting named name[0..len), or NO_SLOT. */
static size_t
main_cf_find(const struct main_cf *cf, const char *name, size_t len)
{
	size_t lo = 0, hi = cf->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = main_cf_name_cmp(name, len, cf->entries[mid].name);

		if (r == 0)
			return mid;
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NO_SLOT;
}

/* The cache slot that holds name's value, or NO_SLOT when undefined. */
static size_t
main_cf_slot_of(const struct main_cf *cf, const char *name, size_t len)
{
	size_t i = main_cf_find(cf, name, len);
	const struct param_def *def;

	if (i != NO_SLOT)
		return i;
	def = params_find_len(name, len);
	return def == NULL ? NO_SLOT : cf->count + (size_t)(def - params_table);
}

static const char *
main_cf_slot_name(const struct main_cf *cf, size_t slot)
{
	if (slot < cf->count)
		return cf->entries[slot].name;
	return params_table[slot - cf->count].name;
}

/* Empties the expansion cache. */
static void
main_cf_forget(struct main_cf *cf)
{
	if (cf->slots != NULL) {
		for (size_t i = 0; i < cf->count + PARAM_COUNT; i++)
			free(cf->slots[i].value);
		xfree(&cf->slots);
	}
	cf->cached = 0;
}

void
main_cf_where(const struct main_cf *cf, const char *name, struct sbuf *out)
{
	const struct main_cf_entry *e = main_cf_lookup(cf, name);

	if (e != NULL && e->lineno > 0)
		sbuf_printf(out, "%s, line %d: ", cf->path, e->lineno);
}

/* Starts why with the location of slot: "FILE, line N: parameter X: ". */
static void
expand_where(const struct main_cf *cf, size_t slot, struct sbuf *why)
{
	sbuf_reset(why);
	if (slot == NO_SLOT)
		return;
	if (slot < cf->count && cf->entries[slot].lineno > 0)
		sbuf_printf(why, "%s, line %d: ", cf->path,
		    cf->entries[slot].lineno);
	sbuf_printf(why, "parameter %s: ", main_cf_slot_name(cf, slot));
}

/* Sets why to a reason about the text of slot; returns -1. */
static int
expand_error(const struct expand *x, size_t slot, struct sbuf *why,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
expand_error(const struct expand *x, size_t slot, struct sbuf *why,
    const char *fmt, ...)
{
	va_list ap;

	expand_where(x->cf, slot, why);
	va_start(ap, fmt);
	sbuf_vprintf(why, fmt, ap);
	va_end(ap);
	return -1;
}

/* Reports the loop that meeting slot again closes. */
static int
expand_loop(const struct expand *x, size_t slot, struct sbuf *why)
{
	const struct main_cf *cf = x->cf;
	int first = x->chain_len - 1, where;

	while (first > 0 && x->chain[first] != slot)
		first--;
	/* Blame the innermost setting of the loop that main.cf holds. */
	where = x->chain_len - 1;
	while (where > first && !(x->chain[where] < cf->count &&
	    cf->entries[x->chain[where]].lineno > 0))
		where--;
	expand_where(cf, x->chain[where], why);
	sbuf_cat(why, "expansion loop:");
	for (int i = first; i < x->chain_len; i++)
		sbuf_printf(why, " $%s ->", main_cf_slot_name(cf,
		    x->chain[i]));
	sbuf_printf(why, " $%s", main_cf_slot_name(cf, slot));
	return -1;
}

static int expand_slot(struct expand *x, size_t slot, struct sbuf *why);

/* Appends len bytes to out; -1 with a reason past MAIN_CF_VALUE_MAX. */
static int
expand_put(const struct expand *x, size_t owner, struct sbuf *out,
    const char *s, size_t len, struct sbuf *why)
{
	if (sbuf_catn(out, s, len) < 0)
		return expand_error(x, owner, why, "expanded value longer "
		    "than %d bytes", MAIN_CF_VALUE_MAX);
	return 0;
}

/*
 * Finds the bracket that closes the one before text (open and close of the
 * same kind nest); NULL when there is none.
 */
static const char *
expand_match(const char *text, const char *end, char open, char close)
{
	int depth = 1;

	for (const char *p = text; p < end; p++) {
		if (*p == open)
			depth++;
		else if (*p == close && --depth == 0)
			return p;
	}
	return NULL;
}

/*
 * Expands text[0..len) into out; owner is the slot whose value text is
 * (for error locations), NO_SLOT for free text.
 */
static int
expand_text(struct expand *x, const char *text, size_t len, size_t owner,
    struct sbuf *out, struct sbuf *why)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *dollar = memchr(p, '$', (size_t)(end - p));
		const char *name, *value;
		char open, close, op;
		size_t nlen, slot;

		if (dollar == NULL)
			return expand_put(x, owner, out, p,
			    (size_t)(end - p), why);
		if (expand_put(x, owner, out, p, (size_t)(dollar - p),
		    why) < 0)
			return -1;
		p = dollar + 1;
		if (p < end && *p == '$') {
			if (expand_put(x, owner, out, "$", 1, why) < 0)
				return -1;
			p++;
			continue;
		}
		open = p < end && (*p == '{' || *p == '(') ? *p : '\0';
		close = open == '{' ? '}' : ')';
		if (open != '\0')
			p++;
		for (name = p; p < end && main_cf_name_char(*p); p++)
			;
		nlen = (size_t)(p - name);
		if (nlen == 0 && open == '\0')
			return expand_error(x, owner, why, "\"$\" is not "
			    "followed by a name, {, ( or $ "
			    "(write $$ for a literal $)");
		if (nlen == 0)
			return expand_error(x, owner, why,
			    "missing name after \"$%c\"", open);
		slot = main_cf_slot_of(x->cf, name, nlen);
		value = "";
		if (slot != NO_SLOT) {
			if (expand_slot(x, slot, why) < 0)
				return -1;
			value = x->cf->slots[slot].value;
		}
		if (open == '\0')
			op = close = '\0';
		else if (p == end)
			return expand_error(x, owner, why, "missing '%c' "
			    "after \"$%c%.*s\"", close, open, (int)nlen, name);
		else
			op = *p++;
		if (op == close) {
			if (expand_put(x, owner, out, value, strlen(value),
			    why) < 0)
				return -1;
		} else if (op == '?' || op == ':') {
			const char *stop = expand_match(p, end, open, close);
			bool want = (op == '?') == (*value != '\0');

			if (stop == NULL)
				return expand_error(x, owner, why, "missing "
				    "'%c' after \"$%c%.*s%c\"", close, open,
				    (int)nlen, name, op);
			if (want) {
				if (x->depth >= MAIN_CF_DEPTH_MAX)
					return expand_error(x, owner, why,
					    "expansion nested deeper than %d "
					    "levels", MAIN_CF_DEPTH_MAX);
				x->depth++;
				if (expand_text(x, p, (size_t)(stop - p),
				    owner, out, why) < 0)
					return -1;
				x->depth--;
			}
			p = stop + 1;
		} else {
			return expand_error(x, owner, why, "bad character "
			    "after \"$%c%.*s\": expected '%c', '?' or ':'",
			    open, (int)nlen, name, close);
		}
	}
	return 0;
}

/* Computes the value of a parameter that main.cf does not set. */
static int
expand_default(struct expand *x, size_t slot, struct sbuf *out,
    struct sbuf *why)
{
	struct main_cf *cf = x->cf;
	size_t id = slot - cf->count, host;
	const struct param_def *def = &params_table[id];

	if (id == PARAM_ID_config_directory && cf->dir != NULL)
		return expand_put(x, slot, out, cf->dir, strlen(cf->dir), why);
	if (def->def != NULL)
		return expand_text(x, def->def, strlen(def->def), slot, out,
		    why);
	if (id == PARAM_ID_myhostname) {
		params_compute(def, NULL, out);
		return 0;
	}
	/* The other computed defaults derive from myhostname. */
	host = main_cf_slot_of(cf, params_table[PARAM_ID_myhostname].name,
	    strlen(params_table[PARAM_ID_myhostname].name));
	if (expand_slot(x, host, why) < 0)
		return -1;
	params_compute(def, cf->slots[host].value, out);
	return 0;
}

/* Makes sure slot holds its expanded value. */
static int
expand_slot(struct expand *x, size_t slot, struct sbuf *why)
{
	struct main_cf *cf = x->cf;
	struct main_cf_slot *s = &cf->slots[slot];
	struct sbuf *out;
	int ret;

	if (s->state == SLOT_DONE)
		return 0;
	if (s->state == SLOT_BUSY)
		return expand_loop(x, slot, why);
	if (x->depth >= MAIN_CF_DEPTH_MAX)
		return expand_error(x, x->chain_len > 0 ?
		    x->chain[x->chain_len - 1] : NO_SLOT, why,
		    "expansion nested deeper than %d levels",
		    MAIN_CF_DEPTH_MAX);
	s->state = SLOT_BUSY;
	x->chain[x->chain_len++] = slot;
	x->depth++;
	out = sbuf_new();
	sbuf_set_limit(out, MAIN_CF_VALUE_MAX);
	if (slot < cf->count)
		ret = expand_text(x, cf->entries[slot].value,
		    strlen(cf->entries[slot].value), slot, out, why);
	else
		ret = expand_default(x, slot, out, why);
	x->depth--;
	x->chain_len--;
	if (ret == 0 && sbuf_len(out) > MAIN_CF_EXPAND_MAX - cf->cached)
		ret = expand_error(x, slot, why, "expanded values longer "
		    "than %d bytes in all", MAIN_CF_EXPAND_MAX);
	if (ret == 0) {
		cf->cached += sbuf_len(out);
		s->value = sbuf_steal(out);
		s->state = SLOT_DONE;
	}
	sbuf_free(&out);
	return ret;
}

/* Allocates the cache when needed. */
static void
main_cf_slots(struct main_cf *cf)
{
	if (cf->slots == NULL)
		cf->slots = xcalloc(cf->count + PARAM_COUNT,
		    sizeof(cf->slots[0]));
}

/* Expands slot; on failure the cache is emptied. */
static int
main_cf_expand_slot(struct main_cf *cf, size_t slot, struct sbuf *why)
{
	struct expand x = {.cf = cf};

	main_cf_slots(cf);
	if (expand_slot(&x, slot, why) < 0) {
		main_cf_forget(cf);
		return -1;
	}
	return 0;
}

/* Appends an expanded value to the caller's buffer, which may be capped. */
static int
main_cf_put(struct sbuf *out, const char *s, size_t len, struct sbuf *why)
{
	if (sbuf_catn(out, s, len) < 0) {
		sbuf_setf(why, "expanded value of %zu bytes does not fit", len);
		return -1;
	}
	return 0;
}

int
main_cf_value(struct main_cf *cf, const char *name, struct sbuf *out,
    struct sbuf *why)
{
	size_t slot = main_cf_slot_of(cf, name, strlen(name));

	if (slot == NO_SLOT)
		return 0;
	if (main_cf_expand_slot(cf, slot, why) < 0)
		return -1;
	return main_cf_put(out, cf->slots[slot].value,
	    strlen(cf->slots[slot].value), why);
}

int
main_cf_expand(struct main_cf *cf, const char *text, struct sbuf *out,
    struct sbuf *why)
{
	struct expand x = {.cf = cf};
	struct sbuf *value = sbuf_new();
	int ret;

	main_cf_slots(cf);
	sbuf_set_limit(value, MAIN_CF_VALUE_MAX);
	ret = expand_text(&x, text, strlen(text), NO_SLOT, value, why);
	if (ret < 0)
		main_cf_forget(cf);
	else
		ret = main_cf_put(out, sbuf_str(value), sbuf_len(value), why);
	sbuf_free(&value);
	return ret;
}

int
main_cf_raw(struct main_cf *cf, const char *name, const char **value_r,
    struct sbuf *why)
{
	const struct main_cf_entry *e = main_cf_lookup(cf, name);
	const struct param_def *def;
	size_t slot;

	*value_r = NULL;
	if (e != NULL) {
		*value_r = e->value;
		return 0;
	}
	if ((def = params_find(name)) == NULL)
		return 0;
	if (def->def != NULL && !(def == &params_table[
	    PARAM_ID_config_directory] && cf->dir != NULL)) {
		*value_r = def->def;
		return 0;
	}
	slot = cf->count + (size_t)(def - params_table);
	if (main_cf_expand_slot(cf, slot, why) < 0)
		return -1;
	*value_r = cf->slots[slot].value;
	return 0;
}

/*
 * Calls fn for each name that text refers to ($name, ${name...},
 * $(name...)), including those inside conditional text.
 */
static void
main_cf_scan_refs(const char *text, void (*fn)(const char *, size_t, void *),
    void *ctx)
{
	const char *p = text;

	while ((p = strchr(p, '$')) != NULL) {
		const char *name;

		p++;
		if (*p == '$') {
			p++;
			continue;
		}
		if (*p == '{' || *p == '(')
			p++;
		for (name = p; main_cf_name_char(*p); p++)
			;
		if (p > name)
			fn(name, (size_t)(p - name), ctx);
	}
}

struct ref_marks {
	const struct main_cf *cf;
	size_t self;		/* setting whose value is being scanned */
	bool *marked;		/* per setting */
};

static void
main_cf_mark(const char *name, size_t len, void *ctx)
{
	struct ref_marks *m = ctx;
	size_t i = main_cf_find(m->cf, name, len);

	if (i != NO_SLOT && i != m->self)
		m->marked[i] = true;
}

/* Returns, per setting, whether another setting or also refers to it. */
static bool *
main_cf_marks(const struct main_cf *cf, const char *also)
{
	struct ref_marks m = {cf, 0, xcalloc(cf->count + 1, sizeof(bool))};

	for (m.self = 0; m.self < cf->count; m.self++)
		main_cf_scan_refs(cf->entries[m.self].value, main_cf_mark, &m);
	m.self = NO_SLOT;
	if (also != NULL)
		main_cf_scan_refs(also, main_cf_mark, &m);
	return m.marked;
}

bool
main_cf_referenced(const struct main_cf *cf, const char *name)
{
	size_t i = main_cf_find(cf, name, strlen(name));
	bool *marks, ret;

	if (i == NO_SLOT)
		return false;
	marks = main_cf_marks(cf, NULL);
	ret = marks[i];
	free(marks);
	return ret;
}

void
main_cf_unknown(const struct main_cf *cf, const char *also,
    struct sbuf *warnings)
{
	bool *marks = main_cf_marks(cf, also);

	for (size_t i = 0; i < cf->count; i++) {
		const struct main_cf_entry *e = &cf->entries[i];

		if (marks[i] || params_find(e->name) != NULL)
			continue;
		main_cf_where(cf, e->name, warnings);
		sbuf_printf(warnings, "unknown parameter %s\n", e->name);
	}
	free(marks);
}

/* Parsing. */

struct parse_state {
	const char *name;		/* file name for messages */
	struct main_cf_entry *entries;
	size_t count, cap;
};

static int
main_cf_parse_line(char *line, int lineno, void *ctx, struct sbuf *why)
{
	struct parse_state *st = ctx;
	char *eq = strchr(line, '='), *name, *value;
	struct main_cf_entry *e;

	if (eq == NULL) {
		sbuf_setf(why, "%s, line %d: missing '=' in \"name = value\"",
		    st->name, lineno);
		return -1;
	}
	*eq = '\0';
	name = str_trim(line);
	value = str_trim(eq + 1);
	if (!main_cf_name_ok(name, strlen(name))) {
		sbuf_setf(why, "%s, line %d: bad parameter name \"%.64s\": "
		    "expected letters, digits and _", st->name, lineno, name);
		return -1;
	}
	if (params_has_ctl(value)) {
		sbuf_setf(why, "%s, line %d: parameter %s: control character "
		    "in value", st->name, lineno, name);
		return -1;
	}
	if (st->count == st->cap) {
		st->cap = st->cap ? st->cap * 2 : 32;
		st->entries = xreallocarray(st->entries, st->cap,
		    sizeof(st->entries[0]));
	}
	e = &st->entries[st->count++];
	e->name = xstrdup(name);
	e->value = xstrdup(value);
	e->lineno = lineno;
	return 0;
}

static int
main_cf_entry_cmp(const void *a, const void *b)
{
	const struct main_cf_entry *x = a, *y = b;
	int r = strcmp(x->name, y->name);

	if (r != 0)
		return r;
	return (x->lineno > y->lineno) - (x->lineno < y->lineno);
}

static void
main_cf_entries_free(struct main_cf_entry *entries, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(entries[i].name);
		free(entries[i].value);
	}
	free(entries);
}

/* Parses text into a main_cf whose config_directory is dir (or NULL). */
static struct main_cf *
main_cf_parse_dir(const char *data, size_t len, const char *name,
    const char *dir, struct sbuf *why)
{
	struct parse_state st = {.name = name};
	struct main_cf *cf;
	size_t n = 0;

	if (textfile_parse(data, len, name, main_cf_parse_line, &st,
	    why) < 0) {
		main_cf_entries_free(st.entries, st.count);
		return NULL;
	}
	/* Sort by name, then line, and keep the last setting of a name. */
	if (st.count > 0)
		qsort(st.entries, st.count, sizeof(st.entries[0]),
		    main_cf_entry_cmp);
	for (size_t i = 0; i < st.count; i++) {
		if (i + 1 < st.count && strcmp(st.entries[i].name,
		    st.entries[i + 1].name) == 0) {
			free(st.entries[i].name);
			free(st.entries[i].value);
			continue;
		}
		st.entries[n++] = st.entries[i];
	}
	cf = xcalloc(1, sizeof(*cf));
	cf->path = xstrdup(name);
	cf->dir = dir ? xstrdup(dir) : NULL;
	cf->entries = st.entries;
	cf->count = n;
	return cf;
}

struct main_cf *
main_cf_parse(const char *data, size_t len, const char *name,
    struct sbuf *why)
{
	return main_cf_parse_dir(data, len, name, NULL, why);
}

/* Returns dir/main.cf. */
static char *
main_cf_file(const char *dir)
{
	struct sbuf *path = sbuf_new();
	char *s;

	sbuf_printf(path, "%s/%s", dir, MAIN_CF_FILE);
	s = sbuf_steal(path);
	sbuf_free(&path);
	return s;
}

struct main_cf *
main_cf_load(const char *config_dir, struct sbuf *why)
{
	char *path = main_cf_file(config_dir);
	struct sbuf *data = sbuf_new();
	struct main_cf *cf = NULL;

	if (safe_file_read(path, TEXTFILE_SIZE_MAX, data, why) < 0) {
		if (errno == ENOENT)
			cf = main_cf_parse_dir("", 0, path, config_dir, why);
	} else {
		cf = main_cf_parse_dir(sbuf_str(data), sbuf_len(data), path,
		    config_dir, why);
	}
	sbuf_free(&data);
	free(path);
	return cf;
}

void
main_cf_free(struct main_cf **cfp)
{
	struct main_cf *cf = *cfp;

	if (cf == NULL)
		return;
	main_cf_forget(cf);
	main_cf_entries_free(cf->entries, cf->count);
	free(cf->path);
	free(cf->dir);
	xfree(cfp);
}

const char *
main_cf_path(const struct main_cf *cf)
{
	return cf->path;
}

size_t
main_cf_count(const struct main_cf *cf)
{
	return cf->count;
}

const struct main_cf_entry *
main_cf_entry_at(const struct main_cf *cf, size_t i)
{
	return i < cf->count ? &cf->entries[i] : NULL;
}

const struct main_cf_entry *
main_cf_lookup(const struct main_cf *cf, const char *name)
{
	size_t i = main_cf_find(cf, name, strlen(name));

	return i == NO_SLOT ? NULL : &cf->entries[i];
}

int
main_cf_set(struct main_cf *cf, const char *name, const char *value,
    struct sbuf *why)
{
	size_t i = main_cf_find(cf, name, strlen(name));

	if (!main_cf_name_ok(name, strlen(name))) {
		sbuf_setf(why, "bad parameter name \"%.64s\": expected "
		    "letters, digits and _", name);
		return -1;
	}
	if (params_has_ctl(value)) {
		sbuf_setf(why, "parameter %s: control character in value",
		    name);
		return -1;
	}
	main_cf_forget(cf);
	if (i != NO_SLOT) {
		free(cf->entries[i].value);
		cf->entries[i].value = xstrdup(value);
		cf->entries[i].lineno = 0;
		return 0;
	}
	for (i = 0; i < cf->count && strcmp(cf->entries[i].name, name) < 0;
	    i++)
		;
	cf->entries = xreallocarray(cf->entries, cf->count + 1,
	    sizeof(cf->entries[0]));
	memmove(&cf->entries[i + 1], &cf->entries[i],
	    (cf->count - i) * sizeof(cf->entries[0]));
	cf->entries[i].name = xstrdup(name);
	cf->entries[i].value = xstrdup(value);
	cf->entries[i].lineno = 0;
	cf->count++;
	return 0;
}

/* Editing. */

enum line_kind {
	LINE_BLANK,		/* ends a logical line */
	LINE_COMMENT,		/* skipped, even inside a logical line */
	LINE_START,		/* starts a logical line */
	LINE_CONT		/* continues one */
};

struct phys_line {
	const char *text;
	size_t len;		/* without the newline */
	bool newline;		/* ended by '\n' */
	enum line_kind kind;
	size_t logical;		/* START, CONT: its logical line */
};

struct logical_line {
	char *name;		/* the name it sets; NULL if malformed */
	const struct main_cf_edit *edit;	/* edit applied, if any */
	bool drop;		/* removed */
};

/* Classifies one physical line as textfile.c does. */
static enum line_kind
main_cf_kind(const char *p, size_t len, bool in_logical)
{
	size_t i = 0;

	while (len > 0 && isspace((unsigned char)p[len - 1]))
		len--;
	while (i < len && isspace((unsigned char)p[i]))
		i++;
	if (i == len)
		return LINE_BLANK;
	if (p[i] == '#')
		return LINE_COMMENT;
	return i > 0 && in_logical ? LINE_CONT : LINE_START;
}

/* The name that a logical line's text sets, or NULL. */
static char *
main_cf_line_name(const char *text)
{
	const char *eq = strchr(text, '='), *start = text, *end;

	if (eq == NULL)
		return NULL;
	while (start < eq && isspace((unsigned char)*start))
		start++;
	for (end = eq; end > start && isspace((unsigned char)end[-1]); end--)
		;
	if (!main_cf_name_ok(start, (size_t)(end - start)))
		return NULL;
	return xstrndup(start, (size_t)(end - start));
}

/* Splits data into physical lines and names the logical lines. */
static void
main_cf_split(const char *data, size_t len, struct phys_line **lines_r,
    size_t *nlines_r, struct logical_line **logical_r, size_t *nlogical_r)
{
	const char *p = data, *end = data + len;
	struct phys_line *lines = NULL;
	struct logical_line *logical = NULL;
	size_t nlines = 0, nlogical = 0, lines_cap = 0, logical_cap = 0;
	struct sbuf *text = sbuf_new();
	bool in_logical = false;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p), skip;
		struct phys_line *l;

		if (nlines == lines_cap) {
			lines_cap = lines_cap ? lines_cap * 2 : 64;
			lines = xreallocarray(lines, lines_cap, sizeof(*lines));
		}
		l = &lines[nlines++];
		l->text = p;
		l->len = n;
		l->newline = nl != NULL;
		l->kind = main_cf_kind(p, n, in_logical);
		p += n + (nl != NULL);
		if (l->kind == LINE_BLANK) {
			in_logical = false;
			continue;
		}
		if (l->kind == LINE_COMMENT)
			continue;
		/* Join as textfile.c does: trimmed, with one space. */
		while (n > 0 && isspace((unsigned char)l->text[n - 1]))
			n--;
		skip = 0;
		while (skip < n && isspace((unsigned char)l->text[skip]))
			skip++;
		if (l->kind == LINE_START) {
			if (nlogical > 0)
				logical[nlogical - 1].name =
				    main_cf_line_name(sbuf_str(text));
			if (nlogical == logical_cap) {
				logical_cap = logical_cap ? logical_cap * 2 :
				    64;
				logical = xreallocarray(logical, logical_cap,
				    sizeof(*logical));
			}
			memset(&logical[nlogical++], 0, sizeof(*logical));
			sbuf_reset(text);
			in_logical = true;
		}
		l->logical = nlogical - 1;
		if (l->kind == LINE_CONT)
			sbuf_catc(text, ' ');
		sbuf_catn(text, l->text + skip, n - skip);
	}
	if (nlogical > 0)
		logical[nlogical - 1].name = main_cf_line_name(sbuf_str(text));
	sbuf_free(&text);
	*lines_r = lines;
	*nlines_r = nlines;
	*logical_r = logical;
	*nlogical_r = nlogical;
}

/* Checks an edit's name and value. */
static int
main_cf_edit_ok(const struct main_cf_edit *e, struct sbuf *why)
{
	if (!main_cf_name_ok(e->name, strlen(e->name))) {
		sbuf_setf(why, "bad parameter name \"%.64s\": expected "
		    "letters, digits and _", e->name);
		return -1;
	}
	if (e->value != NULL && params_has_ctl(e->value)) {
		sbuf_setf(why, "parameter %s: control character in value",
		    e->name);
		return -1;
	}
	return 0;
}

/* The edit that counts for name: the last one of the list, or NULL. */
static const struct main_cf_edit *
main_cf_edit_for(const struct main_cf_edit *edits, size_t count,
    const char *name)
{
	for (size_t i = count; i-- > 0;)
		if (strcmp(edits[i].name, name) == 0)
			return &edits[i];
	return NULL;
}

/* Appends "name = value" with the value trimmed. */
static void
main_cf_put_setting(struct sbuf *out, const struct main_cf_edit *e)
{
	const char *v = e->value, *end;

	while (isspace((unsigned char)*v))
		v++;
	for (end = v + strlen(v); end > v && isspace((unsigned char)end[-1]);
	    end--)
		;
	sbuf_printf(out, "%s = %.*s\n", e->name, (int)(end - v), v);
}

int
main_cf_edit_text(const char *data, size_t len,
    const struct main_cf_edit *edits, size_t count, struct sbuf *out,
    struct sbuf *why)
{
	struct phys_line *lines;
	struct logical_line *logical;
	size_t nlines, nlogical;
	bool *done = xcalloc(count + 1, sizeof(bool));

	for (size_t i = 0; i < count; i++) {
		if (main_cf_edit_ok(&edits[i], why) < 0) {
			free(done);
			return -1;
		}
	}
	main_cf_split(data, len, &lines, &nlines, &logical, &nlogical);
	for (size_t i = 0; i < nlogical; i++) {
		const struct main_cf_edit *e;

		if (logical[i].name == NULL || (e = main_cf_edit_for(edits,
		    count, logical[i].name)) == NULL)
			continue;
		if (e->value == NULL || done[e - edits])
			logical[i].drop = true;
		else
			logical[i].edit = e;
		done[e - edits] = true;
	}
	for (size_t i = 0; i < nlines; i++) {
		const struct phys_line *l = &lines[i];
		const struct logical_line *g = l->kind == LINE_START ||
		    l->kind == LINE_CONT ? &logical[l->logical] : NULL;

		if (g != NULL && g->edit != NULL) {
			if (l->kind == LINE_START)
				main_cf_put_setting(out, g->edit);
		} else if (g == NULL || !g->drop) {
			sbuf_catn(out, l->text, l->len);
			if (l->newline)
				sbuf_catc(out, '\n');
		}
	}
	for (size_t i = 0; i < count; i++) {
		const struct main_cf_edit *e = &edits[i];

		if (done[i] || e->value == NULL ||
		    main_cf_edit_for(edits, count, e->name) != e)
			continue;
		if (sbuf_len(out) > 0 && sbuf_str(out)[sbuf_len(out) - 1] !=
		    '\n')
			sbuf_catc(out, '\n');
		main_cf_put_setting(out, e);
	}
	for (size_t i = 0; i < nlogical; i++)
		free(logical[i].name);
	free(logical);
	free(lines);
	free(done);
	return 0;
}

/* Checks the edited names and values against the new configuration. */
static enum main_cf_edit_status
main_cf_edit_check(struct main_cf *cf, const struct main_cf_edit *edits,
    size_t count, struct sbuf *why)
{
	struct sbuf *value = sbuf_new();
	enum main_cf_edit_status st = MAIN_CF_EDIT_OK;
	union param_value v;

	for (size_t i = 0; i < count && st == MAIN_CF_EDIT_OK; i++) {
		const struct main_cf_edit *e = &edits[i];
		const struct param_def *def = params_find(e->name);

		if (e->value == NULL ||
		    main_cf_edit_for(edits, count, e->name) != e)
			continue;
		if (def == NULL) {
			if (!main_cf_referenced(cf, e->name)) {
				sbuf_setf(why, "unknown parameter %s",
				    e->name);
				st = MAIN_CF_EDIT_UNKNOWN;
			}
			continue;
		}
		sbuf_reset(value);
		if (main_cf_value(cf, e->name, value, why) < 0 ||
		    params_parse_value(def, sbuf_str(value), &v, why) < 0)
			st = MAIN_CF_EDIT_BAD_VALUE;
	}
	sbuf_free(&value);
	return st;
}

enum main_cf_edit_status
main_cf_edit(const char *config_dir, const struct main_cf_edit *edits,
    size_t count, struct sbuf *why)
{
	char *path = main_cf_file(config_dir);
	struct sbuf *old = sbuf_new(), *new = sbuf_new();
	enum main_cf_edit_status st = MAIN_CF_EDIT_OK;
	struct main_cf *cf = NULL;
	mode_t mode = MAIN_CF_MODE;
	struct stat sb;

	if (safe_file_read(path, TEXTFILE_SIZE_MAX, old, why) < 0) {
		if (errno != ENOENT)
			st = MAIN_CF_EDIT_BAD_FILE;
		sbuf_reset(old);
	} else if (stat(path, &sb) == 0) {
		mode = sb.st_mode & 07777;
	}
	if (st == MAIN_CF_EDIT_OK && main_cf_edit_text(sbuf_str(old),
	    sbuf_len(old), edits, count, new, why) < 0)
		st = MAIN_CF_EDIT_BAD_VALUE;
	if (st == MAIN_CF_EDIT_OK && (cf = main_cf_parse_dir(sbuf_str(new),
	    sbuf_len(new), path, config_dir, why)) == NULL)
		st = MAIN_CF_EDIT_BAD_FILE;
	if (st == MAIN_CF_EDIT_OK)
		st = main_cf_edit_check(cf, edits, count, why);
	if (st == MAIN_CF_EDIT_OK && safe_file_write(path, sbuf_str(new),
	    sbuf_len(new), mode, why) < 0)
		st = MAIN_CF_EDIT_WRITE;
	main_cf_free(&cf);
	sbuf_free(&old);
	sbuf_free(&new);
	free(path);
	return st;
}
