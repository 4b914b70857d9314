/* Files: atomic writes, PNG grids, safetensors round trips and corrupt files. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stb_image.h>

#include "check.h"
#include "vkgan/error.h"
#include "vkgan/io.h"

static int files_in(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) n += e->d_name[0] != '.';
    if (d) closedir(d);
    return n;
}

static long read_whole(const char *path, uint8_t *buf, long cap) {
    FILE *f = fopen(path, "rb");
    long n = f ? (long)fread(buf, 1, (size_t)cap, f) : -1;
    if (f) fclose(f);
    return n;
}

TEST(io_atomic_write_leaves_no_temporary) {
    const char *dir = test_tmpdir();
    char path[4200];
    snprintf(path, sizeof path, "%s/out.bin", dir);
    const void *parts[2] = {"hello ", "world"};
    size_t sizes[2] = {6, 5};
    CHECK_OK(vkg_write_file_atomic(path, parts, sizes, 2));
    CHECK_OK(vkg_write_file_atomic(path, parts, sizes, 1)); /* replaces it */
    uint8_t buf[64];
    CHECK(read_whole(path, buf, sizeof buf) == 6 && memcmp(buf, "hello ", 6) == 0, "contents");
    CHECK(files_in(dir) == 1, "%d files in the directory, expected only out.bin", files_in(dir));
    CHECK(vkg_write_file_atomic("/nonexistent/dir/out.bin", parts, sizes, 2) < 0 &&
              strstr(vkg_error(), "/nonexistent/dir/out.bin"),
          "error: %s", vkg_error());
}

/* vkg_write_target: one answer for every spelling of a file (., .., a link to it, a link to a
 * directory above it), existing or not; an input's path gives the file that writing it replaces. */
TEST(io_write_target_is_one_path_per_file) {
    const char *dir = test_tmpdir();
    char real[4096], sub[4200], link[4200], dirlink[4200], a[4400], b[4400], path[4400];
    CHECK_OK(vkg_real_path(dir, real, sizeof real));
    snprintf(sub, sizeof sub, "%s/sub", real);
    snprintf(link, sizeof link, "%s/link.bin", real);
    snprintf(dirlink, sizeof dirlink, "%s/dirlink", real);
    CHECK(mkdir(sub, 0755) == 0 && symlink("sub/f.bin", link) == 0 && symlink("sub", dirlink) == 0,
          "setup");
    snprintf(path, sizeof path, "%s/sub/f.bin", real); /* not there yet */
    CHECK_OK(vkg_write_target(path, a, sizeof a));
    CHECK(strcmp(a, path) == 0, "%s: %s", path, a);
    const char *spellings[] = {"%s/./sub/../sub/f.bin", "%s/link.bin", "%s/dirlink/f.bin",
                               "%s/sub/nothere/../f.bin"};
    for (size_t i = 0; i < sizeof spellings / sizeof *spellings; i++) {
        snprintf(path, sizeof path, spellings[i], dir);
        CHECK_OK(vkg_write_target(path, b, sizeof b));
        CHECK(strcmp(a, b) == 0, "%s: %s, not %s", path, b, a);
    }
    test_write(dir, "sub/f.bin", "x", 1); /* there now: the same */
    snprintf(path, sizeof path, "%s/link.bin", dir);
    CHECK(vkg_write_target(path, b, sizeof b) == 0 && strcmp(a, b) == 0, "%s: %s", path, b);
    CHECK(vkg_write_target(sub, b, sizeof b) < 0 && strstr(vkg_error(), "is a directory"),
          "a directory: %s", vkg_error());
}

/* A write replaces a regular file, or the file a symbolic link names (the link stays); a pipe, a
 * device or a directory in its place is refused, not replaced by a file; vkg_check_writable says
 * the same before any write. */
