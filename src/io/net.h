/*
 * net.h: connecting without blocking, to every address of a name in turn,
 * racing IPv6 and IPv4 as RFC 8305 ("Happy Eyeballs") describes: when an
 * attempt has not succeeded after CONNECT_STAGGER_MS, the next address is
 * tried beside it, and the first to connect wins.
 */
#ifndef CULVERT_IO_NET_H
#define CULVERT_IO_NET_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>

#define CONNECT_STAGGER_MS	250
#define CONNECT_INFLIGHT_MAX	4	/* attempts at once */
#define CONNECT_ADDRS_MAX	32	/* addresses of one name tried */

struct addrinfo;

/* An attempt on addr starts (err 0) or failed with errno err. */
typedef void	net_note_fn(void *arg, const char *addr, int err);

struct connector {
	const struct addrinfo	*order[CONNECT_ADDRS_MAX]; /* families interleaved */
	size_t			 naddr, next;
	int			 fd[CONNECT_INFLIGHT_MAX];	/* -1: free */
	size_t			 idx[CONNECT_INFLIGHT_MAX];	/* into order */
	long long		 next_ms;	/* start the next attempt then */
	int			 err;		/* errno of the last failure */
	unsigned		 port;		/* for messages */
	net_note_fn		*note;
	void			*note_arg;
};

/*
 * Start connecting to the addresses in res, which the caller keeps until
 * connector_free().  note (may be NULL) hears of each attempt.
 */
void	connector_start(struct connector *c, const struct addrinfo *res,
	    unsigned port, net_note_fn *note, void *note_arg);
/*
 * Right after connector_start(): drop the addresses keep() refuses, so
 * that no attempt is ever made to them; returns how many are left.
 */
size_t	connector_keep(struct connector *c,
	    bool (*keep)(const struct addrinfo *, void *), void *arg);
/* Fill pfd (CONNECT_INFLIGHT_MAX slots at most); returns how many. */
size_t	connector_pollfds(const struct connector *c, struct pollfd *pfd);
/* When the next attempt is due, or CLOCK_NEVER. */
long long connector_timer(const struct connector *c);
/*
 * Act on poll()'s answer for the slots connector_pollfds() filled, and on
 * a due timer.  Returns the connected socket (non-blocking, close-on-exec,
 * TCP_NODELAY), -1 while still trying, or -2 when every address failed
 * (c->err holds the last errno).
 */
int	connector_events(struct connector *c, const struct pollfd *pfd,
	    size_t n);
/* Close every attempt still open. */
void	connector_free(struct connector *c);

/* "192.0.2.1:80" or "[2001:db8::1]:80" for a socket address. */
void	net_format_addr(const struct addrinfo *ai, unsigned port, char *buf,
	    size_t len);
#define NET_BACKLOG	4096	/* the kernel caps it at somaxconn */

/*
 * A listening TCP socket on the address literal addr and port
 * (non-blocking, close-on-exec, SO_REUSEADDR, IPv6 only for an IPv6
 * address), or -1 with errno.
 */
int	net_listen(const char *addr, unsigned port);
/* Set TCP_NODELAY; errors ignored (not every socket is TCP). */
void	net_nodelay(int fd);
/* Make fd non-blocking and close-on-exec; 0 or -1 with errno. */
int	net_own_fd(int fd);

#endif
