/*
 * handshake.h: one proxy handshake (HTTP CONNECT or SOCKS) on one
 * connection, as an engine following proto.h.  Any number of these can
 * run at once in one process; each holds its own state.
 */
#ifndef CULVERT_HANDSHAKE_H
#define CULVERT_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>

#include "proto/http.h"
#include "proto/proto.h"
#include "route/proxyurl.h"
#include "route/target.h"

struct creds;

/*
 * What one hop asks its proxy for.  Everything pointed to is the
 * caller's and must outlive the handshake (a tunnel keeps a reference to
 * the configuration it came from, so a reload cannot pull it away).
 */
struct hs_params {
	const struct proxy	*proxy;
	const struct target	*target;	/* the next hop, or the target */
	const char * const	*headers;	/* extra "Name: value" */
	size_t			 nheaders;
	const struct creds	*creds;		/* may be NULL */
	unsigned		 auth_allow;	/* AUTH_ALLOW_* bits */
	bool			 to_proxy;	/* target: the next proxy */
	/* The target's address when hs_local_family() asked for one. */
	unsigned char		 addr[16];
	size_t			 addrlen;	/* 4, 16, or 0 for none */
};

struct auth_state;

struct handshake {
	const struct hs_params	*p;
	hs_event_fn		*event;		/* may be NULL */
	void			*event_arg;
	struct outbuf		 out;
	struct failure		 fail;
	char			 authority[300]; /* "host:port" of the target */
	int			 state;
	unsigned		 attempts;	/* requests sent */
	struct head		 head;		/* HTTP response head */
	struct auth_state	*auth;		/* HTTP authentication */
	size_t			 body_left;	/* of a 407 being drained */
	void			*socks;		/* SOCKS engine state */
};

/*
 * Set up h for p and fill h->out.  event (may be NULL) hears what the
 * engine does; see proto.h.
 */
enum step	hs_start(struct handshake *h, const struct hs_params *p,
		    hs_event_fn *event, void *event_arg);
/* Offer bytes read from the proxy; see proto.h. */
enum step	hs_input(struct handshake *h, const unsigned char *data,
		    size_t len, bool eof, size_t *used);
/* After STEP_RECONNECT, on the new connection: fill h->out again. */
enum step	hs_restart(struct handshake *h);
/* Release what h holds, wiping secrets.  Always call it. */
void		hs_free(struct handshake *h);

/*
 * SOCKS4 and socks5:// send an address, so the target's name must be
 * resolved before hs_start(): returns the address family to ask for
 * (AF_INET or AF_UNSPEC), or -1 when the proxy takes the name as it is
 * (HTTP, socks4a, socks5h) or the target is already an address literal.
 */
int		hs_local_family(const struct proxy *proxy,
		    const struct target *target);

/* The HTTP CONNECT engine (connect.c), behind hs_*. */
enum step	connect_restart(struct handshake *h);
enum step	connect_input(struct handshake *h, const unsigned char *data,
		    size_t len, bool eof, size_t *used);

/* Tell h's listener, if any (handshake.c). */
void		hs_emit(struct handshake *h, enum hs_event_kind kind,
		    const char *text, size_t len, int code);
void		hs_emitf(struct handshake *h, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));

#endif
