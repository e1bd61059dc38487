/*
 * net.c: non-blocking connection attempts, staggered across addresses.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "io/loop.h"
#include "io/net.h"
#include "route/target.h"
#include "util/clock.h"

void
net_nodelay(int fd)
{
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

int
net_own_fd(int fd)
{
	int fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
		return -1;
	return 0;
}

void
net_format_addr(const struct addrinfo *ai, unsigned port, char *buf,
    size_t len)
{
	char num[NI_MAXHOST];

	if (getnameinfo(ai->ai_addr, ai->ai_addrlen, num, sizeof(num), NULL,
	    0, NI_NUMERICHOST) != 0)
		(void)snprintf(num, sizeof(num), "?");
	target_format(num, port, buf, len);
}

static void
tell(struct connector *c, size_t idx, int err)
{
	char addr[NI_MAXHOST + 16];

	if (c->note == NULL)
		return;
	net_format_addr(c->order[idx], c->port, addr, sizeof(addr));
	c->note(c->note_arg, addr, err);
}

/*
 * RFC 8305 section 4: alternate the address families, starting with the
 * family of the first answer, keeping each family's order.
 */
static void
interleave(struct connector *c, const struct addrinfo *res)
{
	const struct addrinfo *ai, *a[CONNECT_ADDRS_MAX], *b[CONNECT_ADDRS_MAX];
	size_t na = 0, nb = 0, i, j;
	int first = res != NULL ? res->ai_family : AF_UNSPEC;

	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (ai->ai_family == first && na < CONNECT_ADDRS_MAX)
			a[na++] = ai;
		else if (ai->ai_family != first && nb < CONNECT_ADDRS_MAX)
			b[nb++] = ai;
	}
	c->naddr = 0;
	for (i = j = 0; (i < na || j < nb) && c->naddr < CONNECT_ADDRS_MAX;) {
		if (i < na)
			c->order[c->naddr++] = a[i++];
		if (j < nb && c->naddr < CONNECT_ADDRS_MAX)
			c->order[c->naddr++] = b[j++];
	}
}

void
connector_start(struct connector *c, const struct addrinfo *res,
    unsigned port, net_note_fn *note, void *note_arg)
{
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < CONNECT_INFLIGHT_MAX; i++)
		c->fd[i] = -1;
	c->port = port;
	c->note = note;
	c->note_arg = note_arg;
	c->err = EHOSTUNREACH;
	c->next_ms = clock_ms();	/* the first attempt is due now */
	interleave(c, res);
}

size_t
connector_keep(struct connector *c,
    bool (*keep)(const struct addrinfo *, void *), void *arg)
{
	size_t i, n = 0;

	for (i = 0; i < c->naddr; i++)
		if (keep(c->order[i], arg))
			c->order[n++] = c->order[i];
	c->naddr = n;
	return n;
}

static size_t
inflight(const struct connector *c)
{
	size_t i, n = 0;

	for (i = 0; i < CONNECT_INFLIGHT_MAX; i++)
		n += c->fd[i] != -1;
	return n;
}

static void
attempt_failed(struct connector *c, size_t slot, int err)
{
	c->err = err;
	tell(c, c->idx[slot], err);
	close(c->fd[slot]);
	c->fd[slot] = -1;
	c->next_ms = clock_ms();	/* a failure starts the next at once */
}

/*
 * Start the next address.  Returns the socket when it connected at once,
 * else -1 (in flight, failed, or nothing left).
 */
static int
start_next(struct connector *c)
{
	const struct addrinfo *ai;
	size_t slot;
	int fd;

	for (slot = 0; slot < CONNECT_INFLIGHT_MAX; slot++)
		if (c->fd[slot] == -1)
			break;
	if (slot == CONNECT_INFLIGHT_MAX || c->next >= c->naddr)
		return -1;
	c->idx[slot] = c->next;
	ai = c->order[c->next++];
	tell(c, c->idx[slot], 0);
	c->next_ms = clock_ms() + CONNECT_STAGGER_MS;
	if ((fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol))
	    == -1) {
		c->err = errno;
		tell(c, c->idx[slot], c->err);
		c->next_ms = clock_ms();
		return -1;
	}
	c->fd[slot] = fd;
	if (net_own_fd(fd) == -1) {
		attempt_failed(c, slot, errno);
		return -1;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
		c->fd[slot] = -1;
		return fd;
	}
	if (errno != EINPROGRESS && errno != EINTR)
		attempt_failed(c, slot, errno);
	return -1;
}

size_t
connector_pollfds(const struct connector *c, struct pollfd *pfd)
{
	size_t i, n = 0;

	for (i = 0; i < CONNECT_INFLIGHT_MAX; i++) {
		if (c->fd[i] != -1)
			n += pollfd_set(&pfd[n], c->fd[i], POLLOUT);
	}
	return n;
}

long long
connector_timer(const struct connector *c)
{
	if (c->next >= c->naddr || inflight(c) == CONNECT_INFLIGHT_MAX)
		return CLOCK_NEVER;
	return c->next_ms;
}

/* The socket of slot won: close the others. */
static int
won(struct connector *c, size_t slot)
{
	int fd = c->fd[slot];
	size_t i;

	c->fd[slot] = -1;
	for (i = 0; i < CONNECT_INFLIGHT_MAX; i++)
		if (c->fd[i] != -1) {
			close(c->fd[i]);
			c->fd[i] = -1;
		}
	net_nodelay(fd);
	return fd;
}

int
connector_events(struct connector *c, const struct pollfd *pfd, size_t n)
{
	size_t i, slot;
	int fd;

	for (i = 0; i < n; i++) {
		socklen_t len;
		int err;

		if (pfd[i].revents == 0)
			continue;
		for (slot = 0; slot < CONNECT_INFLIGHT_MAX; slot++)
			if (c->fd[slot] == pfd[i].fd)
				break;
		if (slot == CONNECT_INFLIGHT_MAX)
			continue;
		len = sizeof(err);
		if (getsockopt(pfd[i].fd, SOL_SOCKET, SO_ERROR, &err, &len)
		    == -1)
			err = errno;
		if (err == 0)
			return won(c, slot);
		attempt_failed(c, slot, err);
	}
	/* Start what is due; an address that fails at once starts the next. */
	while (c->next < c->naddr && inflight(c) < CONNECT_INFLIGHT_MAX &&
	    c->next_ms <= clock_ms()) {
		if ((fd = start_next(c)) != -1) {
			for (slot = 0; slot < CONNECT_INFLIGHT_MAX; slot++)
				if (c->fd[slot] != -1) {
					close(c->fd[slot]);
					c->fd[slot] = -1;
				}
			net_nodelay(fd);
			return fd;
		}
	}
	if (inflight(c) == 0 && c->next >= c->naddr)
		return -2;
	return -1;
}

void
connector_free(struct connector *c)
{
	size_t i;

	for (i = 0; i < CONNECT_INFLIGHT_MAX; i++)
		if (c->fd[i] != -1) {
			close(c->fd[i]);
			c->fd[i] = -1;
		}
}

int
net_listen(const char *addr, unsigned port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)(void *)&ss;
	socklen_t len;
	int one = 1, fd, err;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		len = sizeof(*s4);
	} else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		len = sizeof(*s6);
	} else {
		errno = EINVAL;
		return -1;
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM, 0)) == -1)
		return -1;
	if (net_own_fd(fd) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    (ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &one, sizeof(one)) == -1) ||
	    bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    listen(fd, NET_BACKLOG) == -1) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}
