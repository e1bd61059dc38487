/*
 * setup.c: what every mode shares: exit statuses, the route from the
 * options and the environment, and logging a tunnel's events.
 */
#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "auth/creds.h"
#include "cli/creds.h"
#include "mode/mode.h"
#include "route/noproxy.h"
#include "route/proxyenv.h"
#include "util/log.h"

int
mode_exit_status(const struct failure *f)
{
	switch (f->kind) {
	case FAIL_NONE:
		return EXIT_OK;
	case FAIL_IO:
		return EXIT_IO;
	case FAIL_USAGE:
		return EXIT_USAGE;
	case FAIL_UNREACH:
		return EXIT_UNREACH;
	case FAIL_REFUSED:
		return EXIT_REFUSED;
	case FAIL_AUTH:
		return EXIT_AUTH;
	case FAIL_TIMEOUT:
		return EXIT_TIMEOUT;
	case FAIL_PROTO:
		return EXIT_PROTO;
	}
	return EXIT_IO;
}

static void
bad_noproxy(const char *entry, void *arg)
{
	(void)arg;
	log_info("ignoring malformed no-proxy entry \"%s\"", entry);
}

void
mode_describe_route(const struct route *r, char *buf, size_t len)
{
	size_t h, a, o = 0;

	buf[0] = '\0';
	for (h = 0; h < r->nhops; h++)
		for (a = 0; a < r->hop[h].nalt; a++) {
			int n = snprintf(buf + o, len - o, "%s%s",
			    a > 0 ? "|" : h > 0 ? " -> " : "",
			    route_alt_name(&r->hop[h].alt[a]));

			if (n < 0 || (size_t)n >= len - o)
				return;
			o += (size_t)n;
		}
}

/*
 * Credentials for one alternative: its URL's user info, and for the
 * first hop -U, the environment and --auth-file (shared, gathered once
 * into *shared), then a prompt.
 */
static int
alt_creds(struct options *o, struct route_alt *a, size_t hop, char *arg,
    bool single, bool prompt, struct creds *shared, bool *have_shared,
    struct failure *f)
{
	struct creds_sources src;
	struct creds *c;
	bool url = a->creds != NULL;

	if (!url && hop == 0 && *have_shared) {
		if (!shared->have_user)
			return 0;
		if ((a->creds = malloc(sizeof(*a->creds))) == NULL) {
			failure_set(f, FAIL_IO, "out of memory");
			return -1;
		}
		*a->creds = *shared;
		return 0;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		failure_set(f, FAIL_IO, "out of memory");
		return -1;
	}
	memset(&src, 0, sizeof(src));
	src.url = a->creds;
	src.url_arg = arg;
	src.user_arg = o->proxy_user;
	src.auth_file = o->auth_file;
	src.prompt_for = a->url + strlen(proxy_scheme_name(a->px.scheme)) + 3;
	src.quiet = o->verbosity < 0;
	src.no_password = a->px.scheme == SCHEME_SOCKS4 ||
	    a->px.scheme == SCHEME_SOCKS4A;
	src.url_only = hop > 0;
	src.no_prompt = !prompt;
	if (creds_gather(c, &src, f) == -1) {
		creds_wipe(c);
		free(c);
		return -1;
	}
	if (a->creds != NULL) {
		creds_wipe(a->creds);
		free(a->creds);
	}
	a->creds = NULL;
	if (hop == 0 && !url) {
		*shared = *c;
		*have_shared = true;
	}
	if (!c->have_user) {
		free(c);
		return 0;
	}
	if (single)
		log_info("proxy user %s (from %s)", c->user, c->source);
	else
		log_info("proxy user %s for %s (from %s)", c->user, a->url,
		    c->source);
	a->creds = c;
	return 0;
}

