/* Options from one table (see include/vkgan/opt.h). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vkgan/error.h"
#include "vkgan/opt.h"

const vkg_opt *vkg_opt_find(const vkg_opt_table *t, const char *name) {
    for (int i = 0; i < t->count; i++)
        if (strcmp(t->opts[i].name, name) == 0) return &t->opts[i];
    return NULL;
}

/* "--name" or, for a positional argument, its name as written in the usage ("RUN_DIR"). */
static const char *shown(const vkg_opt *o, char *buf, size_t size) {
    snprintf(buf, size, o->positional ? "%s" : "--%s", o->positional ? o->arg : o->name);
    return buf;
}

/* Whether value is one of "a|b|c". */
static int is_choice(const char *choices, const char *value) {
    size_t n = strlen(value);
    for (const char *p = choices; *p;) {
        size_t len = strcspn(p, "|");
        if (len == n && strncmp(p, value, n) == 0) return 1;
        p += len + (p[len] == '|');
    }
    return 0;
}

static int set_entry(const vkg_opt_table *t, const vkg_opt *o, void *s, const char *value) {
    char name[80];
    shown(o, name, sizeof name);
    char *field = (char *)s + o->offset;
    if (value && o->check && o->check(value) < 0) return -1;
    if (o->kind == VKG_OPT_TEXT || o->kind == VKG_OPT_STR) {
        if (value && o->choices && !is_choice(o->choices, value))
            return vkg_set_error("%s %s: expected one of %s (see 'vkgan %s --help')", name, value,
                                 o->choices, t->command);
        if (o->kind == VKG_OPT_STR) {
            *(const char **)field = value;
            return 0;
        }
        if (strlen(value) >= o->size)
            return vkg_set_error("%s: the value is longer than %zu characters", name, o->size - 1);
        strcpy(field, value);
        return 0;
    }
    char *end;
    errno = 0;
    double v = strtod(value, &end);
    int whole = o->kind == VKG_OPT_INT || o->kind == VKG_OPT_FLAG;
    if (*value == 0 || *end || errno || !isfinite(v) || v < o->min || v > o->max ||
        (whole && (v != floor(v) || strpbrk(value, ".eE"))) || /* an integer: digits only */
        strpbrk(value, "xX"))                                  /* decimal only: no 0x10 */
        return whole ? vkg_set_error("%s expects an integer from %.0f to %.0f, got '%s'", name,
                                     o->min, o->max, value)
                     : vkg_set_error("%s expects a number from %g to %g, got '%s'", name, o->min,
                                     o->max, value);
    if (whole)
        *(int *)field = (int)v;
    else
        *(double *)field = v;
    return 0;
}

int vkg_opt_set(const vkg_opt_table *t, void *s, const char *name, const char *value) {
    const vkg_opt *o = vkg_opt_find(t, name);
    if (!o) return vkg_set_error("unknown option '--%s' (see 'vkgan %s --help')", name, t->command);
    return set_entry(t, o, s, value);
}

void vkg_opt_defaults(const vkg_opt_table *t, void *s) {
    for (int i = 0; i < t->count; i++) {
        const vkg_opt *o = &t->opts[i];
        char *field = (char *)s + o->offset;
        if (o->kind == VKG_OPT_STR)
            *(const char **)field = o->def;
        else if (o->kind == VKG_OPT_TEXT)
            snprintf(field, o->size, "%s", o->def ? o->def : "");
        else
            set_entry(t, o, s, o->def); /* the table's own defaults are in range */
    }
}

static int looks_numeric(const char *s) {
    char *end;
    strtod(s, &end);
    return *s && !*end;
}

