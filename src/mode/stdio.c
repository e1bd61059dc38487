/*
 * mode_stdio.c: culvert [options] HOST PORT, relaying stdin and stdout.
 */
#include <unistd.h>

#include <stdio.h>
#include <string.h>

#include "cli/creds.h"
#include "io/fdpass.h"
#include "util/log.h"
#include "mode/mode.h"
#include "io/net.h"
#include "route/noproxy.h"
#include "route/proxyenv.h"
#include "route/proxyurl.h"
#include "io/relay.h"
#include "route/target.h"
#include "io/tunnel.h"

#define RELAY_BUFSIZE	(128 * 1024)

struct setup {
	struct target	 t;
	struct proxy	 px;
	struct creds	 url;		/* userinfo of the proxy URL */
	struct creds	 c;		/* what will be used */
	bool		 direct;	/* NO_PROXY matched */
};

static void
bad_noproxy(const char *entry, void *arg)
{
	(void)arg;
	log_info("ignoring malformed no-proxy entry \"%s\"", entry);
}

/* Everything checked before the first byte goes out. */
static int
prepare(struct options *o, struct setup *s, struct failure *f)
{
	struct creds_sources src;
	const char *url, *var = "--proxy", *list, *listvar = NULL;
	char err[512], shown[300];

	if (target_parse(&s->t, o->host, o->port, err, sizeof(err)) == -1) {
		failure_set(f, EXIT_USAGE, "%s", err);
		return -1;
	}
	if (o->fdpass && fdpass_check(STDOUT_FILENO, f) == -1)
		return -1;
	url = o->proxy;
	if (url == NULL && (url = proxyenv_proxy(&var)) == NULL) {
		failure_set(f, EXIT_USAGE, "no proxy configured: give one "
		    "with --proxy http://HOST:PORT or set https_proxy (see "
		    "culvert --help)");
		return -1;
	}
	if (proxyurl_parse(url, &s->px, &s->url, err, sizeof(err)) == -1) {
		failure_set(f, EXIT_USAGE, "bad proxy URL in %s: %s", var, err);
		return -1;
	}
	proxy_format(&s->px, shown, sizeof(shown));
	log_info("using proxy %s://%s (from %s)",
	    proxy_scheme_name(s->px.scheme), shown, var);

	list = proxyenv_noproxy(o->no_proxy, &listvar);
	if (list != NULL && noproxy_match(list, s->t.host, s->t.port,
	    bad_noproxy, NULL)) {
		log_info("%s matches %s: connecting directly", o->host,
		    listvar != NULL ? listvar : "--no-proxy");
		s->direct = true;
		return 0;
	}

	memset(&src, 0, sizeof(src));
	src.url = &s->url;
	src.url_arg = o->proxy;
	src.user_arg = o->proxy_user;
	src.auth_file = o->auth_file;
	src.prompt_for = shown;
	src.quiet = o->verbosity < 0;
	src.no_password = s->px.scheme == SCHEME_SOCKS4 ||
	    s->px.scheme == SCHEME_SOCKS4A;
	if (creds_gather(&s->c, &src, f) == -1)
		return -1;
	creds_wipe(&s->url);
	if (s->c.have_user)
		log_info("proxy user %s (from %s)", s->c.user, s->c.source);
	return 0;
}

int
mode_stdio(struct options *o, char **argv)
{
	struct setup s;
	struct hs_params p;
	struct deadline d;
	struct failure f;
	struct relay r;
	struct relay_config rc;
	char shown[300];
	int fd, status;

	(void)argv;
	memset(&s, 0, sizeof(s));
	memset(&p, 0, sizeof(p));
	if (prepare(o, &s, &f) == -1) {
		creds_wipe(&s.url);
		creds_wipe(&s.c);
		log_error("%s", f.msg);
		return (int)f.code;
	}
	p.proxy = s.direct ? NULL : &s.px;
	p.target = &s.t;
	p.headers = o->headers;
	p.nheaders = o->nheaders;
	p.creds = s.c.have_user ? &s.c : NULL;
	p.auth_allow = o->auth_allow;

	deadline_set(&d, o->timeout);
	fd = tunnel_open(&p, o->family, &d, &f);
	creds_wipe(&s.c);
	if (fd == -1) {
		log_error("%s", f.msg);
		return (int)f.code;
	}
	target_format(s.t.host, s.t.port, shown, sizeof(shown));
	log_info("tunnel to %s is up", shown);
	if (o->fdpass) {
		status = fdpass_send(STDOUT_FILENO, fd, &f);
		close(fd);
		if (status == -1) {
			log_error("%s", f.msg);
			return (int)f.code;
		}
		log_info("passed the connection to ssh");
		return EXIT_OK;
	}

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
