/*
 * drop_file - read and write the maildrop envelope (see drop_file.h)
 *
 * Errors: -1 with a reason naming the line. Trust: input is hostile; a
 * line longer than the longest field is refused before it is stored.
 */
#include "mail/drop_file.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "util/sbuf.h"
#include "util/strutil.h"
#include "util/utf8.h"
#include "util/xmalloc.h"

/* Every NOTIFY bit. */
#define DROP_NOTIFY_ALL	(QUEUE_NOTIFY_SUCCESS | QUEUE_NOTIFY_FAILURE | \
			 QUEUE_NOTIFY_DELAY | QUEUE_NOTIFY_NEVER)

/* The longest line: "sender " and a text field. */
#define DROP_LINE_MAX	(QUEUE_TEXT_MAX + 16)

bool
drop_text_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	const unsigned char *end = p + strlen(s);
	size_t n;

	if (end - p > QUEUE_TEXT_MAX)
		return false;
	while (p < end) {
		if (*p < 0x20 || *p == 0x7f)
			return false;
		if ((n = utf8_seq_len(p, end, UTF8_NO_C1)) == 0)
			return false;
		p += n;
	}
	return true;
}

/*
 * Reads one LF-terminated line into line, without the LF: 1, 0 at a
 * clean end of file, or -1 with a reason (too long, NUL, no LF).
 */
static int
drop_line(FILE *fp, struct sbuf *line, struct sbuf *why)
{
	int c;

	sbuf_reset(line);
	while ((c = getc(fp)) != EOF && c != '\n') {
		if (c == '\0' || sbuf_len(line) >= DROP_LINE_MAX) {
			sbuf_set(why, c == '\0' ? "NUL in envelope" :
			    "envelope line too long");
			return -1;
		}
		sbuf_catc(line, c);
	}
	if (c == EOF && sbuf_len(line) == 0 && !ferror(fp))
		return 0;
	if (c == EOF) {
		sbuf_set(why, ferror(fp) ? "read error" :
		    "envelope line without newline");
		return -1;
	}
	return 1;
}

/* The value of line when it is "name value", else NULL. */
static const char *
drop_field(const struct sbuf *line, const char *name)
{
	size_t n = strlen(name);

	if (strncmp(sbuf_str(line), name, n) != 0 || sbuf_str(line)[n] != ' ')
		return NULL;
	return sbuf_str(line) + n + 1;
}

