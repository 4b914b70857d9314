/* vkgan bench-kernels: every kernel of a DCGAN training step, timed per dispatch with timestamp
 * queries, as GFLOP/s and as a fraction of the device's fp32 peak (from an FMA microbenchmark). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "vkgan/dcgan.h"

typedef struct bench_args {
    const char *model, *device;
    int batch, repeat, validation;
} bench_args;

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#define F(field) VKG_OPT_FIELD(bench_args, field)
static const vkg_opt bench_opts[] = {
    {"model", "M", VKG_OPT_STR, F(model), 0, 0, "all", "28, 32, 64 or all", 0, NULL,
     "28|32|64|all"},
    {"batch", "N", VKG_OPT_INT, F(batch), 0, 65535, "0", "one batch size (0: 64 and 128)", 0},
    {"repeat", "R", VKG_OPT_INT, F(repeat), 1, 64, "5",
     "replays to take the median of (each is one full pass)", 0},
    CLI_DEVICE_OPTIONS(bench_args),
};
#undef F
#pragma GCC diagnostic pop

static const vkg_opt_table bench_table = {
    "bench-kernels",
    "[options]",
    "Times every kernel (forward and backward) of a DCGAN training step at the shapes of the "
    "28x28 (G 100-128-64-1, D 1-64-128-1), 32x32 (G 100-256-128-64-3, D 3-64-128-256-1) and "
    "64x64 (G 100-512-256-128-64-3, D 3-64-...-512-1) models: the median GPU time per dispatch "
    "over R replays (timestamp queries), GFLOP/s, the fraction of the fp32 peak measured by an "
    "FMA microbenchmark, and GB/s for the memory-bound kernels; on CPU devices also the "
    "convolutions' rate without their packing passes. This is a benchmark, not a test: numbers "
    "go in docs/PERF.md.",
    NULL,
    0,
    bench_opts,
    sizeof bench_opts / sizeof *bench_opts};

/* One convolution of a DCGAN with the batch norm and activation that follow it. */
typedef struct layer {
    char name[16];
    int transposed, c_in, size_in, c_out, kernel, stride, pad, batchnorm;
    vkg_activation act;
    int has_act;
} layer;

/* Groups a model's layer list (from the DCGAN builders) into conv + batch norm + activation. */
static int group_layers(const char *prefix, const vkg_layer_spec *specs, int n, int c, int size,
                        layer *out) {
    vkg_layer_info info[VKG_MAX_LAYERS];
    if (vkg_layers_describe(specs, n, c, size, size, info) < 0) return -1;
    int count = 0;
    for (int i = 0; i < n; i++) {
        const vkg_layer_spec *s = &specs[i];
        if (s->kind == VKG_LAYER_CONV || s->kind == VKG_LAYER_CONV_T) {
            layer *L = &out[count++];
            *L = (layer){.transposed = s->kind == VKG_LAYER_CONV_T,
                         .c_in = c,
                         .size_in = size,
                         .c_out = s->out,
                         .kernel = s->conv.kernel,
                         .stride = s->conv.stride,
                         .pad = s->conv.pad};
            snprintf(L->name, sizeof L->name, "%s%d", prefix, count);
        } else if (count && s->kind == VKG_LAYER_BATCHNORM) {
            out[count - 1].batchnorm = 1;
        } else if (count && s->kind == VKG_LAYER_ACTIVATION) {
            out[count - 1].act = s->act, out[count - 1].has_act = 1;
        }
        c = info[i].c, size = info[i].h;
    }
    return count;
}

/* The DCGAN paper's models (latent 100, widths 64) of a size (28: Fashion-MNIST's one channel;
 * 32 and 64: three, CIFAR-10's and CelebA's shapes): G's layers, then D's. */
static int dcgan_layers(int size, layer *out) {
    vkg_dcgan_shape shape = {.image_size = size,
                             .channels = size == 28 ? 1 : 3,
                             .latent = 100,
                             .g_width = 64,
                             .d_width = 64};
    vkg_layer_spec g[VKG_MAX_LAYERS], d[VKG_MAX_LAYERS];
    int ng = vkg_dcgan_generator(&shape, g), nd = vkg_dcgan_discriminator(&shape, d);
    int n = ng < 0 || nd < 0 ? -1 : group_layers("G", g, ng, shape.latent, 1, out);
    int m = n < 0 ? -1 : group_layers("D", d, nd, shape.channels, size, out + n);
    return m < 0 ? -1 : n + m;
}

