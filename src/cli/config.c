/*
 * config.c: reading listen mode's configuration file (see config.h).
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli/config.h"
#include "route/route.h"
#include "util/num.h"

#define CONFIG_LINE_MAX	4096
#define CONFIG_WORDS	6

/* What the lines so far have set, for the lines after them. */
struct state {
	char		*proxy;
	char		*noproxy;
	double		 timeout;
	double		 retry;
	struct cidr	 allow[CONFIG_ALLOW_MAX];
	size_t		 nallow;
};

bool
config_bind_loopback(const char *bind)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (inet_pton(AF_INET, bind, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return inet_pton(AF_INET6, bind, &a6) == 1 &&
	    IN6_IS_ADDR_LOOPBACK(&a6);
}

int
config_parse_bind(const char *s, char *bind, size_t bindlen, unsigned *port,
    char *err, size_t errlen)
{
	const char *colon = strrchr(s, ':'), *p = s;
	size_t len;
	unsigned char a[16];

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (rb == NULL || rb[1] != ':') {
			snprintf(err, errlen, "\"%.60s\": want [ADDRESS]:PORT",
			    s);
			return -1;
		}
		p = s + 1;
		len = (size_t)(rb - p);
		colon = rb + 1;
	} else if (colon != NULL) {
		if (memchr(s, ':', (size_t)(colon - s)) != NULL) {
			snprintf(err, errlen, "\"%.60s\": put an IPv6 address "
			    "in brackets, [::1]:PORT", s);
			return -1;
		}
		len = (size_t)(colon - s);
	} else {
		len = 0;
		colon = s - 1;
	}
	if (len == 0)
		snprintf(bind, bindlen, "127.0.0.1");
	else if (len == 9 && strncasecmp(p, "localhost", 9) == 0)
		snprintf(bind, bindlen, "127.0.0.1");
	else if (len >= bindlen) {
		snprintf(err, errlen, "\"%.60s\" is not an IP address", p);
		return -1;
	} else {
		memcpy(bind, p, len);
		bind[len] = '\0';
		if (inet_pton(AF_INET, bind, a) != 1 &&
		    inet_pton(AF_INET6, bind, a) != 1) {
			snprintf(err, errlen, "\"%s\" is not an IP address: "
			    "listeners bind to an address (or localhost)",
			    bind);
			return -1;
		}
	}
	if (target_parse_port(colon + 1, port) == -1) {
		snprintf(err, errlen, "bad port \"%.20s\": give a number from "
		    "1 to 65535", colon + 1);
		return -1;
	}
	return 0;
}

bool
config_same_bind(const struct lspec *a, const struct lspec *b)
{
	return a->port == b->port && strcmp(a->bind, b->bind) == 0;
}

int
config_add(struct lconfig *c, const struct lspec *s, char *err,
    size_t errlen)
{
	size_t i;

	if (c->n == CONFIG_LISTEN_MAX) {
		snprintf(err, errlen, "more than %d listeners",
		    CONFIG_LISTEN_MAX);
		return -1;
	}
	for (i = 0; i < c->n; i++)
		if (config_same_bind(&c->spec[i], s)) {
			snprintf(err, errlen, "%s port %u is used twice",
			    s->bind, s->port);
			return -1;
		}
	c->spec[c->n++] = *s;
	return 0;
}

void
config_free(struct lconfig *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->spec[i].proxy);
		free(c->spec[i].noproxy);
		free(c->spec[i].tunnel);
	}
	c->n = 0;
}

/* Split line into at most CONFIG_WORDS words; -1 when there are more. */
static int
split(char *line, char **w, size_t *n)
{
	char *p = line;

	*n = 0;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#')
			return 0;
		if (*n == CONFIG_WORDS)
			return -1;
		w[(*n)++] = p;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
		if (*p != '\0')
			*p++ = '\0';
	}
}

/*
 * Check a proxy spec as route_add() will read it; *creds is set when it
 * holds a user name or password.
 */
