/*
 * options.c: getopt_long parsing; defaults are applied before parsing
 * and checked after it.
 */
#include <sys/socket.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/challenge.h"
#include "cli/options.h"
#include "util/num.h"

enum {
	OPT_AUTH_FILE = 256,
	OPT_PROXY_AUTH,
	OPT_NO_PROXY,
	OPT_FDPASS,
	OPT_NO_SPLICE,
	OPT_PROXY_COMMAND,
	OPT_PROXY_CACERT,
	OPT_ALLOW_FROM,
	OPT_SYSLOG,
	OPT_TUNNEL,
	OPT_TUNNEL_TRANSPORT,
	OPT_RESUME_TIMEOUT,
	OPT_KEEPALIVE,
	OPT_TOKEN_FILE,
	OPT_CHECK
};

static const struct option longopts[] = {
	{ "proxy",	required_argument, NULL, 'p' },
	{ "timeout",	required_argument, NULL, 't' },
	{ "header",	required_argument, NULL, 'H' },
	{ "shutdown",	no_argument,	   NULL, 'N' },
	{ "proxy-user",	required_argument, NULL, 'U' },
	{ "auth-file",	required_argument, NULL, OPT_AUTH_FILE },
	{ "proxy-auth",	required_argument, NULL, OPT_PROXY_AUTH },
	{ "no-proxy",	required_argument, NULL, OPT_NO_PROXY },
	{ "fdpass",	no_argument,	   NULL, OPT_FDPASS },
	{ "no-splice",	no_argument,	   NULL, OPT_NO_SPLICE },
	{ "proxy-command", required_argument, NULL, OPT_PROXY_COMMAND },
	{ "proxy-cacert", required_argument, NULL, OPT_PROXY_CACERT },
	{ "listen",	required_argument, NULL, 'L' },
	{ "dynamic",	required_argument, NULL, 'D' },
	{ "config",	required_argument, NULL, 'c' },
	{ "allow-from",	required_argument, NULL, OPT_ALLOW_FROM },
	{ "syslog",	no_argument,	   NULL, OPT_SYSLOG },
	{ "tunnel",	required_argument, NULL, OPT_TUNNEL },
	{ "tunnel-transport", required_argument, NULL, OPT_TUNNEL_TRANSPORT },
	{ "resume-timeout", required_argument, NULL, OPT_RESUME_TIMEOUT },
	{ "keepalive",	required_argument, NULL, OPT_KEEPALIVE },
	{ "token-file",	required_argument, NULL, OPT_TOKEN_FILE },
	{ "check",	no_argument,	   NULL, OPT_CHECK },
	{ "verbose",	no_argument,	   NULL, 'v' },
	{ "quiet",	no_argument,	   NULL, 'q' },
	{ "help",	no_argument,	   NULL, 'h' },
	{ "version",	no_argument,	   NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

void
options_usage(void)
{
	fputs(
"usage: culvert [options] HOST PORT\n"
"       culvert -L [BIND:]PORT [options] HOST PORT\n"
"       culvert -D [BIND:]PORT [options]\n"
"       culvert -c FILE [options]\n"
"Carry a byte stream to HOST:PORT through an HTTP or SOCKS proxy,\n"
"relaying stdin and stdout (e.g. as ssh's ProxyCommand), or listen on\n"
"local ports and carry each connection through the proxy.\n"
"\n"
"  -p, --proxy URL          proxy: [scheme://][user[:password]@]host[:port]\n"
"                           schemes: http (default), https, socks4,\n"
"                           socks4a, socks5, socks5h; default port 1080\n"
"                           (https: 443); give -p again for a chain,\n"
"                           'URL|URL|direct' for fallbacks\n"
"      --proxy-command CMD  reach the first proxy through CMD's stdin and\n"
"                           stdout (run with /bin/sh -c)\n"
"      --proxy-cacert FILE  CA certificates for an https:// proxy\n"
"  -t, --timeout SECONDS    deadline for connecting and the handshake\n"
"                           (default 30, 0 for none)\n"
"  -4, -6                   reach the proxy over IPv4 or IPv6 only\n"
"  -H, --header 'Name: value'  add a header to the CONNECT request\n"
"  -N, --shutdown           on end of input, shut down the sending side\n"
"  -U, --proxy-user USER[:PASSWORD]  proxy user (password: see --auth-file)\n"
"      --auth-file FILE     read user:password from FILE (mode 0600)\n"
"      --proxy-auth SCHEME  basic, digest, ntlm or any (default any)\n"
"      --no-proxy LIST      hosts to reach directly (replaces NO_PROXY)\n"
"      --fdpass             hand the connected socket to ssh (ProxyUseFdpass)\n"
"      --no-splice          debugging: use the portable relay, not splice(2)\n"
"  -L, --listen [BIND:]PORT forward connections to that local port to\n"
"                           HOST PORT through the proxy (repeatable)\n"
"  -D, --dynamic [BIND:]PORT  a local SOCKS5, SOCKS4a and HTTP CONNECT\n"
"                           proxy on that port, through the proxy\n"
"  -c, --config FILE        listeners and proxies from FILE (reloaded\n"
"                           on SIGHUP and when it changes)\n"
"      --allow-from CIDR    clients a listener serves (repeatable;\n"
"                           default: loopback only)\n"
"      --syslog             listen mode: log to syslog, not stderr\n"
"      --tunnel URL         reach HOST PORT through culvert serve at URL\n"
"                           (e.g. http://server.example:8080/), through\n"
"                           the proxy; resumes after a cut connection\n"
"      --tunnel-transport MODE  stream, http or auto (default auto:\n"
"                           stream, http when the proxy refuses CONNECT)\n"
"      --resume-timeout SECONDS  how long to try to resume (default 120)\n"
"      --keepalive SECONDS  quiet time before a keep-alive (default 25)\n"
"      --token-file FILE    culvert serve's token (mode 600)\n"
"      --check              open the tunnel, report every step and what the\n"
"                           target says first, and exit; relays nothing\n"
"  -v, --verbose            show each step; twice: the protocol heads too\n"
"  -q, --quiet              print errors only\n"
"  -h, --help               show this help\n"
"  -V, --version            show the version\n"
"\n"
"Environment: CULVERT_PROXY, https_proxy, all_proxy, http_proxy, NO_PROXY,\n"
"CULVERT_PROXY_USER, CULVERT_PROXY_PASSWORD.  See culvert(1).\n",
	    stdout);
}

static int
parse_header(const char *h, char *err, size_t errlen)
{
	const char *colon = strchr(h, ':');
	size_t i;

	for (i = 0; h[i] != '\0'; i++) {
		unsigned char c = (unsigned char)h[i];

		if (c == '\r' || c == '\n' ||
		    (c < 0x20 && c != '\t') || c == 0x7f) {
			snprintf(err, errlen, "--header holds a control byte "
			    "(CR, LF or other): give one 'Name: value' per "
			    "--header");
			return -1;
		}
	}
	if (colon == NULL || colon == h) {
		snprintf(err, errlen, "--header \"%.40s\" is not 'Name: "
		    "value'", h);
		return -1;
	}
	for (i = 0; h + i < colon; i++) {
		unsigned char c = (unsigned char)h[i];

		/* RFC 9110 token characters. */
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("!#$%&'*+-.^_`|~", c))) {
			snprintf(err, errlen, "--header name \"%.*s\" is not a "
			    "valid HTTP field name", (int)(colon - h), h);
			return -1;
		}
	}
	return 0;
}

