/*
 * test_socks.c: the SOCKS4/4a/5 engines against scripted proxy bytes, fed
 * one byte at a time and all at once, as a proto.h driver would.  TAP.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "crypto/hash.h"
#include "proto/proto.h"
#include "proto/socks.h"

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

struct run {
	enum step	 st;
	struct failure	 f;
	unsigned char	 sent[2048];
	size_t		 sentlen;
	size_t		 consumed;
	bool		 bad_need;	/* STEP_NEED that consumed bytes */
	bool		 secret_left;	/* password found after the end */
	int		 calls;
};

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

static void
take_out(struct run *r, struct outbuf *out)
{
	if (r->sentlen + out->len <= sizeof(r->sent)) {
		memcpy(r->sent + r->sentlen, out->data, out->len);
		r->sentlen += out->len;
	}
	out->len = 0;		/* as a driver does once it has written */
}

/*
 * Drive one handshake: the proxy's bytes (reply, rlen) arrive chunk bytes
 * at a time (0: all at once); once all have arrived and the engine still
 * wants more, the proxy closes: the engine is called with eof set and the
 * unconsumed bytes, or with none when eof_empty.
 */
static void
drive(const struct socks_request *req, const unsigned char *reply,
    size_t rlen, size_t chunk, bool eof_empty, struct run *r)
{
	static struct outbuf out;
	struct socks s;
	size_t avail, used;
	bool eof = false;

	memset(r, 0, sizeof(*r));
	memset(&out, 0, sizeof(out));
	r->st = socks_start(&s, req, &out, &r->f);
	if (r->st == STEP_FAIL)
		goto end;
	take_out(r, &out);
	avail = chunk == 0 || chunk > rlen ? rlen : chunk;
	for (;;) {
		if (++r->calls > 10000) {
			r->st = STEP_FAIL;
			(void)snprintf(r->f.msg, sizeof(r->f.msg), "loops");
			break;
		}
		r->st = socks_input(&s, reply + r->consumed,
		    eof && eof_empty ? 0 : avail - r->consumed, eof, &used,
		    &out, &r->f);
		if (r->st == STEP_NEED && used != 0)
			r->bad_need = true;
		r->consumed += used;
		if (r->st == STEP_SEND) {
			take_out(r, &out);
			continue;
		}
		if (r->st != STEP_NEED)
			break;
		if (eof) {
			r->bad_need = true;	/* must fail at EOF */
			break;
		}
		if (avail == rlen)
			eof = true;
		else
			avail += chunk == 0 || avail + chunk > rlen ?
			    rlen - avail : chunk;
	}
	if (req->pass != NULL && strlen(req->pass) >= 4 &&
	    (contains(&s, sizeof(s), req->pass) ||
	    contains(out.data, sizeof(out.data), req->pass)))
		r->secret_left = true;
end:
	socks_finish(&s);
	if (req->pass != NULL && strlen(req->pass) >= 4 &&
	    contains(&s, sizeof(s), req->pass))
		r->secret_left = true;
}

struct want {
	enum step		 st;
	enum fail_kind		 code;		/* when STEP_FAIL */
	const char		*msg;		/* substring, or NULL */
	size_t			 consumed;	/* when STEP_DONE */
	const unsigned char	*sent;		/* NULL: not checked */
	size_t			 sentlen;
};

static void
hexdump(char *buf, size_t len, const unsigned char *p, size_t n)
{
	if (n > (len - 1) / 2)
		n = (len - 1) / 2;
	hash_hex(p, n, buf);
}

