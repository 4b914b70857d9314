/* Dataset readers: real Fashion-MNIST, IDX / CIFAR-10 / image folders built by the test, the 2D
 * mixtures and their mode metrics, and every bad input: missing, truncated, corrupt, wrong magic.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <stb_image_write.h>

#include "check.h"
#include "vkgan/data.h"
#include "vkgan/error.h"

#define CHECK_ERROR(call, fragment)                                                                \
    CHECK((call) < 0 && strstr(vkg_error(), fragment),                                             \
          "%s: expected an error mentioning '%s', "                                                \
          "got '%s'",                                                                              \
          #call, fragment, vkg_error())

TEST(data_fashion_mnist_test_set) {
    vkg_dataset d;
    CHECK_OK(vkg_load_idx_dir(VKG_FASHION_MNIST_DIR, "t10k", &d));
    int per_class[10] = {0};
    double mean = 0;
    for (int i = 0; i < d.count; i++) per_class[d.labels[i]]++;
    for (size_t i = 0; i < (size_t)d.count * 784; i++) mean += d.pixels[i];
    mean /= (double)d.count * 784;
    int ok =
        d.count == 10000 && d.height == 28 && d.width == 28 && d.channels == 1 && d.classes == 10;
    for (int c = 0; c < 10; c++) ok &= per_class[c] == 1000; /* the test set is balanced */
    vkg_dataset_free(&d);
    CHECK(ok, "Fashion-MNIST t10k: %d images %dx%d, %d classes", d.count, d.height, d.width,
          d.classes);
    CHECK(mean > 60 && mean < 85, "mean pixel %.1f (Fashion-MNIST's is about 73)", mean);
}

/* An IDX image file: magic 0x803, n x rows x cols, big-endian dimensions, then the bytes. */
static size_t idx_images(uint8_t *buf, int n, int rows, int cols, uint32_t magic) {
    uint32_t header[4] = {magic, (uint32_t)n, (uint32_t)rows, (uint32_t)cols};
    for (int i = 0; i < 4; i++)
        for (int b = 0; b < 4; b++) buf[4 * i + b] = (uint8_t)(header[i] >> (24 - 8 * b));
    for (int i = 0; i < n * rows * cols; i++) buf[16 + i] = (uint8_t)(i * 7);
    return 16 + (size_t)n * rows * cols;
}

static size_t idx_labels(uint8_t *buf, int n) {
    uint32_t header[2] = {0x801, (uint32_t)n};
    for (int i = 0; i < 2; i++)
        for (int b = 0; b < 4; b++) buf[4 * i + b] = (uint8_t)(header[i] >> (24 - 8 * b));
    for (int i = 0; i < n; i++) buf[8 + i] = (uint8_t)(i % 3);
    return 8 + (size_t)n;
}

static void write_gz(const char *dir, const char *name, const void *data, size_t size) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    gzFile f = gzopen(path, "wb");
    if (!f || gzwrite(f, data, (unsigned)size) != (int)size)
        test_fail(__FILE__, __LINE__, "cannot write %s", path);
    if (f) gzclose(f);
}

