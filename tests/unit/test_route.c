/*
 * test_route.c: what says where to connect, table-driven: proxy URLs
 * (route/proxyurl.h), target host and port checks (route/target.h), the
 * checked number parser (util/num.h) and routes of chains and
 * alternatives (route/route.h).  TAP.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/creds.h"
#include "route/proxyurl.h"
#include "route/route.h"
#include "route/target.h"
#include "util/num.h"

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

/* s for a message, control bytes escaped, cut to fit buf. */
static const char *
show(const char *s, char *buf, size_t len)
{
	size_t i, o = 0;

	for (i = 0; s[i] != '\0' && o + 5 < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c >= 0x7f || c == '\\')
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
	return buf;
}

/* An error message is one printable line: no control bytes. */
static bool
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* The password of every URL below contains this; no message may. */
#define SECRET	"s3cr3t"

struct ucase {
	const char		*url;
	bool			 creds;		/* pass a struct creds */
	int			 rc;
	enum proxy_scheme	 scheme;
	const char		*host;
	unsigned		 port;
	const char		*user;		/* NULL: have_user false */
	const char		*pass;		/* NULL: have_pass false */
	const char		*err;		/* substring, when rc is -1 */
};

#define OK(url, sch, host, port, user, pass) \
	{ url, true, 0, sch, host, port, user, pass, NULL }
#define BAD(url, err) \
	{ url, true, -1, SCHEME_HTTP, NULL, 0, NULL, NULL, err }

