/* Wall-clock intervals, and durations as text. */
#ifndef VKGAN_CLOCK_H
#define VKGAN_CLOCK_H

#include <stddef.h>

/* Seconds on the monotonic clock (for differences: the origin is arbitrary). */
double vkg_now(void);
/* A duration as 12m05s or 1h02m (negative or not finite: 0m00s); for ETAs. */
void vkg_duration_text(double seconds, char *out, size_t size);

#endif
