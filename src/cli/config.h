/*
 * config.h: listen mode's listeners, from -L/-D flags or a file of one
 * directive a line:
 *
 *	proxy URL[|URL...][,URL...]	proxies for the lines after it
 *	no-proxy LIST			NO_PROXY for the lines after it
 *	timeout SECONDS			set-up deadline for the lines after it
 *	allow-from CIDR			a client range for the lines after it
 *	retry SECONDS			how long a failed fallback proxy is
 *					skipped (default 60)
 *	forward [BIND:]PORT HOST:PORT [via URL... | direct]
 *	socks [BIND:]PORT		a local SOCKS5/SOCKS4a/CONNECT proxy
 *
 * '#' starts a comment.  BIND is an IP address (IPv6 in brackets) or
 * localhost; without it, 127.0.0.1.
 */
#ifndef CULVERT_CLI_CONFIG_H
#define CULVERT_CLI_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "route/cidr.h"
#include "route/target.h"

#define CONFIG_ALLOW_MAX	32
#define CONFIG_LISTEN_MAX	256

enum lkind {
	LISTEN_FORWARD,		/* -L, forward */
	LISTEN_DYNAMIC		/* -D, socks */
};

struct lspec {
	enum lkind	 kind;
	char		 bind[64];	/* an address literal */
	unsigned	 port;
	struct target	 target;	/* forward: where to */
	char		*proxy;		/* proxies in force, "direct", or
					   NULL: the command line's */
	char		*noproxy;	/* NULL: the command line's */
	char		*tunnel;	/* culvert serve's URL, or NULL */
	double		 timeout;	/* < 0: the command line's */
	double		 retry;		/* < 0: 60 s */
	struct cidr	 allow[CONFIG_ALLOW_MAX];
	size_t		 nallow;	/* 0: the command line's, or loopback */
	unsigned	 line;		/* 0: from the command line */
};

struct lconfig {
	struct lspec	 spec[CONFIG_LISTEN_MAX];
	size_t		 n;
	bool		 private;	/* the file is 0600 and the user's own */
};

/*
 * "[BIND:]PORT" into bind (an address literal) and *port.  0, or -1 with
 * a message in err.
 */
int	config_parse_bind(const char *s, char *bind, size_t bindlen,
	    unsigned *port, char *err, size_t errlen);
/*
 * Read the file at path into *c (zeroed first).  0, or -1 with
 * "PATH:LINE: message" (or "PATH: message") in err; *c is then freed.
 * User names and passwords in proxy URLs are refused unless the file is
 * mode 0600 (or stricter) and belongs to the user.
 */
int	config_load(const char *path, struct lconfig *c, char *err,
	    size_t errlen);
/* Append one listener from the command line; -1 with err when full. */
int	config_add(struct lconfig *c, const struct lspec *s, char *err,
	    size_t errlen);
void	config_free(struct lconfig *c);
/* Do two listeners bind the same address and port? */
bool	config_same_bind(const struct lspec *a, const struct lspec *b);
/* Is this bind address a loopback one? */
bool	config_bind_loopback(const char *bind);

#endif
