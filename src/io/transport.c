/*
 * transport.c: reading a proxy's answer without taking tunnel bytes.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/wipe.h"
#include "io/transport.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0		/* SIGPIPE is ignored anyway */
#endif

void
transport_socket(struct transport *t, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	memset(t, 0, sizeof(*t));
	t->rfd = t->wfd = fd;
	/* No child: -1, not 0, which is standard input. */
	t->child.pid = -1;
	t->child.in = t->child.out = t->child.err = -1;
	t->lowat = 1;
	/*
	 * Only TCP honours SO_RCVLOWAT in poll(); on an AF_UNIX socket
	 * poll() reports readable below it, so a partial reply would look
	 * like the end of the connection.
	 */
	t->kind = getsockname(fd, (struct sockaddr *)&ss, &len) == 0 &&
	    (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) ?
	    TRANSPORT_PEEK : TRANSPORT_BUFFERED;
}

void
transport_child(struct transport *t, const struct child *c)
{
	memset(t, 0, sizeof(*t));
	t->kind = TRANSPORT_BUFFERED;
	t->child = *c;
	t->rfd = c->out;
	t->wfd = c->in;
	t->lowat = 1;
}

static int
read_peek(struct transport *t, unsigned char *scratch,
    const unsigned char **data, size_t *len)
{
	ssize_t n = recv(t->rfd, scratch, TRANSPORT_READ_MAX, MSG_PEEK);
	bool eof;

	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return -1;
		if (errno != ECONNRESET)
			return -2;
		n = 0;	/* a reset reads as a premature end */
	}
	*data = scratch;
	*len = (size_t)n;
	/*
	 * With SO_RCVLOWAT raised, readable without new bytes means the
	 * peer closed after part of a reply.
	 */
	eof = n == 0 || (t->lowat > 1 && (size_t)n <= t->left);
	t->left = (size_t)n;
	return eof ? 0 : 1;
}

static int
read_buffered(struct transport *t, const unsigned char **data, size_t *len)
{
	unsigned char *nb;
	ssize_t n;

	if (t->buf == NULL) {
		if ((nb = malloc(TRANSPORT_READ_MAX)) == NULL) {
			errno = ENOMEM;
			return -2;
		}
		t->buf = nb;
	}
	*data = t->buf;
	*len = t->len;
	if (t->len == TRANSPORT_READ_MAX)
		return 1;	/* full: the engine must take some first */
	n = read(t->rfd, t->buf + t->len, TRANSPORT_READ_MAX - t->len);
	if (n == -1 && errno == ECONNRESET)
		n = 0;
	if (n == -1)
		return errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR ? -1 : -2;
	if (n == 0)
		return 0;
	t->len += (size_t)n;
	*len = t->len;
	return 1;
}

int
transport_read(struct transport *t, unsigned char *scratch,
    const unsigned char **data, size_t *len)
{
	if (t->kind == TRANSPORT_PEEK)
		return read_peek(t, scratch, data, len);
	return read_buffered(t, data, len);
}

/* Peek: wait until the socket holds more than `have` bytes (or EOF). */
static void
set_lowat(struct transport *t, size_t have)
{
	int v = (int)(have + 1);

	if (have + 1 == t->lowat)
		return;
	if (setsockopt(t->rfd, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof(v)) == 0)
		t->lowat = have + 1;
}

int
transport_consume(struct transport *t, size_t n, bool want_more)
{
	unsigned char sink[TRANSPORT_READ_MAX];

	if (t->kind == TRANSPORT_BUFFERED) {
		if (n > t->len)
			n = t->len;
		memmove(t->buf, t->buf + n, t->len - n);
		t->len -= n;
		t->left = t->len;
		return 0;
	}
	/* Take exactly what the engine consumed off the socket. */
	while (n > 0) {
		ssize_t m = recv(t->rfd, sink, n < sizeof(sink) ? n :
		    sizeof(sink), 0);

		if (m <= 0) {
			if (m == -1 && errno == EINTR)
				continue;
			if (m == 0)
				errno = ECONNRESET;
			wipe(sink, sizeof(sink));
			return -1;
		}
		n -= (size_t)m;
		t->left -= t->left >= (size_t)m ? (size_t)m : t->left;
	}
	wipe(sink, sizeof(sink));
	set_lowat(t, want_more ? t->left : 0);
	return 0;
}

size_t
transport_pending(const struct transport *t)
{
	return t->kind == TRANSPORT_BUFFERED ? t->len : 0;
}

ssize_t
transport_write(struct transport *t, const void *p, size_t len)
{
	if (t->rfd == t->wfd)
		return send(t->wfd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	return write(t->wfd, p, len);
}

void
transport_close(struct transport *t)
{
	if (t->child.pid > 0) {
		/* Its descriptors are ours to close through it. */
		t->child.in = t->wfd;
		t->child.out = t->rfd;
		child_stop(&t->child, CHILD_GRACE_MS);
		t->child.pid = -1;
	} else {
		if (t->rfd != -1)
			close(t->rfd);
		if (t->wfd != -1 && t->wfd != t->rfd)
			close(t->wfd);
	}
	t->rfd = t->wfd = -1;
	if (t->buf != NULL) {
		wipe(t->buf, TRANSPORT_READ_MAX);
		free(t->buf);
		t->buf = NULL;
	}
	t->len = 0;
}
