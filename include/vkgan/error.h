/* vkgan errors: functions return 0 / NULL on failure and leave one line here saying why. */
#ifndef VKGAN_ERROR_H
#define VKGAN_ERROR_H

#if defined(__GNUC__)
#define VKG_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define VKG_PRINTF(a, b)
#endif

/* Records the message of the most recent failure (thread-local); returns -1 for `return`. */
int vkg_set_error(const char *fmt, ...) VKG_PRINTF(1, 2);
/* The message of the most recent failure, or "" when none. */
const char *vkg_error(void);

/* How the user ran vkgan (argv[0]: "build/vkgan", "vkgan"), for advice in messages that must
 * work when pasted ("continue with 'build/vkgan train --resume DIR'"); "vkgan" until set. The
 * string is not copied. */
void vkg_set_program(const char *argv0);
const char *vkg_program(void);

#endif
