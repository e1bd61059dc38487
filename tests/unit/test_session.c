/*
 * test_session.c: the protocol between culvert and culvert serve
 * (proto/session.h), table-driven: sess_mac() against vectors computed
 * with Python's hmac module, sess_check() (good, missing, malformed,
 * wrong MAC, stale both ways, replayed, cache full), frames (encode,
 * parse, partial, oversized, bad type), sess_query() and sess_is_hex().
 * TAP.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/session.h"

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

#define TOKEN	"culvert-test-token-0123456789"
#define NOW	1700000000LL

/*
 * python3 -c 'import hmac, hashlib; print(hmac.new(TOKEN,
 *     b"culvert-v1 METHOD PATH NONCE TIME", hashlib.sha256).hexdigest())'
 */
static void
test_mac(void)
{
	static const struct {
		const char	*token;
		const char	*method, *path, *nonce;
		long long	 when;
		const char	*mac;
	} c[] = {
		{ TOKEN, "POST", "/culvert/open?t=example.org:22&n=1",
		    "00112233445566778899aabbccddeeff", NOW,
		    "be2d128bf9a6a4cc4d7ae96b8c1b4a8c"
		    "c5c3c25d494d931eff3af34cc61144b3" },
		{ "k", "GET", "/p/culvert/down?"
		    "s=0123456789abcdef0123456789abcdef&a=42&n=7",
		    "ffeeddccbbaa99887766554433221100", 0,
		    "ce6ef85bfdddd3d504c0edf5c3d921d5"
		    "6b5dcf672d996453c8608437018b966e" },
		/* a token longer than SHA-256's block is hashed first */
		{ "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "POST",
		    "/culvert/stream?"
		    "s=0123456789abcdef0123456789abcdef&a=0&n=2",
		    "0123456789abcdef0123456789abcdef", 1099511627775LL,
		    "da9af9b10b835a3c9f1ece004ad1248d"
		    "b94d1f0f81034ec668acaa88853d4b05" },
	};
	char mac[SESS_MAC_LEN + 1], want[200], got[200], what[160];
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		memset(mac, 'z', sizeof(mac));
		sess_mac((const unsigned char *)c[i].token, strlen(c[i].token),
		    c[i].method, c[i].path, c[i].nonce, c[i].when, mac);
		(void)snprintf(what, sizeof(what), "sess_mac vector %zu "
		    "(%s %.40s)", i + 1, c[i].method, c[i].path);
		result(strcmp(mac, c[i].mac) == 0, what, mac);
		sess_auth_value((const unsigned char *)c[i].token,
		    strlen(c[i].token), c[i].method, c[i].path, c[i].nonce,
		    c[i].when, got, sizeof(got));
		(void)snprintf(want, sizeof(want), "v1 %s %lld %s", c[i].nonce,
		    c[i].when, c[i].mac);
		(void)snprintf(what, sizeof(what), "sess_auth_value vector %zu",
		    i + 1);
		result(strcmp(got, want) == 0, what, got);
	}
}

#define NONCE1	"0123456789abcdef0123456789abcdef"
#define ZMAC	"00000000000000000000000000000000" \
		"00000000000000000000000000000000"
#define PATH1	"/culvert/open?t=10.0.0.1:22&n=1"

/* The X-Culvert-Auth value for PATH1 under TOKEN, nonce, at when. */
static void
auth(const char *nonce, long long when, char *out, size_t len)
{
	sess_auth_value((const unsigned char *)TOKEN, strlen(TOKEN), "POST",
	    PATH1, nonce, when, out, len);
}

static enum sess_verdict
check(struct nonce_cache *nc, const char *method, const char *path,
    const char *value, long long now)
{
	return sess_check(nc, (const unsigned char *)TOKEN, strlen(TOKEN),
	    method, path, value, value != NULL ? strlen(value) : 0, now);
}

