/* Per-channel sums (here the batch mean) on both reduction paths, against the reference.
 * Tolerance: atol 1e-6, rtol 1e-5. */
#include "check.h"

TEST(channel_mean_both_paths) {
    vkg_ctx *ctxs[2] = {test_ctx(), test_ctx_alternate()};
    for (int k = 0; k < 2; k++) {
        vkg_arena *arena = test_arena(ctxs[k]);
        int n = 7, c = 3, hw = 13 * 13;
        double *x = random_doubles((size_t)n * c * hw, -1, 3, 901);
        vkg_tensor tx = upload_tensor(ctxs[k], arena, n, c, 13, 13, x);
        vkg_tensor out = upload_tensor(ctxs[k], arena, 1, c, 1, 1, NULL);
        vkg_rec *rec = test_rec(ctxs[k]);
        CHECK(!test_failed(), "setup");
        CHECK_OK(vkg_channel_sum(rec, &tx, &out, 1.0f / (n * hw), 0));
        CHECK_OK(vkg_rec_end(rec));
        CHECK_OK(vkg_rec_run(rec));
        double want[3];
        ref_channel_sum(n, c, hw, x, want);
        for (int i = 0; i < c; i++) want[i] /= n * hw;
        CHECK_CLOSE("channel mean", download_tensor(ctxs[k], &out), want, 3, 1e-6, 1e-5);
    }
}