static const struct ucase ucases[] = {
	/* schemes and default ports */
	OK("proxy.example", SCHEME_HTTP, "proxy.example", 1080, NULL, NULL),
	OK("proxy.example:3128", SCHEME_HTTP, "proxy.example", 3128, NULL,
	    NULL),
	OK("http://proxy.example:3128", SCHEME_HTTP, "proxy.example", 3128,
	    NULL, NULL),
	OK("http://proxy.example", SCHEME_HTTP, "proxy.example", 1080, NULL,
	    NULL),
	OK("HTTP://Proxy.Example", SCHEME_HTTP, "Proxy.Example", 1080, NULL,
	    NULL),
	OK("socks4://10.0.0.1", SCHEME_SOCKS4, "10.0.0.1", 1080, NULL, NULL),
	OK("socks4a://h.example:1081", SCHEME_SOCKS4A, "h.example", 1081,
	    NULL, NULL),
	OK("socks5://h.example", SCHEME_SOCKS5, "h.example", 1080, NULL,
	    NULL),
	OK("socks5h://h.example:9050", SCHEME_SOCKS5H, "h.example", 9050,
	    NULL, NULL),
	OK("SOCKS5H://h.example", SCHEME_SOCKS5H, "h.example", 1080, NULL,
	    NULL),
	OK("http://proxy.example/", SCHEME_HTTP, "proxy.example", 1080, NULL,
	    NULL),
	OK("http://proxy.example:3128/", SCHEME_HTTP, "proxy.example", 3128,
	    NULL, NULL),
	OK("http://h_x-1.example", SCHEME_HTTP, "h_x-1.example", 1080, NULL,
	    NULL),
	OK("https://h.example", SCHEME_HTTPS, "h.example", 443, NULL, NULL),
	OK("https://h.example:8443", SCHEME_HTTPS, "h.example", 8443, NULL,
	    NULL),
	BAD("socks://h.example", "unsupported scheme \"socks\""),
	BAD("socks6://h.example", "unsupported scheme \"socks6\""),
	BAD("ftp://u:" SECRET "@h.example", "unsupported scheme \"ftp\""),
	BAD("://h.example", "unsupported scheme \"\""),
	/* No scheme, but "://" after the password: it is no scheme name. */
	BAD("alice:" SECRET "://x@h", "proxy URL"),
	BAD("httphttphttphttphttphttp://h", "unsupported scheme "
	    "\"httphttphttphttphttp\" in"),

	/* the fuzz seeds, tests/fuzz/seeds/fuzz_proxyurl/ */
	OK("http://user:p%40ss@proxy.example:3128/", SCHEME_HTTP,
	    "proxy.example", 3128, "user", "p@ss"),
	OK("socks4a://u@10.0.0.1", SCHEME_SOCKS4A, "10.0.0.1", 1080, "u",
	    NULL),
	OK("socks5h://[2001:db8::1]:1080", SCHEME_SOCKS5H, "2001:db8::1",
	    1080, NULL, NULL),

	/* user info */
	OK("http://alice:" SECRET "@proxy.example", SCHEME_HTTP,
	    "proxy.example", 1080, "alice", SECRET),
	OK("http://u%3Ab%40c:p%3a%2F%25" SECRET "@h", SCHEME_HTTP, "h", 1080,
	    "u:b@c", "p:/%" SECRET),
	OK("http://alice@h", SCHEME_HTTP, "h", 1080, "alice", NULL),
	OK("http://:" SECRET "@h", SCHEME_HTTP, "h", 1080, NULL, SECRET),
	OK("http://alice:@h", SCHEME_HTTP, "h", 1080, "alice", ""),
	OK("http://@h", SCHEME_HTTP, "h", 1080, NULL, NULL),
	OK("http://a@b:" SECRET "@h:8080", SCHEME_HTTP, "h", 8080, "a@b",
	    SECRET),
	OK("http://alice:" SECRET "@[::1]:3128", SCHEME_HTTP, "::1", 3128,
	    "alice", SECRET),
	BAD("http://us%zzer:" SECRET "@h", "bad user name in proxy URL"),
	BAD("http://a%4@h", "bad user name in proxy URL"),
	BAD("http://a%@h", "bad user name in proxy URL"),
	BAD("http://a%00b@h", "bad user name in proxy URL"),
	BAD("http://alice:" SECRET "%zz@h", "bad password in proxy URL"),
	BAD("http://alice:" SECRET "%@h", "bad password in proxy URL"),
	BAD("http://alice:" SECRET "%0@h", "bad password in proxy URL"),
	BAD("http://alice:" SECRET "%00x@h", "bad password in proxy URL"),
	{ "http://alice:" SECRET "@h", false, -1, SCHEME_HTTP, NULL, 0, NULL,
	    NULL, "credentials are not allowed" },
	{ "http://@h", false, -1, SCHEME_HTTP, NULL, 0, NULL, NULL,
	    "credentials are not allowed" },
	{ "socks5h://h:1", false, 0, SCHEME_SOCKS5H, "h", 1, NULL, NULL,
	    NULL },

	/* no host */
	BAD("", "proxy URL \"\" has no host"),
	BAD("http://", "proxy URL \"http://\" has no host"),
	BAD("http://:8080", "proxy URL \"http://:8080\" has no host"),
	BAD("http://alice:" SECRET "@", "proxy URL \"(redacted)\" has no "
	    "host"),
	BAD("http://alice:" SECRET "@:3128", "proxy URL \"(redacted)\" has "
	    "no host"),
	BAD("http://alice:" SECRET "@/", "proxy URL \"(redacted)\" has no "
	    "host"),

	/* paths */
	BAD("http://h/x", "proxy URL has a path"),
	BAD("http://h//", "proxy URL has a path"),
	BAD("http://h:3128/path", "proxy URL has a path"),
	BAD("http://alice:" SECRET "@h/x", "proxy URL has a path"),
	BAD("http://alice:" SECRET "/x@h", "proxy URL has a path"),

	/* IPv6 */
	OK("http://[::1]", SCHEME_HTTP, "::1", 1080, NULL, NULL),
	OK("[::1]:8080", SCHEME_HTTP, "::1", 8080, NULL, NULL),
	OK("http://[2001:db8::1]:3128/", SCHEME_HTTP, "2001:db8::1", 3128,
	    NULL, NULL),
	OK("http://[::ffff:192.0.2.1]", SCHEME_HTTP, "::ffff:192.0.2.1", 1080,
	    NULL, NULL),
	BAD("http://2001:db8::1", "proxy URL: bad port"),
	BAD("http://[::1", "missing ']' after IPv6 address"),
	BAD("http://[]:80", "proxy URL: bad IPv6 address"),
	BAD("http://[zz::1]", "bad IPv6 address \"zz::1\""),
	BAD("http://[192.0.2.1]", "bad IPv6 address \"192.0.2.1\""),
	BAD("http://[fe80::1%eth0]:80", "bad IPv6 address"),
	BAD("http://[::1]x", "unexpected text after ']'"),
	BAD("http://[::1]:", "proxy URL: bad port; use a number"),
	BAD("http://[::1]:0", "proxy URL: bad port"),

	/* ports (the message may or may not repeat a bad port) */
	OK("http://h:1", SCHEME_HTTP, "h", 1, NULL, NULL),
	OK("http://h:65535", SCHEME_HTTP, "h", 65535, NULL, NULL),
	OK("http://h:0080", SCHEME_HTTP, "h", 80, NULL, NULL),
	BAD("http://h:0", "proxy URL: bad port"),
	BAD("http://h:65536", "proxy URL: bad port"),
	BAD("http://h:+1", "proxy URL: bad port"),
	BAD("http://h: 1", "proxy URL: bad port"),
	BAD("http://h:1 ", "proxy URL: bad port"),
	BAD("http://h:-1", "proxy URL: bad port"),
	BAD("http://h:1a", "proxy URL: bad port"),
	BAD("http://h:0x50", "proxy URL: bad port"),
	BAD("http://h:", "proxy URL: bad port; use a number"),
	BAD("http://h:12345678", "proxy URL: bad port; use a number"),
	BAD("http://h:99999999999999999999", "proxy URL: bad port; use a "
	    "number"),
	BAD("http://h:3128:1", "proxy URL: bad port"),
	BAD("http://1:2:3", "proxy URL: bad port"),
	BAD("http://h:\x1b[2J", "proxy URL: bad port"),
	BAD("http://:1\x1b[2J", "has no host"),

	/* host checks */
	BAD("http://ho st", "host name contains ' '"),
	BAD("http://h;reboot", "host name contains ';'"),
	BAD("http://$(id)", "host name contains '$'"),
	BAD("http://`id`", "host name contains '`'"),
	BAD("http://h|x", "host name contains '|'"),
	BAD("http://h&x", "host name contains '&'"),
	BAD("http://h?x=1", "host name contains '?'"),
	BAD("http://h#frag", "host name contains '#'"),
	BAD("http://h\\x", "host name contains '\\'"),
	BAD("http://h\x01", "control byte 0x01"),
	BAD("http://h\x7f", "control byte 0x7f"),
	BAD("http://h\tx", "control byte 0x09"),
	BAD("http://h\xc3\xa9.example", "non-ASCII byte"),
	BAD("http://a%b", "only IPv6 literals may carry a zone"),
};

