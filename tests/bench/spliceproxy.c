/*
 * spliceproxy: a fast HTTP CONNECT proxy for loopback benchmarks.
 *
 *   spliceproxy [-t] [PORTFILE]
 *
 * Listens on 127.0.0.1 port 0 and writes the port to PORTFILE (or to
 * stdout).  Per connection: read the request head up to the blank line,
 * connect to the CONNECT target, answer "200 Connection established",
 * then relay both ways with splice(2) through one pipe per direction, one
 * process per direction (-t: one thread per direction, in one process,
 * for a thousand tunnels at once: fork(2) costs milliseconds on small
 * VMs).  EOF in one direction becomes shutdown(SHUT_WR) on the other
 * socket; the tunnel stays open until both directions end, so half-closed
 * tunnels work.  Anything but CONNECT host:port gets 400, a failed
 * connect 502.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "benchlib.h"

#define HEAD_MAX	8192
#define PIPE_SIZE	(1024 * 1024)
#define STACK_SIZE	(256 * 1024)

static int use_threads;

static const char ok_reply[] = "HTTP/1.1 200 Connection established\r\n\r\n";

static void
reply(int s, const char *status)
{
	char buf[256];
	int n;

	n = snprintf(buf, sizeof(buf), "HTTP/1.1 %s\r\nContent-Length: 0\r\n"
	    "Connection: close\r\n\r\n", status);
	if (n > 0)
		(void)bench_write_all(s, buf, (size_t)n);
}

/* Connect to "host:port" ("[v6]:port" too); returns a socket or -1. */
static int
dial(char *hostport)
{
	char *host = hostport, *port, *end;

	port = strrchr(hostport, ':');
	if (port == NULL)
		return -1;
	*port++ = '\0';
	if (*host == '[') {
		host++;
		end = strchr(host, ']');
		if (end == NULL)
			return -1;
		*end = '\0';
	}
	return bench_dial(host, port, NULL);
}

/*
 * Move bytes from socket in to socket out until EOF on in, then shut
 * down out for writing.  A failed write shuts in down for reading, so
 * the sender learns of it.
 */
static void
pump(int in, int out)
{
	int p[2];
	ssize_t n, m;

	if (pipe2(p, O_CLOEXEC) == -1) {
		(void)shutdown(out, SHUT_WR);
		return;
	}
	(void)fcntl(p[1], F_SETPIPE_SZ, PIPE_SIZE);
	for (;;) {
		n = splice(in, NULL, p[1], NULL, PIPE_SIZE, SPLICE_F_MOVE);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		while (n > 0) {
			m = splice(p[0], NULL, out, NULL, (size_t)n,
			    SPLICE_F_MOVE);
			if (m == -1 && errno == EINTR)
				continue;
			if (m <= 0) {
				(void)shutdown(in, SHUT_RD);
				goto out;
			}
			n -= m;
		}
	}
	(void)shutdown(out, SHUT_WR);
out:
	/* with -t the process lives on: the pipe must go */
	close(p[0]);
	close(p[1]);
}

struct pump_args {
	int	in, out;
};

static void *
pump_thread(void *arg)
{
	struct pump_args *a = arg;

	pump(a->in, a->out);
	return NULL;
}

/* Both directions of a tunnel: a second thread or process for t -> c. */
static void
relay(int c, int t)
{
	struct pump_args a = { t, c };
	pthread_attr_t attr;
	pthread_t th;
	pid_t pid;

	if (use_threads) {
		(void)pthread_attr_init(&attr);
		(void)pthread_attr_setstacksize(&attr, STACK_SIZE);
		if (pthread_create(&th, &attr, pump_thread, &a) != 0)
			return;
		pump(c, t);
		(void)pthread_join(th, NULL);
		return;
	}
	pid = fork();
	if (pid == -1)
		return;
	if (pid == 0) {
		pump(t, c);
		_exit(0);
	}
	pump(c, t);
	while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
		;
}

static void
serve(int c)
{
	char head[HEAD_MAX + 1], target[HEAD_MAX];
	size_t len = 0;
	ssize_t n;
	char *eoh = NULL, *sp;
	size_t extra;
	int t, one = 1;

	(void)setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	while (eoh == NULL) {
		if (len == HEAD_MAX) {
			reply(c, "431 Request Header Fields Too Large");
			return;
		}
		n = read(c, head + len, HEAD_MAX - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		len += (size_t)n;
		head[len] = '\0';
		eoh = strstr(head, "\r\n\r\n");
	}
	if (strncmp(head, "CONNECT ", 8) != 0 ||
	    (sp = strchr(head + 8, ' ')) == NULL ||
	    (size_t)(sp - (head + 8)) >= sizeof(target)) {
		reply(c, "400 Bad Request");
		return;
	}
	memcpy(target, head + 8, (size_t)(sp - (head + 8)));
	target[sp - (head + 8)] = '\0';
	if ((t = dial(target)) == -1) {
		reply(c, "502 Bad Gateway");
		return;
	}
	/* tunnel bytes the client sent right behind its head */
	extra = len - (size_t)(eoh + 4 - head);
	if (bench_write_all(c, ok_reply, sizeof(ok_reply) - 1) == 0 &&
	    (extra == 0 || bench_write_all(t, eoh + 4, extra) == 0))
		relay(c, t);
	close(t);
}

static void *
serve_thread(void *arg)
{
	int c = (int)(intptr_t)arg;

	serve(c);
	close(c);
	return NULL;
}

int
main(int argc, char *argv[])
{
	pthread_attr_t attr;
	pthread_t th;
	struct rlimit rl;
	unsigned int port;
	FILE *fp;
	int ls, c;

	if (argc > 1 && strcmp(argv[1], "-t") == 0) {
		use_threads = 1;
		argc--;
		argv++;
		/* six descriptors a tunnel, all in this process */
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
			rl.rlim_cur = rl.rlim_max;
			(void)setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_IGN);
	(void)pthread_attr_init(&attr);
	(void)pthread_attr_setstacksize(&attr, STACK_SIZE);
	(void)pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if ((ls = bench_listen(&port)) == -1) {
		perror("spliceproxy: listen");
		return 1;
	}
	if (argc > 1) {
		/* write then rename, so a reader never sees a partial file */
		char tmp[4096];

		snprintf(tmp, sizeof(tmp), "%s.tmp", argv[1]);
		if ((fp = fopen(tmp, "w")) == NULL) {
			perror(tmp);
			return 1;
		}
		fprintf(fp, "%u\n", port);
		if (fclose(fp) != 0 || rename(tmp, argv[1]) == -1) {
			perror(argv[1]);
			return 1;
		}
	} else {
		printf("%u\n", port);
		fflush(stdout);
	}

	for (;;) {
		c = accept(ls, NULL, NULL);
		if (c == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE) {
				/* out of descriptors: let tunnels end */
				usleep(10000);
				continue;
			}
			perror("spliceproxy: accept");
			return 1;
		}
		if (use_threads) {
			if (pthread_create(&th, &attr, serve_thread,
			    (void *)(intptr_t)c) != 0)
				close(c);
			continue;
		}
		switch (fork()) {
		case -1:
			close(c);
			continue;
		case 0:
			close(ls);
			/* the per-connection process waits for its pump child */
			signal(SIGCHLD, SIG_DFL);
			serve(c);
			_exit(0);
		default:
			close(c);
		}
	}
}
