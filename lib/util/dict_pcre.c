/*
 * dict_pcre - pcre:FILE, a list of PCRE2 patterns and results
 *
 * The semantics of Postfix's pcre_table(5). Each logical line (see
 * textfile.h) is one of:
 *
 *	/pattern/flags result	found when the key matches; the result may
 *				use $1..$99 (also ${N} and $(N)) for capture
 *				groups and $$ for a dollar
 *	!/pattern/flags result	found when the key does not match; the
 *				result may not use $N
 *	if /pattern/flags	the lines up to the matching endif are tried
 *	if !/pattern/flags	only when the key matches (does not match)
 *	endif
 *
 * The first rule that matches wins. The delimiter is '/' or any other
 * character that is not alphanumeric, whitespace, '!' or a backslash (nor
 * '#' first on a line, which makes a comment); a backslash escapes it
 * inside the pattern (and is passed on to PCRE2).
 * As in Postfix, $N reads every letter, digit and '_' after the '$'
 * ($12 is group 12; write ${1}2 for group 1 then "2"), and a group that
 * did not take part in the match substitutes the empty string. Flags
 * toggle PCRE2 options: i caseless (default on), m multiline, s dotall
 * (default on), x extended, A anchored, E dollar end only, U ungreedy;
 * X is accepted and changes nothing, because PCRE2 always rejects the
 * unknown escapes that PCRE1's EXTRA option made errors. Keys are
 * matched as given (no folding); the table cannot be listed.
 *
 * Matching work is bounded so that a hostile key against a pathological
 * pattern costs milliseconds, never a hang: see DICT_PCRE_*_LIMIT.
 * No JIT: the interpreter applies every limit the same way.
 *
 * Errors: open returns NULL with "FILE, line N: text" in why (a bad
 * pattern adds PCRE2's message and offset; an if without endif names the
 * if's line); a lookup that hits a limit is DICT_ERROR naming file and
 * line. Nothing logs. A table is not re-entrant: lookups share one match
 * data block.
 * Trust: the file is configuration; keys may be hostile client data.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <ctype.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/dict_drivers.h"
#include "util/sbuf.h"
#include "util/textfile.h"
#include "util/xmalloc.h"

/*
 * Limits on one pcre2_match() call. The match limit caps the backtracking
 * steps (about 10 ms of CPU at this value); the depth limit caps nested
 * backtracking points, enough for a group repeated over a 100 KB header;
 * the heap limit (KiB) caps the memory those points take.
 */
#define DICT_PCRE_MATCH_LIMIT	1000000
#define DICT_PCRE_DEPTH_LIMIT	100000
#define DICT_PCRE_HEAP_LIMIT	(64 * 1024)

/* Default options; each flag letter toggles one. */
#define DICT_PCRE_DEFAULT_OPTIONS (PCRE2_CASELESS | PCRE2_DOTALL)

/* Largest group number a $N may name (PCRE2's own limit). */
#define DICT_PCRE_MAX_GROUP	65535

enum dict_pcre_op {
	DICT_PCRE_OP_MATCH,	/* pattern and result */
	DICT_PCRE_OP_IF,	/* pattern; skip to endif unless it holds */
	DICT_PCRE_OP_ENDIF
};

/* A capture group inserted into a result at byte pos of its text. */
struct dict_pcre_ref {
	size_t pos;
	uint32_t group;
};

struct dict_pcre_rule {
	enum dict_pcre_op op;
	int lineno;
	pcre2_code *code;		/* MATCH, IF */
	bool negate;			/* holds when the pattern fails */
	char *text;			/* MATCH: result without the $N */
	size_t text_len;
	struct dict_pcre_ref *refs;	/* MATCH: $N, by position */
	size_t nrefs;
	size_t endif;			/* IF: index of its endif */
};

struct dict_pcre {
	struct dict dict;
	struct dict_pcre_rule *rules;
	size_t nrules;
	size_t arules;			/* allocated */
	pcre2_general_context *gctx;	/* allocates through xmalloc */
	pcre2_compile_context *cctx;
	pcre2_match_context *mctx;	/* the limits */
	pcre2_match_data *md;
	uint32_t max_pairs;		/* largest capture count + 1 */
};

