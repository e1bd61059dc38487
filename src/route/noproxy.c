/*
 * noproxy.c: the NO_PROXY matcher, after curl's documented rules.
 *
 * A list holds entries separated by commas and/or white space:
 *
 *	*			the whole list being just "*": every target
 *	example.com		that name and every name under it
 *	.example.com		the same (the leading dot is optional)
 *	*.example.com		the same (accepted because people write it)
 *	192.0.2.7		that IPv4 literal
 *	10.0.0.0/8		IPv4 literals in that range
 *	::1  fd00::/8		IPv6 literals, without a port
 *	[::1]  [fd00::]/8	IPv6, bracketed
 *	ENTRY:PORT		any of the above (IPv6 only bracketed) on that
 *				port only; without a port every port matches
 *
 * Names compare case-insensitively and only against names; addresses only
 * against address literals (nothing is resolved).  Malformed entries,
 * including a "*" that is not alone (curl treats that as the name "*",
 * which matches nothing), are skipped and reported.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "route/noproxy.h"
#include "util/num.h"

#define ENTRY_MAX	300	/* longer entries are malformed */
#define NAME_MAX_LEN	255

enum kind {
	KIND_NAME,
	KIND_V4,
	KIND_V6
};

/* A parsed list entry or target; name points into caller storage. */
struct np_item {
	enum kind	 kind;
	const char	*name;		/* KIND_NAME, no leading/trailing dot */
	size_t		 namelen;
	unsigned char	 addr[16];
	unsigned	 prefix;	/* bits that must match */
	unsigned	 port;		/* 0: any */
};

static const char SEPARATORS[] = ", \t\r\n\f\v";

static int
parse_port(const char *s, unsigned *port)
{
	if (num_parse_uint(s, 65535, port) == -1 || *port == 0)
		return -1;
	return 0;
}

/* "addr" or "addr/prefix" (modified in place) into an address item. */
static int
parse_addr(char *s, int af, struct np_item *it)
{
	char *slash;
	unsigned max = af == AF_INET ? 32 : 128;

	it->kind = af == AF_INET ? KIND_V4 : KIND_V6;
	it->prefix = max;
	if ((slash = strchr(s, '/')) != NULL) {
		*slash = '\0';
		if (num_parse_uint(slash + 1, max, &it->prefix) == -1)
			return -1;
	}
	if (inet_pton(af, s, it->addr) != 1)
		return -1;
	return 0;
}

/* Digits and dots only: an IPv4 address, or junk such as "10.0". */
static bool
all_digits_dots(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((s[i] < '0' || s[i] > '9') && s[i] != '.')
			return false;
	return true;
}

/* A name entry: letters, digits, '-', '_', nonempty dot-separated labels. */
static int
parse_name(char *s, struct np_item *it)
{
	size_t len, i;

	if (s[0] == '*' && s[1] == '.')
		s++;
	if (s[0] == '.')
		s++;
	len = strlen(s);
	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0 || len > NAME_MAX_LEN || all_digits_dots(s, len))
		return -1;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (i == 0 || s[i - 1] == '.')
				return -1;
		} else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return -1;
	}
	it->kind = KIND_NAME;
	it->name = s;
	it->namelen = len;
	return 0;
}

/* Parse one entry (modified in place; it->name may point into it). */
static int
parse_entry(char *s, struct np_item *it)
{
	char *p, *close;

	it->port = 0;
	if (s[0] == '[') {
		char *colon = NULL;
		unsigned bits = 0;

		if ((close = strchr(s, ']')) == NULL)
			return -1;
		*close = '\0';
		p = close + 1;
		if (*p == '/' || *p == ':')
			colon = strchr(p, ':');
		if (colon != NULL) {
			*colon = '\0';
			if (parse_port(colon + 1, &it->port) == -1)
				return -1;
		}
		/* "[fd00::]/8" means what "[fd00::/8]" means. */
		if (*p == '/' && (strchr(s + 1, '/') != NULL ||
		    num_parse_uint(p + 1, 128, &bits) == -1))
			return -1;
		if (*p != '\0' && *p != '/' && p != colon)
			return -1;
		if (parse_addr(s + 1, AF_INET6, it) == -1)
			return -1;
		if (*p == '/')
			it->prefix = bits;
		return 0;
	}
	p = strchr(s, ':');
	if (p != NULL && strchr(p + 1, ':') != NULL)
		return parse_addr(s, AF_INET6, it);	/* bare IPv6, no port */
	if (p != NULL) {
		*p = '\0';
		if (parse_port(p + 1, &it->port) == -1)
			return -1;
	}
	if (strchr(s, '/') != NULL)
		return parse_addr(s, AF_INET, it);
	if (all_digits_dots(s, strlen(s)))
		return parse_addr(s, AF_INET, it);
	return parse_name(s, it);
}

