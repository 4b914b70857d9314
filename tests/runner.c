/* Runs every registered test (or those whose name contains an argument) on one Vulkan context
 * with validation and synchronization validation on. A validation message reported during a test
 * fails that test. The last line is "N passed, N failed". */
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"

#define MAX_TESTS 256
#define MAX_RESOURCES 4096

static struct {
    const char *name;
    test_fn fn;
} tests[MAX_TESTS];
static int test_count;

static vkg_ctx *ctx_main, *ctx_shared, *ctx_gemm, *ctx_registers[2]; /* 16 and 32 registers */
static char failure[2048];
static int failed;

static void *host_blocks[MAX_RESOURCES];
static int host_count;
static vkg_arena *arenas[256]; /* a test that makes more fails: the rest would leak */
static int arena_count;
static vkg_rec *recs[256];
static int rec_count;

void test_register(const char *name, test_fn fn) {
    if (test_count < MAX_TESTS) tests[test_count].name = name, tests[test_count++].fn = fn;
}

void test_fail(const char *file, int line, const char *fmt, ...) {
    if (failed) return;
    failed = 1;
    int n = snprintf(failure, sizeof failure, "%s:%d: ", file, line);
    va_list args;
    va_start(args, fmt);
    vsnprintf(failure + n, sizeof failure - (size_t)n, fmt, args);
    va_end(args);
}

static const char *running; /* the name of the running test */

void test_progress(const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    fprintf(stderr, "     ... %s: ", running ? running : "");
    vfprintf(stderr, fmt, args);
    fputc('\n', stderr);
    va_end(args);
}

int test_failed(void) {
    return failed;
}

static int forgiven;
void test_forgive_validation_messages(void) {
    forgiven = 1;
}

static vkg_ctx *make_ctx(int alternate) {
    vkg_ctx_options opts = {.validation = 1,
                            .quiet = 1,
                            .force_shared_reductions = alternate,
                            .force_shared_tiles = alternate,
                            .gemm_path = alternate ? VKG_GEMM_TILED : VKG_GEMM_AUTO};
    vkg_ctx *ctx = vkg_ctx_create(&opts);
    if (!ctx) {
        fprintf(stderr, "vkgan_tests: %s\n", vkg_error());
        exit(2);
    }
    return ctx;
}

vkg_ctx *test_ctx(void) {
    return ctx_main;
}

vkg_ctx *test_ctx_alternate(void) {
    if (!ctx_shared) ctx_shared = make_ctx(1);
    return ctx_shared;
}

vkg_ctx *test_ctx_other_gemm(void) {
    if (!ctx_gemm) {
        vkg_ctx_options opts = {.validation = 1,
                                .quiet = 1,
                                .gemm_path = vkg_ctx_uses_packed_gemm(ctx_main) ? VKG_GEMM_TILED
                                                                                : VKG_GEMM_PACKED};
        ctx_gemm = vkg_ctx_create(&opts);
        if (!ctx_gemm) {
            fprintf(stderr, "vkgan_tests: %s\n", vkg_error());
            exit(2);
        }
    }
    return ctx_gemm;
}

vkg_ctx *test_ctx_registers(int registers) {
    vkg_ctx **slot = &ctx_registers[registers >= 32];
    if (!*slot) {
        vkg_ctx_options opts = {.validation = 1, .quiet = 1, .vector_registers = registers};
        *slot = vkg_ctx_create(&opts);
        if (!*slot) {
            fprintf(stderr, "vkgan_tests: %s\n", vkg_error());
            exit(2);
        }
    }
    return *slot;
}

vkg_ctx *test_ctx_other_registers(void) {
    return test_ctx_registers(vkg_ctx_vector_registers(ctx_main) >= 32 ? 16 : 32);
}

int test_gemms(vkg_rec *rec) {
    int a = test_dispatches(rec, "gemm_packed"), b = test_dispatches(rec, "gemm_packed_n4");
    return a < 0 || b < 0 ? -1 : a + b;
}

vkg_arena *test_arena(vkg_ctx *ctx) {
    vkg_arena *a = vkg_arena_create(ctx, 16u << 20);
    if (a && arena_count == (int)(sizeof arenas / sizeof arenas[0])) {
        vkg_arena_destroy(a);
        test_fail(__FILE__, __LINE__, "more than %d arenas in one test", arena_count);
        return NULL;
    }
    if (a) arenas[arena_count++] = a;
    return a;
}

void *test_alloc(size_t bytes) {
    void *p = calloc(1, bytes ? bytes : 1);
    if (!p || host_count == MAX_RESOURCES) {
        fprintf(stderr, "vkgan_tests: out of host memory\n");
        exit(2);
    }
    host_blocks[host_count++] = p;
    return p;
}

vkg_rec *test_rec(vkg_ctx *ctx) {
    return test_rec_timed(ctx, 0);
}

vkg_rec *test_rec_timed(vkg_ctx *ctx, int timed) {
    vkg_rec *rec = vkg_rec_begin(ctx, timed);
    if (!rec) {
        test_fail(__FILE__, __LINE__, "recording: %s", vkg_error());
    } else if (rec_count == (int)(sizeof recs / sizeof recs[0])) {
        vkg_rec_destroy(rec);
        test_fail(__FILE__, __LINE__, "more than %d recordings in one test", rec_count);
        return NULL;
    } else {
        recs[rec_count++] = rec;
    }
    return rec;
}

