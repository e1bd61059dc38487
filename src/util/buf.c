/*
 * buf.c: growing a heap buffer.
 */
#include <stdlib.h>

#include "util/buf.h"

int
buf_grow(unsigned char **p, size_t *cap, size_t need)
{
	size_t n = *cap == 0 ? 4096 : *cap;
	unsigned char *q;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	if ((q = realloc(*p, n)) == NULL)
		return -1;
	*p = q;
	*cap = n;
	return 0;
}