TEST(data_idx_plain_and_gzipped_and_bad_files) {
    const char *dir = test_tmpdir();
    uint8_t images[16 + 6 * 6 * 4], labels[8 + 5];
    size_t ni = idx_images(images, 5, 6, 4, 0x803), nl = idx_labels(labels, 5);
    test_write(dir, "train-images-idx3-ubyte", images, ni);
    test_write(dir, "train-labels-idx1-ubyte", labels, nl);
    vkg_dataset d;
    CHECK_OK(vkg_load_idx_dir(dir, "train", &d));
    int ok = d.count == 5 && d.height == 6 && d.width == 4 && d.classes == 3 &&
             memcmp(d.pixels, images + 16, 120) == 0 && d.labels[4] == 1;
    vkg_dataset_free(&d);
    CHECK(ok, "plain IDX read back wrong");
    write_gz(dir, "t10k-images-idx3-ubyte.gz", images, ni);
    write_gz(dir, "t10k-labels-idx1-ubyte.gz", labels, nl);
    CHECK_OK(vkg_load_idx_dir(dir, "t10k", &d));
    ok = d.count == 5 && memcmp(d.pixels, images + 16, 120) == 0;
    vkg_dataset_free(&d);
    CHECK(ok, "gzipped IDX read back wrong");

    char images_path[4200], labels_path[4200];
    snprintf(images_path, sizeof images_path, "%s/bad-images", dir);
    snprintf(labels_path, sizeof labels_path, "%s/train-labels-idx1-ubyte", dir);
    CHECK_ERROR(vkg_load_idx(images_path, labels_path, &d), "bad-images: cannot open");
    test_write(dir, "bad-images", images, ni - 7); /* truncated pixel data */
    CHECK_ERROR(vkg_load_idx(images_path, labels_path, &d), "bad-images: truncated");
    idx_images(images, 5, 6, 4, 0x1234);
    test_write(dir, "bad-images", images, ni); /* wrong magic */
    CHECK_ERROR(vkg_load_idx(images_path, labels_path, &d), "magic number 0x00001234");
    idx_images(images, 6, 6, 4, 0x803);
    test_write(dir, "bad-images", images, 16 + 6 * 24); /* 6 images, 5 labels */
    CHECK_ERROR(vkg_load_idx(images_path, labels_path, &d), "holds 5 labels");
    labels[8 + 3] = 42; /* record 3: out of range, where it made 43 classes, 40 of them empty */
    test_write(dir, "bad-labels", labels, nl);
    snprintf(images_path, sizeof images_path, "%s/train-images-idx3-ubyte", dir);
    snprintf(labels_path, sizeof labels_path, "%s/bad-labels", dir);
    CHECK_OK(vkg_load_idx(images_path, labels_path, &d)); /* any labelled set: 43 classes */
    ok = d.classes == 43;
    vkg_dataset_free(&d);
    CHECK(ok, "label 42 should make 43 classes");
    {
        /* ... of which a conditional model would draw 40 empty ones: refused before any device */
        char run[4200], args[9000], err[4096];
        snprintf(run, sizeof run, "%s/gap", dir);
        CHECK(mkdir(run, 0755) == 0, "mkdir %s", run);
        test_write(run, "train-images-idx3-ubyte", images, idx_images(images, 5, 6, 4, 0x803));
        test_write(run, "train-labels-idx1-ubyte", labels, nl);
        snprintf(args, sizeof args, "train --conditional --data mnist:%s --out %s/run", run, dir);
        int code = test_run_vkgan("VK_DRIVER_FILES=/nonexistent/icd.json", args, err, sizeof err);
        const char *nl1 = strchr(err, '\n');
        CHECK(code == 2 && strstr(err, "labels up to 42 but no image of class 3") && nl1 &&
                  !strchr(nl1 + 1, '\n'),
              "--conditional with empty classes: %d: %s", code, err);
    }
    snprintf(images_path, sizeof images_path, "%s/bad-images", dir);
    snprintf(labels_path, sizeof labels_path, "%s/train-labels-idx1-ubyte", dir);
    uint8_t corrupt[64] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
    memset(corrupt + 10, 0xff, sizeof corrupt - 10);
    test_write(dir, "bad-images", corrupt, sizeof corrupt); /* gzip magic, garbage deflate */
    CHECK_ERROR(vkg_load_idx(images_path, labels_path, &d), "bad-images");
    CHECK_ERROR(vkg_load_idx_dir("/nonexistent/mnist", "train", &d), "No such file or directory");
    /* a file where the folder is meant, a folder where a file is: said as they are */
    CHECK_ERROR(vkg_load_idx_dir(images_path, "train", &d), "is a file, not a directory");
    char sub[4200], in[4300];
    snprintf(sub, sizeof sub, "%s/folders", dir);
    snprintf(in, sizeof in, "%s/train-images-idx3-ubyte", sub);
    CHECK(mkdir(sub, 0755) == 0 && mkdir(in, 0755) == 0, "cannot make %s", in);
    CHECK_ERROR(vkg_load_idx_dir(sub, "train", &d), "is a directory, not a file");
    /* each message says what is wrong, and where: a .gz that is no gzip data (it was read as raw
     * bytes and called truncated), gzip data that ends early, a broken link to a .gz (it named
     * the plain file instead), a path through a file */
    char gz[4300], through[4300];
    snprintf(gz, sizeof gz, "%s/raw.gz", dir);
    test_write(dir, "raw.gz", images, 8);
    CHECK_ERROR(vkg_load_idx(gz, labels_path, &d), "raw.gz: not gzip data");
    test_write(dir, "raw.gz", images, 16 + 6 * 24); /* whole IDX data, but not gzipped */
    CHECK_ERROR(vkg_load_idx(gz, labels_path, &d), "raw.gz: not gzip data");
    uint8_t *big = test_alloc(16 + 5 * 80 * 80); /* 5 images, as the labels */
    size_t nbig = idx_images(big, 5, 80, 80, 0x803);
    write_gz(dir, "cut.gz", big, nbig);
    snprintf(gz, sizeof gz, "%s/cut.gz", dir);
    struct stat st;
    CHECK(stat(gz, &st) == 0 && truncate(gz, st.st_size / 2) == 0, "cannot truncate %s", gz);
    CHECK_ERROR(vkg_load_idx(gz, labels_path, &d), "cut.gz: truncated: its gzip data ends early");
    snprintf(sub, sizeof sub, "%s/linked", dir);
    snprintf(gz, sizeof gz, "%s/train-images-idx3-ubyte.gz", sub);
    CHECK(mkdir(sub, 0755) == 0 && symlink("/nonexistent/images.gz", gz) == 0, "cannot link %s",
          gz);
    CHECK_ERROR(vkg_load_idx_dir(sub, "train", &d),
                "train-images-idx3-ubyte.gz: a broken symbolic link (to /nonexistent/images.gz");
    snprintf(through, sizeof through, "%s/sub", labels_path);
    CHECK_ERROR(vkg_load_idx_dir(through, "train", &d), "-labels-idx1-ubyte is a file, not a dir");
}

