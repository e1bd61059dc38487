/*
 * transport.h: the connection a handshake runs on, and what the relay
 * gets once the tunnel is up.  Two kinds keep proto.h's promise that no
 * tunnel byte is lost or taken early:
 *
 *   TRANSPORT_PEEK      a TCP socket: the answer is read with MSG_PEEK and
 *                       only what the engine consumed is removed, so every
 *                       tunnel byte stays in the kernel (splice, --fdpass).
 *   TRANSPORT_BUFFERED  anything else (the pipes of a --proxy-command, an
 *                       AF_UNIX socket): bytes are read into a buffer; what
 *                       is left after the handshake goes to the relay first.
 */
#ifndef CULVERT_IO_TRANSPORT_H
#define CULVERT_IO_TRANSPORT_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>

#include "io/child.h"

#define TRANSPORT_READ_MAX	16384	/* bytes offered at a time */

enum transport_kind {
	TRANSPORT_PEEK,
	TRANSPORT_BUFFERED
};

struct transport {
	enum transport_kind kind;
	int		 rfd, wfd;	/* the same socket, or two pipes */
	struct child	 child;		/* behind the pipes; pid -1: none */
	unsigned char	*buf;		/* buffered: bytes not yet consumed */
	size_t		 len;
	size_t		 lowat;		/* peek: SO_RCVLOWAT in force */
	size_t		 left;		/* bytes offered and not consumed */
};

/* A connected socket; TCP peeks, others buffer. */
void	transport_socket(struct transport *t, int fd);
/* The pipes of a child process (child_spawn()); the transport owns it. */
void	transport_child(struct transport *t, const struct child *c);

/*
 * Read what is there and point *data at every unconsumed byte (*len).
 * Returns 1 when there are new bytes, 0 when the peer has closed (no new
 * bytes; *data still shows the old ones), -1 when nothing can be read now
 * (EAGAIN), -2 on an error (errno).  scratch (TRANSPORT_READ_MAX bytes)
 * holds peeked bytes.
 */
int	transport_read(struct transport *t, unsigned char *scratch,
	    const unsigned char **data, size_t *len);
/*
 * The engine consumed n of the bytes offered: remove them, and (peek)
 * wait for more than the rest before the socket reads as readable again.
 * 0, or -1 with errno.
 */
int	transport_consume(struct transport *t, size_t n, bool want_more);
/* Bytes already read and waiting to be offered (buffered only). */
size_t	transport_pending(const struct transport *t);
/* Write without blocking: bytes written, or -1 with errno. */
ssize_t	transport_write(struct transport *t, const void *p, size_t len);
/* Close everything; a child is stopped and reaped (see child_stop()). */
void	transport_close(struct transport *t);

#endif
