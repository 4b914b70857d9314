/* Image folders as torchvision's ImageFolder reads them (torchvision.datasets.ImageFolder,
 * DatasetFolder.find_classes and make_dataset): DIR/CLASS/.../IMAGE, one class per subfolder of
 * DIR in sorted order, the images of a class found in its whole tree (links followed), a class
 * folder without images refused by name. Where ImageFolder would do something silently that
 * loses or invents data, vkgan refuses by name instead: images beside the class folders (it
 * ignores them), hidden folders (it makes them classes: .ipynb_checkpoints), broken links (it
 * fails later), image formats vkgan does not decode (.webp, .tif, ...). Without subfolders the
 * images directly in DIR are one unlabelled set. Decoded by stb_image, centre-cropped to a
 * square and resized by stb_image_resize. */
#include <errno.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <stb_image.h>
#include <stb_image_resize.h>

#include "vkgan/data.h"
#include "data/paths.h"
#include "vkgan/error.h"

#define MAX_SIDE 16384   /* pixels a side of a decoded image */
#define MAX_CLASSES 1024 /* class subfolders */
#define MAX_DEPTH 16     /* folders within a class folder */

typedef struct names {
    char **items;
    int count, cap;
} names;

/* 0, or -1 when out of memory */
static int push(names *n, const char *s) {
    if (n->count == n->cap) {
        int cap = n->cap ? 2 * n->cap : 64;
        char **grown = realloc(n->items, sizeof *grown * (size_t)cap);
        if (!grown) return -1;
        n->items = grown, n->cap = cap;
    }
    return (n->items[n->count] = strdup(s)) ? n->count++, 0 : -1;
}

static void clear(names *n) {
    for (int i = 0; i < n->count; i++) free(n->items[i]);
    free(n->items);
    memset(n, 0, sizeof *n);
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int has_extension(const char *name, const char *const *list) {
    const char *dot = strrchr(name, '.');
    for (int i = 0; dot && list[i]; i++)
        if (!strcasecmp(dot, list[i])) return 1;
    return 0;
}

static int is_image(const char *name) {
    static const char *const ours[] = {".png", ".jpg", ".jpeg", ".bmp", NULL};
    return has_extension(name, ours);
}

/* torchvision's other IMG_EXTENSIONS: images a user means as data that vkgan does not decode */
static int is_other_image(const char *name) {
    static const char *const others[] = {".ppm", ".pgm", ".tif", ".tiff", ".webp", ".gif", NULL};
    return has_extension(name, others);
}

/* The entries of dir: subfolders (names) into dirs when dirs is given, else walked into at
 * most MAX_DEPTH deep; image files (paths) into files. Hidden entries are skipped; a broken link
 * or an image vkgan cannot decode is an error naming it. Not sorted. */
static int list(const char *dir, names *dirs, names *files, int depth) {
    if (data_check_dir(dir) < 0) return -1;
    DIR *d = opendir(dir);
    if (!d) return vkg_set_error("%s: cannot open the directory (%s)", dir, strerror(errno));
    struct dirent *e;
    char path[4200];
    int rc = 0;
    while (rc == 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0) {
            rc = vkg_set_error("%s: a broken link (or unreadable): remove it or fix it", path);
        } else if (S_ISDIR(st.st_mode)) {
            if (dirs)
                rc = push(dirs, e->d_name) < 0 ? vkg_set_error("out of host memory") : 0;
            else if (depth >= MAX_DEPTH)
                rc = vkg_set_error("%s: folders more than %d deep in a class folder (a link "
                                   "loop?)",
                                   path, MAX_DEPTH);
            else
                rc = list(path, NULL, files, depth + 1);
        } else if (S_ISREG(st.st_mode) && is_image(e->d_name)) {
            rc = push(files, path) < 0 ? vkg_set_error("out of host memory") : 0;
        } else if (S_ISREG(st.st_mode) && is_other_image(e->d_name)) {
            rc = vkg_set_error("%s: vkgan reads PNG, JPEG and BMP images; convert it (e.g. with "
                               "ImageMagick's mogrify -format png)",
                               path);
        }
    }
    closedir(d);
    return rc;
}

/* Sorts the names from index `from` on. */
static void sort(names *n, int from) {
    if (n->count - from > 1)
        qsort(n->items + from, (size_t)(n->count - from), sizeof(char *), by_name);
}

/* The formats the README promises, by content: stb_image decodes by content, not by name, and
 * its other decoders (PSD, GIF, HDR, PIC, PNM, TGA) are no part of vkgan's inputs. */
static int known_format(FILE *f) {
    unsigned char m[8] = {0};
    size_t got = fread(m, 1, sizeof m, f);
    rewind(f);
    return (got == 8 && memcmp(m, "\x89PNG\r\n\x1a\n", 8) == 0) ||
           (got >= 3 && m[0] == 0xFF && m[1] == 0xD8 && m[2] == 0xFF) ||
           (got >= 2 && m[0] == 'B' && m[1] == 'M');
}

/* Refuses a zero or absurd size before anything is allocated or resized for it. */
static int check_size(const char *path, int w, int h) {
    if (w < 1 || h < 1 || w > MAX_SIDE || h > MAX_SIDE)
        return vkg_set_error("%s: image is %dx%d pixels; vkgan reads images of 1..%d pixels a side",
                             path, w, h, MAX_SIDE);
    return 0;
}

