/*
 * socks.c: SOCKS4, SOCKS4a and SOCKS5 client handshakes (see socks.h).
 *
 * Replies are consumed whole or not at all: while a reply is incomplete the
 * engine asks for more and the driver offers the same bytes again with new
 * ones appended, so nothing is buffered here and nothing past a reply is
 * ever taken from the tunnel.  A refusal is reported as soon as its code
 * byte has arrived, since some servers close without the rest.
 *
 * Leniencies, all seen in the wild: a SOCKS4 reply version of 4 (not 0), an
 * RFC 1929 reply version of 5 (not 1), a nonzero reserved byte in a SOCKS5
 * reply.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "proto/proto.h"
#include "proto/socks.h"
#include "crypto/wipe.h"

enum socks_state {
	ST_INIT,
	ST_METHOD,		/* SOCKS5: waiting for the chosen method */
	ST_AUTH,		/* SOCKS5: waiting for the RFC 1929 status */
	ST_REPLY,		/* waiting for the CONNECT reply */
	ST_DONE,
	ST_FAILED
};

#define S5_METHOD_NONE		0x00
#define S5_METHOD_USERPASS	0x02
#define S5_METHOD_REJECT	0xff
#define S5_ATYP_IPV4		0x01
#define S5_ATYP_NAME		0x03
#define S5_ATYP_IPV6		0x04
#define S4_GRANTED		0x5a

/* Proxies answering SOCKS with HTTP start with "HTTP/". */
#define HTTP_HINT	" (this looks like an HTTP proxy: use an http:// proxy URL)"

const char *
socks_version_name(enum socks_version v)
{
	switch (v) {
	case SOCKS_V4:
		return "SOCKS4";
	case SOCKS_V4A:
		return "SOCKS4a";
	case SOCKS_V5:
		return "SOCKS5";
	}
	return "SOCKS";
}

/* host without surrounding brackets into buf; -1 if it does not fit. */
static int
unbracket(const char *host, char *buf, size_t buflen)
{
	size_t len = strlen(host);

	if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
		host++;
		len -= 2;
	}
	if (len >= buflen)
		return -1;
	/* len < buflen, a small array's size, so the int cast is safe. */
	(void)snprintf(buf, buflen, "%.*s", (int)len, host);
	return 0;
}

/* Parse an IP literal host into addr; returns its length, 0 for a name. */
static size_t
literal_addr(const char *host, unsigned char *addr)
{
	if (inet_pton(AF_INET, host, addr) == 1)
		return 4;
	if (inet_pton(AF_INET6, host, addr) == 1)
		return 16;
	return 0;
}

int
socks_check(const struct socks_request *r, struct failure *f)
{
	const char *v = socks_version_name(r->version);
	char host[SOCKS_FIELD_MAX + 1];
	unsigned char addr[16];
	size_t addrlen = r->addrlen;

	if (r->host == NULL || *r->host == '\0') {
		failure_set(f, FAIL_USAGE, "%s: empty target host", v);
		return -1;
	}
	if (unbracket(r->host, host, sizeof(host)) == -1) {
		failure_set(f, FAIL_USAGE, "%s: target host name is longer "
		    "than %d bytes", v, SOCKS_FIELD_MAX);
		return -1;
	}
	if (r->port == 0 || r->port > 65535) {
		failure_set(f, FAIL_USAGE, "%s: target port %u is not in "
		    "1-65535", v, r->port);
		return -1;
	}
	if ((addrlen != 0 && addrlen != 4 && addrlen != 16) ||
	    (addrlen != 0 && r->addr == NULL)) {
		failure_set(f, FAIL_USAGE, "%s: bad target address length "
		    "%zu", v, addrlen);
		return -1;
	}
	if (addrlen == 0)
		addrlen = literal_addr(host, addr);
	if (r->version != SOCKS_V5 && addrlen == 16) {
		failure_set(f, FAIL_USAGE, "%s cannot reach the IPv6 address "
		    "of %s; use a socks5h:// proxy", v, host);
		return -1;
	}
	if (r->version == SOCKS_V4 && addrlen == 0) {
		failure_set(f, FAIL_USAGE, "SOCKS4 needs %s resolved to an "
		    "IPv4 address; use socks4a:// or socks5h:// to let the "
		    "proxy resolve it", host);
		return -1;
	}
	if (r->user != NULL && strlen(r->user) > SOCKS_FIELD_MAX) {
		failure_set(f, FAIL_USAGE, "%s: proxy user name is longer "
		    "than %d bytes", v, SOCKS_FIELD_MAX);
		return -1;
	}
	if (r->version == SOCKS_V5 && r->pass != NULL &&
	    strlen(r->pass) > SOCKS_FIELD_MAX) {
		failure_set(f, FAIL_USAGE, "SOCKS5: proxy password is longer "
		    "than %d bytes (RFC 1929 limit)", SOCKS_FIELD_MAX);
		return -1;
	}
	if (r->version == SOCKS_V5 && r->pass != NULL && *r->pass != '\0' &&
	    (r->user == NULL || *r->user == '\0')) {
		failure_set(f, FAIL_USAGE, "SOCKS5: a proxy password needs a "
		    "user name of 1-%d bytes (RFC 1929)", SOCKS_FIELD_MAX);
		return -1;
	}
	return 0;
}