/* State of one load. */
struct dict_pcre_load {
	struct dict_pcre *dp;
	size_t *ifs;			/* indexes of the open ifs */
	size_t nifs;
	size_t aifs;
};

/* A pattern as written on a line. */
struct dict_pcre_pattern {
	const char *text;
	size_t len;
	uint32_t options;
	bool negate;
};

static void *
dict_pcre_malloc(PCRE2_SIZE len, void *ctx)
{
	return xmalloc(len);
}

static void
dict_pcre_free(void *ptr, void *ctx)
{
	free(ptr);
}

/* Sets why to "FILE, line N: text"; returns -1. */
static int __attribute__((format(printf, 4, 5)))
dict_pcre_error(const struct dict_pcre *dp, int lineno, struct sbuf *why,
    const char *fmt, ...)
{
	va_list ap;

	sbuf_setf(why, "%s, line %d: ", dp->dict.name, lineno);
	va_start(ap, fmt);
	sbuf_vprintf(why, fmt, ap);
	va_end(ap);
	return -1;
}

/* Appends PCRE2's text for an error code. */
static void
dict_pcre_cat_pcre_error(struct sbuf *why, int code)
{
	PCRE2_UCHAR text[256];

	if (pcre2_get_error_message(code, text, sizeof(text)) < 0)
		sbuf_printf(why, "PCRE2 error %d", code);
	else
		sbuf_cat(why, (const char *)text);
}

/*
 * Takes "[!]/pattern/flags" from *cursor, NUL-terminating the pattern in
 * place and leaving *cursor after the flags.
 */
static int
dict_pcre_get_pattern(const struct dict_pcre *dp, int lineno, char **cursor,
    struct dict_pcre_pattern *pat, struct sbuf *why)
{
	char *p = *cursor, *start, delim;

	pat->negate = false;
	for (; *p == '!' || isspace((unsigned char)*p); p++)
		if (*p == '!')
			pat->negate = !pat->negate;
	if (*p == '\0')
		return dict_pcre_error(dp, lineno, why, "missing pattern");
	delim = *p;
	if (isalnum((unsigned char)delim) || delim == '\\')
		return dict_pcre_error(dp, lineno, why, "pattern delimiter "
		    "'%c' is alphanumeric or a backslash", delim);
	for (start = ++p; *p != '\0' && *p != delim; p++)
		if (*p == '\\' && p[1] != '\0')
			p++;
	if (*p == '\0')
		return dict_pcre_error(dp, lineno, why,
		    "missing closing delimiter '%c'", delim);
	pat->text = start;
	pat->len = (size_t)(p - start);
	*p++ = '\0';
	pat->options = DICT_PCRE_DEFAULT_OPTIONS;
	for (; *p != '\0' && !isspace((unsigned char)*p); p++) {
		switch (*p) {
		case 'i':
			pat->options ^= PCRE2_CASELESS;
			break;
		case 'm':
			pat->options ^= PCRE2_MULTILINE;
			break;
		case 's':
			pat->options ^= PCRE2_DOTALL;
			break;
		case 'x':
			pat->options ^= PCRE2_EXTENDED;
			break;
		case 'A':
			pat->options ^= PCRE2_ANCHORED;
			break;
		case 'E':
			pat->options ^= PCRE2_DOLLAR_ENDONLY;
			break;
		case 'U':
			pat->options ^= PCRE2_UNGREEDY;
			break;
		case 'X':
			break;
		default:
			return dict_pcre_error(dp, lineno, why,
			    "unknown flag '%c' after the pattern", *p);
		}
	}
	*cursor = p;
	return 0;
}

/* Compiles a pattern into *code_r, with its capture count. */
static int
dict_pcre_compile(struct dict_pcre *dp, int lineno,
    const struct dict_pcre_pattern *pat, pcre2_code **code_r,
    uint32_t *captures_r, struct sbuf *why)
{
	PCRE2_SIZE offset;
	int code;

	*code_r = pcre2_compile((PCRE2_SPTR)pat->text, pat->len,
	    pat->options, &code, &offset, dp->cctx);
	if (*code_r == NULL) {
		dict_pcre_error(dp, lineno, why, "bad pattern at offset %zu: ",
		    (size_t)offset);
		dict_pcre_cat_pcre_error(why, code);
		return -1;
	}
	pcre2_pattern_info(*code_r, PCRE2_INFO_CAPTURECOUNT, captures_r);
	if (*captures_r + 1 > dp->max_pairs)
		dp->max_pairs = *captures_r + 1;
	return 0;
}