TEST(data_cifar10_batches_and_bad_files) {
    const char *dir = test_tmpdir();
    uint8_t batch[3 * 3073];
    for (int b = 1; b <= 5; b++) {
        for (int r = 0; r < 3; r++) {
            batch[r * 3073] = (uint8_t)((b + r) % 10);
            for (int i = 0; i < 3072; i++) batch[r * 3073 + 1 + i] = (uint8_t)(i + b + r);
        }
        char name[32];
        snprintf(name, sizeof name, "data_batch_%d.bin", b);
        test_write(dir, name, batch, sizeof batch);
    }
    vkg_dataset d;
    CHECK_OK(vkg_load_cifar10(dir, &d));
    /* record 1 of batch 5 is image 13: label (5+1)%10, red plane first */
    int ok = d.count == 15 && d.channels == 3 && d.height == 32 && d.classes == 10 &&
             d.labels[13] == 6 && d.pixels[13 * 3072 + 1024] == (uint8_t)(1024 + 6);
    vkg_dataset_free(&d);
    CHECK(ok, "CIFAR-10 batches read back wrong");
    test_write(dir, "data_batch_3.bin", batch, sizeof batch - 100);
    CHECK_ERROR(vkg_load_cifar10(dir, &d), "data_batch_3.bin: truncated or corrupt");
    test_write(dir, "data_batch_3.bin", batch, 0);
    CHECK_ERROR(vkg_load_cifar10(dir, &d), "data_batch_3.bin: is empty");
    batch[3073] = 12;
    test_write(dir, "data_batch_3.bin", batch, sizeof batch);
    CHECK_ERROR(vkg_load_cifar10(dir, &d), "has label 12");
    /* what is wrong and where, not "no CIFAR-10 binary batches" for everything */
    CHECK_ERROR(vkg_load_cifar10("/nonexistent/cifar", &d), "cifar: cannot open the directory");
    char file[4200], sub[4200];
    snprintf(file, sizeof file, "%s/data_batch_5.bin", dir);
    CHECK_ERROR(vkg_load_cifar10(file, &d), "data_batch_5.bin: is a file, not a directory");
    snprintf(sub, sizeof sub, "%s/empty", dir);
    CHECK(mkdir(sub, 0755) == 0, "cannot make %s", sub);
    CHECK_ERROR(vkg_load_cifar10(sub, &d), "no CIFAR-10 binary batches");
    snprintf(file, sizeof file, "%s/empty/data_batch_1.bin", dir); /* a folder in its place */
    CHECK(mkdir(file, 0755) == 0, "cannot make %s", file);
    CHECK_ERROR(vkg_load_cifar10(sub, &d), "empty/data_batch_1.bin: is a directory, not a file");
    test_write(dir, "data_batch_3.bin", batch, 3073); /* its first record: a good one again */
    snprintf(file, sizeof file, "%s/data_batch_4.bin", dir); /* was "missing" */
    CHECK(unlink(file) == 0 && mkdir(file, 0755) == 0, "cannot make %s", file);
    CHECK_ERROR(vkg_load_cifar10(dir, &d), "data_batch_4.bin: is a directory, not a file");
}

