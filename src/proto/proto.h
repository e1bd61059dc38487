/*
 * proto.h: the contract shared by every proxy handshake engine (HTTP
 * CONNECT, SOCKS4/4a, SOCKS5).
 *
 * Engines are "sans I/O": they never touch a file descriptor, never print
 * and never exit.  The driver (one per mode) owns the socket, the poll()
 * loop and the deadline, so one process can run many handshakes at once.
 *
 *   1. xxx_start() fills the engine's out buffer with the first message.
 *   2. The driver writes all pending out bytes, then offers the bytes that
 *      are waiting on the socket (it reads them with MSG_PEEK) to
 *      xxx_input(), which says how many it consumed through *used.  The
 *      driver then removes exactly that many from the socket, so bytes
 *      after the handshake (tunnel data) stay in the kernel.
 *   3. xxx_input() returns one of enum step.  STEP_SEND: new bytes wait in
 *      the out buffer, send them and go on reading.  STEP_NEED: offer more
 *      bytes.  STEP_DONE: the tunnel is up.
 *      STEP_RECONNECT: close, reconnect, call xxx_restart().  STEP_FAIL:
 *      struct failure says why.
 *   An engine never consumes past the end of the proxy's answer.  It may
 *   leave a partial message unconsumed with STEP_NEED; the driver then
 *   waits until more bytes than that are queued (SO_RCVLOWAT), so poll()
 *   does not keep reporting bytes nobody takes.
 *   If the peer closes before STEP_DONE, the driver calls xxx_input() with
 *   len 0 and eof set, and the engine fails with a protocol error.
 */
#ifndef CULVERT_PROTO_H
#define CULVERT_PROTO_H

#include <stddef.h>

enum step {
	STEP_NEED,		/* offer more input */
	STEP_SEND,		/* send out buffer, then offer more input */
	STEP_DONE,		/* tunnel established */
	STEP_RECONNECT,		/* open a new connection, then restart */
	STEP_FAIL		/* see struct failure */
};

/* Exit statuses; documented in culvert(1). */
enum exitcode {
	EXIT_OK = 0,
	EXIT_IO = 1,		/* I/O error after the tunnel was up */
	EXIT_USAGE = 2,		/* usage or configuration error */
	EXIT_UNREACH = 3,	/* proxy unreachable: resolve or connect */
	EXIT_REFUSED = 4,	/* proxy refused the request */
	EXIT_AUTH = 5,		/* proxy authentication required or failed */
	EXIT_TIMEOUT = 6,	/* deadline passed before the tunnel was up */
	EXIT_PROTO = 7		/* protocol error */
};

#define OUTBUF_MAX	16384

struct outbuf {
	unsigned char	data[OUTBUF_MAX];
	size_t		len;
};

/* Why a handshake failed: an exit code and one line for the user. */
struct failure {
	enum exitcode	code;
	char		msg[1024];
};

void	failure_set(struct failure *, enum exitcode, const char *, ...)
	    __attribute__((format(printf, 3, 4)));

#endif
