#include <stdarg.h>
#include <stdio.h>

#include "vkgan/error.h"

static _Thread_local char last_error[1024];

int vkg_set_error(const char *fmt, ...) {
    char text[sizeof last_error]; /* formatted apart: the arguments may be vkg_error() itself */
    va_list args;
    va_start(args, fmt);
    vsnprintf(text, sizeof text, fmt, args);
    va_end(args);
    snprintf(last_error, sizeof last_error, "%s", text);
    return -1;
}

const char *vkg_error(void) {
    return last_error;
}

static const char *program = "vkgan";

void vkg_set_program(const char *argv0) {
    program = argv0 && *argv0 ? argv0 : "vkgan";
}

const char *vkg_program(void) {
    return program;
}