static void write_png(const char *dir, const char *name, int w, int h, int inner) {
    uint8_t *img = test_alloc((size_t)w * h * 3);
    int side = w < h ? w : h, x0 = (w - side) / 2, y0 = (h - side) / 2;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++) /* the centre square is `inner`, the margins black */
                img[(y * w + x) * 3 + c] =
                    x >= x0 && x < x0 + side && y >= y0 && y < y0 + side ? (uint8_t)inner : 0;
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (!stbi_write_png(path, w, h, 3, img, w * 3)) test_fail(__FILE__, __LINE__, "%s", path);
}

TEST(data_image_folder_classes_crop_and_bad_images) {
    const char *dir = test_tmpdir();
    char sub[4200];
    snprintf(sub, sizeof sub, "%s/cats", dir);
    mkdir(sub, 0755);
    snprintf(sub, sizeof sub, "%s/birds", dir);
    mkdir(sub, 0755);
    write_png(dir, "cats/a.png", 30, 20, 200); /* wide: crop keeps the centre 20x20 */
    write_png(dir, "birds/b.png", 12, 40, 90); /* tall */
    write_png(dir, "birds/c.png", 16, 16, 10);
    vkg_dataset d;
    CHECK_OK(vkg_load_folder(dir, 8, 3, &d));
    /* sorted classes: birds = 0 (b.png, c.png), cats = 1 (a.png) */
    int ok = d.count == 3 && d.classes == 2 && d.height == 8 && d.channels == 3 &&
             d.labels[0] == 0 && d.labels[1] == 0 && d.labels[2] == 1;
    int uniform = 1;
    for (int i = 0; i < 3 * 64; i++)
        uniform &= d.pixels[2 * 192 + i] == 200 && d.pixels[i] == 90 && d.pixels[192 + i] == 10;
    vkg_dataset_free(&d);
    CHECK(ok, "folder read: %d images, %d classes", d.count, d.classes);
    CHECK(uniform, "centre crop kept some of the black margin");
    CHECK_OK(vkg_load_folder(dir, 8, 1, &d)); /* grey */
    ok = d.channels == 1 && d.pixels[2 * 64] == 200;
    vkg_dataset_free(&d);
    CHECK(ok, "grey read wrong");
    test_write(dir, "cats/broken.png", "\x89PNG\r\n\x1a\nnot really", 18);
    CHECK_ERROR(vkg_load_folder(dir, 8, 3, &d), "broken.png: cannot decode");
    /* a header of 2^25 x 4 pixels: the decoder's reason, not "unknown image type" */
    static const unsigned char huge[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0,
                                         13,   'I', 'H', 'D', 'R',  2,    0,    0,    0, 0, 0,
                                         0,    4,   8,   2,   0,    0,    0,    0,    0, 0, 0};
    test_write(dir, "cats/broken.png", huge, sizeof huge);
    CHECK_ERROR(vkg_load_folder(dir, 8, 3, &d), "broken.png: cannot decode the image (too large)");
    snprintf(sub, sizeof sub, "%s/empty", dir);
    mkdir(sub, 0755);
    CHECK_ERROR(vkg_load_folder(sub, 8, 3, &d), "no PNG, JPEG or BMP images");
    CHECK_ERROR(vkg_load_folder("/nonexistent/images", 8, 3, &d), "No such file or directory");
}

/* torchvision's ImageFolder conventions (issue 14): classes are the subfolders in sorted order,
 * named; a class's images are found in its whole tree; an empty class folder is refused by name
 * (as ImageFolder does); what ImageFolder would silently ignore or invent is refused by name:
 * images beside class folders, a hidden folder (.ipynb_checkpoints), a broken link, a format
 * vkgan does not decode. */
