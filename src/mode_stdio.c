/*
 * mode_stdio.c: culvert [options] HOST PORT, relaying stdin and stdout.
 */
#include <unistd.h>

#include <stdio.h>
#include <string.h>

#include "creds.h"
#include "log.h"
#include "mode.h"
#include "net.h"
#include "proxyurl.h"
#include "relay.h"
#include "target.h"
#include "tunnel.h"

#define RELAY_BUFSIZE	(128 * 1024)

/* Everything checked before the first byte goes out. */
static int
prepare(struct options *o, struct target *t, struct proxy *px,
    struct creds *c)
{
	char err[512];

	if (target_parse(t, o->host, o->port, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return EXIT_USAGE;
	}
	if (o->proxy == NULL) {
		log_error("no proxy configured: give one with --proxy "
		    "http://HOST:PORT (see culvert --help)");
		return EXIT_USAGE;
	}
	if (proxyurl_parse(o->proxy, px, c, err, sizeof(err)) == -1) {
		log_error("bad --proxy: %s", err);
		return EXIT_USAGE;
	}
	if (px->scheme != SCHEME_HTTP) {
		log_error("unsupported scheme %s:// in --proxy: only http:// "
		    "is supported so far", proxy_scheme_name(px->scheme));
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

int
mode_stdio(struct options *o, char **argv)
{
	struct target t;
	struct proxy px;
	struct creds c;
	struct hs_params p;
	struct deadline d;
	struct failure f;
	struct relay r;
	struct relay_config rc;
	char shown[300];
	int fd, status;

	(void)argv;
	memset(&c, 0, sizeof(c));
	memset(&p, 0, sizeof(p));
	if ((status = prepare(o, &t, &px, &c)) != EXIT_OK) {
		creds_wipe(&c);
		return status;
	}
	p.proxy = &px;
	p.target = &t;
	p.headers = o->headers;
	p.nheaders = o->nheaders;
	p.creds = &c;
	p.auth_allow = o->auth_allow;

	proxy_format(&px, shown, sizeof(shown));
	log_info("using proxy %s://%s (from --proxy)",
	    proxy_scheme_name(px.scheme), shown);
	deadline_set(&d, o->timeout);
	fd = tunnel_open(&p, o->family, &d, &f);
	creds_wipe(&c);
	if (fd == -1) {
		log_error("%s", f.msg);
		return (int)f.code;
	}
	target_format(t.host, t.port, shown, sizeof(shown));
	log_info("tunnel to %s is up", shown);

	rc.bufsize = RELAY_BUFSIZE;
	rc.splice = !o->no_splice;
	rc.shutdown_on_eof = o->shutdown;
	if (relay_init(&r, STDIN_FILENO, STDOUT_FILENO, fd, &rc) == -1) {
		log_error("out of memory");
		close(fd);
		return EXIT_IO;
	}
	status = relay_run(&r) == 0 ? EXIT_OK : EXIT_IO;
	if (status != EXIT_OK)
		log_error("%s: %s", r.errwhat, strerror(r.err));
	log_info("tunnel closed: %llu bytes sent, %llu received",
	    r.up.total, r.down.total);
	relay_free(&r);
	close(fd);
	return status;
}
