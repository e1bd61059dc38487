/*
 * test_request.c: the HTTP request engine of the --tunnel client
 * (proto/request.h), table-driven: the request it writes, then each
 * answer fed whole, a byte at a time and in pieces of 2 to 7 bytes, the
 * way a driver offers what was not consumed again with the next read:
 * Content-Length, chunked, up to the close, interim 1xx answers, bodies
 * that must not be read (204), a 407 from a proxy drained on a kept
 * connection or closed, and malformed answers.  What the engine consumed
 * must end where the answer ends.  TAP.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/challenge.h"
#include "auth/creds.h"
#include "proto/request.h"

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

static struct creds alice;

/* A request as the tunnel client makes one; via a proxy or not. */
static void
make(struct request *r, bool via_proxy, bool with_creds, unsigned allow)
{
	memset(r, 0, sizeof(*r));
	r->method = "POST";
	r->target = via_proxy ? "http://tunnel.example:8080/culvert/up?s=1&o=0"
	    : "/culvert/up?s=1&o=0";
	r->host = "tunnel.example:8080";
	r->extra = "Cache-Control: no-store, no-transform\r\n";
	r->body = (const unsigned char *)"abc";
	r->bodylen = 3;
	r->via_proxy = via_proxy;
	r->creds = with_creds ? &alice : NULL;
	r->auth_allow = allow;
	r->body_max = 64;
}

/* r->out as a string (it is not NUL-terminated). */
static const char *
out_text(const struct request *r, char *buf, size_t len)
{
	(void)snprintf(buf, len, "%.*s", (int)r->outlen, (const char *)r->out);
	return buf;
}

static void
test_build(void)
{
	struct request r;
	char buf[2048];
	const char *o;

	make(&r, false, false, AUTH_ALLOW_ANY);
	result(request_start(&r) == STEP_SEND, "request_start: send", NULL);
	o = out_text(&r, buf, sizeof(buf));
	result(strncmp(o, "POST /culvert/up?s=1&o=0 HTTP/1.1\r\n"
	    "Host: tunnel.example:8080\r\nUser-Agent: culvert/", 69) == 0,
	    "origin-form request line, Host, User-Agent", o);
	result(strstr(o, "\r\nCache-Control: no-store, no-transform\r\n"
	    "Content-Length: 3\r\n\r\nabc") != NULL && r.outlen ==
	    strlen(o), "extra fields, Content-Length and the body last", o);
	result(strstr(o, "Proxy-Authorization") == NULL,
	    "no Proxy-Authorization straight to a server", o);
	request_free(&r);

	make(&r, true, true, AUTH_ALLOW_ANY);
	(void)request_start(&r);
	o = out_text(&r, buf, sizeof(buf));
	result(strncmp(o, "POST http://tunnel.example:8080/culvert/up?s=1&o=0 "
	    "HTTP/1.1\r\n", 61) == 0, "absolute-form through a proxy", o);
	result(strstr(o, "\r\nProxy-Authorization: Basic YWxpY2U6cGFzcw==\r\n")
	    != NULL, "Basic sent at once through a proxy", o);
	request_free(&r);

	make(&r, true, true, AUTH_ALLOW_DIGEST);
	(void)request_start(&r);
	o = out_text(&r, buf, sizeof(buf));
	result(strstr(o, "Proxy-Authorization") == NULL,
	    "Digest only: nothing before the challenge", o);
	request_free(&r);
	result(r.out == NULL && r.rbody == NULL && r.outlen == 0,
	    "request_free empties the request", NULL);
}

#define OK200(fields)	"HTTP/1.1 200 OK\r\n" fields
#define P407		"HTTP/1.1 407 Proxy Authentication Required\r\n"
#define DIGEST_CH	"Proxy-Authenticate: Digest realm=\"r\", " \
			"nonce=\"n\"\r\n"
#define NEXT		"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
#define B64		"0123456789abcdef0123456789abcdef" \
			"0123456789abcdef0123456789abcdef"
#define B65		B64 "!"

struct rcase {
	const char	*what;
	bool		 via_proxy;
	unsigned	 allow;		/* with alice's credentials; 0: none */
	const char	*answer;	/* the answer ... */
	const char	*after;		/* ... and what follows it, unread */
	bool		 eof;		/* the connection closes after both */
	enum step	 step;
	int		 code;		/* STEP_DONE */
	const char	*body;
	bool		 keep;
	const char	*text;		/* STEP_SEND: in out; STEP_FAIL: in
					   the message */
};

