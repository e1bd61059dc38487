/*
 * test_net.c: connecting without blocking (io/net.h) and resolving
 * through a pollable completion (io/resolve.h), against listeners this
 * test makes on loopback.  TAP.
 *
 * The stalled address is a listener whose backlog is full: the kernel
 * drops further SYNs, so a connection to it neither succeeds nor fails,
 * like an IPv6 route that goes nowhere.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "io/net.h"
#include "io/resolve.h"
#include "util/clock.h"

static int t, failed;

static void
result(bool ok, const char *what, const char *detail)
{
	if (ok)
		printf("ok %d - %s\n", ++t, what);
	else {
		failed = 1;
		printf("not ok %d - %s%s%s\n", ++t, what, detail ? ": " : "",
		    detail ? detail : "");
	}
}

/* A listener on addr (family af); its port goes to *port. */
static int
listener(int af, const char *addr, int backlog, unsigned *port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	memset(&ss, 0, sizeof(ss));
	if (af == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		in->sin_family = AF_INET;
		inet_pton(AF_INET, addr, &in->sin_addr);
		len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		in6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, addr, &in6->sin6_addr);
		len = sizeof(*in6);
	}
	if ((fd = socket(af, SOCK_STREAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    listen(fd, backlog) == -1)
		return -1;
	len = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &len);
	*port = ntohs(af == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port :
	    ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

/* Fill a listener's backlog so that further SYNs are dropped. */
static void
stall(int af, const char *addr, unsigned port, int *fds, int n)
{
	struct addrinfo hints, *res;
	char p[8];
	int i;

	snprintf(p, sizeof(p), "%u", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = af;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST;
	if (getaddrinfo(addr, p, &hints, &res) != 0)
		return;
	for (i = 0; i < n; i++) {
		fds[i] = socket(af, SOCK_STREAM, 0);
		fcntl(fds[i], F_SETFL, O_NONBLOCK);
		(void)connect(fds[i], res->ai_addr, res->ai_addrlen);
	}
	freeaddrinfo(res);
	poll(NULL, 0, 100);	/* let the handshakes settle */
}

static struct addrinfo *
numeric(const char *addr, unsigned port)
{
	struct addrinfo hints, *res = NULL;
	char p[8];

	snprintf(p, sizeof(p), "%u", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	(void)getaddrinfo(addr, p, &hints, &res);
	return res;
}

/* Run a connector to its end; returns the fd or -2, and the time. */
static int
run(struct connector *c, long long *ms)
{
	struct pollfd pfd[CONNECT_INFLIGHT_MAX];
	long long start = clock_ms(), deadline = start + 5000;
	size_t n;
	int fd = connector_events(c, NULL, 0);

	while (fd == -1 && clock_ms() < deadline) {
		n = connector_pollfds(c, pfd);
		poll(pfd, n, timer_poll_ms(timer_min(connector_timer(c),
		    deadline)));
		fd = connector_events(c, pfd, n);
	}
	*ms = clock_ms() - start;
	return fd;
}

static unsigned
peer_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getpeername(fd, (struct sockaddr *)&ss, &len) == -1)
		return 0;
	return ntohs(ss.ss_family == AF_INET ?
	    ((struct sockaddr_in *)&ss)->sin_port :
	    ((struct sockaddr_in6 *)&ss)->sin6_port);
}

static void
test_stagger(void)
{
	int stalled[8], good, slow, fd;
	unsigned slow_port, good_port;
	struct addrinfo *a, *b;
	struct connector c;
	long long ms;
	char detail[128];

	slow = listener(AF_INET6, "::1", 0, &slow_port);
	good = listener(AF_INET, "127.0.0.1", 16, &good_port);
	if (slow == -1 || good == -1) {
		/* No IPv6 loopback: stall an IPv4 one instead. */
		if (slow != -1)
			close(slow);
		slow = listener(AF_INET, "127.0.0.2", 0, &slow_port);
		stall(AF_INET, "127.0.0.2", slow_port, stalled, 8);
		a = numeric("127.0.0.2", slow_port);
	} else {
		stall(AF_INET6, "::1", slow_port, stalled, 8);
		a = numeric("::1", slow_port);
	}
	b = numeric("127.0.0.1", good_port);
	if (a == NULL || b == NULL) {
		result(false, "addresses for the stagger test", NULL);
		return;
	}
	a->ai_next = b;		/* the stalled address first */
	connector_start(&c, a, 0, NULL, NULL);
	fd = run(&c, &ms);
	snprintf(detail, sizeof(detail), "fd %d after %lld ms", fd, ms);
	result(fd >= 0 && peer_port(fd) == good_port,
	    "a stalled first address gives way to the next one", detail);
	result(ms >= CONNECT_STAGGER_MS - 20 && ms < CONNECT_STAGGER_MS + 700,
	    "the next attempt starts 250 ms after the first, not at its "
	    "failure", detail);
	connector_free(&c);
	if (fd >= 0)
		close(fd);
	a->ai_next = NULL;
	freeaddrinfo(a);
	freeaddrinfo(b);
	close(slow);
	close(good);
}

static void
test_refused_moves_on(void)
{
	int good, closed, fd;
	unsigned good_port, closed_port;
	struct addrinfo *a, *b;
	struct connector c;
	long long ms;
	char detail[128];

	closed = listener(AF_INET, "127.0.0.1", 1, &closed_port);
	close(closed);		/* nobody listens there now */
	good = listener(AF_INET, "127.0.0.1", 16, &good_port);
	a = numeric("127.0.0.1", closed_port);
	b = numeric("127.0.0.1", good_port);
	a->ai_next = b;
	connector_start(&c, a, 0, NULL, NULL);
	fd = run(&c, &ms);
	snprintf(detail, sizeof(detail), "fd %d after %lld ms", fd, ms);
	result(fd >= 0 && peer_port(fd) == good_port && ms < 200,
	    "a refused address moves on at once, without the 250 ms wait",
	    detail);
	connector_free(&c);
	if (fd >= 0)
		close(fd);
	a->ai_next = NULL;
	freeaddrinfo(a);
	freeaddrinfo(b);

	closed = listener(AF_INET, "127.0.0.1", 1, &closed_port);
	close(closed);
	a = numeric("127.0.0.1", closed_port);
	connector_start(&c, a, 0, NULL, NULL);
	fd = run(&c, &ms);
	result(fd == -2 && c.err == ECONNREFUSED,
	    "every address refused ends with -2 and ECONNREFUSED", NULL);
	connector_free(&c);
	freeaddrinfo(a);
	close(good);
}

static void
test_interleave(void)
{
	struct addrinfo *v6a = numeric("2001:db8::1", 1),
	    *v6b = numeric("2001:db8::2", 1), *v4a = numeric("192.0.2.1", 1),
	    *v4b = numeric("192.0.2.2", 1);
	struct connector c;
	char got[200], one[64];
	size_t i;

	v6a->ai_next = v6b;
	v6b->ai_next = v4a;
	v4a->ai_next = v4b;
	connector_start(&c, v6a, 1, NULL, NULL);
	got[0] = '\0';
	for (i = 0; i < c.naddr; i++) {
		net_format_addr(c.order[i], 1, one, sizeof(one));
		strncat(got, one, sizeof(got) - strlen(got) - 2);
		strncat(got, " ", sizeof(got) - strlen(got) - 1);
	}
	result(strcmp(got, "[2001:db8::1]:1 192.0.2.1:1 [2001:db8::2]:1 "
	    "192.0.2.2:1 ") == 0, "addresses alternate families, first "
	    "family first (RFC 8305)", got);
	connector_free(&c);
	v6a->ai_next = v6b->ai_next = v4a->ai_next = NULL;
	freeaddrinfo(v6a);
	freeaddrinfo(v6b);
	freeaddrinfo(v4a);
	freeaddrinfo(v4b);
}

static void
test_resolve(void)
{
	struct addrinfo *res = NULL;
	struct resolve *r;
	struct pollfd pfd;
	int rc;

	r = resolve_start("192.0.2.7", 80, AF_UNSPEC);
	result(r != NULL && resolve_fd(r) == -1,
	    "an address literal is answered at once, without a thread", NULL);
	rc = resolve_finish(r, &res);
	result(rc == 0 && res != NULL && res->ai_family == AF_INET,
	    "and its answer is the address", NULL);
	if (res != NULL)
		freeaddrinfo(res);

	r = resolve_start("localhost", 80, AF_UNSPEC);
	if (resolve_fd(r) != -1) {
		pfd.fd = resolve_fd(r);
		pfd.events = POLLIN;
		rc = poll(&pfd, 1, 5000);
		result(rc == 1, "a name's answer is announced on its descriptor",
		    NULL);
	} else
		result(true, "a name's answer is announced on its descriptor "
		    "(answered inline: no thread could start)", NULL);
	res = NULL;
	rc = resolve_finish(r, &res);
	result(rc == 0 && res != NULL, "localhost resolves", gai_strerror(rc));
	if (res != NULL)
		freeaddrinfo(res);

	/* Abandoned lookups clean up after themselves (ASan checks leaks). */
	r = resolve_start("localhost", 80, AF_UNSPEC);
	resolve_cancel(r);
	result(true, "a lookup can be abandoned while it runs", NULL);
	poll(NULL, 0, 200);	/* let the abandoned thread finish */
}

int
main(void)
{
	test_interleave();
	test_stagger();
	test_refused_moves_on();
	test_resolve();
	printf("1..%d\n", t);
	return failed;
}
