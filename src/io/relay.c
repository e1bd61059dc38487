/*
 * relay.c: the byte mover, after OpenBSD nc's readwrite(): fixed poll
 * slots, a buffer per direction, a slot set to -1 while its direction
 * has nothing to do, so poll() never reports a condition nobody acts on
 * and the loop never spins.
 *
 * Inherited stdin and stdout are never switched to non-blocking mode
 * (the file description is shared with the parent, e.g. ssh).  Instead
 * every read follows a poll() that said readable, and writes are sized
 * so they cannot block: sockets take MSG_DONTWAIT, splice(2) gets
 * SPLICE_F_NONBLOCK, and a pipe gets no more than its free space, which
 * Linux tells.  Elsewhere only PIPE_BUF bytes are known to fit, so a
 * write to a pipe on stdout that fills it waits for the reader there.
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

#include "io/relay.h"

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
	/*
	 * poll() promised at least PIPE_BUF bytes of room; a further write
	 * in the same round may wait for the reader (see the top of the file).
	 */
	return want < PIPE_BUF ? want : PIPE_BUF;
}

/* How one direction moves its bytes. */
enum dirmode {
	DIR_BUFFER,	/* read/write through a memory buffer */
	DIR_PIPE,	/* splice src -> own pipe -> dst */
	DIR_DIRECT	/* src or dst is a pipe: splice src -> dst at once */
};

#define SPLICE_MAX	(16 * 1024 * 1024)

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
	d->mode = DIR_BUFFER;
