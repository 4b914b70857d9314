/* The execution model: replay of recorded command buffers, barrier placement, timing, the
 * pipeline cache on disk, clear errors for tensors too large for the device, and the validation
 * layer itself catching a misuse. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

/* A tiny training step: z ~ N(0,1) keyed by a GPU step counter -> dense -> batchnorm -> leaky
 * relu -> dense -> BCE against 0.9 -> backward -> Adam. Everything reads and writes GPU state. */
typedef struct tiny_model {
    vkg_tensor counters, z, w1, h, hn, ha, w2, logits, targets, dlogits, dha, dhn, dh, dw1, dw2;
    vkg_tensor params, grads, m, v, loss;
    vkg_batchnorm bn;
    vkg_buf hyper;
} tiny_model;

enum { BATCH = 16, LATENT = 8, HIDDEN = 24 };

static void tiny_init(vkg_ctx *ctx, vkg_arena *arena, tiny_model *t) {
    memset(t, 0, sizeof *t); /* every field the step does not use is empty (bn.sync: none) */
    size_t nw1 = LATENT * HIDDEN, nw2 = HIDDEN, nparams = nw1 + nw2 + 2 * HIDDEN;
    double *params = random_doubles(nparams, -0.3, 0.3, 1111);
    for (size_t i = nw1 + nw2; i < nw1 + nw2 + HIDDEN; i++) params[i] = 1; /* gamma */
    double ones[BATCH], var[HIDDEN];
    for (int i = 0; i < BATCH; i++) ones[i] = 0.9;
    for (int i = 0; i < HIDDEN; i++) var[i] = 1;
    t->counters = upload_tensor(ctx, arena, 1, 4, 1, 1, NULL);
    t->params = upload_tensor(ctx, arena, 1, (int)nparams, 1, 1, params);
    t->grads = upload_tensor(ctx, arena, 1, (int)nparams, 1, 1, NULL);
    t->m = upload_tensor(ctx, arena, 1, (int)nparams, 1, 1, NULL);
    t->v = upload_tensor(ctx, arena, 1, (int)nparams, 1, 1, NULL);
    /* parameters and gradients are views into one arena each, as the trainer lays them out */
    t->w1 = vkg_tensor_view(&t->params, 0, LATENT, HIDDEN, 1, 1);
    t->w2 = vkg_tensor_view(&t->params, nw1, HIDDEN, 1, 1, 1);
    t->bn.gamma = vkg_tensor_view(&t->params, nw1 + nw2, 1, HIDDEN, 1, 1);
    t->bn.beta = vkg_tensor_view(&t->params, nw1 + nw2 + HIDDEN, 1, HIDDEN, 1, 1);
    t->dw1 = vkg_tensor_view(&t->grads, 0, LATENT, HIDDEN, 1, 1);
    t->dw2 = vkg_tensor_view(&t->grads, nw1, HIDDEN, 1, 1, 1);
    t->bn.running_mean = upload_tensor(ctx, arena, 1, HIDDEN, 1, 1, NULL);
    t->bn.running_var = upload_tensor(ctx, arena, 1, HIDDEN, 1, 1, var);
    t->bn.saved = upload_tensor(ctx, arena, 2, HIDDEN, 1, 1, NULL);
    t->bn.eps = 1e-5f, t->bn.momentum = 0.1f;
    t->z = upload_tensor(ctx, arena, BATCH, LATENT, 1, 1, NULL);
    t->h = upload_tensor(ctx, arena, BATCH, HIDDEN, 1, 1, NULL);
    t->hn = upload_tensor(ctx, arena, BATCH, HIDDEN, 1, 1, NULL);
    t->ha = upload_tensor(ctx, arena, BATCH, HIDDEN, 1, 1, NULL);
    t->logits = upload_tensor(ctx, arena, BATCH, 1, 1, 1, NULL);
    t->targets = upload_tensor(ctx, arena, BATCH, 1, 1, 1, ones);
    t->dlogits = upload_tensor(ctx, arena, BATCH, 1, 1, 1, NULL);
    t->dha = upload_tensor(ctx, arena, BATCH, HIDDEN, 1, 1, NULL);
    t->dhn = upload_tensor(ctx, arena, BATCH, HIDDEN, 1, 1, NULL);
    t->dh = upload_tensor(ctx, arena, BATCH, HIDDEN, 1, 1, NULL);
    t->loss = upload_tensor(ctx, arena, 1, 2, 1, 1, NULL);
    if (vkg_arena_alloc(arena, sizeof(vkg_adam_hyper), &t->hyper) < 0) {
        test_fail(__FILE__, __LINE__, "%s", vkg_error());
        return;
    }
    vkg_adam_hyper hyper = {1e-2f, 0.5f, 0.999f, 1e-8f, 0, 0, 0};
    if (vkg_upload(ctx, &t->hyper, &hyper, sizeof hyper) < 0)
        test_fail(__FILE__, __LINE__, "%s", vkg_error());
}

