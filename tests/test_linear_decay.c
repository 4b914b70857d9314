/* The linear schedule kept on the GPU (e.g. the instance-noise sigma) at steps before, inside and
 * past its end. */
#include <math.h>

#include "check.h"

static int run(vkg_rec *rec) {
    return vkg_rec_end(rec) < 0 || vkg_rec_run(rec) < 0 ? -1 : 0;
}

TEST(linear_decay_schedule) {
    vkg_ctx *ctx = test_ctx();
    vkg_arena *arena = test_arena(ctx);
    vkg_tensor counters = upload_tensor(ctx, arena, 1, 4, 1, 1, NULL);
    vkg_tensor level = upload_tensor(ctx, arena, 1, 3, 1, 1, NULL);
    uint32_t steps[3] = {0, 30, 150};
    float got[3];
    for (int i = 0; i < 3; i++) {
        uint32_t c[4] = {0, 0, steps[i], 0};
        CHECK_OK(vkg_upload(ctx, &counters.buf, c, sizeof c));
        vkg_rec *rec = test_rec(ctx);
        CHECK(!test_failed(), "setup");
        vkg_buf out = level.buf;
        out.size = 4;
        CHECK_OK(vkg_linear_decay(rec, &counters.buf, 2, 0.5f, 100, &out));
        CHECK_OK(run(rec));
        CHECK_OK(vkg_download(ctx, &out, &got[i], 4));
    }
    CHECK(got[0] == 0.5f && fabsf(got[1] - 0.35f) < 1e-7f && got[2] == 0.0f,
          "sigma at steps 0, 30, 150 of 100: %g %g %g, want 0.5 0.35 0", got[0], got[1], got[2]);
}
