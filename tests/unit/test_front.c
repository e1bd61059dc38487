/*
 * test_front.c: the server side of SOCKS5, SOCKS4/4a and HTTP CONNECT
 * (proto/front.h), table-driven: every request is fed whole, a byte at a
 * time and split at every position, as a driver that keeps what was not
 * consumed and offers it again with the next bytes; then what the
 * engine answers, what it consumed (never the tunnel's bytes after the
 * request), and the replies for success and failure.  TAP.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/front.h"
#include "util/failure.h"

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

/* What a run of the engine over one input ended with. */
struct outcome {
	enum front_step	 step;		/* the last step */
	enum front_kind	 kind;
	char		 host[256];
	unsigned	 port;
	/* every FRONT_SEND answer and the FRONT_REJECT one, in order */
	unsigned char	 sent[2 * FRONT_OUT_MAX];
	size_t		 sentlen;
	size_t		 consumed;	/* of the input */
	char		 reason[200];
};

/*
 * Feed in[0..len) to a fresh engine the way a driver does: bytes arrive
 * in pieces of `chunk` (0: all at once); whatever was not consumed is
 * offered again with the next piece; FRONT_SEND goes on with the rest.
 * eof after the last piece when eof_at_end.
 */
static void
run_front(unsigned allow, const unsigned char *in, size_t len, size_t chunk,
    bool eof_at_end, struct outcome *o)
{
	struct front f;
	size_t arrived = 0, used;
	bool eof;

	memset(o, 0, sizeof(*o));
	front_init(&f, allow);
	o->step = FRONT_NEED;
	for (;;) {
		if (chunk == 0 || arrived + chunk > len)
			arrived = len;
		else
			arrived += chunk;
		eof = eof_at_end && arrived == len;
		for (;;) {
			o->step = front_input(&f, in + o->consumed,
			    arrived - o->consumed, eof, &used);
			o->consumed += used;
			if ((o->step == FRONT_SEND || o->step == FRONT_REJECT)
			    && o->sentlen + f.outlen <= sizeof(o->sent)) {
				memcpy(o->sent + o->sentlen, f.out, f.outlen);
				o->sentlen += f.outlen;
			}
			if (o->step != FRONT_SEND)
				break;
		}
		if (o->step != FRONT_NEED || arrived == len)
			break;
	}
	o->kind = f.kind;
	if (o->step == FRONT_REQUEST) {
		(void)snprintf(o->host, sizeof(o->host), "%s", f.target.host);
		o->port = f.target.port;
	}
	(void)snprintf(o->reason, sizeof(o->reason), "%s", f.reason);
	front_free(&f);
}

#define B(s)	(const unsigned char *)(s), sizeof(s) - 1
#define TUNNEL	"\x01\x02tunnel bytes"

struct fcase {
	const char		*what;
	unsigned		 allow;
	const unsigned char	*in;
	size_t			 len;
	bool			 eof;
	enum front_step		 step;
	enum front_kind		 kind;
	const char		*host;		/* FRONT_REQUEST */
	unsigned		 port;
	size_t			 consumed;	/* (size_t)-1: all */
	const unsigned char	*sent;		/* what was answered so far */
	size_t			 sentlen;
	const char		*reason;	/* substring, FRONT_REJECT */
};

#define ALL	FRONT_ALLOW_ALL
#define S5OK	(const unsigned char *)"\x05\x00", 2

