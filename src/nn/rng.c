/* Counter-based random kernels: dropout and fills (shaders/philox.glsl). */
#include "nn/kernel.h"

typedef struct rng_push {
    uint32_t seed, stream, step_base, step_index, has_counter, count;
    float a, b;
    uint32_t mode;
    float c, d, e;
    uint32_t first;
} rng_push;

enum { FILL_NORMAL, ADD_NORMAL, FILL_UNIFORM, FILL_LABELS };

/* `n` examples of count / n elements each */
static rng_push key(const vkg_rng *rng, size_t count, int n, float a, float b, uint32_t mode) {
    return (rng_push){rng->seed,
                      rng->stream,
                      rng->step_base,
                      rng->step_index,
                      rng->counters != 0,
                      (uint32_t)count,
                      a,
                      b,
                      mode,
                      0,
                      0,
                      0,
                      (uint32_t)(rng->first * (count / (size_t)n))};
}

/* Binding 0 is the step counter; when there is none any bound range will do, it is not read. */
static int record(vkg_rec *rec, vkg_shader_id shader, const vkg_rng *rng, rng_push *p,
                  const vkg_buf *x, const vkg_buf *y, const vkg_buf *scale) {
    vkg_kernel k = {.shader = shader,
                    .push = p,
                    .push_size = sizeof *p,
                    .groups = {vkg_elementwise_groups(rec, p->count), 1, 1}};
    VKG_BIND(k, 0, rng->counters ? rng->counters : x);
    VKG_BIND(k, 1, x);
    VKG_BIND(k, 2, y);
    if (scale) VKG_BIND(k, 3, scale);
    return vkg_rec_kernel(rec, &k);
}

int vkg_dropout(vkg_rec *rec, const vkg_rng *rng, float p, const vkg_tensor *x,
                const vkg_tensor *y) {
    size_t count = vkg_tensor_count(x);
    if (vkg_check_count("dropout", "the output", y, count) < 0) return -1;
    if (!(p >= 0.0f && p < 1.0f)) return vkg_set_error("dropout: p = %g is not in [0, 1)", p);
    rng_push push = key(rng, count, x->n, p, 0, 0);
    return record(rec, VKG_SHADER_RNG_DROPOUT, rng, &push, &x->buf, &y->buf, NULL);
}

int vkg_fill_normal(vkg_rec *rec, const vkg_rng *rng, float mean, float std, const vkg_tensor *y) {
    rng_push push = key(rng, vkg_tensor_count(y), y->n, mean, std, FILL_NORMAL);
    return record(rec, VKG_SHADER_RNG_FILL, rng, &push, &y->buf, &y->buf, &y->buf);
}

int vkg_fill_uniform(vkg_rec *rec, const vkg_rng *rng, float lo, float hi, const vkg_tensor *y) {
    rng_push push = key(rng, vkg_tensor_count(y), y->n, lo, hi, FILL_UNIFORM);
    return record(rec, VKG_SHADER_RNG_FILL, rng, &push, &y->buf, &y->buf, &y->buf);
}

int vkg_fill_labels(vkg_rec *rec, const vkg_rng *rng, const vkg_label_noise *labels,
                    const vkg_tensor *y) {
    const vkg_label_noise *l = labels;
    if (!(l->flip >= 0.0f && l->flip <= 1.0f))
        return vkg_set_error("labels: the flip probability %g is not in [0, 1]", l->flip);
    rng_push push = key(rng, vkg_tensor_count(y), y->n, l->lo, l->hi, FILL_LABELS);
    push.c = l->other_lo, push.d = l->other_hi, push.e = l->flip;
    return record(rec, VKG_SHADER_RNG_FILL, rng, &push, &y->buf, &y->buf, &y->buf);
}

int vkg_add_normal(vkg_rec *rec, const vkg_rng *rng, float std, const vkg_buf *sigma,
                   const vkg_tensor *x, const vkg_tensor *y) {
    size_t count = vkg_tensor_count(x);
    if (vkg_check_count("add noise", "the output", y, count) < 0) return -1;
    if (!sigma || !sigma->buffer) return vkg_set_error("add noise: no sigma buffer");
    rng_push push = key(rng, count, x->n, 0, std, ADD_NORMAL);
    return record(rec, VKG_SHADER_RNG_FILL, rng, &push, &x->buf, &y->buf, sigma);
}

int vkg_gather_epoch_batch(vkg_rec *rec, const vkg_rng *rng, const vkg_buf *data, int u8, int rows,
                           const vkg_tensor *out) {
    return vkg_gather_epoch_batch_split(rec, rng, data, NULL, rows, u8, rows, out);
}

int vkg_gather_epoch_batch_split(vkg_rec *rec, const vkg_rng *rng, const vkg_buf *data,
                                 const vkg_buf *rest, int split, int u8, int rows,
                                 const vkg_tensor *out) {
    size_t row = vkg_tensor_count(out) / (size_t)out->n, bytes = row * (u8 ? 1 : 4);
    if (rows < 1 || split < 1 || split > rows || data->size < (uint64_t)split * bytes ||
        (split < rows && (!rest || rest->size < (uint64_t)(rows - split) * bytes)))
        return vkg_set_error("gather: %d rows of %zu values do not fit the %llu-byte data range",
                             rows, row, (unsigned long long)(data->size + (rest ? rest->size : 0)));
    if (out->n > 65535) return vkg_set_error("gather: batch %d is above 65535", out->n);
    struct {
        uint32_t seed, step_base, step_index, has_counter, rows, row, is_u8, split, total, first;
    } p = {rng->seed,
           rng->step_base,
           rng->step_index,
           rng->counters != NULL,
           (uint32_t)rows,
           (uint32_t)row,
           u8 ? 1u : 0u,
           (uint32_t)split,
           rng->total ? rng->total : (uint32_t)out->n,
           rng->first};
    vkg_kernel k = {.shader = VKG_SHADER_RNG_GATHER_EPOCH,
                    .push = &p,
                    .push_size = sizeof p,
                    .groups = {(uint32_t)out->n, 1, 1}};
    VKG_BIND(k, 0, rng->counters ? rng->counters : data);
    VKG_BIND(k, 1, data);
    VKG_BIND(k, 2, &out->buf);
    VKG_BIND(k, 3, split < rows ? rest : data);
    return vkg_rec_kernel(rec, &k);
}
