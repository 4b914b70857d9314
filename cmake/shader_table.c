/* Build tool: embeds compiled shaders (SPIR-V) in a C table indexed by enum vkg_shader_id, with
 * each shader's interface read from its SPIR-V, so the host keeps no copy of it:
 *   - the bindings of descriptor set 0 (count: the highest binding + 1),
 *   - which bindings the shader may write (a storage buffer without `readonly`, the NonWritable
 *     decoration on the variable or on every member of its block): the hazard tracking of
 *     vkg_rec_kernel puts its barriers from these,
 *   - which bindings are storage texel buffers read as rgba32f (`readonly imageBuffer`; a
 *     `samplerBuffer` is refused: lavapipe calls a function for each of its fetches),
 *   - the size of the push-constant block,
 *   - the subgroup variant (NAME_sg) of a shader, when there is one.
 * Usage: shader_table OUT.c NAME=FILE.spv... (NAME: the shader's name; its enum constant is
 * VKG_SHADER_ followed by NAME in capitals, declared in the generated vkgan/shader_ids.h). */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    OP_TYPE_INT = 21,
    OP_TYPE_FLOAT = 22,
    OP_TYPE_VECTOR = 23,
    OP_TYPE_IMAGE = 25,
    OP_TYPE_SAMPLED_IMAGE = 27,
    OP_TYPE_ARRAY = 28,
    OP_TYPE_STRUCT = 30,
    OP_TYPE_POINTER = 32,
    OP_CONSTANT = 43,
    OP_VARIABLE = 59,
    OP_DECORATE = 71,
    OP_MEMBER_DECORATE = 72,
    DEC_ARRAY_STRIDE = 6,
    DEC_NON_WRITABLE = 24,
    DEC_BINDING = 33,
    DEC_DESCRIPTOR_SET = 34,
    DEC_OFFSET = 35,
    SC_UNIFORM_CONSTANT = 0,
    SC_UNIFORM = 2,
    SC_PUSH_CONSTANT = 9,
    SC_STORAGE_BUFFER = 12,
    DIM_BUFFER = 5,
    FORMAT_RGBA32F = 1,
    MAX_MEMBERS = 64,
    MAX_BINDINGS = 8,
};

typedef struct id_info {
    uint32_t op;           /* the type or constant instruction that defines the id */
    const uint32_t *words; /* its operands */
    int binding, set, non_writable, array_stride;
    int members, member_offset[MAX_MEMBERS], member_non_writable[MAX_MEMBERS];
} id_info;

typedef struct shader {
    char name[64];
    uint32_t *code;
    size_t words;
    int nbind;
    unsigned write_mask, texel_mask;
    uint32_t push_size;
} shader;

static void fail(const char *what, const char *name) {
    fprintf(stderr, "shader_table: %s: %s\n", name, what);
    exit(1);
}