static void
test_proxyurl(void)
{
	char what[600], detail[1500], err[256], sh[300], sh2[300];
	struct proxy p;
	struct creds c;
	size_t i;
	int rc;
	bool ok;

	for (i = 0; i < sizeof(ucases) / sizeof(ucases[0]); i++) {
		const struct ucase *u = &ucases[i];

		memset(&c, 0, sizeof(c));
		memset(&p, 0x55, sizeof(p));
		(void)snprintf(err, sizeof(err), "(no message)");
		rc = proxyurl_parse(u->url, &p, u->creds ? &c : NULL, err,
		    sizeof(err));
		ok = rc == u->rc;
		if (ok && rc == 0)
			ok = p.scheme == u->scheme &&
			    strcmp(p.host, u->host) == 0 && p.port == u->port &&
			    c.have_user == (u->user != NULL) &&
			    (u->user == NULL || strcmp(c.user, u->user) == 0) &&
			    c.have_pass == (u->pass != NULL) &&
			    (u->pass == NULL || strcmp(c.pass, u->pass) == 0);
		if (ok && rc == -1)
			ok = strstr(err, u->err) != NULL &&
			    strstr(err, SECRET) == NULL && printable(err);
		(void)snprintf(what, sizeof(what), "proxyurl_parse(\"%s\"%s)",
		    show(u->url, sh, sizeof(sh)), u->creds ? "" :
		    ", no creds");
		if (rc == 0)
			(void)snprintf(detail, sizeof(detail), "rc 0 scheme %d "
			    "host \"%s\" port %u user %d \"%s\" pass %d \"%s\"",
			    p.scheme, show(p.host, sh, sizeof(sh)), p.port,
			    c.have_user, c.user, c.have_pass,
			    show(c.pass, sh2, sizeof(sh2)));
		else
			(void)snprintf(detail, sizeof(detail), "rc %d: %s", rc,
			    show(err, sh, sizeof(sh)));
		result(ok, what, detail);
		creds_wipe(&c);
	}
}

/* Lengths at the limits: host 255, user 255, password 1023 bytes. */
static void
test_proxyurl_lengths(void)
{
	char url[2400], err[256];
	struct proxy p;
	struct creds c;
	int rc;

	memcpy(url, "http://", 7);
	memset(url + 7, 'h', 255);
	url[7 + 255] = '\0';
	rc = proxyurl_parse(url, &p, NULL, err, sizeof(err));
	result(rc == 0 && strlen(p.host) == 255 && p.port == 1080,
	    "proxy host of 255 bytes", rc == 0 ? NULL : err);
	memcpy(url + 7 + 255, "h:1", 4);
	rc = proxyurl_parse(url, &p, NULL, err, sizeof(err));
	result(rc == -1 && strstr(err, "longer than 255 bytes") != NULL,
	    "proxy host of 256 bytes", err);

	memset(&c, 0, sizeof(c));
	memset(url + 7, 'u', 255);
	memcpy(url + 7 + 255, "@h", 3);
	rc = proxyurl_parse(url, &p, &c, err, sizeof(err));
	result(rc == 0 && c.have_user && strlen(c.user) == 255,
	    "proxy user of 255 bytes", rc == 0 ? NULL : err);
	memset(url + 7, 'u', 256);
	memcpy(url + 7 + 256, "@h", 3);
	rc = proxyurl_parse(url, &p, &c, err, sizeof(err));
	result(rc == -1 && strstr(err, "bad user name") != NULL &&
	    strstr(err, "at most 255 bytes") != NULL, "proxy user of 256 bytes",
	    err);
	/* Percent escapes count once each. */
	memset(&c, 0, sizeof(c));
	for (rc = 0; rc < 255; rc++)
		memcpy(url + 7 + rc * 3, "%41", 3);
	memcpy(url + 7 + 255 * 3, "@h", 3);
	rc = proxyurl_parse(url, &p, &c, err, sizeof(err));
	result(rc == 0 && strlen(c.user) == 255 && c.user[0] == 'A',
	    "proxy user of 255 escaped bytes", rc == 0 ? NULL : err);

	memset(&c, 0, sizeof(c));
	memcpy(url + 7, "u:", 2);
	memset(url + 9, 'p', 1023);
	memcpy(url + 9 + 1023, "@h", 3);
	rc = proxyurl_parse(url, &p, &c, err, sizeof(err));
	result(rc == 0 && c.have_pass && strlen(c.pass) == 1023,
	    "proxy password of 1023 bytes", rc == 0 ? NULL : err);
	memset(url + 9, 'p', 1024);
	memcpy(url + 9 + 1024, "@h", 3);
	rc = proxyurl_parse(url, &p, &c, err, sizeof(err));
	result(rc == -1 && strstr(err, "bad password") != NULL &&
	    strstr(err, "pppp") == NULL, "proxy password of 1024 bytes", err);
	creds_wipe(&c);
}

static void
test_proxy_format(void)
{
	static const struct {
		enum proxy_scheme	 scheme;
		const char		*host;
		unsigned		 port;
		const char		*name;
		const char		*fmt;
	} c[] = {
		{ SCHEME_HTTP, "proxy.example", 3128, "http",
		    "proxy.example:3128" },
		{ SCHEME_SOCKS4, "10.0.0.1", 1080, "socks4", "10.0.0.1:1080" },
		{ SCHEME_SOCKS4A, "h", 1, "socks4a", "h:1" },
		{ SCHEME_SOCKS5, "2001:db8::1", 1080, "socks5",
		    "[2001:db8::1]:1080" },
		{ SCHEME_SOCKS5H, "::1", 65535, "socks5h", "[::1]:65535" },
	};
	char buf[300], what[128];
	struct proxy p;
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		memset(&p, 0, sizeof(p));
		p.scheme = c[i].scheme;
		(void)snprintf(p.host, sizeof(p.host), "%s", c[i].host);
		p.port = c[i].port;
		proxy_format(&p, buf, sizeof(buf));
		(void)snprintf(what, sizeof(what), "proxy_format and "
		    "proxy_scheme_name: %s://%s", c[i].name, c[i].fmt);
		result(strcmp(buf, c[i].fmt) == 0 &&
		    strcmp(proxy_scheme_name(c[i].scheme), c[i].name) == 0,
		    what, buf);
	}
	result(strcmp(proxy_scheme_name((enum proxy_scheme)99), "?") == 0,
	    "proxy_scheme_name of an unknown scheme", NULL);
}

struct hostcase {
	const char	*host;
	const char	*err;		/* NULL: accepted */
};

