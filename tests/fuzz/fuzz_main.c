/* libFuzzer's entry point over every file reader (readers.c); tools/fuzz.sh runs it. A reader
 * that crashes is found by the sanitizers; one that refuses an input without a message naming the
 * file aborts here, so the fuzzer keeps that input too. */
#include <stdio.h>
#include <stdlib.h>

#include "readers.h"
#include "vkgan/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int r = fuzz_readers_one(data, size);
    static const char *what[] = {[FUZZ_BAD_MESSAGE] = "refused without a message naming the file",
                                 [FUZZ_INCONSISTENT] = "accepted data that disagrees with itself",
                                 [FUZZ_SETUP_FAILED] = "the harness could not write its files"};
    if (r >= FUZZ_BAD_MESSAGE) {
        fprintf(stderr, "vkgan_fuzz: %s reader: %s: '%s'\n",
                fuzz_target_name(size ? data[0] % FUZZ_TARGETS : 0), what[r], vkg_error());
        abort();
    }
    return 0;
}