#define MAX_ROWS 128

/* What one kernel call did: its dispatches [first, end) (split-K adds a second pass), flops (0
 * for memory-bound kernels) and bytes moved. */
typedef struct row {
    char label[80];
    double flops, bytes;
    int first, end;
} row;

typedef struct bench {
    vkg_ctx *ctx;
    vkg_arena *arena;
    vkg_rec *rec;
    row rows[MAX_ROWS];
    int count;
    size_t params;
    int failed;
} bench;

static vkg_tensor tensor(bench *b, int n, int c, int h, int w) {
    vkg_tensor t = {0};
    if (!b->failed && vkg_tensor_alloc(b->arena, n, c, h, w, &t) < 0) b->failed = 1;
    return t;
}

static void add(bench *b, int result, const char *layer_name, const char *what, double flops,
                double bytes) {
    if (result < 0 || b->failed) {
        b->failed = 1;
        return;
    }
    row *r = &b->rows[b->count++];
    r->first = b->count > 1 ? b->rows[b->count - 2].end : 0;
    r->end = vkg_rec_dispatch_count(b->rec);
    snprintf(r->label, sizeof r->label, "%.15s %.60s", layer_name, what);
    r->flops = flops;
    r->bytes = bytes;
}

/* Records one layer's forward and backward kernels: conv, batch norm, activation. */
static void record_layer(bench *b, const layer *L, int batch) {
    vkg_conv p = {L->kernel, L->stride, L->pad};
    int out = L->transposed ? vkg_conv_transpose_out_size(L->size_in, &p)
                            : vkg_conv_out_size(L->size_in, &p);
    vkg_tensor x = tensor(b, batch, L->c_in, L->size_in, L->size_in);
    vkg_tensor dx = tensor(b, batch, L->c_in, L->size_in, L->size_in);
    vkg_tensor w = L->transposed ? tensor(b, L->c_in, L->c_out, L->kernel, L->kernel)
                                 : tensor(b, L->c_out, L->c_in, L->kernel, L->kernel);
    vkg_tensor dw = tensor(b, w.n, w.c, w.h, w.w);
    vkg_tensor y = tensor(b, batch, L->c_out, out, out);
    vkg_tensor dy = tensor(b, batch, L->c_out, out, out);
    vkg_tensor z = tensor(b, batch, L->c_out, out, out);
    if (b->failed) return;
    vkg_rng rng = {.seed = 1};
    add(b, vkg_fill_normal(b->rec, &rng, 0, 1, &x), L->name, "fill x", 0,
        4.0 * vkg_tensor_count(&x));
    add(b, vkg_fill_normal(b->rec, &rng, 0, 0.02f, &w), L->name, "fill w", 0,
        4.0 * vkg_tensor_count(&w));
    add(b, vkg_fill_normal(b->rec, &rng, 0, 1, &dy), L->name, "fill dy", 0,
        4.0 * vkg_tensor_count(&dy));
    double macs = (double)batch * L->c_out * out * out * L->c_in * L->kernel * L->kernel;
    if (L->transposed)
        macs = (double)batch * L->c_in * L->size_in * L->size_in * L->c_out * L->kernel * L->kernel;
    const char *kind = L->transposed ? "conv_transpose2d" : "conv2d";
    char what[48];
    snprintf(what, sizeof what, "%s fwd", kind);
    add(b,
        L->transposed ? vkg_conv_transpose2d_forward(b->rec, &p, &x, &w, NULL, &y)
                      : vkg_conv2d_forward(b->rec, &p, &x, &w, NULL, &y),
        L->name, what, 2 * macs, 0);
    double elems = (double)vkg_tensor_count(&y);
    if (L->batchnorm) {
        vkg_batchnorm bn = {.eps = 1e-5f, .momentum = 0.1f};
        bn.gamma = tensor(b, 1, L->c_out, 1, 1);
        bn.beta = tensor(b, 1, L->c_out, 1, 1);
        bn.running_mean = tensor(b, 1, L->c_out, 1, 1);
        bn.running_var = tensor(b, 1, L->c_out, 1, 1);
        bn.saved = tensor(b, 2, L->c_out, 1, 1);
        vkg_tensor dg = tensor(b, 1, L->c_out, 1, 1), db = tensor(b, 1, L->c_out, 1, 1);
        if (b->failed) return;
        add(b, vkg_batchnorm_forward(b->rec, &bn, &y, &z, 1), L->name, "batchnorm fwd", 0,
            4 * 3 * elems);
        add(b, vkg_batchnorm_backward(b->rec, &bn, &y, &dy, &z, &dg, &db, 1, 0), L->name,
            "batchnorm bwd", 0, 4 * 5 * elems);
        b->params += 2 * (size_t)L->c_out;
    }
    if (L->has_act) {
        add(b, vkg_activation_forward(b->rec, L->act, 0.2f, &y, &z), L->name, "activation fwd", 0,
            4 * 2 * elems);
        add(b, vkg_activation_backward(b->rec, L->act, 0.2f, &z, &dy, &y), L->name,
            "activation bwd", 0, 4 * 3 * elems);
    }
    snprintf(what, sizeof what, "%s bwd input", kind);
    add(b,
        L->transposed ? vkg_conv_transpose2d_backward_input(b->rec, &p, &dy, &w, &dx)
                      : vkg_conv2d_backward_input(b->rec, &p, &dy, &w, &dx),
        L->name, what, 2 * macs, 0);
    snprintf(what, sizeof what, "%s bwd weight", kind);
    add(b,
        L->transposed ? vkg_conv_transpose2d_backward_weight(b->rec, &p, &x, &dy, &dw, 0)
                      : vkg_conv2d_backward_weight(b->rec, &p, &x, &dy, &dw, 0),
        L->name, what, 2 * macs, 0);
    b->params += vkg_tensor_count(&w);
}

