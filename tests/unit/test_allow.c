/*
 * test_allow.c: culvert serve's --allow rules (route/allow.h),
 * table-driven: which rules parse, and which names and addresses each
 * rule set lets through on which port.  TAP.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route/allow.h"

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

static void
test_parse(void)
{
	static const struct {
		const char	*rule;
		int		 rc;
		bool		 is_addr;
		unsigned	 port;
		const char	*name;	/* name rules: as kept */
		const char	*err;	/* substring, when rc is -1 */
	} c[] = {
		{ "example.com:22", 0, false, 22, "example.com", NULL },
		{ "Example.COM:443", 0, false, 443, "example.com", NULL },
		{ "*.example.com:22", 0, false, 22, "*.example.com", NULL },
		/* a fully qualified name: the same name */
		{ "example.com.:22", 0, false, 22, "example.com", NULL },
		{ "*.example.com.:22", 0, false, 22, "*.example.com", NULL },
		{ "host:*", 0, false, 0, "host", NULL },
		{ "10.0.0.0/8:*", 0, true, 0, NULL, NULL },
		{ "192.0.2.7:443", 0, true, 443, NULL, NULL },
		{ "[::1]:*", 0, true, 0, NULL, NULL },
		{ "[fd00::]/8:22", 0, true, 22, NULL, NULL },
		{ "example.com", -1, false, 0, NULL, "HOST:PORT" },
		{ ":22", -1, false, 0, NULL, "HOST:PORT" },
		{ "example.com:", -1, false, 0, NULL, "bad port" },
		{ "example.com:0", -1, false, 0, NULL, "bad port" },
		{ "example.com:65536", -1, false, 0, NULL, "bad port" },
		{ "example.com:2x", -1, false, 0, NULL, "bad port" },
		{ "example.com:**", -1, false, 0, NULL, "bad port" },
		{ "*:22", -1, false, 0, NULL, NULL },
		{ "*.*.com:22", -1, false, 0, NULL, NULL },
		{ "a*b.com:22", -1, false, 0, NULL, NULL },
		{ "exa mple.com:22", -1, false, 0, NULL, NULL },
		{ "10.0.0.0/33:*", -1, false, 0, NULL, NULL },
		{ "[example.com]:22", -1, false, 0, NULL, NULL },
	};
	struct allow a;
	char err[300], what[120];
	size_t i;
	int rc;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		memset(&a, 0, sizeof(a));
		err[0] = '\0';
		rc = allow_add(&a, c[i].rule, err, sizeof(err));
		(void)snprintf(what, sizeof(what), "allow rule \"%s\" %s",
		    c[i].rule, c[i].rc == 0 ? "parses" : "is refused");
		if (c[i].rc == 0)
			result(rc == 0 && a.n == 1 && a.rule[0].is_addr ==
			    c[i].is_addr && a.rule[0].port == c[i].port &&
			    (c[i].name == NULL || strcmp(a.rule[0].name,
			    c[i].name) == 0), what, err);
		else
			result(rc == -1 && a.n == 0 && err[0] != '\0' &&
			    (c[i].err == NULL || strstr(err, c[i].err) != NULL),
			    what, err);
		allow_free(&a);
	}
}

/* A sockaddr for the literal s (IPv4 or IPv6). */
static const struct sockaddr *
addr(const char *s, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &((struct sockaddr_in *)ss)->sin_addr) ==
	    1)
		ss->ss_family = AF_INET;
	else if (inet_pton(AF_INET6, s,
	    &((struct sockaddr_in6 *)ss)->sin6_addr) == 1)
		ss->ss_family = AF_INET6;
	return (const struct sockaddr *)ss;
}

#define RULES_MAX	4

