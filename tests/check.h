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
    __attribute__((constructor)) static void register_##name(void) {                               \
        test_register(#name, name);                                                                \
    }                                                                                              \
    static void name(void)

/* A progress line of a long test on stderr ("   ... NAME: <message>"), so a slow run does not
 * look hung. */
void test_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Marks the running test failed with a message (first failure is kept). */
void test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int test_failed(void);
/* For a test that provokes validation messages on purpose: they do not fail it. */
void test_forgive_validation_messages(void);

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

/* The shared context (validation on), and one that takes a GPU's code paths on any device:
 * shared-memory reductions instead of subgroup ones, and the tiled GEMMs with their tiles in
 * shared memory, never packed (on a CPU device test_ctx packs them or loads tiles directly).
 * Kernels with two paths are tested on both. */
vkg_ctx *test_ctx(void);
vkg_ctx *test_ctx_alternate(void);
/* A context on the GEMM path test_ctx does not take (vkg_ctx_options.gemm_path): the tiled
 * kernels where test_ctx packs its GEMMs (CPU devices), the packed ones elsewhere. */
vkg_ctx *test_ctx_other_gemm(void);
/* An arena freed at the end of the running test. */
/* A context whose CPU-device kernels are chosen for `registers` vector registers (16 or 32;
 * vkg_ctx_options.vector_registers), made once. */
vkg_ctx *test_ctx_registers(int registers);
/* test_ctx_registers with the register count the main context does not have: on a CPU device the
 * kernels it did not choose (the packed GEMM's other block width, the few-channel kernel's other
 * bound). */
vkg_ctx *test_ctx_other_registers(void);
vkg_arena *test_arena(vkg_ctx *ctx);
/* Host memory freed at the end of the running test. */
void *test_alloc(size_t bytes);
double *test_doubles(size_t n);

/* Uniform values in [lo, hi), rounded to float precision so host and GPU see the same inputs. */
double *random_doubles(size_t n, double lo, double hi, uint64_t seed);
/* Allocates a tensor and uploads `data` (rounded to float); NULL data leaves it zeroed. */
vkg_tensor upload_tensor(vkg_ctx *ctx, vkg_arena *arena, int n, int c, int h, int w,
                         const double *data);
/* With guard, the tensor is a view 4 floats into one whose other floats are NaN (a kernel that
 * uses a float outside its view puts NaN in its results); without, upload_tensor. */
vkg_tensor upload_guarded(vkg_ctx *ctx, vkg_arena *arena, int n, int c, int h, int w,
                          const double *data, int guard);
/* Dispatches of the packing passes of packed GEMMs (gemm_pack and gemm_pack_runs), and of the
 * latter alone (runs: 1). */
int test_packs(vkg_rec *rec, int runs);
/* Dispatches of packed GEMMs (gemm_packed and gemm_packed_n4). */
int test_gemms(vkg_rec *rec);
/* A batch norm over c channels (eps 1e-5, momentum 0.1) with its tensors uploaded; NULL running
 * statistics start at 0. */
vkg_batchnorm upload_batchnorm(vkg_ctx *ctx, vkg_arena *arena, int c, const double *gamma,
                               const double *beta, const double *running_mean,
                               const double *running_var);
/* Downloads a tensor into fresh test memory. */
float *download_tensor(vkg_ctx *ctx, const vkg_tensor *t);
/* A fresh directory for the running test's files (removed with its contents at the end). */
const char *test_tmpdir(void);
/* Writes bytes to dir/name (plain, not atomic: tests build inputs, good and bad). */
void test_write(const char *dir, const char *name, const void *data, size_t size);
/* The vkgan binary built next to the test binary. */
const char *test_vkgan_path(void);
/* Runs a shell command line; returns its exit code (-1 when it did not exit), what it printed
 * on stdout in out. */
int test_run_shell(const char *cmd, char *out, size_t size);
/* Runs `vkgan ARGS` with `env` prepended; returns the exit code, stderr's text in err. */
int test_run_vkgan(const char *env, const char *args, char *err, size_t size);
/* The same with stdout and stderr together in out. */
int test_run_vkgan_output(const char *env, const char *args, char *out, size_t size);
/* Whether two safetensors files hold the same count of tensors and, byte for byte, the same
 * named tensors and metadata values (keys may be NULL); `why` names the first that differs. */
int test_same_tensors(const char *a, const char *b, const char *const *names, int count,
                      const char *const *keys, int nkeys, char *why, size_t size);
/* Makes a safetensors file's last F32 value NaN and records the data's new CRC-32 in its header,
 * as a file made or altered elsewhere would be: whole, but not weights to load. 0, or -1. */
int test_poison_safetensors(const char *path);
/* Starts `vkgan ARGS` in the background (stderr to /dev/null); its PID. */
int test_spawn_vkgan(const char *args);
/* Wait for a file to exist, or to hold at least `lines` lines, while the process `pid` runs:
 * 0 once it does, -1 when the process has ended first (it is then reaped). Polls without a
 * deadline: a slow machine is only slower. */
int test_wait_for_file(const char *path, int pid);
int test_wait_for_lines(const char *path, int lines, int pid);
/* A training run in-process, as the vkgan binary composes it but printing nothing: the trainer
 * with the metrics files and `extra` observers (up to 6; may be NULL). What vkg_trainer_run
 * returned (VKG_TRAIN_DONE, ...), or < 0 from vkg_trainer_open / _run / _close with
 * vkg_error(). */
struct vkg_train_options;
struct vkg_train_observer;
int test_train(struct vkg_train_options *o, const struct vkg_train_observer *extra, int n);
/* A file's text in test memory (NUL-terminated), or NULL. */
char *test_read_text(const char *path);
/* A recording started for the running test (destroyed at its end); _timed with timestamps on
 * when `timed`, for test_dispatches. */
vkg_rec *test_rec(vkg_ctx *ctx);
vkg_rec *test_rec_timed(vkg_ctx *ctx, int timed);
/* How many dispatches of `shader` a run timed recording made (-1 when its timings fail). */
int test_dispatches(vkg_rec *rec, const char *shader);

/* A scalar function of some inputs the test owns (e.g. L = sum dy * layer(x, w)). */
typedef double (*scalar_fn)(void *user);

/* Checks an analytic gradient `analytic` of f with respect to x against central differences on
 * an evenly spaced subset of at most 61 coordinates: |fd - analytic| <= tol * (1 + |analytic|). */
int gradient_matches(const char *what, double *x, size_t n, scalar_fn f, void *user,
                     const double *analytic, double tol);
#define CHECK_GRADIENT(what, x, n, f, user, analytic)                                              \
    do {                                                                                           \
        if (!gradient_matches(what, x, n, f, user, analytic, 1e-6)) return;                        \
    } while (0)
/* sum_i a[i] * b[i] */
double dot(const double *a, const double *b, size_t n);
/* Widens floats to doubles in fresh test memory. */
double *widen(const float *f, size_t n);

#endif
