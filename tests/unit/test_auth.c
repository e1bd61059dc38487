/*
 * test_auth.c: Proxy-Authenticate parsing, scheme choice, Digest (RFC 7616,
 * RFC 2617 examples) and NTLMv2 ([MS-NLMP] 4.2.4 example).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/challenge.h"
#include "auth/digest.h"
#include "auth/ntlm.h"
#include "crypto/base64.h"
#include "crypto/hash.h"

static int	ntest, nfail;
static char	tap[1 << 17];	/* results, printed after the plan */
static size_t	taplen;

static void
tap_add(const char *s1, const char *s2, const char *s3)
{
	int	n;

	n = snprintf(tap + taplen, sizeof(tap) - taplen, "%s%s%s\n", s1, s2,
	    s3);
	if (n > 0 && (size_t)n < sizeof(tap) - taplen)
		taplen += (size_t)n;
}

static void
ok(int cond, const char *desc)
{
	char	num[32];

	ntest++;
	if (!cond)
		nfail++;
	snprintf(num, sizeof(num), "%sok %d - ", cond ? "" : "not ", ntest);
	tap_add(num, desc, "");
}

static int
streq(const char *got, const char *want)
{
	if (got != NULL && want != NULL && strcmp(got, want) == 0)
		return 1;
	tap_add("# got  ", got != NULL ? got : "(null)", "");
	tap_add("# want ", want != NULL ? want : "(null)", "");
	return 0;
}

