/* The test harness: registration, checks, and helpers for moving data to and from the GPU. */
#ifndef VKGAN_CHECK_H
#define VKGAN_CHECK_H

#include <stddef.h>

#include "reference.h"
#include "vkgan/gpu.h"
#include "vkgan/nn.h"

typedef void (*test_fn)(void);
void test_register(const char *name, test_fn fn);

/* Defines and registers a test: TEST(name) { ...body... } */
#define TEST(name)                                                                                 \
    static void name(void);                                                                        \
    __attribute__((constructor)) static void register_##name(void) {                              \
        test_register(#name, name);                                                                \
    }                                                                                              \
    static void name(void)

/* Marks the running test failed with a message (first failure is kept). */
void test_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int test_failed(void);

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            test_fail(__FILE__, __LINE__, __VA_ARGS__);                                            \
            return;                                                                                \
        }                                                                                          \
    } while (0)
/* Checks a vkgan call that returns 0 on success; fails with vkg_error() otherwise. */
#define CHECK_OK(call) CHECK((call) == 0, "%s failed: %s", #call, vkg_error())

/* |got - want| <= atol + rtol * |want| for every element; on failure names the worst one. */
int close_enough(const char *what, const float *got, const double *want, size_t n, double atol,
                 double rtol);
#define CHECK_CLOSE(what, got, want, n, atol, rtol)                                                \
    do {                                                                                           \
        if (!close_enough(what, got, want, n, atol, rtol)) return;                                 \
    } while (0)

/* The shared context (validation on) and one that uses the shared-memory reduction fallback. */
vkg_ctx *test_ctx(void);
vkg_ctx *test_ctx_shared_reductions(void);
/* An arena freed at the end of the running test. */
vkg_arena *test_arena(vkg_ctx *ctx);
/* Host memory freed at the end of the running test. */
void *test_alloc(size_t bytes);
double *test_doubles(size_t n);

/* Uniform values in [lo, hi), rounded to float precision so host and GPU see the same inputs. */
double *random_doubles(size_t n, double lo, double hi, uint64_t seed);
/* Allocates a tensor and uploads `data` (rounded to float); NULL data leaves it zeroed. */
vkg_tensor upload_tensor(vkg_ctx *ctx, vkg_arena *arena, int n, int c, int h, int w,
                         const double *data);
/* Downloads a tensor into fresh test memory. */
float *download_tensor(vkg_ctx *ctx, const vkg_tensor *t);
/* A recording started for the running test (destroyed at its end). */
vkg_rec *test_rec(vkg_ctx *ctx);

/* Central differences of f (double precision) at x for every coordinate: grad[i] ~ dL/dx[i]. */
typedef double (*scalar_fn)(void *user);
void finite_differences(double *x, size_t n, scalar_fn f, void *user, double step, double *grad);

#endif
