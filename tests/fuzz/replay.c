/*
 * replay - runs a fuzz target over every file of its seed directories
 *
 * Usage: fuzz_X DIR|FILE ... Prints one TAP line per target: a crash or a
 * sanitizer report ends the process with a non-zero status instead.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "util/safe_file.h"
#include "util/sbuf.h"

#define SEED_MAX (16 * 1024 * 1024)

static int
replay_file(const char *path)
{
	struct sbuf *data = sbuf_new(), *why = sbuf_new();
	int ret = 0;

	if (safe_file_read(path, SEED_MAX, data, why) < 0) {
		fprintf(stderr, "%s\n", sbuf_str(why));
		ret = -1;
	} else {
		LLVMFuzzerTestOneInput((const uint8_t *)sbuf_str(data),
		    sbuf_len(data));
	}
	sbuf_free(&data);
	sbuf_free(&why);
	return ret;
}

static int
replay_path(const char *path, int *count)
{
	struct stat st;
	struct dirent **names;
	int n, ret = 0;

	if (stat(path, &st) < 0) {
		perror(path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		(*count)++;
		return replay_file(path);
	}
	if ((n = scandir(path, &names, NULL, alphasort)) < 0) {
		perror(path);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			struct sbuf *p = sbuf_new();

			sbuf_printf(p, "%s/%s", path, names[i]->d_name);
			if (replay_path(sbuf_str(p), count) < 0)
				ret = -1;
			sbuf_free(&p);
		}
		free(names[i]);
	}
	free(names);
	return ret;
}

int
main(int argc, char **argv)
{
	int count = 0, ret = 0;

	for (int i = 1; i < argc; i++)
		if (replay_path(argv[i], &count) < 0)
			ret = 1;
	if (count == 0) {
		fprintf(stderr, "%s: no seeds\n", argv[0]);
		ret = 1;
	}
	printf("1..1\n%s 1 - %s replayed %d seeds\n", ret ? "not ok" : "ok",
	    argv[0], count);
	return ret;
}
