/*
 * wipe.c: explicit_bzero where libc has it, a volatile store loop
 * elsewhere.
 */
#include <string.h>

#include "crypto/wipe.h"

#if defined(__GLIBC__) && \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 25))
#define HAVE_EXPLICIT_BZERO 1
#elif defined(__OpenBSD__) || defined(__FreeBSD__) || defined(__DragonFly__)
#define HAVE_EXPLICIT_BZERO 1
#endif

void
wipe(void *p, size_t len)
{
	if (p == NULL || len == 0)
		return;
#ifdef HAVE_EXPLICIT_BZERO
	explicit_bzero(p, len);
#else
	{
		/* Stores through a volatile pointer may not be elided. */
		volatile unsigned char *vp = p;

		while (len-- > 0)
			*vp++ = 0;
	}
#endif
}
