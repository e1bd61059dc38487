/*
 * tunnel.c: the blocking handshake driver.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"
#include "io/tunnel.h"

#define HS_MAX_CONNECTS	4	/* first connection and reconnects */
#define PEEK_SIZE	16384

/* Send all of h->out before the deadline. */
static int
send_out(int fd, struct handshake *h, const struct deadline *d,
    struct failure *f)
{
	size_t off = 0;

	hs_log_out(h);
	while (off < h->out.len) {
		ssize_t n = send(fd, h->out.data + off, h->out.len - off,
		    MSG_NOSIGNAL);

		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR)) {
			int r = net_wait(fd, POLLOUT, d);

			if (r == 1)
				continue;
			if (r == 0) {
				failure_set(f, EXIT_TIMEOUT, "timed out "
				    "sending the request to the proxy");
				return -1;
			}
		}
		failure_set(f, EXIT_UNREACH, "cannot send to the proxy: %s",
		    strerror(errno));
		return -1;
	}
	/* The request may hold credentials: clear it once sent. */
	memset(h->out.data, 0, h->out.len);
	h->out.len = 0;
	return 0;
}

/*
 * Wait until the socket holds more than `have` bytes (or EOF), so an
 * engine that left a partial message unconsumed is not offered the same
 * bytes again and again.
 */
static void
set_lowat(int fd, size_t have, size_t *cur)
{
	int v = (int)(have + 1);

	if (have + 1 == *cur)
		return;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof(v)) == 0)
		*cur = have + 1;
}

/* Run the handshake on fd until it is done, fails or wants a new fd. */
static enum step
converse(int fd, struct handshake *h, enum step s, const struct deadline *d,
    struct failure *f)
{
	unsigned char buf[PEEK_SIZE];
	size_t lowat = 1, left = 0;

	for (;;) {
		ssize_t n;
		size_t used;
		bool eof = false;
		int r;

		if (s == STEP_SEND) {
			if (send_out(fd, h, d, f) == -1)
				return STEP_FAIL;
		} else if (s != STEP_NEED)
			return s;

		r = net_wait(fd, POLLIN, d);
		if (r == 0) {
			failure_set(f, EXIT_TIMEOUT, "timed out waiting for "
			    "the proxy's answer (raise --timeout, or check "
			    "that this is a proxy)");
			return STEP_FAIL;
		}
		n = recv(fd, buf, sizeof(buf), MSG_PEEK);
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			if (errno != ECONNRESET) {
				failure_set(f, EXIT_PROTO, "reading the "
				    "proxy's answer: %s", strerror(errno));
				return STEP_FAIL;
			}
			n = 0;	/* a reset reads as a premature end */
		}
		/*
		 * With SO_RCVLOWAT raised, readable without new bytes means
		 * the proxy closed after part of a reply.
		 */
		if (n == 0 || (lowat > 1 && (size_t)n <= left))
			eof = true;
		s = hs_input(h, buf, (size_t)n, eof, &used);
		left = (size_t)n - used;	/* offered, not consumed */
		/* Take exactly what the engine consumed off the socket. */
		while (used > 0) {
			ssize_t m = recv(fd, buf, used, 0);

			if (m <= 0) {
				if (m == -1 && errno == EINTR)
					continue;
				failure_set(f, EXIT_PROTO, "reading the "
				    "proxy's answer: %s", m == 0 ?
				    "connection closed" : strerror(errno));
				return STEP_FAIL;
			}
			used -= (size_t)m;
		}
		if (s == STEP_FAIL)
			*f = h->fail;
		set_lowat(fd, s == STEP_NEED && !eof ? left : 0, &lowat);
		if (eof && (s == STEP_NEED || s == STEP_SEND)) {
			failure_set(f, EXIT_PROTO, "proxy closed the "
			    "connection during the handshake");
			return STEP_FAIL;
		}
	}
}

/*
 * socks4:// and socks5:// send an address, so the name is resolved here
 * (socks4a:// and socks5h:// let the proxy resolve it).
 */
static int
resolve_target(struct hs_params *p, const struct deadline *d,
    struct failure *f)
{
	struct addrinfo *res;
	int family;

	if (p->proxy->scheme != SCHEME_SOCKS4 &&
	    p->proxy->scheme != SCHEME_SOCKS5)
		return 0;
	family = p->proxy->scheme == SCHEME_SOCKS4 ? AF_INET : AF_UNSPEC;
	if (net_resolve(p->target->host, p->target->port, family, SOCK_STREAM,
	    "target", d, &res, f) == -1)
		return -1;
	if (res->ai_family == AF_INET) {
		memcpy(p->addr, &((struct sockaddr_in *)(void *)res->ai_addr)->
		    sin_addr, 4);
		p->addrlen = 4;
	} else {
		memcpy(p->addr, &((struct sockaddr_in6 *)(void *)res->ai_addr)->
		    sin6_addr, 16);
		p->addrlen = 16;
	}
	freeaddrinfo(res);
	log_info("resolved %s locally (use socks5h:// or socks4a:// to let "
	    "the proxy resolve names)", p->target->host);
	return 0;
}

int
tunnel_open(const struct hs_params *params, int family,
    const struct deadline *d, struct failure *f)
{
	struct hs_params lp = *params, *p = &lp;
	struct handshake h;
	enum step s;
	int fd = -1, connects;

	if (p->proxy == NULL)
		return net_connect(p->target->host, p->target->port, family,
		    "target", d, f);
	if (resolve_target(p, d, f) == -1)
		return -1;

	s = hs_start(&h, p);
	for (connects = 1; ; connects++) {
		if (s == STEP_FAIL) {
			*f = h.fail;
			break;
		}
		fd = net_connect(p->proxy->host, p->proxy->port, family,
		    "proxy", d, f);
		if (fd == -1)
			break;
		log_info("connected; sending %s handshake",
		    proxy_scheme_name(p->proxy->scheme));
		s = converse(fd, &h, s, d, f);
		if (s == STEP_DONE)
			break;
		close(fd);
		fd = -1;
		if (s != STEP_RECONNECT)
			break;
		if (connects == HS_MAX_CONNECTS) {
			failure_set(f, EXIT_AUTH, "proxy closed the connection "
			    "%d times during authentication", connects);
			break;
		}
		log_info("proxy closed the connection; reconnecting");
		s = hs_restart(&h);
	}
	hs_free(&h);
	return fd;
}
