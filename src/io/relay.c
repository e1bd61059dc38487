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
 * Regular files and /dev/null never make a writer wait on a reader.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/relay.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0		/* SIGPIPE is ignored anyway */
#endif

#if defined(__linux__) && defined(SPLICE_F_NONBLOCK)
#define HAVE_SPLICE 1
#endif

enum fdkind {
	FD_OTHER,	/* tty and the like: read and write only */
	FD_FIFO,
	FD_SOCK,
	FD_FILE,	/* a regular file, not opened for appending */
	FD_NULL		/* a character device such as /dev/null, not a tty */
};

static int
fd_kind(int fd)
{
	struct stat st;
	int fl;

	if (fstat(fd, &st) == -1)
		return FD_OTHER;
	if (S_ISFIFO(st.st_mode))
		return FD_FIFO;
	if (S_ISSOCK(st.st_mode))
		return FD_SOCK;
	/* splice(2) refuses files opened with O_APPEND (">>"). */
	fl = fcntl(fd, F_GETFL);
	if (S_ISREG(st.st_mode) && fl != -1 && !(fl & O_APPEND))
		return FD_FILE;
	if (S_ISCHR(st.st_mode) && !isatty(fd) && fl != -1 && !(fl & O_APPEND))
		return FD_NULL;
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
#define RELAY_PIPE_MIN	(16 * 1024)
#define RELAY_PIPE_MAX	(1024 * 1024)

static int
dir_buffer(struct relay_dir *d)
{
	if ((d->buf = malloc(d->bufsize)) == NULL)
		return -1;
	d->cap = d->bufsize;
	d->mode = DIR_BUFFER;
	return 0;
}

/*
 * splice_ok: the kernel may move this direction (both ends suit splice
 * and neither can make it block); pipe_size grows the pipes.
 */
static int
dir_init(struct relay_dir *d, int src, int dst, size_t bufsize,
    bool splice_ok, size_t pipe_size)
{
	memset(d, 0, sizeof(*d));
	d->src = src;
	d->dst = dst;
	d->srckind = fd_kind(src);
	d->dstkind = fd_kind(dst);
	d->pipe[0] = d->pipe[1] = -1;
	d->bufsize = bufsize;
#ifdef HAVE_SPLICE
	if (splice_ok && (d->srckind == FD_FIFO || d->dstkind == FD_FIFO)) {
		d->mode = DIR_DIRECT;
		return 0;
	}
	if (splice_ok && pipe2(d->pipe, O_CLOEXEC | O_NONBLOCK) == 0) {
		int sz;

		if (pipe_size > 0)
			(void)fcntl(d->pipe[1], F_SETPIPE_SZ, (int)pipe_size);
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
	(void)pipe_size;
#endif
	return dir_buffer(d);
}

#ifdef HAVE_SPLICE
/*
 * The kernel refused to splice (EINVAL: this file system, this device):
 * move what the private pipe holds into memory and go on with read and
 * write.  -1 when out of memory.
 */
static int
dir_unsplice(struct relay_dir *d)
{
	size_t held = d->len, got = 0;

	if (d->mode != DIR_PIPE) {
		d->mode = DIR_BUFFER;
		return dir_buffer(d);
	}
	if (d->bufsize < held)
		d->bufsize = held;
	if (dir_buffer(d) == -1)
		return -1;
	while (got < held) {
		ssize_t n = read(d->pipe[0], d->buf + got, held - got);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	d->off = 0;
	d->len = got;
	close(d->pipe[0]);
	close(d->pipe[1]);
	d->pipe[0] = d->pipe[1] = -1;
	return 0;
}
#endif

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
		if (n == -1 && errno == EINVAL && d->len == 0) {
			if (dir_unsplice(d) == -1)
				return -1;
			return dir_fill(d);
		}
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

/* Write want bytes to fd (of kind) without blocking: >0, or -1 errno. */
static ssize_t
write_kind(int fd, int kind, const unsigned char *p, size_t want)
{
	switch (kind) {
	case FD_SOCK:
		return send(fd, p, want, MSG_DONTWAIT | MSG_NOSIGNAL);
	case FD_FIFO:
		if ((want = pipe_space(fd, want)) == 0) {
			errno = EAGAIN;
			return -1;
		}
		return write(fd, p, want);
	default:
		return write(fd, p, want);
	}
}

static ssize_t
write_mem(const struct relay_dir *d, const unsigned char *p, size_t want)
{
	return write_kind(d->dst, d->dstkind, p, want);
}

ssize_t
relay_write_local(int fd, int kind, const void *p, size_t len)
{
	return write_kind(fd, kind, p, len);
}

/* Write buffered bytes to dst: >0 written, -1 errno (EAGAIN: later). */
static ssize_t
dir_drain(struct relay_dir *d)
{
	ssize_t n;

#ifdef HAVE_SPLICE
	if (d->mode == DIR_PIPE) {
		n = splice(d->pipe[0], NULL, d->dst, NULL, d->len,
		    SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
		if (n == -1 && errno == EINVAL) {
			if (dir_unsplice(d) == -1)
				return -1;
			return dir_drain(d);
		}
		goto out;
	}
#endif
	n = write_mem(d, d->buf + d->off, d->len);
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
	if (d->eof || d->done || d->firstlen > 0)
		return false;
	return d->mode == DIR_DIRECT ? !d->need_out : d->len < d->cap;
}

static bool
dir_wants_dst(const struct relay_dir *d)
{
	if (d->done)
		return false;
	if (d->firstlen > 0)
		return true;
	return d->mode == DIR_DIRECT ? d->need_out : d->len > 0;
}

/* Write the bytes that came with the handshake; then the rest may flow. */
static void
dir_first(struct relay_dir *d, int *dst_err)
{
	ssize_t n = write_mem(d, d->first + d->firstoff, d->firstlen);

	if (n > 0) {
		d->firstoff += (size_t)n;
		d->firstlen -= (size_t)n;
		d->total += (unsigned long long)n;
		if (d->firstlen == 0) {
			free(d->first);
			d->first = NULL;
		}
	} else if (n == -1 && !soft_error(errno))
		*dst_err = errno;
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
	if (d->firstlen > 0) {
		if (dst_ready)
			dir_first(d, dst_err);
		return;
	}
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
		else if (errno == EINVAL) {
			/* Nothing moved: read and write from now on. */
			if (dir_unsplice(d) == -1)
				*src_err = ENOMEM;
		} else if (soft_error(errno))
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

/* Grow a pipe we splice with; only ever grows, changes no flags. */
static void
grow_pipe(int fd, size_t size)
{
#if defined(HAVE_SPLICE) && defined(F_SETPIPE_SZ)
	if (size > 0 && fd_kind(fd) == FD_FIFO &&
	    fcntl(fd, F_GETPIPE_SZ) < (int)size)
		(void)fcntl(fd, F_SETPIPE_SZ, (int)size);
#else
	(void)fd;
	(void)size;
#endif
}

int
relay_local_kind(int fd, size_t pipe_size)
{
	grow_pipe(fd, pipe_size);
	return fd_kind(fd);
}

/* Splice can serve this local end without ever blocking the loop. */
static bool
splice_local(int fd, bool ours)
{
	switch (fd_kind(fd)) {
	case FD_FIFO:
	case FD_FILE:
	case FD_NULL:
		return true;
	case FD_SOCK:
		/*
		 * Reading a socket through our non-blocking pipe is safe;
		 * writing an inherited blocking socket is not, so stdout
		 * sockets get send(MSG_DONTWAIT) from a buffer instead.
		 */
		return ours;
	default:
		return false;
	}
}

static int
dir_set_first(struct relay_dir *d, const unsigned char *p, size_t len)
{
	if (len == 0)
		return 0;
	if ((d->first = malloc(len)) == NULL)
		return -1;
	memcpy(d->first, p, len);
	d->firstlen = len;
	return 0;
}

int
relay_init(struct relay *r, int in, int out, int netin, int netout,
    const struct relay_config *c)
{
	bool up_splice, down_splice;

	memset(r, 0, sizeof(*r));
	r->in = in;
	r->out = out;
	r->netin = netin;
	r->netout = netout;
	r->both_ways = c->both_ways;
	r->aux = c->aux_read != NULL ? c->aux : -1;
	r->aux_read = c->aux_read;
	r->aux_arg = c->aux_arg;
	r->shutdown_on_eof = c->shutdown_on_eof || c->both_ways;
	up_splice = c->splice &&
	    (splice_local(in, true) || fd_kind(in) == FD_SOCK);
	down_splice = c->splice && splice_local(out, c->both_ways);
	if (up_splice)
		grow_pipe(in, c->pipe_size);
	if (down_splice)
		grow_pipe(out, c->pipe_size);
	if (dir_init(&r->up, in, netout, c->bufsize, up_splice,
	    c->pipe_size) == -1 ||
	    dir_init(&r->down, netin, out, c->bufsize, down_splice,
	    c->pipe_size) == -1) {
		relay_free(r);
		return -1;
	}
	if (dir_set_first(&r->down, c->first, c->firstlen) == -1 ||
	    dir_set_first(&r->up, c->up_first, c->up_firstlen) == -1) {
		relay_free(r);
		return -1;
	}
	return 0;
}

size_t
relay_pipe_budget(size_t tunnels)
{
	static long pages = -1;
	size_t budget, each, size;

	if (pages == -1) {
		FILE *fp = fopen("/proc/sys/fs/pipe-user-pages-soft", "r");

		if (fp == NULL || fscanf(fp, "%ld", &pages) != 1 || pages <= 0)
			pages = 16384;	/* Linux's default */
		if (fp != NULL)
			fclose(fp);
	}
	/* Half of it, two pipes a relay, one more relay to come. */
	budget = (size_t)pages * 4096 / 2;
	each = budget / (2 * (tunnels + 1));
	for (size = RELAY_PIPE_MAX; size > RELAY_PIPE_MIN && size > each;
	    size /= 2)
		;
	return size;
}

static void
dir_free(struct relay_dir *d)
{
	free(d->buf);
	d->buf = NULL;
	free(d->first);
	d->first = NULL;
	d->firstlen = 0;
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

size_t
relay_pollfds(struct relay *r, struct pollfd *pfd)
{
	pfd[SLOT_IN].fd = dir_wants_src(&r->up) ? r->in : -1;
	pfd[SLOT_IN].events = POLLIN;
	pfd[SLOT_NETOUT].fd = dir_wants_dst(&r->up) ? r->netout : -1;
	pfd[SLOT_NETOUT].events = POLLOUT;
	pfd[SLOT_NETIN].fd = dir_wants_src(&r->down) ? r->netin : -1;
	pfd[SLOT_NETIN].events = POLLIN;
	/*
	 * stdout stays in the set even with nothing to write: a pipe whose
	 * reader has gone reports POLLERR, and culvert must not outlive
	 * its reader.  A listener's client socket is watched through SLOT_IN
	 * instead, and only while there is something to write.
	 */
	if (r->both_ways)
		pfd[SLOT_OUT].fd = dir_wants_dst(&r->down) && !r->out_gone ?
		    r->out : -1;
	else
		pfd[SLOT_OUT].fd = r->out_gone ? -1 : r->out;
	pfd[SLOT_OUT].events = dir_wants_dst(&r->down) ? POLLOUT : 0;
	pfd[SLOT_AUX].fd = r->aux;
	pfd[SLOT_AUX].events = POLLIN;
	for (int i = 0; i < SLOT_MAX; i++)
		pfd[i].revents = 0;
	return SLOT_MAX;
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

/* No more input will come: tell the tunnel, as a socket or a pipe. */
static void
end_up(struct relay *r)
{
	r->up.done = true;
	if (!r->shutdown_on_eof)
		return;
	if (r->netout != r->netin) {
		close(r->netout);	/* a pipe to the proxy command */
		r->netout = -1;
	} else
		(void)shutdown(r->netout, SHUT_WR);
}

/* The tunnel's side is done: a local socket hears it too. */
static void
end_down(struct relay *r)
{
	r->down.done = true;
	if (r->down.dstkind == FD_SOCK)
		(void)shutdown(r->out, SHUT_WR);
}

int
relay_events(struct relay *r, const struct pollfd *pfd)
{
	int se, de;

	if (ready(&pfd[SLOT_AUX]) && r->aux_read(r->aux_arg) == -1)
		r->aux = -1;
	if (ready(&pfd[SLOT_OUT]) &&
	    (pfd[SLOT_OUT].revents & (POLLERR | POLLHUP | POLLNVAL)))
		r->out_gone = true;
	if (r->out_gone && !r->both_ways)
		return 0;

	/* in -> tunnel.  A bad read ends input; a bad send ends sending. */
	dir_step(&r->up, ready(&pfd[SLOT_IN]), ready(&pfd[SLOT_NETOUT]),
	    false, &se, &de);
	if (se != 0)
		r->up.eof = true;
	if (de != 0) {
		r->up.done = true;
		r->up.len = 0;	/* the far side takes nothing more */
	}
	if (r->up.eof && r->up.len == 0 && !r->up.done)
		end_up(r);

	/* tunnel -> out. */
	dir_step(&r->down, ready(&pfd[SLOT_NETIN]),
	    ready(&pfd[SLOT_OUT]) && (pfd[SLOT_OUT].revents & POLLOUT), true,
	    &se, &de);
	if (se != 0) {
		r->down.eof = true;	/* deliver what we have, then fail */
		r->pending = se;
	}
	if (de == EPIPE || (de != 0 && r->both_ways))
		r->out_gone = true;	/* the reader has gone */
	else if (de != 0)
		return fail(r, de, "writing to standard output");
	if (r->out_gone) {
		if (!r->both_ways)
			return 0;
		r->down.done = true;
		r->down.len = 0;
	}
	if (r->down.eof && r->down.len == 0 && r->down.firstlen == 0 &&
	    !r->down.done) {
		end_down(r);
		if (r->pending != 0)
			return fail(r, r->pending, "reading from the tunnel");
		if (!r->both_ways)
			return 0;
	}
	if (r->both_ways && r->up.done && r->down.done)
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
