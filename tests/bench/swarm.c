/*
 * swarm: many clients at once through a local forwarder (culvert -L or
 * -D, cntlm, socat), from one process and one epoll loop.
 *
 *   swarm [-w] [-5 HOST:PORT | -c HOST:PORT] echo N SIZE TIMEOUT FHOST FPORT
 *   swarm [-5 HOST:PORT | -c HOST:PORT] down N SIZE TIMEOUT FHOST FPORT
 *   swarm [-5 HOST:PORT | -c HOST:PORT] up N SIZE TIMEOUT FHOST FPORT
 *
 * All N connections to FHOST:FPORT are started at once (non-blocking
 * connects in one go).  With -5, each first asks for HOST:PORT with
 * SOCKS5 (no authentication, CONNECT, an IPv4 address); with -c, with
 * an HTTP CONNECT request (FHOST:FPORT is then an HTTP proxy).
 *
 *   echo  (an echo target behind the forwarder)  Set-up: each tunnel
 *         sends one byte and waits for it to come back.  Then each
 *         sends SIZE bytes and reads SIZE bytes back, all at once, and
 *         the connections are closed.  With -w, swarm waits for a line
 *         on stdin after set-up and again after the data, so the caller
 *         can look at the forwarder while every tunnel is open.
 *   down  (a source target)  each connection reads to EOF and must get
 *         exactly SIZE bytes
 *   up    (a sink target)  each connection sends SIZE bytes, shuts down
 *         its sending side and reads until EOF (the sink's count)
 *
 * Prints key=value lines on stdout: ok=0|1 (why=WORD when not), n, and
 * for echo one line per phase: phase=up (up=tunnels that came up,
 * failed, wall, rate per second, med_ms p90_ms max_ms of the set-up
 * times; tunnels not up by the deadline are dropped), phase=data (done,
 * wall, bytes each way, mib_s) and phase=closed; for down and up: t0
 * (CLOCK_MONOTONIC at the first connect), wall (down: to the last EOF
 * after SIZE bytes; up: to the last EOF after sending), bytes.  TIMEOUT
 * (seconds) bounds each phase.
 *
 * Bytes move without copies where Linux allows: vmsplice(2) of a buffer
 * that never changes into a pipe, splice(2) on to the socket; splice
 * from the socket into a pipe and on to /dev/null.  Both pipes are
 * shared and left empty after every call, so what a socket did not take
 * is thrown away: all bytes are the same pattern.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "benchlib.h"

#define CHUNK		(256 * 1024)
#define PIPE_SIZE	(1024 * 1024)
#define MAX_EVENTS	256
#define SOCKS_REPLY_MAX	(4 + 1 + 255 + 2)
#define HEAD_MAX	1024	/* the proxy's CONNECT response head */

enum mode { M_ECHO, M_DOWN, M_UP };

enum state {
	S_CONNECTING,
	S_GREET,	/* SOCKS5 greeting sent, method reply awaited */
	S_REQUEST,	/* SOCKS5 request sent, reply awaited */
	S_HEAD,		/* CONNECT sent, the response head awaited */
	S_PROBE,	/* one byte sent, its echo awaited */
	S_IDLE,		/* up, waiting for the data phase */
	S_DATA,
	S_DONE,
	S_FAILED,
	S_COUNT
};

struct conn {
	int		fd;
	enum state	st;
	uint32_t	events;		/* what epoll watches now */
	uint64_t	sent, got;
	int		shut;		/* up: SHUT_WR done */
	double		t_up;		/* seconds from t0 to the tunnel up */
	unsigned char	reply[HEAD_MAX];
	size_t		replylen;
};

static enum mode mode;
static struct conn *conns;
static size_t nconn;
static uint64_t size;
static int ep;
static int txpipe[2], rxpipe[2], devnull;
static int use_socks, use_connect;
static struct sockaddr_in socks_target;
static char connect_req[256];
static char pattern[CHUNK];
static const char *first_why;	/* why the first failed connection failed */
static size_t nstate[S_COUNT];	/* connections in each state */

static void
set_state(struct conn *c, enum state st)
{
	nstate[c->st]--;
	nstate[st]++;
	c->st = st;
}

static void
fail(struct conn *c, const char *why)
{
	if (c->st == S_FAILED || c->st == S_DONE)
		return;
	if (first_why == NULL)
		first_why = why;
	set_state(c, S_FAILED);
	(void)epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
}