static void record_step_tail(bench *b, int batch) {
    vkg_tensor logits = tensor(b, batch, 1, 1, 1), targets = tensor(b, batch, 1, 1, 1);
    vkg_tensor dlogits = tensor(b, batch, 1, 1, 1), out = tensor(b, 1, 2, 1, 1);
    int n = (int)b->params;
    vkg_tensor p = tensor(b, 1, n, 1, 1), g = tensor(b, 1, n, 1, 1);
    vkg_tensor m = tensor(b, 1, n, 1, 1), v = tensor(b, 1, n, 1, 1);
    vkg_buf hyper;
    if (b->failed || vkg_arena_alloc(b->arena, sizeof(vkg_adam_hyper), &hyper) < 0) {
        b->failed = 1;
        return;
    }
    vkg_adam_hyper h = {2e-4f, 0.5f, 0.999f, 1e-8f, 0, 0, 1};
    if (vkg_upload(b->ctx, &hyper, &h, sizeof h) < 0) b->failed = 1;
    add(b, vkg_bce_with_logits(b->rec, &logits, &targets, &out.buf, &dlogits, 1), "loss",
        "bce with logits", 0, 4.0 * 3 * batch);
    add(b, vkg_adam_step(b->rec, &p.buf, &g.buf, &m.buf, &v.buf, &hyper), "adam", "all parameters",
        0, 4.0 * 7 * n);
}

static double median(double *v, int n) {
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && v[j] < v[j - 1]; j--) {
            double t = v[j];
            v[j] = v[j - 1], v[j - 1] = t;
        }
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Peak fp32 rate: enough FMA work to run >= 100 ms, doubled until it does; the best of two
 * replays at each size. The shader (shaders/fma_peak.comp) runs enough independent chains,
 * unrolled, that more of either does not raise the rate, so "% of peak" is against the rate the
 * device really reaches, not one limited by FMA latency. */