int
mode_route_creds(struct options *o, struct route *r,
    const struct route_origin *origin, bool prompt, struct failure *f)
{
	struct creds shared;
	bool have_shared = false, single = r->nhops == 1 &&
	    r->hop[0].nalt == 1;
	size_t h, a;
	int rc = 0;

	memset(&shared, 0, sizeof(shared));
	for (h = 0; h < r->nhops && rc == 0; h++)
		for (a = 0; a < r->hop[h].nalt && rc == 0; a++)
			if (!r->hop[h].alt[a].direct)
				rc = alt_creds(o, &r->hop[h].alt[a], h,
				    origin->args[h], single, prompt, &shared,
				    &have_shared, f);
	creds_wipe(&shared);
	return rc;
}

/*
 * --proxy-command reaches one proxy: not an https:// one (culvert runs
 * openssl for those itself), and not a list of them (the command cannot
 * tell which is meant); "direct" may still follow it.
 */
static int
command_fits(const struct route *r, struct failure *f)
{
	const struct route_hop *h = &r->hop[0];
	size_t a, proxies = 0;

	for (a = 0; a < h->nalt; a++) {
		if (h->alt[a].direct)
			continue;
		proxies++;
		if (h->alt[a].px.scheme == SCHEME_HTTPS) {
			failure_set(f, FAIL_USAGE, "--proxy-command cannot carry "
			    "an https:// proxy, which culvert reaches with "
			    "openssl itself; put the TLS in the command and "
			    "give the proxy as http://");
			return -1;
		}
	}
	if (proxies > 1) {
		failure_set(f, FAIL_USAGE, "--proxy-command reaches one proxy, "
		    "but the first hop lists %zu; give one (and \"direct\" if "
		    "you like)", proxies);
		return -1;
	}
	return 0;
}

struct route *
mode_route_build(struct options *o, const char *spec,
    struct route_origin *origin, struct failure *f)
{
	struct route *r;
	const char *url;
	char err[512], shown[1024];
	size_t i;

	memset(origin, 0, sizeof(*origin));
	if ((r = route_new()) == NULL) {
		failure_set(f, FAIL_IO, "out of memory");
		return NULL;
	}
	r->family = o->family;
	r->auth_allow = o->auth_allow;
	for (i = 0; i < o->nheaders; i++)
		if (route_add_header(r, o->headers[i]) == -1) {
			failure_set(f, FAIL_IO, "out of memory");
			goto fail;
		}
	if ((o->proxy_command != NULL &&
	    route_set_string(&r->proxy_command, o->proxy_command) == -1) ||
	    (o->proxy_cacert != NULL &&
	    route_set_string(&r->proxy_cacert, o->proxy_cacert) == -1)) {
		failure_set(f, FAIL_IO, "out of memory");
		goto fail;
	}
	if (spec != NULL) {
		origin->proxy_var = "the configuration";
		if (strcasecmp(spec, "direct") == 0)
			return r;	/* no hops */
		if (route_add(r, spec, err, sizeof(err)) == -1) {
			failure_set(f, FAIL_USAGE, "bad proxy URL: %s", err);
			goto fail;
		}
		return r;
	}
	origin->proxy_var = "--proxy";
	for (i = 0; i < o->nproxy; i++) {
		size_t first = r->nhops;

		if (route_add(r, o->proxy[i], err, sizeof(err)) == -1) {
			failure_set(f, FAIL_USAGE, "bad proxy URL in --proxy: %s",
			    err);
			goto fail;
		}
		while (first < r->nhops)
			origin->args[first++] = o->proxy[i];
	}
	if (o->nproxy == 0) {
		if ((url = proxyenv_proxy(&origin->proxy_var)) == NULL) {
			failure_set(f, FAIL_USAGE, "no proxy configured: give "
			    "one with --proxy http://HOST:PORT or set "
			    "https_proxy (see culvert --help)");
			goto fail;
		}
		/*
		 * Only culvert's own variable holds chains and fallbacks;
		 * curl and every other program read the others as one URL.
		 */
		if (strcmp(origin->proxy_var, "CULVERT_PROXY") == 0 ?
		    route_add(r, url, err, sizeof(err)) == -1 :
		    route_add_url(r, url, err, sizeof(err)) == -1) {
			failure_set(f, FAIL_USAGE, "bad proxy URL in %s: %s%s",
			    origin->proxy_var, err,
			    strcmp(origin->proxy_var, "CULVERT_PROXY") != 0 &&
			    strpbrk(url, ",|") != NULL ? " (it holds one URL; "
			    "put chains and fallbacks in CULVERT_PROXY or "
			    "--proxy)" : "");
			goto fail;
		}
	}
	if (o->proxy_command != NULL && command_fits(r, f) == -1)
		goto fail;
	/* openssl's own complaint would come later and say less. */
	if (o->proxy_cacert != NULL && access(o->proxy_cacert, R_OK) == -1) {
		failure_set(f, FAIL_USAGE, "cannot read --proxy-cacert %s: %s",
		    o->proxy_cacert, strerror(errno));
		goto fail;
	}
	mode_describe_route(r, shown, sizeof(shown));
	log_info("using proxy %s (from %s)", shown, origin->proxy_var);
	return r;
fail:
	route_unref(r);
	return NULL;
}