#ifdef HAVE_SPLICE
	if (splice_ok && (d->srckind == FD_FIFO || d->dstkind == FD_FIFO)) {
		d->mode = DIR_DIRECT;
		return 0;
	}
	if (splice_ok && pipe2(d->pipe, O_CLOEXEC | O_NONBLOCK) == 0) {
		int sz;

		(void)fcntl(d->pipe[1], F_SETPIPE_SZ, SPLICE_PIPE_SIZE);
		if ((sz = fcntl(d->pipe[1], F_GETPIPE_SZ)) > 0) {
			d->cap = (size_t)sz;
			d->mode = DIR_PIPE;
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
	size_t room;
	ssize_t n;

#ifdef HAVE_SPLICE
	if (d->mode == DIR_PIPE) {
		n = splice(d->src, NULL, d->pipe[1], NULL, d->cap - d->len,
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
	if (d->mode == DIR_PIPE) {
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

static bool
soft_error(int e)
{
	return e == EAGAIN || e == EWOULDBLOCK || e == EINTR;
}

/* Errors that belong to the network side of a splice, not the local one. */
static bool
net_error(int e)
{
	return e == ECONNRESET || e == ENOTCONN || e == ETIMEDOUT ||
	    e == EHOSTUNREACH || e == ENETUNREACH || e == ECONNABORTED;
}

static bool
dir_wants_src(const struct relay_dir *d)
{
	if (d->eof || d->done)
		return false;
	return d->mode == DIR_DIRECT ? !d->need_out : d->len < d->cap;
}

static bool
dir_wants_dst(const struct relay_dir *d)
{
	if (d->done)
		return false;
	return d->mode == DIR_DIRECT ? d->need_out : d->len > 0;
}

/*
 * Move what poll() allows in one direction.  src_ready and dst_ready are
 * poll()'s word on each end.  EOF on src sets d->eof; a hard error sets
 * *src_err or *dst_err to errno, for the caller to judge.
 */
static void
dir_step(struct relay_dir *d, bool src_ready, bool dst_ready,
    bool net_is_src, int *src_err, int *dst_err)
{
	ssize_t n;

	*src_err = *dst_err = 0;
#ifdef HAVE_SPLICE
	if (d->mode == DIR_DIRECT) {
		if (!((src_ready && !d->need_out) || (dst_ready && d->need_out)))
			return;
		n = splice(d->src, NULL, d->dst, NULL, SPLICE_MAX,
		    SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
		if (n > 0) {
			d->need_out = false;
			d->total += (unsigned long long)n;
		} else if (n == 0)
			d->eof = true;
		else if (soft_error(errno))
			/* src said readable, nothing moved: dst is full. */
			d->need_out = src_ready && !d->need_out;
		else if (errno == EPIPE || (net_error(errno) && !net_is_src))
			*dst_err = errno;
		else
			*src_err = errno;
		return;
	}
#else
	(void)net_is_src;
#endif
	if (src_ready && dir_wants_src(d)) {
		n = dir_fill(d);
		if (n == 0)
			d->eof = true;
		else if (n == -1 && !soft_error(errno))
			*src_err = errno;
		else if (n > 0)
			dst_ready = true;	/* try at once; saves a poll */
	}
	while (dst_ready && d->len > 0 && !d->done) {
		n = dir_drain(d);
		if (n > 0)
			continue;
		if (n == -1 && !soft_error(errno))
			*dst_err = errno;
		break;
	}
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
#if defined(HAVE_SPLICE) && defined(F_SETPIPE_SZ)
	/*
	 * Larger pipes mean fewer, larger splices.  This changes the pipe,
	 * not the file description's flags, and only ever grows it.
	 */
	if (up_splice && fd_kind(in) == FD_FIFO &&
	    fcntl(in, F_GETPIPE_SZ) < SPLICE_PIPE_SIZE)
		(void)fcntl(in, F_SETPIPE_SZ, SPLICE_PIPE_SIZE);
	if (down_splice && fcntl(out, F_GETPIPE_SZ) < SPLICE_PIPE_SIZE)
		(void)fcntl(out, F_SETPIPE_SZ, SPLICE_PIPE_SIZE);
#endif
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
	pfd[SLOT_IN].fd = dir_wants_src(&r->up) ? r->in : -1;
	pfd[SLOT_IN].events = POLLIN;
	pfd[SLOT_NETOUT].fd = dir_wants_dst(&r->up) ? r->net : -1;
	pfd[SLOT_NETOUT].events = POLLOUT;
	pfd[SLOT_NETIN].fd = dir_wants_src(&r->down) ? r->net : -1;
	pfd[SLOT_NETIN].events = POLLIN;
	/*
	 * stdout stays in the set even with nothing to write: a pipe whose
	 * reader has gone reports POLLERR, and culvert must not outlive
	 * its reader.
	 */
	pfd[SLOT_OUT].fd = r->out_gone ? -1 : r->out;
	pfd[SLOT_OUT].events = dir_wants_dst(&r->down) ? POLLOUT : 0;
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
ready(const struct pollfd *p)
{
	return p->fd != -1 && p->revents != 0;
}

int
relay_events(struct relay *r, const struct pollfd *pfd)
{
	int se, de;

	if (ready(&pfd[SLOT_OUT]) &&
	    (pfd[SLOT_OUT].revents & (POLLERR | POLLHUP | POLLNVAL)))
		r->out_gone = true;
	if (r->out_gone)
		return 0;

	/* stdin -> socket.  A bad read ends input; a bad send ends sending. */
	dir_step(&r->up, ready(&pfd[SLOT_IN]), ready(&pfd[SLOT_NETOUT]),
	    false, &se, &de);
	if (se != 0)
		r->up.eof = true;
	if (de != 0) {
		r->up.done = true;
		r->up.len = 0;	/* the far side takes nothing more */
	}
	if (r->up.eof && r->up.len == 0 && !r->up.done) {
		r->up.done = true;
		if (r->shutdown_on_eof)
			(void)shutdown(r->net, SHUT_WR);
	}

	/* socket -> stdout. */
	dir_step(&r->down, ready(&pfd[SLOT_NETIN]),
	    ready(&pfd[SLOT_OUT]) && (pfd[SLOT_OUT].revents & POLLOUT), true,
	    &se, &de);
	if (se != 0) {
		r->down.eof = true;	/* deliver what we have, then fail */
		r->pending = se;
	}
	if (de == EPIPE)
		r->out_gone = true;
	else if (de != 0)
		return fail(r, de, "writing to standard output");
	if (r->out_gone)
		return 0;
	if (r->down.eof && r->down.len == 0)
		return r->pending != 0 ?
		    fail(r, r->pending, "reading from the tunnel") : 0;
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