static int
check_proxy(const char *spec, bool *creds, char *err, size_t errlen)
{
	struct route *r;
	size_t h, a;
	int rc;

	if (strcasecmp(spec, "direct") == 0)
		return 0;
	if ((r = route_new()) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = route_add(r, spec, err, errlen);
	for (h = 0; h < r->nhops; h++)
		for (a = 0; a < r->hop[h].nalt; a++)
			if (r->hop[h].alt[a].creds != NULL)
				*creds = true;
	route_unref(r);
	return rc;
}

static int
set_string(char **slot, const char *v, char *err, size_t errlen)
{
	free(*slot);
	if ((*slot = strdup(v)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* The listener of a forward or socks line, with what the lines set. */
static int
listener(struct lconfig *c, struct state *st, char **w, size_t n,
    unsigned line, bool *creds, char *err, size_t errlen)
{
	struct lspec s;
	const char *via = NULL, *tunnel = NULL;
	size_t args = strcmp(w[0], "forward") == 0 ? 3 : 2;

	memset(&s, 0, sizeof(s));
	s.kind = args == 3 ? LISTEN_FORWARD : LISTEN_DYNAMIC;
	s.line = line;
	if (n < args) {
		snprintf(err, errlen, "%s", s.kind == LISTEN_FORWARD ?
		    "forward wants [BIND:]PORT HOST:PORT [via URL | direct]" :
		    "socks wants [BIND:]PORT");
		return -1;
	}
	if (config_parse_bind(w[1], s.bind, sizeof(s.bind), &s.port, err,
	    errlen) == -1)
		return -1;
	if (s.kind == LISTEN_FORWARD) {
		char host[300], *colon;

		snprintf(host, sizeof(host), "%s", w[2]);
		colon = strrchr(host, ':');
		if (colon == NULL) {
			snprintf(err, errlen, "forward target \"%.60s\" wants "
			    "HOST:PORT", w[2]);
			return -1;
		}
		*colon = '\0';
		if (target_parse(&s.target, host, colon + 1, err, errlen) == -1)
			return -1;
		if (n == 4 && strcasecmp(w[3], "direct") == 0)
			via = "direct";
		else if (n == 5 && strcmp(w[3], "via") == 0 &&
		    strncmp(w[4], "tunnel+", 7) == 0) {
			if (strncasecmp(w[4] + 7, "http://", 7) != 0) {
				snprintf(err, errlen, "via tunnel+http://SERVER:"
				    "PORT/ names a culvert serve");
				return -1;
			}
			tunnel = w[4] + 7;
		} else if (n == 5 && strcmp(w[3], "via") == 0) {
			if (check_proxy(w[4], creds, err, errlen) == -1)
				return -1;
			via = w[4];
		} else if (n != 3) {
			snprintf(err, errlen, "after the target, only \"via "
			    "URL\" or \"direct\"");
			return -1;
		}
	} else if (n != 2) {
		snprintf(err, errlen, "socks takes only [BIND:]PORT");
		return -1;
	}
	s.timeout = st->timeout;
	s.retry = st->retry;
	memcpy(s.allow, st->allow, sizeof(s.allow));
	s.nallow = st->nallow;
	if ((via != NULL || st->proxy != NULL) && (s.proxy = strdup(via != NULL ?
	    via : st->proxy)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((st->noproxy != NULL && (s.noproxy = strdup(st->noproxy)) ==
	    NULL) || (tunnel != NULL && (s.tunnel = strdup(tunnel)) == NULL)) {
		free(s.proxy);
		free(s.noproxy);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (config_add(c, &s, err, errlen) == -1) {
		free(s.proxy);
		free(s.noproxy);
		free(s.tunnel);
		return -1;
	}
	return 0;
}

/* One line; -1 with the message (without the file and line) in err. */
static int
directive(struct lconfig *c, struct state *st, char *text, unsigned line,
    bool *creds, char *err, size_t errlen)
{
	char *w[CONFIG_WORDS];
	size_t n;

	if (split(text, w, &n) == -1) {
		snprintf(err, errlen, "too many words");
		return -1;
	}
	if (n == 0)
		return 0;
	if (strcmp(w[0], "forward") == 0 || strcmp(w[0], "socks") == 0)
		return listener(c, st, w, n, line, creds, err, errlen);
	if (n != 2) {
		snprintf(err, errlen, "%.20s wants one value", w[0]);
		return -1;
	}
	if (strcmp(w[0], "proxy") == 0) {
		if (check_proxy(w[1], creds, err, errlen) == -1)
			return -1;
		return set_string(&st->proxy, w[1], err, errlen);
	}
	if (strcmp(w[0], "no-proxy") == 0)
		return set_string(&st->noproxy, w[1], err, errlen);
	if (strcmp(w[0], "retry") == 0) {
		if (num_parse_seconds(w[1], 86400, &st->retry) == -1) {
			snprintf(err, errlen, "bad retry \"%.20s\": give "
			    "seconds, e.g. 60", w[1]);
			return -1;
		}
		return 0;
	}
	if (strcmp(w[0], "timeout") == 0) {
		if (num_parse_seconds(w[1], 86400, &st->timeout) == -1) {
			snprintf(err, errlen, "bad timeout \"%.20s\": give "
			    "seconds, e.g. 10 or 2.5 (0 for none)", w[1]);
			return -1;
		}
		return 0;
	}
	if (strcmp(w[0], "allow-from") == 0) {
		if (st->nallow == CONFIG_ALLOW_MAX) {
			snprintf(err, errlen, "more than %d allow-from lines",
			    CONFIG_ALLOW_MAX);
			return -1;
		}
		return cidr_parse(w[1], &st->allow[st->nallow++], err, errlen);
	}
	snprintf(err, errlen, "unknown directive \"%.30s\" (proxy, no-proxy, "
	    "timeout, allow-from, retry, forward, socks)", w[0]);
	return -1;
}

int
config_load(const char *path, struct lconfig *c, char *err, size_t errlen)
{
	char line[CONFIG_LINE_MAX], msg[512];
	struct state st;
	struct stat sb;
	unsigned lineno = 0, credline = 0;
	bool creds;
	FILE *fp;
	int rc = 0;

	memset(c, 0, sizeof(*c));
	memset(&st, 0, sizeof(st));
	st.timeout = -1;
	st.retry = -1;
	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(fp), &sb) == 0)
		c->private = S_ISREG(sb.st_mode) && (sb.st_mode & 077) == 0 &&
		    sb.st_uid == getuid();
	while (fgets(line, sizeof(line), fp) != NULL) {
		size_t len = strlen(line);

		lineno++;
		if (len > 0 && line[len - 1] != '\n' && !feof(fp)) {
			snprintf(err, errlen, "%s:%u: line longer than %d "
			    "bytes", path, lineno, CONFIG_LINE_MAX - 2);
			rc = -1;
			break;
		}
		line[strcspn(line, "\r\n")] = '\0';
		creds = false;
		if (directive(c, &st, line, lineno, &creds, msg,
		    sizeof(msg)) == -1) {
			snprintf(err, errlen, "%s:%u: %s", path, lineno, msg);
			rc = -1;
			break;
		}
		if (creds && credline == 0)
			credline = lineno;
	}
	if (rc == 0 && ferror(fp)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		rc = -1;
	}
	fclose(fp);
	if (rc == 0 && credline != 0 && !c->private) {
		snprintf(err, errlen, "%s:%u: a proxy password in a file that "
		    "others can read or that is not yours: chmod 600 %s, or "
		    "give credentials with -U and CULVERT_PROXY_PASSWORD",
		    path, credline, path);
		rc = -1;
	}
	if (rc == 0 && c->n == 0) {
		snprintf(err, errlen, "%s: no forward or socks line: nothing "
		    "to listen on", path);
		rc = -1;
	}
	memset(line, 0, sizeof(line));
	free(st.proxy);
	free(st.noproxy);
	if (rc == -1)
		config_free(c);
	return rc;
}