static void
watch(struct conn *c, uint32_t events)
{
	struct epoll_event ev;

	if (c->events == events)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = c;
	(void)epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
	c->events = events;
}

/* Send a small message whole: 0, or -1 (the connection has failed). */
static int
send_small(struct conn *c, const void *p, size_t len, const char *why)
{
	if (send(c->fd, p, len, MSG_NOSIGNAL) != (ssize_t)len) {
		fail(c, why);
		return -1;
	}
	return 0;
}

/* The tunnel is open: probe it (echo) or start the transfer. */
static void
tunnel_open(struct conn *c)
{
	if (mode == M_ECHO) {
		if (send_small(c, "x", 1, "probe-send") == 0) {
			set_state(c, S_PROBE);
			watch(c, EPOLLIN);
		}
		return;
	}
	set_state(c, S_DATA);
	watch(c, mode == M_DOWN ? EPOLLIN : EPOLLOUT);
}

static void
connected(struct conn *c)
{
	static const unsigned char greet[] = { 5, 1, 0 };
	unsigned char req[10];

	if (use_connect) {
		if (send_small(c, connect_req, strlen(connect_req),
		    "connect-send") == 0) {
			set_state(c, S_HEAD);
			c->replylen = 0;
			watch(c, EPOLLIN);
		}
		return;
	}
	if (!use_socks) {
		tunnel_open(c);
		return;
	}
	if (c->st == S_CONNECTING) {
		if (send_small(c, greet, sizeof(greet), "socks-send") == 0) {
			set_state(c, S_GREET);
			watch(c, EPOLLIN);
		}
		return;
	}
	req[0] = 5;
	req[1] = 1;
	req[2] = 0;
	req[3] = 1;
	memcpy(req + 4, &socks_target.sin_addr, 4);
	memcpy(req + 8, &socks_target.sin_port, 2);
	if (send_small(c, req, sizeof(req), "socks-send") == 0) {
		set_state(c, S_REQUEST);
		c->replylen = 0;
	}
}

/*
 * Read the SOCKS5 method reply (2 bytes) or connect reply, never a byte
 * past it: the tunnel's first bytes may follow in the same segment.
 */
static void
socks_read(struct conn *c)
{
	size_t need;
	ssize_t n;

	if (c->st == S_GREET)
		need = 2;
	else if (c->replylen < 5)
		need = 5;
	else
		need = c->reply[3] == 1 ? 10 : c->reply[3] == 4 ? 22 :
		    (size_t)7 + c->reply[4];
	n = recv(c->fd, c->reply + c->replylen, need - c->replylen,
	    MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		fail(c, "socks-closed");
		return;
	}
	c->replylen += (size_t)n;
	if (c->replylen < need)
		return;
	if (c->st == S_GREET) {
		if (c->reply[0] != 5 || c->reply[1] != 0) {
			fail(c, "socks-method");
			return;
		}
		c->replylen = 0;
		connected(c);
		return;
	}
	if (c->replylen == 5)
		return;		/* now the length is known */
	if (c->reply[0] != 5 || c->reply[1] != 0) {
		fail(c, "socks-refused");
		return;
	}
	tunnel_open(c);
}

/*
 * Read the CONNECT response head, never a byte past it (a source target
 * sends at once): while the last bytes read match the first m bytes of
 * CRLF CRLF, at least 4 - m more belong to the head.
 */
static void
head_read(struct conn *c)
{
	static const char end[] = "\r\n\r\n";
	size_t m;
	ssize_t n;

	for (m = 3; m > 0; m--)
		if (c->replylen >= m &&
		    memcmp(c->reply + c->replylen - m, end, m) == 0)
			break;
	if (c->replylen + 4 - m >= sizeof(c->reply)) {
		fail(c, "head-too-long");
		return;
	}
	n = recv(c->fd, c->reply + c->replylen, 4 - m, MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		fail(c, "head-closed");
		return;
	}
	c->replylen += (size_t)n;
	if (c->replylen < 4 || memcmp(c->reply + c->replylen - 4, end, 4) != 0)
		return;
	/* "HTTP/1.x 2xx " */
	if (c->replylen < 13 || memcmp(c->reply, "HTTP/1.", 7) != 0 ||
	    c->reply[9] != '2') {
		fail(c, "connect-refused");
		return;
	}
	tunnel_open(c);
}

