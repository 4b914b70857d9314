/* The Fréchet distance on the host: closed forms it must reproduce (identical Gaussians,
 * commuting covariances sharing a random rotation, a pure mean shift) and its symmetry. */
#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "vkgan/classifier.h"

/* A random rotation q (d x d) from Gram-Schmidt on uniform random columns. */
static void rotation(int d, double *q, uint64_t seed) {
    double *r = random_doubles((size_t)d * d, -1, 1, seed);
    for (int j = 0; j < d; j++) {
        for (int k = 0; k < j; k++) {
            double dotp = 0;
            for (int i = 0; i < d; i++) dotp += r[i * d + j] * q[i * d + k];
            for (int i = 0; i < d; i++) r[i * d + j] -= dotp * q[i * d + k];
        }
        double norm = 0;
        for (int i = 0; i < d; i++) norm += r[i * d + j] * r[i * d + j];
        for (int i = 0; i < d; i++) q[i * d + j] = r[i * d + j] / sqrt(norm);
    }
}

/* c = q diag(e) q^T */
static void compose(int d, const double *q, const double *e, double *c) {
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++) {
            double s = 0;
            for (int k = 0; k < d; k++) s += q[i * d + k] * e[k] * q[j * d + k];
            c[i * d + j] = s;
        }
}

TEST(frechet_distance_matches_closed_forms) {
    int d = 64;
    double *q = test_doubles((size_t)d * d), *c1 = test_doubles((size_t)d * d),
           *c2 = test_doubles((size_t)d * d);
    double *e1 = random_doubles((size_t)d, 0.01, 4, 1201),
           *e2 = random_doubles((size_t)d, 0, 2, 1202);
    double *m1 = random_doubles((size_t)d, -1, 1, 1203),
           *m2 = random_doubles((size_t)d, -1, 1, 1204);
    e2[3] = 0; /* a singular covariance */
    rotation(d, q, 1205);
    compose(d, q, e1, c1);
    compose(d, q, e2, c2);
    /* same eigenvectors: tr(c1 + c2 - 2 (c1 c2)^1/2) = sum (sqrt e1 - sqrt e2)^2 */
    double want = 0;
    for (int i = 0; i < d; i++)
        want += (m1[i] - m2[i]) * (m1[i] - m2[i]) + pow(sqrt(e1[i]) - sqrt(e2[i]), 2);
    double got = vkg_frechet_distance(d, m1, c1, m2, c2);
    CHECK(fabs(got - want) < 1e-8 * want, "commuting covariances: %.12g, want %.12g", got, want);
    double back = vkg_frechet_distance(d, m2, c2, m1, c1);
    CHECK(fabs(back - want) < 1e-8 * want, "swapped: %.12g, want %.12g", back, want);
    double same = vkg_frechet_distance(d, m1, c1, m1, c1);
    CHECK(fabs(same) < 1e-9, "identical Gaussians: %g", same);
    double shift = 0;
    for (int i = 0; i < d; i++) shift += (m1[i] - m2[i]) * (m1[i] - m2[i]);
    double mean_only = vkg_frechet_distance(d, m1, c1, m2, c1);
    CHECK(fabs(mean_only - shift) < 1e-8 * shift, "mean shift: %.12g, want %.12g", mean_only,
          shift);
}

/* 2 x 2, not commuting: tr (c1 c2)^1/2 = sqrt(tr(c1 c2) + 2 sqrt(det(c1 c2))) */
TEST(frechet_distance_2x2_not_commuting) {
    double c1[4] = {2, 0.5, 0.5, 1}, c2[4] = {1, -0.3, -0.3, 3}, m[2] = {0, 0};
    double tr = c1[0] * c2[0] + c1[1] * c2[2] + c1[2] * c2[1] + c1[3] * c2[3];
    double det = (c1[0] * c1[3] - c1[1] * c1[2]) * (c2[0] * c2[3] - c2[1] * c2[2]);
    double want = c1[0] + c1[3] + c2[0] + c2[3] - 2 * sqrt(tr + 2 * sqrt(det));
    double got = vkg_frechet_distance(2, m, c1, m, c2);
    CHECK(fabs(got - want) < 1e-12, "%.15g, want %.15g", got, want);
}

TEST(entropy_of_histograms) {
    double uniform[10], one[10] = {0, 0, 1};
    for (int i = 0; i < 10; i++) uniform[i] = 0.1;
    CHECK(fabs(vkg_entropy(uniform, 10) - log(10)) < 1e-12, "uniform: %g",
          vkg_entropy(uniform, 10));
    CHECK(vkg_entropy(one, 10) == 0, "one class: %g", vkg_entropy(one, 10));
}