static const struct hostcase hostcases[] = {
	{ "example.com", NULL },
	{ "EXAMPLE.Com", NULL },
	{ "a_b-c.example", NULL },
	{ "192.0.2.1", NULL },
	{ "localhost", NULL },
	{ "::1", NULL },
	{ "2001:db8::1", NULL },
	{ "::ffff:192.0.2.1", NULL },
	{ "fe80::1%eth0", NULL },
	{ "fe80::1%25", NULL },
	{ "", "empty host name" },
	{ "a b", "host name contains ' '" },
	{ "a;b", "host name contains ';'" },
	{ "a|b", "host name contains '|'" },
	{ "a&b", "host name contains '&'" },
	{ "$(reboot)", "host name contains '$'" },
	{ "`id`", "host name contains '`'" },
	{ "a>b", "host name contains '>'" },
	{ "a<b", "host name contains '<'" },
	{ "a'b", "host name contains '''" },
	{ "a\"b", "host name contains '\"'" },
	{ "a\\b", "host name contains '\\'" },
	{ "a*b", "host name contains '*'" },
	{ "a!b", "host name contains '!'" },
	{ "a/b", "host name contains '/'" },
	{ "a@b", "host name contains '@'" },
	{ "a=b", "host name contains '='" },
	{ "a,b", "host name contains ','" },
	{ "a+b", "host name contains '+'" },
	{ "~a", "host name contains '~'" },
	{ "[::1]", "host name contains '['" },
	{ "::1]", "host name contains ']'" },
	{ "a\nb", "control byte 0x0a" },
	{ "a\rb", "control byte 0x0d" },
	{ "a\tb", "control byte 0x09" },
	{ "\x1b[2J", "control byte 0x1b" },
	{ "a\x7f", "control byte 0x7f" },
	{ "caf\xc3\xa9.example", "non-ASCII byte" },
	{ "\xff", "non-ASCII byte" },
	{ "a%b", "only IPv6 literals may carry a zone" },
	{ "192.0.2.1%eth0", "only IPv6 literals may carry a zone" },
	{ "1:2", "\"1:2\" is neither a host name nor an IPv6 address" },
	{ ":::", "\":::\" is neither a host name nor an IPv6 address" },
	{ "example.com:22", "is neither a host name nor an IPv6 address" },
	{ "%eth0:", "is neither a host name nor an IPv6 address" },
};

static void
test_check_host(void)
{
	char what[300], err[512], sh[200];
	char host[300];
	size_t i;
	int rc;

	for (i = 0; i < sizeof(hostcases) / sizeof(hostcases[0]); i++) {
		const struct hostcase *c = &hostcases[i];

		err[0] = '\0';
		rc = target_check_host(c->host, err, sizeof(err));
		(void)snprintf(what, sizeof(what), "target_check_host(\"%s\") "
		    "%s", show(c->host, sh, sizeof(sh)), c->err == NULL ?
		    "accepts" : "refuses");
		result(c->err == NULL ? rc == 0 : rc == -1 &&
		    strstr(err, c->err) != NULL && printable(err), what, err);
	}

	memset(host, 'a', 255);
	host[255] = '\0';
	rc = target_check_host(host, err, sizeof(err));
	result(rc == 0, "target_check_host accepts 255 bytes", err);
	memset(host, 'a', 256);
	host[256] = '\0';
	rc = target_check_host(host, err, sizeof(err));
	result(rc == -1 && strstr(err, "longer than 255 bytes") != NULL,
	    "target_check_host refuses 256 bytes", err);
}

struct tcase {
	const char	*host;
	const char	*port;
	const char	*want_host;	/* NULL: refused */
	unsigned	 want_port;
	const char	*err;
};

static const struct tcase tcases[] = {
	{ "example.com", "22", "example.com", 22, NULL },
	{ "[2001:db8::1]", "443", "2001:db8::1", 443, NULL },
	{ "2001:db8::1", "443", "2001:db8::1", 443, NULL },
	{ "[fe80::1%eth0]", "22", "fe80::1%eth0", 22, NULL },
	{ "192.0.2.1", "65535", "192.0.2.1", 65535, NULL },
	{ "h", "1", "h", 1, NULL },
	{ "h", "00022", "h", 22, NULL },
	/* tests/fuzz/seeds/fuzz_proxyurl/ */
	{ "example.com", "22", "example.com", 22, NULL },
	{ "host-name.example", "8080", "host-name.example", 8080, NULL },
	{ "[2001:db8::2]", "443", "2001:db8::2", 443, NULL },
	/* brackets only around IPv6 */
	{ "[example.com]", "22", NULL, 0, "brackets are only for IPv6" },
	{ "[192.0.2.1]", "22", NULL, 0, "brackets are only for IPv6" },
	{ "[]", "22", NULL, 0, "brackets are only for IPv6" },
	{ "[::1", "22", NULL, 0, "host name contains '['" },
	{ "::1]", "22", NULL, 0, "host name contains ']'" },
	{ "[[::1]]", "22", NULL, 0, "host name contains '['" },
	{ "[", "22", NULL, 0, "host name contains '['" },
	/* hosts */
	{ "", "22", NULL, 0, "empty host name" },
	{ "a;b", "22", NULL, 0, "host name contains ';'" },
	{ "$(reboot)", "22", NULL, 0, "host name contains '$'" },
	{ "a\nb", "22", NULL, 0, "control byte 0x0a" },
	{ "[a\n:]", "22", NULL, 0, "control byte 0x0a" },
	{ "caf\xc3\xa9", "22", NULL, 0, "non-ASCII byte" },
	{ "a%b", "22", NULL, 0, "only IPv6 literals may carry a zone" },
	/* ports */
	{ "h", "0", NULL, 0, "bad port \"0\": give a decimal number" },
	{ "h", "65536", NULL, 0, "bad port \"65536\"" },
	{ "h", "+1", NULL, 0, "bad port \"+1\"" },
	{ "h", " 1", NULL, 0, "bad port \" 1\"" },
	{ "h", "1 ", NULL, 0, "bad port \"1 \"" },
	{ "h", "-1", NULL, 0, "bad port \"-1\"" },
	{ "h", "", NULL, 0, "bad port \"\"" },
	{ "h", "0x16", NULL, 0, "bad port \"0x16\"" },
	{ "h", "2e1", NULL, 0, "bad port \"2e1\"" },
	{ "h", "ssh", NULL, 0, "bad port \"ssh\"" },
	{ "h", "4294967318", NULL, 0, "bad port \"4294967318\"" },
	{ "h", "123456789012345", NULL, 0, "bad port \"123456789012345\":" },
	{ "h", "1234567890123456", NULL, 0,
	    "bad port \"123456789012345...\":" },
	{ "h", "18446744073709551638", NULL, 0,
	    "bad port \"184467440737095...\":" },
	{ "h", "2\n2", NULL, 0, "bad port" },
	{ "h", "\x1b]0;pwned\x07", NULL, 0, "bad port" },
};