static const struct rcase cases[] = {
	{ "Content-Length", false, 0, OK200("Content-Length: 5\r\n"
	    "X-Culvert-Ack: 7\r\n\r\nhello"), NEXT, false, STEP_DONE, 200,
	    "hello", true, NULL },
	{ "Content-Length 0", false, 0, OK200("Content-Length: 0\r\n\r\n"),
	    NEXT, false, STEP_DONE, 200, "", true, NULL },
	{ "chunked, with extensions and a trailer", false, 0,
	    OK200("Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
	    "6;ext=1\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n"), NEXT, false,
	    STEP_DONE, 200, "hello world", true, NULL },
	{ "chunked, upper-case hex and a bare LF", false, 0,
	    OK200("Transfer-Encoding: chunked\r\n\r\nA\r\n0123456789\n"
	    "0\r\n\r\n"), NEXT, false, STEP_DONE, 200, "0123456789", true,
	    NULL },
	{ "up to the close", false, 0, OK200("\r\nsome bytes"), "", true,
	    STEP_DONE, 200, "some bytes", false, NULL },
	{ "up to the close, nothing", false, 0, OK200("\r\n"), "", true,
	    STEP_DONE, 200, "", false, NULL },
	{ "HTTP/1.0", false, 0,
	    "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", "", false,
	    STEP_DONE, 200, "ok", false, NULL },
	{ "Connection: close", false, 0, OK200("Connection: close\r\n"
	    "Content-Length: 2\r\n\r\nok"), "", false, STEP_DONE, 200, "ok",
	    false, NULL },
	{ "interim answers first", false, 0, "HTTP/1.1 100 Continue\r\n\r\n"
	    "HTTP/1.1 102 Processing\r\nX: y\r\n\r\n"
	    OK200("Content-Length: 2\r\n\r\nok"), NEXT, false, STEP_DONE, 200,
	    "ok", true, NULL },
	{ "204 has no body", false, 0, "HTTP/1.1 204 No Content\r\n"
	    "Content-Length: 5\r\n\r\n", NEXT, false, STEP_DONE, 204, "", true,
	    NULL },
	{ "an error status is an answer too", false, 0, "HTTP/1.1 410 Gone\r\n"
	    "Content-Length: 11\r\n\r\nno session\n", NEXT, false, STEP_DONE,
	    410, "no session\n", true, NULL },
	{ "a 407 from the server itself is its answer", false,
	    AUTH_ALLOW_ANY, P407 DIGEST_CH "Content-Length: 0\r\n\r\n", NEXT,
	    false, STEP_DONE, 407, "", true, NULL },
	/* 407 from a proxy */
	{ "407 kept alive: drained, Digest on the same connection", true,
	    AUTH_ALLOW_DIGEST, P407 DIGEST_CH "Content-Length: 5\r\n\r\nerror",
	    NEXT, false, STEP_SEND, 0, NULL, false,
	    "\r\nProxy-Authorization: Digest username=\"alice\", realm=\"r\"" },
	{ "407 kept alive without a body", true, AUTH_ALLOW_DIGEST,
	    P407 DIGEST_CH "Content-Length: 0\r\n\r\n", NEXT, false, STEP_SEND,
	    0, NULL, false, "Proxy-Authorization: Digest " },
	{ "407 with Connection: close: a new connection", true,
	    AUTH_ALLOW_DIGEST, P407 DIGEST_CH "Connection: close\r\n"
	    "Content-Length: 5\r\n\r\n", "", false, STEP_RECONNECT, 0, NULL,
	    false, NULL },
	{ "407 without a length: a new connection", true, AUTH_ALLOW_DIGEST,
	    P407 DIGEST_CH "\r\n", "", false, STEP_RECONNECT, 0, NULL, false,
	    NULL },
	{ "HTTP/1.0 407: a new connection", true, AUTH_ALLOW_DIGEST,
	    "HTTP/1.0 407 Proxy Authentication Required\r\n" DIGEST_CH
	    "Content-Length: 0\r\n\r\n", "", false, STEP_RECONNECT, 0, NULL,
	    false, NULL },
	{ "407 and no credentials", true, 0, P407 DIGEST_CH
	    "Content-Length: 0\r\n\r\n", "", false, STEP_FAIL, 0, NULL, false,
	    NULL },
	{ "407 after Basic was sent: the proxy refused it", true,
	    AUTH_ALLOW_BASIC, P407 "Proxy-Authenticate: Basic realm=\"r\"\r\n"
	    "Content-Length: 0\r\n\r\n", "", false, STEP_FAIL, 0, NULL, false,
	    NULL },
	/* broken answers */
	{ "not HTTP", false, 0, "SSH-2.0-OpenSSH_9.2\r\n\r\n", "", false,
	    STEP_FAIL, 0, NULL, false, "is not HTTP" },
	{ "a bad Content-Length", false, 0, OK200("Content-Length: 5x\r\n\r\n"),
	    "", false, STEP_FAIL, 0, NULL, false, "bad Content-Length" },
	{ "a body over body_max", false, 0, OK200("Content-Length: 65\r\n\r\n"
	    B65), "", false, STEP_FAIL, 0, NULL, false, "body over 64 bytes" },
	{ "a chunked body over body_max", false, 0,
	    OK200("Transfer-Encoding: chunked\r\n\r\n40\r\n" B64 "\r\n"
	    "1\r\n!\r\n"), "", false, STEP_FAIL, 0, NULL, false,
	    "body over 64 bytes" },
	{ "a bad chunk size", false, 0,
	    OK200("Transfer-Encoding: chunked\r\n\r\nzz\r\n"), "", false,
	    STEP_FAIL, 0, NULL, false, "bad chunk size" },
	{ "an empty chunk size", false, 0,
	    OK200("Transfer-Encoding: chunked\r\n\r\n\r\n"), "", false,
	    STEP_FAIL, 0, NULL, false, "bad chunk size" },
	{ "a chunk size line too long", false, 0,
	    OK200("Transfer-Encoding: chunked\r\n\r\n"
	    "1;aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"), "",
	    false, STEP_FAIL, 0, NULL, false, "bad chunk" },
	{ "closed in the middle of the body", false, 0,
	    OK200("Content-Length: 10\r\n\r\nabc"), "", true, STEP_FAIL, 0,
	    NULL, false, "closed in the middle" },
	{ "closed in the middle of a chunk", false, 0,
	    OK200("Transfer-Encoding: chunked\r\n\r\n5\r\nab"), "", true,
	    STEP_FAIL, 0, NULL, false, "closed in the middle" },
	{ "closed in the middle of the head", false, 0, "HTTP/1.1 200 OK\r\n",
	    "", true, STEP_FAIL, 0, NULL, false, "closed in the middle" },
	{ "closed before anything", false, 0, "", "", true, STEP_FAIL, 0,
	    NULL, false, "closed in the middle" },
};