/*
 * Empty *out, wiping what it held (it may have carried the password).  All
 * of it: the driver may have set len to 0 after sending.
 */
static void
out_reset(struct outbuf *out)
{
	wipe(out->data, sizeof(out->data));
	out->len = 0;
}

static void
put(struct outbuf *out, const void *p, size_t len)
{
	memcpy(out->data + out->len, p, len);
	out->len += len;
}

static void
put_byte(struct outbuf *out, unsigned b)
{
	out->data[out->len++] = (unsigned char)b;
}

static void
wipe_pass(struct socks *s)
{
	wipe(s->pass, sizeof(s->pass));
	s->passlen = 0;
}

/* SOCKS4 / SOCKS4a request: address, or 0.0.0.1 followed by the name. */
static void
build_socks4(struct socks *s, struct outbuf *out)
{
	static const unsigned char socks4a_addr[4] = { 0, 0, 0, 1 };

	out_reset(out);
	put_byte(out, 4);
	put_byte(out, 1);			/* CONNECT */
	put_byte(out, s->port >> 8);
	put_byte(out, s->port & 0xff);
	put(out, s->addrlen == 4 ? s->addr : socks4a_addr, 4);
	put(out, s->user, s->userlen + 1);	/* with its NUL */
	if (s->addrlen == 0)
		put(out, s->host, strlen(s->host) + 1);
}

static void
build_greeting(struct socks *s, struct outbuf *out)
{
	out_reset(out);
	put_byte(out, 5);
	if (s->offer_auth) {
		put_byte(out, 2);
		put_byte(out, S5_METHOD_NONE);
		put_byte(out, S5_METHOD_USERPASS);
	} else {
		put_byte(out, 1);
		put_byte(out, S5_METHOD_NONE);
	}
}

/* RFC 1929 request; the password is wiped from s once it is in *out. */
static void
build_auth(struct socks *s, struct outbuf *out)
{
	out_reset(out);
	put_byte(out, 1);
	put_byte(out, (unsigned)s->userlen);
	put(out, s->user, s->userlen);
	put_byte(out, (unsigned)s->passlen);
	put(out, s->pass, s->passlen);
	wipe_pass(s);
}

static void
build_connect5(struct socks *s, struct outbuf *out)
{
	size_t hostlen;

	out_reset(out);
	put_byte(out, 5);
	put_byte(out, 1);			/* CONNECT */
	put_byte(out, 0);
	if (s->addrlen == 4) {
		put_byte(out, S5_ATYP_IPV4);
		put(out, s->addr, 4);
	} else if (s->addrlen == 16) {
		put_byte(out, S5_ATYP_IPV6);
		put(out, s->addr, 16);
	} else {
		hostlen = strlen(s->host);
		put_byte(out, S5_ATYP_NAME);
		put_byte(out, (unsigned)hostlen);
		put(out, s->host, hostlen);
	}
	put_byte(out, s->port >> 8);
	put_byte(out, s->port & 0xff);
}

enum step
socks_start(struct socks *s, const struct socks_request *r,
    struct outbuf *out, struct failure *f)
{
	memset(s, 0, sizeof(*s));
	s->version = r->version;
	s->state = ST_FAILED;
	if (socks_check(r, f) == -1)
		return STEP_FAIL;
	(void)unbracket(r->host, s->host, sizeof(s->host));
	if (strchr(s->host, ':') != NULL)
		(void)snprintf(s->target, sizeof(s->target), "[%s]:%u",
		    s->host, r->port);
	else
		(void)snprintf(s->target, sizeof(s->target), "%s:%u",
		    s->host, r->port);
	s->port = r->port;
	if (r->addrlen != 0) {
		memcpy(s->addr, r->addr, r->addrlen);
		s->addrlen = r->addrlen;
	} else
		s->addrlen = literal_addr(s->host, s->addr);
	if (r->user != NULL) {
		s->userlen = strlen(r->user);
		memcpy(s->user, r->user, s->userlen + 1);
	}
	if (r->version == SOCKS_V5 && s->userlen > 0) {
		s->offer_auth = true;
		if (r->pass != NULL) {
			s->passlen = strlen(r->pass);
			memcpy(s->pass, r->pass, s->passlen + 1);
		}
	}
	if (r->version == SOCKS_V5) {
		build_greeting(s, out);
		s->state = ST_METHOD;
	} else {
		build_socks4(s, out);
		s->state = ST_REPLY;
	}
	return STEP_SEND;
}