static void
test_target_parse(void)
{
	char what[300], err[512], detail[700], sh[200], sh2[200];
	char host[300];
	struct target tg;
	size_t i;
	int rc;
	bool ok;

	for (i = 0; i < sizeof(tcases) / sizeof(tcases[0]); i++) {
		const struct tcase *c = &tcases[i];

		err[0] = '\0';
		memset(&tg, 0, sizeof(tg));
		rc = target_parse(&tg, c->host, c->port, err, sizeof(err));
		if (c->want_host != NULL)
			ok = rc == 0 && strcmp(tg.host, c->want_host) == 0 &&
			    tg.port == c->want_port;
		else
			ok = rc == -1 && strstr(err, c->err) != NULL &&
			    printable(err);
		(void)snprintf(what, sizeof(what), "target_parse(\"%s\", "
		    "\"%s\")", show(c->host, sh, sizeof(sh)),
		    show(c->port, sh2, sizeof(sh2)));
		(void)snprintf(detail, sizeof(detail), "rc %d host \"%s\" port "
		    "%u err \"%s\"", rc, show(tg.host, sh, sizeof(sh)), tg.port,
		    show(err, sh2, sizeof(sh2)));
		result(ok, what, detail);
	}

	/* 255 bytes, bracketed or not; 256 refused. */
	memset(host, 'a', 255);
	host[255] = '\0';
	rc = target_parse(&tg, host, "22", err, sizeof(err));
	result(rc == 0 && strcmp(tg.host, host) == 0,
	    "target_parse: host of 255 bytes", err);
	memset(host, 'a', 256);
	host[256] = '\0';
	rc = target_parse(&tg, host, "22", err, sizeof(err));
	result(rc == -1 && strstr(err, "longer than 255 bytes") != NULL,
	    "target_parse: host of 256 bytes", err);
	/* An IPv6 literal with a zone fills 255 bytes inside brackets. */
	memcpy(host, "[fe80::1%", 9);
	memset(host + 9, 'z', 255 - 8);
	memcpy(host + 256, "]", 2);
	rc = target_parse(&tg, host, "22", err, sizeof(err));
	result(rc == 0 && strlen(tg.host) == 255 &&
	    strncmp(tg.host, "fe80::1%zz", 10) == 0,
	    "target_parse: bracketed IPv6 with zone of 255 bytes", err);
	memcpy(host + 256, "z]", 3);
	rc = target_parse(&tg, host, "22", err, sizeof(err));
	result(rc == -1 && strstr(err, "longer than 255 bytes") != NULL,
	    "target_parse: bracketed IPv6 with zone of 256 bytes", err);
}

static void
test_parse_port(void)
{
	static const struct {
		const char	*s;
		int		 rc;
		unsigned	 port;
	} c[] = {
		{ "1", 0, 1 },
		{ "22", 0, 22 },
		{ "65535", 0, 65535 },
		{ "01", 0, 1 },
		{ "0", -1, 0 },
		{ "00", -1, 0 },
		{ "65536", -1, 0 },
		{ "99999", -1, 0 },
		{ "+1", -1, 0 },
		{ "-1", -1, 0 },
		{ " 1", -1, 0 },
		{ "1 ", -1, 0 },
		{ "", -1, 0 },
		{ "1.0", -1, 0 },
		{ "4294967297", -1, 0 },	/* 2^32 + 1 */
		{ "18446744073709551617", -1, 0 },	/* 2^64 + 1 */
		{ "4294967296000000000000000000000000000022", -1, 0 },
	};
	char what[128];
	unsigned port;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		port = 77;
		rc = target_parse_port(c[i].s, &port);
		(void)snprintf(what, sizeof(what), "target_parse_port(\"%s\")",
		    c[i].s);
		result(rc == c[i].rc && (rc == -1 || port == c[i].port), what,
		    NULL);
	}
}

static void
test_target_format(void)
{
	static const struct {
		const char	*host;
		unsigned	 port;
		size_t		 size;
		const char	*want;
		int		 v6;
	} c[] = {
		{ "example.com", 22, 300, "example.com:22", 0 },
		{ "192.0.2.1", 443, 300, "192.0.2.1:443", 0 },
		{ "::1", 22, 300, "[::1]:22", 1 },
		{ "2001:db8::1", 65535, 300, "[2001:db8::1]:65535", 1 },
		{ "fe80::1%eth0", 80, 300, "[fe80::1%eth0]:80", 1 },
		{ "example.com", 22, 5, "exam", 0 },
		{ "::1", 22, 4, "[::", 1 },
	};
	char buf[301], what[128];
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		memset(buf, 'X', sizeof(buf));
		target_format(c[i].host, c[i].port, buf, c[i].size);
		(void)snprintf(what, sizeof(what), "target_format(\"%s\", %u) "
		    "in %zu bytes is \"%s\"", c[i].host, c[i].port, c[i].size,
		    c[i].want);
		result(strcmp(buf, c[i].want) == 0 && buf[c[i].size] == 'X' &&
		    target_is_ipv6(c[i].host) == c[i].v6, what, buf);
	}
}