static int tiny_record(tiny_model *t, vkg_rec *rec) {
    size_t nw1 = LATENT * HIDDEN, nw2 = HIDDEN;
    vkg_tensor dgamma = vkg_tensor_view(&t->grads, nw1 + nw2, 1, HIDDEN, 1, 1);
    vkg_tensor dbeta = vkg_tensor_view(&t->grads, nw1 + nw2 + HIDDEN, 1, HIDDEN, 1, 1);
    vkg_rng rng = {
        .seed = 3, .stream = 1, .counters = &t->hyper, .step_index = VKG_ADAM_STEP_INDEX};
    int r = 0;
    r |= vkg_counter_add(rec, &t->hyper, VKG_ADAM_STEP_INDEX, 1);
    r |= vkg_fill_normal(rec, &rng, 0, 1, &t->z);
    r |= vkg_dense_forward(rec, &t->z, &t->w1, NULL, &t->h);
    r |= vkg_batchnorm_forward(rec, &t->bn, &t->h, &t->hn, 1);
    r |= vkg_activation_forward(rec, VKG_LEAKY_RELU, 0.2f, &t->hn, &t->ha);
    r |= vkg_dense_forward(rec, &t->ha, &t->w2, NULL, &t->logits);
    r |= vkg_bce_with_logits(rec, &t->logits, &t->targets, &t->loss.buf, &t->dlogits, 1);
    r |= vkg_dense_backward_weight(rec, &t->ha, &t->dlogits, &t->dw2, 0);
    r |= vkg_dense_backward_input(rec, &t->dlogits, &t->w2, &t->dha);
    r |= vkg_activation_backward(rec, VKG_LEAKY_RELU, 0.2f, &t->ha, &t->dha, &t->dhn);
    r |= vkg_batchnorm_backward(rec, &t->bn, &t->h, &t->dhn, &t->dh, &dgamma, &dbeta, 1, 0);
    r |= vkg_dense_backward_weight(rec, &t->z, &t->dh, &t->dw1, 0);
    r |= vkg_adam_step(rec, &t->params.buf, &t->grads.buf, &t->m.buf, &t->v.buf, &t->hyper);
    return r ? -1 : vkg_rec_end(rec);
}