/* Give up (f is set): wipe the password and the message in flight. */
static enum step
fail(struct socks *s, struct outbuf *out)
{
	wipe_pass(s);
	out_reset(out);
	s->state = ST_FAILED;
	return STEP_FAIL;
}

/* The proxy closed with have bytes of the expected reply what. */
static enum step
fail_closed(struct socks *s, struct outbuf *out, struct failure *f,
    size_t have, const char *what)
{
	const char *v = socks_version_name(s->version);

	if (have == 0)
		failure_set(f, FAIL_PROTO, "%s proxy closed the connection "
		    "before %s", v, what);
	else
		failure_set(f, FAIL_PROTO, "%s proxy closed the connection "
		    "in the middle of %s (got only %zu byte%s)", v, what, have,
		    have == 1 ? "" : "s");
	return fail(s, out);
}

static enum step
fail_version(struct socks *s, struct outbuf *out, struct failure *f,
    const unsigned char *in, const char *what, unsigned want)
{
	failure_set(f, FAIL_PROTO, "%s proxy sent version %u in %s, "
	    "expected %u%s", socks_version_name(s->version), in[0], what,
	    want, in[0] == 'H' ? HTTP_HINT : "");
	return fail(s, out);
}

/* fail_version() for the reply to CONNECT, which names the target. */
static enum step
fail_reply_version(struct socks *s, struct outbuf *out, struct failure *f,
    const unsigned char *in, unsigned want)
{
	char what[sizeof(s->target) + 32];

	(void)snprintf(what, sizeof(what), "its reply to CONNECT %s",
	    s->target);
	return fail_version(s, out, f, in, what, want);
}

static const char *
socks5_reply_text(unsigned code)
{
	static const char *const text[] = {
		"succeeded",
		"general SOCKS server failure",
		"connection not allowed by ruleset",
		"network unreachable",
		"host unreachable",
		"connection refused by destination",
		"TTL expired",
		"command not supported",
		"address type not supported"
	};

	return code < sizeof(text) / sizeof(text[0]) ? text[code] : NULL;
}

static enum step
socks5_method(struct socks *s, const unsigned char *in, size_t len,
    size_t *used, struct outbuf *out, struct failure *f)
{
	const char *what = "its reply to the greeting";

	if (len >= 1 && in[0] != 5)
		return fail_version(s, out, f, in, what, 5);
	if (len < 2)
		return STEP_NEED;
	*used = 2;
	switch (in[1]) {
	case S5_METHOD_NONE:
		wipe_pass(s);
		build_connect5(s, out);
		s->state = ST_REPLY;
		return STEP_SEND;
	case S5_METHOD_USERPASS:
		if (!s->offer_auth)
			break;
		build_auth(s, out);
		s->state = ST_AUTH;
		return STEP_SEND;
	case S5_METHOD_REJECT:
		/*
		 * Exit 5 either way: without credentials the proxy almost
		 * always wants a user name and password.
		 */
		if (s->offer_auth)
			failure_set(f, FAIL_AUTH, "SOCKS5 proxy accepted no "
			    "authentication method we offered (none, "
			    "username/password)");
		else
			failure_set(f, FAIL_AUTH, "SOCKS5 proxy requires "
			    "authentication (no acceptable method); supply a "
			    "user name and password (-U, or user:password@ in "
			    "the proxy URL)");
		return fail(s, out);
	}
	failure_set(f, FAIL_PROTO, "SOCKS5 proxy chose authentication method "
	    "0x%02x, which was not offered", in[1]);
	return fail(s, out);
}

static enum step
socks5_auth(struct socks *s, const unsigned char *in, size_t len,
    size_t *used, struct outbuf *out, struct failure *f)
{
	const char *what = "its authentication reply";

	if (len >= 1 && in[0] != 1 && in[0] != 5)
		return fail_version(s, out, f, in, what, 1);
	if (len < 2)
		return STEP_NEED;
	*used = 2;
	if (in[1] != 0) {
		failure_set(f, FAIL_AUTH, "SOCKS5 proxy rejected the user name "
		    "or password (status %u)", in[1]);
		return fail(s, out);
	}
	build_connect5(s, out);
	s->state = ST_REPLY;
	return STEP_SEND;
}

