/* The shipped FCD classifier and the metric: its test accuracy re-measured here must be the one
 * the file and the README state (>= 90%), and FCD must separate real images from noise and from
 * a single class by a wide margin. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "train/classify.h"
#include "train/quality.h"

static const char *shipped(void) {
    return quality_default_classifier("fashion-mnist");
}

/* The classifier of the file at batch 100 in the test's arena, with its real statistics. */
typedef struct fixture {
    vkg_arena *arena;
    vkg_classifier cls;
    vkg_class_stats real;
} fixture;

static int open_shipped(fixture *f) {
    int c, h, w, k;
    f->arena = test_arena(test_ctx());
    if (vkg_classifier_peek(shipped(), &c, &h, &w, &k, &f->real) < 0) return -1;
    if (vkg_classifier_create(test_ctx(), f->arena, c, h, w, k, 100, &f->cls) < 0) return -1;
    return vkg_classifier_load(&f->cls, shipped());
}

/* Statistics of n images (bytes) under the classifier. */
static int stats_of(vkg_classifier *cls, vkg_arena *arena, const uint8_t *pixels,
                    const int32_t *labels, int n, vkg_class_stats *out) {
    vkg_dataset d = {.count = n,
                     .channels = cls->c,
                     .height = cls->h,
                     .width = cls->w,
                     .classes = cls->classes,
                     .pixels = (uint8_t *)pixels,
                     .labels = (int32_t *)labels};
    snprintf(d.name, sizeof d.name, "test images");
    image_set set;
    if (image_set_upload(cls->ctx, arena, &d, &set) < 0) return -1;
    return classify_set(cls, arena, &set, 1, out);
}

TEST(classifier_shipped_reaches_the_stated_accuracy) {
    fixture f;
    vkg_class_stats test, real;
    vkg_dataset d;
    CHECK_OK(open_shipped(&f));
    CHECK_OK(vkg_dataset_load_test("fashion-mnist", &d));
    int rc = stats_of(&f.cls, f.arena, d.pixels, d.labels, d.count, &test);
    real = f.real;
    vkg_dataset_free(&d);
    CHECK(rc == 0, "evaluating: %s", vkg_error());
    CHECK(test.n == 10000, "%d test images", test.n);
    CHECK(test.accuracy >= 0.90, "test accuracy %.4f", test.accuracy);
    CHECK(fabs(test.accuracy - real.accuracy) < 5e-4, "measured %.4f, the file says %.4f",
          test.accuracy, real.accuracy);
    /* the README states it */
    char want[32], path[4200];
    snprintf(want, sizeof want, "%.2f%%", 100 * real.accuracy);
    snprintf(path, sizeof path, "%s/README.md", VKGAN_SOURCE_DIR);
    const char *text = test_read_text(path);
    CHECK(text && strstr(text, want), "the README does not state the accuracy %s", want);
    /* the file's real statistics are this pass's */
    double worst = 0;
    for (int i = 0; i < VKG_CLASSIFIER_FEATURES; i++)
        worst = fmax(worst, fabs(test.mean[i] - real.mean[i]) / (fabs(real.mean[i]) + 1e-3));
    CHECK(worst < 1e-4, "feature means differ from the file's by %g (relative)", worst);
}

/* FCD of real training images, noise and a single class against the real test statistics:
 * measured on lavapipe with the shipped classifier: 2000 real training images 0.226, uniform
 * noise 72.6, one class (T-shirts) 66.3 (README, "Training health"). The test asks for margins
 * of 50x and 20x. */
TEST(fcd_separates_real_from_noise_and_one_class) {
    fixture f;
    vkg_class_stats s;
    vkg_dataset d;
    CHECK_OK(open_shipped(&f));
    CHECK_OK(vkg_dataset_load("fashion-mnist", 28, 1, 1, &d));
    int n = 2000, size = 28 * 28;
    uint8_t *noise = test_alloc((size_t)n * size), *one = test_alloc((size_t)n * size);
    int32_t *zeros = test_alloc(sizeof(int32_t) * n);
    double *u = random_doubles((size_t)n * size, 0, 256, 1301);
    for (size_t i = 0; i < (size_t)n * size; i++) noise[i] = (uint8_t)u[i];
    for (int i = 0, k = 0; i < d.count && k < n; i++)
        if (d.labels[i] == 0) memcpy(one + (size_t)size * k++, d.pixels + (size_t)size * i, size);
    double fcd[3];
    const uint8_t *sets[3] = {d.pixels + (size_t)size * 30000, noise, one};
    const int32_t *labels[3] = {d.labels + 30000, zeros, zeros};
    for (int k = 0; k < 3; k++) {
        int rc = stats_of(&f.cls, f.arena, sets[k], labels[k], n, &s);
        CHECK(rc == 0, "set %d: %s", k, vkg_error());
        fcd[k] =
            vkg_frechet_distance(VKG_CLASSIFIER_FEATURES, s.mean, s.cov, f.real.mean, f.real.cov);
    }
    /* n copies of a blank image: no spread, which the variances' rounding made -2e-05 */
    memset(one, 0, (size_t)n * size);
    CHECK_OK(stats_of(&f.cls, f.arena, one, zeros, n, &s));
    CHECK(s.diversity >= 0 && s.diversity < 1e-4 * f.real.diversity,
          "diversity of a blank image repeated: %g (real data %g)", s.diversity, f.real.diversity);
    vkg_dataset_free(&d);
    printf("  FCD to the test set: 2000 train images %.3f, noise %.1f, one class %.1f\n", fcd[0],
           fcd[1], fcd[2]);
    CHECK(fcd[0] >= 0 && fcd[0] * 50 < fcd[1], "real %.3f vs noise %.3f", fcd[0], fcd[1]);
    CHECK(fcd[0] * 20 < fcd[2], "real %.3f vs one class %.3f", fcd[0], fcd[2]);
}
