/*
 * relay.c: the byte mover, after OpenBSD nc's readwrite(): fixed poll
 * slots, a buffer per direction, a slot set to -1 while its direction
 * has nothing to do, so poll() never reports a condition nobody acts on
 * and the loop never spins.
 *
 * Inherited stdin and stdout are never switched to non-blocking mode
 * (the file description is shared with the parent, e.g. ssh).  Instead
 * every read follows a poll() that said readable, and writes are sized
 * so they cannot block: sockets take MSG_DONTWAIT, pipes get no more than
 * the free space poll() promised, splice(2) gets SPLICE_F_NONBLOCK.
 */
#ifdef __linux__
#define _GNU_SOURCE	/* splice, F_SETPIPE_SZ */
#endif

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "relay.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0		/* SIGPIPE is ignored anyway */
#endif

#if defined(__linux__) && defined(SPLICE_F_NONBLOCK)
#define HAVE_SPLICE 1
#define SPLICE_PIPE_SIZE (1024 * 1024)
#endif

enum fdkind { FD_OTHER, FD_FIFO, FD_SOCK, FD_FILE };

static int
fd_kind(int fd)
{
	struct stat st;

	if (fstat(fd, &st) == -1)
		return FD_OTHER;
	if (S_ISFIFO(st.st_mode))
		return FD_FIFO;
	if (S_ISSOCK(st.st_mode))
		return FD_SOCK;
	if (S_ISREG(st.st_mode))
		return FD_FILE;
	return FD_OTHER;
}

/* How many bytes a write to this pipe can take without blocking. */
static size_t
pipe_space(int fd, size_t want)
{
#if defined(__linux__) && defined(F_GETPIPE_SZ) && defined(FIONREAD)
	int size, queued;

	if ((size = fcntl(fd, F_GETPIPE_SZ)) > 0 &&
	    ioctl(fd, FIONREAD, &queued) == 0 && queued >= 0 &&
	    size >= queued) {
		size_t room = (size_t)(size - queued);

		return room < want ? room : want;
	}
#else
	(void)fd;
#endif
	/* poll() promises at least PIPE_BUF bytes of room. */
	return want < PIPE_BUF ? want : PIPE_BUF;
}

static int
dir_init(struct relay_dir *d, int src, int dst, size_t bufsize,
    bool splice_ok)
{
	memset(d, 0, sizeof(*d));
	d->src = src;
	d->dst = dst;
	d->srckind = fd_kind(src);
	d->dstkind = fd_kind(dst);
	d->pipe[0] = d->pipe[1] = -1;
#ifdef HAVE_SPLICE
	if (splice_ok && pipe2(d->pipe, O_CLOEXEC | O_NONBLOCK) == 0) {
		int sz;

		(void)fcntl(d->pipe[1], F_SETPIPE_SZ, SPLICE_PIPE_SIZE);
		if ((sz = fcntl(d->pipe[1], F_GETPIPE_SZ)) > 0) {
			d->cap = (size_t)sz;
			return 0;
		}
		close(d->pipe[0]);
		close(d->pipe[1]);
		d->pipe[0] = d->pipe[1] = -1;
	}
#else
	(void)splice_ok;
#endif
	if ((d->buf = malloc(bufsize)) == NULL)
		return -1;
	d->cap = bufsize;
	return 0;
}

