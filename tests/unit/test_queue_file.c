/*
 * test_queue_file - the queue file format: writer, commit point, reader
 *
 * Files are written by the real writer into a private queue directory, or
 * built byte by byte for the hostile rows. A full disk is simulated by
 * putting /dev/full under the writer's descriptor with dup2() (the
 * descriptor is found by the temporary file's inode): the writer's own
 * write path then fails with ENOSPC, with no test hook in the library.
 */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mail/queue_file.h"
#include "mail/queue_id.h"
#include "util/safe_file.h"
#include "util/sbuf.h"
#include "util/xmalloc.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The name hostile files are written under: a valid queue id. */
#define RAW_ID "0ABCDEF0001Z"

/* A queue directory with incoming/ in it. */
struct fixture {
	char *dir;
	char *incoming;
	struct sbuf *why;
};

static int
setup(void **state)
{
	struct fixture *fx = xcalloc(1, sizeof(*fx));
	struct sbuf *p = sbuf_new();

	fx->dir = test_tmpdir();
	sbuf_printf(p, "%s/incoming", fx->dir);
	fx->incoming = sbuf_steal(p);
	sbuf_free(&p);
	if (mkdir(fx->incoming, 0700) < 0)
		return -1;
	fx->why = sbuf_new();
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	test_rmtree(&fx->dir);
	free(fx->incoming);
	sbuf_free(&fx->why);
	free(fx);
	return 0;
}

/* Opens a writer in the fixture's queue, failing the test if it fails. */
static struct queue_writer *
writer_ok(struct fixture *fx)
{
	struct queue_writer *w = NULL;

	if (queue_writer_open(fx->dir, &w, fx->why) != QUEUE_WRITE_OK)
		fail_msg("open writer: %s", sbuf_str(fx->why));
	return w;
}

static const struct queue_envelope full_env = {
	.sender = "alice@example.com",
	.proto = QUEUE_PROTO_ESMTPS,
	.client_addr = "2001:db8::25",
	.client_name = "mail.example.org",
	.helo = "mail.example.org",
	.auth_user = "alice",
	.envid = "QQ314159",
	.ret = QUEUE_RET_HDRS,
	.body = QUEUE_BODY_8BITMIME,
	.smtputf8 = true,
};

static const struct queue_envelope local_env = {
	.sender = "",
	.proto = QUEUE_PROTO_LOCAL,
	.client_addr = "",	/* empty: not known, like NULL */
};

/*
 * Writes a message through a whole writer: env, the n recipients, the
 * content in pieces of chunk octets; commits and returns the file's path
 * (malloc'ed) and, in id_r when not NULL, its id.
 */
static char *
write_message(struct fixture *fx, const struct queue_envelope *env,
    const struct queue_rcpt *rcpts, size_t n, const void *content,
    size_t len, size_t chunk, struct sbuf *id_r)
{
	struct queue_writer *w = writer_ok(fx);
	struct sbuf *path = sbuf_new();
	char *p;

	sbuf_printf(path, "%s/%s", fx->incoming, queue_writer_id(w));
	if (id_r != NULL)
		sbuf_set(id_r, queue_writer_id(w));
	if (queue_writer_envelope(w, env, fx->why) != 0)
		fail_msg("envelope: %s", sbuf_str(fx->why));
	for (size_t i = 0; i < n; i++)
		if (queue_writer_add_rcpt(w, &rcpts[i], fx->why) != 0)
			fail_msg("recipient %zu: %s", i, sbuf_str(fx->why));
	for (size_t off = 0; off < len; off += chunk) {
		size_t k = len - off < chunk ? len - off : chunk;

		if (queue_writer_write(w, (const char *)content + off, k,
		    fx->why) != QUEUE_WRITE_OK)
			fail_msg("write: %s", sbuf_str(fx->why));
	}
	if (queue_writer_commit(&w, fx->why) != QUEUE_WRITE_OK)
		fail_msg("commit: %s", sbuf_str(fx->why));
	assert_null(w);
	p = sbuf_steal(path);
	sbuf_free(&path);
	return p;
}

/* Opens a queue file, failing the test if it does not open. */
static struct queue_file *
open_ok(struct fixture *fx, const char *path, int flags)
{
	struct queue_file *qf = queue_file_open(path, flags, fx->why);

	if (qf == NULL)
		fail_msg("open %s: %s", path, sbuf_str(fx->why));
	return qf;
}

/* Reads all content of qf in pieces of chunk octets into out. */
static void
read_content(struct queue_file *qf, size_t chunk, struct sbuf *out)
{
	struct sbuf *why = sbuf_new();
	char *buf = xmalloc(chunk);
	off_t pos = 0;
	ssize_t n;

	sbuf_reset(out);
	while ((n = queue_file_read(qf, pos, buf, chunk, why)) > 0) {
		sbuf_catn(out, buf, (size_t)n);
		pos += n;
	}
	if (n < 0)
		fail_msg("read content: %s", sbuf_str(why));
	free(buf);
	sbuf_free(&why);
}

static void
assert_str_or_null(const char *what, const char *got, const char *want)
{
	if (want == NULL || *want == '\0') {
		if (got != NULL)
			fail_msg("%s: \"%s\", want none", what, got);
	} else if (got == NULL || strcmp(got, want) != 0)
		fail_msg("%s: \"%s\", want \"%s\"", what, got ? got : "(none)",
		    want);
}

static void
assert_env_equal(const struct queue_envelope *got,
    const struct queue_envelope *want)
{
	assert_string_equal(got->sender, want->sender);
	assert_int_equal(got->proto, want->proto);
	assert_str_or_null("client address", got->client_addr,
	    want->client_addr);
	assert_str_or_null("client name", got->client_name, want->client_name);
	assert_str_or_null("helo", got->helo, want->helo);
	assert_str_or_null("auth user", got->auth_user, want->auth_user);
	assert_str_or_null("envid", got->envid, want->envid);
	assert_int_equal(got->ret, want->ret);
	assert_int_equal(got->body, want->body);
	assert_int_equal(got->smtputf8, want->smtputf8);
}

/* Recipients covering every NOTIFY value, with and without ORCPT. */
static struct queue_rcpt *
many_rcpts(size_t *n_r)
{
	static const int notify[] = { 0, QUEUE_NOTIFY_NEVER, 1, 2, 3, 4, 5,
		6, 7 };
	static const char *const addrs[] = {
		"bob@example.com",
		"J\xc3\xb6rg@b\xc3\xbc" "cher.example",	/* UTF-8 */
		"\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9"
		    "\xbf\xe5\x91\x8a",
		"john \"q\" doe@example.com",	/* unquoted internal form */
		"a@b@example.com",		/* '@' in the local part */
		"Postmaster",
		"user+tag@[192.0.2.1]",
	};
	size_t n = NELEM(notify) * NELEM(addrs) * 2;
	struct queue_rcpt *r = xcalloc(n, sizeof(*r));
	size_t k = 0;

	for (size_t i = 0; i < NELEM(notify); i++)
		for (size_t j = 0; j < NELEM(addrs); j++)
			for (int o = 0; o < 2; o++, k++) {
				r[k].address = addrs[j];
				r[k].orcpt = o ? "rfc822;orig@example.net" :
				    NULL;
				r[k].notify = notify[i];
				r[k].done = k % 5 == 3;
			}
	*n_r = n;
	return r;
}

/* Content with NUL octets, bare CR and LF and a line of 200000 octets. */
static void
hostile_content(struct sbuf *c)
{
	sbuf_reset(c);
	sbuf_cat(c, "Received: from x\nSubject: nul\n\n");
	sbuf_catn(c, "A\0B\0\0C\r\nbare\rcr\n", 16);
	for (int i = 0; i < 200000; i++)
		sbuf_catc(c, 'a' + i % 26);
	sbuf_cat(c, "\n.\n..\nno newline at the end");
}

static void
test_round_trip(void **state)
{
	struct fixture *fx = *state;
	struct sbuf *content = sbuf_new(), *back = sbuf_new();
	struct sbuf *id = sbuf_new();
	static const size_t chunks[] = { 1 << 20, 4093, 65536, 1, 7 };
	struct timeval before, after, tv;
	struct queue_rcpt *rcpts;
	size_t n;

	rcpts = many_rcpts(&n);
	hostile_content(content);
	for (size_t c = 0; c < NELEM(chunks); c++) {
		const struct queue_envelope *env = c % 2 ? &local_env :
		    &full_env;
		struct queue_file *qf;
		char *path;

		gettimeofday(&before, NULL);
		path = write_message(fx, env, rcpts, n, sbuf_str(content),
		    sbuf_len(content), chunks[c], id);
		gettimeofday(&after, NULL);
		qf = open_ok(fx, path, 0);
		assert_string_equal(qf->path, path);
		assert_non_null(qf->id);
		assert_string_equal(qf->id, sbuf_str(id));
		assert_env_equal(&qf->env, env);
		/* The arrival time is the queue id's. */
		assert_int_equal(queue_id_time(qf->id, &tv), 0);
		assert_int_equal(qf->arrival, tv.tv_sec);
		assert_true(qf->arrival >= before.tv_sec);
		assert_true(qf->arrival <= after.tv_sec);
		assert_int_equal(qf->rcpt_count, n);
		for (size_t i = 0; i < n; i++) {
			assert_string_equal(qf->rcpts[i].address,
			    rcpts[i].address);
			assert_str_or_null("orcpt", qf->rcpts[i].orcpt,
			    rcpts[i].orcpt);
			assert_int_equal(qf->rcpts[i].notify, rcpts[i].notify);
			assert_int_equal(qf->rcpts[i].done, rcpts[i].done);
		}
		assert_int_equal(qf->content_size, sbuf_len(content));
		read_content(qf, 1000, back);
		assert_int_equal(sbuf_len(back), sbuf_len(content));
		assert_memory_equal(sbuf_str(back), sbuf_str(content),
		    sbuf_len(back));
		assert_false(queue_file_all_done(qf));
		queue_file_close(&qf);
		assert_null(qf);
		assert_int_equal(unlink(path), 0);
		free(path);
	}
	free(rcpts);
	sbuf_free(&content);
	sbuf_free(&back);
	sbuf_free(&id);
}

/* Content sizes around the write buffer, and none at all. */
static void
test_content_sizes(void **state)
{
	struct fixture *fx = *state;
	static const size_t sizes[] = { 0, 1, 65535, 65536, 65537, 300000 };
	struct queue_rcpt rcpt = { .address = "bob@example.com" };
	struct sbuf *content = sbuf_new(), *back = sbuf_new();

	for (size_t s = 0; s < NELEM(sizes); s++) {
		struct queue_file *qf;
		char *path;

		sbuf_reset(content);
		for (size_t i = 0; i < sizes[s]; i++)
			sbuf_catc(content, (int)(i * 7 % 256));
		path = write_message(fx, &full_env, &rcpt, 1,
		    sbuf_str(content), sbuf_len(content), 65536, NULL);
		qf = open_ok(fx, path, 0);
		assert_int_equal(qf->content_size, sizes[s]);
		read_content(qf, 65536, back);
		assert_int_equal(sbuf_len(back), sizes[s]);
		assert_memory_equal(sbuf_str(back), sbuf_str(content),
		    sizes[s]);
		queue_file_close(&qf);
		unlink(path);
		free(path);
	}
	sbuf_free(&content);
	sbuf_free(&back);
}

