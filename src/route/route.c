/*
 * route.c: chains and alternatives of proxies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/creds.h"
#include "route/route.h"

struct route *
route_new(void)
{
	struct route *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->refs = 1;
	return r;
}

struct route *
route_ref(struct route *r)
{
	r->refs++;
	return r;
}

void
route_unref(struct route *r)
{
	size_t h, a;

	if (r == NULL || --r->refs > 0)
		return;
	for (h = 0; h < r->nhops; h++)
		for (a = 0; a < r->hop[h].nalt; a++) {
			if (r->hop[h].alt[a].creds == NULL)
				continue;
			creds_wipe(r->hop[h].alt[a].creds);
			free(r->hop[h].alt[a].creds);
		}
	for (h = 0; h < r->nheaders; h++)
		free(r->headers[h]);
	free(r->proxy_command);
	free(r->proxy_cacert);
	free(r);
}

const char *
route_alt_name(const struct route_alt *a)
{
	return a->direct ? "direct" : a->url;
}

/* One alternative, [s, s + len), into a; "direct" only if allowed. */
static int
parse_alt(struct route_alt *a, const char *s, size_t len, bool direct,
    char *err, size_t errlen)
{
	char url[2048], shown[300];
	struct creds *c;
	int rc;

	if (direct && len == 6 && strncasecmp(s, "direct", 6) == 0) {
		a->direct = true;
		return 0;
	}
	if (len == 0) {
		snprintf(err, errlen, "empty proxy in the list; separate "
		    "hops with ',' and alternatives with '|'");
		return -1;
	}
	if (len >= sizeof(url)) {
		snprintf(err, errlen, "proxy URL longer than %zu bytes",
		    sizeof(url) - 1);
		return -1;
	}
	memcpy(url, s, len);
	url[len] = '\0';
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = proxyurl_parse(url, &a->px, c, err, errlen);
	memset(url, 0, sizeof(url));
	if (rc == -1 || !(c->have_user || c->have_pass)) {
		creds_wipe(c);
		free(c);
	} else
		a->creds = c;
	if (rc == -1)
		return -1;
	proxy_format(&a->px, shown, sizeof(shown));
	if (snprintf(a->url, sizeof(a->url), "%s://%s",
	    proxy_scheme_name(a->px.scheme), shown) < 0)
		a->url[0] = '\0';
	return 0;
}

/* One hop, "url|url|direct", [s, s + len), appended to r. */
static int
parse_hop(struct route *r, const char *s, size_t len, char *err,
    size_t errlen)
{
	struct route_hop *h;
	const char *end = s + len, *bar;

	if (r->nhops > 0 && r->hop[0].alt[r->hop[0].nalt - 1].direct) {
		snprintf(err, errlen, "\"direct\" is an alternative of a single "
		    "proxy only, not of a chain");
		return -1;
	}
	if (r->nhops == ROUTE_HOPS_MAX) {
		snprintf(err, errlen, "more than %d proxies in the chain",
		    ROUTE_HOPS_MAX);
		return -1;
	}
	h = &r->hop[r->nhops++];
	for (;;) {
		bar = memchr(s, '|', (size_t)(end - s));
		if (h->nalt == ROUTE_ALTS_MAX) {
			snprintf(err, errlen, "more than %d alternatives for "
			    "one proxy", ROUTE_ALTS_MAX);
			return -1;
		}
		if (parse_alt(&h->alt[h->nalt], s, (size_t)((bar != NULL ?
		    bar : end) - s), true, err, errlen) == -1)
			return -1;
		if (h->alt[h->nalt].px.scheme == SCHEME_HTTPS &&
		    r->nhops != 1) {
			snprintf(err, errlen, "an https:// proxy can only be the "
			    "first of a chain (culvert reaches it through "
			    "openssl)");
			return -1;
		}
		if (h->alt[h->nalt++].direct && (bar != NULL ||
		    r->nhops != 1)) {
			snprintf(err, errlen, "\"direct\" may only be the last "
			    "alternative of a single proxy, not of a chain");
			return -1;
		}
		if (bar == NULL)
			return 0;
		s = bar + 1;
	}
}

int
route_add(struct route *r, const char *spec, char *err, size_t errlen)
{
	const char *s = spec, *comma;

	for (;;) {
		comma = strchr(s, ',');
		if (parse_hop(r, s, comma != NULL ? (size_t)(comma - s) :
		    strlen(s), err, errlen) == -1)
			return -1;
		if (comma == NULL)
			return 0;
		s = comma + 1;
	}
}

int
route_add_url(struct route *r, const char *url, char *err, size_t errlen)
{
	if (r->nhops > 0) {
		snprintf(err, errlen, "a single proxy URL cannot follow others");
		return -1;
	}
	r->nhops = 1;
	r->hop[0].nalt = 1;
	return parse_alt(&r->hop[0].alt[0], url, strlen(url), false, err,
	    errlen);
}

int
route_add_header(struct route *r, const char *header)
{
	if (r->nheaders == ROUTE_HEADERS_MAX ||
	    (r->headers[r->nheaders] = strdup(header)) == NULL)
		return -1;
	r->nheaders++;
	return 0;
}

int
route_set_string(char **slot, const char *value)
{
	free(*slot);
	return (*slot = strdup(value)) == NULL ? -1 : 0;
}