/* Run req against reply byte by byte and all at once; one TAP line each. */
static void
expect(const char *what, const struct socks_request *req,
    const unsigned char *reply, size_t rlen, const struct want *w)
{
	static const size_t chunks[] = { 1, 0, 3, 1 };
	static const bool eof_empty[] = { false, false, false, true };
	static const char *const names[] = { "byte at a time",
	    "all at once", "3 bytes at a time",
	    "byte at a time, EOF offered alone" };
	char desc[512], detail[4096], hx[1024];
	struct run r;
	size_t i;
	bool ok;

	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		drive(req, reply, rlen, chunks[i], eof_empty[i], &r);
		ok = r.st == w->st && !r.bad_need && !r.secret_left;
		if (ok && w->st == STEP_FAIL)
			ok = r.f.kind == w->code &&
			    (w->msg == NULL || strstr(r.f.msg, w->msg) != NULL);
		if (ok && w->st == STEP_DONE)
			ok = r.consumed == w->consumed &&
			    (w->msg == NULL || strstr(r.f.msg, w->msg) != NULL);
		if (ok && w->sent != NULL)
			ok = r.sentlen == w->sentlen &&
			    memcmp(r.sent, w->sent, w->sentlen) == 0;
		hexdump(hx, sizeof(hx), r.sent, r.sentlen);
		(void)snprintf(detail, sizeof(detail), "step %d code %d "
		    "consumed %zu bad_need %d secret_left %d msg \"%s\" "
		    "sent %s", r.st, r.f.kind, r.consumed, r.bad_need,
		    r.secret_left, r.st == STEP_FAIL ? r.f.msg : "", hx);
		(void)snprintf(desc, sizeof(desc), "%s (%s)", what, names[i]);
		result(ok, desc, detail);
		if (w->st == STEP_FAIL && w->msg == NULL && i == 0)
			printf("# %s\n", r.f.msg);
	}
}

#define B(...)	((const unsigned char[]){ __VA_ARGS__ })
#define L(...)	sizeof((const unsigned char[]){ __VA_ARGS__ })

static const unsigned char ip4[4] = { 192, 0, 2, 7 };
static const unsigned char ip6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 1 };

/* A SOCKS5 CONNECT reply with an IPv4 bound address, then tunnel data. */
#define S5_OK4	5, 0, 0, 1, 10, 0, 0, 1, 0x04, 0x38
#define S4_OK	0, 0x5a, 0, 0, 0, 0, 0, 0

static void
test_socks4(void)
{
	struct socks_request rq = { SOCKS_V4, "host.example", ip4, 4, 22,
	    "bob", NULL };
	struct want w = { STEP_DONE, 0, NULL, 8,
	    B(4, 1, 0, 22, 192, 0, 2, 7, 'b', 'o', 'b', 0), 12 };
	static const unsigned char codes[] = { 0x5b, 0x5c, 0x5d, 0x5e, 0 };
	static const char *const texts[] = {
		("SOCKS4 proxy refused CONNECT host.example:22: request "
		    "rejected or failed"),
		"cannot reach identd",
		"identd did not confirm the user id",
		"unknown reply code 94",
		"unknown reply code 0"
	};
	unsigned char rep[8];
	char what[128];
	size_t i, n;

	expect("SOCKS4 request bytes, user id, reply then tunnel data", &rq,
	    B(S4_OK, 'S', 'S', 'H', '-'), L(S4_OK, 'S', 'S', 'H', '-'), &w);

	rq.user = NULL;
	w.sent = B(4, 1, 0, 22, 192, 0, 2, 7, 0);
	w.sentlen = 9;
	expect("SOCKS4 without user sends an empty user id", &rq,
	    B(S4_OK), L(S4_OK), &w);

	rq.port = 65535;
	w.sent = B(4, 1, 0xff, 0xff, 192, 0, 2, 7, 0);
	expect("SOCKS4 port in network order", &rq, B(S4_OK), L(S4_OK), &w);

	rq.port = 22;
	w.sent = NULL;
	expect("SOCKS4 reply version 4 accepted", &rq,
	    B(4, 0x5a, 0, 0, 0, 0, 0, 0), 8, &w);

	rq.addr = NULL;
	rq.addrlen = 0;
	rq.host = "198.51.100.1";
	w.sent = B(4, 1, 0, 22, 198, 51, 100, 1, 0);
	expect("SOCKS4 with an IPv4 literal host needs no address", &rq,
	    B(S4_OK), L(S4_OK), &w);

	rq.host = "host.example";
	rq.addr = ip4;
	rq.addrlen = 4;
	for (i = 0; i < sizeof(codes); i++) {
		memcpy(rep, B(S4_OK), 8);
		rep[1] = codes[i];
		w.st = STEP_FAIL;
		w.code = codes[i] == 0x5d ? FAIL_AUTH : FAIL_REFUSED;
		w.msg = texts[i];
		w.sent = NULL;
		(void)snprintf(what, sizeof(what), "SOCKS4 reply code 0x%02x",
		    codes[i]);
		expect(what, &rq, rep, 8, &w);
		/* refusal noticed from two bytes, before the proxy closes */
		(void)snprintf(what, sizeof(what), "SOCKS4 reply code 0x%02x "
		    "then close", codes[i]);
		expect(what, &rq, rep, 2, &w);
	}

	w.code = FAIL_PROTO;
	w.msg = "use an http:// proxy URL";
	expect("SOCKS4 answered by HTTP", &rq,
	    (const unsigned char *)"HTTP/1.1 400 Bad Request\r\n\r\n", 28, &w);
	w.msg = "sent version 90";
	expect("SOCKS4 reply with a wrong version", &rq,
	    B(0x5a, 0x5a, 0, 0, 0, 0, 0, 0), 8, &w);
	for (n = 0; n < 8; n++) {
		w.msg = n == 0 ? "SOCKS4 proxy closed the connection before "
		    "its reply to CONNECT host.example:22" :
		    "in the middle of its reply to CONNECT host.example:22";
		(void)snprintf(what, sizeof(what), "SOCKS4 reply truncated "
		    "after %zu bytes", n);
		expect(what, &rq, B(S4_OK), n, &w);
	}
}