/* Appends a 32-bit big-endian number. */
static void
raw_u32(struct sbuf *sb, uint32_t v)
{
	unsigned char b[4] = { v >> 24, v >> 16, v >> 8, v };

	sbuf_catn(sb, b, 4);
}

/* Appends a record of type with len octets of data, unchecked. */
static void
raw_rec(struct sbuf *sb, int type, const void *data, size_t len)
{
	sbuf_catc(sb, type);
	raw_u32(sb, (uint32_t)len);
	sbuf_catn(sb, data, len);
}

static void
raw_str(struct sbuf *sb, int type, const char *s)
{
	raw_rec(sb, type, s, strlen(s));
}

/* Appends a record whose data is a 64-bit big-endian number. */
static void
raw_u64(struct sbuf *sb, int type, uint64_t v)
{
	unsigned char b[8];

	for (int i = 7; i >= 0; i--, v >>= 8)
		b[i] = (unsigned char)v;
	raw_rec(sb, type, b, 8);
}

/* Appends a recipient record with an address of alen octets. */
static void
raw_rcpt_n(struct sbuf *sb, int status, int notify, uint32_t alen,
    const char *addr, const char *orcpt)
{
	size_t len = strlen(addr), olen = strlen(orcpt);

	sbuf_catc(sb, 'R');
	raw_u32(sb, (uint32_t)(6 + len + olen));
	sbuf_catc(sb, status);
	sbuf_catc(sb, notify);
	raw_u32(sb, alen);
	sbuf_cat(sb, addr);
	sbuf_cat(sb, orcpt);
}

static void
raw_rcpt(struct sbuf *sb, const char *addr)
{
	raw_rcpt_n(sb, 'P', 0, (uint32_t)strlen(addr), addr, "");
}

/* Empties sb and appends the version, arrival time and protocol. */
static void
raw_start(struct sbuf *sb)
{
	sbuf_reset(sb);
	raw_str(sb, 'V', "postern-queue 1");
	raw_u64(sb, 'T', 1700000000);
	raw_str(sb, 'P', "ESMTP");
}

/* The end of envelope, content and the end record. */
static void
raw_end(struct sbuf *sb, const char *content)
{
	raw_u64(sb, 'E', strlen(content));
	sbuf_cat(sb, content);
	raw_rec(sb, 'X', "", 0);
}

/* A valid file with one recipient around the given middle part. */
static void
raw_valid_with(struct sbuf *sb, const char *sender)
{
	raw_start(sb);
	raw_str(sb, 'S', sender);
	raw_rcpt(sb, "bob@example.com");
	raw_end(sb, "Subject: x\n\nhi\n");
}

/* Builders of the hostile rows: each writes a whole file into sb. */
static void
f_minimal(struct sbuf *sb)
{
	raw_valid_with(sb, "");
}

static void
f_every_field(struct sbuf *sb)
{
	raw_start(sb);
	raw_str(sb, 'S', "a@example.com");
	raw_str(sb, 'C', "192.0.2.1");
	raw_str(sb, 'N', "client.example");
	raw_str(sb, 'H', "[192.0.2.1]");
	raw_str(sb, 'U', "u");
	raw_str(sb, 'I', "x+2By");
	raw_str(sb, 'F', "FULL");
	raw_rec(sb, 'B', "8\1", 2);
	raw_rcpt_n(sb, 'D', 8, 1, "b", "utf-8;b");
	raw_rcpt_n(sb, 'P', 7, 1, "c", "");
	raw_end(sb, "");
}

static void
f_utf8_sender(struct sbuf *sb)
{
	raw_valid_with(sb, "Jos\xc3\xa9@ex\xc3\xa4mple.com \xf0\x9f\x93\xa7");
}

static void
f_empty(struct sbuf *sb)
{
	sbuf_reset(sb);
}

static void
f_garbage(struct sbuf *sb)
{
	sbuf_set(sb, "From alice@example.com Mon Jan  1 00:00:00 2024\n");
}

static void
f_version_2(struct sbuf *sb)
{
	f_minimal(sb);
	sb->data[19] = '2';
}

static void
f_version_other(struct sbuf *sb)
{
	sbuf_reset(sb);
	raw_str(sb, 'V', "postfix queue 1");
}

static void
f_version_len_0(struct sbuf *sb)
{
	sbuf_reset(sb);
	raw_rec(sb, 'V', "", 0);
}

static void
f_version_len_max(struct sbuf *sb)
{
	sbuf_reset(sb);
	sbuf_catc(sb, 'V');
	raw_u32(sb, 0xffffffff);
	sbuf_cat(sb, "postern-queue 1");
}

static void
f_version_twice(struct sbuf *sb)
{
	sbuf_reset(sb);
	raw_str(sb, 'V', "postern-queue 1");
	raw_str(sb, 'V', "postern-queue 1");
}

static void
f_no_arrival(struct sbuf *sb)
{
	sbuf_reset(sb);
	raw_str(sb, 'V', "postern-queue 1");
	raw_str(sb, 'P', "ESMTP");
}

static void
f_arrival_len_7(struct sbuf *sb)
{
	sbuf_reset(sb);
	raw_str(sb, 'V', "postern-queue 1");
	raw_rec(sb, 'T', "\0\0\0\0\0\0\1", 7);
}

static void
f_arrival_late(struct sbuf *sb)
{
	sbuf_reset(sb);
	raw_str(sb, 'V', "postern-queue 1");
	raw_u64(sb, 'T', QUEUE_ID_SEC_MAX + 1);
}

static void
f_arrival_all_ones(struct sbuf *sb)
{
	sbuf_reset(sb);
	raw_str(sb, 'V', "postern-queue 1");
	raw_u64(sb, 'T', UINT64_MAX);
}

static void
f_proto_unknown(struct sbuf *sb)
{
	sbuf_reset(sb);
	raw_str(sb, 'V', "postern-queue 1");
	raw_u64(sb, 'T', 1);
	raw_str(sb, 'P', "LMTP");
}

static void
f_proto_lower(struct sbuf *sb)
{
	sbuf_reset(sb);
	raw_str(sb, 'V', "postern-queue 1");
	raw_u64(sb, 'T', 1);
	raw_str(sb, 'P', "esmtp");
}

static void
f_proto_long(struct sbuf *sb)
{
	sbuf_reset(sb);
	raw_str(sb, 'V', "postern-queue 1");
	raw_u64(sb, 'T', 1);
	raw_str(sb, 'P', "ESMTPSA");
}

static void
f_sender_newline(struct sbuf *sb)
{
	raw_valid_with(sb, "a@b\nX-Injected: yes");
}

static void
f_sender_tab(struct sbuf *sb)
{
	raw_valid_with(sb, "a@b\tpending");
}

static void
f_sender_del(struct sbuf *sb)
{
	raw_valid_with(sb, "a@b\x7f");
}

static void
f_sender_escape(struct sbuf *sb)
{
	raw_valid_with(sb, "\x1b]0;owned\x07@b");
}

static void
f_sender_nul(struct sbuf *sb)
{
	raw_start(sb);
	raw_rec(sb, 'S', "a\0b", 3);
}

static void
f_sender_c1(struct sbuf *sb)
{
	raw_valid_with(sb, "a\xc2\x9b" "31m@b");
}

static void
f_sender_truncated_utf8(struct sbuf *sb)
{
	raw_valid_with(sb, "a@b\xc3");
}

static void
f_sender_lone_continuation(struct sbuf *sb)
{
	raw_valid_with(sb, "a\x80@b");
}

static void
f_sender_overlong(struct sbuf *sb)
{
	raw_valid_with(sb, "a\xc0\xaf@b");
}

static void
f_sender_overlong_3(struct sbuf *sb)
{
	raw_valid_with(sb, "a\xe0\x80\xaf@b");
}

static void
f_sender_surrogate(struct sbuf *sb)
{
	raw_valid_with(sb, "a\xed\xa0\x80@b");
}

static void
f_sender_past_unicode(struct sbuf *sb)
{
	raw_valid_with(sb, "a\xf4\x90\x80\x80@b");
}

static void
f_sender_latin1(struct sbuf *sb)
{
	raw_valid_with(sb, "J\xf6rg@b");
}

static void
f_sender_too_long(struct sbuf *sb)
{
	char big[QUEUE_TEXT_MAX + 2];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	raw_valid_with(sb, big);
}

static void
f_sender_longest(struct sbuf *sb)
{
	char big[QUEUE_TEXT_MAX + 1];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	raw_valid_with(sb, big);
}

static void
f_sender_twice(struct sbuf *sb)
{
	raw_start(sb);
	raw_str(sb, 'S', "a@b");
	raw_str(sb, 'S', "c@d");
}

static void
f_no_sender(struct sbuf *sb)
{
	raw_start(sb);
	raw_rcpt(sb, "bob@example.com");
}

static void
f_client_empty(struct sbuf *sb)
{
	raw_start(sb);
	raw_str(sb, 'S', "");
	raw_str(sb, 'C', "");
}

static void
f_fields_out_of_order(struct sbuf *sb)
{
	raw_start(sb);
	raw_str(sb, 'S', "");
	raw_str(sb, 'H', "helo.example");
	raw_str(sb, 'C', "192.0.2.1");
}

static void
f_field_after_rcpt(struct sbuf *sb)
{
	raw_start(sb);
	raw_str(sb, 'S', "");
	raw_rcpt(sb, "bob@example.com");
	raw_str(sb, 'C', "192.0.2.1");
}

static void
f_ret_lower(struct sbuf *sb)
{
	raw_start(sb);
	raw_str(sb, 'S', "");
	raw_str(sb, 'F', "full");
}

/* A valid file around a body record with the given data. */
static void
raw_with_body(struct sbuf *sb, const char *body, size_t len)
{
	raw_start(sb);
	raw_str(sb, 'S', "");
	raw_rec(sb, 'B', body, len);
	raw_rcpt(sb, "bob@example.com");
	raw_end(sb, "x");
}

static void
f_body_binary(struct sbuf *sb)
{
	raw_with_body(sb, "B\0", 2);
}

static void
f_body_7bit_utf8(struct sbuf *sb)
{
	raw_with_body(sb, "7\1", 2);
}

static void
f_body_7bit_spelt_out(struct sbuf *sb)
{
	raw_with_body(sb, "7\0", 2);
}

static void
f_body_lower(struct sbuf *sb)
{
	raw_with_body(sb, "b\0", 2);
}

static void
f_body_nul(struct sbuf *sb)
{
	raw_with_body(sb, "\0\0", 2);
}

static void
f_body_utf8_ascii(struct sbuf *sb)
{
	raw_with_body(sb, "81", 2);
}

static void
f_body_utf8_all_ones(struct sbuf *sb)
{
	raw_with_body(sb, "8\xff", 2);
}

static void
f_body_len_1(struct sbuf *sb)
{
	raw_with_body(sb, "8", 1);
}

static void
f_body_len_3(struct sbuf *sb)
{
	raw_with_body(sb, "8\1\0", 3);
}

