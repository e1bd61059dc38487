/*
 * proto.h: the contract shared by every proxy handshake engine (HTTP
 * CONNECT, SOCKS4/4a, SOCKS5).
 *
 * Engines only compute: they never touch a descriptor, never log, never
 * exit.  They take the proxy's bytes and give back the bytes to send, a
 * step, and on failure a struct failure whose kind the edge maps (to an
 * exit status, a SOCKS reply, an HTTP status).  What a driver may want to
 * log or report (the request sent, the status line, the auth round) they
 * announce through an optional event callback, and the driver adds the
 * connection's identity.  The driver owns the connection, the poll() loop
 * and the deadline, so one process can run many handshakes at once.
 *
 *   1. xxx_start() fills the engine's out buffer with the first message.
 *   2. The driver writes all pending out bytes, then offers every byte
 *      that waits to be read (new and earlier unconsumed ones, in order)
 *      to xxx_input(), which says through *used how many it consumed.
 *   3. xxx_input() returns one of enum step.  STEP_SEND: new bytes wait in
 *      the out buffer, send them and go on reading.  STEP_NEED: offer more
 *      bytes.  STEP_DONE: the tunnel is up.
 *      STEP_RECONNECT: close, reconnect, call xxx_restart().  STEP_FAIL:
 *      struct failure says why.
 *   An engine never consumes past the end of the proxy's answer, so the
 *   bytes after it are the tunnel's.  It may leave a partial message
 *   unconsumed with STEP_NEED, and must then not be offered the same bytes
 *   again until more have arrived (the fuzz harness checks that it could
 *   do nothing with them).
 *   If the peer closes before STEP_DONE, the driver offers what is left
 *   with eof set, and the engine fails with a protocol error.
 *
 * Two ways of holding the unconsumed bytes satisfy step 2 (io/transport.h):
 *   - peek (TCP): read with MSG_PEEK, remove exactly *used bytes with a
 *     plain recv(), and wait with SO_RCVLOWAT for more than the bytes left
 *     over; every tunnel byte stays in the kernel for splice(2) and
 *     --fdpass.
 *   - buffered (pipes, AF_UNIX, anything that cannot be peeked, or where
 *     poll() ignores SO_RCVLOWAT): read into a buffer, drop what was
 *     consumed, offer the rest again with the next bytes; whatever is left
 *     after STEP_DONE is the tunnel's first bytes, handed to the relay.
 *
 * Layer proto/: the proxy protocols as engines that only compute (HTTP
 * CONNECT, SOCKS4/4a/5, the HTTP head parser).  Uses auth/, route/,
 * crypto/ and util/failure.h; never calls socket or file I/O, log_* or
 * exit (tests/layers.sh checks).
 */
#ifndef CULVERT_PROTO_H
#define CULVERT_PROTO_H

#include <stddef.h>

#include "util/failure.h"

enum step {
	STEP_NEED,		/* offer more input */
	STEP_SEND,		/* send out buffer, then offer more input */
	STEP_DONE,		/* tunnel established */
	STEP_RECONNECT,		/* open a new connection, then restart */
	STEP_FAIL		/* see struct failure */
};

/*
 * Limits every driver shares: connections one handshake may open (the
 * first and reconnects after a 407 that closed), and requests it may send
 * (auth/auth.h counts those).
 */
#define HS_MAX_CONNECTS		4
#define HS_MAX_REQUESTS		3

#define OUTBUF_MAX	16384

struct outbuf {
	unsigned char	data[OUTBUF_MAX];
	size_t		len;
};

/* What an engine announces; the text is valid during the call only. */
enum hs_event_kind {
	HSE_STEP,		/* a step worth a -v line ("proxy answered: ...") */
	HSE_SENT,		/* a line of the request, secrets redacted (-vv) */
	HSE_RECEIVED,		/* a line of the answer's head (-vv) */
	HSE_STATUS,		/* the status line; code is the status */
	HSE_AUTH_OFFERED,	/* the schemes a 407 offered, described */
	HSE_AUTH_USED		/* the scheme answered with; text is its name */
};

struct hs_event {
	enum hs_event_kind	 kind;
	const char		*text;
	size_t			 len;
	int			 code;
};

typedef void	hs_event_fn(void *arg, const struct hs_event *);

#endif
