/*
 * front.c: requests from local clients: SOCKS5 (RFC 1928, no
 * authentication, CONNECT only), SOCKS4 and 4a, and HTTP CONNECT (RFC
 * 9110 section 9.3.6).  The first byte tells them apart: 5, 4, or a
 * letter.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "proto/front.h"

enum { ST_START, ST_S5_GREETING, ST_S5_REQUEST, ST_S4, ST_HTTP, ST_DONE };

#define S5_CMD_CONNECT	1
#define S5_REP_OK	0x00
#define S5_REP_FAILURE	0x01
#define S5_REP_RULESET	0x02
#define S5_REP_NET	0x03
#define S5_REP_HOST	0x04
#define S5_REP_REFUSED	0x05
#define S5_REP_TTL	0x06
#define S5_REP_COMMAND	0x07
#define S5_REP_ATYP	0x08
#define S4_GRANTED	0x5a
#define S4_REJECTED	0x5b

const char *
front_kind_name(enum front_kind k)
{
	switch (k) {
	case FRONT_SOCKS5:
		return "SOCKS5";
	case FRONT_SOCKS4:
		return "SOCKS4";
	case FRONT_HTTP:
		return "HTTP";
	default:
		return "unknown";
	}
}

void
front_init(struct front *f, unsigned allow)
{
	memset(f, 0, sizeof(*f));
	f->allow = allow;
	f->state = ST_START;
}

void
front_free(struct front *f)
{
	head_free(&f->head);
}

static void
put(struct front *f, const void *p, size_t len)
{
	if (f->outlen + len > sizeof(f->out))
		len = sizeof(f->out) - f->outlen;
	memcpy(f->out + f->outlen, p, len);
	f->outlen += len;
}

/* The request is read: the tunnel can open, or the client is refused. */
static enum front_step
done(struct front *f, bool ok)
{
	f->state = ST_DONE;
	return ok ? FRONT_REQUEST : FRONT_REJECT;
}

static enum front_step
reject(struct front *f, const char *reason)
{
	(void)snprintf(f->reason, sizeof(f->reason), "%s", reason);
	f->state = ST_DONE;
	return FRONT_REJECT;
}

static void
socks5_reply(struct front *f, unsigned code)
{
	unsigned char r[10] = { 5, 0, 0, 1, 0, 0, 0, 0, 0, 0 };

	r[1] = (unsigned char)code;
	f->outlen = 0;
	put(f, r, sizeof(r));
}

static void
socks4_reply(struct front *f, unsigned code)
{
	unsigned char r[8] = { 0, 0, 0, 0, 0, 0, 0, 0 };

	r[1] = (unsigned char)code;
	f->outlen = 0;
	put(f, r, sizeof(r));
}

static void
http_reply(struct front *f, int code, const char *reason, const char *body)
{
	char buf[FRONT_OUT_MAX];
	int n;

	if (body == NULL)
		n = snprintf(buf, sizeof(buf), "HTTP/1.1 %d %s\r\n\r\n", code,
		    reason);
	else
		n = snprintf(buf, sizeof(buf), "HTTP/1.1 %d %s\r\n"
		    "Content-Type: text/plain\r\nContent-Length: %zu\r\n"
		    "Connection: close\r\n\r\n%s\n", code, reason,
		    strlen(body) + 1, body);
	f->outlen = 0;
	if (n > 0)
		put(f, buf, (size_t)n < sizeof(buf) ? (size_t)n :
		    sizeof(buf) - 1);
}

/* A name or address from a request into f->target; -1 when it is bad. */
static int
set_target(struct front *f, const char *host, unsigned port)
{
	char err[256];

	if (snprintf(f->target.host, sizeof(f->target.host), "%s", host) < 0 ||
	    target_check_host(f->target.host, err, sizeof(err)) == -1 ||
	    port == 0) {
		if (snprintf(f->reason, sizeof(f->reason), "bad target: %s",
		    port == 0 ? "port 0" : err) < 0)
			f->reason[0] = '\0';
		return -1;
	}
	f->target.port = port;
	return 0;
}

static enum front_step
socks5_greeting(struct front *f, const unsigned char *in, size_t len,
    size_t *used)
{
	size_t n, i;

	if (len < 2)
		return FRONT_NEED;
	n = in[1];
	if (len < 2 + n)
		return FRONT_NEED;
	*used = 2 + n;
	for (i = 0; i < n; i++)
		if (in[2 + i] == 0x00) {
			static const unsigned char choose[2] = { 5, 0 };

			put(f, choose, sizeof(choose));
			f->state = ST_S5_REQUEST;
			return FRONT_SEND;
		}
	{
		static const unsigned char none[2] = { 5, 0xff };

		put(f, none, sizeof(none));
	}
	return reject(f, "the SOCKS5 client offered no method without "
	    "authentication");
}

