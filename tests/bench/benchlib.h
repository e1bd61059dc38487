/*
 * benchlib.h: what the bench programs (spliceproxy, idealclient, target,
 * drive) share.  Linked into each by tests/bench/bench.mk.
 */
#ifndef CULVERT_BENCHLIB_H
#define CULVERT_BENCHLIB_H

#include <stddef.h>

/* Seconds on the monotonic clock. */
double	bench_now(void);

/* Write all of p, retrying on EINTR: 0, or -1 with errno set. */
int	bench_write_all(int fd, const void *p, size_t len);

/*
 * Connect to host and port (each address in turn) with TCP_NODELAY on:
 * a connected socket, or -1 (gai_strerror or errno in *why when not NULL).
 */
int	bench_dial(const char *host, const char *port, const char **why);

/*
 * A listening TCP socket on 127.0.0.1, port chosen by the kernel and
 * stored in *port: the socket, or -1 with errno set.
 */
int	bench_listen(unsigned int *port);

#endif
