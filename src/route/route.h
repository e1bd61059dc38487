/*
 * route.h: how to reach a target: a chain of hops, each a list of
 * alternative proxies tried in order, the last alternative of the first
 * hop possibly "direct".  No hops at all means a direct connection.
 *
 * A route is reference-counted: every tunnel holds one reference for its
 * whole life, so a configuration reload can drop its own while tunnels
 * opened under the old route finish undisturbed.  The credentials it
 * holds are wiped when the last reference goes.
 *
 * Layer route/: where to go and how: targets, proxy URLs, chains and
 * alternatives, the proxy environment and NO_PROXY.  Pure: reads the
 * environment but never does I/O, logs or exits (tests/layers.sh checks).
 */
#ifndef CULVERT_ROUTE_ROUTE_H
#define CULVERT_ROUTE_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "route/proxyurl.h"

#define ROUTE_HOPS_MAX		8
#define ROUTE_ALTS_MAX		8
#define ROUTE_HEADERS_MAX	32

struct creds;

struct route_alt {
	bool		 direct;	/* no proxy: connect to the next hop */
	struct proxy	 px;
	struct creds	*creds;		/* NULL when none; owned */
	char		 url[300];	/* "http://host:port", for messages */
};

struct route_hop {
	struct route_alt alt[ROUTE_ALTS_MAX];
	size_t		 nalt;
	/* What tunnels learned, when the route remembers (retry_ms > 0). */
	size_t		 current;	/* the alternative that worked last */
	long long	 failed_at[ROUTE_ALTS_MAX];	/* clock_ms(), or 0 */
};

struct route {
	unsigned	 refs;
	struct route_hop hop[ROUTE_HOPS_MAX];
	size_t		 nhops;		/* 0: straight to the target */
	char		*headers[ROUTE_HEADERS_MAX];	/* copies */
	size_t		 nheaders;
	unsigned	 auth_allow;	/* AUTH_ALLOW_* bits */
	int		 family;	/* of the first connection */
	char		*proxy_command;	/* reaches the first hop, or NULL */
	char		*proxy_cacert;	/* CA file for https:// proxies, or NULL */
	/*
	 * A long-lived route (listen mode) remembers which alternative
	 * works and skips one that failed for this long; 0: no memory.
	 */
	long long	 retry_ms;
};

/* A new route with one reference and no hops; NULL when out of memory. */
struct route	*route_new(void);
struct route	*route_ref(struct route *);
/* Drop a reference; the last one wipes the credentials and frees r. */
void		 route_unref(struct route *);

/*
 * Append the hops of spec: hops separated by ',' (as ssh's ProxyJump),
 * each a list of proxy URLs separated by '|', "direct" allowed as the
 * last alternative of the first hop.  User info in a URL goes to that
 * alternative's creds.  0, or -1 with a message in err that never shows
 * a password.
 */
int		 route_add(struct route *r, const char *spec, char *err,
		    size_t errlen);
/*
 * A route of one proxy from url, taken whole: ',' and '|' are not
 * separators and "direct" is not special (https_proxy and its kin hold
 * one URL, as curl reads them).  r must have no hops yet.  As route_add().
 */
int		 route_add_url(struct route *r, const char *url, char *err,
		    size_t errlen);
/* Copy a header line into r; -1 when out of memory or too many. */
int		 route_add_header(struct route *r, const char *header);
/* Copy a string option into *slot (replacing it); -1 when out of memory. */
int		 route_set_string(char **slot, const char *value);

/* A hop's alternative for messages: "http://host:port" or "direct". */
const char	*route_alt_name(const struct route_alt *a);

#endif