static const struct fcase cases[] = {
	/* SOCKS5 */
	{ "SOCKS5 greeting and a name", ALL,
	    B("\x05\x01\x00" "\x05\x01\x00\x03\x0b" "example.org" "\x01\xbb"
	    TUNNEL), false, FRONT_REQUEST, FRONT_SOCKS5, "example.org", 443,
	    3 + 5 + 11 + 2, S5OK, NULL },
	{ "SOCKS5 with several methods, no-auth among them", ALL,
	    B("\x05\x03\x02\x01\x00"
	    "\x05\x01\x00\x01\xc0\x00\x02\x07\x00\x16"),
	    false, FRONT_REQUEST, FRONT_SOCKS5, "192.0.2.7", 22, 15, S5OK,
	    NULL },
	{ "SOCKS5 IPv6", ALL,
	    B("\x05\x01\x00" "\x05\x01\x00\x04"
	    "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01"
	    "\x00\x50"), false, FRONT_REQUEST, FRONT_SOCKS5, "2001:db8::1", 80,
	    25, S5OK, NULL },
	{ "SOCKS5 without the no-auth method", ALL, B("\x05\x01\x02"), false,
	    FRONT_REJECT, FRONT_SOCKS5, NULL, 0, 3,
	    (const unsigned char *)"\x05\xff", 2, "no method" },
	{ "SOCKS5 BIND", ALL,
	    B("\x05\x01\x00" "\x05\x02\x00\x01\x7f\x00\x00\x01\x00\x16"),
	    false, FRONT_REJECT, FRONT_SOCKS5, NULL, 0, 13,
	    (const unsigned char *)"\x05\x00" "\x05\x07\x00\x01\0\0\0\0\0\0",
	    12, "other than CONNECT" },
	{ "SOCKS5 address type 9", ALL,
	    B("\x05\x01\x00" "\x05\x01\x00\x09\x7f\x00\x00\x01\x00\x16"),
	    false, FRONT_REJECT, FRONT_SOCKS5, NULL, 0, 3,
	    (const unsigned char *)"\x05\x00" "\x05\x08\x00\x01\0\0\0\0\0\0",
	    12, "address type" },
	{ "SOCKS5 request of version 4", ALL,
	    B("\x05\x01\x00" "\x04\x01\x00\x01\x7f\x00\x00\x01\x00\x16"),
	    false, FRONT_REJECT, FRONT_SOCKS5, NULL, 0, 3,
	    (const unsigned char *)"\x05\x00" "\x05\x01\x00\x01\0\0\0\0\0\0",
	    12, "version" },
	{ "SOCKS5 port 0", ALL,
	    B("\x05\x01\x00" "\x05\x01\x00\x03\x01" "a" "\x00\x00"), false,
	    FRONT_REJECT, FRONT_SOCKS5, NULL, 0, 3 + 5 + 1 + 2,
	    (const unsigned char *)"\x05\x00" "\x05\x01\x00\x01\0\0\0\0\0\0",
	    12, "port 0" },
	{ "SOCKS5 name with a space", ALL,
	    B("\x05\x01\x00" "\x05\x01\x00\x03\x03" "a b" "\x00\x16"), false,
	    FRONT_REJECT, FRONT_SOCKS5, NULL, 0, 3 + 5 + 3 + 2,
	    (const unsigned char *)"\x05\x00" "\x05\x01\x00\x01\0\0\0\0\0\0",
	    12, "bad target" },
	{ "SOCKS5 empty name", ALL,
	    B("\x05\x01\x00" "\x05\x01\x00\x03\x00" "\x00\x16"), false,
	    FRONT_REJECT, FRONT_SOCKS5, NULL, 0, 3 + 5 + 2,
	    (const unsigned char *)"\x05\x00" "\x05\x01\x00\x01\0\0\0\0\0\0",
	    12, "bad target" },
	{ "SOCKS5 closed after the greeting", ALL, B("\x05\x01\x00\x05\x01"),
	    true, FRONT_REJECT, FRONT_SOCKS5, NULL, 0, 3, S5OK,
	    "in the middle" },
	{ "SOCKS5 not allowed", FRONT_ALLOW_HTTP | FRONT_ALLOW_SOCKS4,
	    B("\x05\x01\x00"), false, FRONT_REJECT, FRONT_UNKNOWN, NULL, 0, 0,
	    NULL, 0, "not a SOCKS or HTTP" },
	/* SOCKS4 and 4a */
	{ "SOCKS4 with a user id", ALL,
	    B("\x04\x01\x00\x16\xc0\x00\x02\x07" "alice\0" TUNNEL), false,
	    FRONT_REQUEST, FRONT_SOCKS4, "192.0.2.7", 22, 14, NULL, 0, NULL },
	{ "SOCKS4a with a name", ALL,
	    B("\x04\x01\x01\xbb\x00\x00\x00\x01" "\0" "example.org\0" TUNNEL),
	    false, FRONT_REQUEST, FRONT_SOCKS4, "example.org", 443, 21, NULL,
	    0, NULL },
	{ "SOCKS4 BIND", ALL,
	    B("\x04\x02\x00\x16\x7f\x00\x00\x01" "\0"), false, FRONT_REJECT,
	    FRONT_SOCKS4, NULL, 0, 9,
	    (const unsigned char *)"\x00\x5b\0\0\0\0\0\0", 8,
	    "other than CONNECT" },
	{ "SOCKS4a name with a space", ALL,
	    B("\x04\x01\x00\x16\x00\x00\x00\x01" "\0" "a b\0"), false,
	    FRONT_REJECT, FRONT_SOCKS4, NULL, 0, 13,
	    (const unsigned char *)"\x00\x5b\0\0\0\0\0\0", 8, "bad target" },
	{ "SOCKS4 port 0", ALL,
	    B("\x04\x01\x00\x00\x7f\x00\x00\x01" "\0"), false, FRONT_REJECT,
	    FRONT_SOCKS4, NULL, 0, 9,
	    (const unsigned char *)"\x00\x5b\0\0\0\0\0\0", 8, "port 0" },
	{ "SOCKS4 closed in the user id", ALL,
	    B("\x04\x01\x00\x16\x7f\x00\x00\x01" "ali"), true, FRONT_REJECT,
	    FRONT_SOCKS4, NULL, 0, 0, NULL, 0, "in the middle" },
	{ "SOCKS4 not allowed", FRONT_ALLOW_SOCKS5, B("\x04\x01"), false,
	    FRONT_REJECT, FRONT_UNKNOWN, NULL, 0, 0, NULL, 0, "not a SOCKS" },
	/* HTTP CONNECT */
	{ "CONNECT", ALL,
	    B("CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n"
	    "\r\n" TUNNEL), false, FRONT_REQUEST, FRONT_HTTP, "example.org",
	    443, 59, NULL, 0, NULL },
	{ "CONNECT with HTTP/1.0 and bare LFs", ALL,
	    B("CONNECT 192.0.2.7:22 HTTP/1.0\n\n"), false, FRONT_REQUEST,
	    FRONT_HTTP, "192.0.2.7", 22, 31, NULL, 0, NULL },
	{ "CONNECT to IPv6", ALL,
	    B("CONNECT [2001:db8::1]:22 HTTP/1.1\r\n\r\n"), false,
	    FRONT_REQUEST, FRONT_HTTP, "2001:db8::1", 22, 37, NULL, 0, NULL },
	{ "GET is not served", ALL,
	    B("GET http://example.org/ HTTP/1.1\r\n\r\n"), false, FRONT_REJECT,
	    FRONT_HTTP, NULL, 0, (size_t)-1,
	    (const unsigned char *)"HTTP/1.1 501 ", 13, "other than CONNECT" },
	{ "CONNECT without a port", ALL,
	    B("CONNECT example.org HTTP/1.1\r\n\r\n"), false, FRONT_REJECT,
	    FRONT_HTTP, NULL, 0, (size_t)-1,
	    (const unsigned char *)"HTTP/1.1 400 ", 13, "host:port" },
	{ "CONNECT to port 0", ALL,
	    B("CONNECT example.org:0 HTTP/1.1\r\n\r\n"), false, FRONT_REJECT,
	    FRONT_HTTP, NULL, 0, (size_t)-1,
	    (const unsigned char *)"HTTP/1.1 400 ", 13, "bad target" },
	{ "CONNECT to a name with a quote", ALL,
	    B("CONNECT exa\"mple:22 HTTP/1.1\r\n\r\n"), false, FRONT_REJECT,
	    FRONT_HTTP, NULL, 0, (size_t)-1,
	    (const unsigned char *)"HTTP/1.1 400 ", 13, "bad target" },
	{ "CONNECT with HTTP/2.0", ALL,
	    B("CONNECT example.org:443 HTTP/2.0\r\n\r\n"), false,
	    FRONT_REJECT, FRONT_HTTP, NULL, 0, (size_t)-1,
	    (const unsigned char *)"HTTP/1.1 400 ", 13, "HTTP/1.x" },
	{ "CONNECT with HTTP/1.7", ALL,
	    B("CONNECT example.org:443 HTTP/1.7\r\n\r\n"), false,
	    FRONT_REJECT, FRONT_HTTP, NULL, 0, (size_t)-1,
	    (const unsigned char *)"HTTP/1.1 400 ", 13, "HTTP/1.x" },
	{ "CONNECT with one space", ALL, B("CONNECT example.org:443\r\n\r\n"),
	    false, FRONT_REJECT, FRONT_HTTP, NULL, 0, (size_t)-1,
	    (const unsigned char *)"HTTP/1.1 400 ", 13, "HTTP/1.x" },
	{ "lower-case connect", ALL,
	    B("connect example.org:443 HTTP/1.1\r\n\r\n"), false,
	    FRONT_REJECT, FRONT_HTTP, NULL, 0, (size_t)-1,
	    (const unsigned char *)"HTTP/1.1 501 ", 13, "other than CONNECT" },
	{ "closed in the middle of the head", ALL,
	    B("CONNECT example.org:443 HTTP/1.1\r\nHost:"), true, FRONT_REJECT,
	    FRONT_HTTP, NULL, 0, (size_t)-1, NULL, 0, "in the middle" },
	{ "HTTP not allowed", FRONT_ALLOW_SOCKS5,
	    B("CONNECT example.org:443 HTTP/1.1\r\n\r\n"), false,
	    FRONT_REJECT, FRONT_UNKNOWN, NULL, 0, 0, NULL, 0, "not a SOCKS" },
	/* neither */
	{ "a TLS hello", ALL, B("\x16\x03\x01\x02\x00"), false, FRONT_REJECT,
	    FRONT_UNKNOWN, NULL, 0, 0, NULL, 0, "not a SOCKS or HTTP" },
	{ "closed at once", ALL, (const unsigned char *)"", 0, true,
	    FRONT_REJECT, FRONT_UNKNOWN, NULL, 0, 0, NULL, 0,
	    "without a request" },
};