TEST(io_atomic_write_replaces_only_regular_files) {
    const char *dir = test_tmpdir();
    char fifo[4200], link[4200], real[4200], sub[4200];
    snprintf(fifo, sizeof fifo, "%s/pipe", dir);
    snprintf(real, sizeof real, "%s/real.bin", dir);
    snprintf(link, sizeof link, "%s/link.bin", dir);
    snprintf(sub, sizeof sub, "%s/sub", dir);
    CHECK(mkfifo(fifo, 0644) == 0 && symlink("real.bin", link) == 0 && mkdir(sub, 0755) == 0,
          "setup");
    const void *parts[1] = {"data"};
    size_t sizes[1] = {4};
    const char *refused[] = {fifo, "/dev/null", sub};
    for (int i = 0; i < 3; i++) {
        struct stat before, after;
        CHECK(stat(refused[i], &before) == 0, "stat %s", refused[i]);
        CHECK(vkg_check_writable(refused[i]) < 0 && strstr(vkg_error(), refused[i]), "check %s: %s",
              refused[i], vkg_error());
        CHECK(vkg_write_file_atomic(refused[i], parts, sizes, 1) < 0 &&
                  strstr(vkg_error(), refused[i]),
              "write %s: %s", refused[i], vkg_error());
        CHECK(stat(refused[i], &after) == 0 && after.st_mode == before.st_mode &&
                  after.st_ino == before.st_ino,
              "%s was replaced", refused[i]);
    }
    test_write(dir, "real.bin", "old", 3);
    CHECK_OK(vkg_check_writable(link));
    CHECK_OK(vkg_write_file_atomic(link, parts, sizes, 1));
    struct stat st;
    uint8_t buf[8];
    CHECK(lstat(link, &st) == 0 && S_ISLNK(st.st_mode), "the link was replaced");
    CHECK(read_whole(real, buf, sizeof buf) == 4 && memcmp(buf, "data", 4) == 0,
          "the link's file was not written");
    /* a link to a file not there yet: the file is made where the link says */
    char dangling[4200], made[4200];
    snprintf(dangling, sizeof dangling, "%s/dangling.bin", dir);
    snprintf(made, sizeof made, "%s/made.bin", dir);
    CHECK(symlink("made.bin", dangling) == 0, "setup");
    CHECK_OK(vkg_check_writable(dangling));
    CHECK_OK(vkg_write_file_atomic(dangling, parts, sizes, 1));
    CHECK(lstat(dangling, &st) == 0 && S_ISLNK(st.st_mode) &&
              read_whole(made, buf, sizeof buf) == 4,
          "the dangling link was replaced or its file not made");
    CHECK(files_in(dir) == 6, "%d entries, expected the pipe, two links, their files and sub",
          files_in(dir));
}

/* One extension test for every file kind: the file name's last part, any case, a name before the
 * dot; the image formats follow it. */
TEST(io_path_extension_is_the_names_last_part) {
    static const struct {
        const char *path, *ext;
        int has;
    } cases[] = {{"a/b.png", "png", 1},     {"b.PNG", "png", 1},
                 {"a.b/c.tar.gz", "gz", 1}, {"a/.png", "png", 0},
                 {"a.png/b", "png", 0},     {"a/bpng", "png", 0},
                 {"a/b.png.", "png", 0},    {"b.safetensors", "safetensors", 1},
                 {"b.html", "htm", 0},      {"", "png", 0}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        CHECK(vkg_path_has_extension(cases[i].path, cases[i].ext) == cases[i].has,
              "(%s, %s) should be %d", cases[i].path, cases[i].ext, cases[i].has);
    CHECK(vkg_image_path_check("x/grid.JPeG") == 0 && vkg_image_path_check("x/grid.tga") == 0,
          "an image extension in any case is refused");
    CHECK(vkg_image_path_check("x/.png") < 0 && vkg_image_path_check("x.png/grid") < 0 &&
              vkg_image_path_check("grid.gif") < 0,
          "a name without an image extension is accepted");
}

/* The grid's layout and values, in each lossless format the name's extension chooses; an
 * extension vkgan does not write is refused by name and nothing is written. */
TEST(io_png_grid_layout_and_values) {
    const char *dir = test_tmpdir();
    char path[4200];
    enum { N = 5, H = 4, W = 6 };
    float images[N * H * W];
    for (int i = 0; i < N * H * W; i++) images[i] = (i / (H * W)) % 2 ? 1.0f : -1.0f;
    images[0] = 0.0f;
    static const char *names[] = {"grid.png", "grid.BMP", "grid.tga"};
    for (size_t f = 0; f < sizeof names / sizeof *names; f++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[f]);
        CHECK_OK(vkg_write_png_grid(path, images, N, 1, H, W, 3));
        int w, h, c;
        uint8_t *png = stbi_load(path, &w, &h, &c, 1);
        CHECK(png != NULL, "cannot read %s back: %s", names[f], stbi_failure_reason());
        /* 3 columns x 2 rows of 6x4 with a 2-pixel border */
        int ok = w == 3 * (W + 2) + 2 && h == 2 * (H + 2) + 2;
        int first = png[2 * w + 2], second = png[2 * w + 2 + W + 2 + 1], border = png[0];
        int odd = png[(2 + H + 2) * w + 2 + W + 2 + 1]; /* image 4: row 1, column 1: -1 */
        stbi_image_free(png);
        CHECK(ok, "%s: grid is %dx%d", names[f], w, h);
        CHECK(first == 128 && second == 255 && odd == 0 && border == 0,
              "%s: pixels 0 -> %d, 1 -> %d, -1 -> %d, border %d", names[f], first, second, odd,
              border);
    }
    snprintf(path, sizeof path, "%s/grid.gif", dir);
    CHECK(vkg_write_png_grid(path, images, N, 1, H, W, 3) < 0 && strstr(vkg_error(), path) &&
              strstr(vkg_error(), ".png"),
          "grid.gif: %s", vkg_error());
    CHECK(access(path, F_OK) != 0 && files_in(dir) == 3, "a refused image left a file");
}

