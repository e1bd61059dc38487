/*
 * cutter: a TCP forwarder that cuts every connection through it on a
 * signal, as a proxy restart, an idle cut or a change of network does.
 *
 *   cutter UPPORT
 *
 * Listens on 127.0.0.1 port 0, prints the port on the first line of
 * stdout and forwards each connection to 127.0.0.1:UPPORT, both ways,
 * half-closes included.  On SIGUSR1 every open connection is reset on
 * both sides (SO_LINGER 0, then close: an RST each way); new connections
 * are forwarded as before.  One process, one epoll loop, a 64 KiB buffer
 * a direction: it is in the path only where a cut is measured.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "benchlib.h"

#define BUF		(64 * 1024)
#define MAX_EVENTS	64

/* One direction: bytes read from fd[from] wait in buf for fd[1 - from]. */
struct half {
	char	buf[BUF];
	size_t	off, len;
	int	eof;		/* read side at EOF */
	int	shut;		/* EOF passed on with shutdown(SHUT_WR) */
};

struct pair;

/* What epoll points at: one socket of a pair. */
struct end {
	struct pair	*p;
	int		i;	/* 0 the client side, 1 the upstream side */
	uint32_t	events;
};

struct pair {
	int		fd[2];
	struct end	end[2];
	struct half	dir[2];	/* dir[i]: from fd[i] to fd[1 - i] */
	struct pair	*prev, *next;
};

static struct pair *pairs;
static int ep;
static char upport[16];

static void
pair_close(struct pair *p, int reset)
{
	struct linger l = { 1, 0 };
	int i;

	for (i = 0; i < 2; i++) {
		if (p->fd[i] == -1)
			continue;
		(void)epoll_ctl(ep, EPOLL_CTL_DEL, p->fd[i], NULL);
		if (reset)
			(void)setsockopt(p->fd[i], SOL_SOCKET, SO_LINGER, &l,
			    sizeof(l));
		close(p->fd[i]);
	}
	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		pairs = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	free(p);
}

/*
 * Watch fd[i] for reading while its direction has room, for writing
 * while the other direction has bytes for it.
 */
static void
pair_watch(struct pair *p, int i)
{
	struct epoll_event ev;
	uint32_t want = 0;

	if (!p->dir[i].eof && p->dir[i].len < BUF)
		want |= EPOLLIN;
	if (p->dir[1 - i].len > 0)
		want |= EPOLLOUT;
	if (want == p->end[i].events)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = want;
	ev.data.ptr = &p->end[i];
	(void)epoll_ctl(ep, EPOLL_CTL_MOD, p->fd[i], &ev);
	p->end[i].events = want;
}

/*
 * Move what can move between the two sockets: 0, 1 when the pair is
 * finished (both directions passed on), -1 on an error (a reset).
 */
static int
pair_step(struct pair *p)
{
	struct half *h;
	ssize_t n;
	int i, to;

	for (i = 0; i < 2; i++) {
		h = &p->dir[i];
		to = 1 - i;
		if (!h->eof && h->len < BUF) {
			if (h->off > 0 && h->len > 0)
				memmove(h->buf, h->buf + h->off, h->len);
			h->off = 0;
			n = read(p->fd[i], h->buf + h->len, BUF - h->len);
			if (n > 0)
				h->len += (size_t)n;
			else if (n == 0)
				h->eof = 1;
			else if (errno != EAGAIN && errno != EINTR)
				return -1;
		}
		if (h->len > 0) {
			n = send(p->fd[to], h->buf + h->off, h->len,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n > 0) {
				h->off += (size_t)n;
				h->len -= (size_t)n;
			} else if (n == -1 && errno != EAGAIN &&
			    errno != EINTR)
				return -1;
		}
		if (h->eof && h->len == 0 && !h->shut) {
			(void)shutdown(p->fd[to], SHUT_WR);
			h->shut = 1;
		}
	}
	if (p->dir[0].shut && p->dir[1].shut)
		return 1;
	pair_watch(p, 0);
	pair_watch(p, 1);
	return 0;
}

static void
accept_all(int ls)
{
	struct epoll_event ev;
	struct pair *p;
	int s, u, i, one = 1;

	while ((s = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) !=
	    -1) {
		/* loopback: the blocking connect is over at once */
		if ((u = bench_dial("127.0.0.1", upport, NULL)) == -1) {
			close(s);
			continue;
		}
		(void)fcntl(u, F_SETFL, O_NONBLOCK);
		(void)setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
		if ((p = calloc(1, sizeof(*p))) == NULL) {
			close(s);
			close(u);
			continue;
		}
		p->fd[0] = s;
		p->fd[1] = u;
		for (i = 0; i < 2; i++) {
			p->end[i].p = p;
			p->end[i].i = i;
			p->end[i].events = EPOLLIN;
			memset(&ev, 0, sizeof(ev));
			ev.events = EPOLLIN;
			ev.data.ptr = &p->end[i];
			(void)epoll_ctl(ep, EPOLL_CTL_ADD, p->fd[i], &ev);
		}
		p->next = pairs;
		if (pairs != NULL)
			pairs->prev = p;
		pairs = p;
	}
}

int
main(int argc, char *argv[])
{
	struct epoll_event ev, evs[MAX_EVENTS];
	struct signalfd_siginfo si;
	struct end lsend, sigend;
	struct end *e;
	unsigned int port;
	sigset_t mask;
	char *end;
	long up;
	int ls, sfd, n, k, r;

	if (argc != 2) {
		fprintf(stderr, "usage: cutter UPPORT\n");
		return 2;
	}
	errno = 0;
	up = strtol(argv[1], &end, 10);
	if (errno != 0 || *end != '\0' || up < 1 || up > 65535) {
		fprintf(stderr, "cutter: bad port %s\n", argv[1]);
		return 2;
	}
	snprintf(upport, sizeof(upport), "%ld", up);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) == -1 ||
	    (sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) == -1 ||
	    (ep = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    (ls = bench_listen(&port)) == -1) {
		perror("cutter");
		return 1;
	}
	(void)fcntl(ls, F_SETFL, O_NONBLOCK);
	/* the listener and the signal are told apart by these two */
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = &lsend;
	(void)epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
	ev.data.ptr = &sigend;
	(void)epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	printf("%u\n", port);
	fflush(stdout);
	for (;;) {
		n = epoll_wait(ep, evs, MAX_EVENTS, -1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			perror("cutter: epoll_wait");
			return 1;
		}
		for (k = 0; k < n; k++) {
			e = evs[k].data.ptr;
			if (e == &lsend) {
				accept_all(ls);
			} else if (e == &sigend) {
				while (read(sfd, &si, sizeof(si)) > 0)
					;
				while (pairs != NULL)
					pair_close(pairs, 1);
				/* the events left in evs point at freed pairs */
				break;
			} else if ((r = (evs[k].events & EPOLLERR) ? -1 :
			    pair_step(e->p)) != 0) {
				/* a reset goes on as a reset */
				pair_close(e->p, r == -1);
				/* its other end may be later in evs */
				break;
			}
		}
	}
}