TEST(replayed_recording_matches_fresh_recordings) {
    vkg_ctx *ctx = test_ctx();
    vkg_arena *arena = test_arena(ctx);
    tiny_model replayed, fresh;
    tiny_init(ctx, arena, &replayed);
    tiny_init(ctx, arena, &fresh);
    CHECK(!test_failed(), "setup");
    vkg_rec *once = vkg_rec_begin(ctx, 0);
    CHECK(once != NULL, "%s", vkg_error());
    int ok = tiny_record(&replayed, once) == 0;
    for (int step = 0; ok && step < 100; step++) ok = vkg_rec_run(once) == 0;
    vkg_rec_destroy(once);
    CHECK(ok, "replay: %s", vkg_error());
    for (int step = 0; step < 100; step++) {
        vkg_rec *rec = vkg_rec_begin(ctx, 0);
        CHECK(rec != NULL, "%s", vkg_error());
        ok = tiny_record(&fresh, rec) == 0 && vkg_rec_run(rec) == 0;
        vkg_rec_destroy(rec);
        CHECK(ok, "fresh recording %d: %s", step, vkg_error());
    }
    size_t n = vkg_tensor_count(&replayed.params);
    float *a = download_tensor(ctx, &replayed.params), *b = download_tensor(ctx, &fresh.params);
    CHECK(memcmp(a, b, n * sizeof(float)) == 0, "parameters differ after 100 steps");
    float *la = download_tensor(ctx, &replayed.loss), *lb = download_tensor(ctx, &fresh.loss);
    CHECK(memcmp(la, lb, 2 * sizeof(float)) == 0, "losses differ: %g vs %g", la[0], lb[0]);
    /* and training did something: the loss against target 0.9 fell below its start (~0.69) */
    CHECK(la[0] < 0.5f, "loss after 100 steps is %g", la[0]);
}

TEST(barriers_only_between_dependent_dispatches) {
    vkg_ctx *ctx = test_ctx();
    vkg_arena *arena = test_arena(ctx);
    vkg_tensor a = upload_tensor(ctx, arena, 1, 64, 1, 1, NULL);
    vkg_tensor b = upload_tensor(ctx, arena, 1, 64, 1, 1, NULL);
    vkg_tensor c = upload_tensor(ctx, arena, 1, 64, 1, 1, NULL);
    vkg_rng rng = {.seed = 1};
    vkg_rec *rec = test_rec(ctx);
    CHECK(!test_failed(), "setup");
    CHECK_OK(vkg_fill_normal(rec, &rng, 0, 1, &a));
    CHECK_OK(vkg_fill_normal(rec, &rng, 0, 1, &b)); /* independent of the first: no barrier */
    CHECK(vkg_rec_barrier_count(rec) == 0, "%d barriers between independent fills",
          vkg_rec_barrier_count(rec));
    CHECK_OK(vkg_activation_forward(rec, VKG_TANH, 0, &a, &c)); /* reads a: one barrier */
    CHECK(vkg_rec_barrier_count(rec) == 1, "%d barriers", vkg_rec_barrier_count(rec));
    CHECK_OK(vkg_activation_forward(rec, VKG_TANH, 0, &b, &b)); /* b was written before c's read */
    CHECK(vkg_rec_barrier_count(rec) == 1, "%d barriers", vkg_rec_barrier_count(rec));
    CHECK_OK(vkg_fill_normal(rec, &rng, 0, 1, &a)); /* overwrites what the tanh read: WAR */
    CHECK(vkg_rec_barrier_count(rec) == 2, "%d barriers", vkg_rec_barrier_count(rec));
    CHECK_OK(vkg_rec_end(rec));
    CHECK_OK(vkg_rec_run(rec));
    CHECK(vkg_rec_dispatch_count(rec) == 5, "%d dispatches", vkg_rec_dispatch_count(rec));
}

TEST(timestamps_on_every_dispatch) {
    vkg_ctx *ctx = test_ctx();
    vkg_arena *arena = test_arena(ctx);
    vkg_tensor a = upload_tensor(ctx, arena, 1, 4096, 1, 1, NULL);
    vkg_rng rng = {.seed = 1};
    vkg_rec *rec = vkg_rec_begin(ctx, 1);
    CHECK(rec != NULL, "%s", vkg_error());
    int ok = vkg_fill_normal(rec, &rng, 0, 1, &a) == 0 &&
             vkg_activation_forward(rec, VKG_TANH, 0, &a, &a) == 0 && vkg_rec_end(rec) == 0 &&
             vkg_rec_run(rec) == 0;
    double ms[4];
    const char *names[4];
    int n = ok ? vkg_rec_timings(rec, ms, names, 4) : -1;
    vkg_rec_destroy(rec);
    CHECK(ok, "%s", vkg_error());
    CHECK(n == 2, "%d timings for 2 dispatches", n);
    CHECK(strcmp(names[0], "rng_fill") == 0 && strcmp(names[1], "activation_fwd") == 0,
          "names %s, %s", names[0], names[1]);
    CHECK(ms[0] >= 0 && ms[1] >= 0 && ms[0] + ms[1] < 10000, "times %g, %g ms", ms[0], ms[1]);
}

