/*
 * fuzz_drop_file - maildrop envelopes as a local user can write them
 *
 * The first byte chooses how the envelope is read: bit 0, as pickup
 * reads maildrop/ (a uid line wanted) or as postern-drop reads sendmail's
 * pipe; bit 1, with a size limit. The rest is the file. An envelope that
 * is taken must hold only what drop_file.h allows, and must read back
 * the same after drop_envelope_write(), the reader stopping at the same
 * place: the first octet of content.
 */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/drop_file.h"
#include "util/sbuf.h"

#define FUZZ_SIZE_LIMIT	1000

/* Aborts unless env holds only what the format allows. */
static void
fuzz_check_env(const struct drop_envelope *env, bool with_uid,
    uint64_t size_limit)
{
	if (with_uid != (env->uid >= 0))
		abort();
	if (!drop_text_ok(env->sender))
		abort();
	if (env->rcpt_count == 0 || env->rcpt_count > DROP_RCPT_MAX)
		abort();
	for (size_t i = 0; i < env->rcpt_count; i++)
		if (!drop_text_ok(env->rcpts[i]) ||
		    strchr(env->rcpts[i], '@') == NULL)
			abort();
	if ((env->notify & QUEUE_NOTIFY_NEVER) &&
	    env->notify != QUEUE_NOTIFY_NEVER)
		abort();
	if (size_limit != 0 && env->size > size_limit)
		abort();
}

/* Aborts unless a and b are the same envelope. */
static void
fuzz_check_same(const struct drop_envelope *a, const struct drop_envelope *b)
{
	if (a->uid != b->uid || strcmp(a->sender, b->sender) != 0 ||
	    a->ret != b->ret || a->notify != b->notify ||
	    a->rcpt_count != b->rcpt_count || a->size != b->size)
		abort();
	for (size_t i = 0; i < a->rcpt_count; i++)
		if (strcmp(a->rcpts[i], b->rcpts[i]) != 0)
			abort();
}

/*
 * Writes env with content after it, reads it back and compares; the
 * format has one spelling for each envelope, so the envelope read took
 * as many octets (consumed) as the one written.
 */
static void
fuzz_round_trip(const struct drop_envelope *env, bool with_uid,
    long consumed)
{
	struct drop_envelope again;
	struct sbuf *why = sbuf_new();
	char *text = NULL;
	size_t len = 0;
	FILE *fp;

	if ((fp = open_memstream(&text, &len)) == NULL)
		abort();
	if (drop_envelope_write(fp, env) < 0 || fputc('X', fp) == EOF ||
	    fclose(fp) != 0)
		abort();
	if ((fp = fmemopen(text, len, "r")) == NULL)
		abort();
	if (drop_envelope_read(fp, with_uid, 0, &again, why) < 0)
		abort();
	fuzz_check_same(env, &again);
	if (ftell(fp) != consumed || getc(fp) != 'X')
		abort();
	fclose(fp);
	drop_envelope_free(&again);
	free(text);
	sbuf_free(&why);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct drop_envelope env;
	struct sbuf *why;
	uint64_t size_limit;
	bool with_uid;
	char *copy;
	FILE *fp;

	if (size == 0)
		return 0;
	with_uid = data[0] & 1;
	size_limit = data[0] & 2 ? FUZZ_SIZE_LIMIT : 0;
	/* fmemopen() takes a buffer it may write to, even for reading. */
	copy = malloc(size);
	memcpy(copy, data + 1, size - 1);
	if ((fp = fmemopen(copy, size - 1, "r")) == NULL)
		abort();
	why = sbuf_new();
	if (drop_envelope_read(fp, with_uid, size_limit, &env, why) == 0) {
		fuzz_check_env(&env, with_uid, size_limit);
		fuzz_round_trip(&env, with_uid, ftell(fp));
		drop_envelope_free(&env);
	} else if (sbuf_len(why) == 0 || env.rcpt_count != 0 ||
	    env.sender != NULL) {
		abort();
	}
	fclose(fp);
	free(copy);
	sbuf_free(&why);
	return 0;
}