/* Parses a decimal number of at most max; 0 or -1. */
static int
drop_number(const char *s, uint64_t max, uint64_t *value_r)
{
	uint64_t v = 0;

	if (*s == '\0' || (*s == '0' && s[1] != '\0'))
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' ||
		    v > (max - (uint64_t)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*value_r = v;
	return 0;
}

void
drop_envelope_add_rcpt(struct drop_envelope *env, const char *rcpt)
{
	env->rcpts = xreallocarray(env->rcpts, env->rcpt_count + 1,
	    sizeof(*env->rcpts));
	env->rcpts[env->rcpt_count++] = xstrdup(rcpt);
}

/* Reads and checks every line of the envelope; as drop_envelope_read(). */
static int
drop_envelope_lines(FILE *fp, bool with_uid, uint64_t size_limit,
    struct drop_envelope *env, struct sbuf *line, struct sbuf *why)
{
	const char *v;
	uint64_t n;
	int lineno = 0;

#define NEXT_LINE() do {						\
	lineno++;							\
	switch (drop_line(fp, line, why)) {				\
	case 0:								\
		sbuf_set(why, "envelope cut short");			\
		/* FALLTHROUGH */					\
	case -1:							\
		goto bad;						\
	}								\
} while (0)

	NEXT_LINE();
	if (strcmp(sbuf_str(line), DROP_FILE_VERSION) != 0) {
		sbuf_set(why, "not a maildrop file");
		goto bad;
	}
	if (with_uid) {
		NEXT_LINE();
		if ((v = drop_field(line, "uid")) == NULL ||
		    drop_number(v, INT32_MAX, &n) < 0) {
			sbuf_set(why, "bad or missing uid");
			goto bad;
		}
		env->uid = (long)n;
	}
	NEXT_LINE();
	if ((v = drop_field(line, "sender")) == NULL || !drop_text_ok(v)) {
		sbuf_set(why, "bad or missing sender");
		goto bad;
	}
	env->sender = xstrdup(v);
	NEXT_LINE();
	if ((v = drop_field(line, "ret")) != NULL) {
		if (strcmp(v, "FULL") == 0)
			env->ret = QUEUE_RET_FULL;
		else if (strcmp(v, "HDRS") == 0)
			env->ret = QUEUE_RET_HDRS;
		else {
			sbuf_set(why, "bad ret");
			goto bad;
		}
		NEXT_LINE();
	}
	if ((v = drop_field(line, "notify")) != NULL) {
		if (drop_number(v, DROP_NOTIFY_ALL, &n) < 0 || n == 0 ||
		    ((n & QUEUE_NOTIFY_NEVER) && n != QUEUE_NOTIFY_NEVER)) {
			sbuf_set(why, "bad notify");
			goto bad;
		}
		env->notify = (int)n;
		NEXT_LINE();
	}
	while ((v = drop_field(line, "rcpt")) != NULL) {
		if (!drop_text_ok(v) || *v == '\0' || strchr(v, '@') == NULL) {
			sbuf_set(why, "bad recipient");
			goto bad;
		}
		if (env->rcpt_count >= DROP_RCPT_MAX) {
			sbuf_setf(why, "more than %d recipients",
			    DROP_RCPT_MAX);
			goto bad;
		}
		drop_envelope_add_rcpt(env, v);
		NEXT_LINE();
	}
	if (env->rcpt_count == 0) {
		sbuf_set(why, "no recipients");
		goto bad;
	}
	if ((v = drop_field(line, "size")) == NULL ||
	    drop_number(v, UINT64_MAX, &env->size) < 0) {
		sbuf_set(why, "bad or missing size");
		goto bad;
	}
	if (size_limit != 0 && env->size > size_limit) {
		sbuf_setf(why, "message size %" PRIu64 " exceeds the limit "
		    "%" PRIu64, env->size, size_limit);
		goto bad;
	}
	NEXT_LINE();
	if (sbuf_len(line) != 0) {
		sbuf_set(why, "no empty line after the envelope");
		goto bad;
	}
	return 0;
#undef NEXT_LINE
bad:
	{
		char *reason = sbuf_steal(why);

		sbuf_setf(why, "line %d: %s", lineno, reason);
		free(reason);
	}
	return -1;
}

int
drop_envelope_read(FILE *fp, bool with_uid, uint64_t size_limit,
    struct drop_envelope *env, struct sbuf *why)
{
	struct sbuf *line = sbuf_new();
	int rc;

	memset(env, 0, sizeof(*env));
	env->uid = -1;
	rc = drop_envelope_lines(fp, with_uid, size_limit, env, line, why);
	if (rc < 0)
		drop_envelope_free(env);
	sbuf_free(&line);
	return rc;
}

int
drop_envelope_write(FILE *fp, const struct drop_envelope *env)
{
	fprintf(fp, "%s\n", DROP_FILE_VERSION);
	if (env->uid >= 0)
		fprintf(fp, "uid %ld\n", env->uid);
	fprintf(fp, "sender %s\n", env->sender);
	if (env->ret != QUEUE_RET_NONE)
		fprintf(fp, "ret %s\n", env->ret == QUEUE_RET_FULL ? "FULL" :
		    "HDRS");
	if (env->notify != 0)
		fprintf(fp, "notify %d\n", env->notify);
	for (size_t i = 0; i < env->rcpt_count; i++)
		fprintf(fp, "rcpt %s\n", env->rcpts[i]);
	fprintf(fp, "size %" PRIu64 "\n\n", env->size);
	return ferror(fp) ? -1 : 0;
}

void
drop_envelope_free(struct drop_envelope *env)
{
	for (size_t i = 0; i < env->rcpt_count; i++)
		free(env->rcpts[i]);
	free(env->rcpts);
	free(env->sender);
	memset(env, 0, sizeof(*env));
	env->uid = -1;
}
