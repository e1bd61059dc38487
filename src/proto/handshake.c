/*
 * handshake.c: one handshake, whatever the proxy speaks: the dispatch to
 * the CONNECT engine (connect.c) and the SOCKS engines (socks.c), and the
 * events they announce.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "auth/creds.h"
#include "crypto/wipe.h"
#include "proto/handshake.h"
#include "proto/socks.h"

void
hs_emit(struct handshake *h, enum hs_event_kind kind, const char *text,
    size_t len, int code)
{
	struct hs_event ev;

	if (h->event == NULL)
		return;
	ev.kind = kind;
	ev.text = text;
	ev.len = len;
	ev.code = code;
	h->event(h->event_arg, &ev);
}

void
hs_emitf(struct handshake *h, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	if (h->event == NULL)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	hs_emit(h, HSE_STEP, line, strlen(line), 0);
}

int
hs_local_family(const struct proxy *proxy, const struct target *t)
{
	unsigned char a[16];

	if (proxy->scheme != SCHEME_SOCKS4 && proxy->scheme != SCHEME_SOCKS5)
		return -1;
	if (inet_pton(AF_INET, t->host, a) == 1 ||
	    inet_pton(AF_INET6, t->host, a) == 1)
		return -1;
	return proxy->scheme == SCHEME_SOCKS4 ? AF_INET : AF_UNSPEC;
}

enum step
hs_start(struct handshake *h, const struct hs_params *p, hs_event_fn *event,
    void *event_arg)
{
	memset(h, 0, sizeof(*h));
	h->p = p;
	h->event = event;
	h->event_arg = event_arg;
	target_format(p->target->host, p->target->port, h->authority,
	    sizeof(h->authority));
	return hs_restart(h);
}

/* Describe the SOCKS request for the engine; see socks.h. */
static void
socks_params(const struct hs_params *p, struct socks_request *r)
{
	memset(r, 0, sizeof(*r));
	r->version = p->proxy->scheme == SCHEME_SOCKS4 ? SOCKS_V4 :
	    p->proxy->scheme == SCHEME_SOCKS4A ? SOCKS_V4A : SOCKS_V5;
	r->host = p->target->host;
	r->port = p->target->port;
	if (p->addrlen > 0) {
		r->addr = p->addr;
		r->addrlen = p->addrlen;
	}
	if (p->creds != NULL && p->creds->have_user) {
		r->user = p->creds->user;
		r->pass = p->creds->have_pass ? p->creds->pass : NULL;
	}
}

/* The SOCKS request in words, as HTTP's request line is shown. */
static void
socks_announce(struct handshake *h, const struct socks_request *r)
{
	char addr[INET6_ADDRSTRLEN], line[600];
	int n;

	if (r->addrlen == 4 || r->addrlen == 16) {
		if (inet_ntop(r->addrlen == 4 ? AF_INET : AF_INET6, r->addr,
		    addr, sizeof(addr)) == NULL)
			addr[0] = '\0';
		n = snprintf(line, sizeof(line), "%s CONNECT %s%s%s:%u (%s "
		    "resolved here)", socks_version_name(r->version),
		    r->addrlen == 16 ? "[" : "", addr,
		    r->addrlen == 16 ? "]" : "", r->port, r->host);
	} else
		n = snprintf(line, sizeof(line), "%s CONNECT %s",
		    socks_version_name(r->version), h->authority);
	if (n > 0 && r->user != NULL && (size_t)n < sizeof(line))
		(void)snprintf(line + n, sizeof(line) - (size_t)n, ", user %s%s",
		    r->user, r->pass != NULL ? " and a password" : "");
	hs_emit(h, HSE_SENT, line, strlen(line), 0);
}

enum step
hs_restart(struct handshake *h)
{
	struct socks_request r;
	enum step s;

	h->out.len = 0;
	if (proxy_speaks_http(h->p->proxy->scheme))
		return connect_restart(h);
	if (h->socks == NULL && (h->socks = calloc(1, sizeof(struct socks)))
	    == NULL) {
		failure_set(&h->fail, FAIL_IO, "out of memory");
		return STEP_FAIL;
	}
	socks_params(h->p, &r);
	if ((s = socks_start(h->socks, &r, &h->out, &h->fail)) != STEP_FAIL)
		socks_announce(h, &r);
	return s;
}

enum step
hs_input(struct handshake *h, const unsigned char *data, size_t len,
    bool eof, size_t *used)
{
	static const char granted[] = "request granted";
	enum step s;

	if (proxy_speaks_http(h->p->proxy->scheme))
		return connect_input(h, data, len, eof, used);
	s = socks_input(h->socks, data, len, eof, used, &h->out, &h->fail);
	if (s == STEP_DONE)
		hs_emit(h, HSE_RECEIVED, granted, sizeof(granted) - 1, 0);
	return s;
}

void
hs_free(struct handshake *h)
{
	head_free(&h->head);
	auth_free(h->auth);
	h->auth = NULL;
	if (h->socks != NULL) {
		socks_finish(h->socks);
		free(h->socks);
		h->socks = NULL;
	}
	wipe(&h->out, sizeof(h->out));
}
