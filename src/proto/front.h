/*
 * front.h: the server side of the proxy protocols, for a local front end
 * (culvert -D) and for culvert serve: read a client's SOCKS5, SOCKS4/4a
 * or HTTP CONNECT request, told apart by its first byte, and answer it in
 * the client's own protocol.  An engine like the client ones (proto.h):
 * bytes in, bytes out, no I/O.
 */
#ifndef CULVERT_PROTO_FRONT_H
#define CULVERT_PROTO_FRONT_H

#include <stdbool.h>
#include <stddef.h>

#include "proto/http.h"
#include "route/target.h"
#include "util/failure.h"

#define FRONT_OUT_MAX	1024

enum front_kind {
	FRONT_UNKNOWN,		/* nothing read yet */
	FRONT_SOCKS5,
	FRONT_SOCKS4,		/* and 4a */
	FRONT_HTTP
};

enum front_step {
	FRONT_NEED,		/* offer more bytes */
	FRONT_SEND,		/* send out, then offer more (SOCKS5 method) */
	FRONT_REQUEST,		/* target is known: open the tunnel, then
				   front_reply_ok() or front_reply_fail() */
	FRONT_REJECT		/* send out (if any), then close; see reason */
};

struct front {
	enum front_kind	 kind;
	unsigned	 allow;		/* FRONT_ALLOW_* bits */
	int		 state;
	struct head	 head;		/* HTTP request head */
	struct target	 target;	/* once FRONT_REQUEST */
	unsigned char	 out[FRONT_OUT_MAX];
	size_t		 outlen;
	char		 reason[200];	/* why it was rejected, for the log */
};

#define FRONT_ALLOW_SOCKS5	0x1u
#define FRONT_ALLOW_SOCKS4	0x2u
#define FRONT_ALLOW_HTTP	0x4u
#define FRONT_ALLOW_ALL		0x7u

/* Start reading a request in the protocols allowed (FRONT_ALLOW_*). */
void		front_init(struct front *f, unsigned allow);
/*
 * Offer the client's bytes; *used says how many were consumed, never
 * more than its request (what follows belongs to the tunnel).  eof: the
 * client closed.
 */
enum front_step	front_input(struct front *f, const unsigned char *data,
		    size_t len, bool eof, size_t *used);
/* Put the success answer in out. */
void		front_reply_ok(struct front *f);
/* Put the answer for an upstream failure in out, in the client's terms. */
void		front_reply_fail(struct front *f, const struct failure *fail);
/* The HTTP status a failure maps to (502, 504, ...). */
int		front_http_status(const struct failure *fail);
/* The SOCKS5 reply code a failure maps to. */
unsigned	front_socks5_code(const struct failure *fail);
/* "SOCKS5", "SOCKS4", "HTTP", or "unknown". */
const char	*front_kind_name(enum front_kind);
void		front_free(struct front *f);

#endif
