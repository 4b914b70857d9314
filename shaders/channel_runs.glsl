// The runs of channel c of a [batch, C, hw] tensor that thread tid of a REDUCE_THREADS-wide
// workgroup takes. A run is up to 4 consecutive floats of one image's plane: run (n, r) starts at
// float (n * C + c) * hw + 4 * r and holds min(4, hw - 4 * r) of them; thread tid takes runs
// tid, tid + REDUCE_THREADS, ... of the channel's batch * ceil(hw / 4), in that order. The image
// and the run within it are carried from one run to the next, so the loop divides nothing
// (lavapipe runs a vector integer division as one scalar division per lane).
// Include after reduce.glsl. ALIGNED (hw a multiple of 4, a specialization constant of the
// includer) makes every run whole. FOR_CHANNEL_RUN(w, c, batch, C, hw) { ... } visits them, with
// run_start(w) and run_count(w).
struct channel_runs {
    uint i, end;  // the run's position in the channel, and the channel's run count
    uint n, r;    // its image, and its place within the image's plane
    uint runs;    // runs per image
    uint hw, chw; // the strides of 4 * r and of n
    uint step_n, step_r, base;
};

channel_runs runs_begin(uint c, uint batch, uint channels, uint hw) {
    uint tid = gl_LocalInvocationIndex;
    channel_runs w;
    w.runs = (hw + 3u) / 4u;
    w.i = tid;
    w.end = batch * w.runs;
    w.n = tid / w.runs;
    w.r = tid % w.runs;
    w.hw = hw;
    w.chw = channels * hw;
    w.step_n = REDUCE_THREADS / w.runs;
    w.step_r = REDUCE_THREADS % w.runs;
    w.base = c * hw;
    return w;
}

uint run_start(channel_runs w) { return w.base + w.n * w.chw + 4u * w.r; }

uint run_count(channel_runs w) { return ALIGNED ? 4u : min(4u, w.hw - 4u * w.r); }

void runs_next(inout channel_runs w) {
    w.i += REDUCE_THREADS;
    w.n += w.step_n;
    w.r += w.step_r;
    if (w.r >= w.runs) {
        w.r -= w.runs;
        w.n++;
    }
}

#define FOR_CHANNEL_RUN(w, c, batch, channels, hw)                                                \
    for (channel_runs w = runs_begin(c, batch, channels, hw); w.i < w.end; runs_next(w))

// The 4 floats from float e of a tensor bound as rgba32f texels (TEXEL_READS) or as floats, of
// which the first `count` are kept (the rest are 0; never a neighbour's float, which may be
// anything): e need not be a multiple of 4. The includer declares the tensor as a float array, or
// as a readonly rgba32f imageBuffer (defining TEXEL_READS), and then DEFINE_TEXEL_RUN(tensor)
// after including this file (texel_floats.glsl says why a macro).
bvec4 first_of_4(uint count) { return lessThan(uvec4(0u, 1u, 2u, 3u), uvec4(count)); }

vec4 masked(vec4 v, bvec4 keep) { return mix(vec4(0.0), v, keep); }

#ifdef TEXEL_READS
#include "texel_floats.glsl"
#define DEFINE_TEXEL_RUN(t)                                                                        \
    DEFINE_FLOATS_AT(t)                                                                            \
    vec4 texel_run_##t(uint e, uint count) {                                                       \
        if (ALIGNED) return imageLoad(t, int(e >> 2u));                                            \
        return masked(floats_at_##t(int(e)), first_of_4(count));                                   \
    }
#define LOAD_RUN(name, e, count) texel_run_##name(e, count)
#else
// (the floats past count read the run's last one again: never outside the tensor)
#define LOAD_RUN(name, e, count)                                                                   \
    (ALIGNED ? vec4(name[e], name[e + 1u], name[e + 2u], name[e + 3u])                              \
             : masked(vec4(name[e], name[e + min(1u, count - 1u)], name[e + min(2u, count - 1u)], \
                           name[e + min(3u, count - 1u)]),                                         \
                      first_of_4(count)))
#endif