/* Does o match c?  A one-line reason into why when not. */
static bool
matches(const struct fcase *c, const struct outcome *o, char *why,
    size_t whylen)
{
	size_t want_used = c->consumed == (size_t)-1 ? c->len : c->consumed;

	if (o->step != c->step)
		snprintf(why, whylen, "step %d, wanted %d (%s)", o->step,
		    c->step, o->reason);
	else if (o->kind != c->kind)
		snprintf(why, whylen, "kind %s", front_kind_name(o->kind));
	else if (c->step == FRONT_REQUEST && (strcmp(o->host, c->host) != 0 ||
	    o->port != c->port))
		snprintf(why, whylen, "target %s port %u", o->host, o->port);
	else if (o->consumed != want_used)
		snprintf(why, whylen, "consumed %zu, wanted %zu", o->consumed,
		    want_used);
	else if (c->sent != NULL && (o->sentlen < c->sentlen ||
	    memcmp(o->sent, c->sent, c->sentlen) != 0))
		snprintf(why, whylen, "answered %zu bytes, not the ones "
		    "wanted", o->sentlen);
	else if (c->sent == NULL && c->step == FRONT_REQUEST &&
	    o->sentlen != 0)
		snprintf(why, whylen, "answered %zu bytes", o->sentlen);
	else if (c->reason != NULL && strstr(o->reason, c->reason) == NULL)
		snprintf(why, whylen, "reason \"%s\"", o->reason);
	else
		return true;
	return false;
}

