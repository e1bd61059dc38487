/*
 * mode.h: the drivers, one per way of running culvert, and what they
 * share: the exit statuses, building a route from the options, and
 * logging what a tunnel reports.  Each driver returns an exit status and
 * has already printed its one-line error.
 *
 * Layer mode/: one driver per way of running (stdio, check, listen,
 * serve).  The only layer that decides how a failure ends: exit statuses
 * here, SOCKS replies and HTTP statuses in the front ends.  Uses every
 * other layer; nothing uses it but main.c.
 */
#ifndef CULVERT_MODE_H
#define CULVERT_MODE_H

#include "cli/options.h"
#include "io/tunnel.h"
#include "route/route.h"
#include "route/target.h"
#include "util/failure.h"

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

/* The exit status for a failure of this kind. */
int	mode_exit_status(const struct failure *f);

/* Where a route came from, for -v and --check. */
struct route_origin {
	const char	*proxy_var;	/* "--proxy", "https_proxy", ... */
	const char	*noproxy_var;	/* the NO_PROXY list's source, or NULL */
	bool		 matched_noproxy; /* the target is reached directly */
};

/*
 * Build the route to target from the options and the environment:
 * proxies (flags or environment), NO_PROXY, headers, and credentials
 * gathered for every hop (which may prompt).  NULL with f set.
 */
struct route	*mode_route(struct options *o, const struct target *target,
		    struct route_origin *origin, struct failure *f);

/* "http://a:3128|direct -> socks5h://b:1080", for -v and --check. */
void		 mode_describe_route(const struct route *r, char *buf,
		    size_t len);

/* Log a tunnel's events: arg is the prefix ("" or "[12] "). */
void		 mode_log_event(void *arg, const struct tunnel_event *ev);

int	mode_stdio(struct options *);
int	mode_check(struct options *);

#endif