struct route *
mode_route(struct options *o, const struct target *t,
    struct route_origin *origin, struct failure *f)
{
	struct route *r;
	const char *list;

	if ((r = mode_route_build(o, NULL, origin, f)) == NULL)
		return NULL;
	list = proxyenv_noproxy(o->no_proxy, &origin->noproxy_var);
	if (list != NULL && noproxy_match(list, t->host, t->port,
	    bad_noproxy, NULL)) {
		log_info("%s matches %s: connecting directly", o->host,
		    origin->noproxy_var != NULL ? origin->noproxy_var :
		    "--no-proxy");
		origin->matched_noproxy = true;
		route_unref(r);
		if ((r = route_new()) == NULL) {
			failure_set(f, FAIL_IO, "out of memory");
			return NULL;
		}
		r->family = o->family;
		return r;
	}
	if (mode_route_creds(o, r, origin, true, f) == -1) {
		route_unref(r);
		return NULL;
	}
	return r;
}

void
mode_log_event(void *arg, const struct tunnel_event *ev)
{
	char prefix[128];

	/* In a chain, every line says which hop it is about. */
	if (ev->hops > 1)
		(void)snprintf(prefix, sizeof(prefix), "%shop %u: ",
		    arg != NULL ? (const char *)arg : "", ev->hop);
	else
		(void)snprintf(prefix, sizeof(prefix), "%s",
		    arg != NULL ? (const char *)arg : "");
	switch (ev->kind) {
	case TEV_STEP:
	case TEV_SKIPPED:
		log_info("%s%.*s", prefix, (int)ev->len, ev->text);
		break;
	case TEV_SENT:
		log_head_line(prefix, '>', ev->text, ev->len);
		break;
	case TEV_RECEIVED:
		log_head_line(prefix, '<', ev->text, ev->len);
		break;
	case TEV_STATUS:
		log_info("%sproxy answered: %.*s", prefix, (int)ev->len,
		    ev->text);
		break;
	case TEV_AUTH_OFFERED:
		log_debug("%sproxy offers %.*s", prefix, (int)ev->len,
		    ev->text);
		break;
	case TEV_AUTH_USED:
		log_debug("%sanswering with %.*s", prefix, (int)ev->len,
		    ev->text);
		break;
	case TEV_RESOLVED:
		log_debug("%sresolved: %.*s (%lld ms)", prefix, (int)ev->len,
		    ev->text, ev->ms);
		break;
	case TEV_CONNECTED:
		log_debug("%sconnected to %.*s (%lld ms)", prefix,
		    (int)ev->len, ev->text, ev->ms);
		break;
	case TEV_FAILED:
		break;		/* the driver reports the failure itself */
	}
}

/*
 * A burst of tunnel set-ups leaves freed handshakes all over the heap;
 * hand those pages back, so the resident size follows the open tunnels.
 */
void
trim_memory(struct trim *t)
{
	if (!t->pending || clock_ms() < t->at)
		return;
	t->pending = false;
	t->at = clock_ms() + 2000;
#ifdef __GLIBC__
	(void)malloc_trim(0);
#endif
}

long long
trim_timer(const struct trim *t)
{
	return t->pending ? t->at : CLOCK_NEVER;
}