/*
 * Reads the $ reference after the '$' at *cursor (not "$$") into
 * *group_r, leaving *cursor after it.
 */
static int
dict_pcre_get_ref(const struct dict_pcre *dp, int lineno, const char **cursor,
    uint32_t *group_r, struct sbuf *why)
{
	const char *p = *cursor, *name, *end;
	uint32_t n = 0;

	if (*p == '{' || *p == '(') {
		name = p + 1;
		end = strchr(name, *p == '{' ? '}' : ')');
		if (end == NULL)
			return dict_pcre_error(dp, lineno, why,
			    "missing '%c' after \"$%c\"",
			    *p == '{' ? '}' : ')', *p);
		*cursor = end + 1;
	} else {
		name = p;
		for (end = p; isalnum((unsigned char)*end) || *end == '_';
		    end++)
			;
		if (end == name)
			return dict_pcre_error(dp, lineno, why,
			    "stray '$' in the result (write $$ for a dollar)");
		*cursor = end;
	}
	if (end == name)
		return dict_pcre_error(dp, lineno, why,
		    "empty $ reference in the result");
	for (p = name; p < end; p++) {
		if (!isdigit((unsigned char)*p))
			return dict_pcre_error(dp, lineno, why,
			    "non-numeric $ reference \"%.*s\" in the result",
			    (int)(end - name), name);
		n = n * 10 + (uint32_t)(*p - '0');
		if (n > DICT_PCRE_MAX_GROUP)
			return dict_pcre_error(dp, lineno, why,
			    "$ reference \"%.*s\" out of range",
			    (int)(end - name), name);
	}
	if (n == 0)
		return dict_pcre_error(dp, lineno, why,
		    "$0 in the result: groups are numbered from 1");
	*group_r = n;
	return 0;
}

/* Splits a result into its text and $N references; checks the groups. */
static int
dict_pcre_parse_result(struct dict_pcre *dp, int lineno, const char *result,
    uint32_t captures, struct dict_pcre_rule *r, struct sbuf *why)
{
	struct sbuf *text = sbuf_new();
	size_t arefs = 0;
	uint32_t group = 0;
	const char *p = result;

	while (*p != '\0') {
		if (*p != '$' || p[1] == '$') {
			sbuf_catc(text, *p);
			p += (*p == '$') ? 2 : 1;
			continue;
		}
		p++;
		if (dict_pcre_get_ref(dp, lineno, &p, &group, why) < 0)
			goto fail;
		if (r->negate) {
			dict_pcre_error(dp, lineno, why,
			    "$%u in the result of a negated pattern", group);
			goto fail;
		}
		if (group > captures) {
			dict_pcre_error(dp, lineno, why, "$%u in the result, "
			    "but the pattern has %u capture groups", group,
			    captures);
			goto fail;
		}
		if (r->nrefs == arefs) {
			arefs = arefs ? arefs * 2 : 4;
			r->refs = xreallocarray(r->refs, arefs,
			    sizeof(*r->refs));
		}
		r->refs[r->nrefs].pos = sbuf_len(text);
		r->refs[r->nrefs++].group = group;
	}
	r->text_len = sbuf_len(text);
	r->text = sbuf_steal(text);
	sbuf_free(&text);
	return 0;
fail:
	sbuf_free(&text);
	return -1;
}

/* Appends a zeroed rule and returns it. */
static struct dict_pcre_rule *
dict_pcre_new_rule(struct dict_pcre *dp, enum dict_pcre_op op, int lineno)
{
	struct dict_pcre_rule *r;

	if (dp->nrules == dp->arules) {
		dp->arules = dp->arules ? dp->arules * 2 : 16;
		dp->rules = xreallocarray(dp->rules, dp->arules,
		    sizeof(*dp->rules));
	}
	r = &dp->rules[dp->nrules++];
	memset(r, 0, sizeof(*r));
	r->op = op;
	r->lineno = lineno;
	return r;
}

