/*
 * noproxy.h: does a NO_PROXY list say to reach this target directly?
 */
#ifndef CULVERT_NOPROXY_H
#define CULVERT_NOPROXY_H

#include <stdbool.h>

/* Called once for each malformed entry of a list; entry is a copy. */
typedef void	noproxy_bad_fn(const char *entry, void *arg);

/*
 * true when list (NO_PROXY syntax, see noproxy.c) matches host and port.
 * host is a name or an IP literal, IPv6 with or without brackets.  Every
 * entry is examined, so bad (which may be NULL) hears about each malformed
 * entry even when an earlier one matched.  A NULL or empty list matches
 * nothing.
 */
bool	noproxy_match(const char *list, const char *host, unsigned port,
	    noproxy_bad_fn *bad, void *arg);

#endif