int test_dispatches(vkg_rec *rec, const char *shader) {
    double ms[256];
    const char *names[256];
    int n = vkg_rec_timings(rec, ms, names, 256), count = 0;
    for (int i = 0; i < n; i++) count += strcmp(names[i], shader) == 0;
    return n < 0 ? -1 : count;
}

int test_packs(vkg_rec *rec, int runs) {
    int r = test_dispatches(rec, "gemm_pack_runs");
    return runs || r < 0 ? r : r + test_dispatches(rec, "gemm_pack");
}

static char tmpdir[64];

const char *test_tmpdir(void) {
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/vkgan-test-XXXXXX");
        if (!mkdtemp(tmpdir)) {
            tmpdir[0] = 0;
            test_fail(__FILE__, __LINE__, "cannot make a temporary directory");
            return "/nonexistent";
        }
    }
    return tmpdir;
}

void test_write(const char *dir, const char *name, const void *data, size_t size) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size)
        test_fail(__FILE__, __LINE__, "cannot write %s", path);
    if (f) fclose(f);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void release(void) {
    if (tmpdir[0]) nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    tmpdir[0] = 0;
    for (int i = 0; i < rec_count; i++) vkg_rec_destroy(recs[i]);
    for (int i = 0; i < arena_count; i++) vkg_arena_destroy(arenas[i]);
    for (int i = 0; i < host_count; i++) free(host_blocks[i]);
    rec_count = arena_count = host_count = 0;
}

/* Every context the tests made: the main one first. */
static int contexts(vkg_ctx **out) {
    vkg_ctx *all[] = {ctx_main, ctx_shared, ctx_gemm, ctx_registers[0], ctx_registers[1]};
    int n = 0;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (all[i]) out[n++] = all[i];
    return n;
}

static int validation_messages(void) {
    vkg_ctx *c[5];
    int n = contexts(c), count = 0;
    for (int i = 0; i < n; i++) count += vkg_ctx_validation_count(c[i]);
    return count;
}

/* The newest message of the context made last that has one. */
static const char *last_validation(void) {
    vkg_ctx *c[5];
    for (int i = contexts(c) - 1; i >= 0; i--) {
        const char *m = vkg_ctx_last_validation_message(c[i]);
        if (*m || i == 0) return m;
    }
    return "";
}

/* Arguments: name parts to run (all when none), and "--exclude PART" to leave tests out. */
/* Arguments: NAME-PART... (tests whose names contain one), --exclude PART, --exact NAME (that
 * test alone: CTest runs each test so, one process each). */
static int matches(const char *name, int argc, char **argv) {
    int wanted = 0, included = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--exclude") == 0) {
            if (i + 1 < argc && strstr(name, argv[++i])) return 0;
            continue;
        }
        if (strcmp(argv[i], "--exact") == 0) {
            wanted = 1;
            included |= i + 1 < argc && strcmp(name, argv[++i]) == 0;
            continue;
        }
        wanted = 1;
        included |= strstr(name, argv[i]) != NULL;
    }
    return !wanted || included;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    ctx_main = make_ctx(0);
    const vkg_device_info *d = vkg_ctx_device(ctx_main);
    printf("vkgan_tests on %s (%s), validation on; subgroup reductions %s, GEMM tiles %s "
           "(other paths tested where a test says both)\n",
           d->name, d->driver_name, vkg_ctx_uses_subgroups(ctx_main) ? "on" : "off",
           vkg_ctx_uses_packed_gemm(ctx_main)    ? "packed (texel buffers)"
           : vkg_ctx_uses_direct_tiles(ctx_main) ? "direct"
                                                 : "in shared memory");
    int passed = 0, failures = 0;
    for (int i = 0; i < test_count; i++) {
        if (!matches(tests[i].name, argc, argv)) continue;
        failed = 0;
        forgiven = 0;
        failure[0] = 0;
        int before = validation_messages();
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        running = tests[i].name;
        tests[i].fn();
        release();
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (!failed && !forgiven && validation_messages() != before)
            test_fail(__FILE__, __LINE__, "%d validation message(s), last: %s",
                      validation_messages() - before, last_validation());
        double secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
        if (failed) {
            failures++;
            printf("FAIL %-44s %6.2fs  %s\n", tests[i].name, secs, failure);
        } else {
            passed++;
            printf("ok   %-44s %6.2fs\n", tests[i].name, secs);
            if (forgiven) printf("     (the validation message above was provoked on purpose)\n");
        }
    }
    vkg_ctx *c[5];
    int late = 0; /* messages the contexts' destruction raised: something a test leaked */
    for (int i = contexts(c) - 1; i >= 0; i--) late += vkg_ctx_destroy(c[i]);
    if (late) {
        printf("FAIL %d validation messages when the contexts were destroyed (above)\n", late);
        failures++;
    }
    printf("%d passed, %d failed\n", passed, failures);
    return failures || passed == 0 ? 1 : 0; /* a filter that matched nothing is an error too */
}