static void
test_num_parse(void)
{
	static const struct {
		const char		*s;
		size_t			 len;	/* (size_t)-1: strlen */
		unsigned long long	 max;
		int			 rc;
		unsigned long long	 v;
	} c[] = {
		{ "0", (size_t)-1, 10, 0, 0 },
		{ "10", (size_t)-1, 10, 0, 10 },
		{ "11", (size_t)-1, 10, -1, 0 },
		{ "0", (size_t)-1, 0, 0, 0 },
		{ "1", (size_t)-1, 0, -1, 0 },
		{ "7", (size_t)-1, 5, -1, 0 },
		{ "06", (size_t)-1, 5, -1, 0 },
		{ "9", (size_t)-1, 8, -1, 0 },
		{ "8", (size_t)-1, 8, 0, 8 },
		{ "10", (size_t)-1, 9, -1, 0 },
		{ "", (size_t)-1, 10, -1, 0 },
		{ "5", 0, 10, -1, 0 },
		{ "+1", (size_t)-1, 10, -1, 0 },
		{ "-1", (size_t)-1, 10, -1, 0 },
		{ "-0", (size_t)-1, 10, -1, 0 },
		{ " 1", (size_t)-1, 10, -1, 0 },
		{ "1 ", (size_t)-1, 10, -1, 0 },
		{ "1.", (size_t)-1, 10, -1, 0 },
		{ "0x1", (size_t)-1, 10, -1, 0 },
		{ "1\0002", 3, 1000, -1, 0 },
		{ "123abc", 3, 1000, 0, 123 },
		{ "129", 2, 12, 0, 12 },
		{ "000000000000000000000000000001", (size_t)-1, 1, 0, 1 },
		{ "18446744073709551615", (size_t)-1, ULLONG_MAX, 0,
		    ULLONG_MAX },
		{ "18446744073709551616", (size_t)-1, ULLONG_MAX, -1, 0 },
		{ "18446744073709551620", (size_t)-1, ULLONG_MAX, -1, 0 },
		{ "99999999999999999999", (size_t)-1, ULLONG_MAX, -1, 0 },
		{ "4294967295", (size_t)-1, 4294967295ULL, 0, 4294967295ULL },
		{ "4294967296", (size_t)-1, 4294967295ULL, -1, 0 },
		/* a fullwidth digit one */
		{ "\xef\xbc\x91", (size_t)-1, 10, -1, 0 },
	};
	unsigned long long v;
	char what[160], sh[100];
	size_t i, len;
	int rc;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		len = c[i].len == (size_t)-1 ? strlen(c[i].s) : c[i].len;
		v = 4242;
		rc = num_parse(c[i].s, len, c[i].max, &v);
		(void)snprintf(what, sizeof(what), "num_parse(\"%s\", %zu, "
		    "max %llu)", show(c[i].s, sh, sizeof(sh)), len, c[i].max);
		result(rc == c[i].rc && v == (rc == 0 ? c[i].v : 4242), what,
		    NULL);
	}
}

static void
test_num_parse_uint(void)
{
	static const struct {
		const char	*s;
		unsigned	 max;
		int		 rc;
		unsigned	 v;
	} c[] = {
		{ "65535", 65535, 0, 65535 },
		{ "65536", 65535, -1, 0 },
		{ "0", 65535, 0, 0 },
		{ "4294967295", UINT_MAX, 0, UINT_MAX },
		{ "4294967296", UINT_MAX, -1, 0 },
		{ "18446744073709551616", UINT_MAX, -1, 0 },
		{ "", 10, -1, 0 },
		{ "1 ", 10, -1, 0 },
		{ "+5", 10, -1, 0 },
		{ "-5", 10, -1, 0 },
		{ "128", 128, 0, 128 },
		{ "129", 128, -1, 0 },
	};
	char what[128];
	unsigned v;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		v = 4242;
		rc = num_parse_uint(c[i].s, c[i].max, &v);
		(void)snprintf(what, sizeof(what), "num_parse_uint(\"%s\", "
		    "max %u)", c[i].s, c[i].max);
		result(rc == c[i].rc && v == (rc == 0 ? c[i].v : 4242), what,
		    NULL);
	}
}

static void
test_num_parse_seconds(void)
{
	static const struct {
		const char	*s;
		double		 max;
		int		 rc;
		double		 v;
	} c[] = {
		{ "10", 3600, 0, 10 },
		{ "0", 3600, 0, 0 },
		{ "2.5", 3600, 0, 2.5 },
		{ ".5", 3600, 0, 0.5 },
		{ "5.", 3600, 0, 5 },
		{ "0.1", 3600, 0, 0.1 },
		{ "0.000000001", 3600, 0, 1e-9 },
		{ "007.250", 3600, 0, 7.25 },
		{ "5", 5, 0, 5 },
		{ "5.000000001", 5, -1, 0 },
		{ "6", 5, -1, 0 },
		{ "1000000000", 1e10, 0, 1e9 },
		{ "1000000001", 1e10, -1, 0 },
		{ "99999999999999999999", 1e30, -1, 0 },
		{ "0.0000000001", 3600, -1, 0 },
		{ ".", 3600, -1, 0 },
		{ "", 3600, -1, 0 },
		{ "..5", 3600, -1, 0 },
		{ "1..5", 3600, -1, 0 },
		{ "1.2.3", 3600, -1, 0 },
		{ "-1", 3600, -1, 0 },
		{ "+1", 3600, -1, 0 },
		{ " 1", 3600, -1, 0 },
		{ "1 ", 3600, -1, 0 },
		{ "1. 5", 3600, -1, 0 },
		{ "1.-5", 3600, -1, 0 },
		{ "1e3", 3600, -1, 0 },
		{ "0x10", 3600, -1, 0 },
		{ "inf", 3600, -1, 0 },
		{ "nan", 3600, -1, 0 },
		{ "1,5", 3600, -1, 0 },
		{ "5s", 3600, -1, 0 },
	};
	char what[128];
	double v;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		v = 4242;
		rc = num_parse_seconds(c[i].s, c[i].max, &v);
		(void)snprintf(what, sizeof(what), "num_parse_seconds(\"%s\", "
		    "max %g)", c[i].s, c[i].max);
		result(rc == c[i].rc && v == (rc == 0 ? c[i].v : 4242), what,
		    NULL);
	}
}