static void
test_cases(void)
{
	struct outcome o;
	char what[200], why[300];
	size_t i, chunk, split;
	bool ok;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct fcase *c = &cases[i];

		run_front(c->allow, c->in, c->len, 0, c->eof, &o);
		(void)snprintf(what, sizeof(what), "%s: whole", c->what);
		result(matches(c, &o, why, sizeof(why)), what, why);

		ok = true;
		for (chunk = 1; chunk <= 7 && ok && c->len > 1; chunk++) {
			run_front(c->allow, c->in, c->len, chunk, c->eof, &o);
			ok = matches(c, &o, why, sizeof(why));
		}
		(void)snprintf(what, sizeof(what), "%s: in pieces of 1 to 7 "
		    "bytes", c->what);
		result(ok, what, ok ? NULL : why);

		/* split at every position into two reads */
		ok = true;
		for (split = 1; split < c->len && ok; split++) {
			struct front f;
			size_t used, done = 0;
			enum front_step s;

			front_init(&f, c->allow);
			do {
				s = front_input(&f, c->in + done, split - done,
				    false, &used);
				done += used;
			} while (s == FRONT_SEND);
			if (s == FRONT_NEED)
				do {
					s = front_input(&f, c->in + done,
					    c->len - done, c->eof, &used);
					done += used;
				} while (s == FRONT_SEND);
			ok = s == c->step;
			if (!ok)
				snprintf(why, sizeof(why), "split at %zu: "
				    "step %d (%s)", split, s, f.reason);
			front_free(&f);
		}
		(void)snprintf(what, sizeof(what), "%s: split in two anywhere",
		    c->what);
		result(ok, what, ok ? NULL : why);
	}
}

