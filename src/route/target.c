/*
 * target.c: HOST and PORT validation.
 */
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "route/target.h"
#include "util/num.h"

int
target_is_ipv6(const char *host)
{
	return strchr(host, ':') != NULL;
}

int
target_check_host(const char *host, char *err, size_t errlen)
{
	size_t i, len = strlen(host);

	if (len == 0) {
		snprintf(err, errlen, "empty host name");
		return -1;
	}
	if (len > 255) {
		snprintf(err, errlen, "host name is longer than 255 bytes");
		return -1;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)host[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '-' ||
		    c == '_' || c == ':' || c == '%')
			continue;
		if (c < 0x20 || c == 0x7f)
			snprintf(err, errlen, "host name contains control byte "
			    "0x%02x; host names may hold only letters, digits, "
			    "'.', '-', '_' (and ':' in IPv6 literals)", c);
		else if (c >= 0x80)
			snprintf(err, errlen, "host name contains a non-ASCII "
			    "byte; give internationalised names in their "
			    "punycode (xn--) form");
		else
			snprintf(err, errlen, "host name contains '%c'; spaces "
			    "and shell metacharacters are refused, host names "
			    "may hold only letters, digits, '.', '-', '_' (and "
			    "':' in IPv6 literals)", c);
		return -1;
	}
	if (strchr(host, ':') != NULL) {
		struct in6_addr a;
		char tmp[256];
		char *pct;

		memcpy(tmp, host, len + 1);
		if ((pct = strchr(tmp, '%')) != NULL)
			*pct = '\0';
		if (inet_pton(AF_INET6, tmp, &a) != 1) {
			snprintf(err, errlen, "\"%s\" is neither a host name "
			    "nor an IPv6 address", host);
			return -1;
		}
	} else if (strchr(host, '%') != NULL) {
		snprintf(err, errlen, "host name contains '%%'; only IPv6 "
		    "literals may carry a zone");
		return -1;
	}
	return 0;
}

int
target_parse_port(const char *s, unsigned *port)
{
	if (num_parse_uint(s, 65535, port) == -1 || *port == 0)
		return -1;
	return 0;
}

int
target_parse(struct target *t, const char *host, const char *port,
    char *err, size_t errlen)
{
	size_t len = strlen(host);

	if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
		if (len - 2 >= sizeof(t->host)) {
			snprintf(err, errlen, "host name is longer than 255 "
			    "bytes");
			return -1;
		}
		memcpy(t->host, host + 1, len - 2);
		t->host[len - 2] = '\0';
		if (!target_is_ipv6(t->host)) {
			snprintf(err, errlen, "brackets are only for IPv6 "
			    "addresses");
			return -1;
		}
	} else {
		if (len >= sizeof(t->host)) {
			snprintf(err, errlen, "host name is longer than 255 "
			    "bytes");
			return -1;
		}
		memcpy(t->host, host, len + 1);
	}
	if (target_check_host(t->host, err, errlen) == -1)
		return -1;
	if (target_parse_port(port, &t->port) == -1) {
		char shown[16];
		size_t i;

		snprintf(shown, sizeof(shown), "%s", port);
		for (i = 0; shown[i] != '\0'; i++)
			if ((unsigned char)shown[i] < 0x20 ||
			    (unsigned char)shown[i] >= 0x7f)
				shown[i] = '?';
		snprintf(err, errlen, "bad port \"%s%s\": give a decimal "
		    "number from 1 to 65535", shown,
		    strlen(port) >= sizeof(shown) ? "..." : "");
		return -1;
	}
	return 0;
}

void
target_format(const char *host, unsigned port, char *buf, size_t len)
{
	if (target_is_ipv6(host))
		snprintf(buf, len, "[%s]:%u", host, port);
	else
		snprintf(buf, len, "%s:%u", host, port);
}