/* Take what the socket has to /dev/null: >0, 0 at EOF, -1 errno. */
static ssize_t
sink_some(struct conn *c)
{
	ssize_t n, m;

	n = splice(c->fd, NULL, rxpipe[1], NULL, PIPE_SIZE,
	    SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
	if (n == -1 && errno == EINVAL) {
		n = recv(c->fd, pattern, sizeof(pattern), MSG_DONTWAIT |
		    MSG_TRUNC);
		return n;
	}
	if (n <= 0)
		return n;
	for (m = n; m > 0; ) {
		ssize_t k = splice(rxpipe[0], NULL, devnull, NULL, (size_t)m,
		    SPLICE_F_MOVE);

		if (k <= 0) {
			if (k == -1 && errno == EINTR)
				continue;
			perror("swarm: splice to /dev/null");
			exit(1);
		}
		m -= k;
	}
	return n;
}

/* Send up to want bytes of pattern: >0, -1 errno. */
static ssize_t
send_some(struct conn *c, uint64_t want)
{
	struct iovec iov;
	ssize_t n, m, left;
	int e;

	iov.iov_base = pattern;
	iov.iov_len = want < CHUNK ? (size_t)want : CHUNK;
	n = vmsplice(txpipe[1], &iov, 1, 0);
	if (n <= 0)
		return send(c->fd, pattern, iov.iov_len, MSG_DONTWAIT |
		    MSG_NOSIGNAL);
	m = splice(txpipe[0], NULL, c->fd, NULL, (size_t)n,
	    SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
	e = errno;
	/* what the socket did not take goes: the pipe is shared */
	left = m > 0 ? n - m : n;
	while (left > 0) {
		ssize_t k = splice(txpipe[0], NULL, devnull, NULL,
		    (size_t)left, SPLICE_F_MOVE);

		if (k <= 0) {
			if (k == -1 && errno == EINTR)
				continue;
			perror("swarm: splice to /dev/null");
			exit(1);
		}
		left -= k;
	}
	errno = e;
	return m;
}

static void
data_step(struct conn *c, uint32_t ev, double now, double t0, double *tlast)
{
	ssize_t n;

	if ((ev & (EPOLLOUT | EPOLLERR)) && c->sent < size &&
	    mode != M_DOWN) {
		n = send_some(c, size - c->sent);
		if (n > 0)
			c->sent += (uint64_t)n;
		else if (n == -1 && errno != EAGAIN && errno != EINTR) {
			fail(c, "send");
			return;
		}
		if (c->sent == size) {
			if (mode == M_UP && !c->shut) {
				(void)shutdown(c->fd, SHUT_WR);
				c->shut = 1;
			}
			watch(c, EPOLLIN);
		}
	}
	if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		n = sink_some(c);
		if (n > 0) {
			c->got += (uint64_t)n;
			if (mode == M_UP || c->got < size)
				return;
			if (c->got > size) {
				fail(c, "long");
				return;
			}
			if (mode == M_DOWN)
				return;		/* EOF comes next */
		} else if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		else if (mode == M_UP && c->sent == size)
			;	/* EOF or a reset once all is sent: done */
		else if (n == 0 && mode == M_DOWN && c->got == size)
			;
		else {
			fail(c, n == 0 ? "short" : "recv");
			return;
		}
		/* echo: all back; down: EOF after size; up: EOF */
		set_state(c, S_DONE);
		*tlast = now - t0;
		(void)epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
		if (mode != M_ECHO) {
			close(c->fd);
			c->fd = -1;
		} else
			c->events = 0;
	}
}

static void
step(struct conn *c, uint32_t ev, double now, double t0, double *tlast)
{
	int err = 0;
	socklen_t len = sizeof(err);
	char b;
	ssize_t n;

	switch (c->st) {
	case S_CONNECTING:
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 ||
		    err != 0) {
			fail(c, err == ECONNREFUSED ? "refused" : "connect");
			return;
		}
		connected(c);
		return;
	case S_GREET:
	case S_REQUEST:
		socks_read(c);
		return;
	case S_HEAD:
		head_read(c);
		return;
	case S_PROBE:
		n = recv(c->fd, &b, 1, MSG_DONTWAIT);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n != 1) {
			fail(c, n == 0 ? "probe-closed" : "probe-recv");
			return;
		}
		c->t_up = now - t0;
		set_state(c, S_IDLE);
		*tlast = now - t0;
		return;
	case S_IDLE:
		fail(c, "closed-idle");
		return;
	case S_DATA:
		data_step(c, ev, now, t0, tlast);
		return;
	default:
		return;
	}
}