/* An HTTP head too large is refused with 431. */
static void
test_http_limits(void)
{
	struct front f;
	unsigned char *big;
	size_t n = 70 * 1024, used, total = 0;
	enum front_step s = FRONT_NEED;

	if ((big = malloc(n)) == NULL)
		return;
	memcpy(big, "CONNECT example.org:443 HTTP/1.1\r\nX: ", 37);
	memset(big + 37, 'x', n - 37);
	front_init(&f, FRONT_ALLOW_ALL);
	while (s == FRONT_NEED && total < n) {
		s = front_input(&f, big + total, n - total > 4096 ? 4096 :
		    n - total, false, &used);
		total += used;
	}
	result(s == FRONT_REJECT && f.outlen > 13 &&
	    memcmp(f.out, "HTTP/1.1 431 ", 13) == 0,
	    "an HTTP head over 64 KiB gets 431", f.reason);
	front_free(&f);
	free(big);
}

static void
test_replies(void)
{
	static const unsigned char s5ok[] = { 5, 0, 0, 1, 0, 0, 0, 0, 0, 0 };
	static const unsigned char s4ok[] = { 0, 0x5a, 0, 0, 0, 0, 0, 0 };
	static const unsigned char s4no[] = { 0, 0x5b, 0, 0, 0, 0, 0, 0 };
	struct failure fl;
	struct front f;
	char text[FRONT_OUT_MAX + 1];
	size_t used;

	front_init(&f, FRONT_ALLOW_ALL);
	(void)front_input(&f, (const unsigned char *)"\x05\x01\x00", 3, false,
	    &used);
	(void)front_input(&f, (const unsigned char *)
	    "\x05\x01\x00\x01\x7f\x00\x00\x01\x00\x16", 10, false, &used);
	front_reply_ok(&f);
	result(f.outlen == sizeof(s5ok) && memcmp(f.out, s5ok, f.outlen) == 0,
	    "SOCKS5 success reply", NULL);
	failure_set(&fl, FAIL_REFUSED, "the proxy said 403");
	fl.http_status = 403;
	front_reply_fail(&f, &fl);
	result(f.outlen == 10 && f.out[1] == 0x02,
	    "SOCKS5 reply to a 403 upstream: not allowed by ruleset", NULL);
	failure_set(&fl, FAIL_TIMEOUT, "slow");
	front_reply_fail(&f, &fl);
	result(f.outlen == 10 && f.out[1] == 0x06,
	    "SOCKS5 reply to a timeout: TTL expired", NULL);
	front_free(&f);

	front_init(&f, FRONT_ALLOW_ALL);
	(void)front_input(&f, (const unsigned char *)
	    "\x04\x01\x00\x16\x7f\x00\x00\x01\0", 9, false, &used);
	front_reply_ok(&f);
	result(f.outlen == sizeof(s4ok) && memcmp(f.out, s4ok, f.outlen) == 0,
	    "SOCKS4 success reply", NULL);
	front_reply_fail(&f, &fl);
	result(f.outlen == sizeof(s4no) && memcmp(f.out, s4no, f.outlen) == 0,
	    "SOCKS4 failure reply", NULL);
	front_free(&f);

	front_init(&f, FRONT_ALLOW_ALL);
	(void)front_input(&f, (const unsigned char *)
	    "CONNECT a.example:22 HTTP/1.1\r\n\r\n", 33, false, &used);
	front_reply_ok(&f);
	result(f.outlen == 39 && memcmp(f.out,
	    "HTTP/1.1 200 Connection established\r\n\r\n", 39) == 0,
	    "HTTP success reply", NULL);
	failure_set(&fl, FAIL_TIMEOUT, "no answer from the proxy");
	front_reply_fail(&f, &fl);
	(void)snprintf(text, sizeof(text), "%.*s", (int)f.outlen,
	    (const char *)f.out);
	result(strncmp(text, "HTTP/1.1 504 Gateway Timeout\r\n", 30) == 0 &&
	    strstr(text, "\r\n\r\nno answer from the proxy\n") != NULL,
	    "HTTP reply to a timeout: 504 with the reason", NULL);
	failure_set(&fl, FAIL_AUTH, "the proxy refused the credentials");
	front_reply_fail(&f, &fl);
	result(f.outlen > 0 && memcmp(f.out, "HTTP/1.1 502 Bad Gateway\r\n", 26)
	    == 0, "HTTP reply to other failures: 502", NULL);
	front_free(&f);
}

int
main(void)
{
	test_cases();
	test_http_limits();
	test_replies();
	printf("1..%d\n", t);
	return failed;
}
