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
	bool		 check;		/* --check: report, do not relay */
	const char	*host;		/* positional HOST */
	const char	*port;		/* positional PORT */
};

enum opt_result {
	OPT_RUN,
	OPT_HELP,
	OPT_VERSION,
	OPT_ERROR
};

/* Parse argv.  On OPT_ERROR, err holds a one-line message. */
enum opt_result	options_parse(struct options *, int, char **, char *,
		    size_t);
void		options_usage(void);

#endif
