/*
 * cidr.c: address ranges.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "route/cidr.h"
#include "util/num.h"

int
cidr_parse(const char *s, struct cidr *c, char *err, size_t errlen)
{
	char addr[64];
	const char *slash = strchr(s, '/');
	size_t len = slash != NULL ? (size_t)(slash - s) : strlen(s);
	unsigned max;

	memset(c, 0, sizeof(*c));
	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		s++;
		len -= 2;
	}
	if (len == 0 || len >= sizeof(addr)) {
		snprintf(err, errlen, "\"%.64s\" is not an address range (e.g. "
		    "192.0.2.0/24 or ::1)", s);
		return -1;
	}
	memcpy(addr, s, len);
	addr[len] = '\0';
	if (inet_pton(AF_INET, addr, c->addr) == 1) {
		c->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, c->addr) == 1) {
		c->family = AF_INET6;
		max = 128;
	} else {
		snprintf(err, errlen, "\"%s\" is not an IP address; address "
		    "ranges take addresses, not names (e.g. 192.0.2.0/24)",
		    addr);
		return -1;
	}
	c->bits = max;
	if (slash != NULL && num_parse_uint(slash + 1, max, &c->bits) == -1) {
		snprintf(err, errlen, "bad prefix length \"%.8s\" in \"%s/...\" "
		    "(0 to %u)", slash + 1, addr, max);
		return -1;
	}
	return 0;
}

static bool
prefix_equal(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a[full] ^ b[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}

bool
cidr_match(const struct cidr *c, const struct sockaddr *sa)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0xff, 0xff };
	const unsigned char *a;

	if (sa->sa_family == AF_INET) {
		a = (const unsigned char *)&((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr;
		return c->family == AF_INET && prefix_equal(a, c->addr,
		    c->bits);
	}
	if (sa->sa_family != AF_INET6)
		return false;
	a = (const unsigned char *)&((const struct sockaddr_in6 *)
	    (const void *)sa)->sin6_addr;
	if (c->family == AF_INET6)
		return prefix_equal(a, c->addr, c->bits);
	return memcmp(a, mapped, sizeof(mapped)) == 0 &&
	    prefix_equal(a + 12, c->addr, c->bits);
}

void
cidr_loopback(struct cidr c[2])
{
	memset(c, 0, 2 * sizeof(*c));
	c[0].family = AF_INET;
	c[0].addr[0] = 127;
	c[0].bits = 8;
	c[1].family = AF_INET6;
	c[1].addr[15] = 1;
	c[1].bits = 128;
}
