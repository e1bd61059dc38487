/*
 * connect.c: the HTTP CONNECT exchange (RFC 9110 section 9.3.6) with its
 * 407 rounds, as an engine following proto.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/auth.h"
#include "proto/handshake.h"
#include "util/version.h"

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

/* Announce the request in h->out line by line, the credentials redacted. */
static void
emit_request(struct handshake *h)
{
	static const char pa[] = "Proxy-Authorization:";
	const char *buf = (const char *)h->out.data, *line;
	char shown[128];
	size_t pos = 0, n;

	if (h->event == NULL)
		return;
	while (http_next_line(buf, h->out.len, &pos, &line, &n)) {
		if (n >= sizeof(pa) - 1 &&
		    http_field_is(line, sizeof(pa) - 2, "Proxy-Authorization")) {
			const char *v = line + sizeof(pa) - 1, *end = line + n;
			const char *sp;

			while (v < end && *v == ' ')
				v++;
			sp = memchr(v, ' ', (size_t)(end - v));
			(void)snprintf(shown, sizeof(shown), "%s %.*s <redacted>",
			    pa, (int)((sp != NULL ? sp : v) - v), v);
			hs_emit(h, HSE_SENT, shown, strlen(shown), 0);
		} else
			hs_emit(h, HSE_SENT, line, n, 0);
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
	size_t i;

	h->out.len = 0;
	if (out_printf(&h->out, "CONNECT %s HTTP/1.1\r\n", h->authority) == -1)
		goto toolong;
	if (!user_has_header(p, "Host") &&
	    out_printf(&h->out, "Host: %s\r\n", h->authority) == -1)
		goto toolong;
	if (!user_has_header(p, "User-Agent") &&
	    out_printf(&h->out, "User-Agent: culvert/%s\r\n",
	    CULVERT_VERSION) == -1)
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
	if (authz != NULL) {
		char scheme[32];

		/* The scheme's name only: the rest is the credential. */
		(void)snprintf(scheme, sizeof(scheme), "%.*s",
		    (int)strcspn(authz, " "), authz);
		hs_emit(h, HSE_AUTH_USED, scheme, strlen(scheme), 0);
	}
	emit_request(h);
	return STEP_SEND;
toolong:
	failure_set(&h->fail, FAIL_USAGE, "the CONNECT request would be "
	    "longer than %zu bytes; use fewer or shorter --header options",
	    sizeof(h->out.data));
	return STEP_FAIL;
}

/* A hint for the user, by status code. */
static const char *
refusal_hint(int code, unsigned port, bool to_proxy)
{
	if (to_proxy && (code == 403 || code == 502 || code == 503 ||
	    code == 504))
		return "this proxy does not reach the next proxy of the chain; "
		    "check that proxy's address and port, and this proxy's "
		    "policy";
	switch (code) {
	case 403:
		if (port != 443)
			return "many proxies allow only port 443; GitHub "
			    "answers ssh on ssh.github.com:443, GitLab on "
			    "altssh.gitlab.com:443";
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
emit_response(struct handshake *h)
{
	const char *line;
	size_t pos = 0, n;

	if (h->event == NULL)
		return;
	while (http_next_line(h->head.buf, h->head.len, &pos, &line, &n))
		hs_emit(h, HSE_RECEIVED, line, n, 0);
}

/* Answer a 407: retry on this connection, reconnect, or give up. */
static enum step
http_407(struct handshake *h, const struct status *st)
{
	bool midway = auth_needs_connection(h->auth);
	long long body;

	int rc;

	rc = auth_on_407(h->auth, &h->head, st, h->attempts, &h->fail);
	if (auth_offered(h->auth)[0] != '\0')
		hs_emit(h, HSE_AUTH_OFFERED, auth_offered(h->auth),
		    strlen(auth_offered(h->auth)), st->code);
	if (rc == -1) {
		h->fail.http_status = st->code;
		return STEP_FAIL;
	}
	body = http_reuse_length(&h->head, st, BODY_DRAIN_MAX);
	if (body == -1) {
		if (midway) {
			failure_set(&h->fail, FAIL_AUTH, "proxy closed the "
			    "connection in the middle of NTLM authentication, "
			    "which needs one connection throughout: %s",
			    st->line);
			h->fail.http_status = st->code;
			return STEP_FAIL;
		}
		hs_emitf(h, "proxy wants authentication; reconnecting");
		return STEP_RECONNECT;
	}
	hs_emitf(h, "proxy wants authentication; answering on the same "
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

	emit_response(h);
	if (http_parse_status(&h->head, &st) == -1) {
		failure_set(&h->fail, FAIL_PROTO, "proxy answered CONNECT %s "
		    "with something that is not HTTP: \"%.80s\" (is this an "
		    "HTTP proxy? for SOCKS use socks5h://)", h->authority,
		    st.line);
		return STEP_FAIL;
	}
	hs_emit(h, HSE_STATUS, st.line, strlen(st.line), st.code);
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
	failure_set(&h->fail, FAIL_REFUSED, "proxy refused CONNECT %s: %s "
	    "(%s)", h->authority, st.line, refusal_hint(st.code,
	    p->target->port, p->to_proxy));
	h->fail.http_status = st.code;
	return STEP_FAIL;
}

enum step
connect_input(struct handshake *h, const unsigned char *data, size_t len,
    bool eof, size_t *used)
{
	size_t off = 0, n;
	enum head_result r;
	enum step s;

	*used = 0;
	if (h->state == HS_DONE)
		return STEP_DONE;	/* what follows is the tunnel's */
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
				failure_set(&h->fail, FAIL_PROTO, "proxy closed "
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
			failure_set(&h->fail, FAIL_PROTO, "proxy's answer to "
			    "CONNECT %s is too large (over %d bytes or %d "
			    "lines in its head); is this an HTTP proxy?",
			    h->authority, HEAD_MAX, HEAD_LINES_MAX);
			return STEP_FAIL;
		}
		if (r == HEAD_NOMEM) {
			failure_set(&h->fail, FAIL_IO, "out of memory");
			return STEP_FAIL;
		}
	}
	if (eof) {
		if (h->head.len == 0)
			failure_set(&h->fail, FAIL_PROTO, "proxy closed the "
			    "connection without answering CONNECT %s (is this "
			    "an HTTP proxy?)", h->authority);
		else
			failure_set(&h->fail, FAIL_PROTO, "proxy closed the "
			    "connection in the middle of its answer to "
			    "CONNECT %s", h->authority);
		return STEP_FAIL;
	}
	return STEP_NEED;
}

enum step
connect_restart(struct handshake *h)
{
	if (h->auth == NULL) {
		h->auth = auth_new(h->p->creds, h->p->auth_allow,
		    h->authority);
		if (h->auth == NULL) {
			failure_set(&h->fail, FAIL_IO, "out of memory");
			return STEP_FAIL;
		}
	}
	return http_request(h, auth_next(h->auth));
}
