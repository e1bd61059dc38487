/*
 * cidr.h: address ranges, for --allow-from and allow-from lines: which
 * clients a listener serves.
 */
#ifndef CULVERT_ROUTE_CIDR_H
#define CULVERT_ROUTE_CIDR_H

#include <stdbool.h>
#include <stddef.h>

struct sockaddr;

struct cidr {
	int		family;		/* AF_INET or AF_INET6 */
	unsigned char	addr[16];
	unsigned	bits;
};

/*
 * Parse "192.0.2.0/24", "10.1.2.3" (a /32), "::1", "[fd00::]/8" or
 * "fd00::/8".  0, or -1 with a message in err.
 */
int	cidr_parse(const char *s, struct cidr *c, char *err, size_t errlen);
/*
 * Does sa fall in c?  An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is
 * compared as the IPv4 address it carries.
 */
bool	cidr_match(const struct cidr *c, const struct sockaddr *sa);
/* The loopback ranges, 127.0.0.0/8 and ::1/128, into c[0..1]. */
void	cidr_loopback(struct cidr c[2]);

#endif