/* Decodes one image into out (channels x size x size, planar). */
static int decode(const char *path, int size, int channels, uint8_t *out) {
    if (data_check_file(path) < 0) return -1;
    FILE *f = fopen(path, "rb");
    if (!f) return vkg_set_error("%s: cannot open it (%s)", path, strerror(errno));
    int w, h, n, rc = 0;
    uint8_t *img = NULL;
    if (!stbi_info_from_file(f, &w, &h, &n)) {
        /* stbi_info tries every format and says the last one's "unknown image type"; the
         * decoder, which stops at its header check, says what is wrong with this one */
        img = stbi_load_from_file(f, &w, &h, &n, channels);
        rc = vkg_set_error("%s: cannot decode the image (%s)", path, stbi_failure_reason());
    }
    if (rc == 0) rc = check_size(path, w, h);
    if (rc == 0 && !known_format(f))
        rc = vkg_set_error("%s: not a PNG, JPEG or BMP image (by its content)", path);
    if (rc == 0 && !(img = stbi_load_from_file(f, &w, &h, &n, channels)))
        rc = vkg_set_error("%s: cannot decode the image (%s)", path, stbi_failure_reason());
    fclose(f);
    if (rc == 0) rc = check_size(path, w, h); /* the decoder's word, not only the header's */
    if (rc < 0) {
        stbi_image_free(img);
        return -1;
    }
    int side = w < h ? w : h, x0 = (w - side) / 2, y0 = (h - side) / 2;
    uint8_t *resized = malloc((size_t)size * size * (size_t)channels);
    int ok =
        resized && stbir_resize_uint8(img + ((size_t)y0 * w + x0) * (size_t)channels, side, side,
                                      w * channels, resized, size, size, size * channels, channels);
    stbi_image_free(img);
    if (!ok) {
        free(resized);
        return vkg_set_error("%s: cannot resize the image", path);
    }
    for (int c = 0; c < channels; c++)
        for (int i = 0; i < size * size; i++)
            out[(size_t)c * size * size + i] = resized[(size_t)i * channels + c];
    free(resized);
    return 0;
}

int vkg_load_folder(const char *dir, int size, int channels, vkg_dataset *out) {
    memset(out, 0, sizeof *out);
    if (size < 4 || size > 1024) return vkg_set_error("image size %d is not in 4..1024", size);
    if (channels != 1 && channels != 3)
        return vkg_set_error("folder images are read with 1 or 3 channels, not %d", channels);
    names classes = {0}, files = {0}, empty = {0};
    int rc = list(dir, &classes, &files, 0), first_class_file[MAX_CLASSES + 1], class_count = 0;
    sort(&classes, 0), sort(&files, 0);
    if (rc == 0 && classes.count > MAX_CLASSES)
        rc = vkg_set_error("%s: %d class folders; vkgan reads up to %d", dir, classes.count,
                           MAX_CLASSES);
    if (rc == 0 && classes.count > 0 && files.count > 0)
        rc = vkg_set_error("%s: %d image(s) beside its class folders (%s): move them into a class "
                           "folder or away (ImageFolder would ignore them)",
                           dir, files.count, files.items[0]);
    for (int c = 0; rc == 0 && c < classes.count; c++) {
        char sub[4200];
        snprintf(sub, sizeof sub, "%s/%s", dir, classes.items[c]);
        if (strlen(classes.items[c]) >= VKG_CLASS_NAME)
            rc = vkg_set_error("%s: a class name of more than %d bytes", sub, VKG_CLASS_NAME - 1);
        first_class_file[c] = files.count;
        if (rc == 0) rc = list(sub, NULL, &files, 1); /* the class's images, in name order */
        sort(&files, first_class_file[c]);
        if (rc == 0 && files.count == first_class_file[c] && push(&empty, classes.items[c]) < 0)
            rc = vkg_set_error("out of host memory");
    }
    class_count = classes.count;
    if (rc == 0 && empty.count > 0) { /* as ImageFolder: a class without examples is an error */
        char list_text[512] = "";
        for (int i = 0; i < empty.count; i++)
            snprintf(list_text + strlen(list_text), sizeof list_text - strlen(list_text), "%s%s",
                     i ? ", " : "", empty.items[i]);
        rc = vkg_set_error("%s: class folder%s without PNG, JPEG or BMP images: %s", dir,
                           empty.count > 1 ? "s" : "", list_text);
    }
    if (rc == 0 && files.count == 0)
        rc = vkg_set_error("%s: no PNG, JPEG or BMP images there or in its subfolders", dir);
    if (rc == 0) {
        size_t per = (size_t)channels * size * size;
        out->pixels = malloc(per * (size_t)files.count);
        out->labels = class_count ? malloc(sizeof *out->labels * (size_t)files.count) : NULL;
        if (!out->pixels || (class_count && !out->labels))
            rc = vkg_set_error("out of host memory reading %s", dir);
        for (int i = 0; rc == 0 && i < files.count; i++) {
            rc = decode(files.items[i], size, channels, out->pixels + per * (size_t)i);
            if (out->labels) {
                int c = class_count - 1;
                while (c > 0 && first_class_file[c] > i) c--;
                out->labels[i] = c;
            }
        }
    }
    if (rc == 0 && class_count &&
        !(out->class_names = calloc((size_t)class_count, sizeof *out->class_names)))
        rc = vkg_set_error("out of host memory reading %s", dir);
    for (int c = 0; rc == 0 && c < class_count; c++)
        snprintf(out->class_names[c], VKG_CLASS_NAME, "%s", classes.items[c]);
    if (rc == 0) {
        snprintf(out->name, sizeof out->name, "folder");
        out->count = files.count;
        out->channels = channels;
        out->height = out->width = size;
        out->classes = class_count;
    } else {
        vkg_dataset_free(out);
    }
    clear(&classes);
    clear(&files);
    clear(&empty);
    return rc;
}
