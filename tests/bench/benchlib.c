/*
 * benchlib.c: small helpers for the bench programs; see benchlib.h.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "benchlib.h"

double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
bench_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
bench_dial(const char *host, const char *port, const char **why)
{
	struct addrinfo hints, *res, *ai;
	int s = -1, e, one = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((e = getaddrinfo(host, port, &hints, &res)) != 0) {
		if (why != NULL)
			*why = gai_strerror(e);
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (s == -1)
			continue;
		if (connect(s, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		e = errno;
		close(s);
		errno = e;
		s = -1;
	}
	freeaddrinfo(res);
	if (s == -1) {
		if (why != NULL)
			*why = strerror(errno);
		return -1;
	}
	(void)setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return s;
}

int
bench_listen(unsigned int *port)
{
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	int ls, e, one = 1;

	if ((ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	(void)setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(ls, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(ls, 1024) == -1 ||
	    getsockname(ls, (struct sockaddr *)&sin, &slen) == -1) {
		e = errno;
		close(ls);
		errno = e;
		return -1;
	}
	*port = ntohs(sin.sin_port);
	return ls;
}