/*
 * The target as an item: brackets and an IPv6 zone ("%eth0") dropped for
 * address literals, one trailing dot dropped for names.  buf holds the
 * address text while it is parsed.
 */
static void
parse_target(const char *host, unsigned port, struct np_item *t)
{
	char buf[64];
	size_t len = strlen(host);
	char *pct;

	t->port = port;
	t->prefix = 0;
	if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
		host++;
		len -= 2;
	}
	if (len < sizeof(buf)) {
		memcpy(buf, host, len);
		buf[len] = '\0';
		if (inet_pton(AF_INET, buf, t->addr) == 1) {
			t->kind = KIND_V4;
			return;
		}
		if ((pct = strchr(buf, '%')) != NULL)
			*pct = '\0';
		if (inet_pton(AF_INET6, buf, t->addr) == 1) {
			t->kind = KIND_V6;
			return;
		}
	}
	if (len > 0 && host[len - 1] == '.')
		len--;
	t->kind = KIND_NAME;
	t->name = host;
	t->namelen = len;
}

static bool
prefix_equal(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	unsigned bytes = bits / 8, rest = bits % 8;
	unsigned char mask;

	if (memcmp(a, b, bytes) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (unsigned char)(0xff << (8 - rest));
	return ((a[bytes] ^ b[bytes]) & mask) == 0;
}

static bool
item_match(const struct np_item *e, const struct np_item *t)
{
	if (e->port != 0 && e->port != t->port)
		return false;
	if (e->kind != t->kind)
		return false;
	if (e->kind != KIND_NAME)
		return prefix_equal(e->addr, t->addr, e->prefix);
	if (e->namelen == t->namelen)
		return strncasecmp(e->name, t->name, e->namelen) == 0;
	if (e->namelen < t->namelen)
		return t->name[t->namelen - e->namelen - 1] == '.' &&
		    strncasecmp(e->name, t->name + t->namelen - e->namelen,
		    e->namelen) == 0;
	return false;
}

/* Copy the token at s (len bytes) for parsing or reporting, truncated. */
static void
copy_token(char *dst, size_t dstlen, const char *s, size_t len)
{
	if (len >= dstlen)
		len = dstlen - 1;
	memcpy(dst, s, len);
	dst[len] = '\0';
}

bool
noproxy_match(const char *list, const char *host, unsigned port,
    noproxy_bad_fn *bad, void *arg)
{
	struct np_item t, e;
	char work[ENTRY_MAX + 1], shown[ENTRY_MAX + 1];
	const char *p;
	size_t len, ntokens = 0;
	bool star = false, matched = false;

	if (list == NULL || host == NULL || *host == '\0')
		return false;

	/* "*" means everything only when it is the whole list. */
	for (p = list; *(p += strspn(p, SEPARATORS)) != '\0'; p += len) {
		len = strcspn(p, SEPARATORS);
		ntokens++;
		if (len == 1 && *p == '*')
			star = true;
	}
	if (star && ntokens == 1)
		return true;

	parse_target(host, port, &t);
	for (p = list; *(p += strspn(p, SEPARATORS)) != '\0'; p += len) {
		len = strcspn(p, SEPARATORS);
		copy_token(work, sizeof(work), p, len);
		if (len > ENTRY_MAX || parse_entry(work, &e) == -1) {
			if (bad != NULL) {
				copy_token(shown, sizeof(shown), p, len);
				bad(shown, arg);
			}
			continue;
		}
		if (!matched && item_match(&e, &t))
			matched = true;
	}
	return matched;
}
