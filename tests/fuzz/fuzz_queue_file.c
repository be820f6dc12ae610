/*
 * fuzz_queue_file - queue files as a damaged disk or a planted file has them
 *
 * Each input becomes the whole of one file, named by a valid queue id in a
 * private temporary directory (removed at exit), which is opened for
 * update, rendered, read and marked done as qmgr and postern-queue would.
 */
#include "fuzz.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "mail/queue_file.h"
#include "util/safe_file.h"
#include "util/sbuf.h"

static char *fuzz_dir;
static char *fuzz_path;

static void
fuzz_cleanup(void)
{
	unlink(fuzz_path);
	rmdir(fuzz_dir);
}

/* Makes the directory and the file's name on the first call. */
static void
fuzz_init(void)
{
	const char *base = getenv("TMPDIR");
	struct sbuf *p = sbuf_new();

	sbuf_printf(p, "%s/fuzz_queue_file.XXXXXX", base ? base : "/tmp");
	if (mkdtemp(p->data) == NULL) {
		perror("mkdtemp");
		abort();
	}
	fuzz_dir = sbuf_steal(p);
	sbuf_printf(p, "%s/0ABCDEF0001Z", fuzz_dir);
	fuzz_path = sbuf_steal(p);
	sbuf_free(&p);
	atexit(fuzz_cleanup);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbuf *why = sbuf_new(), *out = sbuf_new();
	struct queue_file *qf;
	char buf[512];
	int fd;

	if (fuzz_path == NULL)
		fuzz_init();
	fd = open(fuzz_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || safe_write_all(fd, data, size) < 0 || close(fd) < 0) {
		perror(fuzz_path);
		abort();
	}
	qf = queue_file_open(fuzz_path, QUEUE_OPEN_UPDATE, why);
	if (qf != NULL) {
		sbuf_set_limit(out, 1 << 20);
		queue_file_render(qf, out, why);
		queue_file_read(qf, qf->content_size / 2, buf, sizeof(buf),
		    why);
		queue_file_mark_done(qf, qf->rcpt_count - 1, why);
		queue_file_mark_done(qf, qf->rcpt_count, why);
		queue_file_all_done(qf);
		queue_file_close(&qf);
	}
	sbuf_free(&why);
	sbuf_free(&out);
	return 0;
}