TEST(tensor_larger_than_device_fails_clearly) {
    vkg_ctx *ctx = test_ctx();
    vkg_arena *arena = test_arena(ctx);
    vkg_tensor t;
    CHECK(vkg_tensor_alloc(arena, 1024, 1024, 64, 64, &t) < 0, "a 16 GiB tensor was allocated");
    CHECK(strstr(vkg_error(), "maxStorageBufferRange") != NULL, "unclear error: %s", vkg_error());
    /* an arena block larger than the device's memory: the allocation itself must fail cleanly */
    const vkg_device_info *d = vkg_ctx_device(ctx);
    uint64_t total = 0;
    for (int i = 0; i < d->heap_count; i++) total += d->heap_size[i];
    vkg_arena *huge = vkg_arena_create(ctx, total * 2);
    CHECK(huge != NULL, "%s", vkg_error());
    vkg_buf b;
    int r = vkg_arena_alloc(huge, 1024, &b);
    vkg_arena_destroy(huge);
    CHECK(r < 0, "an arena twice the size of device memory was allocated");
    CHECK(strstr(vkg_error(), "out of device memory") != NULL, "unclear error: %s", vkg_error());
}

TEST(unaligned_binding_is_an_error_not_a_crash) {
    vkg_ctx *ctx = test_ctx();
    vkg_arena *arena = test_arena(ctx);
    vkg_tensor a = upload_tensor(ctx, arena, 1, 64, 1, 1, NULL);
    vkg_tensor view = vkg_tensor_view(&a, 1, 1, 8, 1, 1);
    vkg_rec *rec = test_rec(ctx);
    CHECK(!test_failed(), "setup");
    CHECK(vkg_activation_forward(rec, VKG_RELU, 0, &view, &view) < 0, "unaligned view accepted");
    CHECK(strstr(vkg_error(), "alignment") != NULL, "unclear error: %s", vkg_error());
    CHECK(vkg_rec_end(rec) < 0, "a failed recording ended cleanly");
}

TEST(validation_layer_reports_misuse) {
    vkg_ctx *ctx = test_ctx();
    vkg_arena *arena = test_arena(ctx);
    vkg_tensor a = upload_tensor(ctx, arena, 1, 64, 1, 1, NULL);
    vkg_buf bad = a.buf;
    bad.offset += 2; /* vkCmdFillBuffer needs a multiple of 4 */
    bad.size = 8;
    int before = vkg_ctx_validation_count(ctx);
    vkg_rec *rec = test_rec(ctx);
    CHECK(!test_failed(), "setup");
    vkg_rec_fill(rec, &bad, 0);
    CHECK(vkg_ctx_validation_count(ctx) > before, "the validation layer did not report a "
                                                  "misaligned vkCmdFillBuffer: is it loaded?");
    test_forgive_validation_messages();
}

/* VKGAN_GEMM that names no path is an error, not the device's choice taken in silence; options
 * that choose the path themselves do not read it. */