static void
f_body_len_0(struct sbuf *sb)
{
	raw_with_body(sb, "", 0);
}

static void
f_body_before_ret(struct sbuf *sb)
{
	raw_start(sb);
	raw_str(sb, 'S', "");
	raw_rec(sb, 'B', "8\0", 2);
	raw_str(sb, 'F', "FULL");
}

static void
f_body_after_rcpt(struct sbuf *sb)
{
	raw_start(sb);
	raw_str(sb, 'S', "");
	raw_rcpt(sb, "bob@example.com");
	raw_rec(sb, 'B', "8\0", 2);
}

static void
f_body_twice(struct sbuf *sb)
{
	raw_start(sb);
	raw_str(sb, 'S', "");
	raw_rec(sb, 'B', "8\0", 2);
	raw_rec(sb, 'B', "8\0", 2);
}

static void
f_body_before_sender(struct sbuf *sb)
{
	raw_start(sb);
	raw_rec(sb, 'B', "8\0", 2);
}

static void
f_unknown_type(struct sbuf *sb)
{
	raw_start(sb);
	raw_str(sb, 'S', "");
	raw_str(sb, 'Z', "x");
}

static void
f_type_nul(struct sbuf *sb)
{
	raw_start(sb);
	raw_rec(sb, 0, "", 0);
}

static void
f_no_rcpt(struct sbuf *sb)
{
	raw_start(sb);
	raw_str(sb, 'S', "");
	raw_end(sb, "x");
}

static void
f_rcpt_status(struct sbuf *sb)
{
	raw_start(sb);
	raw_str(sb, 'S', "");
	raw_rcpt_n(sb, 'X', 0, 1, "b", "");
}

static void
f_rcpt_status_nul(struct sbuf *sb)
{
	raw_start(sb);
	raw_str(sb, 'S', "");
	raw_rcpt_n(sb, 0, 0, 1, "b", "");
}

static void
f_rcpt_never_and_success(struct sbuf *sb)
{
	raw_start(sb);
	raw_str(sb, 'S', "");
	raw_rcpt_n(sb, 'P', QUEUE_NOTIFY_NEVER | QUEUE_NOTIFY_SUCCESS, 1, "b",
	    "");
}

static void
f_rcpt_notify_bit(struct sbuf *sb)
{
	raw_start(sb);
	raw_str(sb, 'S', "");
	raw_rcpt_n(sb, 'P', 0x10, 1, "b", "");
}

static void
f_rcpt_short(struct sbuf *sb)
{
	raw_start(sb);
	raw_str(sb, 'S', "");
	raw_rec(sb, 'R', "P\0\0\0\0\0", 6);
}

static void
f_rcpt_alen_0(struct sbuf *sb)
{
	raw_start(sb);
	raw_str(sb, 'S', "");
	raw_rcpt_n(sb, 'P', 0, 0, "", "rfc822;b");
}

static void
f_rcpt_alen_past(struct sbuf *sb)
{
	raw_start(sb);
	raw_str(sb, 'S', "");
	raw_rcpt_n(sb, 'P', 0, 4, "bob", "");
}

static void
f_rcpt_alen_all_ones(struct sbuf *sb)
{
	raw_start(sb);
	raw_str(sb, 'S', "");
	raw_rcpt_n(sb, 'P', 0, 0xffffffff, "bob", "");
}