/* A conditional model's grid, as samples/, vkgan sample and the window's S key write it: one row
 * per class, row k column j holding example j * classes + k (the window's layout,
 * shaders/view_layout.glsl VI_CLASSES), `cols` a row; S once wrote it transposed. */
TEST(io_class_grid_is_one_row_per_class) {
    char path[4200];
    snprintf(path, sizeof path, "%s/classes.png", test_tmpdir());
    enum { N = 12, K = 3, COLS = 2, S = 2 }; /* 12 examples of 3 classes, 2x2 pixels each */
    float images[N * S * S];
    for (int i = 0; i < N * S * S; i++) images[i] = (i / (S * S)) / 8.0f - 0.7f;
    CHECK_OK(vkg_write_png_class_grid(path, images, N, K, 1, S, S, COLS));
    int w, h, c;
    uint8_t *png = stbi_load(path, &w, &h, &c, 1);
    CHECK(png != NULL, "cannot read the grid back: %s", stbi_failure_reason());
    int ok = w == COLS * (S + 2) + 2 && h == K * (S + 2) + 2, wrong = -1;
    for (int k = 0; ok && k < K; k++)
        for (int j = 0; j < COLS; j++) {
            int example = j * K + k, at = (2 + k * (S + 2)) * w + 2 + j * (S + 2);
            if (png[at] != (int)lrintf((example / 8.0f - 0.7f + 1) * 127.5f)) wrong = k * 10 + j;
        }
    stbi_image_free(png);
    CHECK(ok, "grid is %dx%d", w, h);
    CHECK(wrong < 0, "row %d column %d is not example column * classes + row", wrong / 10,
          wrong % 10);
}

