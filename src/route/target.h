/*
 * target.h: validation of the HOST and PORT culvert is asked to reach.
 * HOST often comes from ssh's %h, which attackers can influence, so it is
 * checked against a strict allowlist before anything is sent.
 */
#ifndef CULVERT_TARGET_H
#define CULVERT_TARGET_H

#include <stddef.h>

struct target {
	char		host[256];	/* IPv6 literal without brackets */
	unsigned	port;
};

/* 0 when host is a plausible DNS name or IP literal, else -1 and err. */
int	target_check_host(const char *host, char *err, size_t errlen);
/* Decimal 1-65535 only; -1 otherwise. */
int	target_parse_port(const char *s, unsigned *port);
/* Fill *t from HOST and PORT arguments (brackets around IPv6 allowed). */
int	target_parse(struct target *t, const char *host, const char *port,
	    char *err, size_t errlen);
/* "host:port" with IPv6 bracketed, as CONNECT and Host: want it. */
void	target_format(const char *host, unsigned port, char *buf, size_t len);
/* 1 if host is an IPv6 literal (contains ':'). */
int	target_is_ipv6(const char *host);

#endif