static int
dict_pcre_match_rule(struct dict_pcre *dp, int lineno, char *line,
    struct sbuf *why)
{
	struct dict_pcre_pattern pat;
	struct dict_pcre_rule *r;
	uint32_t captures;
	char *p = line;

	if (dict_pcre_get_pattern(dp, lineno, &p, &pat, why) < 0)
		return -1;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '\0')
		return dict_pcre_error(dp, lineno, why,
		    "missing result after the pattern");
	r = dict_pcre_new_rule(dp, DICT_PCRE_OP_MATCH, lineno);
	r->negate = pat.negate;
	if (dict_pcre_compile(dp, lineno, &pat, &r->code, &captures, why) < 0)
		return -1;
	return dict_pcre_parse_result(dp, lineno, p, captures, r, why);
}

static int
dict_pcre_if_rule(struct dict_pcre_load *ld, int lineno, char *rest,
    struct sbuf *why)
{
	struct dict_pcre *dp = ld->dp;
	struct dict_pcre_pattern pat;
	struct dict_pcre_rule *r;
	uint32_t captures;
	char *p = rest;

	if (dict_pcre_get_pattern(dp, lineno, &p, &pat, why) < 0)
		return -1;
	while (isspace((unsigned char)*p))
		p++;
	if (*p != '\0')
		return dict_pcre_error(dp, lineno, why, "text after the "
		    "pattern of an if (a result cannot go on an if line)");
	r = dict_pcre_new_rule(dp, DICT_PCRE_OP_IF, lineno);
	r->negate = pat.negate;
	if (dict_pcre_compile(dp, lineno, &pat, &r->code, &captures, why) < 0)
		return -1;
	if (ld->nifs == ld->aifs) {
		ld->aifs = ld->aifs ? ld->aifs * 2 : 8;
		ld->ifs = xreallocarray(ld->ifs, ld->aifs, sizeof(*ld->ifs));
	}
	ld->ifs[ld->nifs++] = dp->nrules - 1;
	return 0;
}

static int
dict_pcre_endif_rule(struct dict_pcre_load *ld, int lineno, char *rest,
    struct sbuf *why)
{
	struct dict_pcre *dp = ld->dp;

	while (isspace((unsigned char)*rest))
		rest++;
	if (*rest != '\0')
		return dict_pcre_error(dp, lineno, why, "text after endif");
	if (ld->nifs == 0)
		return dict_pcre_error(dp, lineno, why, "endif without if");
	dict_pcre_new_rule(dp, DICT_PCRE_OP_ENDIF, lineno);
	dp->rules[ld->ifs[--ld->nifs]].endif = dp->nrules - 1;
	return 0;
}

/* Parses one logical line of the file. */
static int
dict_pcre_line(char *line, int lineno, void *ctx, struct sbuf *why)
{
	struct dict_pcre_load *ld = ctx;
	size_t n;

	if (!isalnum((unsigned char)*line))
		return dict_pcre_match_rule(ld->dp, lineno, line, why);
	for (n = 0; isalnum((unsigned char)line[n]); n++)
		;
	if (n == 2 && strncasecmp(line, "if", 2) == 0)
		return dict_pcre_if_rule(ld, lineno, line + n, why);
	if (n == 5 && strncasecmp(line, "endif", 5) == 0)
		return dict_pcre_endif_rule(ld, lineno, line + n, why);
	return dict_pcre_error(ld->dp, lineno, why, "unknown statement "
	    "\"%.*s\" (expected /pattern/, if or endif)", (int)n, line);
}