/* Read from src into the direction's buffer: >0, 0 at EOF, -1 errno. */
static ssize_t
dir_fill(struct relay_dir *d)
{
	size_t room = d->cap - d->len;
	ssize_t n;

#ifdef HAVE_SPLICE
	if (d->pipe[0] != -1) {
		n = splice(d->src, NULL, d->pipe[1], NULL, room,
		    SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
		goto out;
	}
#endif
	if (d->len == 0)
		d->off = 0;
	else if (d->off + d->len == d->cap) {
		memmove(d->buf, d->buf + d->off, d->len);
		d->off = 0;
	}
	room = d->cap - d->off - d->len;
	if (d->srckind == FD_SOCK)
		n = recv(d->src, d->buf + d->off + d->len, room, MSG_DONTWAIT);
	else
		n = read(d->src, d->buf + d->off + d->len, room);
#ifdef HAVE_SPLICE
out:
#endif
	if (n > 0) {
		d->len += (size_t)n;
		d->total += (unsigned long long)n;
	}
	return n;
}

/* Write buffered bytes to dst: >0 written, -1 errno (EAGAIN: later). */
static ssize_t
dir_drain(struct relay_dir *d)
{
	ssize_t n;
	size_t want = d->len;

#ifdef HAVE_SPLICE
	if (d->pipe[0] != -1) {
		n = splice(d->pipe[0], NULL, d->dst, NULL, want,
		    SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
		goto out;
	}
#endif
	switch (d->dstkind) {
	case FD_SOCK:
		n = send(d->dst, d->buf + d->off, want,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		break;
	case FD_FIFO:
		if ((want = pipe_space(d->dst, want)) == 0) {
			errno = EAGAIN;
			return -1;
		}
		n = write(d->dst, d->buf + d->off, want);
		break;
	default:
		n = write(d->dst, d->buf + d->off, want);
		break;
	}
#ifdef HAVE_SPLICE
out:
#endif
	if (n > 0) {
		d->len -= (size_t)n;
		d->off = d->len == 0 ? 0 : d->off + (size_t)n;
	}
	return n;
}

int
relay_init(struct relay *r, int in, int out, int net,
    const struct relay_config *c)
{
	bool up_splice, down_splice;

	memset(r, 0, sizeof(*r));
	r->in = in;
	r->out = out;
	r->net = net;
	r->shutdown_on_eof = c->shutdown_on_eof;
	/*
	 * splice(2) only where it cannot block: into and out of our own
	 * non-blocking socket, and pipes (SPLICE_F_NONBLOCK covers them).
	 * A socket on stdout is written with MSG_DONTWAIT instead.
	 */
	up_splice = c->splice &&
	    (fd_kind(in) == FD_FIFO || fd_kind(in) == FD_SOCK);
	down_splice = c->splice && fd_kind(out) == FD_FIFO;
	if (dir_init(&r->up, in, net, c->bufsize, up_splice) == -1 ||
	    dir_init(&r->down, net, out, c->bufsize, down_splice) == -1) {
		relay_free(r);
		return -1;
	}
	return 0;
}

static void
dir_free(struct relay_dir *d)
{
	free(d->buf);
	d->buf = NULL;
	if (d->pipe[0] != -1) {
		close(d->pipe[0]);
		close(d->pipe[1]);
		d->pipe[0] = d->pipe[1] = -1;
	}
}

void
relay_free(struct relay *r)
{
	dir_free(&r->up);
	dir_free(&r->down);
}

void
relay_pollfds(struct relay *r, struct pollfd *pfd)
{
	pfd[SLOT_IN].fd = (r->up.eof || r->up.done || r->up.len == r->up.cap)
	    ? -1 : r->in;
	pfd[SLOT_IN].events = POLLIN;
	pfd[SLOT_NETIN].fd = (r->down.eof || r->down.len == r->down.cap)
	    ? -1 : r->net;
	pfd[SLOT_NETIN].events = POLLIN;
	pfd[SLOT_NETOUT].fd = (r->up.len > 0 && !r->up.done) ? r->net : -1;
	pfd[SLOT_NETOUT].events = POLLOUT;
	/*
	 * stdout stays in the set even with nothing to write: a pipe whose
	 * reader has gone reports POLLERR, and culvert must not outlive
	 * its reader.
	 */
	pfd[SLOT_OUT].fd = r->out_gone ? -1 : r->out;
	pfd[SLOT_OUT].events = r->down.len > 0 ? POLLOUT : 0;
	for (int i = 0; i < SLOT_MAX; i++)
		pfd[i].revents = 0;
}

static int
fail(struct relay *r, int err, const char *what)
{
	r->err = err;
	r->errwhat = what;
	return -1;
}

static bool
soft_error(int e)
{
	return e == EAGAIN || e == EWOULDBLOCK || e == EINTR;
}

/* Flush what the far side sent to the local output, if we can. */
static int
push_down(struct relay *r)
{
	while (r->down.len > 0 && !r->out_gone) {
		ssize_t n = dir_drain(&r->down);

		if (n > 0)
			continue;
		if (n == -1 && soft_error(errno))
			break;
		if (n == -1 && errno != EPIPE)
			return fail(r, errno, "writing to standard output");
		r->out_gone = true;	/* EPIPE: the reader went away */
	}
	return 0;
}

/* Send what the local input gave to the far side, if we can. */
static void
push_up(struct relay *r)
{
	while (r->up.len > 0 && !r->up.done) {
		ssize_t n = dir_drain(&r->up);

		if (n > 0)
			continue;
		if (n == -1 && soft_error(errno))
			break;
		/* The far side will take nothing more: drop the rest. */
		r->up.done = true;
		r->up.len = 0;
	}
}

int
relay_events(struct relay *r, const struct pollfd *pfd)
{
	ssize_t n;

	if (pfd[SLOT_OUT].fd != -1 &&
	    (pfd[SLOT_OUT].revents & (POLLERR | POLLHUP | POLLNVAL)))
		r->out_gone = true;

	if (pfd[SLOT_IN].fd != -1 && pfd[SLOT_IN].revents != 0) {
		n = dir_fill(&r->up);
		if (n == 0 || (n == -1 && !soft_error(errno)))
			r->up.eof = true;	/* error reads as end of input */
		push_up(r);
	}
	if (pfd[SLOT_NETIN].fd != -1 && pfd[SLOT_NETIN].revents != 0) {
		n = dir_fill(&r->down);
		if (n == 0)
			r->down.eof = true;
		else if (n == -1 && !soft_error(errno)) {
			int e = errno;

			r->down.eof = true;
			if (push_down(r) == -1)
				return -1;
			return fail(r, e, "reading from the tunnel");
		}
		if (push_down(r) == -1)
			return -1;
	}
	if (pfd[SLOT_NETOUT].fd != -1 && pfd[SLOT_NETOUT].revents != 0)
		push_up(r);
	if (pfd[SLOT_OUT].fd != -1 && (pfd[SLOT_OUT].revents & POLLOUT) &&
	    push_down(r) == -1)
		return -1;

	if (r->out_gone)
		return 0;
	if (r->up.eof && r->up.len == 0 && !r->up.done) {
		r->up.done = true;
		if (r->shutdown_on_eof)
			(void)shutdown(r->net, SHUT_WR);
	}
	if (r->down.eof && r->down.len == 0)
		return 0;
	return 1;
}

int
relay_run(struct relay *r)
{
	struct pollfd pfd[SLOT_MAX];
	int rc;

	do {
		relay_pollfds(r, pfd);
		if (poll(pfd, SLOT_MAX, -1) == -1) {
			if (errno == EINTR)
				continue;
			return fail(r, errno, "poll");
		}
		rc = relay_events(r, pfd);
	} while (rc == 1);
	return rc;
}
