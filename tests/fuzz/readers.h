/* Every reader of a file that vkgan takes from people, behind one entry point for the fuzzer
 * (fuzz_main.c, libFuzzer) and for the test suite's replay of tests/fuzz/corpus and
 * tests/fuzz/regressions (tests/test_fuzz_regressions.c). Plain C: no libFuzzer in here. */
#ifndef VKGAN_FUZZ_READERS_H
#define VKGAN_FUZZ_READERS_H

#include <stddef.h>
#include <stdint.h>

/* The first byte picks the reader (byte % FUZZ_TARGETS) and its variant (byte / FUZZ_TARGETS);
 * the rest is the file, written to a fresh directory under $TMPDIR (or /tmp) and read back. */
enum {
    FUZZ_CHECKPOINT, /* a vkgan train checkpoint: safetensors, then its run setup */
    FUZZ_CLASSIFIER, /* an FCD classifier file: safetensors, then its shape and statistics */
    FUZZ_IDX,        /* MNIST IDX images and labels (2-byte little-endian length of the images
                        file, then both); variant bit 0: gzipped */
    FUZZ_CIFAR,      /* a CIFAR-10 binary batch (all five batches hold it) */
    FUZZ_FOLDER,     /* one image in a class folder; variant bit 0: grey, bit 1: 32 pixels */
    FUZZ_METRICS,    /* a run's metrics.jsonl (and .csv): vkgan report, and the resume cut */
    FUZZ_CONFIG,     /* a run's config.json: its options, and vkgan report */
    FUZZ_TARGETS
};

/* What a reader did with the input. */
enum {
    FUZZ_ACCEPTED,     /* read it */
    FUZZ_REFUSED,      /* refused it with a message that names the file */
    FUZZ_BAD_MESSAGE,  /* refused it without saying why, or without naming the file */
    FUZZ_INCONSISTENT, /* accepted it, but what it read disagrees with itself */
    FUZZ_SETUP_FAILED, /* the harness could not write its files */
};

int fuzz_readers_one(const uint8_t *data, size_t size);
/* The target names, for messages: "checkpoint", "classifier", ... */
const char *fuzz_target_name(int target);

#endif