int vkg_opt_parse(const vkg_opt_table *t, int argc, char **argv, void *s, unsigned char *given) {
    unsigned char seen[128] = {0};
    if (t->count > 128) return vkg_set_error("vkgan %s: too many options", t->command);
    vkg_opt_defaults(t, s);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *inline_value = NULL; /* --name=value */
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) return 1;
        if (strncmp(a, "-h=", 3) == 0 || strncmp(a, "--help=", 7) == 0) /* as any flag */
            return vkg_set_error("%.*s takes no value (give it alone)", (int)strcspn(a, "="), a);
        const vkg_opt *o = NULL;
        char named[128];
        if (strncmp(a, "--", 2) == 0) {
            const char *eq = strchr(a, '=');
            if (eq && (size_t)(eq - a) < sizeof named) {
                snprintf(named, sizeof named, "%.*s", (int)(eq - a), a);
                a = named, inline_value = eq + 1;
            }
            o = vkg_opt_find(t, a + 2);
            if (o && o->positional) o = NULL;
        } else if (a[0] != '-' || a[1] == 0) {
            for (int k = 0; k < t->count && !o; k++)
                if (t->opts[k].positional && !seen[k]) o = &t->opts[k];
            if (!o)
                return vkg_set_error("unexpected argument '%s' (see 'vkgan %s --help')", a,
                                     t->command);
            if (!a[0]) return vkg_set_error("%s: expected a value, not an empty string", o->arg);
            seen[o - t->opts] = 1;
            if (set_entry(t, o, s, a) < 0) return -1;
            continue;
        }
        if (!o) return vkg_set_error("unknown option '%s' (see 'vkgan %s --help')", a, t->command);
        seen[o - t->opts] = 1;
        int r;
        if (inline_value && o->kind == VKG_OPT_FLAG)
            r = vkg_set_error("%s takes no value (give it alone)", a);
        else if (inline_value && !inline_value[0])
            r = vkg_set_error("%s: expected %s, not an empty string%s", a, o->arg,
                              o->required ? "" : " (leave the option out for its default)");
        else if (inline_value)
            r = set_entry(t, o, s, inline_value);
        else if (o->kind == VKG_OPT_FLAG)
            r = set_entry(t, o, s, "1");
        else if (o->kind == VKG_OPT_OPTIONAL && i + 1 < argc && !argv[i + 1][0])
            r = vkg_set_error("%s: expected %s or nothing, not an empty string", a, o->arg);
        else if (o->kind == VKG_OPT_OPTIONAL && (i + 1 >= argc || !looks_numeric(argv[i + 1])))
            r = set_entry(t, o, s, o->on);
        else if (i + 1 >= argc)
            r = vkg_set_error("%s expects a value (%s)", a, o->arg);
        else if (!argv[i + 1][0]) /* an unset shell variable, most often: not the default */
            r = vkg_set_error("%s: expected %s, not an empty string%s", a, o->arg,
                              o->required ? "" : " (leave the option out for its default)");
        else
            r = set_entry(t, o, s, argv[++i]);
        if (r < 0) return -1;
    }
    for (int k = 0; k < t->count; k++) {
        char name[80];
        if (t->opts[k].required && !seen[k])
            return vkg_set_error("vkgan %s needs %s%s%s (see 'vkgan %s --help')", t->command,
                                 shown(&t->opts[k], name, sizeof name),
                                 t->opts[k].positional ? "" : " ",
                                 t->opts[k].positional ? "" : t->opts[k].arg, t->command);
        if (given) given[k] = seen[k];
    }
    return 0;
}

/* Prints text from column `indent` (where the cursor is), wrapping words before `width`. */
static void print_wrapped(FILE *f, const char *text, int indent, int width) {
    int col = indent;
    while (*text) {
        size_t word = strcspn(text, " ");
        if (col > indent && col + 1 + (int)word > width)
            fprintf(f, "\n%*s", indent, ""), col = indent;
        else if (col > indent)
            fputc(' ', f), col++;
        fprintf(f, "%.*s", (int)word, text);
        col += (int)word;
        text += word;
        while (*text == ' ') text++;
    }
    fputc('\n', f);
}

