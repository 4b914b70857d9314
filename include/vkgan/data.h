/* vkgan datasets: readers for IDX (MNIST, Fashion-MNIST), CIFAR-10 binary batches, image folders,
 * and the 2D Gaussian mixtures used as mode-collapse benchmarks. Everything is read into host
 * memory once; the trainer uploads it to the GPU whole. Every reader fails with vkg_error()
 * naming the file and what is wrong with it. */
#ifndef VKGAN_DATA_H
#define VKGAN_DATA_H

#include <stdint.h>

#define VKG_FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"
#define VKG_CLASS_NAME 64 /* bytes of a class name, with its NUL */

typedef struct vkg_dataset {
    char name[64];
    int count;                           /* examples */
    int channels, height, width;         /* images: 1 or 3 channels; 2D points: 2 x 1 x 1 */
    int classes;                         /* label values are 0 .. classes-1; 0 when unlabelled */
    char (*class_names)[VKG_CLASS_NAME]; /* classes names (the dataset's own, or folder names) */
    uint8_t *pixels; /* images: count x channels x height x width (NCHW), 0..255 */
    float *points;   /* 2D mixtures: count x 2 */
    int32_t *labels; /* count labels, or NULL */
    /* 2D mixtures: the modes (x, y) and their standard deviation */
    int mode_count;
    float modes[25][2];
    float mode_sigma;
} vkg_dataset;

/* Whether spec has one of the forms vkg_dataset_load reads (the files are not looked at); 0, or
 * -1 with vkg_error() listing them. */
int vkg_dataset_spec_check(const char *spec);
/* Loads a dataset from a spec: "fashion-mnist", "mnist:DIR", "cifar10:DIR", "folder:DIR",
 * "ring8", "grid25". `image_size` is the side that folder images are cropped and resized to
 * (ignored by the others); `seed` draws the 2D mixtures. 0, or -1 with vkg_error(). */
int vkg_dataset_load(const char *spec, int image_size, int channels, uint64_t seed,
                     vkg_dataset *out);
void vkg_dataset_free(vkg_dataset *d);
/* The test split of a labelled dataset ("fashion-mnist", "mnist:DIR": the t10k files). */
int vkg_dataset_load_test(const char *spec, vkg_dataset *out);

/* The readers behind the specs. */
int vkg_load_idx(const char *images_path, const char *labels_path, vkg_dataset *out);
/* DIR holding train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz] (or t10k-*). */
int vkg_load_idx_dir(const char *dir, const char *prefix, vkg_dataset *out);
/* DIR holding data_batch_1.bin .. data_batch_5.bin (or a cifar-10-batches-bin folder). */
int vkg_load_cifar10(const char *dir, vkg_dataset *out);
/* DIR with one subfolder per class (sorted names give the labels) or the images themselves;
 * PNG, JPEG and BMP through stb_image, centre-cropped to a square and resized to size x size. */
int vkg_load_folder(const char *dir, int size, int channels, vkg_dataset *out);
/* count points from 8 Gaussians on a circle of radius 2 (sigma 0.02) or a 5 x 5 grid at
 * -4, -2, 0, 2, 4 (sigma 0.05), the usual mode-collapse benchmarks. */
int vkg_make_mixture(const char *kind, int count, uint64_t seed, vkg_dataset *out);

/* Mode metrics for 2D data: the fraction of the n points within 3 sigma of some mode ("high
 * quality"), and how many modes are covered: hold at least 1% of the points within 3 sigma. */
void vkg_mode_metrics(const vkg_dataset *d, const float *points, int n, int *modes_covered,
                      double *high_quality);

#endif