static void
test_socks4a(void)
{
	struct socks_request rq = { SOCKS_V4A, "example.com", NULL, 0, 22,
	    "alice", "ignored-pass" };
	struct want w = { STEP_DONE, 0, NULL, 8,
	    B(4, 1, 0, 22, 0, 0, 0, 1, 'a', 'l', 'i', 'c', 'e', 0,
	    'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'c', 'o', 'm', 0), 26 };

	expect("SOCKS4a request bytes: 0.0.0.1, user id, name", &rq,
	    B(S4_OK, 0xff, 0), L(S4_OK, 0xff, 0), &w);

	rq.user = NULL;
	w.sent = B(4, 1, 0, 22, 0, 0, 0, 1, 0,
	    'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'c', 'o', 'm', 0);
	w.sentlen = 21;
	expect("SOCKS4a without user", &rq, B(S4_OK), L(S4_OK), &w);

	rq.addr = ip4;
	rq.addrlen = 4;
	w.sent = B(4, 1, 0, 22, 192, 0, 2, 7, 0);
	w.sentlen = 9;
	expect("SOCKS4a with an address sends the address", &rq, B(S4_OK),
	    L(S4_OK), &w);

	rq.addr = NULL;
	rq.addrlen = 0;
	w.st = STEP_FAIL;
	w.code = FAIL_REFUSED;
	w.msg = "SOCKS4a proxy refused CONNECT example.com:22: request "
	    "rejected or failed";
	w.sent = NULL;
	expect("SOCKS4a refusal names the target", &rq,
	    B(0, 0x5b, 0, 0, 0, 0, 0, 0), 8, &w);
}

static void
test_socks5_requests(void)
{
	struct socks_request rq = { SOCKS_V5, "example.com", NULL, 0, 22,
	    NULL, NULL };
	struct want w = { STEP_DONE, 0, NULL, 12,
	    B(5, 1, 0, 5, 1, 0, 3, 11, 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.',
	    'c', 'o', 'm', 0, 22), 21 };
	unsigned char sent[600];
	char host[256];

	expect("SOCKS5 name request (socks5h)", &rq,
	    B(5, 0, S5_OK4, 'x', 'y'), L(5, 0, S5_OK4, 'x', 'y'), &w);

	rq.addr = ip4;
	rq.addrlen = 4;
	w.sent = B(5, 1, 0, 5, 1, 0, 1, 192, 0, 2, 7, 0, 22);
	w.sentlen = 13;
	expect("SOCKS5 IPv4 request (socks5, resolved locally)", &rq,
	    B(5, 0, S5_OK4), L(5, 0, S5_OK4), &w);

	rq.addr = ip6;
	rq.addrlen = 16;
	w.sent = B(5, 1, 0, 5, 1, 0, 4, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
	    0, 0, 0, 0, 0, 0, 0, 1, 0, 22);
	w.sentlen = 25;
	expect("SOCKS5 IPv6 request (socks5, resolved locally)", &rq,
	    B(5, 0, S5_OK4), L(5, 0, S5_OK4), &w);

	rq.addr = NULL;
	rq.addrlen = 0;
	rq.host = "2001:db8::1";
	expect("SOCKS5 IPv6 literal host sent as an address", &rq,
	    B(5, 0, S5_OK4), L(5, 0, S5_OK4), &w);
	rq.host = "[2001:db8::1]";
	expect("SOCKS5 bracketed IPv6 literal host", &rq, B(5, 0, S5_OK4),
	    L(5, 0, S5_OK4), &w);

	rq.host = "192.0.2.7";
	rq.port = 0x1234;
	w.sent = B(5, 1, 0, 5, 1, 0, 1, 192, 0, 2, 7, 0x12, 0x34);
	w.sentlen = 13;
	expect("SOCKS5 IPv4 literal host sent as an address", &rq,
	    B(5, 0, S5_OK4), L(5, 0, S5_OK4), &w);

	/* A 255-byte name fits in one length byte. */
	memset(host, 'a', 255);
	host[255] = '\0';
	rq.host = host;
	rq.port = 22;
	memcpy(sent, B(5, 1, 0, 5, 1, 0, 3, 255), 8);
	memcpy(sent + 8, host, 255);
	sent[263] = 0;
	sent[264] = 22;
	w.sent = sent;
	w.sentlen = 265;
	expect("SOCKS5 255-byte name", &rq, B(5, 0, S5_OK4), L(5, 0, S5_OK4),
	    &w);
}

static void
test_socks5_replies(void)
{
	struct socks_request rq = { SOCKS_V5, "example.com", NULL, 0, 22,
	    NULL, NULL };
	struct want w = { STEP_DONE, 0, NULL, 0, NULL, 0 };
	static const char *const texts[] = {
		"", "general SOCKS server failure",
		"connection not allowed by ruleset", "network unreachable",
		"host unreachable", "connection refused by destination",
		"TTL expired", "command not supported",
		"address type not supported", "unknown reply code 9"
	};
	unsigned char rep[2 + 4 + 1 + 255 + 2 + 3];
	char what[128], msg[256];
	size_t n;
	unsigned code;

	/* Bound address of every type, exact length, tunnel bytes after. */
	w.consumed = 2 + 10;
	expect("SOCKS5 reply with IPv4 address, tunnel bytes left", &rq,
	    B(5, 0, S5_OK4, 'a', 'b', 'c'), L(5, 0, S5_OK4, 'a', 'b', 'c'),
	    &w);
	w.consumed = 2 + 22;
	expect("SOCKS5 reply with IPv6 address, tunnel bytes left", &rq,
	    B(5, 0, 5, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    1, 0, 80, 'S', 'S', 'H'), L(5, 0, 5, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0,
	    0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 80, 'S', 'S', 'H'), &w);
	w.consumed = 2 + 7 + 3;
	expect("SOCKS5 reply with a 3-byte name", &rq,
	    B(5, 0, 5, 0, 0, 3, 3, 'a', 'b', 'c', 0, 80, 5, 0),
	    L(5, 0, 5, 0, 0, 3, 3, 'a', 'b', 'c', 0, 80, 5, 0), &w);
	w.consumed = 2 + 7;
	expect("SOCKS5 reply with an empty name", &rq,
	    B(5, 0, 5, 0, 0, 3, 0, 0, 80, 0), L(5, 0, 5, 0, 0, 3, 0, 0, 80, 0),
	    &w);
	memset(rep, 'n', sizeof(rep));
	memcpy(rep, B(5, 0, 5, 0, 0, 3, 255), 7);
	w.consumed = 2 + 4 + 1 + 255 + 2;
	expect("SOCKS5 reply with a 255-byte name", &rq, rep, sizeof(rep), &w);
	w.consumed = 2 + 10;
	expect("SOCKS5 reply with a nonzero reserved byte", &rq,
	    B(5, 0, 5, 0, 7, 1, 0, 0, 0, 0, 0, 0), 12, &w);

	w.st = STEP_FAIL;
	w.code = FAIL_PROTO;
	w.msg = "unknown address type 5";
	expect("SOCKS5 reply with an unknown address type", &rq,
	    B(5, 0, 5, 0, 0, 5, 0, 0, 0, 0, 0, 0), 12, &w);

	for (code = 1; code <= 9; code++) {
		w.code = FAIL_REFUSED;
		(void)snprintf(msg, sizeof(msg), "SOCKS5 proxy refused CONNECT "
		    "example.com:22: %s", texts[code]);
		w.msg = msg;
		(void)snprintf(what, sizeof(what), "SOCKS5 reply code %u", code);
		expect(what, &rq, B(5, 0, 5, (unsigned char)code, 0, 1, 0, 0,
		    0, 0, 0, 0), 12, &w);
		(void)snprintf(what, sizeof(what), "SOCKS5 reply code %u then "
		    "close", code);
		expect(what, &rq, B(5, 0, 5, (unsigned char)code), 4, &w);
	}
	w.msg = "unknown reply code 255";
	expect("SOCKS5 reply code 255", &rq, B(5, 0, 5, 255), 4, &w);

	rq.host = "::1";
	w.msg = "SOCKS5 proxy refused CONNECT [::1]:22: host unreachable";
	expect("SOCKS5 refusal brackets an IPv6 target", &rq,
	    B(5, 0, 5, 4), 4, &w);
	rq.host = "example.com";

	/* Truncated at every point of method reply and CONNECT reply. */
	w.code = FAIL_PROTO;
	for (n = 0; n < 12; n++) {
		if (n == 0)
			w.msg = "closed the connection before its reply to "
			    "the greeting";
		else if (n == 1)
			w.msg = "in the middle of its reply to the greeting";
		else if (n == 2)
			w.msg = "closed the connection before its reply to "
			    "CONNECT example.com:22";
		else
			w.msg = "in the middle of its reply to CONNECT "
			    "example.com:22";
		(void)snprintf(what, sizeof(what), "SOCKS5 truncated after %zu "
		    "bytes", n);
		expect(what, &rq, B(5, 0, S5_OK4), n, &w);
	}
	memcpy(rep, B(5, 0, 5, 0, 0, 3, 10, 'a'), 8);
	w.msg = "in the middle of its reply to CONNECT";
	expect("SOCKS5 truncated inside the bound name", &rq, rep, 8, &w);

	/* Not SOCKS5 at all. */
	w.msg = "sent version 4 in its reply to the greeting, expected 5";
	expect("SOCKS5 method reply with version 4", &rq, B(4, 0), 2, &w);
	w.msg = "use an http:// proxy URL";
	expect("SOCKS5 answered by HTTP", &rq,
	    (const unsigned char *)"HTTP/1.1 400 Bad Request\r\n\r\n", 28, &w);
	w.msg = "sent version 0 in its reply to CONNECT example.com:22";
	expect("SOCKS5 CONNECT reply with version 0", &rq,
	    B(5, 0, 0, 0x5a, 0, 0, 0, 0, 0, 0), 10, &w);

	/* Methods. */
	w.code = FAIL_AUTH;
	w.msg = "supply a user name and password";
	expect("SOCKS5 no acceptable method without credentials", &rq,
	    B(5, 0xff), 2, &w);
	w.code = FAIL_PROTO;
	w.msg = "method 0x02, which was not offered";
	expect("SOCKS5 proxy choosing user/pass we did not offer", &rq,
	    B(5, 2, 1, 0), 4, &w);
	w.msg = "method 0x01, which was not offered";
	expect("SOCKS5 proxy choosing GSSAPI", &rq, B(5, 1), 2, &w);

	/* Bytes that look like another reply are tunnel data. */
	w.st = STEP_DONE;
	w.consumed = 12;
	w.msg = NULL;
	expect("SOCKS5 data glued to the reply is left alone", &rq,
	    B(5, 0, S5_OK4, 5, 0, S5_OK4), L(5, 0, S5_OK4, 5, 0, S5_OK4), &w);
}

static void
test_socks5_auth(void)
{
	struct socks_request rq = { SOCKS_V5, "example.com", NULL, 0, 22,
	    "bob", "s3cret-pw" };
	struct want w = { STEP_DONE, 0, NULL, 2 + 2 + 10,
	    B(5, 2, 0, 2,
	    1, 3, 'b', 'o', 'b', 9, 's', '3', 'c', 'r', 'e', 't', '-', 'p', 'w',
	    5, 1, 0, 3, 11, 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'c', 'o',
	    'm', 0, 22), 37 };
	char user[256], pass[256];
	unsigned char sent[600];

	expect("SOCKS5 username/password success, exact bytes", &rq,
	    B(5, 2, 1, 0, S5_OK4, 'z'), L(5, 2, 1, 0, S5_OK4, 'z'), &w);

	w.sent = B(5, 2, 0, 2, 5, 1, 0, 3, 11, 'e', 'x', 'a', 'm', 'p', 'l',
	    'e', '.', 'c', 'o', 'm', 0, 22);
	w.sentlen = 22;
	w.consumed = 12;
	expect("SOCKS5 proxy choosing no auth though we offered a password",
	    &rq, B(5, 0, S5_OK4), L(5, 0, S5_OK4), &w);

	w.sent = NULL;
	w.consumed = 14;
	expect("SOCKS5 auth reply version 5 accepted", &rq,
	    B(5, 2, 5, 0, S5_OK4), L(5, 2, 5, 0, S5_OK4), &w);

	w.st = STEP_FAIL;
	w.code = FAIL_AUTH;
	w.msg = "SOCKS5 proxy rejected the user name or password (status 1)";
	expect("SOCKS5 username/password rejected", &rq, B(5, 2, 1, 1), 4,
	    &w);
	w.msg = "status 255";
	expect("SOCKS5 username/password rejected, status 255", &rq,
	    B(5, 2, 1, 255), 4, &w);
	w.msg = "accepted no authentication method we offered";
	expect("SOCKS5 no acceptable method with credentials", &rq,
	    B(5, 0xff), 2, &w);
	w.code = FAIL_PROTO;
	w.msg = "in the middle of its authentication reply";
	expect("SOCKS5 auth reply truncated", &rq, B(5, 2, 1), 3, &w);
	w.msg = "before its authentication reply";
	expect("SOCKS5 closed before the auth reply", &rq, B(5, 2), 2, &w);
	w.msg = "sent version 2 in its authentication reply";
	expect("SOCKS5 auth reply with version 2", &rq, B(5, 2, 2, 0), 4, &w);
	w.code = FAIL_REFUSED;
	w.msg = "connection not allowed by ruleset";
	expect("SOCKS5 refusal after authentication", &rq,
	    B(5, 2, 1, 0, 5, 2), 6, &w);

	/* 255-byte user and password: the limits themselves. */
	memset(user, 'u', 255);
	user[255] = '\0';
	memset(pass, 'p', 255);
	pass[255] = '\0';
	rq.user = user;
	rq.pass = pass;
	memcpy(sent, B(5, 2, 0, 2, 1, 255), 6);
	memcpy(sent + 6, user, 255);
	sent[261] = 255;
	memcpy(sent + 262, pass, 255);
	memcpy(sent + 517, B(5, 1, 0, 3, 11, 'e', 'x', 'a', 'm', 'p', 'l',
	    'e', '.', 'c', 'o', 'm', 0, 22), 18);
	w.st = STEP_DONE;
	w.consumed = 14;
	w.msg = NULL;
	w.sent = sent;
	w.sentlen = 517 + 18;
	expect("SOCKS5 255-byte user and password", &rq,
	    B(5, 2, 1, 0, S5_OK4), L(5, 2, 1, 0, S5_OK4), &w);
	w.sent = NULL;

	/* Empty password: sent with length 0. */
	rq.user = "bob";
	rq.pass = NULL;
	w.sent = B(5, 2, 0, 2, 1, 3, 'b', 'o', 'b', 0, 5, 1, 0, 3, 11, 'e',
	    'x', 'a', 'm', 'p', 'l', 'e', '.', 'c', 'o', 'm', 0, 22);
	w.sentlen = 28;
	w.st = STEP_FAIL;
	w.code = FAIL_PROTO;
	w.msg = "before its reply to CONNECT";
	expect("SOCKS5 user without password sends an empty password", &rq,
	    B(5, 2, 1, 0), 4, &w);
}

/* socks_check: configuration errors, exit 2, nothing sent. */
static void
test_check(void)
{
	struct {
		const char			*what;
		struct socks_request		 rq;
		const char			*msg;	/* NULL: valid */
	} c[] = {
		{ "valid socks5h", { SOCKS_V5, "example.com", NULL, 0, 22,
		    NULL, NULL }, NULL },
		{ "empty host", { SOCKS_V5, "", NULL, 0, 22, NULL, NULL },
		    "empty target host" },
		{ "NULL host", { SOCKS_V5, NULL, NULL, 0, 22, NULL, NULL },
		    "empty target host" },
		{ "256-byte host", { SOCKS_V5, NULL, NULL, 0, 22, NULL, NULL },
		    "longer than 255 bytes" },
		{ "port 0", { SOCKS_V5, "example.com", NULL, 0, 0, NULL,
		    NULL }, "port 0" },
		{ "port 65536", { SOCKS_V5, "example.com", NULL, 0, 65536,
		    NULL, NULL }, "port 65536" },
		{ "address length 5", { SOCKS_V5, "example.com", ip6, 5, 22,
		    NULL, NULL }, "address length 5" },
		{ "address length without address", { SOCKS_V5, "x", NULL, 4,
		    22, NULL, NULL }, "address length 4" },
		{ "256-byte user", { SOCKS_V5, "example.com", NULL, 0, 22,
		    NULL, "pw" }, "user name is longer than 255 bytes" },
		{ "256-byte password", { SOCKS_V5, "example.com", NULL, 0, 22,
		    "bob", NULL }, "password is longer than 255 bytes" },
		{ "password without user", { SOCKS_V5, "example.com", NULL, 0,
		    22, "", "pw" }, "needs a user name" },
		{ "socks4 without an address", { SOCKS_V4, "example.com",
		    NULL, 0, 22, NULL, NULL }, "use socks4a:// or socks5h://" },
		{ "socks4 with IPv6", { SOCKS_V4, "example.com", ip6, 16, 22,
		    NULL, NULL }, "IPv6" },
		{ "socks4a with an IPv6 literal", { SOCKS_V4A, "::1", NULL, 0,
		    22, NULL, NULL }, "cannot reach the IPv6 address of ::1" },
		{ "socks4 256-byte user id", { SOCKS_V4, "example.com", ip4, 4,
		    22, NULL, NULL }, "user name is longer" },
		{ "socks4 ignores a long password", { SOCKS_V4, "example.com",
		    ip4, 4, 22, "bob", NULL }, NULL },
		{ "socks5 255-byte host", { SOCKS_V5, NULL, NULL, 0, 22, NULL,
		    NULL }, NULL },
	};
	char long256[257], long255[256], desc[256];
	struct failure f;
	struct outbuf out;
	struct socks s;
	size_t i;
	enum step st;
	bool ok;

	memset(long256, 'x', 256);
	long256[256] = '\0';
	memset(long255, 'x', 255);
	long255[255] = '\0';
	c[3].rq.host = long256;
	c[8].rq.user = long256;
	c[9].rq.pass = long256;
	c[14].rq.user = long256;
	c[15].rq.pass = long256;
	c[16].rq.host = long255;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		memset(&f, 0, sizeof(f));
		ok = socks_check(&c[i].rq, &f) == (c[i].msg ? -1 : 0);
		if (c[i].msg != NULL)
			ok = ok && f.kind == FAIL_USAGE &&
			    strstr(f.msg, c[i].msg) != NULL;
		(void)snprintf(desc, sizeof(desc), "check: %s", c[i].what);
		result(ok, desc, f.msg);

		/* socks_start refuses the same and sends nothing. */
		memset(&f, 0, sizeof(f));
		out.len = 0;
		st = socks_start(&s, &c[i].rq, &out, &f);
		ok = c[i].msg != NULL ? st == STEP_FAIL && out.len == 0 &&
		    f.kind == FAIL_USAGE : st == STEP_SEND && out.len > 0;
		socks_finish(&s);
		(void)snprintf(desc, sizeof(desc), "start: %s", c[i].what);
		result(ok, desc, f.msg);
	}
}

static void
test_misc(void)
{
	struct socks_request rq = { SOCKS_V5, "example.com", NULL, 0, 22,
	    NULL, NULL };
	static struct outbuf out;
	struct failure f;
	struct socks s;
	size_t used = 99;
	enum step st;

	/* EOF offered together with a complete reply still succeeds. */
	st = socks_start(&s, &rq, &out, &f);
	st = socks_input(&s, B(5, 0), 2, true, &used, &out, &f);
	result(st == STEP_SEND && used == 2, "complete reply with EOF "
	    "flag is still used", NULL);
	st = socks_input(&s, B(S5_OK4), 10, true, &used, &out, &f);
	result(st == STEP_DONE && used == 10, "final reply with EOF flag",
	    NULL);
	st = socks_input(&s, B(1, 2, 3), 3, false, &used, &out, &f);
	result(st == STEP_DONE && used == 0, "input after DONE consumes "
	    "nothing", NULL);
	socks_finish(&s);
	socks_finish(&s);
	result(true, "socks_finish twice is safe", NULL);

	result(strcmp(socks_version_name(SOCKS_V4A), "SOCKS4a") == 0,
	    "version names", NULL);
}

int
main(void)
{
	test_socks4();
	test_socks4a();
	test_socks5_requests();
	test_socks5_replies();
	test_socks5_auth();
	test_check();
	test_misc();
	printf("1..%d\n", t);
	return failed;
}