void vkg_opt_help(const vkg_opt_table *t, FILE *f) {
    fprintf(f, "usage: vkgan %s %s\n", t->command, t->usage);
    print_wrapped(f, t->description, 0, 96);
    int groups = t->groups ? t->group_count : 1;
    for (int g = 0; g < groups; g++) {
        fprintf(f, "\n%s%s", t->groups ? t->groups[g] : "options", ":\n");
        for (int i = 0; i < t->count; i++) {
            const vkg_opt *o = &t->opts[i];
            if (t->groups && o->group != g) continue;
            char head[200], name[80];
            snprintf(head, sizeof head, "%s%s%s", shown(o, name, sizeof name),
                     o->arg && !o->positional ? " " : "", o->arg && !o->positional ? o->arg : "");
            char text[640];
            snprintf(text, sizeof text, "%s", o->help);
            if (o->kind != VKG_OPT_FLAG && o->def && o->def[0] && strcmp(o->def, "0") != 0)
                snprintf(text + strlen(text), sizeof text - strlen(text), " (default %s)", o->def);
            fprintf(f, "  %-25s", head);
            if (strlen(head) > 25) fprintf(f, "\n%27s", "");
            print_wrapped(f, text, 27, 96);
        }
    }
}

cJSON *vkg_opt_json(const vkg_opt_table *t, const void *s) {
    cJSON *j = cJSON_CreateObject();
    for (int i = 0; j && i < t->count; i++) {
        const vkg_opt *o = &t->opts[i];
        const char *field = (const char *)s + o->offset;
        const char *str = o->kind == VKG_OPT_STR ? *(const char *const *)field : NULL;
        cJSON *v = o->kind == VKG_OPT_TEXT  ? cJSON_CreateString(field)
                   : o->kind == VKG_OPT_STR ? (str ? cJSON_CreateString(str) : cJSON_CreateNull())
                   : o->kind == VKG_OPT_REAL || o->kind == VKG_OPT_OPTIONAL
                       ? cJSON_CreateNumber(*(const double *)field)
                       : cJSON_CreateNumber(*(const int *)field);
        if (!v || !cJSON_AddItemToObject(j, o->name, v)) {
            cJSON_Delete(v);
            cJSON_Delete(j);
            return NULL;
        }
    }
    return j;
}

int vkg_opt_from_json(const vkg_opt_table *t, void *s, const cJSON *json, const char *source) {
    if (!cJSON_IsObject(json))
        return vkg_set_error("%s: the options are not a JSON object", source);
    vkg_opt_defaults(t, s);
    for (const cJSON *e = json->child; e; e = e->next) {
        const vkg_opt *o = vkg_opt_find(t, e->string);
        char text[64];
        int r;
        if (o && o->kind == VKG_OPT_STR)
            r = vkg_set_error("option %s is not read from a file", e->string);
        else if (cJSON_IsString(e))
            r = vkg_opt_set(t, s, e->string, e->valuestring);
        else if (cJSON_IsNumber(e))
            snprintf(text, sizeof text, "%.17g", e->valuedouble),
                r = vkg_opt_set(t, s, e->string, text);
        else
            r = vkg_set_error("option %s is neither text nor a number", e->string);
        if (r < 0) return vkg_set_error("%s: %s", source, vkg_error());
    }
    return 0;
}

int vkg_opt_equal(const vkg_opt *o, const void *a, const void *b) {
    const char *x = (const char *)a + o->offset, *y = (const char *)b + o->offset;
    if (o->kind == VKG_OPT_TEXT) return strcmp(x, y) == 0;
    if (o->kind == VKG_OPT_STR) {
        const char *p = *(const char *const *)x, *q = *(const char *const *)y;
        return p == q || (p && q && strcmp(p, q) == 0);
    }
    if (o->kind == VKG_OPT_REAL || o->kind == VKG_OPT_OPTIONAL)
        return *(const double *)x == *(const double *)y;
    return *(const int *)x == *(const int *)y;
}
