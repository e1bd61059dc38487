/*
 * test_noproxy.c: the NO_PROXY matcher, table-driven.  TAP output.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "route/noproxy.h"

struct tcase {
	const char	*list;
	const char	*host;
	unsigned	 port;
	bool		 match;
	int		 nbad;		/* malformed entries reported */
};

static const struct tcase cases[] = {
	/* empty and missing lists */
	{ NULL, "example.com", 22, false, 0 },
	{ "", "example.com", 22, false, 0 },
	{ " , ,\t", "example.com", 22, false, 0 },
	{ "example.com", "", 22, false, 0 },

	/* names and subdomains */
	{ "example.com", "example.com", 22, true, 0 },
	{ "example.com", "a.example.com", 22, true, 0 },
	{ "example.com", "a.b.example.com", 22, true, 0 },
	{ "example.com", "notexample.com", 22, false, 0 },
	{ "example.com", "example.com.evil.net", 22, false, 0 },
	{ "example.com", "com", 22, false, 0 },
	{ "a.example.com", "example.com", 22, false, 0 },
	{ "example.com", "example.org", 22, false, 0 },

	/* leading and trailing dots, "*." */
	{ ".example.com", "a.example.com", 22, true, 0 },
	{ ".example.com", "example.com", 22, true, 0 },
	{ ".example.com", "notexample.com", 22, false, 0 },
	{ "*.example.com", "a.example.com", 22, true, 0 },
	{ "example.com.", "a.example.com", 22, true, 0 },
	{ "example.com", "a.example.com.", 22, true, 0 },

	/* case */
	{ "EXAMPLE.Com", "a.example.COM", 22, true, 0 },
	{ "example.com", "A.EXAMPLE.COM", 22, true, 0 },

	/* "*" */
	{ "*", "anything.example", 22, true, 0 },
	{ "*", "10.1.2.3", 22, true, 0 },
	{ "*", "::1", 22, true, 0 },
	{ "  *  ", "anything.example", 22, true, 0 },
	{ "*,", "anything.example", 22, true, 0 },
	{ "localhost,*", "anything.example", 22, false, 1 },
	{ "*,example.com", "a.example.com", 22, true, 1 },
	{ "*.", "anything.example", 22, false, 1 },

	/* lists: commas, spaces, whitespace */
	{ "foo.org,example.com", "a.example.com", 22, true, 0 },
	{ "foo.org example.com", "a.example.com", 22, true, 0 },
	{ " foo.org ,\texample.com\n", "example.com", 22, true, 0 },
	{ "foo.org,,bar.org", "example.com", 22, false, 0 },
	{ "localhost", "localhost", 22, true, 0 },

	/* IPv4 literals and CIDR */
	{ "192.0.2.7", "192.0.2.7", 22, true, 0 },
	{ "192.0.2.7", "192.0.2.8", 22, false, 0 },
	{ "10.0.0.0/8", "10.200.3.4", 22, true, 0 },
	{ "10.0.0.0/8", "11.0.0.1", 22, false, 0 },
	{ "192.168.0.0/16", "192.168.255.1", 22, true, 0 },
	{ "172.16.0.0/12", "172.31.0.1", 22, true, 0 },
	{ "172.16.0.0/12", "172.32.0.1", 22, false, 0 },
	{ "0.0.0.0/0", "203.0.113.9", 22, true, 0 },
	{ "0.0.0.0/0", "example.com", 22, false, 0 },
	{ "0.0.0.0/0", "::1", 22, false, 0 },
	{ "192.0.2.7/32", "192.0.2.7", 22, true, 0 },
	{ "192.0.2.7/32", "192.0.2.6", 22, false, 0 },
	{ "192.0.2.0/25", "192.0.2.127", 22, true, 0 },
	{ "192.0.2.0/25", "192.0.2.128", 22, false, 0 },
	{ "10.0.0.0/33", "10.0.0.1", 22, false, 1 },
	{ "10.0.0.0/", "10.0.0.1", 22, false, 1 },
	{ "10.0.0.0/x", "10.0.0.1", 22, false, 1 },
	{ "10.0.0.0/-1", "10.0.0.1", 22, false, 1 },
	{ "10.0/8", "10.0.0.1", 22, false, 1 },
	{ "10.0", "10.0.0.1", 22, false, 1 },
	{ "example.com/8", "example.com", 22, false, 1 },
	/* addresses do not match names and are not resolved */
	{ "127.0.0.1", "localhost", 22, false, 0 },
	{ "localhost", "127.0.0.1", 22, false, 0 },
	{ "2.0.192", "192.0.2.7", 22, false, 1 },

	/* IPv6 literals and CIDR; targets with and without brackets */
	{ "::1", "::1", 22, true, 0 },
	{ "::1", "[::1]", 22, true, 0 },
	{ "::1", "::2", 22, false, 0 },
	{ "::1", "127.0.0.1", 22, false, 0 },
	{ "fd00::/8", "fd12:3456::1", 22, true, 0 },
	{ "fd00::/8", "fe80::1", 22, false, 0 },
	{ "fd00::/8", "[fd00::abcd]", 22, true, 0 },
	{ "2001:db8::/32", "2001:DB8:0:1::5", 22, true, 0 },
	{ "2001:db8::/32", "2001:db9::5", 22, false, 0 },
	{ "::/0", "2001:db8::1", 22, true, 0 },
	{ "::/0", "192.0.2.1", 22, false, 0 },
	{ "2001:db8::1/128", "2001:db8::1", 22, true, 0 },
	{ "2001:db8::1/128", "2001:db8::2", 22, false, 0 },
	{ "2001:db8::/129", "2001:db8::1", 22, false, 1 },
	{ "fe80::1", "fe80::1%eth0", 22, true, 0 },
	{ "FD00::/8", "fd00::1", 22, true, 0 },
	{ "fd00:::1", "fd00::1", 22, false, 1 },

	/* bracketed IPv6 entries, with prefix and port */
	{ "[::1]", "::1", 22, true, 0 },
	{ "[::1]:22", "::1", 22, true, 0 },
	{ "[::1]:22", "[::1]", 2222, false, 0 },
	{ "[fd00::]/8", "fd00::5", 22, true, 0 },
	{ "[fd00::/8]", "fd00::5", 22, true, 0 },
	{ "[fd00::]/8:443", "fd00::5", 443, true, 0 },
	{ "[fd00::]/8:443", "fd00::5", 22, false, 0 },
	{ "[::1", "::1", 22, false, 1 },
	{ "[::1]x", "::1", 22, false, 1 },
	{ "[::1]:", "::1", 22, false, 1 },
	{ "[127.0.0.1]", "127.0.0.1", 22, false, 1 },
	{ "[fd00::/8]/8", "fd00::5", 22, false, 1 },

	/* ports */
	{ "example.com:22", "example.com", 22, true, 0 },
	{ "example.com:22", "a.example.com", 22, true, 0 },
	{ "example.com:22", "example.com", 443, false, 0 },
	{ "example.com:443,example.com:22", "example.com", 22, true, 0 },
	{ "10.0.0.0/8:22", "10.1.1.1", 22, true, 0 },
	{ "10.0.0.0/8:22", "10.1.1.1", 23, false, 0 },
	{ "192.0.2.7:80", "192.0.2.7", 80, true, 0 },
	{ "example.com:0", "example.com", 22, false, 1 },
	{ "example.com:65536", "example.com", 22, false, 1 },
	{ "example.com:65535", "example.com", 65535, true, 0 },
	{ "example.com:", "example.com", 22, false, 1 },
	{ "example.com:ssh", "example.com", 22, false, 1 },
	{ "example.com:+22", "example.com", 22, false, 1 },

	/* junk entries are skipped, the rest still work */
	{ "ex@mple.com", "ex@mple.com", 22, false, 1 },
	{ "exa mple.com", "mple.com", 22, true, 0 },
	{ "a..b", "a..b", 22, false, 1 },
	{ ".", "example.com", 22, false, 1 },
	{ "..", "example.com", 22, false, 1 },
	{ "*example.com", "example.com", 22, false, 1 },
	{ "http://example.com", "example.com", 22, false, 1 },
	{ "!!,example.com,%%", "example.com", 22, true, 2 },
	{ "junk/,foo;bar,example.com", "b.example.com", 22, true, 2 },
	{ "under_score.example", "x.under_score.example", 22, true, 0 },
};

