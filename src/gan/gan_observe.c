/* What observers read of a training GAN (see include/vkgan/gan.h): the window's preview, the
 * GPU time per kernel of a step (--profile) and the non-finite check of the health monitor.
 * None of it changes training; the step itself is recorded in gan.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gan/gan_internal.h"
#include "vkgan/error.h"
#include "vkgan/gan.h"

/* A range's values summed over every element: NaN or infinite when one of them is. */
static int record_total(vkg_rec *rec, const vkg_tensor *range, const vkg_tensor *sum) {
    vkg_tensor all = *range;
    all.n = (int)vkg_tensor_count(range), all.c = all.h = all.w = 1;
    return vkg_channel_sum(rec, &all, sum, 1, 0);
}

int vkg_gan_nonfinite(vkg_gan *gan, unsigned *mask) {
    if (!gan->finite_rec) {
        const vkg_tensor *ranges[4] = {&gan->g.params, &gan->g.grads, &gan->d.params,
                                       &gan->d.grads};
        int r = (gan->finite_rec = vkg_rec_begin(gan->ctx, 0)) ? 0 : -1;
        for (int i = 0; r == 0 && i < 4; i++)
            r |= record_total(gan->finite_rec, ranges[i], &gan->finite_sums[i]);
        if (r < 0 || vkg_rec_end(gan->finite_rec) < 0) return -1;
    }
    if (vkg_gan_wait(gan) < 0 || vkg_rec_run(gan->finite_rec) < 0) return -1;
    *mask = 0;
    for (int i = 0; i < 4; i++) {
        float sum;
        if (vkg_tensor_download(gan->ctx, &gan->finite_sums[i], &sum) < 0) return -1;
        if (!isfinite(sum)) *mask |= 1u << i;
    }
    return 0;
}

int vkg_gan_preview(vkg_gan *gan, int fresh) {
    vkg_rec **rec = &gan->preview_rec[fresh ? 1 : 0];
    if (!*rec) { /* recorded on first use */
        int r = 0;
        if (!(*rec = vkg_rec_begin(gan->ctx, 1))) return -1;
        if (fresh) { /* a new draw each time: the preview counter advances */
            vkg_rng z_rng = {.seed = gan->config.seed,
                             .stream = STREAM_Z_PREVIEW,
                             .counters = &gan->counters.buf,
                             .step_index = VKG_COUNTER_PREVIEW};
            r |= vkg_counter_add(*rec, &gan->counters.buf, VKG_COUNTER_PREVIEW, 1);
            r |= vkg_fill_normal(*rec, &z_rng, 0, 1, &gan->z);
        }
        /* with several ranks the fixed batch's first part (G makes one rank's share) */
        vkg_tensor fixed =
            vkg_tensor_view(&gan->fixed_z, 0, gan->config.batch, gan->config.latent, 1, 1);
        const vkg_tensor *z = fresh                         ? &gan->z
                              : gan->config.ranks.ranks > 1 ? &fixed
                                                            : &gan->fixed_z;
        r |= gan_record_generate_into(*rec, gan, z, &gan->preview);
        if (r < 0) {
            vkg_rec_destroy(*rec);
            *rec = NULL;
            return -1;
        }
    }
    gan->preview_last = fresh ? 1 : 0;
    return vkg_rec_submit(*rec);
}

double vkg_gan_preview_ms(vkg_gan *gan) {
    vkg_rec *rec = gan->preview_last >= 0 ? gan->preview_rec[gan->preview_last] : NULL;
    if (!rec || !vkg_rec_done(rec)) return -1;
    double ms[256], sum = 0;
    int n = vkg_rec_timings(rec, ms, NULL, 256);
    for (int i = 0; i < n; i++) sum += ms[i];
    return n > 0 ? sum : -1;
}

int vkg_gan_profile(vkg_gan *gan, const char **names, double *ms, int *calls, int max) {
    enum { MOST = 4096 };
    if (vkg_gan_wait(gan) < 0 || gan->submitted == 0) return 0;
    double *t = malloc(sizeof(double) * MOST);
    const char **n = malloc(sizeof(char *) * MOST);
    int got = t && n ? vkg_rec_timings(gan->step[(gan->submitted - 1) % 2], t, n, MOST) : -1;
    int distinct = 0;
    for (int i = 0; i < got; i++) { /* sum by shader name */
        int j = 0;
        while (j < distinct && strcmp(names[j], n[i]) != 0) j++;
        if (j == distinct) {
            if (distinct == max) continue;
            names[distinct] = n[i], ms[distinct] = 0, calls[distinct] = 0, distinct++;
        }
        ms[j] += t[i], calls[j]++;
    }
    for (int i = 1; i < distinct; i++) /* largest first */
        for (int j = i; j > 0 && ms[j] > ms[j - 1]; j--) {
            double tm = ms[j];
            const char *nm = names[j];
            int c = calls[j];
            ms[j] = ms[j - 1], names[j] = names[j - 1], calls[j] = calls[j - 1];
            ms[j - 1] = tm, names[j - 1] = nm, calls[j - 1] = c;
        }
    free(t);
    free(n);
    return got < 0 ? vkg_set_error("out of host memory") : distinct;
}
