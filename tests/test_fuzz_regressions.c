/* The fuzzer's inputs replayed through the same readers (tests/fuzz/readers.c): the seed corpus
 * (with the inputs that once crashed a reader that now reads them: metrics-*)
 * must be read, and every input that once crashed a reader and is invalid
 * (tests/fuzz/regressions/, one file each, first byte the reader) must be refused with one line
 * naming the file. Under
 * tools/test.sh --sanitize this is the fuzzer's finding re-checked with ASan and UBSan. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fuzz/readers.h"
#include "vkgan/error.h"

static const char *outcomes[] = {"read", "refused", "refused without naming the file",
                                 "read, inconsistently", "not replayed (harness files)"};

/* Replays every file of tests/fuzz/DIR; each must end as `want` (with one-line messages).
 * Returns the number replayed, or -1 after a failure has been recorded. */
static int replay(const char *dir, int want) {
    char path[4200];
    snprintf(path, sizeof path, "%s/tests/fuzz/%s", VKGAN_SOURCE_DIR, dir);
    DIR *d = opendir(path);
    if (!d) return test_fail(__FILE__, __LINE__, "%s: cannot open the directory", path), -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        char file[4500];
        snprintf(file, sizeof file, "%s/%s", path, e->d_name);
        FILE *f = fopen(file, "rb");
        uint8_t *data = test_alloc(1 << 20);
        size_t size = f ? fread(data, 1, 1 << 20, f) : 0;
        if (f) fclose(f);
        int r = fuzz_readers_one(data, size);
        const char *target = fuzz_target_name(size ? data[0] % FUZZ_TARGETS : 0);
        if (r != want || strchr(vkg_error(), '\n')) {
            test_fail(__FILE__, __LINE__, "%s/%s (%s reader): %s, expected %s ('%s')", dir,
                      e->d_name, target, outcomes[r], outcomes[want], vkg_error());
            n = -1;
            break;
        }
        n++;
    }
    closedir(d);
    return n;
}

TEST(fuzz_corpus_is_read) {
    int n = replay("corpus", FUZZ_ACCEPTED);
    CHECK(n != 0, "tests/fuzz/corpus is empty");
}

TEST(fuzz_regressions_are_refused_by_name) {
    int n = replay("regressions", FUZZ_REFUSED);
    CHECK(n != 0, "tests/fuzz/regressions is empty");
}