static double cpu_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int measure_peak(vkg_ctx *ctx, double *gflops, double *per_cpu_second) {
    vkg_arena *arena = vkg_arena_create(ctx, 0);
    uint32_t groups = 1024;
    vkg_buf out;
    if (!arena || vkg_arena_alloc(arena, groups * 256 * 4, &out) < 0) return -1;
    double best = 0, best_cpu = 0, ms = 0;
    for (uint32_t iterations = 64; ms < 100 && iterations < (1u << 24); iterations *= 2) {
        vkg_rec *rec = vkg_rec_begin(ctx, 1);
        int ok = rec && vkg_fma_peak(rec, &out, groups, iterations) == 0 && vkg_rec_end(rec) == 0;
        double flops = (double)groups * 256 * iterations * VKG_FMA_PEAK_FMAS * 2;
        for (int rep = 0; ok && rep < 3; rep++) {
            const char *name;
            double cpu = cpu_seconds();
            ok = vkg_rec_run(rec) == 0 && vkg_rec_timings(rec, &ms, &name, 1) == 1;
            cpu = cpu_seconds() - cpu;
            /* only runs long enough (>= 50 ms) for the timestamps' resolution and the start-up
             * of the driver's threads not to matter */
            if (ok && ms >= 50 && flops / (ms * 1e6) > best) best = flops / (ms * 1e6);
            if (ok && ms >= 50 && flops / (cpu * 1e9) > best_cpu) best_cpu = flops / (cpu * 1e9);
        }
        vkg_rec_destroy(rec);
        if (!ok) {
            vkg_arena_destroy(arena);
            return -1;
        }
    }
    vkg_arena_destroy(arena);
    *gflops = best;
    *per_cpu_second = best_cpu;
    return best > 0 ? 0 : vkg_set_error("the FMA benchmark never ran 50 ms");
}

/* A packing pass of the packed GEMMs (src/nn/gemm.c). */
static int is_packing(const char *shader) {
    return strcmp(shader, "gemm_pack") == 0 || strcmp(shader, "gemm_pack_runs") == 0;
}

static int run_model(vkg_ctx *ctx, const char *title, int size, int batch, int repeat,
                     double peak) {
    layer layers[2 * VKG_MAX_LAYERS];
    int count = dcgan_layers(size, layers);
    if (count < 0) return cli_error("bench-kernels: %s", vkg_error());
    bench b = {.ctx = ctx};
    b.arena = vkg_arena_create(ctx, 0);
    b.rec = b.arena ? vkg_rec_begin(ctx, 1) : NULL;
    if (!b.rec) return cli_error("%s", vkg_error());
    for (int i = 0; i < count && !b.failed; i++) record_layer(&b, &layers[i], batch);
    if (!b.failed) record_step_tail(&b, batch);
    fprintf(stderr, "bench-kernels: %s, batch %d: warm-up pass (%d dispatches)\n", title, batch,
            vkg_rec_dispatch_count(b.rec));
    int ok = !b.failed && vkg_rec_end(b.rec) == 0 && vkg_rec_run(b.rec) == 0; /* warm-up */
    /* per row and pass: all its dispatches, and its packing passes alone */
    static double samples[MAX_ROWS][64], packing[MAX_ROWS][64], ms[2 * MAX_ROWS];
    const char *names[2 * MAX_ROWS];
    int dispatches = vkg_rec_dispatch_count(b.rec);
    for (int r = 0; ok && r < repeat; r++) {
        fprintf(stderr, "bench-kernels: %s, batch %d: timed pass %d of %d\n", title, batch, r + 1,
                repeat);
        ok = vkg_rec_run(b.rec) == 0 &&
             vkg_rec_timings(b.rec, ms, names, 2 * MAX_ROWS) == dispatches;
        if (!ok && !*vkg_error()) vkg_set_error("missing timestamps");
        for (int i = 0; ok && i < b.count; i++) {
            samples[i][r] = packing[i][r] = 0;
            for (int d = b.rows[i].first; d < b.rows[i].end; d++) {
                samples[i][r] += ms[d];
                if (is_packing(names[d])) packing[i][r] += ms[d];
            }
        }
    }
    if (!ok) {
        int code = cli_error("bench-kernels (%s, batch %d): %s", title, batch, vkg_error());
        vkg_rec_destroy(b.rec);
        vkg_arena_destroy(b.arena);
        return code;
    }
    printf("\n%s, batch %d (%zu parameters), median of %d\n", title, batch, b.params, repeat);
    printf("%-36s %10s %9s %7s %8s\n", "kernel", "ms", "GFLOP/s", "% peak", "GB/s");
    double total_ms = 0, total_flops = 0, pack_ms = 0;
    for (int i = 0; i < b.count; i++) {
        double t = median(samples[i], repeat);
        if (strstr(b.rows[i].label, " fill ")) continue; /* input setup, not a training kernel */
        total_ms += t;
        total_flops += b.rows[i].flops;
        pack_ms += median(packing[i], repeat);
        if (b.rows[i].flops > 0)
            printf("%-36s %10.3f %9.2f %6.1f%% %8s\n", b.rows[i].label, t,
                   b.rows[i].flops / (t * 1e6), 100 * b.rows[i].flops / (t * 1e6) / peak, "-");
        else
            printf("%-36s %10.3f %9s %7s %8.2f\n", b.rows[i].label, t, "-", "-",
                   b.rows[i].bytes / (t * 1e6));
    }
    printf("%-36s %10.3f %9.2f %6.1f%%\n", "total (one pass of every kernel)", total_ms,
           total_flops / (total_ms * 1e6), 100 * total_flops / (total_ms * 1e6) / peak);
    /* the convolutions' share that is data movement, not arithmetic: without the packing passes
     * (CPU devices) the same FLOPs over the time of the GEMM and convolution kernels alone */
    double conv_ms = 0;
    for (int i = 0; i < b.count; i++)
        if (b.rows[i].flops > 0) conv_ms += median(samples[i], repeat);
    if (pack_ms > 0 && conv_ms > pack_ms)
        printf("%-36s %10.3f %9.2f %6.1f%%  (packing passes: %.3f ms, %.0f%% of the conv "
               "time)\n",
               "conv kernels without packing", conv_ms - pack_ms,
               total_flops / ((conv_ms - pack_ms) * 1e6),
               100 * total_flops / ((conv_ms - pack_ms) * 1e6) / peak, pack_ms,
               100 * pack_ms / conv_ms);
    vkg_rec_destroy(b.rec);
    vkg_arena_destroy(b.arena);
    return 0;
}