/*
 * Offer in[0..len) in pieces of chunk bytes (0: at once), unconsumed
 * bytes again with the next piece; eof with the last one when eof.
 * Returns the step; *consumed how much was taken.
 */
static enum step
feed(struct request *r, const char *in, size_t len, size_t chunk, bool eof,
    size_t *consumed)
{
	size_t arrived = 0, used;
	enum step s = STEP_NEED;

	*consumed = 0;
	for (;;) {
		arrived = chunk == 0 || arrived + chunk > len ? len :
		    arrived + chunk;
		s = request_input(r, (const unsigned char *)in + *consumed,
		    arrived - *consumed, eof && arrived == len, &used);
		*consumed += used;
		if (s != STEP_NEED || arrived == len)
			return s;
	}
}

static bool
check(const struct rcase *c, size_t chunk, char *why, size_t whylen)
{
	struct request r;
	char in[1024], buf[2048];
	size_t len, consumed, want_used;
	enum step s;
	bool ok = false;

	make(&r, c->via_proxy, c->allow != 0, c->allow);
	if (request_start(&r) != STEP_SEND) {
		snprintf(why, whylen, "request_start: %s", r.fail.msg);
		request_free(&r);
		return false;
	}
	len = (size_t)snprintf(in, sizeof(in), "%s%s", c->answer, c->after);
	want_used = strlen(c->answer);
	s = feed(&r, in, len, chunk, c->eof, &consumed);
	if (s != c->step)
		snprintf(why, whylen, "step %d, wanted %d (%s)", s, c->step,
		    s == STEP_FAIL ? r.fail.msg : "");
	else if (s == STEP_DONE && r.st.code != c->code)
		snprintf(why, whylen, "status %d", r.st.code);
	else if (s == STEP_DONE && (r.rlen != strlen(c->body) ||
	    (r.rlen > 0 && memcmp(r.rbody, c->body, r.rlen) != 0)))
		snprintf(why, whylen, "body \"%.*s\"", (int)r.rlen,
		    r.rbody != NULL ? (const char *)r.rbody : "");
	else if (s == STEP_DONE && r.keep != c->keep)
		snprintf(why, whylen, "keep %d", r.keep);
	else if ((s == STEP_DONE || s == STEP_SEND) && consumed != want_used)
		snprintf(why, whylen, "consumed %zu of %zu, wanted %zu",
		    consumed, len, want_used);
	else if (s == STEP_SEND && strstr(out_text(&r, buf, sizeof(buf)),
	    c->text) == NULL)
		snprintf(why, whylen, "request again: %s", buf);
	else if (s == STEP_FAIL && c->text != NULL &&
	    strstr(r.fail.msg, c->text) == NULL)
		snprintf(why, whylen, "message \"%s\"", r.fail.msg);
	else
		ok = true;
	request_free(&r);
	return ok;
}