static enum step
socks5_reply(struct socks *s, const unsigned char *in, size_t len,
    size_t *used, struct outbuf *out, struct failure *f)
{
	const char *text;
	size_t need;

	if (len >= 1 && in[0] != 5)
		return fail_reply_version(s, out, f, in, 5);
	if (len < 2)
		return STEP_NEED;
	if (in[1] != 0) {
		if ((text = socks5_reply_text(in[1])) != NULL)
			failure_set(f, FAIL_REFUSED, "SOCKS5 proxy refused "
			    "CONNECT %s: %s", s->target, text);
		else
			failure_set(f, FAIL_REFUSED, "SOCKS5 proxy refused "
			    "CONNECT %s: unknown reply code %u", s->target,
			    in[1]);
		return fail(s, out);
	}
	if (len < 4)
		return STEP_NEED;
	switch (in[3]) {
	case S5_ATYP_IPV4:
		need = 4 + 4 + 2;
		break;
	case S5_ATYP_IPV6:
		need = 4 + 16 + 2;
		break;
	case S5_ATYP_NAME:
		if (len < 5)
			return STEP_NEED;
		need = 4 + 1 + (size_t)in[4] + 2;
		break;
	default:
		failure_set(f, FAIL_PROTO, "SOCKS5 proxy sent unknown address "
		    "type %u in its reply to CONNECT %s", in[3], s->target);
		return fail(s, out);
	}
	if (len < need)
		return STEP_NEED;
	*used = need;
	wipe_pass(s);
	s->state = ST_DONE;
	return STEP_DONE;
}

static enum step
socks4_reply(struct socks *s, const unsigned char *in, size_t len,
    size_t *used, struct outbuf *out, struct failure *f)
{
	const char *v = socks_version_name(s->version);

	if (len >= 1 && in[0] != 0 && in[0] != 4)
		return fail_reply_version(s, out, f, in, 0);
	if (len < 2)
		return STEP_NEED;
	switch (in[1]) {
	case S4_GRANTED:
		break;
	case 0x5b:
		failure_set(f, FAIL_REFUSED, "%s proxy refused CONNECT %s: "
		    "request rejected or failed", v, s->target);
		return fail(s, out);
	case 0x5c:
		failure_set(f, FAIL_REFUSED, "%s proxy refused CONNECT %s: "
		    "request rejected because the proxy cannot reach identd "
		    "on this host", v, s->target);
		return fail(s, out);
	case 0x5d:
		/* An identity check failed: the family of a bad password. */
		failure_set(f, FAIL_AUTH, "%s proxy refused CONNECT %s: "
		    "request rejected because identd did not confirm the user "
		    "id", v, s->target);
		return fail(s, out);
	default:
		failure_set(f, FAIL_REFUSED, "%s proxy refused CONNECT %s: "
		    "unknown reply code %u", v, s->target, in[1]);
		return fail(s, out);
	}
	if (len < 8)
		return STEP_NEED;
	*used = 8;
	s->state = ST_DONE;
	return STEP_DONE;
}

enum step
socks_input(struct socks *s, const unsigned char *in, size_t len, bool eof,
    size_t *used, struct outbuf *out, struct failure *f)
{
	enum step st;
	char what[sizeof(s->target) + 32];
	int before = s->state;

	*used = 0;
	/* At EOF the driver may offer nothing: remember what was seen. */
	if (len > s->seen)
		s->seen = len;
	switch (s->state) {
	case ST_METHOD:
		st = socks5_method(s, in, len, used, out, f);
		(void)snprintf(what, sizeof(what), "its reply to the greeting");
		break;
	case ST_AUTH:
		st = socks5_auth(s, in, len, used, out, f);
		(void)snprintf(what, sizeof(what),
		    "its authentication reply");
		break;
	case ST_REPLY:
		st = s->version == SOCKS_V5 ?
		    socks5_reply(s, in, len, used, out, f) :
		    socks4_reply(s, in, len, used, out, f);
		(void)snprintf(what, sizeof(what), "its reply to CONNECT %s",
		    s->target);
		break;
	case ST_DONE:
		return STEP_DONE;
	default:
		failure_set(f, FAIL_PROTO, "%s handshake used after it ended",
		    socks_version_name(s->version));
		return fail(s, out);
	}
	if (st == STEP_NEED && eof)
		return fail_closed(s, out, f, s->seen, what);
	/* Keep the proxy's refusal code for front ends that pass it on. */
	if (st == STEP_FAIL && before == ST_REPLY && len >= 2 &&
	    (f->kind == FAIL_REFUSED || f->kind == FAIL_AUTH))
		f->socks_reply = in[1];
	if (s->state != before)
		s->seen = len - *used;	/* bytes of the next reply */
	return st;
}

void
socks_finish(struct socks *s)
{
	wipe(s, sizeof(*s));
	s->state = ST_FAILED;
}
