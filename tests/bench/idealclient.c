/*
 * idealclient: the benchmark reference.  Does what culvert does in its
 * default mode, as cheaply as Linux allows, and nothing else:
 *
 *   idealclient PROXYHOST PROXYPORT HOST PORT
 *
 * Connects to the proxy, sends CONNECT, reads the response head exactly
 * (MSG_PEEK, then a read of just the head, so no tunnel byte is taken),
 * then relays stdin -> socket and socket -> stdout with splice(2) and
 * poll(2).  A pipe on stdin or stdout is spliced directly (and enlarged
 * with F_SETPIPE_SZ); a regular file on stdin goes out with sendfile(2);
 * anything else goes through a private 1 MiB pipe.
 * EOF on stdin shuts the socket down for writing; EOF on the socket ends
 * the program.  O_NONBLOCK is never set on the inherited stdio:
 * SPLICE_F_NONBLOCK makes the pipe end non-blocking per call instead.
 * Exit 0 on a normal end, 1 on errors.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/types.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "benchlib.h"

#define PIPE_SIZE	(1024 * 1024)
#define SPLICE_MAX	(16 * 1024 * 1024)
#define HEAD_MAX	16384

/*
 * One direction.  With a mid pipe: src -> mid (stage 1), mid -> dst
 * (stage 2); without one, src or dst is itself a pipe and a single
 * splice moves the bytes.  need_out: the last attempt found dst full.
 */
struct dir {
	int	src, dst;
	int	mid[2];		/* -1 when src or dst is a pipe */
	int	sendfile;	/* src is a regular file: sendfile(2) */
	size_t	queued;		/* bytes waiting in mid */
	int	need_out;
	int	eof;		/* src ended */
	int	done;
};

static int
is_pipe(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
}

static int
is_file(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

static void
dir_init(struct dir *d, int src, int dst)
{
	memset(d, 0, sizeof(*d));
	d->src = src;
	d->dst = dst;
	d->mid[0] = d->mid[1] = -1;
	if (is_file(src))
		d->sendfile = 1;	/* one call a chunk, no pipe */
	else if (is_pipe(src))
		(void)fcntl(src, F_SETPIPE_SZ, PIPE_SIZE);
	else if (is_pipe(dst))
		(void)fcntl(dst, F_SETPIPE_SZ, PIPE_SIZE);
	else {
		if (pipe2(d->mid, O_CLOEXEC) == -1) {
			perror("idealclient: pipe");
			exit(1);
		}
		(void)fcntl(d->mid[1], F_SETPIPE_SZ, PIPE_SIZE);
	}
}

/*
 * Read the response head and nothing more: peek, scan for CRLFCRLF
 * (the match state survives across reads), consume exactly what was
 * scanned.  Returns 0 on a 2xx status.
 */
static int
read_head(int s)
{
	static const char term[] = "\r\n\r\n";
	char buf[HEAD_MAX + 1], status[16];
	size_t total = 0, i, take, state = 0, keep = 0;
	ssize_t n;

	for (;;) {
		n = recv(s, buf + keep, HEAD_MAX - keep, MSG_PEEK);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "idealclient: proxy closed\n");
			return -1;
		}
		take = (size_t)n;
		for (i = 0; i < (size_t)n; i++) {
			state = buf[keep + i] == term[state] ? state + 1 :
			    (buf[keep + i] == '\r' ? 1 : 0);
			if (state == 4) {
				take = i + 1;
				break;
			}
		}
		if (recv(s, buf + keep, take, 0) != (ssize_t)take)
			return -1;
		total += take;
		/* keep the first bytes for the status line */
		if (keep < sizeof(status))
			keep += take < sizeof(status) - keep ? take :
			    sizeof(status) - keep;
		if (state == 4)
			break;
		if (total >= HEAD_MAX) {
			fprintf(stderr, "idealclient: head too long\n");
			return -1;
		}
	}
	if (keep < 12 || strncmp(buf, "HTTP/1.", 7) != 0 || buf[9] != '2') {
		fprintf(stderr, "idealclient: proxy refused: %.12s\n", buf);
		return -1;
	}
	return 0;
}

