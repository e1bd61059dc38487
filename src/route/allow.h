/*
 * allow.h: which targets culvert serve may open.  A rule is
 *
 *	host:port		that name, that port
 *	*.example.com:22	names under example.com (not example.com)
 *	10.0.0.0/8:*		addresses in a range, any port
 *	[::1]:*			an IPv6 address or range, in brackets
 *	192.0.2.7:443		one address
 *
 * A name is allowed when a name rule matches it, or when every address
 * it resolves to is in an address rule; the server then connects to the
 * addresses it checked, so DNS cannot swap them afterwards.
 */
#ifndef CULVERT_ROUTE_ALLOW_H
#define CULVERT_ROUTE_ALLOW_H

#include <stdbool.h>
#include <stddef.h>

#include "route/cidr.h"

struct sockaddr;

struct allow_rule {
	bool		 is_addr;
	char		 name[256];	/* lower case; "*.x" for a suffix */
	struct cidr	 addr;
	unsigned	 port;		/* 0: any */
};

struct allow {
	struct allow_rule *rule;
	size_t		 n, cap;
};

/* Parse one rule and append it; 0, or -1 with a message in err. */
int	allow_add(struct allow *a, const char *rule, char *err, size_t errlen);
/* Does a name rule allow host (a name, not an address) on port? */
bool	allow_name(const struct allow *a, const char *host, unsigned port);
/* Does an address rule allow this address (its port is port)? */
bool	allow_addr(const struct allow *a, const struct sockaddr *sa,
	    unsigned port);
void	allow_free(struct allow *a);

#endif
