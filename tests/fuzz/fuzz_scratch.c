/*
 * fuzz_scratch - a private scratch directory for targets that read files
 *
 * Made under $TMPDIR (or /tmp) on the first call, named after the
 * target, and removed with everything in it when the process exits.
 * Any failure to make it aborts: a target cannot run without it.
 */
#include "fuzz.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/sbuf.h"

static char *fuzz_scratch;

static int
fuzz_scratch_remove(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void
fuzz_scratch_cleanup(void)
{
	nftw(fuzz_scratch, fuzz_scratch_remove, 16, FTW_DEPTH | FTW_PHYS);
}

const char *
fuzz_scratch_dir(const char *target)
{
	const char *base = getenv("TMPDIR");
	struct sbuf *p;

	if (fuzz_scratch != NULL)
		return fuzz_scratch;
	p = sbuf_new();
	sbuf_printf(p, "%s/%s.XXXXXX", base != NULL ? base : "/tmp", target);
	if (mkdtemp(p->data) == NULL) {
		perror("mkdtemp");
		abort();
	}
	fuzz_scratch = sbuf_steal(p);
	sbuf_free(&p);
	atexit(fuzz_scratch_cleanup);
	return fuzz_scratch;
}

char *
fuzz_scratch_path(const char *target, const char *name)
{
	struct sbuf *p = sbuf_new();
	char *path;

	sbuf_printf(p, "%s/%s", fuzz_scratch_dir(target), name);
	path = sbuf_steal(p);
	sbuf_free(&p);
	return path;
}
