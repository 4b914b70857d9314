/* Model summaries (see summary.h). */
#include "train/summary.h"

int summary_print(FILE *f, const char *name, const vkg_layer_spec *layers, int count, int c, int h,
                  int w, model_totals *t) {
    vkg_layer_info info[VKG_MAX_LAYERS];
    if (vkg_layers_describe(layers, count, c, h, w, info) < 0) return -1;
    *t = (model_totals){0, 0};
    if (f)
        fprintf(f, "%s (input %dx%dx%d)\n  %-3s %-26s %-14s %12s\n", name, c, h, w, "#", "layer",
                "output", "parameters");
    for (int i = 0; i < count; i++) {
        const vkg_layer_spec *s = &layers[i];
        char what[48], shape[32];
        if (s->kind == VKG_LAYER_CONV || s->kind == VKG_LAYER_CONV_T)
            snprintf(what, sizeof what, "%s %dx%d/%d", vkg_layer_kind_name(s->kind), s->conv.kernel,
                     s->conv.kernel, s->conv.stride);
        else if (s->kind == VKG_LAYER_ACTIVATION)
            snprintf(what, sizeof what, "%s",
                     s->act == VKG_RELU         ? "relu"
                     : s->act == VKG_LEAKY_RELU ? "leaky_relu 0.2"
                     : s->act == VKG_TANH       ? "tanh"
                                                : "sigmoid");
        else if (s->kind == VKG_LAYER_DROPOUT)
            snprintf(what, sizeof what, "dropout p=%g", s->p);
        else
            snprintf(what, sizeof what, "%s", vkg_layer_kind_name(s->kind));
        snprintf(shape, sizeof shape, "%dx%dx%d", info[i].c, info[i].h, info[i].w);
        if (f) fprintf(f, "  %-3d %-26s %-14s %12zu\n", i, what, shape, info[i].params);
        t->params += info[i].params, t->macs += info[i].macs;
    }
    if (f)
        fprintf(f, "  %zu parameters, %.3g MFLOP forward per example\n", t->params,
                2 * t->macs / 1e6);
    return 0;
}
