/* The generated shader table (cmake/shader_table.c) against the shader sources: every
 * shaders/NAME.comp (and NAME_sg, for a "// variants: subgroup" shader) has its entry, and the
 * interface read from the SPIR-V agrees with what the GLSL declares, read here a second way, from
 * the text: binding count, the bindings it may write (a storage buffer without `readonly`), the
 * texel buffers (`imageBuffer`). The hazard tracking puts its barriers from these masks, so a
 * wrong one is a race, not a visible error. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "vkgan/kernel.h"

typedef struct declared {
    int nbind;
    unsigned written, readonly, texel;
} declared;

/* Reads the bindings declared in a shader source and the files it includes (same folder). */
static void read_bindings(const char *dir, const char *file, declared *d, int depth) {
    char path[1400], line[512];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "r");
    CHECK(f, "cannot open %s", path);
    if (!f) return;
    while (fgets(line, sizeof line, f)) {
        char included[256];
        if (sscanf(line, " #include \"%255[^\"]\"", included) == 1 && depth < 4) {
            read_bindings(dir, included, d, depth + 1);
            continue;
        }
        const char *b = strstr(line, "binding = ");
        if (strncmp(line, "layout(", 7) != 0 || !b) continue;
        int binding = atoi(b + 10);
        CHECK(binding >= 0 && binding < VKG_MAX_BINDINGS, "%s: binding %d", file, binding);
        if (binding < 0 || binding >= VKG_MAX_BINDINGS) continue;
        unsigned bit = 1u << binding;
        if (binding + 1 > d->nbind) d->nbind = binding + 1;
        if (strstr(line, "imageBuffer"))
            d->texel |= bit;
        else if (strstr(line, ") readonly buffer"))
            d->readonly |= bit;
        else if (strstr(line, " buffer "))
            d->written |= bit;
    }
    fclose(f);
}

static const vkg_shader_info *find(const char *name) {
    for (int id = VKG_SHADER_NONE + 1; id < VKG_SHADER_COUNT; id++)
        if (strcmp(vkg_shader_get((vkg_shader_id)id)->name, name) == 0)
            return vkg_shader_get((vkg_shader_id)id);
    return NULL;
}

static void check_entry(const char *name, const declared *d) {
    const vkg_shader_info *s = find(name);
    CHECK(s, "shader %s is not in the generated table", name);
    if (!s) return;
    CHECK(s->nbind == d->nbind, "%s: %d bindings in the table, %d declared", name, s->nbind,
          d->nbind);
    CHECK(s->write_mask == d->written, "%s: written bindings 0x%x in the table, 0x%x declared",
          name, s->write_mask, d->written);
    CHECK((s->write_mask & d->readonly) == 0, "%s: a readonly binding is marked written", name);
    CHECK(s->texel_mask == d->texel, "%s: texel bindings 0x%x in the table, 0x%x declared", name,
          s->texel_mask, d->texel);
    CHECK(s->push_size <= VKG_PUSH_BYTES && s->size > 0 && s->code[0] == 0x07230203u,
          "%s: push constants %u bytes, %zu bytes of code", name, s->push_size, s->size);
}

TEST(shader_table_matches_the_sources) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/shaders", VKGAN_SOURCE_DIR);
    DIR *d = opendir(dir);
    CHECK(d, "cannot list %s", dir);
    if (!d) return;
    int expected = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".comp") != 0) continue;
        char name[256], first[256] = "", path[1300];
        snprintf(name, sizeof name, "%.*s", (int)(n - 5), e->d_name);
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "r");
        if (f) {
            if (!fgets(first, sizeof first, f)) first[0] = 0;
            fclose(f);
        }
        declared decl = {0};
        read_bindings(dir, e->d_name, &decl, 0);
        check_entry(name, &decl);
        expected++;
        char sg[300];
        snprintf(sg, sizeof sg, "%s_sg", name);
        if (strstr(first, "variants: subgroup")) {
            check_entry(sg, &decl);
            CHECK(find(name) && find(name)->subgroup != VKG_SHADER_NONE &&
                      vkg_shader_get(find(name)->subgroup) == find(sg),
                  "%s: its subgroup variant is not linked", name);
            expected++;
        } else {
            CHECK(!find(sg) && (!find(name) || find(name)->subgroup == VKG_SHADER_NONE),
                  "%s has a subgroup variant it does not declare", name);
        }
    }
    closedir(d);
    CHECK(expected == VKG_SHADER_COUNT - 1, "%d shaders in shaders/, %d in the table", expected,
          VKG_SHADER_COUNT - 1);
    CHECK(vkg_shader_get(VKG_SHADER_NONE) == NULL && vkg_shader_get(VKG_SHADER_COUNT) == NULL,
          "ids outside the table have entries");
}

/* A dispatch whose push constants differ in size from the shader's block, or that leaves one
 * of the shader's bindings without a buffer, is refused (not recorded with a garbage tail). */
TEST(kernel_contract_is_checked_when_recorded) {
    vkg_ctx *ctx = test_ctx();
    vkg_arena *arena = test_arena(ctx);
    vkg_buf buf;
    CHECK_OK(vkg_arena_alloc(arena, 1024, &buf));
    uint32_t push[3] = {0, 0, 0};
    vkg_kernel wrong_push = {.shader = VKG_SHADER_COUNTER_ADD,
                             .push = push,
                             .push_size = sizeof push,
                             .bufs = {&buf},
                             .groups = {1, 1, 1}};
    vkg_rec *rec = vkg_rec_begin(ctx, 0);
    CHECK(vkg_rec_kernel(rec, &wrong_push) < 0 && strstr(vkg_error(), "push constants"),
          "12 bytes of push constants for counter_add's 8 were recorded (%s)", vkg_error());
    vkg_rec_destroy(rec);
    vkg_kernel unbound = {.shader = VKG_SHADER_LOSS_RING,
                          .push = push,
                          .push_size = 8,
                          .bufs = {&buf, &buf, &buf, &buf},
                          .groups = {1, 1, 1}};
    rec = vkg_rec_begin(ctx, 0);
    CHECK(vkg_rec_kernel(rec, &unbound) < 0 && strstr(vkg_error(), "binding 4 has no buffer"),
          "loss_ring was recorded without its binding 4 (%s)", vkg_error());
    vkg_rec_destroy(rec);
    vkg_kernel too_many = {.shader = VKG_SHADER_COUNTER_ADD,
                           .push = push,
                           .push_size = 8,
                           .bufs = {&buf},
                           .groups = {1, 0xffffffffu, 1}};
    rec = vkg_rec_begin(ctx, 0);
    CHECK(vkg_rec_kernel(rec, &too_many) < 0 && strstr(vkg_error(), "workgroups along y"),
          "a dispatch past the device's workgroup count was recorded (%s)", vkg_error());
    vkg_rec_destroy(rec);
    vkg_kernel none = {.groups = {1, 1, 1}};
    rec = vkg_rec_begin(ctx, 0);
    CHECK(vkg_rec_kernel(rec, &none) < 0, "a kernel without a shader was recorded");
    vkg_rec_destroy(rec);
}
