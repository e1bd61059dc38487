/*
 * resolve.h: name resolution that a poll() loop can wait for.
 *
 * getaddrinfo() cannot be interrupted or polled, so a name that needs a
 * lookup is resolved on a short-lived thread that writes one byte to a
 * pipe when it is done; the loop polls the pipe's read end.  Numeric
 * addresses are answered at once, without a thread.  A lookup given up
 * (deadline, connection closed) is abandoned: the thread finishes on its
 * own and frees what it holds.
 */
#ifndef CULVERT_IO_RESOLVE_H
#define CULVERT_IO_RESOLVE_H

struct addrinfo;
struct resolve;

/*
 * Start resolving host:port for SOCK_STREAM in family (AF_UNSPEC,
 * AF_INET, AF_INET6).  Returns NULL only when out of memory.
 */
struct resolve	*resolve_start(const char *host, unsigned port, int family);
/* The descriptor to poll for POLLIN, or -1 when the answer is in. */
int		 resolve_fd(const struct resolve *);
/*
 * Once resolve_fd() is readable or -1: 0 with *res set (the caller frees
 * it with freeaddrinfo()), or getaddrinfo()'s EAI_* code.  Frees r.
 */
int		 resolve_finish(struct resolve *r, struct addrinfo **res);
/* Give up on r (any time); frees it. */
void		 resolve_cancel(struct resolve *r);

#endif