static void
test_cases(void)
{
	char what[200], why[2200];
	size_t i, chunk;
	bool ok;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		(void)snprintf(what, sizeof(what), "%s: whole", cases[i].what);
		result(check(&cases[i], 0, why, sizeof(why)), what, why);
		(void)snprintf(what, sizeof(what), "%s: a byte at a time",
		    cases[i].what);
		result(check(&cases[i], 1, why, sizeof(why)), what, why);
		ok = true;
		for (chunk = 2; chunk <= 7 && ok; chunk++)
			ok = check(&cases[i], chunk, why, sizeof(why));
		(void)snprintf(what, sizeof(what), "%s: in pieces of 2 to 7",
		    cases[i].what);
		result(ok, what, ok ? NULL : why);
	}
}

/* A field of the answer, and a second answer on the same request. */
static void
test_field_and_again(void)
{
	static const char a1[] = OK200("Content-Length: 2\r\nX-Culvert-Ack: "
	    "12345\r\n\r\nok");
	struct request r;
	const char *v;
	size_t vl, used;

	make(&r, false, false, 0);
	(void)request_start(&r);
	(void)feed(&r, a1, sizeof(a1) - 1, 0, false, &used);
	result(request_field(&r, "x-culvert-ack", &v, &vl) == 0 && vl == 5 &&
	    memcmp(v, "12345", 5) == 0, "request_field finds a field", NULL);
	result(request_field(&r, "X-Culvert-Offset", &v, &vl) == -1,
	    "request_field: -1 for an absent field", NULL);
	/* after a 407 and its drain, the next answer is read from scratch */
	request_free(&r);
	make(&r, true, true, AUTH_ALLOW_DIGEST);
	(void)request_start(&r);
	{
		static const char a407[] = P407 DIGEST_CH
		    "Content-Length: 3\r\n\r\nabc" OK200("Content-Length: 2"
		    "\r\n\r\nhi");
		size_t off;
		enum step s = feed(&r, a407, sizeof(a407) - 1, 0, false, &off);

		if (s == STEP_SEND)
			s = feed(&r, a407 + off, sizeof(a407) - 1 - off, 0,
			    false, &used);
		result(s == STEP_DONE && r.st.code == 200 && r.rlen == 2 &&
		    memcmp(r.rbody, "hi", 2) == 0,
		    "after a drained 407 the next answer is the one", NULL);
	}
	request_free(&r);
}

/* How much of a body of known length is still to come. */
static void
test_body_left(void)
{
	static const char head[] = OK200("Content-Length: 10\r\n\r\nabc");
	static const char chunked[] = OK200("Transfer-Encoding: chunked\r\n"
	    "\r\n5\r\nab");
	static const char closing[] = OK200("\r\nabc");
	struct request r;
	size_t used;
	enum step s;

	make(&r, false, false, 0);
	result(request_body_left(&r) == 0, "body_left: 0 before an answer",
	    NULL);
	(void)request_start(&r);
	result(request_body_left(&r) == 0, "body_left: 0 while the head is "
	    "incomplete", NULL);
	s = request_input(&r, (const unsigned char *)head, sizeof(head) - 1,
	    false, &used);
	result(s == STEP_NEED && request_body_left(&r) == 7,
	    "body_left: what Content-Length still owes", NULL);
	s = request_input(&r, (const unsigned char *)"defghij", 7, false,
	    &used);
	result(s == STEP_DONE && used == 7 && request_body_left(&r) == 0 &&
	    r.rlen == 10, "body_left: 0 once the body is complete", NULL);
	request_free(&r);
	make(&r, false, false, 0);
	(void)request_start(&r);
	(void)request_input(&r, (const unsigned char *)chunked,
	    sizeof(chunked) - 1, false, &used);
	result(request_body_left(&r) == 3, "body_left: the rest of a chunk",
	    NULL);
	request_free(&r);
	make(&r, false, false, 0);
	(void)request_start(&r);
	(void)request_input(&r, (const unsigned char *)closing,
	    sizeof(closing) - 1, false, &used);
	result(request_body_left(&r) == 0, "body_left: 0 for a body that ends "
	    "with the connection", NULL);
	request_free(&r);
}

int
main(void)
{
	memset(&alice, 0, sizeof(alice));
	(void)snprintf(alice.user, sizeof(alice.user), "alice");
	(void)snprintf(alice.pass, sizeof(alice.pass), "pass");
	alice.have_user = alice.have_pass = true;
	alice.source = "test";
	test_build();
	test_cases();
	test_field_and_again();
	test_body_left();
	creds_wipe(&alice);
	printf("1..%d\n", t);
	return failed;
}