static void
test_check(void)
{
	struct nonce_cache nc;
	char good[200], v[400], what[200], detail[64];
	enum sess_verdict got;
	size_t i;
	struct {
		const char		*what;
		const char		*method, *path;
		const char		*value;
		long long		 now;
		enum sess_verdict	 want;
	} c[] = {
		{ "no X-Culvert-Auth", "POST", PATH1, NULL, NOW, SESS_MISSING },
		{ "empty", "POST", PATH1, "", NOW, SESS_MALFORMED },
		{ "v2", "POST", PATH1, "v2 " NONCE1 " 1700000000 " ZMAC,
		    NOW, SESS_MALFORMED },
		{ "short nonce", "POST", PATH1, "v1 0123 1700000000 " ZMAC,
		    NOW, SESS_MALFORMED },
		{ "upper-case nonce", "POST", PATH1,
		    "v1 0123456789ABCDEF0123456789abcdef 1700000000 " ZMAC,
		    NOW, SESS_MALFORMED },
		{ "short MAC", "POST", PATH1, "v1 " NONCE1 " 1700000000 00",
		    NOW, SESS_MALFORMED },
		{ "time not a number", "POST", PATH1,
		    "v1 " NONCE1 " 17e8 " ZMAC, NOW, SESS_MALFORMED },
		{ "negative time", "POST", PATH1, "v1 " NONCE1 " -5 " ZMAC,
		    NOW, SESS_MALFORMED },
		{ "two spaces", "POST", PATH1,
		    "v1  " NONCE1 " 1700000000 " ZMAC, NOW, SESS_MALFORMED },
		{ "no MAC", "POST", PATH1, "v1 " NONCE1 " 1700000000",
		    NOW, SESS_MALFORMED },
		{ "a zero MAC", "POST", PATH1, "v1 " NONCE1 " 1700000000 " ZMAC,
		    NOW, SESS_BAD_MAC },
		/* the good value (below) for other requests */
		{ "another path", "POST", "/culvert/open?t=10.0.0.1:23&n=1",
		    good, NOW, SESS_BAD_MAC },
		{ "another method", "GET", PATH1, good, NOW, SESS_BAD_MAC },
		{ "a clock 301 s ahead", "POST", PATH1, good, NOW - 301,
		    SESS_STALE },
		{ "a clock 301 s behind", "POST", PATH1, good, NOW + 301,
		    SESS_STALE },
		{ "good", "POST", PATH1, good, NOW, SESS_OK },
		{ "the same again", "POST", PATH1, good, NOW, SESS_REPLAY },
		{ "the same 10 minutes later", "POST", PATH1, good, NOW + 600,
		    SESS_STALE },
	};

	auth(NONCE1, NOW, good, sizeof(good));
	if (nonce_cache_init(&nc, 64) == -1) {
		result(false, "nonce_cache_init", "out of memory");
		return;
	}
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		got = check(&nc, c[i].method, c[i].path, c[i].value, c[i].now);
		(void)snprintf(what, sizeof(what), "sess_check: %s: %s",
		    c[i].what, sess_verdict_text(c[i].want));
		(void)snprintf(detail, sizeof(detail), "got %s",
		    sess_verdict_text(got));
		result(got == c[i].want, what, detail);
	}
	/* exactly at the edges of the window */
	auth("00000000000000000000000000000001", NOW - 300, v, sizeof(v));
	result(check(&nc, "POST", PATH1, v, NOW) == SESS_OK,
	    "sess_check: 300 s behind is accepted", NULL);
	auth("00000000000000000000000000000002", NOW + 300, v, sizeof(v));
	result(check(&nc, "POST", PATH1, v, NOW) == SESS_OK,
	    "sess_check: 300 s ahead is accepted", NULL);
	/* a value longer than any good one */
	memset(v, 'a', sizeof(v) - 1);
	v[sizeof(v) - 1] = '\0';
	result(check(&nc, "POST", PATH1, v, NOW) == SESS_MALFORMED,
	    "sess_check: 399 bytes are malformed", NULL);
	/* the value is not NUL-terminated: only valuelen counts */
	(void)snprintf(v, sizeof(v), "%sTRAILING", good);
	result(sess_check(&nc, (const unsigned char *)TOKEN, strlen(TOKEN),
	    "POST", PATH1, v, strlen(good), NOW) == SESS_REPLAY,
	    "sess_check reads valuelen bytes only", NULL);
	nonce_cache_free(&nc);
}