static void
f_rcpt_orcpt_long(struct sbuf *sb)
{
	char big[QUEUE_TEXT_MAX + 2];

	memset(big, 'o', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	raw_start(sb);
	raw_str(sb, 'S', "");
	raw_rcpt_n(sb, 'P', 0, 1, "b", big);
}

static void
f_rcpt_address_ctl(struct sbuf *sb)
{
	raw_start(sb);
	raw_str(sb, 'S', "");
	raw_rcpt_n(sb, 'P', 0, 4, "b\r\nc", "");
}

static void
f_rcpt_orcpt_bad_utf8(struct sbuf *sb)
{
	raw_start(sb);
	raw_str(sb, 'S', "");
	raw_rcpt_n(sb, 'P', 0, 1, "b", "utf-8;\xff");
}

static void
f_rcpt_after_end(struct sbuf *sb)
{
	f_minimal(sb);
	sbuf_truncate(sb, sbuf_len(sb) - 5);
	raw_rcpt(sb, "late@example.com");
}

static void
f_end_env_len_9(struct sbuf *sb)
{
	raw_start(sb);
	raw_str(sb, 'S', "");
	raw_rcpt(sb, "b");
	raw_rec(sb, 'E', "\0\0\0\0\0\0\0\0\0", 9);
}

static void
f_content_longer_than_file(struct sbuf *sb)
{
	raw_start(sb);
	raw_str(sb, 'S', "");
	raw_rcpt(sb, "b");
	raw_u64(sb, 'E', 100);
	sbuf_cat(sb, "short");
	raw_rec(sb, 'X', "", 0);
}

static void
f_content_size_huge(struct sbuf *sb)
{
	raw_start(sb);
	raw_str(sb, 'S', "");
	raw_rcpt(sb, "b");
	raw_u64(sb, 'E', UINT64_MAX);
	sbuf_cat(sb, "short");
	raw_rec(sb, 'X', "", 0);
}

static void
f_content_shorter_than_said(struct sbuf *sb)
{
	raw_start(sb);
	raw_str(sb, 'S', "");
	raw_rcpt(sb, "b");
	raw_u64(sb, 'E', 4);
	sbuf_cat(sb, "short");
	raw_rec(sb, 'X', "", 0);
}

static void
f_no_end(struct sbuf *sb)
{
	f_minimal(sb);
	sbuf_truncate(sb, sbuf_len(sb) - 5);
}

static void
f_end_len_1(struct sbuf *sb)
{
	f_minimal(sb);
	sbuf_truncate(sb, sbuf_len(sb) - 5);
	raw_rec(sb, 'X', "!", 1);
}

static void
f_end_wrong_type(struct sbuf *sb)
{
	f_minimal(sb);
	sb->data[sbuf_len(sb) - 5] = 'E';
}

static void
f_after_end(struct sbuf *sb)
{
	f_minimal(sb);
	sbuf_catc(sb, '\n');
}

static void
f_two_files(struct sbuf *sb)
{
	struct sbuf *one = sbuf_new();

	f_minimal(one);
	sbuf_reset(sb);
	sbuf_catn(sb, sbuf_str(one), sbuf_len(one));
	sbuf_catn(sb, sbuf_str(one), sbuf_len(one));
	sbuf_free(&one);
}

static void
f_record_len_all_ones(struct sbuf *sb)
{
	raw_start(sb);
	sbuf_catc(sb, 'S');
	raw_u32(sb, 0xffffffff);
	sbuf_cat(sb, "a@b");
}

static void
f_record_cut(struct sbuf *sb)
{
	raw_start(sb);
	sbuf_catc(sb, 'S');
	raw_u32(sb, 10);
	sbuf_cat(sb, "a@b");
}

static void
f_header_cut(struct sbuf *sb)
{
	raw_start(sb);
	sbuf_catn(sb, "S\0\0", 3);
}

/* Recipients up to the limit, and one more. */
static void
f_rcpt_max(struct sbuf *sb)
{
	raw_start(sb);
	raw_str(sb, 'S', "");
	for (int i = 0; i < QUEUE_RCPT_MAX; i++)
		raw_rcpt(sb, "r@example.com");
	raw_end(sb, "x");
}

static void
f_rcpt_over_max(struct sbuf *sb)
{
	raw_start(sb);
	raw_str(sb, 'S', "");
	for (int i = 0; i <= QUEUE_RCPT_MAX; i++)
		raw_rcpt(sb, "r@example.com");
	raw_end(sb, "x");
}

struct file_case {
	const char *name;
	void (*build)(struct sbuf *);
	const char *reason;	/* NULL: the file is valid */
};

static const struct file_case file_cases[] = {
	{ "minimal", f_minimal, NULL },
	{ "every field", f_every_field, NULL },
	{ "UTF-8 sender", f_utf8_sender, NULL },
	{ "longest sender", f_sender_longest, NULL },
	{ "most recipients", f_rcpt_max, NULL },
	{ "empty file", f_empty, "record 1: truncated" },
	{ "mbox file", f_garbage, "record 1: not a Postern queue file" },
	{ "version 2", f_version_2,
	    "record 1: unsupported queue file version" },
	{ "other version record", f_version_other,
	    "record 1: not a Postern queue file" },
	{ "version length 0", f_version_len_0,
	    "record 1: version record length 0 out of range" },
	{ "version length all ones", f_version_len_max,
	    "record 1: version record length 4294967295 out of range" },
	{ "version twice", f_version_twice,
	    "record 2: version record out of place" },
	{ "no arrival time", f_no_arrival,
	    "record 2: arrival time record missing" },
	{ "arrival length 7", f_arrival_len_7,
	    "record 2: arrival time record length 7 out of range" },
	{ "arrival past ids", f_arrival_late,
	    "record 2: arrival time 78364164096 out of range" },
	{ "arrival all ones", f_arrival_all_ones,
	    "record 2: arrival time 18446744073709551615 out of range" },
	{ "unknown protocol", f_proto_unknown, "record 3: unknown protocol" },
	{ "lower-case protocol", f_proto_lower, "record 3: unknown protocol" },
	{ "protocol too long", f_proto_long,
	    "record 3: protocol record length 7 out of range" },
	{ "newline in sender", f_sender_newline,
	    "record 4: sender: control character" },
	{ "tab in sender", f_sender_tab,
	    "record 4: sender: control character" },
	{ "DEL in sender", f_sender_del,
	    "record 4: sender: control character" },
	{ "escape in sender", f_sender_escape,
	    "record 4: sender: control character" },
	{ "NUL in sender", f_sender_nul,
	    "record 4: sender: control character" },
	{ "C1 CSI in sender", f_sender_c1,
	    "record 4: sender: control character" },
	{ "cut UTF-8", f_sender_truncated_utf8,
	    "record 4: sender: malformed UTF-8" },
	{ "lone continuation", f_sender_lone_continuation,
	    "record 4: sender: malformed UTF-8" },
	{ "overlong slash", f_sender_overlong,
	    "record 4: sender: malformed UTF-8" },
	{ "overlong 3 octets", f_sender_overlong_3,
	    "record 4: sender: malformed UTF-8" },
	{ "surrogate", f_sender_surrogate,
	    "record 4: sender: malformed UTF-8" },
	{ "past U+10FFFF", f_sender_past_unicode,
	    "record 4: sender: malformed UTF-8" },
	{ "Latin-1 sender", f_sender_latin1,
	    "record 4: sender: malformed UTF-8" },
	{ "sender too long", f_sender_too_long,
	    "record 4: sender record length 1025 out of range" },
	{ "sender twice", f_sender_twice,
	    "record 5: sender record out of place" },
	{ "no sender", f_no_sender, "record 4: sender record missing" },
	{ "empty client address", f_client_empty,
	    "record 5: client address record length 0 out of range" },
	{ "fields out of order", f_fields_out_of_order,
	    "record 6: client address record out of place" },
	{ "field after a recipient", f_field_after_rcpt,
	    "record 6: client address record out of place" },
	{ "lower-case RET", f_ret_lower, "record 5: unknown DSN RET" },
	{ "BINARYMIME body", f_body_binary, NULL },
	{ "7BIT body with SMTPUTF8", f_body_7bit_utf8, NULL },
	{ "7BIT body spelt out", f_body_7bit_spelt_out, NULL },
	{ "lower-case body type", f_body_lower,
	    "record 5: unknown body type octet 0x62" },
	{ "NUL body type", f_body_nul,
	    "record 5: unknown body type octet 0x00" },
	{ "SMTPUTF8 as ASCII '1'", f_body_utf8_ascii,
	    "record 5: SMTPUTF8 octet 0x31" },
	{ "SMTPUTF8 all ones", f_body_utf8_all_ones,
	    "record 5: SMTPUTF8 octet 0xff" },
	{ "body length 0", f_body_len_0,
	    "record 5: body record length 0 out of range" },
	{ "body length 1", f_body_len_1,
	    "record 5: body record length 1 out of range" },
	{ "body length 3", f_body_len_3,
	    "record 5: body record length 3 out of range" },
	{ "body before RET", f_body_before_ret,
	    "record 6: DSN RET record out of place" },
	{ "body after a recipient", f_body_after_rcpt,
	    "record 6: body record out of place" },
	{ "body twice", f_body_twice, "record 6: body record out of place" },
	{ "body before the sender", f_body_before_sender,
	    "record 4: sender record missing" },
	{ "unknown record type", f_unknown_type,
	    "record 5: unknown record type 'Z'" },
	{ "NUL record type", f_type_nul, "record 4: unknown record type 0x00" },
	{ "no recipient", f_no_rcpt, "record 5: recipient record missing" },
	{ "recipient status", f_rcpt_status,
	    "record 5: recipient status octet 0x58" },
	{ "recipient status NUL", f_rcpt_status_nul,
	    "record 5: recipient status octet 0x00" },
	{ "NOTIFY NEVER and SUCCESS", f_rcpt_never_and_success,
	    "record 5: recipient NOTIFY octet 0x09" },
	{ "NOTIFY unknown bit", f_rcpt_notify_bit,
	    "record 5: recipient NOTIFY octet 0x10" },
	{ "recipient too short", f_rcpt_short,
	    "record 5: recipient record length 6 out of range" },
	{ "recipient address length 0", f_rcpt_alen_0,
	    "record 5: recipient address length 0 out of range" },
	{ "recipient address past its record", f_rcpt_alen_past,
	    "record 5: recipient address length 4 out of range" },
	{ "recipient address length all ones", f_rcpt_alen_all_ones,
	    "record 5: recipient address length 4294967295 out of range" },
	{ "ORCPT too long", f_rcpt_orcpt_long,
	    "record 5: recipient ORCPT too long" },
	{ "CRLF in recipient", f_rcpt_address_ctl,
	    "record 5: recipient address: control character" },
	{ "bad UTF-8 in ORCPT", f_rcpt_orcpt_bad_utf8,
	    "record 5: recipient ORCPT: malformed UTF-8" },
	{ "recipient after the content", f_rcpt_after_end,
	    "record 7: end expected, found record type 'R'" },
	{ "end of envelope length 9", f_end_env_len_9,
	    "record 6: end of envelope record length 9 out of range" },
	{ "content longer than the file", f_content_longer_than_file,
	    "record 6: content truncated (10 of 100 octets)" },
	{ "content size all ones", f_content_size_huge,
	    "record 6: content truncated (10 of 18446744073709551615 octets)" },
	{ "content shorter than said", f_content_shorter_than_said,
	    "record 7: end expected, found record type 't'" },
	{ "no end record", f_no_end, "record 7: truncated" },
	{ "end record length 1", f_end_len_1,
	    "record 7: end record length 1 out of range" },
	{ "end record type", f_end_wrong_type,
	    "record 7: end expected, found record type 'E'" },
	{ "newline after the end", f_after_end,
	    "record 7: 1 octets after the end record" },
	{ "two files in one", f_two_files,
	    "record 7: 107 octets after the end record" },
	{ "record length all ones", f_record_len_all_ones,
	    "record 4: sender record length 4294967295 out of range" },
	{ "record cut short", f_record_cut, "record 4: truncated" },
	{ "record header cut short", f_header_cut, "record 4: truncated" },
	{ "too many recipients", f_rcpt_over_max,
	    "record 100005: more than 100000 recipients" },
};

static void
test_files(void **state)
{
	struct fixture *fx = *state;
	struct sbuf *data = sbuf_new(), *want = sbuf_new();

	for (size_t i = 0; i < NELEM(file_cases); i++) {
		const struct file_case *c = &file_cases[i];
		struct queue_file *qf;
		char *path;

		c->build(data);
		path = test_write_file(fx->dir, RAW_ID, sbuf_str(data),
		    sbuf_len(data));
		sbuf_set(fx->why, "");
		qf = queue_file_open(path, 0, fx->why);
		if (c->reason == NULL) {
			if (qf == NULL)
				fail_msg("%s: rejected: %s", c->name,
				    sbuf_str(fx->why));
			assert_string_equal(qf->id, RAW_ID);
			queue_file_close(&qf);
		} else {
			sbuf_setf(want, RAW_ID ": %s", c->reason);
			if (qf != NULL)
				fail_msg("%s: accepted", c->name);
			if (strcmp(sbuf_str(fx->why), sbuf_str(want)) != 0)
				fail_msg("%s: reason \"%s\", want \"%s\"",
				    c->name, sbuf_str(fx->why), sbuf_str(want));
		}
		unlink(path);
		free(path);
	}
	sbuf_free(&data);
	sbuf_free(&want);
}

/* A file the writer made, with optional fields and three recipients. */
static char *
small_message(struct fixture *fx, struct sbuf *id_r)
{
	static const struct queue_rcpt rcpts[] = {
		{ .address = "one@example.com", .notify = QUEUE_NOTIFY_NEVER },
		{ .address = "two@example.com", .orcpt = "rfc822;Two@x.org",
		    .notify = QUEUE_NOTIFY_SUCCESS | QUEUE_NOTIFY_DELAY },
		{ .address = "three@example.com" },
	};
	static const char content[] = "Received: by test\nSubject: t\n\nbody\n";

	return write_message(fx, &full_env, rcpts, NELEM(rcpts), content,
	    sizeof(content) - 1, 8, id_r);
}

/* Reads a whole file into a new sbuf. */
static struct sbuf *
slurp(const char *path)
{
	struct sbuf *data = sbuf_new(), *why = sbuf_new();

	if (safe_file_read(path, 1 << 24, data, why) < 0)
		fail_msg("%s", sbuf_str(why));
	sbuf_free(&why);
	return data;
}

/* Every prefix of a valid file is rejected, with a reason that names it. */
static void
test_truncated_everywhere(void **state)
{
	struct fixture *fx = *state;
	struct sbuf *id = sbuf_new(), *prefix = sbuf_new();
	char *path = small_message(fx, id);
	struct sbuf *data = slurp(path);
	struct queue_file *qf;

	sbuf_printf(prefix, "%s: record ", sbuf_str(id));
	for (size_t len = 0; len < sbuf_len(data); len++) {
		assert_int_equal(truncate(path, (off_t)len), 0);
		sbuf_reset(fx->why);
		if ((qf = queue_file_open(path, 0, fx->why)) != NULL)
			fail_msg("cut at %zu of %zu: accepted", len,
			    sbuf_len(data));
		if (strncmp(sbuf_str(fx->why), sbuf_str(prefix),
		    sbuf_len(prefix)) != 0)
			fail_msg("cut at %zu: reason \"%s\"", len,
			    sbuf_str(fx->why));
	}
	/* The whole file still opens, once rewritten. */
	assert_int_equal(safe_file_write(path, sbuf_str(data), sbuf_len(data),
	    0700, fx->why), 0);
	qf = open_ok(fx, path, 0);
	queue_file_close(&qf);
	free(path);
	sbuf_free(&data);
	sbuf_free(&id);
	sbuf_free(&prefix);
}

/* Writes data with its 32-bit field at off replaced by v; must not open. */
static void
assert_field_rejected(struct fixture *fx, const char *path,
    const struct sbuf *data, size_t off, size_t width, uint64_t v,
    const char *what)
{
	struct sbuf *copy = sbuf_new();
	struct queue_file *qf;

	sbuf_catn(copy, sbuf_str(data), sbuf_len(data));
	for (size_t i = 0; i < width; i++)
		copy->data[off + i] = (char)(v >> (8 * (width - 1 - i)));
	assert_int_equal(safe_file_write(path, sbuf_str(copy), sbuf_len(copy),
	    0700, fx->why), 0);
	sbuf_reset(fx->why);
	if ((qf = queue_file_open(path, 0, fx->why)) != NULL)
		fail_msg("%s set to %llu at offset %zu: accepted", what,
		    (unsigned long long)v, off);
	assert_non_null(strstr(sbuf_str(fx->why), ": record "));
	sbuf_free(&copy);
}

static uint64_t
get_be(const char *p, size_t width)
{
	uint64_t v = 0;

	for (size_t i = 0; i < width; i++)
		v = v << 8 | (unsigned char)p[i];
	return v;
}

/* Damaged length fields of every record of a valid file are caught. */
static void
test_lengths_damaged(void **state)
{
	struct fixture *fx = *state;
	char *path = small_message(fx, NULL);
	struct sbuf *data = slurp(path);
	size_t pos = 0, records = 0;

	for (;;) {
		int type = data->data[pos];
		uint64_t len = get_be(data->data + pos + 1, 4);
		static const uint64_t deltas[] = { 1, (uint64_t)-1 };

		for (size_t d = 0; d < NELEM(deltas); d++)
			assert_field_rejected(fx, path, data, pos + 1, 4,
			    (len + deltas[d]) & 0xffffffff, "record length");
		assert_field_rejected(fx, path, data, pos + 1, 4,
		    len ^ 0x80000000, "record length");
		assert_field_rejected(fx, path, data, pos + 1, 4, 0xffffffff,
		    "record length");
		records++;
		if (type == 'X')
			break;
		if (type == 'E') {
			uint64_t size = get_be(data->data + pos + 5, 8);

			assert_field_rejected(fx, path, data, pos + 5, 8,
			    size + 1, "content size");
			assert_field_rejected(fx, path, data, pos + 5, 8,
			    size - 1, "content size");
			assert_field_rejected(fx, path, data, pos + 5, 8,
			    size ^ (1ULL << 63), "content size");
			pos += 5 + len + size;
		} else
			pos += 5 + len;
	}
	/* V T P S C N H U I F B, three recipients, E, X */
	assert_int_equal(records, 16);
	free(path);
	sbuf_free(&data);
}

/* The writer's bytes, exactly as the header documents them. */
static void
test_exact_bytes(void **state)
{
	struct fixture *fx = *state;
	static const struct queue_envelope env = {
		.sender = "a@b",
		.proto = QUEUE_PROTO_SMTP,
		.helo = "h",
		.ret = QUEUE_RET_FULL,
		.body = QUEUE_BODY_BINARYMIME,
		.smtputf8 = true,
	};
	static const struct queue_rcpt rcpts[] = {
		{ .address = "c@d", .orcpt = "rfc822;C@D",
		    .notify = QUEUE_NOTIFY_FAILURE | QUEUE_NOTIFY_DELAY },
		{ .address = "e", .done = true },
	};
	struct sbuf *id = sbuf_new(), *want = sbuf_new();
	char *path = write_message(fx, &env, rcpts, NELEM(rcpts), "hi\0", 3,
	    3, id);
	struct sbuf *data = slurp(path);
	struct timeval tv;

	assert_int_equal(queue_id_time(sbuf_str(id), &tv), 0);
	raw_str(want, 'V', "postern-queue 1");
	raw_u64(want, 'T', (uint64_t)tv.tv_sec);
	raw_str(want, 'P', "SMTP");
	raw_str(want, 'S', "a@b");
	raw_str(want, 'H', "h");
	raw_str(want, 'F', "FULL");
	raw_rec(want, 'B', "B\1", 2);
	raw_rcpt_n(want, 'P', 6, 3, "c@d", "rfc822;C@D");
	raw_rcpt_n(want, 'D', 0, 1, "e", "");
	raw_u64(want, 'E', 3);
	sbuf_catn(want, "hi\0", 3);
	raw_rec(want, 'X', "", 0);
	assert_int_equal(sbuf_len(data), sbuf_len(want));
	assert_memory_equal(sbuf_str(data), sbuf_str(want), sbuf_len(want));
	free(path);
	sbuf_free(&data);
	sbuf_free(&want);
	sbuf_free(&id);
}

/* True when the head of the file in data holds a record of type. */
static bool
head_has_record(const struct sbuf *data, int type)
{
	size_t pos = 0;

	while (pos + 5 <= sbuf_len(data) && data->data[pos] != 'E') {
		if (data->data[pos] == type)
			return true;
		pos += 5 + get_be(data->data + pos + 1, 4);
	}
	return false;
}

/*
 * Every body type with and without SMTPUTF8 comes back as written; the
 * body record is there only when it says more than the default, and the
 * render shows what it says.
 */
static void
test_body_round_trip(void **state)
{
	struct fixture *fx = *state;
	static const enum queue_body bodies[] = { QUEUE_BODY_7BIT,
		QUEUE_BODY_8BITMIME, QUEUE_BODY_BINARYMIME };
	static const char *const lines[] = { NULL, "\nbody: 8BITMIME\n",
		"\nbody: BINARYMIME\n" };
	struct queue_rcpt rcpt = { .address = "bob@example.com" };
	struct sbuf *out = sbuf_new(), *data;
	struct queue_file *qf;
	char *path;

	for (size_t b = 0; b < NELEM(bodies); b++)
		for (int u = 0; u < 2; u++) {
			struct queue_envelope env = local_env;

			env.body = bodies[b];
			env.smtputf8 = u;
			path = write_message(fx, &env, &rcpt, 1, "x\n", 2, 2,
			    NULL);
			data = slurp(path);
			assert_int_equal(head_has_record(data, 'B'),
			    b != 0 || u != 0);
			qf = open_ok(fx, path, 0);
			assert_env_equal(&qf->env, &env);
			sbuf_reset(out);
			assert_int_equal(queue_file_render(qf, out, fx->why),
			    0);
			if (lines[b] != NULL)
				assert_non_null(strstr(sbuf_str(out),
				    lines[b]));
			else
				assert_null(strstr(sbuf_str(out), "body:"));
			assert_int_equal(strstr(sbuf_str(out),
			    "\nsmtputf8: yes\n") != NULL, u);
			queue_file_close(&qf);
			unlink(path);
			free(path);
			sbuf_free(&data);
		}
	/* A file without the record: 7BIT, no SMTPUTF8. */
	data = sbuf_new();
	f_minimal(data);
	path = test_write_file(fx->dir, RAW_ID, sbuf_str(data),
	    sbuf_len(data));
	qf = open_ok(fx, path, 0);
	assert_int_equal(qf->env.body, QUEUE_BODY_7BIT);
	assert_false(qf->env.smtputf8);
	queue_file_close(&qf);
	free(path);
	sbuf_free(&data);
	sbuf_free(&out);
}

/* Commit: one file named by its id, mode 0700, no temporary file left. */
static void
test_commit_names_and_modes(void **state)
{
	struct fixture *fx = *state;
	struct queue_writer *w = writer_ok(fx);
	struct queue_rcpt rcpt = { .address = "bob@example.com" };
	struct sbuf *id = sbuf_new(), *path = sbuf_new();
	struct dirent *de;
	struct stat st;
	DIR *dir;
	int temps = 0;

	sbuf_set(id, queue_writer_id(w));
	assert_true(queue_id_valid(sbuf_str(id)));
	/* While written: one temporary file, mode 0600, not an id. */
	assert_non_null(dir = opendir(fx->incoming));
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		assert_false(queue_id_valid(de->d_name));
		assert_int_equal(strncmp(de->d_name, QUEUE_TMP_PREFIX,
		    strlen(QUEUE_TMP_PREFIX)), 0);
		sbuf_setf(path, "%s/%s", fx->incoming, de->d_name);
		assert_int_equal(stat(sbuf_str(path), &st), 0);
		assert_int_equal(st.st_mode & 07777, QUEUE_MODE_WRITING);
		temps++;
	}
	closedir(dir);
	assert_int_equal(temps, 1);
	assert_int_equal(queue_writer_envelope(w, &full_env, fx->why), 0);
	assert_int_equal(queue_writer_add_rcpt(w, &rcpt, fx->why), 0);
	assert_int_equal(queue_writer_write(w, "x\n", 2, fx->why),
	    QUEUE_WRITE_OK);
	assert_int_equal(queue_writer_commit(&w, fx->why), QUEUE_WRITE_OK);
	assert_null(w);
	{
		const char *names[] = { sbuf_str(id) };

		test_assert_dir_holds(fx->incoming, names, 1);
	}
	sbuf_setf(path, "%s/%s", fx->incoming, sbuf_str(id));
	assert_int_equal(stat(sbuf_str(path), &st), 0);
	assert_int_equal(st.st_mode & 07777, QUEUE_MODE_COMPLETE);
	sbuf_free(&id);
	sbuf_free(&path);
}

