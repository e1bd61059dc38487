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
	char		*args[ROUTE_HOPS_MAX];	/* argv string of each hop */
};

/*
 * Build the route to target from the options and the environment:
 * proxies (flags or environment), NO_PROXY, headers, and credentials
 * gathered for every hop (which may prompt).  NULL with f set.
 */
struct route	*mode_route(struct options *o, const struct target *target,
		    struct route_origin *origin, struct failure *f);

/*
 * The route along spec (a proxy list from a configuration file, or
 * "direct"), or with spec NULL along the command line's --proxy options
 * or the environment's proxy, without credentials yet.  NULL with f set.
 */
struct route	*mode_route_build(struct options *o, const char *spec,
		    struct route_origin *origin, struct failure *f);
/*
 * Gather credentials for every hop of r (first hop: the URL, -U, the
 * environment, --auth-file; later hops: their URL), asking on the
 * terminal only when prompt is set.  0, or -1 with f set.
 */
int		 mode_route_creds(struct options *o, struct route *r,
		    const struct route_origin *origin, bool prompt,
		    struct failure *f);
/* "http://a:3128|direct -> socks5h://b:1080", for -v and --check. */
void		 mode_describe_route(const struct route *r, char *buf,
		    size_t len);

/*
 * Freed memory goes back to the system (glibc's malloc_trim) at most
 * every two seconds, after tunnels set up or closed (pending): a loop
 * calls trim_memory() after each round and wakes at trim_timer().
 */
struct trim {
	bool		 pending;
	long long	 at;
};
void		 trim_memory(struct trim *);
long long	 trim_timer(const struct trim *);

/* Log a tunnel's events: arg is the prefix ("" or "[12] "). */
void		 mode_log_event(void *arg, const struct tunnel_event *ev);

/*
 * A session of culvert serve carrying in_fd and out_fd (tunnelc.c): for
 * --tunnel in stdio mode, and for listeners whose route is a tunnel.
 * Shaped like the tunnel machine: tclient_pollfds() (TCLIENT_PFD_MAX
 * slots), tclient_timer(), tclient_events(): 1 running, 0 done, -1
 * failed (tclient_failure()).
 */
#define TCLIENT_PFD_MAX	(2 + 3 * TUNNEL_PFD_MAX)

struct tclient;

struct tclient_params {
	struct route		*route;		/* to the server (referenced) */
	const char		*url;		/* of culvert serve */
	const struct target	*target;
	unsigned char		 token[1024];	/* SESS_TOKEN_MAX */
	size_t			 toklen;	/* 0: none */
	int			 in_fd, out_fd;
	bool			 sock_io;	/* a socket of ours */
	bool			 both_ways;	/* done when both ways are */
	bool			 hold;		/* no reading until released */
	bool			 shutdown;	/* end of input travels */
	double			 keepalive, resume_timeout;
	int			 transport;	/* enum tunnel_transport */
	const char		*prefix;	/* for log lines, or NULL */
};

struct tclient	*tclient_new(const struct tclient_params *, struct failure *);
size_t		 tclient_pollfds(struct tclient *, struct pollfd *);
long long	 tclient_timer(struct tclient *);
int		 tclient_events(struct tclient *, const struct pollfd *, size_t);
bool		 tclient_opened(const struct tclient *);
void		 tclient_release(struct tclient *);
/* End the session now (with a goodbye to the server). */
void		 tclient_stop(struct tclient *);
const struct failure *tclient_failure(const struct tclient *);
void		 tclient_counts(const struct tclient *, unsigned long long *up,
		    unsigned long long *down);
void		 tclient_free(struct tclient *);

int	mode_stdio(struct options *);
int	mode_listen(struct options *);
int	mode_tunnel(struct options *);
int	mode_serve(const struct serve_options *);
int	mode_check(struct options *);

#endif
