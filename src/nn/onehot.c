/* Class conditioning by one-hot channels (shaders/onehot.comp). */
#include "nn/kernel.h"

static int record(vkg_rec *rec, const vkg_tensor *narrow, const vkg_tensor *wide,
                  const vkg_buf *labels, int classes, uint32_t mode) {
    const char *op = mode ? "one-hot backward" : "one-hot concat";
    if (classes < 1) return vkg_set_error("%s: %d classes", op, classes);
    if (vkg_check_count(op, "the wide tensor", wide,
                        (size_t)narrow->n * (narrow->c + classes) * narrow->h * narrow->w) < 0)
        return -1;
    if (labels->size < (uint64_t)narrow->n * 4)
        return vkg_set_error("%s: fewer labels than the batch of %d", op, narrow->n);
    uint32_t p[5] = {(uint32_t)narrow->n, (uint32_t)narrow->c, (uint32_t)classes,
                     (uint32_t)(narrow->h * narrow->w), mode};
    size_t count = mode ? vkg_tensor_count(narrow) : vkg_tensor_count(wide);
    vkg_kernel k = {.shader = VKG_SHADER_ONEHOT,
                    .push = p,
                    .push_size = sizeof p,
                    .groups = {vkg_elementwise_groups(rec, count), 1, 1}};
    VKG_BIND(k, 0, mode ? &wide->buf : &narrow->buf);
    VKG_BIND(k, 1, labels);
    VKG_BIND(k, 2, mode ? &narrow->buf : &wide->buf);
    return vkg_rec_kernel(rec, &k);
}

int vkg_onehot_concat(vkg_rec *rec, const vkg_tensor *x, const vkg_buf *labels, int classes,
                      const vkg_tensor *y) {
    return record(rec, x, y, labels, classes, 0);
}

int vkg_onehot_backward(vkg_rec *rec, const vkg_tensor *dy, const vkg_buf *labels, int classes,
                        const vkg_tensor *dx) {
    return record(rec, dx, dy, labels, classes, 1);
}