/* The id's inode part is the file's inode. */
static void
test_id_is_inode(void **state)
{
	struct fixture *fx = *state;
	struct sbuf *id = sbuf_new(), *want = sbuf_new();
	char *path = small_message(fx, id);
	struct timeval tv;
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(queue_id_time(sbuf_str(id), &tv), 0);
	assert_int_equal(queue_id_make(&tv, st.st_ino, want, fx->why), 0);
	assert_string_equal(sbuf_str(id), sbuf_str(want));
	free(path);
	sbuf_free(&id);
	sbuf_free(&want);
}

/* Abort at any stage leaves nothing, even after a buffer was written. */
static void
test_abort(void **state)
{
	struct fixture *fx = *state;
	struct queue_rcpt rcpt = { .address = "bob@example.com" };
	struct queue_writer *none = NULL;
	struct sbuf *big = sbuf_new();

	for (int i = 0; i < 200000; i++)
		sbuf_catc(big, 'x');
	queue_writer_abort(&none);
	for (int stage = 0; stage < 4; stage++) {
		struct queue_writer *w = writer_ok(fx);

		if (stage >= 1)
			assert_int_equal(queue_writer_envelope(w, &full_env,
			    fx->why), 0);
		if (stage >= 2)
			assert_int_equal(queue_writer_add_rcpt(w, &rcpt,
			    fx->why), 0);
		if (stage >= 3)
			assert_int_equal(queue_writer_write(w, sbuf_str(big),
			    sbuf_len(big), fx->why), QUEUE_WRITE_OK);
		queue_writer_abort(&w);
		assert_null(w);
		test_assert_dir_holds(fx->incoming, NULL, 0);
	}
	sbuf_free(&big);
}

/*
 * QUEUE_OPEN_LOCK: a second opener waits until the first closes, and
 * then sees the done flags the first wrote.
 */
static void
test_open_lock(void **state)
{
	struct fixture *fx = *state;
	char *path = small_message(fx, NULL);
	struct queue_file *qf;
	struct pollfd pfd;
	int pipefd[2];
	char byte;
	pid_t pid;

	qf = open_ok(fx, path, QUEUE_OPEN_UPDATE | QUEUE_OPEN_LOCK);
	assert_int_equal(pipe(pipefd), 0);
	if ((pid = fork()) == 0) {
		struct sbuf *why = sbuf_new();
		struct queue_file *other;

		/* The lock belongs to the inherited open file, too. */
		close(qf->fd);
		close(pipefd[0]);
		other = queue_file_open(path, QUEUE_OPEN_LOCK, why);
		byte = other != NULL && other->rcpts[1].done ? 'D' : 'P';
		(void)write(pipefd[1], &byte, 1);
		_exit(0);
	}
	assert_true(pid > 0);
	close(pipefd[1]);
	pfd.fd = pipefd[0];
	pfd.events = POLLIN;
	/* Still locked: the child has not opened the file. */
	assert_int_equal(poll(&pfd, 1, 300), 0);
	assert_int_equal(queue_file_mark_done(qf, 1, fx->why), 0);
	queue_file_close(&qf);
	assert_int_equal(read(pipefd[0], &byte, 1), 1);
	assert_int_equal(byte, 'D');
	close(pipefd[0]);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	free(path);
}

/* Marking done: in place, durable across reopening, idempotent. */
static void
test_mark_done(void **state)
{
	struct fixture *fx = *state;
	char *path = small_message(fx, NULL);
	struct sbuf *before = slurp(path), *after;
	struct queue_file *qf;
	size_t changed = 0;

	qf = open_ok(fx, path, QUEUE_OPEN_UPDATE);
	assert_int_equal(qf->rcpt_count, 3);
	assert_false(qf->rcpts[1].done);
	assert_int_equal(queue_file_mark_done(qf, 1, fx->why), 0);
	assert_true(qf->rcpts[1].done);
	assert_int_equal(queue_file_mark_done(qf, 1, fx->why), 0);
	assert_false(queue_file_all_done(qf));
	/* Out of range. */
	assert_int_equal(queue_file_mark_done(qf, 3, fx->why), -1);
	assert_non_null(strstr(sbuf_str(fx->why), "no recipient 3"));
	assert_int_equal(queue_file_mark_done(qf, SIZE_MAX, fx->why), -1);
	queue_file_close(&qf);

	/* Exactly one octet changed, from 'P' to 'D'. */
	after = slurp(path);
	assert_int_equal(sbuf_len(after), sbuf_len(before));
	for (size_t i = 0; i < sbuf_len(after); i++)
		if (after->data[i] != before->data[i]) {
			assert_int_equal(before->data[i], 'P');
			assert_int_equal(after->data[i], 'D');
			changed++;
		}
	assert_int_equal(changed, 1);

	qf = open_ok(fx, path, 0);
	assert_false(qf->rcpts[0].done);
	assert_true(qf->rcpts[1].done);
	assert_false(qf->rcpts[2].done);
	/* Read-only: a done recipient is no work, a pending one fails. */
	assert_int_equal(queue_file_mark_done(qf, 1, fx->why), 0);
	assert_int_equal(queue_file_mark_done(qf, 0, fx->why), -1);
	assert_non_null(strstr(sbuf_str(fx->why), "not opened for update"));
	assert_false(qf->rcpts[0].done);
	queue_file_close(&qf);

	qf = open_ok(fx, path, QUEUE_OPEN_UPDATE);
	assert_int_equal(queue_file_mark_done(qf, 0, fx->why), 0);
	assert_int_equal(queue_file_mark_done(qf, 2, fx->why), 0);
	assert_true(queue_file_all_done(qf));
	queue_file_close(&qf);
	qf = open_ok(fx, path, 0);
	assert_true(queue_file_all_done(qf));
	queue_file_close(&qf);
	sbuf_free(&before);
	sbuf_free(&after);
	free(path);
}