TEST(gemm_path_variable_naming_no_path_is_an_error) {
    const char *old = getenv("VKGAN_GEMM");
    char *saved = old ? strdup(old) : NULL;
    setenv("VKGAN_GEMM", "bogus", 1);
    vkg_ctx_options opts = {.validation = 1, .quiet = 1};
    vkg_ctx *ctx = vkg_ctx_create(&opts);
    CHECK(!ctx && strstr(vkg_error(), "VKGAN_GEMM=bogus: expected packed or tiled"),
          "VKGAN_GEMM=bogus: %s", ctx ? "a context" : vkg_error());
    vkg_ctx_destroy(ctx);
    opts.gemm_path = VKG_GEMM_TILED;
    ctx = vkg_ctx_create(&opts);
    CHECK(ctx != NULL, "with the path in the options: %s", vkg_error());
    CHECK(vkg_ctx_destroy(ctx) == 0, "validation messages at teardown");
    if (saved)
        setenv("VKGAN_GEMM", saved, 1);
    else
        unsetenv("VKGAN_GEMM");
    free(saved);
}

TEST(pipeline_cache_written_and_reused) {
    const char *dir = test_tmpdir(); /* removed with what is in it, however the test ends */
    const char *old = getenv("XDG_CACHE_HOME");
    char *saved = old ? strdup(old) : NULL;
    setenv("XDG_CACHE_HOME", dir, 1);
    vkg_ctx_options opts = {.validation = 1, .quiet = 1};
    size_t sizes[2] = {0, 0};
    char path[1200] = "";
    for (int round = 0; round < 2; round++) {
        vkg_ctx *ctx = vkg_ctx_create(&opts);
        CHECK(ctx != NULL, "%s", vkg_error());
        vkg_arena *arena = vkg_arena_create(ctx, 1 << 20);
        vkg_tensor a;
        vkg_rec *rec = NULL;
        int ok = arena && vkg_tensor_alloc(arena, 1, 256, 1, 1, &a) == 0 &&
                 (rec = vkg_rec_begin(ctx, 0)) != NULL &&
                 vkg_activation_forward(rec, VKG_SIGMOID, 0, &a, &a) == 0 &&
                 vkg_rec_end(rec) == 0 && vkg_rec_run(rec) == 0;
        int messages = vkg_ctx_validation_count(ctx);
        const vkg_device_info *d = vkg_ctx_device(ctx);
        char uuid[33];
        for (int i = 0; i < 16; i++) snprintf(uuid + 2 * i, 3, "%02x", d->uuid[i]);
        snprintf(path, sizeof path, "%s/vkgan/pipelines-%s-%08x.bin", dir, uuid, d->driver_version);
        vkg_rec_destroy(rec);
        vkg_arena_destroy(arena);
        vkg_ctx_destroy(ctx); /* writes the cache */
        CHECK(ok, "%s", vkg_error());
        CHECK(messages == 0, "validation messages in the second context");
        /* a VkPipelineCacheHeaderVersionOne: headerSize 32, version 1 (lavapipe stores no more) */
        uint32_t header[2] = {0, 0};
        FILE *f = fopen(path, "rb");
        size_t got = f ? fread(header, 4, 2, f) : 0;
        if (f) fseek(f, 0, SEEK_END);
        sizes[round] = f ? (size_t)ftell(f) : 0;
        if (f) fclose(f);
        CHECK(got == 2 && header[0] == 32 && header[1] == 1, "no valid pipeline cache at %s", path);
    }
    /* a folder where the cache file goes: no cache, not a failure (it used to be read as a file
     * of LONG_MAX bytes, which the sanitizers' allocator aborts on) */
    CHECK(remove(path) == 0 && mkdir(path, 0755) == 0, "cannot put a folder at %s", path);
    vkg_ctx *ctx = vkg_ctx_create(&opts);
    CHECK(ctx != NULL, "with a folder for the cache: %s", vkg_error());
    vkg_ctx_destroy(ctx);
    if (saved)
        setenv("XDG_CACHE_HOME", saved, 1);
    else
        unsetenv("XDG_CACHE_HOME");
    free(saved);
    CHECK(sizes[1] == sizes[0], "the reused cache changed size (%zu -> %zu): not reused?", sizes[0],
          sizes[1]);
}
