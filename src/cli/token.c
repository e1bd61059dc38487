/*
 * token.c: the token file.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "cli/token.h"
#include "crypto/wipe.h"

int
token_read(const char *path, unsigned char *buf, size_t *len, size_t min,
    struct failure *f)
{
	struct stat st;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		failure_set(f, FAIL_USAGE, "cannot open the token file %s: %s",
		    path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & 077) != 0 || (st.st_uid != getuid() &&
	    st.st_uid != 0)) {
		close(fd);
		failure_set(f, FAIL_USAGE, "the token file %s must be a regular "
		    "file of yours with mode 600 (chmod 600 %s)", path, path);
		return -1;
	}
	n = read(fd, buf, TOKEN_MAX);
	close(fd);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	if (n <= 0 || (size_t)n < min) {
		wipe(buf, TOKEN_MAX);
		failure_set(f, FAIL_USAGE, "the token file %s holds %s: make a "
		    "long random token (umask 077; head -c 32 /dev/urandom | "
		    "base64 > %s)", path, n <= 0 ? "nothing" :
		    "less than 16 bytes", path);
		return -1;
	}
	*len = (size_t)n;
	return 0;
}
