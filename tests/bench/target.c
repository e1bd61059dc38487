/*
 * target: the far end of the benchmark tunnels.
 *
 *   target source N   each connection gets N bytes, then the socket closes
 *   target sink       each connection is read to EOF; then one line
 *                     "COUNT T_EOF STATUS" goes to stdout (T_EOF is
 *                     CLOCK_MONOTONIC seconds at EOF, STATUS ok or the
 *                     errno text), "COUNT\n" is sent back on the socket
 *                     and the socket closes
 *   target echo       each connection gets back what it sends
 *
 * Listens on 127.0.0.1 port 0 and prints the port on the first line of
 * stdout.  One process per connection.  Bytes move with vmsplice(2) and
 * splice(2) where the kernel allows, so the target costs little CPU and
 * the client under test is the bottleneck.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/types.h>
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

enum mode { MODE_SOURCE, MODE_SINK, MODE_ECHO };

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

static void
serve_sink(int s)
{
	int p[2], devnull;
	uint64_t count = 0;
	ssize_t m, k;
	char line[128];
	int len, err = 0;
	double t;

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
	len = snprintf(line, sizeof(line), "%" PRIu64 " %.6f %s\n", count, t,
	    err ? strerror(err) : "ok");
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

int
main(int argc, char *argv[])
{
	unsigned int port;
	enum mode mode;
	uint64_t n = 0;
	char *end;
	int ls, s, one = 1;
	size_t i;

	if (argc >= 3 && strcmp(argv[1], "source") == 0) {
		mode = MODE_SOURCE;
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
	else {
		fprintf(stderr, "usage: target source N | sink | echo\n");
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
