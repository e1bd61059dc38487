/*
 * handshake.c: the HTTP CONNECT exchange (RFC 9110 section 9.3.6) and the
 * dispatch to the SOCKS engines.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handshake.h"
#include "log.h"
#include "options.h"
#include "creds.h"
#include "socks.h"
#include "wipe.h"

#ifndef VERSION
#define VERSION "dev"
#endif

enum { HS_HTTP_HEAD, HS_HTTP_BODY, HS_DONE };

/* Append formatted text to the out buffer; -1 when it does not fit. */
static int
out_printf(struct outbuf *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int
out_printf(struct outbuf *o, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf((char *)o->data + o->len, sizeof(o->data) - o->len,
	    fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= sizeof(o->data) - o->len)
		return -1;
	o->len += (size_t)r;
	return 0;
}

static bool
user_has_header(const struct hs_params *p, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < p->nheaders; i++)
		if (http_field_is(p->headers[i], n, name) &&
		    p->headers[i][n] == ':')
			return true;
	return false;
}

void
hs_log_out(const struct handshake *h)
{
	const struct outbuf *o = &h->out;

	const char *p = (const char *)o->data, *end = p + o->len;

	if (log_level() < LOG_DEBUG || h->p->proxy->scheme != SCHEME_HTTP)
		return;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		static const char pa[] = "Proxy-Authorization:";

		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n == 0)
			break;
		if (n >= sizeof(pa) - 1 &&
		    http_field_is(p, sizeof(pa) - 2, "Proxy-Authorization")) {
			const char *sp = memchr(p + sizeof(pa), ' ',
			    n - (sizeof(pa) - 1));
			int schemelen = sp != NULL ?
			    (int)(sp - p) - (int)sizeof(pa) : (int)0;

			log_debug("> Proxy-Authorization: %.*s <redacted>",
			    schemelen, p + sizeof(pa));
		} else
			log_head_line('>', p, n);
		p = nl != NULL ? nl + 1 : end;
	}
}

/*
 * Build the CONNECT request into h->out.  authz is the value of a
 * Proxy-Authorization field, or NULL.
 */
static enum step
http_request(struct handshake *h, const char *authz)
{
	const struct hs_params *p = h->p;
	char authority[300];
	size_t i;

	target_format(p->target->host, p->target->port, authority,
	    sizeof(authority));
	h->out.len = 0;
	if (out_printf(&h->out, "CONNECT %s HTTP/1.1\r\n", authority) == -1)
		goto toolong;
	if (!user_has_header(p, "Host") &&
	    out_printf(&h->out, "Host: %s\r\n", authority) == -1)
		goto toolong;
	if (!user_has_header(p, "User-Agent") &&
	    out_printf(&h->out, "User-Agent: culvert/%s\r\n", VERSION) == -1)
		goto toolong;
	if (authz != NULL &&
	    out_printf(&h->out, "Proxy-Authorization: %s\r\n", authz) == -1)
		goto toolong;
	for (i = 0; i < p->nheaders; i++)
		if (out_printf(&h->out, "%s\r\n", p->headers[i]) == -1)
			goto toolong;
	if (out_printf(&h->out, "\r\n") == -1)
		goto toolong;
	h->attempts++;
	h->state = HS_HTTP_HEAD;
	head_reset(&h->head);
	return STEP_SEND;
toolong:
	failure_set(&h->fail, EXIT_USAGE, "the CONNECT request would be "
	    "longer than %zu bytes; use fewer or shorter --header options",
	    sizeof(h->out.data));
	return STEP_FAIL;
}

/* A hint for the user, by status code. */
static const char *
refusal_hint(int code, unsigned port)
{
	switch (code) {
	case 403:
		if (port != 443)
			return "many proxies allow only port 443; GitHub "
			    "answers ssh on ssh.github.com:443";
		return "the proxy's policy forbids this target";
	case 400:
	case 404:
	case 405:
	case 501:
		return "this proxy may not support CONNECT; check the proxy "
		    "address";
	case 502:
	case 504:
		return "the proxy could not reach the target; check the host "
		    "name and port";
	case 503:
		return "the proxy or the target is unavailable; check the "
		    "host name and port, or try later";
	default:
		return "check the target and the proxy's policy";
	}
}

static void
log_response(const struct head *hd)
{
	const char *p = hd->buf, *end = hd->buf + hd->len;

	if (log_level() < LOG_DEBUG)
		return;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);

		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n == 0)
			break;
		log_head_line('<', p, n);
		p = nl != NULL ? nl + 1 : end;
	}
}

