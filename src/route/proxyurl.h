/*
 * proxyurl.h: parse "[scheme://][user[:password]@]host[:port][/]".
 */
#ifndef CULVERT_PROXYURL_H
#define CULVERT_PROXYURL_H

#include <stddef.h>

#include "auth/creds.h"

enum proxy_scheme {
	SCHEME_HTTP,
	SCHEME_HTTPS,		/* HTTP CONNECT inside TLS to the proxy */
	SCHEME_SOCKS4,
	SCHEME_SOCKS4A,
	SCHEME_SOCKS5,
	SCHEME_SOCKS5H
};

#define PROXY_DEFAULT_PORT	1080
#define PROXY_HTTPS_PORT	443	/* https://, as curl */

struct proxy {
	enum proxy_scheme scheme;
	char		host[256];	/* IPv6 without brackets */
	unsigned	port;
};

/*
 * Parse url into *p.  User and password, percent-decoded, go to *c (which
 * may be NULL when the caller does not accept userinfo).  On error returns
 * -1 with a message in err; *c may then hold partial data, which the caller
 * wipes as usual.
 */
int		proxyurl_parse(const char *url, struct proxy *p, struct creds *c,
		    char *err, size_t errlen);
const char	*proxy_scheme_name(enum proxy_scheme);
/* http:// and https:// proxies take CONNECT requests. */
int		proxy_speaks_http(enum proxy_scheme);
/* "host:port", IPv6 bracketed, for messages. */
void		proxy_format(const struct proxy *, char *, size_t);

#endif
