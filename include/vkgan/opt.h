/* Command-line options from one table: the parser, --help (with the defaults) and the JSON form
 * of a command's options come from the same entries, so they cannot disagree. Every value is
 * checked (range, choices, form) when it is parsed, before any device work; the caller turns a
 * parse error into exit code 2. */
#ifndef VKGAN_OPT_H
#define VKGAN_OPT_H

#include <stddef.h>
#include <stdio.h>

struct cJSON;

typedef enum vkg_opt_kind {
    VKG_OPT_INT,      /* int, in [min, max] */
    VKG_OPT_REAL,     /* double, in [min, max] */
    VKG_OPT_TEXT,     /* char[size] */
    VKG_OPT_STR,      /* const char *, pointing at the argument (or the default literal) */
    VKG_OPT_FLAG,     /* int 0 / 1; takes no value */
    VKG_OPT_OPTIONAL, /* double; takes a number when one follows, else its `on` value */
} vkg_opt_kind;

typedef struct vkg_opt {
    const char *name; /* without the dashes; a positional argument's name when positional */
    const char *arg;  /* the value's name in --help (NULL: a flag) */
    vkg_opt_kind kind;
    size_t offset, size; /* of the field in the command's options struct */
    double min, max;     /* numbers: the valid range */
    const char *def;     /* the default as text ("" leaves text empty, NULL a STR NULL) */
    const char *help;
    int group;           /* index into the table's group names */
    const char *on;      /* OPTIONAL: the value when none follows */
    const char *choices; /* TEXT / STR: the allowed values, "a|b|c" (NULL: any) */
    int positional;      /* taken from an argument that does not start with "-" */
    int required;
    /* checks the form of a value (text as given) before anything else; 0, or -1 with vkg_error() */
    int (*check)(const char *value);
} vkg_opt;

/* The field of struct type T behind an option: VKG_OPT_FIELD(T, field) */
#define VKG_OPT_FIELD(T, field) offsetof(T, field), sizeof(((T *)0)->field)

typedef struct vkg_opt_table {
    const char *command;       /* "train" */
    const char *usage;         /* the synopsis after "usage: vkgan COMMAND" */
    const char *description;   /* a paragraph for --help */
    const char *const *groups; /* group names (NULL: one unnamed group) */
    int group_count;
    const vkg_opt *opts;
    int count;
} vkg_opt_table;

/* Every option's default into s. */
void vkg_opt_defaults(const vkg_opt_table *t, void *s);
/* One option by name (without the dashes) from text; 0, or -1 with vkg_error() naming it. */
int vkg_opt_set(const vkg_opt_table *t, void *s, const char *name, const char *value);
/* The option entry of a name, or NULL. */
const vkg_opt *vkg_opt_find(const vkg_opt_table *t, const char *name);
/* Parses argv[1..] over the defaults. given (may be NULL; t->count entries) marks the options
 * the command line named. 0; 1 when -h / --help asked for help (the caller prints it); -1 with
 * vkg_error() for an unknown option, a missing or invalid value, a value given to a flag (-h and
 * --help too: --help=1) or a missing required one. */
int vkg_opt_parse(const vkg_opt_table *t, int argc, char **argv, void *s, unsigned char *given);
/* The help text: usage, description and every option with its default. */
void vkg_opt_help(const vkg_opt_table *t, FILE *f);
/* The options as a JSON object (owned by the caller; NULL when out of memory). */
struct cJSON *vkg_opt_json(const vkg_opt_table *t, const void *s);
/* Sets every option named in a JSON object over the defaults; `source` names it in errors. */
int vkg_opt_from_json(const vkg_opt_table *t, void *s, const struct cJSON *json,
                      const char *source);
/* Whether an option has the same value in two structs of the table's type. */
int vkg_opt_equal(const vkg_opt *o, const void *a, const void *b);

#endif