/* Run the loop until no connection is in a state below until. */
static int
run(enum state until, double deadline, double t0, double *tlast)
{
	struct epoll_event evs[MAX_EVENTS];
	size_t busy;
	int n, k, ms, st;
	double now;

	for (;;) {
		for (busy = 0, st = 0; st < (int)until; st++)
			busy += nstate[st];
		if (busy == 0)
			return 0;
		now = bench_now();
		if (now >= deadline)
			return -1;
		ms = (int)((deadline - now) * 1000) + 1;
		n = epoll_wait(ep, evs, MAX_EVENTS, ms);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			perror("swarm: epoll_wait");
			exit(1);
		}
		now = bench_now();
		for (k = 0; k < n; k++)
			step(evs[k].data.ptr, evs[k].events, now, t0, tlast);
	}
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
why_field(int timedout)
{
	if (timedout)
		printf(" ok=0 why=timeout");
	else if (first_why != NULL)
		printf(" ok=0 why=%s", first_why);
	else
		printf(" ok=1");
}

/* Wait for a line on stdin: 0, or -1 at EOF (the caller gave up). */
static int
wait_go(void)
{
	char line[64];

	fflush(stdout);
	return fgets(line, sizeof(line), stdin) == NULL ? -1 : 0;
}

static void
start_all(const struct sockaddr_in *fwd)
{
	struct epoll_event ev;
	size_t i;
	int one = 1;

	for (i = 0; i < nconn; i++) {
		struct conn *c = &conns[i];

		c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (c->fd == -1) {
			perror("swarm: socket");
			exit(1);
		}
		(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
		c->st = S_CONNECTING;
		nstate[S_CONNECTING]++;
		c->events = EPOLLOUT;
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLOUT;
		ev.data.ptr = c;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) == -1) {
			perror("swarm: epoll_ctl");
			exit(1);
		}
		if (connect(c->fd, (const struct sockaddr *)fwd,
		    sizeof(*fwd)) == 0)
			connected(c);
		else if (errno != EINPROGRESS)
			fail(c, errno == ECONNREFUSED ? "refused" : "connect");
	}
}

static int
run_echo(int wait, double timeout)
{
	double t0, tlast = 0, *v;
	size_t i, up, nv = 0;
	int to;

	t0 = bench_now();
	to = run(S_IDLE, t0 + timeout, t0, &tlast) == -1;
	for (i = 0; to && i < nconn; i++)
		if (conns[i].st < S_IDLE)
			fail(&conns[i], "timeout");
	up = nstate[S_IDLE];
	if ((v = calloc(nconn, sizeof(*v))) == NULL)
		exit(1);
	for (i = 0; i < nconn; i++)
		if (conns[i].st == S_IDLE)
			v[nv++] = conns[i].t_up;
	qsort(v, nv, sizeof(*v), cmp_double);
	printf("phase=up");
	why_field(to);
	printf(" n=%zu up=%zu failed=%zu wall=%.6f rate=%.1f med_ms=%.3f "
	    "p90_ms=%.3f max_ms=%.3f\n", nconn, up, nstate[S_FAILED], tlast,
	    tlast > 0 ? (double)up / tlast : 0.0,
	    nv ? v[nv / 2] * 1e3 : 0.0, nv ? v[nv * 9 / 10] * 1e3 : 0.0,
	    nv ? v[nv - 1] * 1e3 : 0.0);
	free(v);
	if (wait && wait_go() == -1)
		return 1;
	if (up == 0)
		return 1;

	for (i = 0; i < nconn; i++) {
		if (conns[i].st != S_IDLE)
			continue;
		set_state(&conns[i], S_DATA);
		watch(&conns[i], EPOLLIN | EPOLLOUT);
	}
	first_why = NULL;
	t0 = bench_now();
	tlast = 0;
	to = run(S_DONE, t0 + timeout, t0, &tlast) == -1;
	printf("phase=data");
	why_field(to);
	printf(" n=%zu done=%zu wall=%.6f bytes=%" PRIu64 " mib_s=%.1f\n",
	    up, nstate[S_DONE], tlast, (uint64_t)nstate[S_DONE] * size,
	    tlast > 0 ? (double)nstate[S_DONE] * (double)size / 1048576.0 /
	    tlast : 0.0);
	if (wait && wait_go() == -1)
		return 1;
	for (i = 0; i < nconn; i++)
		if (conns[i].fd != -1)
			close(conns[i].fd);
	printf("phase=closed\n");
	return to || first_why != NULL;
}