/* --proxy-auth NAME to AUTH_ALLOW_* bits; 0 for an unknown name. */
static unsigned
parse_auth(const char *name)
{
	static const struct {
		const char	*name;
		unsigned	 allow;
	} auths[] = {
		{ "basic", AUTH_ALLOW_BASIC },
		{ "digest", AUTH_ALLOW_DIGEST },
		{ "ntlm", AUTH_ALLOW_NTLM },
		{ "any", AUTH_ALLOW_ANY },
	};
	size_t i;

	for (i = 0; i < sizeof(auths) / sizeof(auths[0]); i++)
		if (strcasecmp(name, auths[i].name) == 0)
			return auths[i].allow;
	return 0;
}

enum opt_result
options_parse(struct options *o, int argc, char **argv, char *err,
    size_t errlen)
{
	int ch;

	memset(o, 0, sizeof(*o));
	o->timeout = 30;
	o->family = AF_UNSPEC;
	o->auth_allow = AUTH_ALLOW_ANY;
	o->resume_timeout = 120;
	o->keepalive = 25;

	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, ":46c:D:hH:L:Np:qt:U:vV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case '4':
			o->family = AF_INET;
			break;
		case '6':
			o->family = AF_INET6;
			break;
		case 'H':
			if (parse_header(optarg, err, errlen) == -1)
				return OPT_ERROR;
			if (o->nheaders == MAX_HEADERS) {
				snprintf(err, errlen, "at most %d --header "
				    "options", MAX_HEADERS);
				return OPT_ERROR;
			}
			o->headers[o->nheaders++] = optarg;
			break;
		case 'N':
			o->shutdown = true;
			break;
		case 'p':
			if (o->nproxy == MAX_PROXIES) {
				snprintf(err, errlen, "--proxy given more than "
				    "%d times; a chain has at most %d proxies",
				    MAX_PROXIES, MAX_PROXIES);
				return OPT_ERROR;
			}
			o->proxy[o->nproxy++] = optarg;
			break;
		case 'q':
			o->verbosity = -1;
			break;
		case 't':
			if (num_parse_seconds(optarg, 86400, &o->timeout) == -1) {
				snprintf(err, errlen, "bad --timeout \"%.20s\": "
				    "give seconds, e.g. 10 or 2.5 (0 for none)",
				    optarg);
				return OPT_ERROR;
			}
			break;
		case 'U':
			o->proxy_user = optarg;
			break;
		case 'v':
			if (o->verbosity < 0)
				o->verbosity = 0;
			if (o->verbosity < 2)
				o->verbosity++;
			break;
		case OPT_AUTH_FILE:
			o->auth_file = optarg;
			break;
		case OPT_PROXY_AUTH:
			if ((o->auth_allow = parse_auth(optarg)) == 0) {
				snprintf(err, errlen, "bad --proxy-auth "
				    "\"%.20s\": use basic, digest, ntlm or any",
				    optarg);
				return OPT_ERROR;
			}
			break;
		case OPT_NO_PROXY:
			o->no_proxy = optarg;
			break;
		case OPT_FDPASS:
			o->fdpass = true;
			break;
		case OPT_NO_SPLICE:
			o->no_splice = true;
			break;
		case OPT_PROXY_COMMAND:
			o->proxy_command = optarg;
			break;
		case OPT_PROXY_CACERT:
			o->proxy_cacert = optarg;
			break;
		case 'L':
		case 'D':
			if ((ch == 'L' ? o->nlisten : o->ndynamic) == MAX_LISTEN) {
				snprintf(err, errlen, "at most %d -%c options",
				    MAX_LISTEN, ch);
				return OPT_ERROR;
			}
			if (ch == 'L')
				o->listen[o->nlisten++] = optarg;
			else
				o->dynamic[o->ndynamic++] = optarg;
			break;
		case 'c':
			o->config = optarg;
			break;
		case OPT_ALLOW_FROM:
			if (o->nallow_from == MAX_ALLOW) {
				snprintf(err, errlen, "at most %d --allow-from "
				    "options", MAX_ALLOW);
				return OPT_ERROR;
			}
			o->allow_from[o->nallow_from++] = optarg;
			break;
		case OPT_SYSLOG:
			o->syslog = true;
			break;
		case OPT_TUNNEL:
			o->tunnel = optarg;
			break;
		case OPT_TUNNEL_TRANSPORT:
			if (strcmp(optarg, "auto") == 0)
				o->tunnel_transport = TT_AUTO;
			else if (strcmp(optarg, "stream") == 0)
				o->tunnel_transport = TT_STREAM;
			else if (strcmp(optarg, "http") == 0)
				o->tunnel_transport = TT_HTTP;
			else {
				snprintf(err, errlen, "bad --tunnel-transport "
				    "\"%.20s\": use stream, http or auto", optarg);
				return OPT_ERROR;
			}
			break;
		case OPT_RESUME_TIMEOUT:
		case OPT_KEEPALIVE:
			if (num_parse_seconds(optarg, 86400, ch ==
			    OPT_KEEPALIVE ? &o->keepalive : &o->resume_timeout)
			    == -1 || (ch == OPT_KEEPALIVE && o->keepalive < 1)) {
				snprintf(err, errlen, "bad --%s \"%.20s\": give "
				    "seconds", ch == OPT_KEEPALIVE ? "keepalive" :
				    "resume-timeout", optarg);
				return OPT_ERROR;
			}
			break;
		case OPT_TOKEN_FILE:
			o->token_file = optarg;
			break;
		case OPT_CHECK:
			o->check = true;
			break;
		case 'h':
			return OPT_HELP;
		case 'V':
			return OPT_VERSION;
		case ':':
			snprintf(err, errlen, "option %s needs a value; see "
			    "culvert --help", argv[optind - 1]);
			return OPT_ERROR;
		default:
			if (optopt != 0)
				snprintf(err, errlen, "unknown option -%c; see "
				    "culvert --help", optopt);
			else
				snprintf(err, errlen, "unknown option %.40s; "
				    "see culvert --help", argv[optind - 1]);
			return OPT_ERROR;
		}
	}
	argc -= optind;
	argv += optind;
	if (OPTIONS_LISTEN(o) && o->nlisten == 0) {
		if (argc > 0) {
			snprintf(err, errlen, "-D and -c take no HOST and PORT "
			    "(\"%.40s\" is too many; see culvert --help)",
			    argv[0]);
			return OPT_ERROR;
		}
		return OPT_RUN;
	}
	if (argc != 2) {
		snprintf(err, errlen, "%s; usage: culvert [options] HOST PORT "
		    "(see culvert --help)", argc < 2 ? "missing HOST and PORT"
		    : "too many arguments");
		if (argc == 1)
			snprintf(err, errlen, "missing PORT; usage: culvert "
			    "[options] HOST PORT (see culvert --help)");
		return OPT_ERROR;
	}
	o->host = argv[0];
	o->port = argv[1];
	return OPT_RUN;
}

