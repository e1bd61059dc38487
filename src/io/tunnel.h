/*
 * tunnel.h: open a connection to HOST:PORT through a proxy (or directly):
 * connect, run the handshake, reconnect when the handshake asks for it,
 * all under one deadline.  This is the blocking driver used by stdio
 * mode; the engines it drives are sans-I/O (handshake.h).
 */
#ifndef CULVERT_TUNNEL_H
#define CULVERT_TUNNEL_H

#include "proto/handshake.h"
#include "io/net.h"

/*
 * Returns the connected socket, with every byte after the proxy's answer
 * still unread in it, or -1 with f set.  p->proxy NULL means connect to
 * the target directly.
 */
int	tunnel_open(const struct hs_params *p, int family,
	    const struct deadline *d, struct failure *f);

#endif