/* Move what can move now; returns -1 on a fatal error. */
static int
dir_step(struct dir *d, short srcev, short dstev, int s)
{
	ssize_t n;
	unsigned int fl = SPLICE_F_NONBLOCK | SPLICE_F_MOVE;

	if (d->mid[0] == -1) {
		/* a pipe at one end, or sendfile from a regular file */
		if (!(srcev || dstev))
			return 0;
		if (d->sendfile)
			n = sendfile(d->dst, d->src, NULL, SPLICE_MAX);
		else
			n = splice(d->src, NULL, d->dst, NULL, SPLICE_MAX, fl);
		if (n > 0) {
			d->need_out = 0;
			return 0;
		}
		if (n == 0) {
			d->eof = d->done = 1;
			return 0;
		}
		if (errno == EAGAIN) {
			/* readable src but no progress: dst is full */
			d->need_out = srcev != 0;
			return 0;
		}
		if (errno == EINTR)
			return 0;
		return -1;
	}
	if (srcev && !d->eof) {
		n = splice(d->src, NULL, d->mid[1], NULL, PIPE_SIZE - d->queued,
		    fl);
		if (n > 0)
			d->queued += (size_t)n;
		else if (n == 0)
			d->eof = 1;
		else if (errno != EAGAIN && errno != EINTR)
			return -1;
	}
	if (d->queued > 0 && (dstev || srcev)) {
		n = splice(d->mid[0], NULL, d->dst, NULL, d->queued, fl);
		if (n > 0) {
			d->queued -= (size_t)n;
			d->need_out = d->queued > 0;
		} else if (n == -1 && errno == EAGAIN)
			d->need_out = 1;
		else if (n == -1 && errno != EINTR)
			return -1;
	}
	if (d->eof && d->queued == 0)
		d->done = 1;
	(void)s;
	return 0;
}

int
main(int argc, char *argv[])
{
	struct dir up, down;
	struct pollfd pfd[4];	/* up src, up dst, down src, down dst */
	char req[1024];
	const char *why;
	int s, n, fl;

	if (argc != 5) {
		fprintf(stderr, "usage: idealclient PROXYHOST PROXYPORT HOST PORT\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if ((s = bench_dial(argv[1], argv[2], &why)) == -1) {
		fprintf(stderr, "idealclient: %s port %s: %s\n", argv[1], argv[2],
		    why);
		return 1;
	}
	n = snprintf(req, sizeof(req), "CONNECT %s:%s HTTP/1.1\r\n"
	    "Host: %s:%s\r\n\r\n", argv[3], argv[4], argv[3], argv[4]);
	if (n < 0 || (size_t)n >= sizeof(req) ||
	    write(s, req, (size_t)n) != n) {
		perror("idealclient: send");
		return 1;
	}
	if (read_head(s) == -1)
		return 1;
	fl = fcntl(s, F_GETFL);
	(void)fcntl(s, F_SETFL, fl | O_NONBLOCK);

	dir_init(&up, STDIN_FILENO, s);
	dir_init(&down, s, STDOUT_FILENO);
	for (;;) {
		if (down.done)
			break;
		if (up.done && up.src != -1) {
			(void)shutdown(s, SHUT_WR);
			up.src = -1;
		}
		pfd[0].fd = up.done || up.need_out ? -1 : up.src;
		pfd[1].fd = !up.done && up.need_out ? up.dst : -1;
		pfd[2].fd = down.done || down.need_out ? -1 : down.src;
		pfd[3].fd = !down.done && down.need_out ? down.dst : -1;
		/* with a mid pipe, read on while it has room, write while it has bytes */
		if (up.mid[0] != -1 && !up.done) {
			pfd[0].fd = !up.eof && up.queued < PIPE_SIZE ? up.src : -1;
			pfd[1].fd = up.queued > 0 ? up.dst : -1;
		}
		if (down.mid[0] != -1 && !down.done) {
			pfd[2].fd = !down.eof && down.queued < PIPE_SIZE ?
			    down.src : -1;
			pfd[3].fd = down.queued > 0 ? down.dst : -1;
		}
		pfd[0].events = pfd[2].events = POLLIN;
		pfd[1].events = pfd[3].events = POLLOUT;
		if (poll(pfd, 4, -1) == -1) {
			if (errno == EINTR)
				continue;
			perror("idealclient: poll");
			return 1;
		}
		if ((pfd[3].revents & (POLLERR | POLLHUP)) && pfd[3].fd != -1)
			return 0;	/* stdout reader is gone */
		if (dir_step(&up, pfd[0].revents, pfd[1].revents, s) == -1) {
			/* stdin error or the socket refuses more: stop sending */
			up.done = 1;
		}
		if (dir_step(&down, pfd[2].revents, pfd[3].revents, s) == -1) {
			if (errno == EPIPE)
				return 0;
			perror("idealclient: relay");
			return 1;
		}
	}
	return 0;
}
