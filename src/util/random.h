/*
 * random.h: bytes from the kernel's cryptographic random generator.
 */
#ifndef CULVERT_RANDOM_H
#define CULVERT_RANDOM_H

#include <stddef.h>

/* Fill buf with len unpredictable bytes.  Returns 0, or -1 with errno set
 * when no source of randomness is available (buf contents then undefined). */
int	random_bytes(void *buf, size_t len);

#endif
