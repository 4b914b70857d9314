/* Dataset specs ("fashion-mnist", "mnist:DIR", ...) to readers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vkgan/data.h"
#include "vkgan/error.h"

#define MIXTURE_POINTS 65536

void vkg_dataset_free(vkg_dataset *d) {
    free(d->pixels);
    free(d->points);
    free(d->labels);
    free(d->class_names);
    d->pixels = NULL, d->points = NULL, d->labels = NULL, d->class_names = NULL;
}

static int fashion_mnist(vkg_dataset *out, const char *prefix) {
    struct stat st;
    if (stat(VKG_FASHION_MNIST_DIR, &st) != 0)
        return vkg_set_error("Fashion-MNIST is not installed (%s is missing): "
                             "'apt-get install dataset-fashion-mnist'",
                             VKG_FASHION_MNIST_DIR);
    return vkg_load_idx_dir(VKG_FASHION_MNIST_DIR, prefix, out);
}

/* The class names of a dataset that has none of its own yet: Fashion-MNIST's and CIFAR-10's as
 * torchvision gives them, digits for MNIST, "mode I" for the mixtures. */
static int name_classes(vkg_dataset *d, int kind) {
    static const char *fashion[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                      "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
    static const char *cifar[10] = {"airplane", "automobile", "bird",  "cat",  "deer",
                                    "dog",      "frog",       "horse", "ship", "truck"};
    if (d->class_names || d->classes <= 0) return 0;
    if (!(d->class_names = calloc((size_t)d->classes, sizeof *d->class_names)))
        return vkg_set_error("out of host memory");
    const char **known = kind == 0 && d->classes == 10   ? fashion
                         : kind == 3 && d->classes == 10 ? cifar
                                                         : NULL;
    for (int c = 0; c < d->classes; c++) {
        if (known)
            snprintf(d->class_names[c], VKG_CLASS_NAME, "%s", known[c]);
        else
            snprintf(d->class_names[c], VKG_CLASS_NAME, "%s%d", kind == 1 ? "mode " : "", c);
    }
    return 0;
}

/* The kind of a dataset spec: 0 fashion-mnist, 1 ring8 / grid25, 2 mnist:, 3 cifar10:,
 * 4 folder:, -1 none. */
static int spec_kind(const char *spec) {
    const char *colon = strchr(spec, ':');
    size_t kind = colon ? (size_t)(colon - spec) : strlen(spec);
    if (!colon)
        return strcmp(spec, "fashion-mnist") == 0                          ? 0
               : strcmp(spec, "ring8") == 0 || strcmp(spec, "grid25") == 0 ? 1
                                                                           : -1;
    static const char *prefixes[3] = {"mnist", "cifar10", "folder"};
    for (int i = 0; colon[1] && i < 3; i++)
        if (kind == strlen(prefixes[i]) && strncmp(spec, prefixes[i], kind) == 0) return 2 + i;
    return -1;
}

int vkg_dataset_spec_check(const char *spec) {
    if (spec_kind(spec) < 0)
        return vkg_set_error("--data %s: expected fashion-mnist, mnist:DIR, cifar10:DIR, "
                             "folder:DIR, ring8 or grid25",
                             spec);
    return 0;
}

int vkg_dataset_load(const char *spec, int image_size, int channels, uint64_t seed,
                     vkg_dataset *out) {
    memset(out, 0, sizeof *out);
    const char *colon = strchr(spec, ':');
    const char *dir = colon ? colon + 1 : NULL;
    size_t kind = colon ? (size_t)(colon - spec) : strlen(spec);
    int rc, k = spec_kind(spec);
    if (k == 0)
        rc = fashion_mnist(out, "train");
    else if (k == 1)
        rc = vkg_make_mixture(spec, MIXTURE_POINTS, seed, out);
    else if (k == 2)
        rc = vkg_load_idx_dir(dir, "train", out);
    else if (k == 3)
        rc = vkg_load_cifar10(dir, out);
    else if (k == 4)
        rc = vkg_load_folder(dir, image_size, channels, out);
    else
        return vkg_dataset_spec_check(spec);
    if (rc == 0 && out->name[0] == 0)
        snprintf(out->name, sizeof out->name, "%.*s", (int)kind, spec);
    if (rc == 0) rc = name_classes(out, k);
    return rc;
}

int vkg_dataset_load_test(const char *spec, vkg_dataset *out) {
    memset(out, 0, sizeof *out);
    int rc;
    if (strcmp(spec, "fashion-mnist") == 0)
        rc = fashion_mnist(out, "t10k");
    else if (strncmp(spec, "mnist:", 6) == 0 && spec[6])
        rc = vkg_load_idx_dir(spec + 6, "t10k", out);
    else
        return vkg_set_error("--data %s: no test split (fashion-mnist and mnist:DIR have one)",
                             spec);
    if (rc == 0 && out->name[0] == 0) snprintf(out->name, sizeof out->name, "%s-test", spec);
    return rc;
}