static enum front_step
socks5_request(struct front *f, const unsigned char *in, size_t len,
    size_t *used)
{
	char host[256];
	size_t need;

	if (len < 4)
		return FRONT_NEED;
	if (in[0] != 5) {
		socks5_reply(f, S5_REP_FAILURE);
		return reject(f, "bad SOCKS5 request version");
	}
	switch (in[3]) {
	case 1:
		need = 4 + 4 + 2;
		break;
	case 3:
		if (len < 5)
			return FRONT_NEED;
		need = 4 + 1 + (size_t)in[4] + 2;
		break;
	case 4:
		need = 4 + 16 + 2;
		break;
	default:
		socks5_reply(f, S5_REP_ATYP);
		return reject(f, "unknown SOCKS5 address type");
	}
	if (len < need)
		return FRONT_NEED;
	*used = need;
	if (in[1] != S5_CMD_CONNECT) {
		socks5_reply(f, S5_REP_COMMAND);
		return reject(f, "SOCKS5 command other than CONNECT");
	}
	if (in[3] == 1)
		(void)inet_ntop(AF_INET, in + 4, host, sizeof(host));
	else if (in[3] == 4)
		(void)inet_ntop(AF_INET6, in + 4, host, sizeof(host));
	else {
		memcpy(host, in + 5, in[4]);
		host[in[4]] = '\0';
	}
	if (set_target(f, host, (unsigned)in[need - 2] << 8 | in[need - 1])
	    == -1) {
		socks5_reply(f, S5_REP_FAILURE);
		return done(f, false);
	}
	return done(f, true);
}

static enum front_step
socks4_request(struct front *f, const unsigned char *in, size_t len,
    size_t *used)
{
	const unsigned char *nul;
	char host[256];
	size_t off;

	if (len < 9)
		return FRONT_NEED;
	if ((nul = memchr(in + 8, 0, len - 8)) == NULL) {
		if (len > 8 + 256) {
			socks4_reply(f, S4_REJECTED);
			return reject(f, "SOCKS4 user id too long");
		}
		return FRONT_NEED;
	}
	off = (size_t)(nul - in) + 1;
	if (in[4] == 0 && in[5] == 0 && in[6] == 0 && in[7] != 0) {
		/* SOCKS4a: 0.0.0.x, the name follows the user id. */
		nul = off < len ? memchr(in + off, 0, len - off) : NULL;
		if (nul == NULL) {
			if (len - off > 256) {
				socks4_reply(f, S4_REJECTED);
				return reject(f, "SOCKS4a host name too long");
			}
			return FRONT_NEED;
		}
		if ((size_t)(nul - (in + off)) >= sizeof(host)) {
			socks4_reply(f, S4_REJECTED);
			return reject(f, "SOCKS4a host name too long");
		}
		memcpy(host, in + off, (size_t)(nul - (in + off)));
		host[nul - (in + off)] = '\0';
		off = (size_t)(nul - in) + 1;
	} else
		(void)inet_ntop(AF_INET, in + 4, host, sizeof(host));
	*used = off;
	if (in[1] != 1) {
		socks4_reply(f, S4_REJECTED);
		return reject(f, "SOCKS4 command other than CONNECT");
	}
	if (set_target(f, host, (unsigned)in[2] << 8 | in[3]) == -1) {
		socks4_reply(f, S4_REJECTED);
		return done(f, false);
	}
	return done(f, true);
}

/* The request line "CONNECT host:port HTTP/1.x" of a complete head. */
static enum front_step
http_request(struct front *f)
{
	const char *line, *sp1, *sp2, *end, *colon;
	char host[300], port[8];
	size_t pos = 0, n, hl;

	if (!http_next_line(f->head.buf, f->head.len, &pos, &line, &n)) {
		http_reply(f, 400, "Bad Request", "culvert: empty request");
		return reject(f, "empty HTTP request");
	}
	end = line + n;
	sp1 = memchr(line, ' ', n);
	sp2 = sp1 != NULL ? memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1)) :
	    NULL;
	if (sp1 == NULL || sp2 == NULL || end - sp2 != 9 ||
	    memcmp(sp2 + 1, "HTTP/1.", 7) != 0 ||
	    (sp2[8] != '0' && sp2[8] != '1')) {
		http_reply(f, 400, "Bad Request", "culvert: not an HTTP/1.x "
		    "request");
		return reject(f, "not an HTTP/1.x request");
	}
	if ((size_t)(sp1 - line) != 7 || memcmp(line, "CONNECT", 7) != 0) {
		http_reply(f, 501, "Not Implemented", "culvert serves CONNECT "
		    "only: it is a tunnel, not a web proxy (use it as an HTTPS "
		    "proxy, or as a SOCKS5 proxy)");
		return reject(f, "an HTTP request other than CONNECT");
	}
	/* authority-form: host:port, IPv6 in brackets */
	hl = (size_t)(sp2 - sp1 - 1);
	colon = NULL;
	if (hl > 0 && sp1[1] == '[') {
		const char *rb = memchr(sp1 + 1, ']', hl);

		if (rb != NULL && rb + 1 < sp2 && rb[1] == ':')
			colon = rb + 1;
	} else
		colon = memchr(sp1 + 1, ':', hl);
	if (colon == NULL || colon == sp1 + 1 || (size_t)(sp2 - colon - 1) == 0 ||
	    (size_t)(sp2 - colon - 1) >= sizeof(port) ||
	    (size_t)(colon - sp1 - 1) >= sizeof(host)) {
		http_reply(f, 400, "Bad Request", "culvert: CONNECT wants "
		    "host:port");
		return reject(f, "CONNECT without host:port");
	}
	memcpy(host, sp1 + 1, (size_t)(colon - sp1 - 1));
	host[colon - sp1 - 1] = '\0';
	memcpy(port, colon + 1, (size_t)(sp2 - colon - 1));
	port[sp2 - colon - 1] = '\0';
	if (target_parse(&f->target, host, port, f->reason + 12,
	    sizeof(f->reason) - 12) == -1) {
		memcpy(f->reason, "bad target: ", 12);
		http_reply(f, 400, "Bad Request", f->reason);
		return done(f, false);
	}
	return done(f, true);
}