static int
run_transfer(double timeout)
{
	double t0, tlast = 0;
	uint64_t bytes = 0;
	size_t i;
	int to;

	t0 = bench_now();
	to = run(S_DONE, t0 + timeout, t0, &tlast) == -1;
	for (i = 0; i < nconn; i++) {
		bytes += mode == M_DOWN ? conns[i].got : conns[i].sent;
		if (conns[i].fd != -1)
			close(conns[i].fd);
	}
	printf("ok=%d%s%s n=%zu t0=%.6f wall=%.6f bytes=%" PRIu64 "\n",
	    !to && first_why == NULL, to || first_why ? " why=" : "",
	    to ? "timeout" : first_why ? first_why : "", nconn, t0, tlast,
	    bytes);
	return to || first_why != NULL;
}

static int
parse_addr(const char *host, const char *port, struct sockaddr_in *sin)
{
	char *end;
	unsigned long p;

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	errno = 0;
	p = strtoul(port, &end, 10);
	if (errno != 0 || *end != '\0' || p == 0 || p > 65535 ||
	    inet_pton(AF_INET, host, &sin->sin_addr) != 1)
		return -1;
	sin->sin_port = htons((uint16_t)p);
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: swarm [-w] [-5 HOST:PORT | -c HOST:PORT] "
	    "echo|down|up N SIZE TIMEOUT FHOST FPORT\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in fwd;
	struct rlimit rl;
	unsigned long long n;
	double timeout;
	char *end, *colon;
	int ch, wait = 0;

	while ((ch = getopt(argc, argv, "w5:c:")) != -1) {
		switch (ch) {
		case 'w':
			wait = 1;
			break;
		case '5':
			if ((colon = strrchr(optarg, ':')) == NULL)
				usage();
			*colon = '\0';
			if (parse_addr(optarg, colon + 1, &socks_target) == -1)
				usage();
			use_socks = 1;
			break;
		case 'c':
			if (strlen(optarg) > 64)
				usage();
			snprintf(connect_req, sizeof(connect_req),
			    "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n",
			    optarg, optarg);
			use_connect = 1;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 6 || (use_socks && use_connect))
		usage();
	if (strcmp(argv[0], "echo") == 0)
		mode = M_ECHO;
	else if (strcmp(argv[0], "down") == 0)
		mode = M_DOWN;
	else if (strcmp(argv[0], "up") == 0)
		mode = M_UP;
	else
		usage();
	errno = 0;
	n = strtoull(argv[1], &end, 10);
	if (errno != 0 || *end != '\0' || n == 0 || n > 1000000)
		usage();
	nconn = (size_t)n;
	size = strtoull(argv[2], &end, 10);
	if (*end != '\0' || size == 0)
		usage();
	timeout = strtod(argv[3], &end);
	if (*end != '\0' || timeout <= 0)
		usage();
	if (parse_addr(argv[4], argv[5], &fwd) == -1)
		usage();

	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* N sockets, a few more of our own */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (rlim_t)nconn + 16) {
		fprintf(stderr, "swarm: %zu connections need more descriptors "
		    "than the limit of %llu\n", nconn,
		    (unsigned long long)rl.rlim_cur);
		return 1;
	}
	memset(pattern, 'a', sizeof(pattern));
	if ((conns = calloc(nconn, sizeof(*conns))) == NULL ||
	    (ep = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    pipe2(txpipe, O_CLOEXEC) == -1 || pipe2(rxpipe, O_CLOEXEC) == -1 ||
	    (devnull = open("/dev/null", O_WRONLY | O_CLOEXEC)) == -1) {
		perror("swarm");
		return 1;
	}
	(void)fcntl(txpipe[1], F_SETPIPE_SZ, PIPE_SIZE);
	(void)fcntl(rxpipe[1], F_SETPIPE_SZ, PIPE_SIZE);
	start_all(&fwd);
	if (mode == M_ECHO)
		return run_echo(wait, timeout);
	return run_transfer(timeout);
}
