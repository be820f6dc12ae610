/*
 * fuzz - the entry point every fuzz target defines
 *
 * Each fuzz_<parser>.c defines LLVMFuzzerTestOneInput(). Linked with
 * replay.c it replays the seed corpus (CI); linked with clang's
 * -fsanitize=fuzzer it is a libFuzzer target (tests/fuzz/run-fuzz).
 */
#ifndef POSTERN_FUZZ_H
#define POSTERN_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * fuzz_scratch.c, for targets that read files: the target's private
 * directory (made once, removed at exit), and a malloc'ed path in it.
 */
const char *fuzz_scratch_dir(const char *target);
char *fuzz_scratch_path(const char *target, const char *name);

#endif
