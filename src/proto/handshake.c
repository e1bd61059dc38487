/*
 * handshake.c: the HTTP CONNECT exchange (RFC 9110 section 9.3.6) and the
 * dispatch to the SOCKS engines.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/handshake.h"
#include "util/log.h"
#include "cli/options.h"
#include "auth/auth.h"
#include "cli/creds.h"
#include "proto/socks.h"
#include "crypto/wipe.h"

#ifndef VERSION
#define VERSION "dev"
#endif

enum { HS_HTTP_HEAD, HS_HTTP_BODY, HS_DONE };

#define BODY_DRAIN_MAX	(1024 * 1024)	/* larger 407 bodies: reconnect */

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

/*
 * How the proxy will go on after a 407: the body length to drain when
 * the connection stays open, or -1 when it has to be reopened.
 */
static long long
reuse_length(const struct head *hd, const struct status *st)
{
	const char *name, *value;
	size_t pos = 0, nl, vl, i;
	long long len = -1;
	bool keep = st->minor >= 1;

	while (http_next_field(hd, &pos, &name, &nl, &value, &vl)) {
		if (http_field_is(name, nl, "Content-Length")) {
			long long v = 0;

			if (vl == 0 || vl > 12)
				return -1;
			for (i = 0; i < vl; i++) {
				if (value[i] < '0' || value[i] > '9')
					return -1;
				v = v * 10 + (value[i] - '0');
			}
			if (len != -1 && len != v)
				return -1;
			len = v;
		} else if (http_field_is(name, nl, "Transfer-Encoding"))
			return -1;
		else if (http_field_is(name, nl, "Connection") ||
		    http_field_is(name, nl, "Proxy-Connection")) {
			for (i = 0; i + 5 <= vl; i++) {
				if (strncasecmp(value + i, "close", 5) == 0)
					return -1;
				if (i + 10 <= vl &&
				    strncasecmp(value + i, "keep-alive", 10) == 0)
					keep = true;
			}
		}
	}
	if (!keep || len > BODY_DRAIN_MAX)
		return -1;
	return len;
}

/* Answer a 407: retry on this connection, reconnect, or give up. */
static enum step
http_407(struct handshake *h, const struct status *st)
{
	bool midway = auth_needs_connection(h->auth);
	long long body;

	if (auth_on_407(h->auth, &h->head, st, h->attempts, &h->fail) == -1)
		return STEP_FAIL;
	body = reuse_length(&h->head, st);
	if (body == -1) {
		if (midway) {
			failure_set(&h->fail, EXIT_AUTH, "proxy closed the "
			    "connection in the middle of NTLM authentication, "
			    "which needs one connection throughout: %s",
			    st->line);
			return STEP_FAIL;
		}
		log_info("proxy wants authentication; reconnecting");
		return STEP_RECONNECT;
	}
	log_info("proxy wants authentication; answering on the same "
	    "connection");
	h->body_left = (size_t)body;
	if (h->body_left == 0)
		return http_request(h, auth_next(h->auth));
	h->state = HS_HTTP_BODY;
	return STEP_NEED;
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
	if (st.code == 407)
		return http_407(h, &st);
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
	size_t off = 0, n;
	enum head_result r;
	enum step s;

	*used = 0;
	for (;;) {
		if (h->state == HS_HTTP_BODY) {
			/* Drain the 407's body, then ask again on this line. */
			n = len - off < h->body_left ? len - off : h->body_left;
			h->body_left -= n;
			off += n;
			*used = off;
			if (h->body_left == 0)
				return http_request(h, auth_next(h->auth));
			if (eof) {
				failure_set(&h->fail, EXIT_PROTO, "proxy closed "
				    "the connection in the middle of its 407 "
				    "answer");
				return STEP_FAIL;
			}
			return STEP_NEED;
		}
		if (off == len)
			break;
		r = head_feed(&h->head, data + off, len - off, &n);
		off += n;
		*used = off;
		if (r == HEAD_COMPLETE) {
			if ((s = http_head_done(h)) != STEP_NEED)
				return s;
			continue;	/* 1xx skipped, or a 407 body follows */
		}
		if (r == HEAD_TOO_BIG) {
			target_format(h->p->target->host, h->p->target->port,
			    authority, sizeof(authority));
			failure_set(&h->fail, EXIT_PROTO, "proxy's answer to "
			    "CONNECT %s is too large (over %d bytes or %d "
			    "lines in its head); is this an HTTP proxy?",
			    authority, HEAD_MAX, HEAD_LINES_MAX);
			return STEP_FAIL;
		}
		if (r == HEAD_NOMEM) {
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

enum step
hs_restart(struct handshake *h)
{
	struct socks_request r;

	h->out.len = 0;
	if (h->p->proxy->scheme == SCHEME_HTTP) {
		if (h->auth == NULL) {
			char authority[300];

			target_format(h->p->target->host, h->p->target->port,
			    authority, sizeof(authority));
			h->auth = auth_new(h->p->creds, h->p->auth_allow,
			    authority);
			if (h->auth == NULL) {
				failure_set(&h->fail, EXIT_IO, "out of memory");
				return STEP_FAIL;
			}
		}
		return http_request(h, auth_next(h->auth));
	}
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
	auth_free(h->auth);
	h->auth = NULL;
	if (h->socks != NULL) {
		socks_finish(h->socks);
		free(h->socks);
		h->socks = NULL;
	}
	wipe(&h->out, sizeof(h->out));
}
