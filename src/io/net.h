/*
 * net.h: deadlines, name resolution and connecting, all under one
 * deadline so "--timeout" bounds the whole way to a working tunnel.
 */
#ifndef CULVERT_NET_H
#define CULVERT_NET_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>

#include "proto/proto.h"

struct addrinfo;

struct deadline {
	bool	 none;		/* no deadline at all */
	long long at_ms;	/* CLOCK_MONOTONIC milliseconds */
};

void	deadline_set(struct deadline *, double seconds);	/* 0: none */
/* Milliseconds left for poll(): -1 for none, 0 when expired. */
int	deadline_left(const struct deadline *);
bool	deadline_expired(const struct deadline *);

/*
 * Resolve host:port (a name or a literal; what names it in messages) for family (AF_UNSPEC, AF_INET,
 * AF_INET6) before the deadline.  The caller frees *res with
 * freeaddrinfo().  On failure returns -1 with f set.
 */
int	net_resolve(const char *host, unsigned port, int family, int socktype,
	    const char *what, const struct deadline *, struct addrinfo **res,
	    struct failure *f);

/*
 * Connect to host:port trying every address in order until one answers,
 * all before the deadline.  what names the peer in messages ("proxy",
 * "target").  Returns a non-blocking, close-on-exec socket with
 * TCP_NODELAY, or -1 with f set (EXIT_UNREACH or EXIT_TIMEOUT).
 */
int	net_connect(const char *host, unsigned port, int family,
	    const char *what, const struct deadline *, struct failure *f);

/* Set TCP_NODELAY; errors ignored (not every socket is TCP). */
void	net_nodelay(int fd);

/* Wait for fd to be ready for events before the deadline: 1 ready, 0
 * timeout, -1 error (errno). */
int	net_wait(int fd, short events, const struct deadline *);

#endif