/* The head is complete: decide. */
static enum step
http_head_done(struct handshake *h)
{
	const struct hs_params *p = h->p;
	struct status st;
	char authority[300];

	target_format(p->target->host, p->target->port, authority,
	    sizeof(authority));
	log_response(&h->head);
	if (http_parse_status(&h->head, &st) == -1) {
		failure_set(&h->fail, EXIT_PROTO, "proxy answered CONNECT %s "
		    "with something that is not HTTP: \"%.80s\" (is this an "
		    "HTTP proxy? for SOCKS use socks5h://)", authority,
		    st.line);
		return STEP_FAIL;
	}
	log_info("proxy answered: %s", st.line);
	if (st.code >= 100 && st.code < 200 && st.code != 101) {
		/* Interim answer; the real one follows. */
		head_reset(&h->head);
		return STEP_NEED;
	}
	if (st.code >= 200 && st.code < 300) {
		h->state = HS_DONE;
		head_free(&h->head);
		return STEP_DONE;
	}
	if (st.code == 407) {
		failure_set(&h->fail, EXIT_AUTH, "proxy requires "
		    "authentication for CONNECT %s: %s (give a user with -U "
		    "or CULVERT_PROXY_USER and a password with --auth-file or "
		    "CULVERT_PROXY_PASSWORD)", authority, st.line);
		return STEP_FAIL;
	}
	failure_set(&h->fail, EXIT_REFUSED, "proxy refused CONNECT %s: %s "
	    "(%s)", authority, st.line, refusal_hint(st.code,
	    p->target->port));
	return STEP_FAIL;
}

static enum step
http_input(struct handshake *h, const unsigned char *data, size_t len,
    bool eof, size_t *used)
{
	char authority[300];
	size_t off = 0;

	*used = 0;
	while (off < len) {
		size_t n;
		enum head_result r;
		enum step s;

		r = head_feed(&h->head, data + off, len - off, &n);
		off += n;
		*used = off;
		switch (r) {
		case HEAD_MORE:
			break;
		case HEAD_COMPLETE:
			s = http_head_done(h);
			if (s != STEP_NEED)
				return s;
			break;
		case HEAD_TOO_BIG:
			target_format(h->p->target->host, h->p->target->port,
			    authority, sizeof(authority));
			failure_set(&h->fail, EXIT_PROTO, "proxy's answer to "
			    "CONNECT %s is too large (over %d bytes or %d "
			    "lines in its head); is this an HTTP proxy?",
			    authority, HEAD_MAX, HEAD_LINES_MAX);
			return STEP_FAIL;
		case HEAD_NOMEM:
			failure_set(&h->fail, EXIT_IO, "out of memory");
			return STEP_FAIL;
		}
	}
	if (eof) {
		target_format(h->p->target->host, h->p->target->port,
		    authority, sizeof(authority));
		if (h->head.len == 0)
			failure_set(&h->fail, EXIT_PROTO, "proxy closed the "
			    "connection without answering CONNECT %s (is this "
			    "an HTTP proxy?)", authority);
		else
			failure_set(&h->fail, EXIT_PROTO, "proxy closed the "
			    "connection in the middle of its answer to "
			    "CONNECT %s", authority);
		return STEP_FAIL;
	}
	return STEP_NEED;
}

enum step
hs_start(struct handshake *h, const struct hs_params *p)
{
	memset(h, 0, sizeof(*h));
	h->p = p;
	return hs_restart(h);
}

/* Describe the SOCKS request for the engine; see socks.h. */
static void
socks_params(const struct hs_params *p, struct socks_request *r)
{
	memset(r, 0, sizeof(*r));
	switch (p->proxy->scheme) {
	case SCHEME_SOCKS4:
		r->version = SOCKS_V4;
		break;
	case SCHEME_SOCKS4A:
		r->version = SOCKS_V4A;
		break;
	default:
		r->version = SOCKS_V5;
		break;
	}
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

enum step
hs_restart(struct handshake *h)
{
	struct socks_request r;

	h->out.len = 0;
	if (h->p->proxy->scheme == SCHEME_HTTP)
		return http_request(h, NULL);
	if (h->socks == NULL && (h->socks = calloc(1, sizeof(struct socks)))
	    == NULL) {
		failure_set(&h->fail, EXIT_IO, "out of memory");
		return STEP_FAIL;
	}
	socks_params(h->p, &r);
	return socks_start(h->socks, &r, &h->out, &h->fail);
}

enum step
hs_input(struct handshake *h, const unsigned char *data, size_t len,
    bool eof, size_t *used)
{
	if (h->p->proxy->scheme == SCHEME_HTTP)
		return http_input(h, data, len, eof, used);
	return socks_input(h->socks, data, len, eof, used, &h->out, &h->fail);
}

void
hs_free(struct handshake *h)
{
	head_free(&h->head);
	if (h->socks != NULL) {
		socks_finish(h->socks);
		free(h->socks);
		h->socks = NULL;
	}
	wipe(&h->out, sizeof(h->out));
}
