/*
 * tunnel.h: opening a tunnel to HOST:PORT along a route, as a state
 * machine with the relay's shape, so one poll() loop can open any number
 * at once:
 *
 *	resolve the first hop (or the target) without blocking
 *	-> connect to its addresses in turn, IPv6 and IPv4 raced (io/net.h)
 *	-> each hop's handshake, the next hop's name resolved first where a
 *	   SOCKS proxy wants an address
 *	-> reconnect when an engine asks (a 407 that closed), within
 *	   HS_MAX_CONNECTS
 *	-> a connected, ready transport.
 *
 * An alternative of a hop that cannot be reached, or does not answer
 * within its share of the deadline, gives way to the next one.  One
 * deadline covers everything.
 *
 * A driver calls tunnel_pollfds() and tunnel_timer() before poll(), and
 * tunnel_events() after it, until the tunnel is up or has failed.
 *
 * Layer io/: everything that touches a descriptor: resolving, connecting,
 * transports, the tunnel state machine, the relay, child processes,
 * descriptor passing.  Drives the engines of proto/; logs nothing itself
 * (it reports events to its driver in mode/).
 */
#ifndef CULVERT_IO_TUNNEL_H
#define CULVERT_IO_TUNNEL_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>

#include "io/transport.h"
#include "route/route.h"
#include "route/target.h"
#include "util/clock.h"
#include "util/failure.h"

#define TUNNEL_PFD_MAX	5	/* pollfd slots a tunnel fills at most */

enum tunnel_status {
	TUNNEL_BUSY,		/* call tunnel_events() again after poll() */
	TUNNEL_UP,		/* tunnel_take() the transport */
	TUNNEL_FAILED		/* tunnel_failure() says why */
};

/* What a tunnel reports to its driver, which adds its own identity. */
enum tunnel_event_kind {
	TEV_STEP,		/* a -v line */
	TEV_SENT,		/* a request line, secrets redacted (-vv) */
	TEV_RECEIVED,		/* a line of a proxy's answer (-vv) */
	TEV_STATUS,		/* a proxy's status line; code is the status */
	TEV_AUTH_OFFERED,	/* schemes a 407 offered, described */
	TEV_AUTH_USED,		/* the scheme culvert answered with */
	TEV_RESOLVED,		/* text: the addresses; ms: how long it took */
	TEV_CONNECTED,		/* text: the address; ms: how long it took */
	TEV_SKIPPED,		/* an alternative gave way; text says why */
	TEV_FAILED		/* the tunnel failed; text: tunnel_failure()'s */
};

/* The step an event (above all TEV_FAILED) belongs to. */
enum tunnel_phase {
	TP_RESOLVE,		/* the first connection's name */
	TP_CONNECT,		/* TCP connect, or starting the proxy command */
	TP_NEXT,		/* a SOCKS hop's next name, resolved locally */
	TP_SEND,		/* the request to the proxy */
	TP_RECV,		/* the proxy's answer */
	TP_UP			/* the tunnel is up */
};

struct tunnel_event {
	enum tunnel_event_kind	 kind;
	enum tunnel_phase	 phase;
	unsigned		 hop;	/* 1-based; 0: the direct connection */
	unsigned		 alt;	/* the hop's alternative, 0-based */
	unsigned		 hops;	/* hops of the route, 0 when direct */
	const char		*text;	/* valid during the call only */
	size_t			 len;
	int			 code;
	long long		 ms;
};

typedef void	tunnel_event_fn(void *arg, const struct tunnel_event *);

struct tunnel;

/*
 * A tunnel to target along r (a reference is taken) before the deadline.
 * event (may be NULL) hears every step.  NULL when out of memory.
 */
struct tunnel	*tunnel_new(struct route *r, const struct target *target,
		    const struct deadline *d, tunnel_event_fn *event,
		    void *event_arg);
/* Fill pfd (TUNNEL_PFD_MAX slots at most); returns how many. */
size_t		 tunnel_pollfds(struct tunnel *, struct pollfd *pfd);
/* The next moment tunnel_events() must run even without events. */
long long	 tunnel_timer(const struct tunnel *);
/* Act on poll()'s answer for the slots tunnel_pollfds() filled. */
enum tunnel_status tunnel_events(struct tunnel *, const struct pollfd *pfd,
		    size_t n);
const struct failure *tunnel_failure(const struct tunnel *);
/* Once TUNNEL_UP: move the transport to *out (the tunnel forgets it). */
void		 tunnel_take(struct tunnel *, struct transport *out);
/* Close what is still open, drop the route; any time. */
void		 tunnel_free(struct tunnel *);

/*
 * The blocking form, for stdio mode and --check: run one tunnel with its
 * own poll() loop.  0 with *out ready, or -1 with *f set.
 */
int		 tunnel_open(struct route *r, const struct target *target,
		    const struct deadline *d, tunnel_event_fn *event,
		    void *event_arg, struct transport *out, struct failure *f);

#endif