TEST(io_safetensors_round_trip_and_format) {
    const char *dir = test_tmpdir();
    char path[4200];
    snprintf(path, sizeof path, "%s/ckpt.safetensors", dir);
    float w[2 * 3 * 2] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12.5f}, b[3] = {-1, 0, 1};
    int32_t order[5] = {4, 0, 3, 1, 2};
    vkg_st_tensor tensors[3] = {{"G.conv1.weight", VKG_F32, 3, {2, 3, 2, 0}, w},
                                {"G.conv1.bias", VKG_F32, 1, {3, 0, 0, 0}, b},
                                {"data_order", VKG_I32, 1, {5, 0, 0, 0}, order}};
    vkg_st_meta meta[2] = {{"step", "1234"}, {"format", "vkgan"}};
    CHECK_OK(vkg_safetensors_write(path, tensors, 3, meta, 2));

    vkg_safetensors *st = vkg_safetensors_read(path);
    CHECK(st != NULL, "%s", vkg_error());
    int ndim;
    int64_t shape[4];
    const void *rw = vkg_safetensors_get(st, "G.conv1.weight", VKG_F32, &ndim, shape);
    const void *ro = vkg_safetensors_get(st, "data_order", VKG_I32, NULL, NULL);
    int ok = vkg_safetensors_count(st) == 3 && rw && ro && ndim == 3 && shape[0] == 2 &&
             shape[2] == 2 && memcmp(rw, w, sizeof w) == 0 &&
             memcmp(ro, order, sizeof order) == 0 &&
             !vkg_safetensors_get(st, "data_order", VKG_F32, NULL, NULL) &&
             strcmp(vkg_safetensors_meta(st, "step"), "1234") == 0 &&
             !vkg_safetensors_meta(st, "missing");
    vkg_safetensors_free(st);
    CHECK(ok, "round trip lost something");

    /* the layout itself, read independently: u64 header length (a multiple of 8), JSON, data */
    uint8_t file[4096];
    long size = read_whole(path, file, sizeof file);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = n << 8 | file[i];
    CHECK(n % 8 == 0 && (long)(8 + n + sizeof w + sizeof b + sizeof order) == size,
          "header length %llu, file %ld bytes", (unsigned long long)n, size);
    cJSON *header = cJSON_ParseWithLength((const char *)file + 8, (size_t)n);
    cJSON *bias = cJSON_GetObjectItem(header, "G.conv1.bias");
    cJSON *offsets = cJSON_GetObjectItem(bias, "data_offsets");
    int begin = offsets ? cJSON_GetArrayItem(offsets, 0)->valueint : -1;
    int dtype_ok = bias && strcmp(cJSON_GetObjectItem(bias, "dtype")->valuestring, "F32") == 0;
    cJSON_Delete(header);
    CHECK(dtype_ok && begin == (int)sizeof w, "bias entry: offset %d", begin);
    CHECK(memcmp(file + 8 + n + begin, b, sizeof b) == 0, "bias bytes are not little-endian F32");
}