/* Fill a small cache: new nonces are refused until old ones expire. */
static void
test_cache_full(void)
{
	struct nonce_cache nc;
	char nonce[SESS_NONCE_LEN + 1], v[200], what[120];
	enum sess_verdict got = SESS_OK;
	size_t i, ok = 0;

	if (nonce_cache_init(&nc, 8) == -1) {
		result(false, "nonce_cache_init", "out of memory");
		return;
	}
	for (i = 0; i < 64 && got == SESS_OK; i++) {
		(void)snprintf(nonce, sizeof(nonce), "%032zx", i + 1);
		auth(nonce, NOW, v, sizeof(v));
		if ((got = check(&nc, "POST", PATH1, v, NOW)) == SESS_OK)
			ok++;
	}
	(void)snprintf(what, sizeof(what), "a cache for 8 takes at least 8 "
	    "nonces (%zu), then says busy", ok);
	result(ok >= 8 && ok < 64 && got == SESS_BUSY, what,
	    sess_verdict_text(got));
	/* a replay is still recognised when full */
	(void)snprintf(nonce, sizeof(nonce), "%032x", 1);
	auth(nonce, NOW, v, sizeof(v));
	got = check(&nc, "POST", PATH1, v, NOW);
	result(got == SESS_REPLAY, "a full cache still recognises a replay",
	    sess_verdict_text(got));
	/* once the window has passed, the old entries make room */
	(void)snprintf(nonce, sizeof(nonce), "%032x", 999);
	auth(nonce, NOW + 601, v, sizeof(v));
	got = check(&nc, "POST", PATH1, v, NOW + 601);
	result(got == SESS_OK, "expired nonces make room again",
	    sess_verdict_text(got));
	nonce_cache_free(&nc);
}

static void
test_verdict_text(void)
{
	enum sess_verdict v;
	bool ok = true;

	for (v = SESS_OK; v <= SESS_BUSY; v++)
		ok = ok && strcmp(sess_verdict_text(v), "?") != 0;
	result(ok, "every verdict has a text", NULL);
}

static void
test_frames(void)
{
	static const struct {
		enum sess_frame_type	 type;
		uint32_t		 len;
		uint64_t		 off;
		const char		*hdr;	/* 13 bytes, as hex */
	} c[] = {
		{ FRAME_DATA, 3, 0, "44000000030000000000000000" },
		{ FRAME_ACK, 0, 0x0102030405060708ULL,
		    "41000000000102030405060708" },
		{ FRAME_EOF, 0, 12345, "45000000000000000000003039" },
		{ FRAME_PING, 0, 0, "50000000000000000000000000" },
		{ FRAME_CLOSE, 4, UINT64_MAX, "4300000004ffffffffffffffff" },
		{ FRAME_DATA, SESS_FRAME_MAX, 1, "44000400000000000000000001" },
	};
	unsigned char buf[SESS_FRAME_HDR + 8], *big;
	char hex[2 * SESS_FRAME_HDR + 1], what[120];
	struct sess_frame f;
	size_t i, k, used, n;
	int r;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		n = sess_frame_header(buf, c[i].type, c[i].len, c[i].off);
		for (k = 0; k < SESS_FRAME_HDR; k++)
			(void)snprintf(hex + 2 * k, 3, "%02x", buf[k]);
		(void)snprintf(what, sizeof(what), "frame header %c len %u",
		    (char)c[i].type, (unsigned)c[i].len);
		result(n == SESS_FRAME_HDR && strcmp(hex, c[i].hdr) == 0, what,
		    hex);
	}
	/* a DATA frame with "abc", parsed whole and from every prefix */
	n = sess_frame_header(buf, FRAME_DATA, 3, 77);
	memcpy(buf + n, "abcXY", 5);	/* XY: the next frame's bytes */
	used = 0;
	r = sess_frame_parse(buf, n + 5, &f, &used);
	result(r == 1 && f.type == FRAME_DATA && f.len == 3 && f.off == 77 &&
	    used == n + 3 && memcmp(f.payload, "abc", 3) == 0,
	    "a whole frame parses, what follows stays", NULL);
	for (k = 0, r = 0; k < n + 3 && r == 0; k++)
		r = sess_frame_parse(buf, k, &f, &used);
	result(r == 0, "every partial frame wants more bytes", NULL);
	/* the largest payload parses; one more byte is refused */
	if ((big = calloc(1, SESS_FRAME_HDR + SESS_FRAME_MAX)) != NULL) {
		n = sess_frame_header(big, FRAME_DATA, SESS_FRAME_MAX, 0);
		r = sess_frame_parse(big, n + SESS_FRAME_MAX, &f, &used);
		result(r == 1 && used == SESS_FRAME_HDR + SESS_FRAME_MAX,
		    "a frame of SESS_FRAME_MAX bytes parses", NULL);
		free(big);
	}
	n = sess_frame_header(buf, FRAME_DATA, SESS_FRAME_MAX + 1, 0);
	result(sess_frame_parse(buf, n, &f, &used) == -1,
	    "a longer frame is refused from its header alone", NULL);
	n = sess_frame_header(buf, FRAME_DATA, UINT32_MAX, 0);
	result(sess_frame_parse(buf, n, &f, &used) == -1,
	    "a 4 GiB frame is refused", NULL);
	/* types */
	for (k = 0; k < 256; k++) {
		bool known = strchr("DAEPC", (int)k) != NULL && k != 0;

		memset(buf, 0, sizeof(buf));
		buf[0] = (unsigned char)k;
		r = sess_frame_parse(buf, 1, &f, &used);
		if ((known && r != 0) || (!known && r != -1))
			break;
	}
	result(k == 256, "only D, A, E, P, C are frames, known from their "
	    "first byte", NULL);
	result(sess_frame_parse(buf, 0, &f, &used) == 0,
	    "no bytes: more wanted", NULL);
}

