/*
 * proxyurl.c: proxy URL parsing.  The grammar follows curl's proxy
 * strings so that one string means one thing to both: no scheme means
 * http, no port means 1080.
 */
#include <arpa/inet.h>

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "route/proxyurl.h"
#include "route/target.h"
#include "util/num.h"

static const struct {
	const char		*name;
	enum proxy_scheme	 scheme;
} schemes[] = {
	{ "http", SCHEME_HTTP },
	{ "https", SCHEME_HTTPS },
	{ "socks4", SCHEME_SOCKS4 },
	{ "socks4a", SCHEME_SOCKS4A },
	{ "socks5", SCHEME_SOCKS5 },
	{ "socks5h", SCHEME_SOCKS5H },
};

const char *
proxy_scheme_name(enum proxy_scheme s)
{
	size_t i;

	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (schemes[i].scheme == s)
			return schemes[i].name;
	return "?";
}

int
proxy_speaks_http(enum proxy_scheme s)
{
	return s == SCHEME_HTTP || s == SCHEME_HTTPS;
}

void
proxy_format(const struct proxy *p, char *buf, size_t len)
{
	target_format(p->host, p->port, buf, len);
}

/* Only visible ASCII and spaces: safe to repeat in a message. */
static int
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

/* Percent-decode [s, s+n) into out; -1 on a bad escape or overflow. */
static int
pct_decode(const char *s, size_t n, char *out, size_t outlen)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= n)
				return -1;
			hi = num_hexdigit((unsigned char)s[i + 1]);
			lo = num_hexdigit((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = hi * 16 + lo;
			i += 2;
		}
		if (c == '\0' || o + 1 >= outlen)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

int
proxyurl_parse(const char *url, struct proxy *p, struct creds *c,
    char *err, size_t errlen)
{
	const char *s = url, *at, *end, *hp, *colon;
	size_t i, hostlen;

	memset(p, 0, sizeof(*p));
	p->scheme = SCHEME_HTTP;
	p->port = PROXY_DEFAULT_PORT;

	/* A scheme is a word before "://", not a user name and password. */
	if ((end = strstr(s, "://")) != NULL &&
	    strcspn(s, ":@/") == (size_t)(end - s)) {
		size_t n = (size_t)(end - s);
		int found = 0;

		for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
			if (strlen(schemes[i].name) == n &&
			    strncasecmp(s, schemes[i].name, n) == 0) {
				p->scheme = schemes[i].scheme;
				if (p->scheme == SCHEME_HTTPS)
					p->port = PROXY_HTTPS_PORT;
				found = 1;
			}
		}
		if (!found) {
			snprintf(err, errlen, "unsupported scheme \"%.*s\" in "
			    "proxy URL (use http, https, socks4, socks4a, socks5 "
			    "or socks5h)", (int)(n > 20 ? 20 : n), s);
			return -1;
		}
		s = end + 3;
	}

	/* The host part ends at the first '/' after the userinfo. */
	at = NULL;
	for (hp = s; *hp != '\0' && *hp != '/'; hp++)
		if (*hp == '@')
			at = hp;
	end = hp;
	if (*end == '/' && end[1] != '\0') {
		snprintf(err, errlen, "proxy URL has a path; give only "
		    "[scheme://][user[:password]@]host[:port]");
		return -1;
	}
	if (at != NULL) {
		const char *uc = memchr(s, ':', (size_t)(at - s));
		size_t ulen = (size_t)((uc != NULL ? uc : at) - s);

		if (c == NULL) {
			snprintf(err, errlen, "credentials are not allowed "
			    "in this proxy URL");
			return -1;
		}
		if (pct_decode(s, ulen, c->user, sizeof(c->user)) == -1) {
			snprintf(err, errlen, "bad user name in proxy URL: "
			    "percent-encode special characters (%%40 for @, "
			    "%%3A for :), at most %d bytes", CREDS_USER_MAX - 1);
			return -1;
		}
		c->have_user = c->user[0] != '\0';
		if (uc != NULL) {
			if (pct_decode(uc + 1, (size_t)(at - uc - 1), c->pass,
			    sizeof(c->pass)) == -1) {
				snprintf(err, errlen, "bad password in proxy "
				    "URL: percent-encode special characters "
				    "(%%40 for @, %%3A for :)");
				return -1;
			}
			c->have_pass = 1;
		}
		s = at + 1;
	}

	/* host, [v6], then :port */
	if (*s == '[') {
		const char *rb = memchr(s, ']', (size_t)(end - s));
		char tmp[INET6_ADDRSTRLEN + 16];
		struct in6_addr a6;

		if (rb == NULL) {
			snprintf(err, errlen, "proxy URL: missing ']' after "
			    "IPv6 address");
			return -1;
		}
		hostlen = (size_t)(rb - s - 1);
		if (hostlen == 0 || hostlen >= sizeof(tmp)) {
			snprintf(err, errlen, "proxy URL: bad IPv6 address");
			return -1;
		}
		memcpy(tmp, s + 1, hostlen);
		tmp[hostlen] = '\0';
		if (inet_pton(AF_INET6, tmp, &a6) != 1) {
			snprintf(err, errlen, "proxy URL: bad IPv6 address "
			    "\"%s\"", tmp);
			return -1;
		}
		memcpy(p->host, tmp, hostlen + 1);
		colon = rb + 1;
		if (colon != end && *colon != ':') {
			snprintf(err, errlen, "proxy URL: unexpected text "
			    "after ']'");
			return -1;
		}
	} else {
		colon = memchr(s, ':', (size_t)(end - s));
		hostlen = (size_t)((colon != NULL ? colon : end) - s);
		if (hostlen == 0) {
			snprintf(err, errlen, "proxy URL \"%s\" has no host; "
			    "use [http://][user[:password]@]host[:port]",
			    at != NULL || !printable(url) ? "(redacted)" : url);
			return -1;
		}
		if (hostlen >= sizeof(p->host)) {
			snprintf(err, errlen, "proxy host name is longer than "
			    "255 bytes");
			return -1;
		}
		memcpy(p->host, s, hostlen);
		p->host[hostlen] = '\0';
		if (target_check_host(p->host, err, errlen) == -1)
			return -1;
		if (colon == NULL)
			colon = end;
	}
	if (colon != end) {
		char pbuf[8];
		size_t n = (size_t)(end - colon - 1);

		if (n == 0 || n >= sizeof(pbuf)) {
			snprintf(err, errlen, "proxy URL: bad port; use a "
			    "number from 1 to 65535");
			return -1;
		}
		memcpy(pbuf, colon + 1, n);
		pbuf[n] = '\0';
		/* Not repeated: a split URL may put a password here. */
		if (target_parse_port(pbuf, &p->port) == -1) {
			snprintf(err, errlen, "proxy URL: bad port; use a "
			    "number from 1 to 65535");
			return -1;
		}
	}
	return 0;
}