static void
test_match(void)
{
	static const struct {
		const char	*rules[RULES_MAX];
		const char	*target;	/* a name, or an address */
		bool		 is_addr;
		unsigned	 port;
		bool		 allowed;
	} c[] = {
		{ { "example.com:22" }, "example.com", false, 22, true },
		{ { "example.com:22" }, "EXAMPLE.com", false, 22, true },
		{ { "example.com:22" }, "example.com.", false, 22, true },
		{ { "example.com:22" }, "example.com", false, 23, false },
		{ { "example.com:22" }, "www.example.com", false, 22, false },
		{ { "example.com:22" }, "example.co", false, 22, false },
		{ { "example.com:22" }, "xexample.com", false, 22, false },
		{ { "example.com:*" }, "example.com", false, 65535, true },
		{ { "example.com.:22" }, "example.com", false, 22, true },
		{ { "example.com.:22" }, "example.com.", false, 22, true },
		{ { "*.example.com.:22" }, "a.example.com", false, 22, true },
		{ { "*.example.com:22" }, "a.example.com", false, 22, true },
		{ { "*.example.com:22" }, "a.b.example.com", false, 22, true },
		{ { "*.example.com:22" }, "A.Example.Com.", false, 22, true },
		{ { "*.example.com:22" }, "example.com", false, 22, false },
		{ { "*.example.com:22" }, ".example.com", false, 22, false },
		{ { "*.example.com:22" }, "aexample.com", false, 22, false },
		{ { "*.example.com:22" }, "a.example.com.evil", false, 22,
		    false },
		{ { "*.example.com:22" }, "a.example.com", false, 80, false },
		/* name rules never pass an address, address rules no name */
		{ { "example.com:22" }, "192.0.2.1", true, 22, false },
		{ { "192.0.2.1:22" }, "192.0.2.1", true, 22, true },
		{ { "192.0.2.1:22" }, "192.0.2.1", false, 22, false },
		{ { "192.0.2.1:22" }, "192.0.2.2", true, 22, false },
		{ { "192.0.2.1:22" }, "192.0.2.1", true, 80, false },
		{ { "10.0.0.0/8:*" }, "10.255.0.1", true, 1, true },
		{ { "10.0.0.0/8:*" }, "11.0.0.1", true, 1, false },
		{ { "10.0.0.0/8:*" }, "::ffff:10.1.2.3", true, 22, true },
		{ { "[::1]:*" }, "::1", true, 22, true },
		{ { "[::1]:*" }, "::2", true, 22, false },
		{ { "[::1]:*" }, "127.0.0.1", true, 22, false },
		{ { "[fd00::]/8:22" }, "fdff::1", true, 22, true },
		{ { "[fd00::]/8:22" }, "fe00::1", true, 22, false },
		/* several rules: any one is enough */
		{ { "a.example:22", "192.0.2.0/24:443", "*.b.example:*" },
		    "x.b.example", false, 9, true },
		{ { "a.example:22", "192.0.2.0/24:443", "*.b.example:*" },
		    "192.0.2.200", true, 443, true },
		{ { "a.example:22", "192.0.2.0/24:443", "*.b.example:*" },
		    "192.0.2.200", true, 22, false },
		{ { "a.example:22", "192.0.2.0/24:443", "*.b.example:*" },
		    "a.example", false, 443, false },
		/* no rule: nothing */
		{ { NULL }, "example.com", false, 22, false },
		{ { NULL }, "127.0.0.1", true, 22, false },
	};
	struct sockaddr_storage ss;
	struct allow a;
	char err[300], what[200];
	size_t i, k;
	bool got;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		memset(&a, 0, sizeof(a));
		for (k = 0; k < RULES_MAX && c[i].rules[k] != NULL; k++)
			if (allow_add(&a, c[i].rules[k], err, sizeof(err)) ==
			    -1)
				break;
		if (k < RULES_MAX && c[i].rules[k] != NULL) {
			result(false, c[i].rules[k], err);
			allow_free(&a);
			continue;
		}
		got = c[i].is_addr ? allow_addr(&a, addr(c[i].target, &ss),
		    c[i].port) : allow_name(&a, c[i].target, c[i].port);
		(void)snprintf(what, sizeof(what), "rules %s%s%s%s%s: %s %s "
		    "port %u %s", c[i].rules[0] != NULL ? c[i].rules[0] :
		    "(none)", c[i].rules[1] != NULL ? ", " : "",
		    c[i].rules[1] != NULL ? c[i].rules[1] : "",
		    c[i].rules[2] != NULL ? ", " : "",
		    c[i].rules[2] != NULL ? c[i].rules[2] : "",
		    c[i].is_addr ? "address" : "name", c[i].target,
		    c[i].port, c[i].allowed ? "allowed" : "refused");
		result(got == c[i].allowed, what, NULL);
		allow_free(&a);
	}
}

/* Many rules: the table grows. */
static void
test_many(void)
{
	struct sockaddr_storage ss;
	struct allow a;
	char rule[64], err[300];
	unsigned i;
	bool ok = true;

	memset(&a, 0, sizeof(a));
	for (i = 1; i <= 100 && ok; i++) {
		(void)snprintf(rule, sizeof(rule), "192.0.2.%u:%u", i,
		    1000 + i);
		ok = allow_add(&a, rule, err, sizeof(err)) == 0;
	}
	result(ok && a.n == 100, "100 rules are kept", err);
	result(allow_addr(&a, addr("192.0.2.100", &ss), 1100) &&
	    !allow_addr(&a, addr("192.0.2.100", &ss), 1099),
	    "the last of 100 rules still counts", NULL);
	allow_free(&a);
	result(a.n == 0 && a.rule == NULL, "allow_free empties the table",
	    NULL);
}

int
main(void)
{
	test_parse();
	test_match();
	test_many();
	printf("1..%d\n", t);
	return failed;
}