static void
test_open_errors(void **state)
{
	struct fixture *fx = *state;
	struct sbuf *p = sbuf_new();
	struct queue_file *qf;

	sbuf_printf(p, "%s/nonexistent", fx->dir);
	assert_null(queue_file_open(sbuf_str(p), 0, fx->why));
	sbuf_printf(p, ": %s", strerror(ENOENT));
	assert_non_null(strstr(sbuf_str(fx->why), sbuf_str(p)));

	assert_null(queue_file_open(fx->incoming, 0, fx->why));
	assert_non_null(strstr(sbuf_str(fx->why), "not a regular file"));

	/* A FIFO neither blocks the open nor passes for a file. */
	sbuf_setf(p, "%s/fifo", fx->dir);
	assert_int_equal(mkfifo(sbuf_str(p), 0600), 0);
	assert_null(queue_file_open(sbuf_str(p), 0, fx->why));
	assert_non_null(strstr(sbuf_str(fx->why), "not a regular file"));
	assert_null(queue_file_open(sbuf_str(p), QUEUE_OPEN_UPDATE, fx->why));

	/* A file name that is no queue id: reasons name the path. */
	sbuf_setf(p, "%s/not-an-id", fx->dir);
	assert_int_equal(safe_file_write(sbuf_str(p), "V\0\0\0\1x", 6, 0600,
	    fx->why), 0);
	assert_null(queue_file_open(sbuf_str(p), 0, fx->why));
	sbuf_catn(p, ": record 1: ", 12);
	assert_int_equal(strncmp(sbuf_str(fx->why), sbuf_str(p), sbuf_len(p)),
	    0);

	/* Read-only files open read-only. */
	{
		char *path = small_message(fx, NULL);

		assert_int_equal(chmod(path, 0400), 0);
		qf = open_ok(fx, path, 0);
		assert_non_null(qf->id);
		queue_file_close(&qf);
		queue_file_close(&qf);	/* accepts NULL */
		free(path);
	}
	sbuf_free(&p);
}

static void
test_read_bounds(void **state)
{
	struct fixture *fx = *state;
	struct queue_rcpt rcpt = { .address = "b" };
	char *path = write_message(fx, &local_env, &rcpt, 1, "0123456789", 10,
	    10, NULL);
	struct queue_file *qf = open_ok(fx, path, 0);
	char buf[32];

	assert_int_equal(queue_file_read(qf, 0, buf, 4, fx->why), 4);
	assert_memory_equal(buf, "0123", 4);
	assert_int_equal(queue_file_read(qf, 7, buf, sizeof(buf), fx->why), 3);
	assert_memory_equal(buf, "789", 3);
	assert_int_equal(queue_file_read(qf, 10, buf, sizeof(buf), fx->why), 0);
	assert_int_equal(queue_file_read(qf, 1000, buf, sizeof(buf), fx->why),
	    0);
	assert_int_equal(queue_file_read(qf, 0, buf, 0, fx->why), 0);
	assert_int_equal(queue_file_read(qf, -1, buf, sizeof(buf), fx->why),
	    -1);
	/* The file cut after it was opened. */
	assert_int_equal(truncate(path, qf->content_offset + 5), 0);
	assert_int_equal(queue_file_read(qf, 0, buf, 10, fx->why), -1);
	assert_non_null(strstr(sbuf_str(fx->why), "shrank"));
	queue_file_close(&qf);
	free(path);
}

static void
test_render(void **state)
{
	struct fixture *fx = *state;
	static const char want[] =
	    "queue_id: " RAW_ID "\n"
	    "arrival_time: 1700000000 (2023-11-14 22:13:20 UTC)\n"
	    "message_size: 0\n"
	    "protocol: ESMTP\n"
	    "sender: a@example.com\n"
	    "client_address: 192.0.2.1\n"
	    "client_name: client.example\n"
	    "helo_name: [192.0.2.1]\n"
	    "auth_user: u\n"
	    "dsn_envid: x+2By\n"
	    "dsn_ret: FULL\n"
	    "body: 8BITMIME\n"
	    "smtputf8: yes\n"
	    "recipient: b\tdone\tnotify=NEVER\torcpt=utf-8;b\n"
	    "recipient: c\tpending\tnotify=SUCCESS,FAILURE,DELAY\n"
	    "\n";
	static const char want_local[] =
	    "arrival_time: 1700000000 (2023-11-14 22:13:20 UTC)\n"
	    "message_size: 15\n"
	    "protocol: ESMTP\n"
	    "sender: \n"
	    "recipient: bob@example.com\tpending\n"
	    "\n"
	    "Subject: x\n\nhi\n";
	struct sbuf *data = sbuf_new(), *out = sbuf_new();
	struct queue_file *qf;
	char *path;

	f_every_field(data);
	path = test_write_file(fx->dir, RAW_ID, sbuf_str(data), sbuf_len(data));
	qf = open_ok(fx, path, 0);
	sbuf_set(out, "kept\n");
	assert_int_equal(queue_file_render(qf, out, fx->why), 0);
	assert_string_equal(sbuf_str(out) + 5, want);
	assert_memory_equal(sbuf_str(out), "kept\n", 5);
	/* Over the output's limit: an error, not a silent cut. */
	sbuf_reset(out);
	sbuf_set_limit(out, 100);
	assert_int_equal(queue_file_render(qf, out, fx->why), -1);
	assert_non_null(strstr(sbuf_str(fx->why), "over the buffer limit"));
	queue_file_close(&qf);
	free(path);

	f_minimal(data);
	path = test_write_file(fx->dir, "plain", sbuf_str(data),
	    sbuf_len(data));
	qf = open_ok(fx, path, 0);
	sbuf_free(&out);
	out = sbuf_new();
	assert_int_equal(queue_file_render(qf, out, fx->why), 0);
	assert_string_equal(sbuf_str(out), want_local);
	/* The content's limit too. */
	sbuf_reset(out);
	sbuf_set_limit(out, sizeof(want_local) - 2);
	assert_int_equal(queue_file_render(qf, out, fx->why), -1);
	queue_file_close(&qf);
	free(path);
	sbuf_free(&data);
	sbuf_free(&out);
}

/* The render of NUL octets in content keeps them. */
static void
test_render_binary_content(void **state)
{
	struct fixture *fx = *state;
	struct queue_rcpt rcpt = { .address = "b" };
	struct sbuf *content = sbuf_new(), *out = sbuf_new();
	struct queue_file *qf;
	char *path;

	hostile_content(content);
	path = write_message(fx, &local_env, &rcpt, 1, sbuf_str(content),
	    sbuf_len(content), 5000, NULL);
	qf = open_ok(fx, path, 0);
	assert_int_equal(queue_file_render(qf, out, fx->why), 0);
	assert_true(sbuf_len(out) > sbuf_len(content));
	assert_memory_equal(sbuf_str(out) + sbuf_len(out) - sbuf_len(content),
	    sbuf_str(content), sbuf_len(content));
	queue_file_close(&qf);
	free(path);
	sbuf_free(&content);
	sbuf_free(&out);
}

/*
 * The descriptor this process has open on the one temporary file in dir
 * (matched by device and inode), or -1.
 */
static int
fd_of_temp(const char *dir)
{
	struct sbuf *path = sbuf_new();
	struct stat want, st;
	struct dirent *de;
	DIR *d = opendir(dir);
	int found = -1;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, QUEUE_TMP_PREFIX,
		    strlen(QUEUE_TMP_PREFIX)) == 0)
			sbuf_setf(path, "%s/%s", dir, de->d_name);
	closedir(d);
	assert_int_equal(stat(sbuf_str(path), &want), 0);
	for (int fd = 0; fd < 1024 && found < 0; fd++)
		if (fstat(fd, &st) == 0 && st.st_dev == want.st_dev &&
		    st.st_ino == want.st_ino)
			found = fd;
	sbuf_free(&path);
	return found;
}

/*
 * Opens a writer, with envelope and recipient, whose descriptor has been
 * replaced by /dev/full; NULL where there is no /dev/full.
 */
