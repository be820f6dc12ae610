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

static char *fuzz_path;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbuf *why = sbuf_new(), *out = sbuf_new();
	struct queue_file *qf;
	char buf[512];
	int fd;

	if (fuzz_path == NULL)
		fuzz_path = fuzz_scratch_path("fuzz_queue_file", "0ABCDEF0001Z");
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