TEST(io_safetensors_corrupt_files_are_refused) {
    const char *dir = test_tmpdir();
    char path[4200], bad[4200];
    snprintf(path, sizeof path, "%s/good.safetensors", dir);
    snprintf(bad, sizeof bad, "%s/bad.safetensors", dir);
    float w[64] = {0};
    vkg_st_tensor t[2] = {{"a", VKG_F32, 2, {8, 4, 0, 0}, w}, {"b", VKG_F32, 1, {32, 0, 0, 0}, w}};
    CHECK_OK(vkg_safetensors_write(path, t, 2, NULL, 0));
    uint8_t file[4096];
    long size = read_whole(path, file, sizeof file);
    struct {
        const char *what;
        long keep;
        const char *expect;
    } cases[] = {{"truncated data", size - 12, "outside the file"},
                 {"truncated header", 20, "truncated"},
                 {"empty", 0, "truncated"}};
    for (int i = 0; i < 3; i++) {
        test_write(dir, "bad.safetensors", file, (size_t)cases[i].keep);
        vkg_safetensors *st = vkg_safetensors_read(bad);
        vkg_safetensors_free(st);
        CHECK(!st && strstr(vkg_error(), cases[i].expect) && strstr(vkg_error(), "bad.safetensors"),
              "%s: %s", cases[i].what, vkg_error());
    }
    uint8_t copy[4096];
    memcpy(copy, file, (size_t)size);
    copy[9] = '!'; /* breaks the JSON */
    test_write(dir, "bad.safetensors", copy, (size_t)size);
    CHECK(!vkg_safetensors_read(bad) && strstr(vkg_error(), "not valid JSON"), "%s", vkg_error());
    memcpy(copy, file, (size_t)size);
    char *shape = strstr((char *)copy + 8, "[8,4]");
    CHECK(shape != NULL, "no shape [8,4] in the header");
    shape[1] = '9'; /* shape 9x4 for 8x4 worth of bytes */
    test_write(dir, "bad.safetensors", copy, (size_t)size);
    CHECK(!vkg_safetensors_read(bad) && strstr(vkg_error(), "its shape needs"), "%s", vkg_error());
    CHECK(!vkg_safetensors_read("/nonexistent.safetensors") && strstr(vkg_error(), "cannot open"),
          "%s", vkg_error());
    /* one flipped bit in the data: the header is intact, the CRC-32 it records is not */
    memcpy(copy, file, (size_t)size);
    copy[size - 5] ^= 0x01;
    test_write(dir, "bad.safetensors", copy, (size_t)size);
    CHECK(!vkg_safetensors_read(bad) && strstr(vkg_error(), "CRC-32") &&
              strstr(vkg_error(), "bad.safetensors"),
          "a flipped bit: %s", vkg_error());
    /* one changed byte in a metadata value (a run's options): its own CRC-32 says so */
    vkg_st_meta meta[2] = {{"vkgan.options", "{\"lr\":0.0002}"}, {"note", "x"}};
    CHECK_OK(vkg_safetensors_write(bad, t, 2, meta, 2));
    uint8_t signed_meta[4096];
    long signed_size = read_whole(bad, signed_meta, sizeof signed_meta);
    vkg_safetensors *whole = vkg_safetensors_read(bad);
    CHECK(whole != NULL, "a file with metadata: %s", vkg_error());
    vkg_safetensors_free(whole);
    char *lr = strstr((char *)signed_meta + 8, "0.0002");
    CHECK(lr != NULL, "no options in the header");
    lr[5] = '3';
    test_write(dir, "bad.safetensors", signed_meta, (size_t)signed_size);
    CHECK(!vkg_safetensors_read(bad) && strstr(vkg_error(), "metadata's CRC-32") &&
              strstr(vkg_error(), "bad.safetensors"),
          "a changed option: %s", vkg_error());
    /* the recorded value in capitals is the same number; one that is no number is named */
    memcpy(copy, file, (size_t)size);
    char *crc = strstr((char *)copy + 8, "\"vkgan.crc32\":\"");
    CHECK(crc != NULL, "no vkgan.crc32 in the header");
    for (char *c = crc + 15; *c != '"'; c++) *c = (char)toupper((unsigned char)*c);
    test_write(dir, "bad.safetensors", copy, (size_t)size);
    vkg_safetensors *upper = vkg_safetensors_read(bad);
    CHECK(upper != NULL, "the CRC-32 in capitals: %s", vkg_error());
    vkg_safetensors_free(upper);
    memcpy(crc + 15, "0x00000g", 8); /* (strtoul alone would take "0x" and stop at g) */
    test_write(dir, "bad.safetensors", copy, (size_t)size);
    CHECK(!vkg_safetensors_read(bad) && strstr(vkg_error(), "not 8 hexadecimal digits") &&
              strstr(vkg_error(), "0x00000g"),
          "a CRC-32 that is no number: %s", vkg_error());
    /* a NaN or an infinity with a CRC-32 that matches: whole, but refused, naming the tensor */
    memcpy(copy, file, (size_t)size);
    test_write(dir, "bad.safetensors", copy, (size_t)size);
    CHECK(test_poison_safetensors(bad) == 0, "cannot poison %s", bad);
    CHECK(!vkg_safetensors_read(bad) && strstr(vkg_error(), "bad.safetensors") &&
              strstr(vkg_error(), "tensor 'b' holds 1 non-finite value") &&
              strstr(vkg_error(), "element 31"),
          "a NaN with a matching CRC-32: %s", vkg_error());
    w[3] = INFINITY;
    CHECK_OK(vkg_safetensors_write(bad, t, 2, NULL, 0));
    w[3] = 0;
    CHECK(!vkg_safetensors_read(bad) && strstr(vkg_error(), "tensor 'a' holds 1 non-finite"),
          "an infinity: %s", vkg_error());
    /* a file without the CRC-32 (another writer's) loads as before */
    const char json[] = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    uint8_t plain[8 + 64 + 8] = {0};
    size_t len = sizeof json - 1, padded = (len + 7) / 8 * 8;
    plain[0] = (uint8_t)padded;
    memcpy(plain + 8, json, len);
    memset(plain + 8 + len, ' ', padded - len);
    float two[2] = {1.5f, -2};
    memcpy(plain + 8 + padded, two, sizeof two);
    test_write(dir, "plain.safetensors", plain, 8 + padded + sizeof two);
    snprintf(bad, sizeof bad, "%s/plain.safetensors", dir);
    vkg_safetensors *st = vkg_safetensors_read(bad);
    const float *a = st ? vkg_safetensors_get(st, "a", VKG_F32, NULL, NULL) : NULL;
    int same = a && a[0] == 1.5f && a[1] == -2;
    vkg_safetensors_free(st);
    CHECK(same, "a file without a CRC-32: %s", st ? "wrong values" : vkg_error());
}
