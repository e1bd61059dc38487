/*
 * target: the far end of the benchmark tunnels.
 *
 *   target source N   each connection gets N bytes, then the socket closes
 *   target http N     each connection's request (its head) is answered
 *                     with 200 and a body of N bytes, then the socket
 *                     closes: a fast web server, for what a proxy's own
 *                     path for answers can carry
 *   target sink       each connection is read to EOF; then one line
 *                     "COUNT T_EOF T_LAST STATUS" goes to stdout (T_EOF
 *                     and T_LAST are CLOCK_MONOTONIC seconds at EOF and
 *                     at the last byte, 0 when none came; STATUS ok or
 *                     the errno text), "COUNT\n" is sent back on the
 *                     socket and the socket closes
 *   target echo       each connection gets back what it sends
 *   target echo-many  the same for thousands of connections at once, all
 *                     in one process with epoll(7): fork(2) would cost
 *                     more than the tunnels under test
 *
 * Listens on 127.0.0.1 port 0 and prints the port on the first line of
 * stdout.  One process per connection, but for echo-many.  Bytes move
 * with vmsplice(2) and splice(2) where the kernel allows, so the target
 * costs little CPU and the client under test is the bottleneck.
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
#include <time.h>
#include <unistd.h>

#include "benchlib.h"

#define CHUNK	(1024 * 1024)
#define ECHO_PIPE	(256 * 1024)	/* per echo-many connection */

enum mode { MODE_SOURCE, MODE_HTTP, MODE_SINK, MODE_ECHO, MODE_ECHO_MANY };

static char chunk[CHUNK];

/* Send n bytes of pattern: vmsplice into a pipe, splice into the socket. */
static void
serve_source(int s, uint64_t n)
{
	int p[2];
	struct iovec iov;
	ssize_t m, k;
	size_t want;

	if (pipe2(p, 0) == -1)
		return;
	(void)fcntl(p[1], F_SETPIPE_SZ, CHUNK);
	while (n > 0) {
		want = n < CHUNK ? (size_t)n : CHUNK;
		iov.iov_base = chunk;
		iov.iov_len = want;
		m = vmsplice(p[1], &iov, 1, 0);
		if (m <= 0) {
			if (m == -1 && errno == EINTR)
				continue;
			/* no vmsplice: plain writes */
			if (bench_write_all(s, chunk, want) == -1)
				return;
			n -= want;
			continue;
		}
		while (m > 0) {
			k = splice(p[0], NULL, s, NULL, (size_t)m,
			    SPLICE_F_MOVE | (n > (uint64_t)m ? SPLICE_F_MORE : 0));
			if (k == -1) {
				if (errno == EINTR)
					continue;
				return;
			}
			m -= k;
			n -= (uint64_t)k;
		}
	}
}

/* Read a request head, then answer it with n bytes of pattern. */
static void
serve_http(int s, uint64_t n)
{
	char head[16384], answer[128];
	size_t len = 0;
	ssize_t m;
	int hl;

	while (len < sizeof(head) - 1) {
		m = read(s, head + len, sizeof(head) - 1 - len);
		if (m <= 0)
			return;
		len += (size_t)m;
		head[len] = '\0';
		if (strstr(head, "\r\n\r\n") != NULL)
			break;
	}
	hl = snprintf(answer, sizeof(answer), "HTTP/1.1 200 OK\r\n"
	    "Content-Length: %" PRIu64 "\r\nConnection: close\r\n\r\n", n);
	if (bench_write_all(s, answer, (size_t)hl) == 0)
		serve_source(s, n);
}

static void
serve_sink(int s)
{
	int p[2], devnull;
	uint64_t count = 0;
	ssize_t m, k;
	char line[128];
	int len, err = 0;
	double t, tlast = 0;

	devnull = open("/dev/null", O_WRONLY);
	if (pipe2(p, 0) == -1 || devnull == -1)
		return;
	(void)fcntl(p[1], F_SETPIPE_SZ, CHUNK);
	for (;;) {
		m = splice(s, NULL, p[1], NULL, CHUNK, SPLICE_F_MOVE);
		if (m == -1 && errno == EINTR)
			continue;
		if (m == -1 && errno == EINVAL) {
			m = read(s, chunk, sizeof(chunk));
			if (m > 0) {
				count += (uint64_t)m;
				tlast = bench_now();
				continue;
			}
		}
		if (m == -1) {
			err = errno;
			break;
		}
		if (m == 0)
			break;
		count += (uint64_t)m;
		tlast = bench_now();
		while (m > 0) {
			k = splice(p[0], NULL, devnull, NULL, (size_t)m,
			    SPLICE_F_MOVE);
			if (k == -1 && errno == EINTR)
				continue;
			if (k <= 0)
				return;
			m -= k;
		}
	}
	t = bench_now();
	len = snprintf(line, sizeof(line), "%" PRIu64 " %.6f %.6f %s\n", count,
	    t, tlast, err ? strerror(err) : "ok");
	if (len > 0)
		(void)bench_write_all(STDOUT_FILENO, line, (size_t)len);
	len = snprintf(line, sizeof(line), "%" PRIu64 "\n", count);
	if (len > 0)
		(void)bench_write_all(s, line, (size_t)len);
}