static int nbad;

/* The list as shown in a TAP line: control bytes become '?'. */
static const char *
shown(const char *list)
{
	static char buf[256];
	size_t i;

	if (list == NULL)
		return "(null)";
	(void)snprintf(buf, sizeof(buf), "%s", list);
	for (i = 0; buf[i] != '\0'; i++)
		if ((unsigned char)buf[i] < 0x20)
			buf[i] = '?';
	return buf;
}

static void
count_bad(const char *entry, void *arg)
{
	(void)entry;
	(void)arg;
	nbad++;
}

static char last_bad[512];

static void
remember_bad(const char *entry, void *arg)
{
	(void)arg;
	(void)snprintf(last_bad, sizeof(last_bad), "%s", entry);
}

int
main(void)
{
	size_t i, n = sizeof(cases) / sizeof(cases[0]);
	int failed = 0, t = 0;
	char longlist[2048];
	bool m;

	printf("1..%zu\n", n + 4);
	for (i = 0; i < n; i++) {
		const struct tcase *c = &cases[i];

		nbad = 0;
		m = noproxy_match(c->list, c->host, c->port, count_bad, NULL);
		if (m == c->match && nbad == c->nbad)
			printf("ok %d - \"%s\" vs %s port %u: %s\n", ++t,
			    shown(c->list), c->host, c->port,
			    c->match ? "match" : "no match");
		else {
			failed = 1;
			printf("not ok %d - \"%s\" vs %s port %u: got %s with "
			    "%d bad, want %s with %d bad\n", ++t,
			    shown(c->list), c->host, c->port,
			    m ? "match" : "no match", nbad,
			    c->match ? "match" : "no match", c->nbad);
		}
	}

	/* The callback gets the entry as written, whitespace trimmed. */
	last_bad[0] = '\0';
	(void)noproxy_match(" good.example , b@d ", "x", 1, remember_bad, NULL);
	if (strcmp(last_bad, "b@d") == 0)
		printf("ok %d - bad entry reported as written\n", ++t);
	else {
		failed = 1;
		printf("not ok %d - bad entry reported as \"%s\"\n", ++t,
		    last_bad);
	}

	/* A NULL callback is allowed. */
	m = noproxy_match("b@d,example.com", "example.com", 22, NULL, NULL);
	printf("%sok %d - NULL callback\n", m ? "" : "not ", ++t);
	failed |= !m;

	/* An over-long entry is malformed, and reported truncated. */
	memset(longlist, 'a', sizeof(longlist) - 1);
	longlist[sizeof(longlist) - 1] = '\0';
	nbad = 0;
	m = noproxy_match(longlist, longlist, 22, count_bad, NULL);
	if (!m && nbad == 1)
		printf("ok %d - over-long entry is malformed\n", ++t);
	else {
		failed = 1;
		printf("not ok %d - over-long entry: match %d, bad %d\n", ++t,
		    m, nbad);
	}

	/* Bad entries after a match are still reported. */
	nbad = 0;
	m = noproxy_match("example.com,b@d", "example.com", 22, count_bad,
	    NULL);
	if (m && nbad == 1)
		printf("ok %d - entries after a match still checked\n", ++t);
	else {
		failed = 1;
		printf("not ok %d - after match: match %d, bad %d\n", ++t, m,
		    nbad);
	}
	return failed;
}