int cmd_bench_kernels(int argc, char **argv) {
    bench_args a;
    int code = cli_parse(&bench_table, argc, argv, &a);
    if (code >= 0) return code;
    vkg_ctx_options opts = cli_ctx_options(a.device, a.validation);
    const char *model = a.model;
    int batch = a.batch, repeat = a.repeat;
    vkg_ctx *ctx = vkg_ctx_create(&opts);
    if (!ctx) return cli_error("%s", vkg_error());
    const vkg_device_info *d = vkg_ctx_device(ctx);
    double peak = 0, peak_cpu = 0;
    if (measure_peak(ctx, &peak, &peak_cpu) < 0) {
        vkg_ctx_destroy(ctx);
        return cli_error("fma benchmark: %s", vkg_error());
    }
    printf("device: %s (%s %s)\n", d->name, d->driver_name, d->driver_info);
    /* per CPU-second: what the driver's threads did with the CPU time they got (CPU devices run
     * in this process); on a shared machine the wall rate depends on the load */
    printf("fp32 peak (FMA microbenchmark, 16 chains x 4): %.1f GFLOP/s (%.1f GFLOP per CPU-second "
           "of this process)\n",
           peak, peak_cpu);
    int batches[2] = {64, 128}, nb = batch ? 1 : 2;
    if (batch) batches[0] = batch;
    code = 0;
    for (int i = 0; i < nb && !code; i++) {
        static const int sizes[3] = {28, 32, 64};
        for (int j = 0; j < 3 && !code; j++) {
            char title[32];
            snprintf(title, sizeof title, "DCGAN %dx%d", sizes[j], sizes[j]);
            if (strcmp(model, "all") == 0 || atoi(model) == sizes[j])
                code = run_model(ctx, title, sizes[j], batches[i], repeat, peak);
        }
    }
    vkg_ctx_destroy(ctx);
    return code;
}