static size_t
unhex(const char *s, uint8_t *out, size_t outsize)
{
	size_t		n = 0;
	unsigned int	v;

	while (s[0] != '\0' && s[1] != '\0' && n < outsize) {
		if (s[0] == ' ') {
			s++;
			continue;
		}
		if (sscanf(s, "%2x", &v) != 1)
			break;
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

static int
bytes_eq(const uint8_t *got, size_t gotlen, const char *wanthex)
{
	uint8_t	want[512];
	char	buf[1100];
	size_t	n = unhex(wanthex, want, sizeof(want));

	if (n == gotlen && memcmp(got, want, n) == 0)
		return 1;
	hash_hex(got, gotlen < 512 ? gotlen : 512, buf);
	tap_add("# got  ", buf, "");
	tap_add("# want ", wanthex, "");
	return 0;
}

static struct auth_challenges	set;	/* big: keep it off the stack */

static int
parse(const char *hdr)
{
	auth_challenges_init(&set);
	return auth_challenge_parse(&set, hdr, strlen(hdr), NULL);
}

static const char *
param(size_t i, const char *name)
{
	return i < set.n ? auth_challenge_param(&set.c[i], name) : NULL;
}

static void
test_parse(void)
{
	static char	 big[AUTH_TOKEN68_LEN + 64];
	char		*p;
	const char	*err = NULL;
	size_t		 i, len;
	int		 rc;

	ok(parse("Basic realm=\"proxy\"") == 0 && set.n == 1 &&
	    set.c[0].scheme == AUTH_SCHEME_BASIC &&
	    streq(param(0, "realm"), "proxy"), "parse one Basic challenge");
	ok(parse("Digest realm=\"a, b\", nonce=\"x\", Basic realm=\"y\"") == 0 &&
	    set.n == 2 && set.c[0].scheme == AUTH_SCHEME_DIGEST &&
	    streq(param(0, "realm"), "a, b") && streq(param(0, "nonce"), "x") &&
	    set.c[1].scheme == AUTH_SCHEME_BASIC && streq(param(1, "realm"), "y"),
	    "parse two challenges in one value, comma inside quotes");
	ok(parse("  digest   Realm = \"r\" ,NONCE=abc ,  ,qop=\"auth,auth-int\""
	    "   ,\tbASIC realm=x  ") == 0 && set.n == 2 &&
	    set.c[0].scheme == AUTH_SCHEME_DIGEST &&
	    streq(set.c[0].scheme_name, "digest") &&
	    streq(param(0, "realm"), "r") && streq(param(0, "nonce"), "abc") &&
	    streq(param(0, "QOP"), "auth,auth-int") &&
	    set.c[1].scheme == AUTH_SCHEME_BASIC && streq(param(1, "realm"), "x"),
	    "parse odd spacing, empty list elements, case-insensitive names");
	ok(parse("Basic realm=\"a \\\"quoted\\\" \\\\ r\\ealm\"") == 0 &&
	    set.n == 1 && streq(param(0, "realm"), "a \"quoted\" \\ realm"),
	    "parse backslash escapes in a quoted string");
	ok(parse("Basic realm=\"\"") == 0 && set.n == 1 &&
	    streq(param(0, "realm"), ""), "parse an empty quoted string");
	ok(parse("NTLM TlRMTVNTUAACAAAA==") == 0 && set.n == 1 &&
	    set.c[0].scheme == AUTH_SCHEME_NTLM &&
	    streq(set.c[0].token68, "TlRMTVNTUAACAAAA==") &&
	    set.c[0].nparams == 0, "parse an NTLM token68");
	ok(parse("Negotiate, NTLM,Basic realm=\"r\"") == 0 && set.n == 3 &&
	    set.c[0].scheme == AUTH_SCHEME_NEGOTIATE &&
	    set.c[1].scheme == AUTH_SCHEME_NTLM && set.c[1].token68[0] == '\0' &&
	    set.c[2].scheme == AUTH_SCHEME_BASIC,
	    "parse bare schemes in a list");
	ok(parse("Negotiate a+b/c=, NTLM") == 0 && set.n == 2 &&
	    streq(set.c[0].token68, "a+b/c="), "parse token68 followed by a challenge");
	ok(parse("Bearer realm=\"x\", Foo bar=baz, Basic realm=\"b\"") == 0 &&
	    set.n == 3 && set.c[0].scheme == AUTH_SCHEME_UNKNOWN &&
	    streq(set.c[0].scheme_name, "Bearer") &&
	    set.c[1].scheme == AUTH_SCHEME_UNKNOWN &&
	    streq(param(1, "bar"), "baz") && set.c[2].scheme == AUTH_SCHEME_BASIC,
	    "unknown schemes are kept and marked unknown");
	ok(parse("Digest nonce=abc+/def==, realm=x") == 0 && set.n == 1 &&
	    streq(param(0, "nonce"), "abc+/def=="),
	    "unquoted base64 nonce is accepted");

	/* Several headers accumulate. */
	auth_challenges_init(&set);
	rc = auth_challenge_parse(&set, "NTLM", 4, NULL);
	rc |= auth_challenge_parse(&set, "Basic realm=\"r\"", 15, NULL);
	ok(rc == 0 && set.n == 2 && set.c[0].scheme == AUTH_SCHEME_NTLM &&
	    set.c[1].scheme == AUTH_SCHEME_BASIC,
	    "challenges from several headers accumulate");
	/* Length-bounded: bytes after len are ignored. */
	auth_challenges_init(&set);
	ok(auth_challenge_parse(&set, "Basic realm=xyz", 14, NULL) == 0 &&
	    set.n == 1 && streq(param(0, "realm"), "xy"),
	    "parser honours the length, not a NUL");

	ok(parse("") == 0 && set.n == 0, "empty value: no challenges");
	ok(parse(" , ,") == 0 && set.n == 0, "only commas: no challenges");

	auth_challenges_init(&set);
	ok(auth_challenge_parse(&set, "Digest realm=\"abc", 17, &err) == -1 &&
	    set.n == 0 && err != NULL && strstr(err, "unterminated") != NULL,
	    "truncated quoted string is rejected");
	ok(parse("Basic realm=\"x\", Digest realm=\"abc") == -1 && set.n == 1 &&
	    set.c[0].scheme == AUTH_SCHEME_BASIC,
	    "truncated second challenge keeps the first");
	ok(parse("Digest realm=\"x\\") == -1 && set.n == 0,
	    "truncated after a backslash is rejected");
	ok(parse("Basic realm=") == 0 && set.n == 1 &&
	    streq(set.c[0].token68, "realm=") && set.c[0].nparams == 0,
	    "\"Basic realm=\" is a token68 as the grammar says");
	ok(parse("Digest realm=\"x\", nonce=") == -1 && set.n == 0,
	    "missing value is rejected");
	ok(parse("Digest realm=\"x\", nonce = , a=b") == -1 && set.n == 0,
	    "empty unquoted value is rejected");
	ok(parse("Digest a=b c") == -1 && set.n == 0,
	    "parameter without '=' is rejected");
	ok(parse("Digest realm=\"x\" junk") == -1 && set.n == 0,
	    "garbage after a value is rejected");
	ok(parse("=foo") == -1 && set.n == 0, "value without scheme is rejected");
	ok(parse("Basic\"realm\"") == -1 && set.n == 0,
	    "scheme glued to a quote is rejected");
	ok(parse("Basic realm=\"a\r\nX-Evil: 1\"") == -1 && set.n == 0,
	    "control characters in a quoted string are rejected");
	auth_challenges_init(&set);
	ok(auth_challenge_parse(&set, "Basic realm=\"a\0b\"", 17, NULL) == -1 &&
	    set.n == 0, "NUL in a quoted string is rejected");
	ok(parse("Digest realm=\"x\", realm=\"y\", Basic realm=z") == -1 &&
	    set.n == 1 && set.c[0].scheme == AUTH_SCHEME_BASIC,
	    "challenge with a duplicate parameter is dropped");

	/* Over-long value: dropped cleanly, parsing goes on. */
	p = big;
	p += snprintf(p, 32, "Digest realm=\"");
	memset(p, 'r', 300);
	p += 300;
	snprintf(p, 64, "\", nonce=\"n\", Basic realm=\"ok\"");
	err = NULL;
	auth_challenges_init(&set);
	ok(auth_challenge_parse(&set, big, strlen(big), &err) == -1 &&
	    set.n == 1 && set.c[0].scheme == AUTH_SCHEME_BASIC &&
	    streq(param(0, "realm"), "ok") && err != NULL &&
	    strstr(err, "too long") != NULL,
	    "over-long value drops its challenge only");
	p = big;
	p += snprintf(p, 32, "NTLM ");
	memset(p, 'A', AUTH_TOKEN68_LEN + 10);
	p[AUTH_TOKEN68_LEN + 10] = '\0';
	ok(parse(big) == -1 && set.n == 0, "over-long token68 is rejected");
	p = big;
	p += snprintf(p, 32, "X");
	memset(p, 'x', 40);
	snprintf(p + 40, 32, " a=b, Basic realm=r");
	ok(parse(big) == -1 && set.n == 1 && set.c[0].scheme == AUTH_SCHEME_BASIC,
	    "over-long scheme name is dropped");

	p = big;
	p += snprintf(p, 16, "Digest ");
	for (i = 0; i < AUTH_PARAMS_MAX + 1; i++)
		p += snprintf(p, 16, "%sp%zu=v", i ? ", " : "", i);
	snprintf(p, 32, ", Basic realm=r");
	ok(parse(big) == -1 && set.n == 1 && set.c[0].scheme == AUTH_SCHEME_BASIC,
	    "challenge with too many parameters is dropped");
	p = big;
	for (i = 0; i < AUTH_CHALLENGES_MAX + 1; i++)
		p += snprintf(p, 32, "%sBasic realm=r%zu", i ? ", " : "", i);
	ok(parse(big) == -1 && set.n == AUTH_CHALLENGES_MAX &&
	    streq(param(AUTH_CHALLENGES_MAX - 1, "realm"), "r15"),
	    "more than AUTH_CHALLENGES_MAX challenges are cut off");

	/* Every prefix of a busy header parses without crashing. */
	snprintf(big, sizeof(big), "Digest realm=\"a, \\\"b\", nonce=\"x\", "
	    "qop=\"auth\", algorithm=SHA-256, NTLM TlRM==, Negotiate, "
	    "Basic realm=y");
	len = strlen(big);
	rc = 1;
	for (i = 0; i <= len; i++) {
		auth_challenges_init(&set);
		(void)auth_challenge_parse(&set, big, i, NULL);
		if (set.n > 4)
			rc = 0;
	}
	ok(rc, "every prefix of a header parses safely");
	srand(4);
	for (i = 0; i < 2000; i++) {
		size_t	j, n = (size_t)rand() % 64;

		for (j = 0; j < n; j++)
			big[j] = "ab =,\"\\\t\r=,xyzNTLM "[rand() % 20];
		auth_challenges_init(&set);
		(void)auth_challenge_parse(&set, big, n, NULL);
	}
	ok(1, "random garbage parses safely");
}

static enum auth_choice_status
choose(const char *hdr, unsigned int allowed, struct auth_choice *c)
{
	parse(hdr);
	return auth_choose(&set, allowed, c);
}

static void
test_choose(void)
{
	static const char	*all = "Basic realm=\"b\", "
	    "Digest realm=\"d\", nonce=\"n1\", "
	    "Digest realm=\"d\", nonce=\"n2\", algorithm=SHA-256, NTLM";
	struct auth_choice	 c;

	ok(choose(all, AUTH_ALLOW_ANY, &c) == AUTH_CHOICE_OK &&
	    c.scheme == AUTH_SCHEME_NTLM && c.challenge == &set.c[3],
	    "choose NTLM first");
	ok(choose(all, AUTH_ALLOW_BASIC | AUTH_ALLOW_DIGEST, &c) ==
	    AUTH_CHOICE_OK && c.scheme == AUTH_SCHEME_DIGEST &&
	    c.alg == DIGEST_ALG_SHA256 &&
	    streq(auth_challenge_param(c.challenge, "nonce"), "n2"),
	    "then Digest SHA-256 over Digest MD5");
	ok(choose("Digest realm=r, nonce=a, algorithm=MD5-sess, "
	    "Digest realm=r, nonce=b, algorithm=sha-256-SESS",
	    AUTH_ALLOW_DIGEST, &c) == AUTH_CHOICE_OK &&
	    c.alg == DIGEST_ALG_SHA256_SESS, "SHA-256-sess beats MD5-sess");
	ok(choose("Basic realm=r, Digest realm=r, nonce=a", AUTH_ALLOW_ANY, &c)
	    == AUTH_CHOICE_OK && c.scheme == AUTH_SCHEME_DIGEST &&
	    c.alg == DIGEST_ALG_MD5, "Digest without algorithm is MD5, beats Basic");
	ok(choose(all, AUTH_ALLOW_BASIC, &c) == AUTH_CHOICE_OK &&
	    c.scheme == AUTH_SCHEME_BASIC, "Basic when only Basic is allowed");
	ok(choose("Basic realm=r", AUTH_ALLOW_NTLM, &c) ==
	    AUTH_CHOICE_NOT_ALLOWED && c.challenge == NULL,
	    "offered scheme outside the mask: not allowed");
	ok(choose("Negotiate", AUTH_ALLOW_ANY, &c) == AUTH_CHOICE_NEGOTIATE_ONLY,
	    "only Negotiate is reported");
	ok(choose("Negotiate, Bearer", AUTH_ALLOW_ANY, &c) ==
	    AUTH_CHOICE_NEGOTIATE_ONLY, "Negotiate and unknown is Negotiate only");
	ok(choose("Bearer realm=x, Mutual", AUTH_ALLOW_ANY, &c) ==
	    AUTH_CHOICE_UNSUPPORTED, "only unknown schemes is reported");
	ok(choose("Digest realm=r, nonce=n, algorithm=SHA-512-256",
	    AUTH_ALLOW_ANY, &c) == AUTH_CHOICE_UNSUPPORTED,
	    "Digest with an unknown algorithm is unsupported");
	ok(choose("Digest realm=r, nonce=n, qop=\"auth-int\"", AUTH_ALLOW_ANY,
	    &c) == AUTH_CHOICE_UNSUPPORTED, "Digest with only auth-int is unsupported");
	ok(choose("Digest realm=r", AUTH_ALLOW_ANY, &c) ==
	    AUTH_CHOICE_UNSUPPORTED, "Digest without nonce is unsupported");
	ok(choose("", AUTH_ALLOW_ANY, &c) == AUTH_CHOICE_NONE,
	    "no challenge is reported");
	ok(digest_qop_has_auth(" auth-int , AUTH ") &&
	    !digest_qop_has_auth("auth-int, authx") && !digest_qop_has_auth(""),
	    "qop list matching");
}

/* Extract a parameter of our own Digest output with the challenge parser
 * (credentials share the challenge grammar). */
static const char *
out_param(const char *hdr, const char *name)
{
	if (parse(hdr) != 0 || set.n != 1)
		return NULL;
	return param(0, name);
}

static void
test_digest(void)
{
	static const char	*nonce7616 =
	    "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
	static const char	*cnonce7616 =
	    "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
	static const char	*opaque7616 =
	    "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS";
	struct digest_request	 r;
	char			 out[DIGEST_HEADER_MAX], c1[64], hdr[512];
	const char		*err, *v = NULL;

	memset(&r, 0, sizeof(r));
	r.method = "GET";
	r.uri = "/dir/index.html";
	r.realm = "http-auth@example.org";
	r.nonce = nonce7616;
	r.opaque = opaque7616;
	r.qop = "auth, auth-int";
	r.alg = DIGEST_ALG_MD5;
	r.nc = 1;
	r.cnonce = cnonce7616;
	ok(digest_response(out, sizeof(out), "Mufasa", "Circle of Life", &r,
	    &err) == 0 && streq(out, "Digest username=\"Mufasa\", "
	    "realm=\"http-auth@example.org\", "
	    "nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", "
	    "uri=\"/dir/index.html\", algorithm=MD5, "
	    "response=\"8ca523f5e9506fed4657c9700eebdbec\", qop=auth, "
	    "nc=00000001, cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\", "
	    "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""),
	    "Digest MD5 matches RFC 7616 section 3.9.1");

	snprintf(hdr, sizeof(hdr), "Digest realm=\"http-auth@example.org\", "
	    "qop=\"auth, auth-int\", algorithm=SHA-256, nonce=\"%s\", "
	    "opaque=\"%s\"", nonce7616, opaque7616);
	parse(hdr);
	ok(set.n == 1 && digest_request_from_challenge(&r, &set.c[0], "GET",
	    "/dir/index.html", &err) == 0 && r.alg == DIGEST_ALG_SHA256 &&
	    r.nc == 1 && r.cnonce == NULL && !r.userhash,
	    "Digest request from a parsed SHA-256 challenge");
	r.cnonce = cnonce7616;
	ok(digest_response(out, sizeof(out), "Mufasa", "Circle of Life", &r,
	    &err) == 0 && streq(out_param(out, "response"),
	    "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1") &&
	    streq(param(0, "algorithm"), "SHA-256") &&
	    streq(param(0, "opaque"), opaque7616),
	    "Digest SHA-256 matches RFC 7616 section 3.9.1");

	memset(&r, 0, sizeof(r));
	r.method = "GET";
	r.uri = "/dir/index.html";
	r.realm = "testrealm@host.com";
	r.nonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093";
	r.opaque = "5ccc069c403ebaf9f0171e9517f40e41";
	r.qop = "auth,auth-int";
	r.alg = DIGEST_ALG_MD5;
	r.nc = 1;
	r.cnonce = "0a4f113b";
	ok(digest_response(out, sizeof(out), "Mufasa", "Circle Of Life", &r,
	    &err) == 0 && streq(out_param(out, "response"),
	    "6629fae49393a05397450978507c4ef1") &&
	    streq(param(0, "nc"), "00000001") && streq(param(0, "qop"), "auth"),
	    "Digest MD5 qop=auth matches RFC 2617 section 3.5");

	/* CONNECT with SHA-256-sess, nc 2, non-ASCII user and an awkward
	 * password (values from an independent implementation). */
	memset(&r, 0, sizeof(r));
	r.method = "CONNECT";
	r.uri = "git.example.com:22";
	r.realm = "proxy@corp";
	r.nonce = "abc123";
	r.qop = "auth";
	r.alg = DIGEST_ALG_SHA256_SESS;
	r.nc = 2;
	r.cnonce = "0123456789abcdef";
	ok(digest_response(out, sizeof(out), "J\xc3\xa4s\xc3\xb8n Doe",
	    "p@ss:w\"rd \xc3\xbc", &r, &err) == 0 &&
	    streq(out_param(out, "response"), "b0b92731e10cd0ba369ca243e11ae10f"
	    "104b50e89e858a432c81b8b402fee4fa") &&
	    streq(param(0, "nc"), "00000002") &&
	    streq(param(0, "uri"), "git.example.com:22") &&
	    streq(param(0, "algorithm"), "SHA-256-sess") &&
	    param(0, "opaque") == NULL && param(0, "userhash") == NULL,
	    "Digest SHA-256-sess for CONNECT");
	r.userhash = 1;
	ok(digest_response(out, sizeof(out), "J\xc3\xa4s\xc3\xb8n Doe",
	    "p@ss:w\"rd \xc3\xbc", &r, &err) == 0 &&
	    streq(out_param(out, "username"), "020eb9b73e5fe2cd24857e75c40f8a39"
	    "d52058963705934f86c0018488712f6a") &&
	    streq(param(0, "userhash"), "true") &&
	    streq(param(0, "response"), "b0b92731e10cd0ba369ca243e11ae10f"
	    "104b50e89e858a432c81b8b402fee4fa"),
	    "Digest userhash sends H(user:realm), response unchanged");
	ok(digest_response(out, sizeof(out), "a\"b", "pw", &r, &err) == 0,
	    "a quote in the user name is fine with userhash");
	r.userhash = 0;
	ok(digest_response(out, sizeof(out), "a\"b", "pw", &r, &err) == -1 &&
	    out[0] == '\0', "a quote in the user name is refused without userhash");
	ok(digest_response(out, sizeof(out), "a\r\nb", "pw", &r, &err) == -1,
	    "CR/LF in the user name is refused");
	ok(digest_response(out, sizeof(out), "DOM\\user", "pw", &r, &err) == 0 &&
	    strstr(out, "username=\"DOM\\\\user\"") != NULL &&
	    streq(out_param(out, "username"), "DOM\\user"),
	    "a backslash in the user name is escaped");

	memset(&r, 0, sizeof(r));
	r.method = "CONNECT";
	r.uri = "h:443";
	r.realm = "proxy";
	r.nonce = "nnn";
	r.qop = "auth";
	r.alg = DIGEST_ALG_MD5_SESS;
	r.nc = 10;
	r.cnonce = "cn";
	ok(digest_response(out, sizeof(out), "bob", "secret", &r, &err) == 0 &&
	    streq(out_param(out, "response"), "9c610734fee6b746269005dad8c70565") &&
	    streq(param(0, "nc"), "0000000a"), "Digest MD5-sess");
	r.qop = NULL;
	ok(digest_response(out, sizeof(out), "bob", "secret", &r, &err) == -1,
	    "Digest -sess without qop is refused");
	r.alg = DIGEST_ALG_MD5;
	ok(digest_response(out, sizeof(out), "bob", "secret", &r, &err) == 0 &&
	    streq(out_param(out, "response"), "9aed26663e80287687a01d2ee9a7a2c9") &&
	    param(0, "qop") == NULL && param(0, "nc") == NULL &&
	    param(0, "cnonce") == NULL, "Digest without qop (RFC 2069)");

	r.realm = "a\"b\\c";
	ok(digest_response(out, sizeof(out), "bob", "secret", &r, &err) == 0 &&
	    strstr(out, "realm=\"a\\\"b\\\\c\"") != NULL &&
	    streq(out_param(out, "realm"), "a\"b\\c"),
	    "echoed realm is escaped");
	r.realm = "proxy";
	r.opaque = "x\ny";
	ok(digest_response(out, sizeof(out), "bob", "secret", &r, &err) == -1,
	    "control character in an echoed value is refused");
	r.opaque = NULL;
	r.nc = 0;
	ok(digest_response(out, sizeof(out), "bob", "secret", &r, &err) == -1,
	    "nonce count 0 is refused");
	r.nc = 1;
	ok(digest_response(out, 40, "bob", "secret", &r, &err) == -1 &&
	    out[0] == '\0', "too small output buffer is refused");

	r.qop = "auth";
	r.cnonce = NULL;
	ok(digest_response(out, sizeof(out), "bob", "secret", &r, &err) == 0 &&
	    (v = out_param(out, "cnonce")) != NULL && strlen(v) == 32 &&
	    strspn(v, "0123456789abcdef") == 32, "generated cnonce is 128 bits hex");
	snprintf(c1, sizeof(c1), "%s", v != NULL ? v : "");
	ok(digest_response(out, sizeof(out), "bob", "secret", &r, &err) == 0 &&
	    (v = out_param(out, "cnonce")) != NULL && strcmp(v, c1) != 0,
	    "generated cnonces differ");

	parse("Digest realm=r, nonce=n, userhash=TRUE, algorithm=SHA-256");
	ok(digest_request_from_challenge(&r, &set.c[0], "CONNECT", "h:1", &err)
	    == 0 && r.userhash && r.qop == NULL, "userhash=true is picked up");
	parse("Digest realm=r, nonce=n, algorithm=SHA-512-256");
	ok(digest_request_from_challenge(&r, &set.c[0], "CONNECT", "h:1", &err)
	    == -1, "unsupported algorithm is refused");
	parse("Digest realm=r");
	ok(digest_request_from_challenge(&r, &set.c[0], "CONNECT", "h:1", &err)
	    == -1, "challenge without nonce is refused");
}

/* [MS-NLMP] 4.2.4.3 CHALLENGE_MESSAGE. */
static const char	*msnlmp_challenge =
    "4e544c4d53535000020000000c000c003800000033828ae2"
    "0123456789abcdef00000000000000002400240044000000"
    "060070170000000f53006500720076006500720002000c00"
    "44006f006d00610069006e0001000c005300650072007600"
    "6500720000000000";

/* A field (len, maxlen, offset) of an AUTHENTICATE message. */
static const uint8_t *
field(const uint8_t *msg, size_t msglen, size_t at, size_t *len)
{
	size_t	off = (size_t)msg[at + 4] | (size_t)msg[at + 5] << 8;

	*len = (size_t)msg[at] | (size_t)msg[at + 1] << 8;
	if (off + *len > msglen)
		return NULL;
	return msg + off;
}

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static struct ntlm_challenge	ch;

static void
test_ntlm(void)
{
	static const uint8_t	 cc[8] = {
		0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa
	};
	uint8_t			 msg[1024], out[4096], h[16], u16[64];
	static char		 tok[NTLM_TOKEN_MAX + 1024];
	char			 b64[1024];
	const uint8_t		*f;
	const char		*err;
	uint64_t		 ts0 = 0;
	size_t			 len, outlen, flen, n;

	ok(ntlm_nt_hash("Password", h) == 0 &&
	    bytes_eq(h, 16, "a4f49c406510bdcab6824ee7c30fd852"),
	    "NT hash of \"Password\" ([MS-NLMP] 4.2.2.1.2)");
	/* Non-ASCII and a surrogate pair: compare with MD4 of the UTF-16LE
	 * bytes of U+0070 U+00E4 U+0073 U+0073 U+20AC U+1F511. */
	n = unhex("7000e40073007300ac203dd811dd", u16, sizeof(u16));
	hash(&hash_md4, u16, n, out);
	ok(ntlm_nt_hash("p\xc3\xa4ss\xe2\x82\xac\xf0\x9f\x94\x91", h) == 0 &&
	    memcmp(h, out, 16) == 0,
	    "NT hash converts UTF-8 to UTF-16LE, surrogate pairs included");
	ok(ntlm_nt_hash("bad\xc3(", h) == -1 &&
	    ntlm_nt_hash("\xed\xa0\x80", h) == -1 &&
	    ntlm_nt_hash("\xc0\xaf", h) == -1 &&
	    ntlm_nt_hash("\xf4\x90\x80\x80", h) == -1 &&
	    ntlm_nt_hash("\xe2\x82", h) == -1,
	    "NT hash refuses invalid UTF-8 (truncated, surrogate, overlong, "
	    "too large)");

	ok(ntlm_negotiate_token(tok, sizeof(tok)) == 0 &&
	    base64_decode(tok, strlen(tok), msg, sizeof(msg), &len) == 0 &&
	    len == 32 && memcmp(msg, "NTLMSSP\0", 8) == 0 && le32(msg + 8) == 1 &&
	    (le32(msg + 12) & 0xa0088207u) == 0xa0088207u &&
	    (le32(msg + 12) & NTLM_FLAG_TARGET_INFO) == 0,
	    "NEGOTIATE message: signature, type 1, flags (target info is the "
	    "server's to set)");
	ok(ntlm_negotiate_token(tok, 10) == -1, "NEGOTIATE refuses a small buffer");

	len = unhex(msnlmp_challenge, msg, sizeof(msg));
	ok(ntlm_parse_challenge(&ch, msg, len, &err) == 0 &&
	    ch.flags == 0xe28a8233u &&
	    bytes_eq(ch.server_challenge, 8, "0123456789abcdef") &&
	    streq(ch.target_name_utf8, "Server") && ch.target_info_len == 36 &&
	    bytes_eq(ch.nb_domain, ch.nb_domain_len, "44006f006d00610069006e00") &&
	    !ch.has_timestamp, "parse the [MS-NLMP] 4.2.4.3 CHALLENGE message");
	base64_encode(msg, len, b64, sizeof(b64));
	ok(ntlm_parse_challenge_token(&ch, b64, &err) == 0 &&
	    ch.target_info_len == 36, "parse the same challenge from base64");

	ok(ntlm_authenticate(out, sizeof(out), &outlen, &ch, "Domain\\User",
	    "Password", "COMPUTER", cc, &ts0, &err) == 0,
	    "build AUTHENTICATE for the [MS-NLMP] 4.2.4 example");
	ok(memcmp(out, "NTLMSSP\0", 8) == 0 && le32(out + 8) == 3,
	    "AUTHENTICATE signature and type 3");
	f = field(out, outlen, 12, &flen);
	ok(f != NULL && bytes_eq(f, flen, "86c35097ac9cec102554764a57cccc19"
	    "aaaaaaaaaaaaaaaa"), "LMv2 response matches [MS-NLMP] 4.2.4.2.1");
	f = field(out, outlen, 20, &flen);
	ok(f != NULL && flen == 84 && bytes_eq(f, 16,
	    "68cd0ab851e51c96aabc927bebef6a1c"),
	    "NTProofStr matches [MS-NLMP] 4.2.4.2.2");
	ok(f != NULL && flen == 84 && bytes_eq(f + 16, 68,
	    "0101000000000000" "0000000000000000" "aaaaaaaaaaaaaaaa" "00000000"
	    "02000c0044006f006d00610069006e00" "01000c00530065007200760065007200"
	    "00000000" "00000000"),
	    "NTLMv2 blob (temp) matches [MS-NLMP] 4.2.4.1.3");
	f = field(out, outlen, 28, &flen);
	ok(f != NULL && bytes_eq(f, flen, "44006f006d00610069006e00"),
	    "domain from DOMAIN\\user, UTF-16LE");
	f = field(out, outlen, 36, &flen);
	ok(f != NULL && bytes_eq(f, flen, "5500730065007200"), "user name UTF-16LE");
	f = field(out, outlen, 44, &flen);
	ok(f != NULL && bytes_eq(f, flen, "43004f004d0050005500540045005200"), "workstation UTF-16LE");
	ok((le32(out + 60) & 1) == 1 && (le32(out + 60) & 2) == 0 &&
	    (le32(out + 60) & 0x200) != 0,
	    "AUTHENTICATE flags: Unicode and NTLM, OEM cleared");
	f = field(out, outlen, 52, &flen);
	ok(f != NULL && flen == 0 && le32(out + 56) != 0,
	    "empty session key field with a non-zero offset");

	ok(ntlm_authenticate(out, sizeof(out), &outlen, &ch, "User",
	    "Password", NULL, cc, &ts0, &err) == 0 &&
	    (f = field(out, outlen, 20, &flen)) != NULL && bytes_eq(f, 16,
	    "68cd0ab851e51c96aabc927bebef6a1c") &&
	    (f = field(out, outlen, 28, &flen)) != NULL &&
	    bytes_eq(f, flen, "44006f006d00610069006e00"),
	    "plain user name takes the domain from the challenge");
	ok(ntlm_authenticate(out, sizeof(out), &outlen, &ch, "uSeR",
	    "Password", NULL, cc, &ts0, &err) == 0 &&
	    (f = field(out, outlen, 20, &flen)) != NULL && bytes_eq(f, 16,
	    "68cd0ab851e51c96aabc927bebef6a1c") &&
	    (f = field(out, outlen, 36, &flen)) != NULL &&
	    bytes_eq(f, flen, "7500530065005200"),
	    "user name case does not change NTOWFv2 and is sent as typed");
	ok(ntlm_authenticate(out, sizeof(out), &outlen, &ch, "user@example.com",
	    "Password", NULL, cc, &ts0, &err) == 0 &&
	    (f = field(out, outlen, 28, &flen)) != NULL && flen == 0,
	    "user@domain is sent with an empty domain");
	ok(ntlm_authenticate(out, sizeof(out), &outlen, &ch,
	    "D\\J\xc3\xb6s\xc3\xa9\xf0\x9f\x98\x80", "pw", NULL, NULL, NULL,
	    &err) == 0 && (f = field(out, outlen, 36, &flen)) != NULL &&
	    bytes_eq(f, flen, "4a00f6007300e9003dd800de"),
	    "non-ASCII user name is UTF-16LE with a surrogate pair");
	ok(ntlm_authenticate(out, sizeof(out), &outlen, &ch, "User",
	    "bad\xff", NULL, cc, &ts0, &err) == -1,
	    "invalid UTF-8 password is refused");
	ok(ntlm_authenticate(out, 100, &outlen, &ch, "Domain\\User",
	    "Password", NULL, cc, &ts0, &err) == -1,
	    "too small output buffer is refused");

	/* Same challenge with MsvAvTimestamp appended before MsvAvEOL. */
	len = unhex("4e544c4d53535000020000000c000c003800000033828ae2"
	    "0123456789abcdef0000000000000000300030004400000006007017"
	    "0000000f530065007200760065007200"
	    "02000c0044006f006d00610069006e00"
	    "01000c00530065007200760065007200"
	    "070008000102030405060708" "00000000", msg, sizeof(msg));
	ok(ntlm_parse_challenge(&ch, msg, len, &err) == 0 && ch.has_timestamp &&
	    ch.timestamp == 0x0807060504030201ULL,
	    "MsvAvTimestamp is read from the target information");
	ok(ntlm_authenticate(out, sizeof(out), &outlen, &ch, "Domain\\User",
	    "Password", NULL, cc, NULL, &err) == 0 &&
	    (f = field(out, outlen, 12, &flen)) != NULL &&
	    bytes_eq(f, flen, "000000000000000000000000000000000000000000000000"),
	    "LMv2 is zeros when the server sent a timestamp");
	f = field(out, outlen, 20, &flen);
	ok(f != NULL && bytes_eq(f + 24, 8, "0102030405060708"),
	    "blob carries the server's timestamp");

	/* Squid's helpers: 40-byte header, name at offset 40, no target info,
	 * an ASCII name under the Unicode flag. */
	len = unhex("4e544c4d53535000020000000900090028000000"
	    "05820800" "1122334455667788" "0000000000000000"
	    "574f524b47524f5550", msg, sizeof(msg));
	ok(ntlm_parse_challenge(&ch, msg, len, &err) == 0 &&
	    ch.target_info_len == 0 && streq(ch.target_name_utf8, "WORKGROUP"),
	    "squid-style challenge without target information parses");
	ok(ntlm_authenticate_token(tok, sizeof(tok), &ch, "alice", "pw", &err)
	    == 0 && base64_decode(tok, strlen(tok), out, sizeof(out), &outlen)
	    == 0 && le32(out + 8) == 3 &&
	    (f = field(out, outlen, 20, &flen)) != NULL && flen == 16 + 28 + 4 &&
	    (f = field(out, outlen, 28, &flen)) != NULL &&
	    bytes_eq(f, flen, "57004f0052004b00470052004f0055005000"),
	    "AUTHENTICATE token for it, domain from the target name");

	/* Garbage. */
	len = unhex(msnlmp_challenge, msg, sizeof(msg));
	err = NULL;
	msg[0] = 'X';
	ok(ntlm_parse_challenge(&ch, msg, len, &err) == -1 && err != NULL &&
	    strstr(err, "signature") != NULL, "bad signature is rejected");
	msg[0] = 'N';
	msg[8] = 3;
	ok(ntlm_parse_challenge(&ch, msg, len, &err) == -1 &&
	    strstr(err, "type 2") != NULL, "wrong message type is rejected");
	msg[8] = 2;
	ok(ntlm_parse_challenge(&ch, msg, 31, &err) == -1 &&
	    ntlm_parse_challenge(&ch, msg, 5, &err) == -1,
	    "truncated challenge is rejected");
	ok(ntlm_parse_challenge(&ch, msg, len - 1, &err) == 0 &&
	    ch.target_info_len == 0,
	    "target information past the end is ignored");
	msg[16] = 0xf0;
	ok(ntlm_parse_challenge(&ch, msg, len, &err) == 0 &&
	    ch.target_name_len == 0,
	    "target name past the end counts as absent");
	/* What Debian's squid ntlm_fake_auth really sends: a garbage target
	 * name offset and the client's flags echoed. */
	ok(ntlm_parse_challenge_token(&ch, "TlRMTVNTUAACAAAACQAJAK6qqqoHgoig"
	    "c/qhUCU5kvUAAAAAAAA6AFdPUktHUk9VUA==", &err) == 0 &&
	    ntlm_authenticate_token(tok, sizeof(tok), &ch, "CORP\\alice",
	    "pw", &err) == 0,
	    "squid ntlm_fake_auth's challenge is answered");
	msg[16] = 0x38;
	msg[0x44 + 2] = 0x40;		/* AvLen of the first pair */
	ok(ntlm_parse_challenge(&ch, msg, len, &err) == -1 &&
	    strstr(err, "malformed") != NULL, "overrunning AV pair is rejected");
	ok(ntlm_parse_challenge_token(&ch, "not base64!", &err) == -1 &&
	    ntlm_parse_challenge_token(&ch, "", &err) == -1,
	    "non-base64 and empty tokens are rejected");
	memset(tok, 'A', sizeof(tok) - 1);
	tok[sizeof(tok) - 1] = '\0';
	ok(ntlm_parse_challenge_token(&ch, tok, &err) == -1,
	    "over-long token is rejected");
	/* Every truncation of a valid message fails cleanly or parses. */
	len = unhex(msnlmp_challenge, msg, sizeof(msg));
	for (n = 0; n < len; n++)
		(void)ntlm_parse_challenge(&ch, msg, n, &err);
	ok(1, "every truncation of a challenge is handled");
}

int
main(void)
{
	test_parse();
	test_choose();
	test_digest();
	test_ntlm();
	printf("1..%d\n%s", ntest, tap);
	return nfail == 0 ? 0 : 1;
}
