/*
 * random.c: getrandom() on Linux, arc4random_buf() on the BSDs and macOS,
 * /dev/urandom everywhere else or when getrandom() is missing.
 */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#ifdef __linux__
#include <sys/random.h>
#endif

#include "util/random.h"

#if !defined(__OpenBSD__) && !defined(__FreeBSD__) && !defined(__NetBSD__) && \
    !defined(__DragonFly__) && !defined(__APPLE__)
static int
urandom_read(unsigned char *p, size_t len)
{
	int	fd, saved;
	ssize_t	n;

	do {
		fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	} while (fd == -1 && errno == EINTR);
	if (fd == -1)
		return -1;
	while (len > 0) {
		n = read(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			saved = n == 0 ? EIO : errno;
			(void)close(fd);
			errno = saved;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	(void)close(fd);
	return 0;
}
#endif

int
random_bytes(void *buf, size_t len)
{
#if defined(__OpenBSD__) || defined(__FreeBSD__) || defined(__NetBSD__) || \
    defined(__DragonFly__) || defined(__APPLE__)
	arc4random_buf(buf, len);
	return 0;
#else
	unsigned char	*p = buf;
#ifdef __linux__
	ssize_t		 n;

	while (len > 0) {
		n = getrandom(p, len, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == ENOSYS)
			break;		/* kernel older than 3.17 */
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	if (len == 0)
		return 0;
#endif
	return urandom_read(p, len);
#endif
}