static enum front_step
http_input(struct front *f, const unsigned char *in, size_t len,
    size_t *used)
{
	enum head_result r = head_feed(&f->head, in, len, used);

	switch (r) {
	case HEAD_MORE:
		return FRONT_NEED;
	case HEAD_COMPLETE:
		return http_request(f);
	case HEAD_TOO_BIG:
		http_reply(f, 431, "Request Header Fields Too Large", NULL);
		return reject(f, "HTTP request head too large");
	case HEAD_NOMEM:
		break;
	}
	http_reply(f, 503, "Service Unavailable", NULL);
	return reject(f, "out of memory");
}

enum front_step
front_input(struct front *f, const unsigned char *in, size_t len, bool eof,
    size_t *used)
{
	enum front_step s = FRONT_NEED;

	*used = 0;
	f->outlen = 0;
	if (f->state == ST_START && len > 0) {
		if (in[0] == 5 && (f->allow & FRONT_ALLOW_SOCKS5)) {
			f->kind = FRONT_SOCKS5;
			f->state = ST_S5_GREETING;
		} else if (in[0] == 4 && (f->allow & FRONT_ALLOW_SOCKS4)) {
			f->kind = FRONT_SOCKS4;
			f->state = ST_S4;
		} else if (((in[0] >= 'A' && in[0] <= 'Z') ||
		    (in[0] >= 'a' && in[0] <= 'z')) &&
		    (f->allow & FRONT_ALLOW_HTTP)) {
			f->kind = FRONT_HTTP;
			f->state = ST_HTTP;
		} else
			return reject(f, "not a SOCKS or HTTP request");
	}
	switch (f->state) {
	case ST_S5_GREETING:
		s = socks5_greeting(f, in, len, used);
		break;
	case ST_S5_REQUEST:
		s = socks5_request(f, in, len, used);
		break;
	case ST_S4:
		s = socks4_request(f, in, len, used);
		break;
	case ST_HTTP:
		s = http_input(f, in, len, used);
		break;
	case ST_START:
		break;
	default:
		return reject(f, "request already read");
	}
	if (s == FRONT_NEED && eof)
		return reject(f, f->state == ST_START ? "closed without a "
		    "request" : "closed in the middle of its request");
	return s;
}

void
front_reply_ok(struct front *f)
{
	switch (f->kind) {
	case FRONT_SOCKS5:
		socks5_reply(f, S5_REP_OK);
		break;
	case FRONT_SOCKS4:
		socks4_reply(f, S4_GRANTED);
		break;
	case FRONT_HTTP:
		http_reply(f, 200, "Connection established", NULL);
		break;
	default:
		f->outlen = 0;
		break;
	}
}

unsigned
front_socks5_code(const struct failure *fail)
{
	if (fail->socks_reply > 0 && fail->socks_reply <= 8)
		return (unsigned)fail->socks_reply;
	switch (fail->kind) {
	case FAIL_REFUSED:
		switch (fail->http_status) {
		case 403:
			return S5_REP_RULESET;
		case 502:
		case 503:
			return S5_REP_HOST;
		case 504:
			return S5_REP_TTL;
		default:
			return S5_REP_FAILURE;
		}
	case FAIL_TIMEOUT:
		return S5_REP_TTL;
	case FAIL_UNREACH:
		/* No proxy: the target itself could not be reached. */
		return fail->hop == 0 && fail->http_status == 0 ?
		    S5_REP_HOST : S5_REP_FAILURE;
	case FAIL_AUTH:
		return S5_REP_RULESET;
	default:
		return S5_REP_FAILURE;
	}
}

int
front_http_status(const struct failure *fail)
{
	return fail->kind == FAIL_TIMEOUT ? 504 : 502;
}

void
front_reply_fail(struct front *f, const struct failure *fail)
{
	int code;

	switch (f->kind) {
	case FRONT_SOCKS5:
		socks5_reply(f, front_socks5_code(fail));
		break;
	case FRONT_SOCKS4:
		socks4_reply(f, S4_REJECTED);
		break;
	case FRONT_HTTP:
		code = front_http_status(fail);
		http_reply(f, code, code == 504 ? "Gateway Timeout" :
		    "Bad Gateway", fail->msg);
		break;
	default:
		f->outlen = 0;
		break;
	}
}