/* "alt|alt,alt" from r, each alternative by route_alt_name(). */
static void
render(const struct route *r, char *buf, size_t len)
{
	size_t h, a, o = 0;

	buf[0] = '\0';
	for (h = 0; h < r->nhops && o < len; h++)
		for (a = 0; a < r->hop[h].nalt && o < len; a++)
			o += (size_t)snprintf(buf + o, len - o, "%s%s",
			    a > 0 ? "|" : h > 0 ? "," : "",
			    route_alt_name(&r->hop[h].alt[a]));
}

struct rcase {
	const char	*spec;
	const char	*want;		/* render() of the route, or NULL */
	const char	*err;		/* when refused */
};

static const struct rcase rcases[] = {
	{ "proxy.example:3128", "http://proxy.example:3128", NULL },
	{ "socks5h://a.example,http://b.example:3128",
	    "socks5h://a.example:1080,http://b.example:3128", NULL },
	{ "http://a|http://b", "http://a:1080|http://b:1080", NULL },
	{ "http://a|socks5://[::1]:9050|direct",
	    "http://a:1080|socks5://[::1]:9050|direct", NULL },
	{ "direct", "direct", NULL },
	{ "DIRECT", "direct", NULL },
	{ "http://a|Direct", "http://a:1080|direct", NULL },
	{ "a,b,c,d,e,f,g,h", "http://a:1080,http://b:1080,http://c:1080,"
	    "http://d:1080,http://e:1080,http://f:1080,http://g:1080,"
	    "http://h:1080", NULL },
	{ "a|b|c|d|e|f|g|h", "http://a:1080|http://b:1080|http://c:1080|"
	    "http://d:1080|http://e:1080|http://f:1080|http://g:1080|"
	    "http://h:1080", NULL },
	{ "a,b,c,d,e,f,g,h,i", NULL, "more than 8 proxies in the chain" },
	{ "a|b|c|d|e|f|g|h|i", NULL, "more than 8 alternatives for one "
	    "proxy" },
	{ "direct|http://a", NULL, "\"direct\" may only be the last "
	    "alternative of a single proxy" },
	{ "http://a|direct|http://b", NULL, "\"direct\" may only be the "
	    "last alternative" },
	{ "http://a,direct", NULL, "\"direct\" may only be the last "
	    "alternative of a single proxy, not of a chain" },
	{ "http://a,http://b|direct", NULL, "\"direct\" may only be the last "
	    "alternative of a single proxy, not of a chain" },
	{ "http://a|direct,http://b", NULL, "\"direct\" is an alternative of "
	    "a single proxy only, not of a chain" },
	{ "direct,http://b", NULL, "\"direct\" is an alternative of "
	    "a single proxy only, not of a chain" },
	{ "", NULL, "empty proxy in the list" },
	{ "http://a,", NULL, "empty proxy in the list" },
	{ ",http://a", NULL, "empty proxy in the list" },
	{ "http://a||http://b", NULL, "empty proxy in the list" },
	{ "http://a|", NULL, "empty proxy in the list" },
	{ "|http://a", NULL, "empty proxy in the list" },
	{ "directly", "http://directly:1080", NULL },
	{ "http://u:" SECRET "@a|bad://x", NULL, "unsupported scheme "
	    "\"bad\"" },
	{ "http://u:" SECRET "@a,http://b:0", NULL, "proxy URL: bad port" },
	{ "http://u:" SECRET "@a b", NULL, "host name contains ' '" },
	{ "http://u:" SECRET "@", NULL, "\"(redacted)\" has no host" },
	{ "http://u:" SECRET "@a/x", NULL, "has a path" },
	/* ',' and '|' in an unencoded password split the spec there */
	{ "http://alice:" SECRET ",x@h", NULL, "proxy URL" },
	{ "http://alice:" SECRET "|x@h", NULL, "proxy URL" },
};

static void
test_route_add(void)
{
	char what[400], got[1024], err[512], detail[1700], sh[400];
	struct route *r;
	size_t i;
	int rc;
	bool ok;

	for (i = 0; i < sizeof(rcases) / sizeof(rcases[0]); i++) {
		const struct rcase *c = &rcases[i];

		if ((r = route_new()) == NULL)
			abort();
		err[0] = '\0';
		rc = route_add(r, c->spec, err, sizeof(err));
		render(r, got, sizeof(got));
		if (c->want != NULL)
			ok = rc == 0 && strcmp(got, c->want) == 0;
		else
			ok = rc == -1 && strstr(err, c->err) != NULL &&
			    strstr(err, SECRET) == NULL && printable(err);
		(void)snprintf(what, sizeof(what), "route_add(\"%s\")",
		    c->spec);
		(void)snprintf(detail, sizeof(detail), "rc %d route \"%s\" "
		    "err \"%s\"", rc, got, show(err, sh, sizeof(sh)));
		result(ok, what, detail);
		route_unref(r);
	}
}