TEST(data_image_folder_follows_imagefolder) {
    const char *dir = test_tmpdir();
    char path[4400];
    static const char *folders[] = {"b_dog", "a_cat", "b_dog/deeper", "c_empty"};
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, folders[i]);
        mkdir(path, 0755);
    }
    write_png(dir, "a_cat/1.png", 8, 8, 10);
    write_png(dir, "b_dog/deeper/2.png", 8, 8, 20);
    write_png(dir, "b_dog/3.png", 8, 8, 30);
    test_write(dir, "c_empty/notes.txt", "x", 1);
    vkg_dataset d;
    CHECK_ERROR(vkg_load_folder(dir, 8, 1, &d), "without PNG, JPEG or BMP images: c_empty");
    snprintf(path, sizeof path, "%s/c_empty/notes.txt", dir);
    CHECK(remove(path) == 0, "rm notes.txt");
    snprintf(path, sizeof path, "%s/c_empty", dir);
    CHECK(remove(path) == 0, "rmdir c_empty");
    CHECK_OK(vkg_load_folder(dir, 8, 1, &d));
    int ok = d.count == 3 && d.classes == 2 && d.class_names &&
             strcmp(d.class_names[0], "a_cat") == 0 && strcmp(d.class_names[1], "b_dog") == 0 &&
             d.labels[0] == 0 && d.labels[1] == 1 && d.labels[2] == 1;
    vkg_dataset_free(&d);
    CHECK(ok, "classes read: %d images, %d classes", d.count, d.classes);
    static const char *bad[][2] = {{"top.png", "beside its class folders"},
                                   {".ipynb_checkpoints/x.png", NULL},
                                   {"a_cat/x.webp", "x.webp: vkgan reads PNG, JPEG and BMP"},
                                   {"a_cat/gone.png", "gone.png: a broken link"}};
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, bad[i][0]);
        if (i == 1) { /* hidden: skipped, not a class */
            char hidden[4400];
            snprintf(hidden, sizeof hidden, "%s/.ipynb_checkpoints", dir);
            mkdir(hidden, 0755);
            write_png(dir, bad[i][0], 8, 8, 40);
            CHECK_OK(vkg_load_folder(dir, 8, 1, &d));
            int classes = d.classes;
            vkg_dataset_free(&d);
            CHECK(classes == 2, "a hidden folder became a class (%d classes)", classes);
            continue;
        }
        if (i == 3)
            CHECK(symlink("/nonexistent/gone.png", path) == 0, "symlink");
        else if (i == 0)
            write_png(dir, bad[i][0], 8, 8, 40);
        else
            test_write(dir, bad[i][0], "RIFF", 4);
        CHECK_ERROR(vkg_load_folder(dir, 8, 1, &d), bad[i][1]);
        CHECK(remove(path) == 0, "cannot remove %s", path);
    }
}

TEST(data_mixtures_and_mode_metrics) {
    vkg_dataset ring, again, grid;
    CHECK_OK(vkg_make_mixture("ring8", 4000, 7, &ring));
    CHECK_OK(vkg_make_mixture("ring8", 4000, 7, &again));
    CHECK_OK(vkg_make_mixture("grid25", 5000, 7, &grid));
    int same = memcmp(ring.points, again.points, sizeof(float) * 8000) == 0;
    int covered, grid_covered, one_covered;
    double hq, grid_hq, one_hq;
    vkg_mode_metrics(&ring, ring.points, ring.count, &covered, &hq);
    vkg_mode_metrics(&grid, grid.points, grid.count, &grid_covered, &grid_hq);
    float collapsed[200];
    for (int i = 0; i < 100; i++) collapsed[2 * i] = 2.0f, collapsed[2 * i + 1] = 0.01f;
    vkg_mode_metrics(&ring, collapsed, 100, &one_covered, &one_hq);
    float r = ring.modes[3][0] * ring.modes[3][0] + ring.modes[3][1] * ring.modes[3][1];
    vkg_dataset_free(&ring);
    vkg_dataset_free(&again);
    vkg_dataset_free(&grid);
    CHECK(same, "the same seed drew different points");
    CHECK(r > 3.99f && r < 4.01f, "ring modes are not at radius 2 (r^2 = %g)", r);
    /* real data: all modes, and 3 sigma holds 98.9% of a 2D Gaussian */
    CHECK(covered == 8 && hq > 0.98, "ring8 data: %d modes, %.3f high quality", covered, hq);
    CHECK(grid_covered == 25 && grid_hq > 0.98, "grid25: %d modes, %.3f", grid_covered, grid_hq);
    CHECK(one_covered == 1 && one_hq == 1.0, "collapsed: %d modes, %.3f", one_covered, one_hq);
}

TEST(data_specs) {
    vkg_dataset d;
    CHECK_ERROR(vkg_dataset_load("imagenet", 32, 3, 1, &d), "--data imagenet: expected");
    CHECK_ERROR(vkg_dataset_load("mnist:", 32, 3, 1, &d), "--data mnist:: expected");
    CHECK_ERROR(vkg_dataset_load("mnist:/nonexistent/x", 32, 3, 1, &d), "/nonexistent/x");
    CHECK_OK(vkg_dataset_load("grid25", 32, 3, 1, &d));
    int ok = d.count > 0 && strcmp(d.name, "grid25") == 0 && d.mode_count == 25;
    vkg_dataset_free(&d);
    CHECK(ok, "grid25 spec");
}