static void
test_query(void)
{
	static const struct {
		const char	*query, *name;
		size_t		 outlen;
		int		 rc;
		const char	*want;
	} c[] = {
		{ "s=abc&o=12", "s", 64, 0, "abc" },
		{ "s=abc&o=12", "o", 64, 0, "12" },
		{ "s=abc&o=12", "a", 64, -1, NULL },
		{ "xs=1&s=2", "s", 64, 0, "2" },
		{ "ss=1", "s", 64, -1, NULL },
		{ "s", "s", 64, -1, NULL },
		{ "s=", "s", 64, 0, "" },
		{ "t=%5B%3A%3A1%5D%3A22", "t", 64, 0, "[::1]:22" },
		{ "t=a%2fb", "t", 64, 0, "a/b" },
		{ "t=100%", "t", 64, 0, "100%" },
		{ "t=%zz", "t", 64, 0, "%zz" },
		{ "t=a%00b", "t", 64, -1, NULL },
		{ "t=a+b", "t", 64, 0, "a+b" },
		{ "s=1#s=2", "s", 64, 0, "1" },
		{ "a=1#s=2", "s", 64, -1, NULL },
		{ "&&s=3&", "s", 64, 0, "3" },
		{ "s=1&s=2", "s", 64, 0, "1" },
		{ "", "s", 64, -1, NULL },
		/* outlen counts the NUL */
		{ "s=abcd", "s", 5, 0, "abcd" },
		{ "s=abcde", "s", 5, -1, NULL },
		{ "s=%41%42%43%44", "s", 5, 0, "ABCD" },
		{ "s=%41%42%43%44%45", "s", 5, -1, NULL },
	};
	char out[64], what[160];
	size_t i;
	int rc;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		memset(out, 'z', sizeof(out));
		out[sizeof(out) - 1] = '\0';
		rc = sess_query(c[i].query, c[i].name, out, c[i].outlen);
		(void)snprintf(what, sizeof(what), "sess_query(\"%s\", \"%s\", "
		    "%zu) %s%s", c[i].query, c[i].name, c[i].outlen,
		    c[i].rc == 0 ? "is " : "fails", c[i].rc == 0 ? c[i].want :
		    "");
		result(rc == c[i].rc && (rc != 0 || strcmp(out, c[i].want) ==
		    0), what, out);
	}
}

static void
test_is_hex(void)
{
	static const struct {
		const char	*s;
		size_t		 len;
		bool		 is;
	} c[] = {
		{ "0123456789abcdef", 16, true },
		{ "0123456789abcdeF", 16, false },
		{ "0123456789abcdeg", 16, false },
		{ "0123456789abcde", 16, false },
		{ "0123456789abcdef0", 16, false },
		{ "", 0, true },
	};
	char what[80];
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		(void)snprintf(what, sizeof(what), "sess_is_hex(\"%s\", %zu) "
		    "is %s", c[i].s, c[i].len, c[i].is ? "true" : "false");
		result(sess_is_hex(c[i].s, c[i].len) == c[i].is, what, NULL);
	}
}

int
main(void)
{
	test_mac();
	test_check();
	test_cache_full();
	test_verdict_text();
	test_frames();
	test_query();
	test_is_hex();
	printf("1..%d\n", t);
	return failed;
}
