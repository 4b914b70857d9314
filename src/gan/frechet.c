/* The Fréchet distance between Gaussians, on the host in double precision. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vkgan/classifier.h"

/* Cyclic Jacobi eigensolver for a symmetric d x d matrix a (destroyed): eigenvalues into e,
 * eigenvectors as the columns of v. Plenty for d = 64. */
static void jacobi(int d, double *a, double *e, double *v) {
    for (int i = 0; i < d * d; i++) v[i] = 0;
    for (int i = 0; i < d; i++) v[i * d + i] = 1;
    for (int sweep = 0; sweep < 100; sweep++) {
        double off = 0, diag = 0;
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) *(i == j ? &diag : &off) += a[i * d + j] * a[i * d + j];
        if (off <= 1e-30 * (diag > 0 ? diag : 1)) break;
        for (int p = 0; p < d; p++)
            for (int q = p + 1; q < d; q++) {
                double apq = a[p * d + q];
                if (fabs(apq) < 1e-300) continue;
                /* the rotation that zeroes a[p][q] (Golub and Van Loan, algorithm 8.4.1) */
                double theta = (a[q * d + q] - a[p * d + p]) / (2 * apq);
                double t = (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
                double c = 1 / sqrt(t * t + 1), s = t * c;
                for (int k = 0; k < d; k++) { /* columns p and q */
                    double akp = a[k * d + p], akq = a[k * d + q];
                    a[k * d + p] = c * akp - s * akq, a[k * d + q] = s * akp + c * akq;
                }
                for (int k = 0; k < d; k++) { /* rows p and q */
                    double apk = a[p * d + k], aqk = a[q * d + k];
                    a[p * d + k] = c * apk - s * aqk, a[q * d + k] = s * apk + c * aqk;
                }
                for (int k = 0; k < d; k++) {
                    double vkp = v[k * d + p], vkq = v[k * d + q];
                    v[k * d + p] = c * vkp - s * vkq, v[k * d + q] = s * vkp + c * vkq;
                }
            }
    }
    for (int i = 0; i < d; i++) e[i] = a[i * d + i];
}

double vkg_frechet_distance(int d, const double *m1, const double *c1, const double *m2,
                            const double *c2) {
    size_t dd = (size_t)d * d;
    double *a = malloc(sizeof(double) * dd * 4), *e = malloc(sizeof(double) * d);
    if (!a || !e) {
        free(a), free(e);
        return NAN;
    }
    double *v = a + dd, *s = a + 2 * dd, *t = a + 3 * dd;
    /* s = c1^(1/2) from c1's eigendecomposition (negative rounding noise clipped) */
    memcpy(a, c1, sizeof(double) * dd);
    jacobi(d, a, e, v);
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++) {
            double sum = 0;
            for (int k = 0; k < d; k++) sum += v[i * d + k] * sqrt(fmax(e[k], 0)) * v[j * d + k];
            s[i * d + j] = sum;
        }
    /* tr (c1 c2)^(1/2) = tr (s c2 s)^(1/2), and s c2 s is symmetric */
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++) {
            double sum = 0;
            for (int k = 0; k < d; k++) sum += c2[i * d + k] * s[k * d + j];
            t[i * d + j] = sum;
        }
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++) {
            double sum = 0;
            for (int k = 0; k < d; k++) sum += s[i * d + k] * t[k * d + j];
            a[i * d + j] = sum;
        }
    for (int i = 0; i < d; i++) /* symmetrise the rounding */
        for (int j = 0; j < i; j++) a[i * d + j] = a[j * d + i] = (a[i * d + j] + a[j * d + i]) / 2;
    jacobi(d, a, e, v);
    double dist = 0;
    for (int i = 0; i < d; i++) {
        dist += (m1[i] - m2[i]) * (m1[i] - m2[i]) + c1[i * d + i] + c2[i * d + i];
        dist -= 2 * sqrt(fmax(e[i], 0));
    }
    free(a), free(e);
    return dist;
}

double vkg_entropy(const double *p, int n) {
    double h = 0;
    for (int i = 0; i < n; i++)
        if (p[i] > 0) h -= p[i] * log(p[i]);
    return h;
}
