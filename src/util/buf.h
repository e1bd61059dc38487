/*
 * buf.h: growing a heap buffer.
 */
#ifndef CULVERT_UTIL_BUF_H
#define CULVERT_UTIL_BUF_H

#include <stddef.h>

/*
 * Make *p (of *cap bytes, NULL and 0 at first) hold at least need bytes,
 * doubling from 4 KiB; the contents stay.  0, or -1 when out of memory
 * (*p is then untouched).
 */
int	buf_grow(unsigned char **p, size_t *cap, size_t need);

#endif
