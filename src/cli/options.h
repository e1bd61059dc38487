/*
 * options.h: the command line, parsed into one structure.
 *
 * Layer cli/: what the user typed and where secrets come from: options,
 * credentials from URLs, files, the environment and prompts (creds.c),
 * later the configuration file.  May use route/, auth/ and util/; opens
 * files and the terminal, but never the network.
 */
#ifndef CULVERT_OPTIONS_H
#define CULVERT_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#define MAX_HEADERS	32
#define MAX_PROXIES	8	/* -p given this many times: a chain */
#define MAX_LISTEN	16	/* -L and -D, each */
#define MAX_ALLOW	16	/* --allow-from */

enum tunnel_transport {
	TT_AUTO,		/* stream, else http when CONNECT is refused */
	TT_STREAM,		/* a connection of its own */
	TT_HTTP			/* POST and GET requests */
};

struct options {
	char		*proxy[MAX_PROXIES];	/* -p, in argv: may hold userinfo */
	size_t		 nproxy;
	const char	*proxy_command;	/* --proxy-command */
	const char	*proxy_cacert;	/* --proxy-cacert */
	double		 timeout;	/* seconds, 0 = none */
	int		 family;	/* AF_UNSPEC, AF_INET, AF_INET6 */
	const char	*headers[MAX_HEADERS];
	size_t		 nheaders;
	bool		 shutdown;	/* -N */
	int		 verbosity;	/* -1 quiet, 0, 1, 2 */
	char		*proxy_user;	/* -U, may hold a password (argv) */
	const char	*auth_file;
	unsigned	 auth_allow;	/* AUTH_ALLOW_* bits */
	const char	*no_proxy;	/* --no-proxy, NULL when not given */
	bool		 fdpass;
	bool		 no_splice;
	const char	*listen[MAX_LISTEN];	/* -L [BIND:]PORT */
	size_t		 nlisten;
	const char	*dynamic[MAX_LISTEN];	/* -D [BIND:]PORT */
	size_t		 ndynamic;
	const char	*config;	/* -c FILE */
	const char	*allow_from[MAX_ALLOW];
	size_t		 nallow_from;
	bool		 syslog;
	const char	*tunnel;	/* --tunnel URL of a culvert serve */
	int		 tunnel_transport;	/* enum tunnel_transport */
	double		 resume_timeout;	/* --resume-timeout */
	double		 keepalive;		/* --keepalive */
	const char	*token_file;	/* --token-file, or CULVERT_TOKEN_FILE */
	bool		 check;		/* --check: report, do not relay */
	const char	*host;		/* positional HOST */
	const char	*port;		/* positional PORT */
};

/* culvert serve [options] */
struct serve_options {
	const char	*listen;	/* [BIND:]PORT, default 127.0.0.1:8080 */
	const char	*allow[64];	/* --allow rules */
	size_t		 nallow;
	const char	*allow_file;
	const char	*token_file;
	bool		 insecure_no_token;
	double		 resume_timeout; /* seconds a session waits */
	double		 poll_timeout;	/* seconds a long-poll GET waits */
	size_t		 max_sessions;
	size_t		 max_conns;
	int		 verbosity;
	bool		 syslog;
};

enum opt_result {
	OPT_RUN,
	OPT_HELP,
	OPT_VERSION,
	OPT_ERROR
};

/* Parse argv.  On OPT_ERROR, err holds a one-line message. */
/* listen mode: -L, -D or -c */
#define OPTIONS_LISTEN(o)	((o)->nlisten > 0 || (o)->ndynamic > 0 || \
				    (o)->config != NULL)
enum opt_result	options_parse(struct options *, int, char **, char *,
		    size_t);
void		options_usage(void);
/* argv[1] is "serve": parse the rest into *so. */
enum opt_result	options_parse_serve(struct serve_options *so, int argc,
		    char **argv, char *err, size_t errlen);
void		options_usage_serve(void);

#endif