static void
serve_echo(int s)
{
	char buf[65536];
	ssize_t n;

	for (;;) {
		n = read(s, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (bench_write_all(s, buf, (size_t)n) == -1)
			break;
	}
	(void)shutdown(s, SHUT_WR);
}

/* One echo-many connection: bytes wait in its pipe until the socket takes them. */
struct echo_conn {
	int	fd;
	int	p[2];
	size_t	queued;
	int	eof;
	uint32_t events;
};

static void
echo_close(int ep, struct echo_conn *e)
{
	(void)epoll_ctl(ep, EPOLL_CTL_DEL, e->fd, NULL);
	close(e->fd);
	close(e->p[0]);
	close(e->p[1]);
	free(e);
}

static void
echo_watch(int ep, struct echo_conn *e, uint32_t events)
{
	struct epoll_event ev;

	if (e->events == events)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = e;
	(void)epoll_ctl(ep, EPOLL_CTL_MOD, e->fd, &ev);
	e->events = events;
}

/* Move what can move; 0, or -1 when the connection is finished. */
static int
echo_step(int ep, struct echo_conn *e)
{
	ssize_t n;

	if (!e->eof && e->queued < ECHO_PIPE) {
		n = splice(e->fd, NULL, e->p[1], NULL, ECHO_PIPE - e->queued,
		    SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
		if (n > 0)
			e->queued += (size_t)n;
		else if (n == 0)
			e->eof = 1;
		else if (errno != EAGAIN && errno != EINTR)
			return -1;
	}
	if (e->queued > 0) {
		n = splice(e->p[0], NULL, e->fd, NULL, e->queued,
		    SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
		if (n > 0)
			e->queued -= (size_t)n;
		else if (n == -1 && errno != EAGAIN && errno != EINTR)
			return -1;
	}
	if (e->eof && e->queued == 0)
		return -1;
	/* read while the pipe has room, wait for the socket while it is full */
	echo_watch(ep, e, (e->eof || e->queued >= ECHO_PIPE ? 0 : EPOLLIN) |
	    (e->queued > 0 ? EPOLLOUT : 0));
	return 0;
}

static void
serve_echo_many(int ls)
{
	struct epoll_event ev, evs[256];
	struct echo_conn *e;
	struct rlimit rl;
	int ep, n, i, s, one = 1;

	/* three descriptors a connection */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		perror("target: epoll");
		exit(1);
	}
	(void)fcntl(ls, F_SETFL, O_NONBLOCK);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;		/* the listening socket */
	(void)epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
	for (;;) {
		n = epoll_wait(ep, evs, 256, -1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			perror("target: epoll_wait");
			exit(1);
		}
		for (i = 0; i < n; i++) {
			if (evs[i].data.ptr != NULL) {
				e = evs[i].data.ptr;
				if (echo_step(ep, e) == -1)
					echo_close(ep, e);
				continue;
			}
			while ((s = accept4(ls, NULL, NULL, SOCK_NONBLOCK |
			    SOCK_CLOEXEC)) != -1) {
				if ((e = calloc(1, sizeof(*e))) == NULL ||
				    pipe2(e->p, O_NONBLOCK | O_CLOEXEC) == -1) {
					free(e);
					close(s);
					continue;
				}
				(void)fcntl(e->p[1], F_SETPIPE_SZ, ECHO_PIPE);
				(void)setsockopt(s, IPPROTO_TCP, TCP_NODELAY,
				    &one, sizeof(one));
				e->fd = s;
				e->events = EPOLLIN;
				memset(&ev, 0, sizeof(ev));
				ev.events = EPOLLIN;
				ev.data.ptr = e;
				if (epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev) == -1)
					echo_close(ep, e);
			}
		}
	}
}

int
main(int argc, char *argv[])
{
	unsigned int port;
	enum mode mode;
	uint64_t n = 0;
	char *end;
	int ls, s, one = 1;
	size_t i;

	if (argc >= 3 && (strcmp(argv[1], "source") == 0 ||
	    strcmp(argv[1], "http") == 0)) {
		mode = argv[1][0] == 's' ? MODE_SOURCE : MODE_HTTP;
		errno = 0;
		n = strtoull(argv[2], &end, 10);
		if (errno != 0 || *end != '\0') {
			fprintf(stderr, "target: bad count %s\n", argv[2]);
			return 2;
		}
	} else if (argc >= 2 && strcmp(argv[1], "sink") == 0)
		mode = MODE_SINK;
	else if (argc >= 2 && strcmp(argv[1], "echo") == 0)
		mode = MODE_ECHO;
	else if (argc >= 2 && strcmp(argv[1], "echo-many") == 0)
		mode = MODE_ECHO_MANY;
	else {
		fprintf(stderr, "usage: target source N | http N | sink | echo | "
		    "echo-many\n");
		return 2;
	}
	for (i = 0; i < sizeof(chunk); i++)
		chunk[i] = (char)('a' + i % 26);
	signal(SIGCHLD, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);

	if ((ls = bench_listen(&port)) == -1) {
		perror("target: listen");
		return 1;
	}
	printf("%u\n", port);
	fflush(stdout);
	if (mode == MODE_ECHO_MANY) {
		serve_echo_many(ls);
		return 1;
	}

	for (;;) {
		s = accept(ls, NULL, NULL);
		if (s == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("target: accept");
			return 1;
		}
		switch (fork()) {
		case -1:
			perror("target: fork");
			close(s);
			continue;
		case 0:
			close(ls);
			(void)setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one,
			    sizeof(one));
			if (mode == MODE_SOURCE)
				serve_source(s, n);
			else if (mode == MODE_HTTP)
				serve_http(s, n);
			else if (mode == MODE_SINK)
				serve_sink(s);
			else
				serve_echo(s);
			close(s);
			_exit(0);
		default:
			close(s);
		}
	}
}