/* Builds the result of rule r from the match of key. */
static enum dict_status
dict_pcre_expand(struct dict_pcre *dp, const struct dict_pcre_rule *r,
    const char *key, int rc, struct sbuf *value_r, struct sbuf *why)
{
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(dp->md);
	size_t done = 0;
	int fail = 0;

	sbuf_reset(value_r);
	for (size_t i = 0; i < r->nrefs; i++) {
		uint32_t g = r->refs[i].group;

		fail |= sbuf_catn(value_r, r->text + done,
		    r->refs[i].pos - done);
		done = r->refs[i].pos;
		if (g < (uint32_t)rc && ov[2 * g] != PCRE2_UNSET &&
		    ov[2 * g + 1] >= ov[2 * g])
			fail |= sbuf_catn(value_r, key + ov[2 * g],
			    ov[2 * g + 1] - ov[2 * g]);
	}
	fail |= sbuf_catn(value_r, r->text + done, r->text_len - done);
	if (fail) {
		dict_pcre_error(dp, r->lineno, why,
		    "result too long for the result buffer");
		return DICT_ERROR;
	}
	return DICT_FOUND;
}

static enum dict_status
dict_pcre_lookup(struct dict *d, const char *key, struct sbuf *value_r,
    struct sbuf *why)
{
	struct dict_pcre *dp = (struct dict_pcre *)d;
	size_t len = strlen(key);
	bool holds;
	int rc;

	for (size_t i = 0; i < dp->nrules; i++) {
		const struct dict_pcre_rule *r = &dp->rules[i];

		if (r->op == DICT_PCRE_OP_ENDIF)
			continue;
		rc = pcre2_match(r->code, (PCRE2_SPTR)key, len, 0, 0, dp->md,
		    dp->mctx);
		if (rc < 0 && rc != PCRE2_ERROR_NOMATCH) {
			dict_pcre_error(dp, r->lineno, why,
			    "matching gave up: ");
			dict_pcre_cat_pcre_error(why, rc);
			return DICT_ERROR;
		}
		holds = (rc >= 0) != r->negate;
		if (r->op == DICT_PCRE_OP_IF) {
			if (!holds)
				i = r->endif;
			continue;
		}
		if (holds)
			return dict_pcre_expand(dp, r, key, rc, value_r, why);
	}
	return DICT_NOTFOUND;
}

static void
dict_pcre_close(struct dict *d)
{
	struct dict_pcre *dp = (struct dict_pcre *)d;

	for (size_t i = 0; i < dp->nrules; i++) {
		pcre2_code_free(dp->rules[i].code);
		free(dp->rules[i].text);
		free(dp->rules[i].refs);
	}
	free(dp->rules);
	pcre2_match_data_free(dp->md);
	pcre2_match_context_free(dp->mctx);
	pcre2_compile_context_free(dp->cctx);
	pcre2_general_context_free(dp->gctx);
	dict_release(d);
}

struct dict *
dict_pcre_open(const char *type, const char *name, int flags,
    struct sbuf *why)
{
	struct dict_pcre *dp;
	struct dict_pcre_load ld = {0};
	int ret;

	dp = (struct dict_pcre *)dict_alloc(type, name, flags, sizeof(*dp));
	dp->dict.fold = false;
	dp->dict.lookup = dict_pcre_lookup;
	dp->dict.iterate = NULL;
	dp->dict.close = dict_pcre_close;
	dp->gctx = pcre2_general_context_create(dict_pcre_malloc,
	    dict_pcre_free, NULL);
	dp->cctx = pcre2_compile_context_create(dp->gctx);
	dp->mctx = pcre2_match_context_create(dp->gctx);
	pcre2_set_match_limit(dp->mctx, DICT_PCRE_MATCH_LIMIT);
	pcre2_set_depth_limit(dp->mctx, DICT_PCRE_DEPTH_LIMIT);
	pcre2_set_heap_limit(dp->mctx, DICT_PCRE_HEAP_LIMIT);
	dp->max_pairs = 1;
	ld.dp = dp;
	ret = textfile_read(name, dict_pcre_line, &ld, why);
	if (ret == 0 && ld.nifs > 0)
		ret = dict_pcre_error(dp, dp->rules[ld.ifs[ld.nifs - 1]].lineno,
		    why, "if without endif");
	free(ld.ifs);
	if (ret < 0) {
		dict_pcre_close(&dp->dict);
		return NULL;
	}
	dp->md = pcre2_match_data_create(dp->max_pairs, dp->gctx);
	return &dp->dict;
}
