/*
 * handshake.h: one proxy handshake (HTTP CONNECT or SOCKS) on one
 * connection, as a sans-I/O engine following proto.h.  Any number of
 * these can run at once in one process; each holds its own state.
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

struct hs_params {
	const struct proxy	*proxy;
	const struct target	*target;
	const char * const	*headers;	/* extra "Name: value" */
	size_t			 nheaders;
	struct creds		*creds;		/* may be NULL */
	int			 auth_allow;	/* enum auth_allow */
	/* SOCKS4 and socks5 (not 5h) need the target resolved locally. */
	unsigned char		 addr[16];
	size_t			 addrlen;	/* 4, 16, or 0 for none */
};

struct auth_state;

struct handshake {
	const struct hs_params	*p;
	struct outbuf		 out;
	struct failure		 fail;
	int			 state;
	unsigned		 attempts;	/* requests sent */
	struct head		 head;		/* HTTP response head */
	struct auth_state	*auth;		/* HTTP authentication */
	size_t			 body_left;	/* of a 407 being drained */
	void			*socks;		/* SOCKS engine state */
};

/* Set up h for p (which must outlive h) and fill h->out. */
enum step	hs_start(struct handshake *h, const struct hs_params *p);
/* Offer bytes read from the proxy; see proto.h. */
enum step	hs_input(struct handshake *h, const unsigned char *data,
		    size_t len, bool eof, size_t *used);
/* After STEP_RECONNECT, on the new connection: fill h->out again. */
enum step	hs_restart(struct handshake *h);
/* Under -vv, log the request waiting in h->out, secrets redacted. */
void		hs_log_out(const struct handshake *h);
/* Release what h holds, wiping secrets.  Always call it. */
void		hs_free(struct handshake *h);

#endif