static void
test_route_creds(void)
{
	char err[256], url[2100];
	struct route *r, *r2;
	struct creds *c;
	int rc;

	if ((r = route_new()) == NULL)
		abort();
	result(r->refs == 1 && r->nhops == 0 && r->nheaders == 0 &&
	    r->proxy_command == NULL, "route_new: one reference, no hops",
	    NULL);
	rc = route_add(r, "http://alice:p%40" SECRET "@a:3128|socks5h://b|"
	    "http://%3Abob@c,socks5://carol:@d", err, sizeof(err));
	result(rc == 0 && r->nhops == 2 && r->hop[0].nalt == 3 &&
	    r->hop[1].nalt == 1, "route_add: two hops, three alternatives",
	    err);
	c = r->hop[0].alt[0].creds;
	result(c != NULL && c->have_user && strcmp(c->user, "alice") == 0 &&
	    c->have_pass && strcmp(c->pass, "p@" SECRET) == 0,
	    "route_add: user and password of the first alternative", NULL);
	result(r->hop[0].alt[1].creds == NULL,
	    "route_add: no creds for an alternative without user info", NULL);
	c = r->hop[0].alt[2].creds;
	result(c != NULL && c->have_user && strcmp(c->user, ":bob") == 0 &&
	    !c->have_pass, "route_add: user only, percent-decoded", NULL);
	c = r->hop[1].alt[0].creds;
	result(c != NULL && c->have_user && strcmp(c->user, "carol") == 0 &&
	    c->have_pass && c->pass[0] == '\0',
	    "route_add: user and empty password of the second hop", NULL);
	result(strcmp(r->hop[0].alt[0].url, "http://a:3128") == 0 &&
	    strcmp(r->hop[1].alt[0].url, "socks5://d:1080") == 0 &&
	    strstr(r->hop[0].alt[0].url, SECRET) == NULL,
	    "route_add: the URLs for messages hold no user info",
	    r->hop[0].alt[0].url);
	result(r->hop[0].alt[0].px.scheme == SCHEME_HTTP &&
	    r->hop[0].alt[1].px.scheme == SCHEME_SOCKS5H &&
	    strcmp(r->hop[0].alt[1].px.host, "b") == 0 &&
	    r->hop[0].alt[1].px.port == 1080 &&
	    r->hop[1].alt[0].px.scheme == SCHEME_SOCKS5,
	    "route_add: schemes, hosts and ports of the alternatives", NULL);

	/* A second route_add appends hops. */
	rc = route_add(r, "http://e", err, sizeof(err));
	result(rc == 0 && r->nhops == 3 &&
	    strcmp(r->hop[2].alt[0].url, "http://e:1080") == 0,
	    "route_add twice appends a hop", err);

	/* References: the route lives until the last one is dropped. */
	r2 = route_ref(r);
	result(r2 == r && r->refs == 2, "route_ref counts", NULL);
	route_unref(r2);
	result(r->refs == 1 && r->hop[0].alt[0].creds != NULL &&
	    strcmp(r->hop[0].alt[0].creds->user, "alice") == 0,
	    "route_unref of one of two references keeps the route", NULL);
	route_unref(r);		/* the sanitizer build sees a leak or not */
	route_unref(NULL);
	result(true, "route_unref(NULL) is safe", NULL);

	/* direct on the first hop refuses a later route_add of a hop. */
	if ((r = route_new()) == NULL)
		abort();
	rc = route_add(r, "http://a|direct", err, sizeof(err));
	result(rc == 0 && r->hop[0].alt[1].direct &&
	    r->hop[0].alt[1].creds == NULL, "route_add: direct alternative",
	    err);
	rc = route_add(r, "http://b", err, sizeof(err));
	result(rc == -1 && strstr(err, "\"direct\" is an alternative of a "
	    "single proxy only") != NULL,
	    "route_add after a direct alternative refuses another hop", err);
	route_unref(r);

	/* A URL of 2048 bytes is refused; the limit is 2047. */
	if ((r = route_new()) == NULL)
		abort();
	memcpy(url, "http://u:", 9);
	memset(url + 9, 'p', 2047 - 9 - 2);
	memcpy(url + 2047 - 2, "@h", 3);
	rc = route_add(r, url, err, sizeof(err));
	result(rc == -1 && strstr(err, "bad password") != NULL,
	    "route_add: a 2047-byte URL reaches the URL parser", err);
	route_unref(r);
	if ((r = route_new()) == NULL)
		abort();
	memset(url + 9, 'p', 2048 - 9 - 2);
	memcpy(url + 2048 - 2, "@h", 3);
	rc = route_add(r, url, err, sizeof(err));
	result(rc == -1 && strstr(err, "proxy URL longer than 2047 bytes") !=
	    NULL, "route_add: a 2048-byte URL is refused", err);
	route_unref(r);

	/* Headers and the proxy command. */
	if ((r = route_new()) == NULL)
		abort();
	for (rc = 0; rc < ROUTE_HEADERS_MAX; rc++)
		if (route_add_header(r, "X-A: b") == -1)
			break;
	result(rc == ROUTE_HEADERS_MAX && r->nheaders == ROUTE_HEADERS_MAX &&
	    strcmp(r->headers[ROUTE_HEADERS_MAX - 1], "X-A: b") == 0,
	    "route_add_header takes ROUTE_HEADERS_MAX headers", NULL);
	result(route_add_header(r, "X-B: c") == -1 &&
	    r->nheaders == ROUTE_HEADERS_MAX,
	    "route_add_header refuses one more", NULL);
	result(route_set_string(&r->proxy_command, "nc %h %p") == 0 &&
	    route_set_string(&r->proxy_command, "ssh -W %h:%p j") == 0 &&
	    strcmp(r->proxy_command, "ssh -W %h:%p j") == 0,
	    "route_set_string replaces the command", NULL);
	route_unref(r);
}

int
main(void)
{
	test_proxyurl();
	test_proxyurl_lengths();
	test_proxy_format();
	test_check_host();
	test_target_parse();
	test_parse_port();
	test_target_format();
	test_num_parse();
	test_num_parse_uint();
	test_num_parse_seconds();
	test_route_add();
	test_route_creds();
	printf("1..%d\n", t);
	return failed;
}
