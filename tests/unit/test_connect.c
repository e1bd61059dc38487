/*
 * test_connect.c: the HTTP CONNECT engine through the hs_* API
 * (proto/handshake.h) against scripted proxy answers, table-driven.
 *
 * Every case runs five ways, as a proto.h driver may feed it: the
 * answer all at once, a byte at a time, three bytes at a time, all at
 * once with EOF in the same call, and all at once without an event
 * listener; all five must give the same step, failure, request bytes,
 * consumed count and events.  Each run also checks the contract: *used
 * within the offer, never STEP_NEED after EOF, bytes left unconsumed
 * with STEP_NEED useless on their own, no event showing a secret, and
 * no secret left in the handshake after hs_free().  TAP.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/challenge.h"
#include "auth/creds.h"
#include "proto/handshake.h"
#include "util/version.h"

static int t, failed;

static void
result(bool ok, const char *what, const char *detail)
{
	if (ok)
		printf("ok %d - %s\n", ++t, what);
	else {
		failed = 1;
		printf("not ok %d - %s%s%s\n", ++t, what, detail ? ": " : "",
		    detail ? detail : "");
	}
}

/* s[0..n) for a message, CR and LF shown, other control bytes escaped. */
static const char *
show(const char *s, size_t n, char *buf, size_t len)
{
	size_t i, o = 0;

	for (i = 0; i < n && o + 5 < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\r')
			o += (size_t)snprintf(buf + o, len - o, "\\r");
		else if (c == '\n')
			o += (size_t)snprintf(buf + o, len - o, "\\n");
		else if (c < 0x20 || c >= 0x7f || c == '\\')
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
	return buf;
}

static bool
contains(const void *hay, size_t haylen, const char *needle)
{
	size_t n = strlen(needle), i;
	const unsigned char *h = hay;

	if (n == 0 || n > haylen)
		return false;
	for (i = 0; i + n <= haylen; i++)
		if (memcmp(h + i, needle, n) == 0)
			return true;
	return false;
}

/* A growing string. */
struct str {
	char	*s;
	size_t	 len;
	size_t	 cap;
};

static void
str_add(struct str *b, const char *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t ncap = b->cap == 0 ? 1024 : b->cap;
		char *s;

		while (ncap < b->len + n + 1)
			ncap *= 2;
		if ((s = realloc(b->s, ncap)) == NULL)
			abort();
		b->s = s;
		b->cap = ncap;
	}
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void
str_free(struct str *b)
{
	free(b->s);
	memset(b, 0, sizeof(*b));
}

/* The credentials every setup with a user uses, and what they become. */
#define USER	"alice"
#define PASS	"s3cret-pw"
#define B64	"YWxpY2U6czNjcmV0LXB3"		/* alice:s3cret-pw */
#define U_B64	"dTpw"				/* u:p, the fuzz harness's */
/* Digest MD5 without qop for realm "r", nonce "n", CONNECT example.com:22 */
#define DRESP	"62540391a3b4dee0b5faca9123f3ff9e"

static const char *const secrets[] = { PASS, B64, U_B64, DRESP };

/* How a case sets the handshake up. */
struct setup {
	const char		*host;
	unsigned		 port;
	const char		*user;		/* NULL: no credentials */
	const char		*pass;
	unsigned		 allow;
	const char *const	*headers;
	size_t			 nheaders;
};

static const char *const hdr_extra[] = { "X-A: 1", "X-B: two" };
static const char *const hdr_host[] = { "Host: other.example:22" };
static const char *const hdr_ua[] = { "user-agent: x/1" };
static const char *const hdr_hostname[] = { "Hostname: x" };
static const char *const hdr_authz[] = {
	"proxy-authorization: Bearer tok123" };
static const char *const hdr_authz1[] = {
	"Proxy-Authorization: tok123" };

static const struct setup plain = { "example.com", 22, NULL, NULL,
	AUTH_ALLOW_ANY, NULL, 0 };
static const struct setup plain443 = { "example.com", 443, NULL, NULL,
	AUTH_ALLOW_ANY, NULL, 0 };
static const struct setup v6 = { "2001:db8::1", 443, NULL, NULL,
	AUTH_ALLOW_ANY, NULL, 0 };
static const struct setup extra = { "example.com", 22, NULL, NULL,
	AUTH_ALLOW_ANY, hdr_extra, 2 };
static const struct setup host_h = { "example.com", 22, NULL, NULL,
	AUTH_ALLOW_ANY, hdr_host, 1 };
static const struct setup ua_h = { "example.com", 22, NULL, NULL,
	AUTH_ALLOW_ANY, hdr_ua, 1 };
static const struct setup hostname_h = { "example.com", 22, NULL, NULL,
	AUTH_ALLOW_ANY, hdr_hostname, 1 };
static const struct setup authz_h = { "example.com", 22, NULL, NULL,
	AUTH_ALLOW_ANY, hdr_authz, 1 };
static const struct setup authz1_h = { "example.com", 22, NULL, NULL,
	AUTH_ALLOW_ANY, hdr_authz1, 1 };
static const struct setup basic = { "example.com", 22, USER, PASS,
	AUTH_ALLOW_ANY, NULL, 0 };
static const struct setup basic_extra = { "example.com", 22, USER, PASS,
	AUTH_ALLOW_ANY, hdr_extra, 2 };
static const struct setup basic_only = { "example.com", 22, USER, PASS,
	AUTH_ALLOW_BASIC, NULL, 0 };
static const struct setup digest = { "example.com", 22, USER, PASS,
	AUTH_ALLOW_DIGEST, NULL, 0 };
static const struct setup ntlm = { "example.com", 22, USER, PASS,
	AUTH_ALLOW_NTLM, NULL, 0 };
static const struct setup nouser = { "example.com", 22, "", PASS,
	AUTH_ALLOW_ANY, NULL, 0 };
/* What tests/fuzz/fuzz_handshake.c sets up for its variant 1. */
static const struct setup fz_digest = { "example.com", 443, "u", "p",
	AUTH_ALLOW_DIGEST, NULL, 0 };
static const struct setup fz_any = { "example.com", 443, "u", "p",
	AUTH_ALLOW_ANY, NULL, 0 };
static const struct setup fz_ntlm = { "example.com", 443, "u", "p",
	AUTH_ALLOW_NTLM, NULL, 0 };

/* One connection's answer. */
struct answer {
	const char	*bytes;
	size_t		 len;
};

#define CONNS_MAX	4

struct run {
	enum step	 st;
	struct failure	 f;
	struct str	 sent;		/* requests; "<reconnect>" between */
	struct str	 events;	/* one "kind code text" line each */
	size_t		 consumed;	/* on the last connection */
	unsigned	 connects;
	char		 bad[256];	/* the first contract violation */
};

static void
violation(struct run *r, const char *why)
{
	if (r->bad[0] == '\0')
		(void)snprintf(r->bad, sizeof(r->bad), "%s", why);
}

static void
on_event(void *arg, const struct hs_event *ev)
{
	static const char kinds[] = "STEP\0SENT\0RECV\0STATUS\0OFFERED\0USED";
	static const size_t koff[] = { 0, 5, 10, 15, 22, 30 };
	struct run *r = arg;
	char line[64];
	size_t i;

	if (ev->text == NULL || (size_t)ev->kind >= 6) {
		violation(r, "event without text or of an unknown kind");
		return;
	}
	for (i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		if (contains(ev->text, ev->len, secrets[i]))
			violation(r, "an event shows a secret");
	if (ev->kind == HSE_SENT && ev->len >= 20 &&
	    strncasecmp(ev->text, "Proxy-Authorization:", 20) == 0 &&
	    (ev->len < 11 ||
	    memcmp(ev->text + ev->len - 11, " <redacted>", 11) != 0))
		violation(r, "Proxy-Authorization sent, not redacted");
	if (ev->kind == HSE_STATUS && (ev->len < 12 ||
	    ev->code != (ev->text[9] - '0') * 100 + (ev->text[10] - '0') * 10 +
	    (ev->text[11] - '0')))
		violation(r, "HSE_STATUS code is not the status line's");
	(void)snprintf(line, sizeof(line), "%s %d ", kinds + koff[ev->kind],
	    ev->code);
	str_add(&r->events, line, strlen(line));
	str_add(&r->events, ev->text, ev->len);
	str_add(&r->events, "\n", 1);
}

static void
take_out(struct run *r, struct handshake *h)
{
	if (h->out.len > sizeof(h->out.data))
		violation(r, "out buffer overflowed");
	else
		str_add(&r->sent, (const char *)h->out.data, h->out.len);
	h->out.len = 0;		/* as a driver does once it has written */
}

/*
 * Offer data[0..n) in an exactly sized copy, so that the sanitizer build
 * catches a read past the offer.
 */
static enum step
offer(struct handshake *h, const char *data, size_t n, bool eof,
    size_t *used)
{
	unsigned char *b = malloc(n > 0 ? n : 1);
	enum step s;

	if (b == NULL)
		abort();
	memcpy(b, data, n);
	s = hs_input(h, b, n, eof, used);
	free(b);
	return s;
}

/* Feeding modes. */
enum mode { ALL, BYTE, THREE, ALL_EOF, QUIET, NMODES };
static const char *const mode_names[] = { "all at once", "a byte at a time",
    "3 bytes at a time", "all at once with EOF", "without events" };

/*
 * Drive one handshake: connection i answers a[i]; its bytes arrive as
 * the mode says, then the proxy closes.  On STEP_RECONNECT the rest of
 * that connection is dropped and the next one answers.
 */
static void
drive(const struct setup *su, const struct answer *a, enum mode m,
    struct run *r)
{
	struct proxy proxy;
	struct target target;
	struct creds creds;
	struct hs_params p;
	struct handshake h;
	const struct answer none = { "", 0 };
	const struct answer *cur;
	size_t chunk, avail, used, n, i, calls = 0;
	bool eof;
	enum step s;

	memset(r, 0, sizeof(*r));
	memset(&proxy, 0, sizeof(proxy));
	proxy.scheme = SCHEME_HTTP;
	(void)snprintf(proxy.host, sizeof(proxy.host), "proxy.test");
	proxy.port = 3128;
	memset(&target, 0, sizeof(target));
	(void)snprintf(target.host, sizeof(target.host), "%s", su->host);
	target.port = su->port;
	memset(&creds, 0, sizeof(creds));
	memset(&p, 0, sizeof(p));
	p.proxy = &proxy;
	p.target = &target;
	p.headers = su->headers;
	p.nheaders = su->nheaders;
	p.auth_allow = su->allow;
	if (su->user != NULL) {
		(void)snprintf(creds.user, sizeof(creds.user), "%s", su->user);
		(void)snprintf(creds.pass, sizeof(creds.pass), "%s", su->pass);
		creds.have_user = su->user[0] != '\0';
		creds.have_pass = true;
		creds.source = "test";
		p.creds = &creds;
	}
	chunk = m == BYTE ? 1 : m == THREE ? 3 : 0;

	r->connects = 1;
	s = hs_start(&h, &p, m == QUIET ? NULL : on_event, r);
	cur = &a[0];
	avail = 0;
	eof = false;
	while (s == STEP_SEND || s == STEP_NEED || s == STEP_RECONNECT) {
		if (++calls > 5000000) {
			violation(r, "no end");
			break;
		}
		if (s == STEP_SEND)
			take_out(r, &h);
		if (s == STEP_RECONNECT) {
			if (r->connects == CONNS_MAX) {
				violation(r, "too many connections");
				break;
			}
			cur = a[r->connects].bytes != NULL ?
			    &a[r->connects] : &none;
			r->connects++;
			str_add(&r->sent, "<reconnect>", 11);
			r->consumed = 0;
			avail = 0;
			eof = false;
			if ((s = hs_restart(&h)) == STEP_SEND)
				take_out(r, &h);
			else if (s != STEP_FAIL)
				violation(r, "hs_restart did not send");
			if (s == STEP_FAIL)
				break;
			s = STEP_NEED;
		}
		if (s == STEP_NEED) {
			/* More bytes arrive, or the proxy closes. */
			if (avail == cur->len) {
				if (eof) {
					violation(r, "STEP_NEED after EOF");
					break;
				}
				eof = true;
			} else {
				n = cur->len - avail;
				avail += chunk == 0 || chunk > n ? n : chunk;
				if (m == ALL_EOF && avail == cur->len)
					eof = true;
			}
		}
		/* Offer everything not consumed yet (after SEND: the rest). */
		n = avail - r->consumed;
		s = offer(&h, cur->bytes + r->consumed, n, eof, &used);
		if (used > n) {
			violation(r, "used more than offered");
			break;
		}
		r->consumed += used;
		if (s == STEP_NEED && used < n && !eof) {
			/* Left over: alone, they must not be enough. */
			size_t u2;
			enum step s2 = offer(&h, cur->bytes + r->consumed,
			    n - used, false, &u2);

			if (s2 != STEP_NEED || u2 != 0)
				violation(r, "progress on bytes left over");
		}
	}
	r->st = s;
	r->f = h.fail;
	if (s == STEP_FAIL && (h.fail.kind == FAIL_NONE ||
	    h.fail.msg[0] == '\0'))
		violation(r, "STEP_FAIL without a failure");
	hs_free(&h);
	for (i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		if (contains(&h, sizeof(h), secrets[i]))
			violation(r, "a secret is left after hs_free");
	creds_wipe(&creds);
}

/*
 * For comparing requests that carry random values (Digest cnonce, NTLM
 * client challenge): the credentials of Digest and NTLM fields masked.
 */
static void
mask(struct str *b)
{
	static const char *const pfx[] = {
		"Proxy-Authorization: Digest ", "Proxy-Authorization: NTLM " };
	struct str o = { NULL, 0, 0 };
	size_t i = 0, k, n;
	char *e;

	str_add(&o, "", 0);
	while (i < b->len) {
		for (k = 0; k < 2; k++) {
			n = strlen(pfx[k]);
			if (b->len - i >= n && memcmp(b->s + i, pfx[k], n) == 0)
				break;
		}
		if (k == 2) {
			str_add(&o, b->s + i, 1);
			i++;
			continue;
		}
		str_add(&o, b->s + i, n);
		str_add(&o, "<masked>", 8);
		e = strstr(b->s + i, "\r\n");
		i = e != NULL ? (size_t)(e - b->s) : b->len;
	}
	str_free(b);
	*b = o;
}

#define ALL_OF_IT	((size_t)-1)	/* consumed: the last answer whole */

struct ccase {
	const char		*what;
	const struct setup	*su;
	struct answer		 a[CONNS_MAX];	/* { NULL } ends */
	enum step		 st;
	enum fail_kind		 kind;		/* when STEP_FAIL */
	int			 status;	/* f.http_status, on FAIL */
	const char		*msg;		/* substring; '=': exactly */
	const char		*sent;		/* NULL: not checked */
	size_t			 consumed;	/* when STEP_DONE */
	unsigned		 connects;	/* and the last one answered */
	bool			 masked;	/* compare masked requests */
};

/* f.msg must be exactly this when msg starts with '='. */
static bool
msg_ok(const char *got, const char *want)
{
	if (want == NULL)
		return true;
	if (want[0] == '=')
		return strcmp(got, want + 1) == 0;
	return strstr(got, want) != NULL;
}

/*
 * Run c every way; true when every run gave what c wants.  detail says
 * what went wrong first.
 */
static bool
check_case(const struct ccase *c, char *detail, size_t len)
{
	struct run r[NMODES];
	char sh[2048], sh2[1200];
	size_t consumed;
	unsigned m;
	bool ok = true;

	detail[0] = '\0';
	for (m = 0; m < NMODES; m++) {
		drive(c->su, c->a, (enum mode)m, &r[m]);
		if (c->masked)
			mask(&r[m].sent);
	}
	for (m = 0; m < NMODES && ok; m++) {
		const struct run *x = &r[m];
		const char *why = NULL;

		consumed = c->consumed == ALL_OF_IT ?
		    c->a[c->connects - 1].len : c->consumed;
		if (x->bad[0] != '\0')
			why = x->bad;
		else if (x->st != c->st)
			why = "step";
		else if (c->st == STEP_FAIL && (x->f.kind != c->kind ||
		    x->f.http_status != c->status || !msg_ok(x->f.msg, c->msg)))
			why = "failure";
		else if (c->sent != NULL && strcmp(x->sent.s, c->sent) != 0)
			why = "request bytes";
		else if (c->st == STEP_DONE && x->consumed != consumed)
			why = "consumed";
		else if (x->connects != c->connects)
			why = "connections";
		else if (m > 0 && (x->st != r[0].st ||
		    x->f.kind != r[0].f.kind ||
		    x->f.http_status != r[0].f.http_status ||
		    strcmp(x->f.msg, r[0].f.msg) != 0 ||
		    strcmp(x->sent.s, r[0].sent.s) != 0 ||
		    x->consumed != r[0].consumed ||
		    (m != QUIET && strcmp(x->events.s, r[0].events.s) != 0)))
			why = "differs from all at once";
		if (why != NULL) {
			ok = false;
			(void)snprintf(detail, len, "%s: %s; step %d kind %d "
			    "status %d consumed %zu connects %u msg \"%s\" "
			    "sent \"%s\"", mode_names[m], why, x->st,
			    x->f.kind, x->f.http_status, x->consumed,
			    x->connects, x->f.msg, show(x->sent.s, x->sent.len,
			    sh, sizeof(sh)));
			if (strcmp(why, "differs from all at once") == 0 &&
			    x->events.s != NULL)
				(void)snprintf(detail + strlen(detail),
				    len - strlen(detail), " events \"%s\"",
				    show(x->events.s, x->events.len, sh2,
				    sizeof(sh2)));
		}
	}
	for (m = 0; m < NMODES; m++) {
		str_free(&r[m].sent);
		str_free(&r[m].events);
	}
	return ok;
}

/* One TAP line for c. */
static void
expect(const struct ccase *c)
{
	char detail[4096];

	result(check_case(c, detail, sizeof(detail)), c->what, detail);
}

#define S(s)		{ s, sizeof(s) - 1 }
#define UA		"User-Agent: culvert/" CULVERT_VERSION "\r\n"
#define REQ(auth)	"CONNECT example.com:22 HTTP/1.1\r\n" \
			"Host: example.com:22\r\n" UA auth "\r\n"
#define REQ443(auth)	"CONNECT example.com:443 HTTP/1.1\r\n" \
			"Host: example.com:443\r\n" UA auth "\r\n"
#define BASIC		"Proxy-Authorization: Basic " B64 "\r\n"
#define DIGEST		"Proxy-Authorization: Digest username=\"alice\", " \
			"realm=\"r\", nonce=\"n\", uri=\"example.com:22\", " \
			"algorithm=MD5, response=\"" DRESP "\"\r\n"
#define MASKED(s)	"Proxy-Authorization: " s " <masked>\r\n"
#define R200		"HTTP/1.1 200 Connection established\r\n\r\n"
#define P407		"HTTP/1.1 407 Proxy Authentication Required\r\n"
#define CH_BASIC	"Proxy-Authenticate: Basic realm=\"r\"\r\n"
#define CH_DIGEST	"Proxy-Authenticate: Digest realm=\"r\", " \
			"nonce=\"n\"\r\n"
#define RC		"<reconnect>"
/* tests/fuzz/seeds/fuzz_handshake/http-407-ntlm, its NTLM challenge */
#define NTLM_CH		"TlRMTVNTUAACAAAABgAGADAAAAAFgomgAQIDBAUGBwgAAAAA" \
			"AAAAACQAJAA2AAAARABPAE0AAgAGAEQATwBNAAEABgBzAHIAdgAH" \
			"AAgAAAAAAAAA1QEAAAAA"
#define N(s)		(sizeof(s) - 1)

#define DONE(what, su, ans, sent, consumed) \
	{ what, su, ans, STEP_DONE, FAIL_NONE, 0, NULL, sent, consumed, 1, \
	    false }
#define FAIL(what, su, ans, kind, status, msg) \
	{ what, su, ans, STEP_FAIL, kind, status, msg, NULL, 0, 1, false }

static const struct ccase cases[] = {
	/* The request. */
	DONE("request: CONNECT, Host, User-Agent", &plain, { S(R200) },
	    REQ(""), N(R200)),
	DONE("request: extra headers after culvert's own", &extra,
	    { S(R200) }, REQ("X-A: 1\r\nX-B: two\r\n"), N(R200)),
	DONE("request: -H Host replaces culvert's Host", &host_h,
	    { S(R200) }, "CONNECT example.com:22 HTTP/1.1\r\n" UA
	    "Host: other.example:22\r\n\r\n", N(R200)),
	DONE("request: -H user-agent replaces culvert's, any case", &ua_h,
	    { S(R200) }, "CONNECT example.com:22 HTTP/1.1\r\n"
	    "Host: example.com:22\r\nuser-agent: x/1\r\n\r\n", N(R200)),
	DONE("request: -H Hostname is not Host", &hostname_h, { S(R200) },
	    REQ("Hostname: x\r\n"), N(R200)),
	DONE("request: IPv6 target in brackets", &v6, { S(R200) },
	    "CONNECT [2001:db8::1]:443 HTTP/1.1\r\n"
	    "Host: [2001:db8::1]:443\r\n" UA "\r\n", N(R200)),
	DONE("request: Basic credentials go out at once", &basic,
	    { S(R200) }, REQ(BASIC), N(R200)),
	DONE("request: Basic only, at once", &basic_only, { S(R200) },
	    REQ(BASIC), N(R200)),
	DONE("request: Proxy-Authorization before the extra headers",
	    &basic_extra, { S(R200) }, REQ(BASIC "X-A: 1\r\nX-B: two\r\n"),
	    N(R200)),
	DONE("request: Digest only sends no credentials at first", &digest,
	    { S(R200) }, REQ(""), N(R200)),
	DONE("request: an empty user name sends no credentials", &nouser,
	    { S(R200) }, REQ(""), N(R200)),
	DONE("request: -H Proxy-Authorization is sent as given", &authz_h,
	    { S(R200) }, REQ("proxy-authorization: Bearer tok123\r\n"),
	    N(R200)),

	/* Success. */
	DONE("200 with bare LF", &plain, { S("HTTP/1.1 200 OK\n\n") },
	    REQ(""), 17),
	DONE("HTTP/1.0 200", &plain, { S("HTTP/1.0 200 OK\r\n\r\n") },
	    REQ(""), 19),
	DONE("201 is success", &plain, { S("HTTP/1.1 201 Created\r\n\r\n") },
	    REQ(""), 24),
	DONE("204 is success", &plain, { S("HTTP/1.1 204 x\r\n\r\n") },
	    REQ(""), 18),
	DONE("299 is success", &plain, { S("HTTP/1.1 299 x\r\n\r\n") },
	    REQ(""), 18),
	DONE("200 with fields", &plain,
	    { S("HTTP/1.1 200 OK\r\nProxy-Agent: squid\r\n"
	    "Via: 1.1 p\r\n\r\n") },
	    REQ(""), 51),
	DONE("tunnel bytes after the head are not consumed", &plain,
	    { S(R200 "SSH-2.0-OpenSSH_9.6\r\n") }, REQ(""), N(R200)),
	DONE("a body after 200 is tunnel data", &plain,
	    { S("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello") },
	    REQ(""), 38),
	DONE("a second answer after 200 is tunnel data", &plain,
	    { S(R200 P407 CH_BASIC "\r\n") }, REQ(""), N(R200)),
	DONE("100 then 200", &plain,
	    { S("HTTP/1.1 100 Continue\r\n\r\n" R200 "SSH") }, REQ(""),
	    25 + N(R200)),
	DONE("100, 102, 103 then 200", &plain,
	    { S("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\n\n"
	    "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" R200 "x") },
	    REQ(""), 25 + 25 + 40 + N(R200)),
	/* tests/fuzz/seeds/fuzz_handshake/http-200 */
	DONE("seed http-200", &plain443,
	    { S("HTTP/1.1 200 Connection established\r\n"
	    "Proxy-Agent: squid\r\n\r\n") }, REQ443(""), 59),

	/* Refusals: the status line and a hint in the message. */
	FAIL("403 for port 22 hints at port 443", &plain,
	    { S("HTTP/1.1 403 Forbidden\r\n\r\n") }, FAIL_REFUSED, 403,
	    "=proxy refused CONNECT example.com:22: HTTP/1.1 403 Forbidden "
	    "(many proxies allow only port 443; GitHub answers ssh on "
	    "ssh.github.com:443, GitLab on altssh.gitlab.com:443)"),
	/* tests/fuzz/seeds/fuzz_handshake/http-403 */
	FAIL("seed http-403: 403 for port 443 names the policy", &plain443,
	    { S("HTTP/1.1 403 Forbidden\r\n\r\n") }, FAIL_REFUSED, 403,
	    "=proxy refused CONNECT example.com:443: HTTP/1.1 403 Forbidden "
	    "(the proxy's policy forbids this target)"),
	FAIL("405: this proxy may not support CONNECT", &plain,
	    { S("HTTP/1.1 405 Method Not Allowed\r\n\r\n") }, FAIL_REFUSED,
	    405, "=proxy refused CONNECT example.com:22: HTTP/1.1 405 Method "
	    "Not Allowed (this proxy may not support CONNECT; check the "
	    "proxy address)"),
	FAIL("502: the proxy could not reach the target", &plain,
	    { S("HTTP/1.0 502 Bad Gateway\r\n\r\n") }, FAIL_REFUSED, 502,
	    "=proxy refused CONNECT example.com:22: HTTP/1.0 502 Bad Gateway "
	    "(the proxy could not reach the target; check the host name and "
	    "port)"),
	FAIL("503: unavailable", &plain,
	    { S("HTTP/1.1 503 Service Unavailable\r\n\r\n") }, FAIL_REFUSED,
	    503, "=proxy refused CONNECT example.com:22: HTTP/1.1 503 "
	    "Service Unavailable (the proxy or the target is unavailable; "
	    "check the host name and port, or try later)"),
	FAIL("500: the default hint", &plain,
	    { S("HTTP/1.1 500 Oops\r\n\r\n") }, FAIL_REFUSED, 500,
	    "=proxy refused CONNECT example.com:22: HTTP/1.1 500 Oops "
	    "(check the target and the proxy's policy)"),
	FAIL("101 is a refusal, not an interim answer", &plain,
	    { S("HTTP/1.1 101 Switching Protocols\r\n\r\n" R200) },
	    FAIL_REFUSED, 101, "HTTP/1.1 101 Switching Protocols"),
	FAIL("control bytes in the status line are not shown", &plain,
	    { S("HTTP/1.1 403 \x1b[2J\r\n\r\n") }, FAIL_REFUSED, 403,
	    "example.com:22: HTTP/1.1 403 ?[2J (many"),
	FAIL("a refusal after 100", &plain,
	    { S("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 403 No\r\n\r\n") },
	    FAIL_REFUSED, 403, "HTTP/1.1 403 No"),

	/* Not HTTP, or cut short. */
	FAIL("HTTP/2 is not HTTP/1.x", &plain, { S("HTTP/2 200\r\n\r\n") },
	    FAIL_PROTO, 0, "=proxy answered CONNECT example.com:22 with "
	    "something that is not HTTP: \"HTTP/2 200\" (is this an HTTP "
	    "proxy? for SOCKS use socks5h://)"),
	FAIL("HTTP/1.1 2000 is not a status", &plain,
	    { S("HTTP/1.1 2000 OK\r\n\r\n") }, FAIL_PROTO, 0,
	    "not HTTP: \"HTTP/1.1 2000 OK\""),
	FAIL("HTTP/1.1 20 is not a status", &plain,
	    { S("HTTP/1.1 20 OK\r\n\r\n") }, FAIL_PROTO, 0,
	    "not HTTP: \"HTTP/1.1 20 OK\""),
	FAIL("an SSH server is not HTTP", &plain,
	    { S("SSH-2.0-OpenSSH_9.6\r\n\r\n") }, FAIL_PROTO, 0,
	    "not HTTP: \"SSH-2.0-OpenSSH_9.6\""),
	FAIL("an empty head is not HTTP", &plain, { S("\r\n") }, FAIL_PROTO,
	    0, "not HTTP: \"\""),
	FAIL("a SOCKS5 reply is a truncated head", &plain,
	    { S("\x05\x00") }, FAIL_PROTO, 0, "=proxy closed the connection "
	    "in the middle of its answer to CONNECT example.com:22"),
	FAIL("no answer at all", &plain, { S("") }, FAIL_PROTO, 0,
	    "=proxy closed the connection without answering CONNECT "
	    "example.com:22 (is this an HTTP proxy?)"),
	FAIL("100 then close", &plain,
	    { S("HTTP/1.1 100 Continue\r\n\r\n") }, FAIL_PROTO, 0,
	    "proxy closed the connection"),
	FAIL("status line then close", &plain,
	    { S("HTTP/1.1 200 OK\r\n") }, FAIL_PROTO, 0,
	    "in the middle of its answer to CONNECT example.com:22"),

	/* 407. */
	FAIL("407 without credentials names the offer", &plain,
	    { S(P407 CH_BASIC "\r\n") }, FAIL_AUTH, 407,
	    "=proxy requires authentication for CONNECT example.com:22: "
	    "HTTP/1.1 407 Proxy Authentication Required; offers Basic "
	    "realm=\"r\" (give a user with -U or CULVERT_PROXY_USER and a "
	    "password with --auth-file or CULVERT_PROXY_PASSWORD)"),
	FAIL("407 without credentials or offer", &plain,
	    { S("HTTP/1.1 407 x\r\n\r\n") }, FAIL_AUTH, 407,
	    "=proxy requires authentication for CONNECT example.com:22: "
	    "HTTP/1.1 407 x (give a user with -U or CULVERT_PROXY_USER and "
	    "a password with --auth-file or CULVERT_PROXY_PASSWORD)"),
	{ "407 Basic after Basic: the credentials were refused", &basic,
	    { S(P407 CH_BASIC "Content-Length: 0\r\n\r\n") }, STEP_FAIL,
	    FAIL_AUTH, 407, "=proxy refused the credentials of user alice for "
	    "CONNECT example.com:22: HTTP/1.1 407 Proxy Authentication "
	    "Required (Basic, realm r; check the user name and password)",
	    REQ(BASIC), 0, 1, false },
	{ "407 Basic with Basic not allowed", &digest,
	    { S(P407 CH_BASIC "\r\n") }, STEP_FAIL, FAIL_AUTH, 407,
	    "=proxy offers Basic realm=\"r\" for CONNECT example.com:22, "
	    "which --proxy-auth does not allow (try --proxy-auth any)",
	    REQ(""), 0, 1, false },
	{ "407 offering only Negotiate", &basic,
	    { S(P407 "Proxy-Authenticate: Negotiate\r\n\r\n") }, STEP_FAIL,
	    FAIL_AUTH, 407, "offers only Negotiate (Kerberos)", REQ(BASIC), 0,
	    1, false },
	{ "keep-alive 407: body drained, Digest on the same connection",
	    &digest, { S(P407 CH_DIGEST "Content-Length: 5\r\n\r\nerror"
	    R200 "SSH") }, STEP_DONE, FAIL_NONE, 0, NULL,
	    REQ("") REQ(DIGEST), N(P407 CH_DIGEST "Content-Length: 5\r\n\r\n"
	    "error" R200), 1, false },
	{ "keep-alive 407 after Basic: Digest on the same connection",
	    &basic, { S(P407 CH_DIGEST "Content-Length: 0\r\n\r\n" R200) },
	    STEP_DONE, FAIL_NONE, 0, NULL, REQ(BASIC) REQ(DIGEST),
	    N(P407 CH_DIGEST "Content-Length: 0\r\n\r\n" R200), 1, false },
	{ "keep-alive 407: Content-Length twice with one value", &digest,
	    { S(P407 CH_DIGEST "Content-Length: 3\r\ncontent-length: 3\r\n"
	    "\r\nabc" R200) }, STEP_DONE, FAIL_NONE, 0, NULL,
	    REQ("") REQ(DIGEST), N(P407 CH_DIGEST "Content-Length: 3\r\n"
	    "content-length: 3\r\n\r\nabc" R200), 1, false },
	{ "HTTP/1.0 407 with keep-alive stays on the connection", &digest,
	    { S("HTTP/1.0 407 x\r\n" CH_DIGEST "Proxy-Connection: "
	    "Keep-Alive\r\nContent-Length: 2\r\n\r\nab" R200) }, STEP_DONE,
	    FAIL_NONE, 0, NULL, REQ("") REQ(DIGEST), N("HTTP/1.0 407 x\r\n"
	    CH_DIGEST "Proxy-Connection: Keep-Alive\r\nContent-Length: 2\r\n"
	    "\r\nab" R200), 1, false },
	{ "407 with Connection: close: reconnect, then credentials",
	    &digest, { S(P407 CH_DIGEST "Connection: close\r\n"
	    "Content-Length: 5\r\n\r\nerror"), S(R200 "SSH") }, STEP_DONE,
	    FAIL_NONE, 0, NULL, REQ("") RC REQ(DIGEST), N(R200), 2, false },
	{ "407 Connection: keep-alive, close means close", &digest,
	    { S(P407 CH_DIGEST "Connection: keep-alive, close\r\n"
	    "Content-Length: 0\r\n\r\n"), S(R200) }, STEP_DONE, FAIL_NONE, 0,
	    NULL, REQ("") RC REQ(DIGEST), N(R200), 2, false },
	{ "HTTP/1.0 407 without keep-alive: reconnect", &digest,
	    { S("HTTP/1.0 407 x\r\n" CH_DIGEST "Content-Length: 0\r\n\r\n"),
	    S(R200) }, STEP_DONE, FAIL_NONE, 0, NULL,
	    REQ("") RC REQ(DIGEST), N(R200), 2, false },
	{ "407 without Content-Length: reconnect", &digest,
	    { S(P407 CH_DIGEST "\r\nbody of unknown length"), S(R200) },
	    STEP_DONE, FAIL_NONE, 0, NULL, REQ("") RC REQ(DIGEST), N(R200), 2,
	    false },
	{ "407 chunked: reconnect", &digest,
	    { S(P407 CH_DIGEST "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
	    S(R200) }, STEP_DONE, FAIL_NONE, 0, NULL,
	    REQ("") RC REQ(DIGEST), N(R200), 2, false },
	{ "407 with Content-Lengths that differ: reconnect", &digest,
	    { S(P407 CH_DIGEST "Content-Length: 5\r\nContent-Length: 6\r\n"
	    "\r\nerror!"), S(R200) }, STEP_DONE, FAIL_NONE, 0, NULL,
	    REQ("") RC REQ(DIGEST), N(R200), 2, false },
	{ "407 with Content-Length +5: reconnect", &digest,
	    { S(P407 CH_DIGEST "Content-Length: +5\r\n\r\nerror"), S(R200) },
	    STEP_DONE, FAIL_NONE, 0, NULL, REQ("") RC REQ(DIGEST), N(R200), 2,
	    false },
	{ "407 with Content-Length 5, 5: reconnect", &digest,
	    { S(P407 CH_DIGEST "Content-Length: 5, 5\r\n\r\nerror"),
	    S(R200) }, STEP_DONE, FAIL_NONE, 0, NULL,
	    REQ("") RC REQ(DIGEST), N(R200), 2, false },
	{ "407 with Content-Length over 1 MiB: reconnect", &digest,
	    { S(P407 CH_DIGEST "Content-Length: 1048577\r\n\r\n"), S(R200) },
	    STEP_DONE, FAIL_NONE, 0, NULL, REQ("") RC REQ(DIGEST), N(R200), 2,
	    false },
	FAIL("407 whose body is cut short", &digest,
	    { S(P407 CH_DIGEST "Content-Length: 10\r\n\r\nabc") }, FAIL_PROTO,
	    0, "=proxy closed the connection in the middle of its 407 answer"),
	{ "Digest refused: the same challenge again", &digest,
	    { S(P407 CH_DIGEST "Content-Length: 0\r\n\r\n"
	    P407 CH_DIGEST "Content-Length: 0\r\n\r\n") }, STEP_FAIL, FAIL_AUTH,
	    407, "=proxy refused the credentials of user alice for CONNECT "
	    "example.com:22: HTTP/1.1 407 Proxy Authentication Required "
	    "(Digest, realm r; check the user name and password)",
	    REQ("") REQ(DIGEST), 0, 1, false },
	{ "Digest stale=true answered until HS_MAX_REQUESTS", &digest,
	    { S(P407 CH_DIGEST "Content-Length: 0\r\n\r\n"
	    P407 "Proxy-Authenticate: Digest realm=\"r\", nonce=\"n\", "
	    "stale=true\r\nContent-Length: 0\r\n\r\n"
	    P407 "Proxy-Authenticate: Digest realm=\"r\", nonce=\"n\", "
	    "stale=true\r\nContent-Length: 0\r\n\r\n" R200) }, STEP_FAIL,
	    FAIL_AUTH, 407, "proxy refused the credentials of user alice",
	    REQ("") REQ(DIGEST) REQ(DIGEST), 0, 1, false },
	{ "NTLM: the proxy closes in the middle", &ntlm,
	    { S(P407 "Proxy-Authenticate: NTLM " NTLM_CH "\r\n"
	    "Connection: close\r\n\r\n"), S(R200) }, STEP_FAIL, FAIL_AUTH, 407,
	    "=proxy closed the connection in the middle of NTLM "
	    "authentication, which needs one connection throughout: HTTP/1.1 "
	    "407 Proxy Authentication Required", REQ(MASKED("NTLM")), 0, 1,
	    true },
	{ "NTLM: challenge answered on the same connection", &ntlm,
	    { S(P407 "Proxy-Authenticate: NTLM " NTLM_CH "\r\n"
	    "Content-Length: 0\r\n\r\n" R200) }, STEP_DONE, FAIL_NONE, 0, NULL,
	    REQ(MASKED("NTLM")) REQ(MASKED("NTLM")), N(P407
	    "Proxy-Authenticate: NTLM " NTLM_CH "\r\nContent-Length: 0\r\n\r\n"
	    R200), 1, true },

	/* tests/fuzz/seeds/fuzz_handshake/http-407-digest-200 */
	{ "seed http-407-digest-200", &fz_digest,
	    { S(P407 "Proxy-Authenticate: NTLM\r\n"
	    "Proxy-Authenticate: Digest realm=\"proxy\", "
	    "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
	    "qop=\"auth,auth-int\", algorithm=SHA-256, "
	    "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"\r\n"
	    "Proxy-Authenticate: Basic realm=\"proxy\"\r\n"
	    "Content-Length: 5\r\n\r\nerror"
	    "HTTP/1.1 200 Connection established\r\n"
	    "Proxy-Agent: squid\r\n\r\n") }, STEP_DONE, FAIL_NONE, 0, NULL,
	    REQ443("") REQ443(MASKED("Digest")), ALL_OF_IT, 1, true },
	/* tests/fuzz/seeds/fuzz_handshake/http-407-reconnect */
	{ "seed http-407-reconnect", &fz_any,
	    { S("HTTP/1.0 407 Proxy Authentication Required\r\n"
	    "Proxy-Authenticate: Digest realm=\"proxy\", nonce=\"abc\", "
	    "qop=\"auth\"\r\nConnection: close\r\n\r\n"),
	    S("HTTP/1.1 200 Connection established\r\n"
	    "Proxy-Agent: squid\r\n\r\n") }, STEP_DONE, FAIL_NONE, 0, NULL,
	    REQ443("Proxy-Authorization: Basic " U_B64 "\r\n") RC
	    REQ443(MASKED("Digest")), 59, 2, true },
	/* tests/fuzz/seeds/fuzz_handshake/http-407-ntlm */
	{ "seed http-407-ntlm", &fz_ntlm,
	    { S("HTTP/1.1 407 x\r\nProxy-Authenticate: NTLM\r\n"
	    "Content-Length: 0\r\n\r\n"
	    P407 "Proxy-Authenticate: NTLM " NTLM_CH "\r\n"
	    "Content-Length: 0\r\n\r\n"
	    "HTTP/1.1 200 Connection established\r\n"
	    "Proxy-Agent: squid\r\n\r\n") }, STEP_DONE, FAIL_NONE, 0, NULL,
	    REQ443(MASKED("NTLM")) REQ443(MASKED("NTLM"))
	    REQ443(MASKED("NTLM")), ALL_OF_IT, 1, true },
	/* tests/fuzz/crashes/fuzz_handshake-407-body-stall */
	{ "crash 407-body-stall: body drained, then a cut answer", &fz_ntlm,
	    { S("HTTP/1.1 407\nProxy-Authenticate: NTLM\r\n"
	    "Content-Length: 1\r\n\nud\r\n") }, STEP_FAIL, FAIL_PROTO, 0,
	    "=proxy closed the connection in the middle of its answer to "
	    "CONNECT example.com:443", REQ443(MASKED("NTLM"))
	    REQ443(MASKED("NTLM")), 0, 1, true },
};

/* Every status from 300 to 999 but 407 is refused; a line per hundred. */
static void
test_refusals(void)
{
	char what[64], line[64], want[128], detail[4096], first[4200];
	struct ccase c;
	int code;

	first[0] = '\0';
	for (code = 300; code <= 999; code++) {
		if (code == 407)
			continue;
		(void)snprintf(line, sizeof(line), "HTTP/1.1 %d Nope\r\n\r\n",
		    code);
		(void)snprintf(want, sizeof(want), "proxy refused CONNECT "
		    "example.com:22: HTTP/1.1 %d Nope (", code);
		memset(&c, 0, sizeof(c));
		c.su = &plain;
		c.a[0].bytes = line;
		c.a[0].len = strlen(line);
		c.st = STEP_FAIL;
		c.kind = FAIL_REFUSED;
		c.status = code;
		c.msg = want;
		c.sent = REQ("");
		c.connects = 1;
		if (!check_case(&c, detail, sizeof(detail)) &&
		    first[0] == '\0')
			(void)snprintf(first, sizeof(first), "%d: %s", code,
			    detail);
		if (code % 100 == 99) {
			(void)snprintf(what, sizeof(what), "every status from "
			    "%d to %d%s is a refusal", code - 99, code,
			    code == 499 ? " but 407" : "");
			result(first[0] == '\0', what, first);
			first[0] = '\0';
		}
	}
}

/* Cut R200 after every byte: a protocol error, never success. */
static void
test_truncated(void)
{
	static const char full[] = "HTTP/1.1 200 Connection established\r\n"
	    "Proxy-Agent: squid\r\n\r\n";
	char what[80];
	struct ccase c;
	size_t n;

	for (n = 0; n < sizeof(full) - 1; n++) {
		memset(&c, 0, sizeof(c));
		(void)snprintf(what, sizeof(what), "200 cut after %zu of %zu "
		    "bytes", n, sizeof(full) - 1);
		c.what = what;
		c.su = &plain;
		c.a[0].bytes = full;
		c.a[0].len = n;
		c.st = STEP_FAIL;
		c.kind = FAIL_PROTO;
		c.msg = n == 0 ? "without answering CONNECT example.com:22" :
		    "in the middle of its answer to CONNECT example.com:22";
		c.sent = REQ("");
		c.connects = 1;
		expect(&c);
	}
}

/* Heads over HEAD_MAX bytes or HEAD_LINES_MAX lines: too large. */
static void
test_too_big(void)
{
	static const char msg[] = "=proxy's answer to CONNECT example.com:22 "
	    "is too large (over 65536 bytes or 1000 lines in its head); is "
	    "this an HTTP proxy?";
	struct ccase c;
	char *b;
	size_t n, o;

	memset(&c, 0, sizeof(c));
	c.su = &plain;
	c.st = STEP_FAIL;
	c.kind = FAIL_PROTO;
	c.msg = msg;
	c.sent = REQ("");
	c.connects = 1;

	n = HEAD_MAX + 100;
	if ((b = malloc(n)) == NULL)
		abort();
	memcpy(b, "HTTP/1.1 200 OK\r\n", 17);
	for (o = 17; o + 102 <= n; o += 102) {
		memcpy(b + o, "X: ", 3);
		memset(b + o + 3, 'a', 97);
		memcpy(b + o + 100, "\r\n", 2);
	}
	memset(b + o, 'b', n - o);
	c.what = "a head over HEAD_MAX bytes";
	c.a[0].bytes = b;
	c.a[0].len = n;
	expect(&c);
	free(b);

	n = 17 + (HEAD_LINES_MAX + 10) * 5 + 2;
	if ((b = malloc(n)) == NULL)
		abort();
	memcpy(b, "HTTP/1.1 200 OK\r\n", 17);
	for (o = 17; o + 5 <= n - 2; o += 5)
		memcpy(b + o, "X: y\n", 5);
	memcpy(b + o, "\r\n", 2);
	c.what = "a head over HEAD_LINES_MAX lines";
	c.a[0].bytes = b;
	c.a[0].len = n;
	expect(&c);
	free(b);

	/* Limits of the 407 body drained on the connection: 1 MiB. */
	n = 1024 * 1024;
	o = strlen(P407 CH_DIGEST "Content-Length: 1048576\r\n\r\n");
	if ((b = malloc(o + n + N(R200))) == NULL)
		abort();
	memcpy(b, P407 CH_DIGEST "Content-Length: 1048576\r\n\r\n", o);
	memset(b + o, 'z', n);
	memcpy(b + o + n, R200, N(R200));
	memset(&c, 0, sizeof(c));
	c.what = "407 with a body of 1 MiB is drained";
	c.su = &digest;
	c.a[0].bytes = b;
	c.a[0].len = o + n + N(R200);
	c.st = STEP_DONE;
	c.sent = REQ("") REQ(DIGEST);
	c.consumed = o + n + N(R200);
	c.connects = 1;
	expect(&c);
	free(b);
}

/* The exact events of a 407 answered on the same connection. */
static void
test_events(void)
{
	static const char want[] =
	    "USED 0 Basic\n"
	    "SENT 0 CONNECT example.com:22 HTTP/1.1\n"
	    "SENT 0 Host: example.com:22\n"
	    "SENT 0 User-Agent: culvert/" CULVERT_VERSION "\n"
	    "SENT 0 Proxy-Authorization: Basic <redacted>\n"
	    "RECV 0 HTTP/1.1 407 Proxy Authentication Required\n"
	    "RECV 0 Proxy-Authenticate: Digest realm=\"r\", nonce=\"n\"\n"
	    "RECV 0 Content-Length: 2\n"
	    "STATUS 407 HTTP/1.1 407 Proxy Authentication Required\n"
	    "OFFERED 407 Digest realm=\"r\"\n"
	    "STEP 0 proxy wants authentication; answering on the same "
	    "connection\n"
	    "USED 0 Digest\n"
	    "SENT 0 CONNECT example.com:22 HTTP/1.1\n"
	    "SENT 0 Host: example.com:22\n"
	    "SENT 0 User-Agent: culvert/" CULVERT_VERSION "\n"
	    "SENT 0 Proxy-Authorization: Digest <redacted>\n"
	    "RECV 0 HTTP/1.1 200 Connection established\n"
	    "STATUS 200 HTTP/1.1 200 Connection established\n";
	static const char want_rc[] =
	    "USED 0 Basic\n"
	    "SENT 0 CONNECT example.com:22 HTTP/1.1\n"
	    "SENT 0 Host: example.com:22\n"
	    "SENT 0 User-Agent: culvert/" CULVERT_VERSION "\n"
	    "SENT 0 Proxy-Authorization: Basic <redacted>\n"
	    "RECV 0 HTTP/1.0 407 x\n"
	    "RECV 0 Proxy-Authenticate: Digest realm=\"r\", nonce=\"n\"\n"
	    "STATUS 407 HTTP/1.0 407 x\n"
	    "OFFERED 407 Digest realm=\"r\"\n"
	    "STEP 0 proxy wants authentication; reconnecting\n"
	    "USED 0 Digest\n"
	    "SENT 0 CONNECT example.com:22 HTTP/1.1\n"
	    "SENT 0 Host: example.com:22\n"
	    "SENT 0 User-Agent: culvert/" CULVERT_VERSION "\n"
	    "SENT 0 Proxy-Authorization: Digest <redacted>\n"
	    "RECV 0 HTTP/1.1 200 Connection established\n"
	    "STATUS 200 HTTP/1.1 200 Connection established\n";
	static const char want_h[] =
	    "SENT 0 CONNECT example.com:22 HTTP/1.1\n"
	    "SENT 0 Host: example.com:22\n"
	    "SENT 0 User-Agent: culvert/" CULVERT_VERSION "\n"
	    "SENT 0 Proxy-Authorization: Bearer <redacted>\n"
	    "RECV 0 HTTP/1.1 403 Forbidden\n"
	    "STATUS 403 HTTP/1.1 403 Forbidden\n";
	static const char want_h1[] =
	    "SENT 0 CONNECT example.com:22 HTTP/1.1\n"
	    "SENT 0 Host: example.com:22\n"
	    "SENT 0 User-Agent: culvert/" CULVERT_VERSION "\n"
	    "SENT 0 Proxy-Authorization:  <redacted>\n"
	    "RECV 0 HTTP/1.1 200 OK\n"
	    "STATUS 200 HTTP/1.1 200 OK\n";
	const struct answer a1[CONNS_MAX] = { S(P407 CH_DIGEST
	    "Content-Length: 2\r\n\r\nab" R200) };
	const struct answer a2[CONNS_MAX] = { S("HTTP/1.0 407 x\r\n"
	    CH_DIGEST "\r\n"), S(R200) };
	const struct answer a3[CONNS_MAX] = { S("HTTP/1.1 403 Forbidden\r\n"
	    "\r\n") };
	const struct answer a4[CONNS_MAX] = { S("HTTP/1.1 200 OK\r\n\r\n") };
	char sh[4096];
	struct run r;

	drive(&basic, a1, ALL, &r);
	result(r.bad[0] == '\0' && r.st == STEP_DONE && r.events.s != NULL &&
	    strcmp(r.events.s, want) == 0, "events of a 407 answered on the "
	    "same connection, credentials redacted", r.bad[0] != '\0' ? r.bad :
	    r.events.s != NULL ? show(r.events.s, r.events.len, sh,
	    sizeof(sh)) : "none");
	str_free(&r.sent);
	str_free(&r.events);

	drive(&basic, a2, ALL, &r);
	result(r.bad[0] == '\0' && r.st == STEP_DONE && r.events.s != NULL &&
	    strcmp(r.events.s, want_rc) == 0, "events of a 407 answered "
	    "after reconnecting, credentials redacted", r.bad[0] != '\0' ?
	    r.bad : r.events.s != NULL ? show(r.events.s, r.events.len, sh,
	    sizeof(sh)) : "none");
	str_free(&r.sent);
	str_free(&r.events);

	drive(&authz_h, a3, ALL, &r);
	result(r.bad[0] == '\0' && r.st == STEP_FAIL && r.events.s != NULL &&
	    strcmp(r.events.s, want_h) == 0 &&
	    !contains(r.events.s, r.events.len, "tok123"),
	    "events: a -H Proxy-Authorization is redacted too",
	    r.events.s != NULL ? show(r.events.s, r.events.len, sh,
	    sizeof(sh)) : "none");
	str_free(&r.sent);
	str_free(&r.events);

	drive(&authz1_h, a4, ALL, &r);
	result(r.bad[0] == '\0' && r.st == STEP_DONE && r.events.s != NULL &&
	    strcmp(r.events.s, want_h1) == 0 &&
	    !contains(r.events.s, r.events.len, "tok123"),
	    "events: a Proxy-Authorization without a scheme shows nothing",
	    r.events.s != NULL ? show(r.events.s, r.events.len, sh,
	    sizeof(sh)) : "none");
	str_free(&r.sent);
	str_free(&r.events);
}

/* Things the tables cannot say. */
static void
test_misc(void)
{
	static const char *hdrs[40];
	static char big[40][500];
	struct setup su = plain;
	const struct answer a[CONNS_MAX] = { S(R200) };
	struct proxy proxy;
	struct target target;
	struct creds creds;
	struct hs_params p;
	struct handshake h;
	struct run r;
	size_t i, used;
	enum step s;
	char sh[300];

	/* A request that does not fit the out buffer. */
	for (i = 0; i < 40; i++) {
		(void)snprintf(big[i], sizeof(big[i]), "X-%zu: %0480d", i, 0);
		hdrs[i] = big[i];
	}
	su.headers = hdrs;
	su.nheaders = 40;
	drive(&su, a, ALL, &r);
	result(r.st == STEP_FAIL && r.f.kind == FAIL_USAGE &&
	    strcmp(r.f.msg, "the CONNECT request would be longer than 16384 "
	    "bytes; use fewer or shorter --header options") == 0 &&
	    r.sent.len == 0, "a request over 16384 bytes is refused",
	    r.f.msg);
	str_free(&r.sent);
	str_free(&r.events);
	su.nheaders = 30;	/* about 15000 bytes: fits */
	drive(&su, a, BYTE, &r);
	result(r.st == STEP_DONE && r.sent.len > 14000 &&
	    r.sent.len <= OUTBUF_MAX, "a request of 15000 bytes is sent",
	    r.f.msg);
	str_free(&r.sent);
	str_free(&r.events);

	/* A 255-byte target name. */
	memset(&proxy, 0, sizeof(proxy));
	proxy.scheme = SCHEME_HTTP;
	memset(&target, 0, sizeof(target));
	memset(target.host, 'a', 255);
	target.port = 65535;
	memset(&p, 0, sizeof(p));
	p.proxy = &proxy;
	p.target = &target;
	p.auth_allow = AUTH_ALLOW_ANY;
	s = hs_start(&h, &p, NULL, NULL);
	result(s == STEP_SEND && h.out.len == 2 * 255 + 2 * 6 + 51 +
	    strlen(CULVERT_VERSION) && memcmp(h.out.data, "CONNECT aaa",
	    11) == 0 && contains(h.out.data, h.out.len, "a:65535 HTTP/1.1\r\n"),
	    "a 255-byte target name and port 65535",
	    show((const char *)h.out.data, h.out.len, sh, sizeof(sh)));
	hs_free(&h);

	/* NTLM only: an NTLM NEGOTIATE message goes out at once. */
	memset(&creds, 0, sizeof(creds));
	(void)snprintf(creds.user, sizeof(creds.user), "DOM\\alice");
	(void)snprintf(creds.pass, sizeof(creds.pass), PASS);
	creds.have_user = creds.have_pass = true;
	(void)snprintf(target.host, sizeof(target.host), "example.com");
	target.port = 22;
	p.creds = &creds;
	p.auth_allow = AUTH_ALLOW_NTLM;
	s = hs_start(&h, &p, NULL, NULL);
	result(s == STEP_SEND && contains(h.out.data, h.out.len,
	    "\r\nProxy-Authorization: NTLM TlRMTVNTUAABAAAA") &&
	    !contains(h.out.data, h.out.len, PASS),
	    "NTLM only: NEGOTIATE in the first request",
	    show((const char *)h.out.data, h.out.len, sh, sizeof(sh)));
	hs_free(&h);

	/* After STEP_DONE the bytes are the tunnel's: nothing consumed. */
	p.creds = NULL;
	p.auth_allow = AUTH_ALLOW_ANY;
	s = hs_start(&h, &p, NULL, NULL);
	s = hs_input(&h, (const unsigned char *)R200, N(R200), false, &used);
	result(s == STEP_DONE && used == N(R200), "200 gives STEP_DONE",
	    NULL);
	used = 99;
	s = hs_input(&h, (const unsigned char *)"SSH-2.0-x\r\n\r\n", 13, false,
	    &used);
	(void)snprintf(sh, sizeof(sh), "step %d, used %zu of 13", s, used);
	result(s == STEP_DONE && used == 0, "input after STEP_DONE consumes "
	    "nothing (as the SOCKS engines)", sh);
	hs_free(&h);
	hs_free(&h);
	result(true, "hs_free twice is safe", NULL);
	creds_wipe(&creds);
}

int
main(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect(&cases[i]);
	test_refusals();
	test_truncated();
	test_too_big();
	test_events();
	test_misc();
	printf("1..%d\n", t);
	return failed;
}