static uint32_t *read_spv(const char *path, size_t *words) {
    FILE *f = fopen(path, "rb");
    if (!f) fail("cannot open", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint32_t *code = malloc((size_t)n + 4);
    if (!code || n < 20 || n % 4 || fread(code, 1, (size_t)n, f) != (size_t)n)
        fail("not SPIR-V", path);
    fclose(f);
    if (code[0] != 0x07230203) fail("not SPIR-V (magic)", path);
    *words = (size_t)n / 4;
    return code;
}

/* The size in bytes of a type as laid out in a push-constant block (its explicit layout). */
static uint32_t type_size(const id_info *ids, uint32_t bound, uint32_t type, const char *name) {
    if (type >= bound) fail("bad type id", name);
    const id_info *t = &ids[type];
    switch (t->op) {
    case OP_TYPE_INT:
    case OP_TYPE_FLOAT:
        return t->words[1] / 8;
    case OP_TYPE_VECTOR:
        return t->words[2] * type_size(ids, bound, t->words[1], name);
    case OP_TYPE_ARRAY: {
        uint32_t length = t->words[2];
        if (length >= bound || ids[length].op != OP_CONSTANT) fail("array length", name);
        return ids[length].words[2] * (uint32_t)t->array_stride;
    }
    case OP_TYPE_STRUCT: {
        uint32_t size = 0;
        for (int m = 0; m < t->members; m++) {
            uint32_t end =
                (uint32_t)t->member_offset[m] + type_size(ids, bound, t->words[1 + m], name);
            if (end > size) size = end;
        }
        return size;
    }
    default:
        fail("a push-constant member of an unhandled type", name);
    }
    return 0;
}

static void reflect(shader *s) {
    const uint32_t *w = s->code;
    uint32_t bound = w[3];
    id_info *ids = calloc(bound, sizeof *ids);
    if (!ids) fail("out of memory", s->name);
    for (uint32_t i = 0; i < bound; i++) ids[i].binding = ids[i].set = -1;
    /* pass 1: types, constants, decorations */
    for (size_t at = 5; at < s->words;) {
        uint32_t op = w[at] & 0xffff, count = w[at] >> 16;
        if (count == 0 || at + count > s->words) fail("truncated", s->name);
        const uint32_t *a = w + at + 1;
        if (op == OP_DECORATE && a[0] < bound) {
            id_info *d = &ids[a[0]];
            if (a[1] == DEC_BINDING) d->binding = (int)a[2];
            if (a[1] == DEC_DESCRIPTOR_SET) d->set = (int)a[2];
            if (a[1] == DEC_NON_WRITABLE) d->non_writable = 1;
            if (a[1] == DEC_ARRAY_STRIDE) d->array_stride = (int)a[2];
        } else if (op == OP_MEMBER_DECORATE && a[0] < bound && a[1] < MAX_MEMBERS) {
            id_info *d = &ids[a[0]];
            if (a[2] == DEC_NON_WRITABLE) d->member_non_writable[a[1]] = 1;
            if (a[2] == DEC_OFFSET) d->member_offset[a[1]] = (int)a[3];
        } else if ((op >= OP_TYPE_INT && op <= OP_TYPE_POINTER) || op == OP_CONSTANT) {
            uint32_t result = op == OP_CONSTANT ? a[1] : a[0];
            if (result >= bound) fail("bad id", s->name);
            id_info *d = &ids[result];
            d->op = op;
            d->words = a;
            if (op == OP_TYPE_STRUCT) {
                d->members = (int)count - 2;
                if (d->members > MAX_MEMBERS) fail("struct too large", s->name);
            }
        }
        at += count;
    }
    /* pass 2: the variables */
    for (size_t at = 5; at < s->words;) {
        uint32_t op = w[at] & 0xffff, count = w[at] >> 16;
        const uint32_t *a = w + at + 1;
        at += count;
        if (op != OP_VARIABLE || a[1] >= bound || a[0] >= bound) continue;
        const id_info *var = &ids[a[1]], *ptr = &ids[a[0]];
        uint32_t storage = a[2];
        if (ptr->op != OP_TYPE_POINTER || ptr->words[2] >= bound) fail("variable type", s->name);
        const id_info *type = &ids[ptr->words[2]];
        if (storage == SC_PUSH_CONSTANT) {
            s->push_size = type_size(ids, bound, ptr->words[2], s->name);
            if (s->push_size > 128) fail("push constants past the 128 bytes guaranteed", s->name);
            continue;
        }
        if (storage != SC_UNIFORM_CONSTANT && storage != SC_UNIFORM && storage != SC_STORAGE_BUFFER)
            continue;
        if (var->binding < 0) continue;
        if (var->set != 0) fail("a binding outside descriptor set 0", s->name);
        if (var->binding >= MAX_BINDINGS) fail("a binding past the 8 vkg_kernel holds", s->name);
        unsigned bit = 1u << var->binding;
        if (var->binding + 1 > s->nbind) s->nbind = var->binding + 1;
        if (type->op == OP_TYPE_SAMPLED_IMAGE)
            fail("a samplerBuffer: texel reads are readonly rgba32f imageBuffers", s->name);
        if (type->op == OP_TYPE_IMAGE) {
            /* operands: result, sampled type, Dim, Depth, Arrayed, MS, Sampled, Format */
            if (type->words[2] != DIM_BUFFER || type->words[7] != FORMAT_RGBA32F ||
                !var->non_writable)
                fail("an image binding other than a readonly rgba32f imageBuffer", s->name);
            s->texel_mask |= bit;
        } else if (type->op == OP_TYPE_STRUCT) {
            int writable = !var->non_writable;
            if (writable) {
                int all_readonly = type->members > 0;
                for (int m = 0; m < type->members; m++)
                    all_readonly &= type->member_non_writable[m];
                writable = !all_readonly;
            }
            if (storage == SC_UNIFORM_CONSTANT) fail("a uniform that is not a buffer", s->name);
            if (writable) s->write_mask |= bit;
        } else {
            fail("a binding of an unhandled type", s->name);
        }
    }
    free(ids);
}

static void upper(char *out, const char *in) {
    for (; *in; in++) *out++ = (char)toupper((unsigned char)*in);
    *out = 0;
}

int main(int argc, char **argv) {
    if (argc < 3) return fprintf(stderr, "usage: shader_table OUT.c NAME=FILE.spv...\n"), 2;
    int count = argc - 2;
    shader *shaders = calloc((size_t)count, sizeof *shaders);
    if (!shaders) return 1;
    for (int i = 0; i < count; i++) {
        const char *arg = argv[i + 2], *eq = strchr(arg, '=');
        if (!eq || eq - arg >= 60) fail("not NAME=FILE.spv", arg);
        memcpy(shaders[i].name, arg, (size_t)(eq - arg));
        shaders[i].code = read_spv(eq + 1, &shaders[i].words);
        reflect(&shaders[i]);
    }
    FILE *out = fopen(argv[1], "w");
    if (!out) fail("cannot write", argv[1]);
    fprintf(out, "/* generated by cmake/shader_table.c from the SPIR-V of shaders/ */\n"
                 "#include \"vkgan/kernel.h\"\n\n");
    for (int i = 0; i < count; i++) {
        fprintf(out, "static const uint32_t spv_%s[%zu] = {", shaders[i].name, shaders[i].words);
        for (size_t k = 0; k < shaders[i].words; k++)
            fprintf(out, "%s0x%08xu,", k % 8 ? " " : "\n    ", shaders[i].code[k]);
        fprintf(out, "\n};\n");
    }
    fprintf(out, "\nconst vkg_shader_info vkg_shader_table[VKG_SHADER_COUNT] = {\n");
    for (int i = 0; i < count; i++) {
        const shader *s = &shaders[i];
        char id[80], variant[80] = "VKG_SHADER_NONE";
        upper(id, s->name);
        char sg[80];
        snprintf(sg, sizeof sg, "%s_sg", s->name);
        for (int k = 0; k < count; k++)
            if (strcmp(shaders[k].name, sg) == 0) upper(variant + 11, sg);
        fprintf(out,
                "    [VKG_SHADER_%s] = {\"%s\", spv_%s, sizeof spv_%s, %d, 0x%02xu, 0x%02xu, %u, "
                "%s},\n",
                id, s->name, s->name, s->name, s->nbind, s->write_mask, s->texel_mask, s->push_size,
                variant);
    }
    fprintf(out, "};\n");
    if (fclose(out) != 0) fail("cannot write", argv[1]);
    for (int i = 0; i < count; i++) free(shaders[i].code);
    free(shaders);
    return 0;
}