static struct queue_writer *
writer_on_full_disk(struct fixture *fx)
{
	struct queue_writer *w = writer_ok(fx);
	struct queue_rcpt rcpt = { .address = "bob@example.com" };
	int fd = fd_of_temp(fx->incoming);
	int full = open("/dev/full", O_WRONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	if (full < 0) {
		if (full >= 0)
			close(full);
		queue_writer_abort(&w);
		return NULL;
	}
	assert_int_equal(dup2(full, fd), fd);
	close(full);
	assert_int_equal(queue_writer_envelope(w, &full_env, fx->why), 0);
	assert_int_equal(queue_writer_add_rcpt(w, &rcpt, fx->why), 0);
	return w;
}

static void
test_disk_full(void **state)
{
	struct fixture *fx = *state;
	struct queue_writer *w;
	struct sbuf *big = sbuf_new();

	for (int i = 0; i < 100000; i++)
		sbuf_catc(big, 'x');

	/* Full at commit: the first write of a small message. */
	if ((w = writer_on_full_disk(fx)) == NULL) {
		sbuf_free(&big);
		skip();
	}
	assert_int_equal(queue_writer_write(w, "small\n", 6, fx->why),
	    QUEUE_WRITE_OK);
	sbuf_reset(fx->why);
	assert_int_equal(queue_writer_commit(&w, fx->why),
	    QUEUE_WRITE_NOSPACE);
	assert_null(w);
	assert_non_null(strstr(sbuf_str(fx->why), strerror(ENOSPC)));
	test_assert_dir_holds(fx->incoming, NULL, 0);

	/* Full in the middle of the content: the status sticks. */
	w = writer_on_full_disk(fx);
	assert_non_null(w);
	assert_int_equal(queue_writer_write(w, sbuf_str(big), sbuf_len(big),
	    fx->why), QUEUE_WRITE_NOSPACE);
	test_assert_dir_holds(fx->incoming, NULL, 0);
	sbuf_reset(fx->why);
	assert_int_equal(queue_writer_write(w, "more", 4, fx->why),
	    QUEUE_WRITE_NOSPACE);
	assert_non_null(strstr(sbuf_str(fx->why), strerror(ENOSPC)));
	sbuf_reset(fx->why);
	assert_int_equal(queue_writer_commit(&w, fx->why),
	    QUEUE_WRITE_NOSPACE);
	assert_non_null(strstr(sbuf_str(fx->why), strerror(ENOSPC)));
	test_assert_dir_holds(fx->incoming, NULL, 0);

	/* Abort after the failure is fine too. */
	w = writer_on_full_disk(fx);
	assert_non_null(w);
	assert_int_equal(queue_writer_write(w, sbuf_str(big), sbuf_len(big),
	    fx->why), QUEUE_WRITE_NOSPACE);
	queue_writer_abort(&w);
	test_assert_dir_holds(fx->incoming, NULL, 0);
	sbuf_free(&big);
}

static void
test_size_limit(void **state)
{
	struct fixture *fx = *state;
	struct queue_rcpt rcpt = { .address = "bob@example.com" };
	struct queue_writer *w;
	struct queue_file *qf;
	struct sbuf *id = sbuf_new(), *path = sbuf_new();
	char chunk[500];

	memset(chunk, 'c', sizeof(chunk));
	/* Exactly at the limit is accepted. */
	w = writer_ok(fx);
	queue_writer_set_size_limit(w, 1000);
	sbuf_set(id, queue_writer_id(w));
	assert_int_equal(queue_writer_envelope(w, &full_env, fx->why), 0);
	assert_int_equal(queue_writer_add_rcpt(w, &rcpt, fx->why), 0);
	assert_int_equal(queue_writer_write(w, chunk, 500, fx->why),
	    QUEUE_WRITE_OK);
	assert_int_equal(queue_writer_write(w, chunk, 500, fx->why),
	    QUEUE_WRITE_OK);
	assert_int_equal(queue_writer_commit(&w, fx->why), QUEUE_WRITE_OK);
	sbuf_setf(path, "%s/%s", fx->incoming, sbuf_str(id));
	qf = open_ok(fx, sbuf_str(path), 0);
	assert_int_equal(qf->content_size, 1000);
	queue_file_close(&qf);
	assert_int_equal(unlink(sbuf_str(path)), 0);

	/* One octet over is TOOBIG at once, and it sticks. */
	w = writer_ok(fx);
	queue_writer_set_size_limit(w, 1000);
	assert_int_equal(queue_writer_envelope(w, &full_env, fx->why), 0);
	assert_int_equal(queue_writer_add_rcpt(w, &rcpt, fx->why), 0);
	assert_int_equal(queue_writer_write(w, chunk, 500, fx->why),
	    QUEUE_WRITE_OK);
	assert_int_equal(queue_writer_write(w, chunk, 500, fx->why),
	    QUEUE_WRITE_OK);
	assert_int_equal(queue_writer_write(w, "!", 1, fx->why),
	    QUEUE_WRITE_TOOBIG);
	assert_string_equal(sbuf_str(fx->why),
	    "message content exceeds the size limit of 1000 octets");
	test_assert_dir_holds(fx->incoming, NULL, 0);
	assert_int_equal(queue_writer_write(w, "", 0, fx->why),
	    QUEUE_WRITE_TOOBIG);
	sbuf_reset(fx->why);
	assert_int_equal(queue_writer_commit(&w, fx->why),
	    QUEUE_WRITE_TOOBIG);
	assert_non_null(strstr(sbuf_str(fx->why), "size limit"));
	test_assert_dir_holds(fx->incoming, NULL, 0);
	sbuf_free(&id);
	sbuf_free(&path);
}

/* The writer takes the largest count of recipients and no more. */
static void
test_writer_rcpt_limit(void **state)
{
	struct fixture *fx = *state;
	struct queue_writer *w = writer_ok(fx);
	struct queue_rcpt rcpt = { .address = "r@example.com" };
	struct sbuf *id = sbuf_new(), *path = sbuf_new();
	struct queue_file *qf;

	sbuf_set(id, queue_writer_id(w));
	assert_int_equal(queue_writer_envelope(w, &local_env, fx->why), 0);
	for (int i = 0; i < QUEUE_RCPT_MAX; i++)
		if (queue_writer_add_rcpt(w, &rcpt, fx->why) != 0)
			fail_msg("recipient %d: %s", i, sbuf_str(fx->why));
	assert_int_equal(queue_writer_add_rcpt(w, &rcpt, fx->why), -1);
	assert_string_equal(sbuf_str(fx->why), "more than 100000 recipients");
	assert_int_equal(queue_writer_commit(&w, fx->why), QUEUE_WRITE_OK);
	sbuf_setf(path, "%s/%s", fx->incoming, sbuf_str(id));
	qf = open_ok(fx, sbuf_str(path), 0);
	assert_int_equal(qf->rcpt_count, QUEUE_RCPT_MAX);
	assert_int_equal(qf->content_size, 0);
	queue_file_close(&qf);
	sbuf_free(&id);
	sbuf_free(&path);
}

/*
 * Misuse of the writer: each row makes one call that must fail (commit
 * frees the writer and clears the pointer).
 */
static int
m_rcpt_before_envelope(struct queue_writer **w, struct sbuf *why)
{
	struct queue_rcpt r = { .address = "b" };

	return queue_writer_add_rcpt(*w, &r, why);
}

static int
m_content_before_envelope(struct queue_writer **w, struct sbuf *why)
{
	return queue_writer_write(*w, "x", 1, why) == QUEUE_WRITE_ERROR ?
	    -1 : 0;
}

static int
m_content_before_rcpt(struct queue_writer **w, struct sbuf *why)
{
	queue_writer_envelope(*w, &full_env, why);
	return queue_writer_write(*w, "x", 1, why) == QUEUE_WRITE_ERROR ?
	    -1 : 0;
}

static int
m_envelope_twice(struct queue_writer **w, struct sbuf *why)
{
	queue_writer_envelope(*w, &full_env, why);
	return queue_writer_envelope(*w, &full_env, why);
}

static int
envelope_with(struct queue_writer *w, struct sbuf *why,
    void (*change)(struct queue_envelope *))
{
	struct queue_envelope env = full_env;

	change(&env);
	return queue_writer_envelope(w, &env, why);
}

static void
c_no_proto(struct queue_envelope *env)
{
	env->proto = 0;
}

static void
c_bad_proto(struct queue_envelope *env)
{
	env->proto = 99;
}

static void
c_bad_ret(struct queue_envelope *env)
{
	env->ret = 3;
}

static void
c_bad_body(struct queue_envelope *env)
{
	env->body = 3;
}

static void
c_no_sender(struct queue_envelope *env)
{
	env->sender = NULL;
}

static void
c_helo_crlf(struct queue_envelope *env)
{
	env->helo = "x\r\nRCPT TO:<evil>";
}

static void
c_envid_latin1(struct queue_envelope *env)
{
	env->envid = "caf\xe9";
}

static void
c_sender_long(struct queue_envelope *env)
{
	static char big[QUEUE_TEXT_MAX + 2];

	memset(big, 's', sizeof(big) - 1);
	env->sender = big;
}

static int
m_no_proto(struct queue_writer **w, struct sbuf *why)
{
	return envelope_with(*w, why, c_no_proto);
}

static int
m_bad_proto(struct queue_writer **w, struct sbuf *why)
{
	return envelope_with(*w, why, c_bad_proto);
}

static int
m_bad_ret(struct queue_writer **w, struct sbuf *why)
{
	return envelope_with(*w, why, c_bad_ret);
}

static int
m_bad_body(struct queue_writer **w, struct sbuf *why)
{
	return envelope_with(*w, why, c_bad_body);
}

static int
m_no_sender(struct queue_writer **w, struct sbuf *why)
{
	return envelope_with(*w, why, c_no_sender);
}

static int
m_helo_crlf(struct queue_writer **w, struct sbuf *why)
{
	return envelope_with(*w, why, c_helo_crlf);
}

static int
m_envid_latin1(struct queue_writer **w, struct sbuf *why)
{
	return envelope_with(*w, why, c_envid_latin1);
}

static int
m_sender_long(struct queue_writer **w, struct sbuf *why)
{
	return envelope_with(*w, why, c_sender_long);
}

static int
rcpt_after_envelope(struct queue_writer *w, struct sbuf *why,
    const char *address, const char *orcpt, int notify)
{
	struct queue_rcpt r = { .address = address, .orcpt = orcpt,
		.notify = notify };

	queue_writer_envelope(w, &full_env, why);
	return queue_writer_add_rcpt(w, &r, why);
}

static int
m_rcpt_empty(struct queue_writer **w, struct sbuf *why)
{
	return rcpt_after_envelope(*w, why, "", NULL, 0);
}

static int
m_rcpt_null(struct queue_writer **w, struct sbuf *why)
{
	return rcpt_after_envelope(*w, why, NULL, NULL, 0);
}

static int
m_rcpt_never_and_failure(struct queue_writer **w, struct sbuf *why)
{
	return rcpt_after_envelope(*w, why, "b", NULL,
	    QUEUE_NOTIFY_NEVER | QUEUE_NOTIFY_FAILURE);
}

static int
m_rcpt_notify_bit(struct queue_writer **w, struct sbuf *why)
{
	return rcpt_after_envelope(*w, why, "b", NULL, 0x40);
}

static int
m_rcpt_orcpt_tab(struct queue_writer **w, struct sbuf *why)
{
	return rcpt_after_envelope(*w, why, "b", "rfc822;b\tc", 0);
}

static int
m_rcpt_address_c1(struct queue_writer **w, struct sbuf *why)
{
	return rcpt_after_envelope(*w, why, "b\xc2\x80", NULL, 0);
}

static int
m_rcpt_after_content(struct queue_writer **w, struct sbuf *why)
{
	rcpt_after_envelope(*w, why, "b", NULL, 0);
	queue_writer_write(*w, "x", 1, why);
	return rcpt_after_envelope(*w, why, "c", NULL, 0);
}

static int
m_commit_no_envelope(struct queue_writer **w, struct sbuf *why)
{
	return queue_writer_commit(w, why) == QUEUE_WRITE_ERROR ? -1 : 0;
}

static int
m_commit_no_rcpt(struct queue_writer **w, struct sbuf *why)
{
	queue_writer_envelope(*w, &full_env, why);
	return queue_writer_commit(w, why) == QUEUE_WRITE_ERROR ? -1 : 0;
}

struct misuse_case {
	const char *name;
	int (*misuse)(struct queue_writer **, struct sbuf *);
	const char *reason;
};

static const struct misuse_case misuse_cases[] = {
	{ "recipient before the envelope", m_rcpt_before_envelope,
	    "recipient before the envelope" },
	{ "content before the envelope", m_content_before_envelope,
	    "content before the envelope" },
	{ "content before a recipient", m_content_before_rcpt,
	    "content before any recipient" },
	{ "envelope twice", m_envelope_twice, "envelope set twice" },
	{ "no protocol", m_no_proto, "no protocol" },
	{ "unknown protocol", m_bad_proto, "no protocol" },
	{ "unknown RET", m_bad_ret, "invalid DSN RET" },
	{ "unknown body type", m_bad_body, "invalid body type" },
	{ "no sender", m_no_sender, "no sender" },
	{ "CRLF in HELO", m_helo_crlf, "HELO name: control character" },
	{ "Latin-1 ENVID", m_envid_latin1, "DSN ENVID: malformed UTF-8" },
	{ "sender too long", m_sender_long,
	    "sender too long (1025 octets, at most 1024)" },
	{ "empty recipient", m_rcpt_empty, "empty recipient address" },
	{ "NULL recipient", m_rcpt_null, "empty recipient address" },
	{ "NEVER with FAILURE", m_rcpt_never_and_failure,
	    "invalid NOTIFY set 0xa" },
	{ "unknown NOTIFY bit", m_rcpt_notify_bit, "invalid NOTIFY set 0x40" },
	{ "tab in ORCPT", m_rcpt_orcpt_tab,
	    "recipient ORCPT: control character" },
	{ "C1 in address", m_rcpt_address_c1,
	    "recipient address: control character" },
	{ "recipient after the content", m_rcpt_after_content,
	    "recipient after the content" },
	{ "commit without envelope", m_commit_no_envelope,
	    "content before the envelope" },
	{ "commit without recipient", m_commit_no_rcpt,
	    "content before any recipient" },
};

static void
test_writer_misuse(void **state)
{
	struct fixture *fx = *state;

	for (size_t i = 0; i < NELEM(misuse_cases); i++) {
		const struct misuse_case *c = &misuse_cases[i];
		struct queue_writer *w = writer_ok(fx);

		sbuf_reset(fx->why);
		if (c->misuse(&w, fx->why) != -1)
			fail_msg("%s: accepted", c->name);
		if (strcmp(sbuf_str(fx->why), c->reason) != 0)
			fail_msg("%s: reason \"%s\"", c->name,
			    sbuf_str(fx->why));
		queue_writer_abort(&w);
		test_assert_dir_holds(fx->incoming, NULL, 0);
	}
}

/* A failed envelope or recipient leaves the writer as it was. */
static void
test_writer_unchanged_by_failure(void **state)
{
	struct fixture *fx = *state;
	struct queue_envelope bad = full_env;
	struct queue_rcpt good = { .address = "good@example.com" };
	struct queue_rcpt worse = { .address = "bad\n@example.com" };
	struct queue_writer *w = writer_ok(fx);
	struct sbuf *id = sbuf_new(), *path = sbuf_new();
	struct queue_file *qf;

	sbuf_set(id, queue_writer_id(w));
	bad.auth_user = "a\x01";
	assert_int_equal(queue_writer_envelope(w, &bad, fx->why), -1);
	assert_int_equal(queue_writer_envelope(w, &full_env, fx->why), 0);
	assert_int_equal(queue_writer_add_rcpt(w, &worse, fx->why), -1);
	assert_int_equal(queue_writer_add_rcpt(w, &good, fx->why), 0);
	assert_int_equal(queue_writer_commit(&w, fx->why), QUEUE_WRITE_OK);
	sbuf_setf(path, "%s/%s", fx->incoming, sbuf_str(id));
	qf = open_ok(fx, sbuf_str(path), 0);
	assert_env_equal(&qf->env, &full_env);
	assert_int_equal(qf->rcpt_count, 1);
	assert_string_equal(qf->rcpts[0].address, "good@example.com");
	queue_file_close(&qf);
	sbuf_free(&id);
	sbuf_free(&path);
}

static void
test_open_no_incoming(void **state)
{
	struct fixture *fx = *state;
	struct queue_writer *w = NULL;
	struct sbuf *p = sbuf_new();

	sbuf_printf(p, "%s/nonexistent", fx->dir);
	assert_int_equal(queue_writer_open(sbuf_str(p), &w, fx->why),
	    QUEUE_WRITE_ERROR);
	assert_null(w);
	assert_non_null(strstr(sbuf_str(fx->why), "nonexistent/incoming"));
	assert_non_null(strstr(sbuf_str(fx->why), strerror(ENOENT)));
	sbuf_free(&p);
}

/* Reuse: free/ in the fixture's queue, and what it holds. */
static char *
make_free_dir(struct fixture *fx)
{
	struct sbuf *p = sbuf_new();

	char *dir;

	sbuf_printf(p, "%s/" QUEUE_FREE_DIR, fx->dir);
	assert_int_equal(mkdir(sbuf_str(p), 0700), 0);
	dir = sbuf_steal(p);
	sbuf_free(&p);
	return dir;
}

static ino_t
inode_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_ino;
}