static const struct option serve_longopts[] = {
	{ "listen",		required_argument, NULL, 'l' },
	{ "allow",		required_argument, NULL, 'a' },
	{ "allow-file",		required_argument, NULL, 'A' },
	{ "token-file",		required_argument, NULL, 'T' },
	{ "insecure-no-token",	no_argument,	   NULL, 'I' },
	{ "resume-timeout",	required_argument, NULL, 'R' },
	{ "poll-timeout",	required_argument, NULL, 'P' },
	{ "max-sessions",	required_argument, NULL, 'S' },
	{ "syslog",		no_argument,	   NULL, 'Y' },
	{ "verbose",		no_argument,	   NULL, 'v' },
	{ "quiet",		no_argument,	   NULL, 'q' },
	{ "help",		no_argument,	   NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

void
options_usage_serve(void)
{
	fputs(
"usage: culvert serve [--listen [BIND:]PORT] --allow RULE... [options]\n"
"The far end of culvert's tunnels (--tunnel) and a small CONNECT proxy.\n"
"\n"
"      --listen [BIND:]PORT   where to listen (default 127.0.0.1:8080)\n"
"      --allow RULE           a target that may be reached: host:port,\n"
"                             *.example.com:22, 10.0.0.0/8:*, [::1]:*\n"
"                             (repeatable; none: every target refused)\n"
"      --allow-file FILE      more rules, one a line\n"
"      --token-file FILE      a shared secret (mode 600): every request\n"
"                             must prove it knows it\n"
"      --insecure-no-token    listen beyond loopback without a token\n"
"      --resume-timeout SECONDS  how long a session waits for its client\n"
"                             to come back (default 120)\n"
"      --poll-timeout SECONDS  longest wait of a GET for data, or of a POST\n"
"                             for room (default 25)\n"
"      --max-sessions N       sessions at once (default 256)\n"
"      --syslog               log to syslog, not stderr\n"
"  -v, --verbose              more log lines\n"
"  -q, --quiet                errors only\n"
"  -h, --help                 show this help\n"
"\n"
"culvert does not encrypt: run ssh or TLS inside the tunnel.  See culvert(1).\n",
	    stdout);
}

enum opt_result
options_parse_serve(struct serve_options *so, int argc, char **argv,
    char *err, size_t errlen)
{
	unsigned long long n;
	int ch;

	memset(so, 0, sizeof(*so));
	so->listen = "127.0.0.1:8080";
	so->resume_timeout = 120;
	so->poll_timeout = 25;
	so->max_sessions = 256;
	so->max_conns = 1024;
	opterr = 0;
	optind = 2;		/* after "serve" */
	while ((ch = getopt_long(argc, argv, ":hqv", serve_longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'l':
			so->listen = optarg;
			break;
		case 'a':
			if (so->nallow == sizeof(so->allow) /
			    sizeof(so->allow[0])) {
				snprintf(err, errlen, "too many --allow rules; "
				    "use --allow-file");
				return OPT_ERROR;
			}
			so->allow[so->nallow++] = optarg;
			break;
		case 'A':
			so->allow_file = optarg;
			break;
		case 'T':
			so->token_file = optarg;
			break;
		case 'I':
			so->insecure_no_token = true;
			break;
		case 'R':
		case 'P':
			if (num_parse_seconds(optarg, 86400, ch == 'R' ?
			    &so->resume_timeout : &so->poll_timeout) == -1 ||
			    (ch == 'P' && so->poll_timeout < 1)) {
				snprintf(err, errlen, "bad --%s \"%.20s\": give "
				    "seconds", ch == 'R' ? "resume-timeout" :
				    "poll-timeout", optarg);
				return OPT_ERROR;
			}
			break;
		case 'S':
			if (num_parse(optarg, strlen(optarg), 100000, &n) ==
			    -1 || n == 0) {
				snprintf(err, errlen, "bad --max-sessions "
				    "\"%.20s\": give 1 to 100000", optarg);
				return OPT_ERROR;
			}
			so->max_sessions = (size_t)n;
			if (so->max_conns < so->max_sessions * 3)
				so->max_conns = so->max_sessions * 3;
			break;
		case 'Y':
			so->syslog = true;
			break;
		case 'v':
			if (so->verbosity < 2)
				so->verbosity++;
			break;
		case 'q':
			so->verbosity = -1;
			break;
		case 'h':
			return OPT_HELP;
		case ':':
			snprintf(err, errlen, "option %s needs a value; see "
			    "culvert serve --help", argv[optind - 1]);
			return OPT_ERROR;
		default:
			snprintf(err, errlen, "unknown option %.40s for culvert "
			    "serve; see culvert serve --help",
			    argv[optind - 1]);
			return OPT_ERROR;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "culvert serve takes no operands "
		    "(\"%.40s\"); see culvert serve --help", argv[optind]);
		return OPT_ERROR;
	}
	return OPT_RUN;
}