static void
assert_gone(const char *path)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), -1);
	assert_int_equal(errno, ENOENT);
}

/* A finished file goes into free/ and is the next file written. */
static void
test_retire_reuse(void **state)
{
	struct fixture *fx = *state;
	struct sbuf *id1 = sbuf_new(), *id2 = sbuf_new(), *got = sbuf_new();
	char *free_dir = make_free_dir(fx), *first, *second;
	static const char content[] = "Subject: second\n\nanother body\n";
	static const struct queue_rcpt rcpt = { .address = "b@example.org" };
	struct queue_file *qf;
	ino_t ino;

	first = small_message(fx, id1);
	ino = inode_of(first);
	assert_int_equal(queue_file_retire(fx->dir, first, fx->why), 0);
	assert_gone(first);
	assert_int_equal(test_count_entries(free_dir), 1);

	second = write_message(fx, &local_env, &rcpt, 1, content,
	    sizeof(content) - 1, 4096, id2);
	assert_int_equal(inode_of(second), ino);
	assert_int_equal(test_count_entries(free_dir), 0);
	assert_string_not_equal(sbuf_str(id1), sbuf_str(id2));
	/* Nothing of the first message is left in the second file. */
	qf = open_ok(fx, second, 0);
	assert_int_equal(qf->rcpt_count, 1);
	assert_string_equal(qf->rcpts[0].address, "b@example.org");
	read_content(qf, 7, got);
	assert_int_equal(sbuf_len(got), sizeof(content) - 1);
	assert_memory_equal(sbuf_str(got), content, sizeof(content) - 1);
	queue_file_close(&qf);
	assert_int_equal(test_count_entries(fx->incoming), 1);

	free(first);
	free(second);
	free(free_dir);
	sbuf_free(&id1);
	sbuf_free(&id2);
	sbuf_free(&got);
}

/*
 * A reused file is new to the queue's cleaner: its modification time is
 * that of its reuse, not of the message it held, so that the cleaner does
 * not take it for an abandoned temporary file while it is written.
 */
static void
test_reused_file_is_fresh(void **state)
{
	struct fixture *fx = *state;
	struct sbuf *id = sbuf_new();
	char *free_dir = make_free_dir(fx), *path = small_message(fx, id);
	struct timespec old[2] = { { .tv_sec = 1000000000 },
		{ .tv_sec = 1000000000 } };
	struct queue_writer *w;
	struct dirent *de;
	struct stat st;
	DIR *d;
	int dfd;

	assert_int_equal(utimensat(AT_FDCWD, path, old, 0), 0);
	assert_int_equal(queue_file_retire(fx->dir, path, fx->why), 0);
	w = writer_ok(fx);
	assert_int_equal(test_count_entries(free_dir), 0);
	assert_non_null(d = opendir(fx->incoming));
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL && de->d_name[0] == '.')
		;
	assert_non_null(de);
	assert_int_equal(fstatat(dfd, de->d_name, &st, 0), 0);
	assert_true(st.st_mtime > time(NULL) - 60);
	closedir(d);
	queue_writer_abort(&w);

	free(path);
	free(free_dir);
	sbuf_free(&id);
}

/* Without free/, or with a file too large to keep, retiring removes. */
static void
test_retire_removes(void **state)
{
	struct fixture *fx = *state;
	struct sbuf *id = sbuf_new(), *big = sbuf_new();
	static const struct queue_rcpt rcpt = { .address = "c@example.org" };
	char *path, *free_dir;

	path = small_message(fx, id);
	assert_int_equal(queue_file_retire(fx->dir, path, fx->why), 0);
	assert_gone(path);
	free(path);
	/* Already gone is not an error either. */
	assert_int_equal(queue_file_retire(fx->dir, "/nonexistent/x",
	    fx->why), 0);

	free_dir = make_free_dir(fx);
	for (size_t i = 0; i <= QUEUE_FREE_SIZE_MAX; i++)
		sbuf_catc(big, 'x');
	path = write_message(fx, &local_env, &rcpt, 1, sbuf_str(big),
	    sbuf_len(big), 65536, id);
	assert_int_equal(queue_file_retire(fx->dir, path, fx->why), 0);
	assert_gone(path);
	assert_int_equal(test_count_entries(free_dir), 0);

	free(path);
	free(free_dir);
	sbuf_free(&id);
	sbuf_free(&big);
}

/* A full free/ takes no more; the file is removed. */
static void
test_retire_full(void **state)
{
	struct fixture *fx = *state;
	struct sbuf *id = sbuf_new(), *slot = sbuf_new();
	char *path = small_message(fx, id), *free_dir = make_free_dir(fx);
	int fd;

	for (int i = 0; i < QUEUE_FREE_SLOTS; i++) {
		sbuf_setf(slot, "%s/%d", free_dir, i);
		fd = open(sbuf_str(slot), O_WRONLY | O_CREAT | O_EXCL, 0600);
		assert_true(fd >= 0);
		close(fd);
	}
	assert_int_equal(queue_file_retire(fx->dir, path, fx->why), 0);
	assert_gone(path);
	assert_int_equal(test_count_entries(free_dir), QUEUE_FREE_SLOTS);

	free(path);
	free(free_dir);
	sbuf_free(&id);
	sbuf_free(&slot);
}

/*
 * A file in free/ with a second name (planted, or linked by the admin) is
 * not written over: the writer makes a new file and the other name keeps
 * its content.
 */
static void
test_claim_skips_linked(void **state)
{
	struct fixture *fx = *state;
	struct sbuf *id = sbuf_new(), *slot = sbuf_new(), *keep = sbuf_new();
	struct sbuf *data;
	char *free_dir = make_free_dir(fx), *path;
	ino_t planted = 0;
	int fd;

	sbuf_printf(keep, "%s/keep", fx->dir);
	fd = open(sbuf_str(keep), O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "precious", 8), 8);
	close(fd);
	planted = inode_of(sbuf_str(keep));
	for (int i = 0; i < QUEUE_FREE_SLOTS; i++) {
		sbuf_setf(slot, "%s/%d", free_dir, i);
		assert_int_equal(link(sbuf_str(keep), sbuf_str(slot)), 0);
	}
	path = small_message(fx, id);
	assert_true(inode_of(path) != planted);
	data = slurp(sbuf_str(keep));
	assert_string_equal(sbuf_str(data), "precious");
	assert_int_equal(test_count_entries(fx->incoming), 1);

	free(path);
	free(free_dir);
	sbuf_free(&id);
	sbuf_free(&slot);
	sbuf_free(&keep);
	sbuf_free(&data);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_content_sizes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_exact_bytes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_body_round_trip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_everywhere,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_lengths_damaged, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_commit_names_and_modes,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_id_is_inode, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_abort, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mark_done, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_read_bounds, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_render, setup, teardown),
		cmocka_unit_test_setup_teardown(test_render_binary_content,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_disk_full, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_size_limit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_writer_rcpt_limit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_writer_misuse, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_writer_unchanged_by_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_lock, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_open_no_incoming, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_retire_reuse, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reused_file_is_fresh, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_retire_removes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_retire_full, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_claim_skips_linked, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
