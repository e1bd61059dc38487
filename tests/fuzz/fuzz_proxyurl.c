/*
 * fuzz_proxyurl.c: libFuzzer harness for the proxy URL parser
 * (proxyurl.h) and the target checks (target.h), which see user input
 * (-p, the environment, ssh's %h and %p).
 *
 * Input: a proxy URL, then '\n', a target host, '\n', a target port.
 * Each part is copied to an exactly sized NUL-terminated buffer.
 * proxyurl_parse() runs with and without a creds structure, then
 * proxy_format(); target_parse() and target_format() run on the target.
 * Checks that results are NUL-terminated and that a parsed proxy and
 * target round-trip through their format functions.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/creds.h"
#include "route/proxyurl.h"
#include "route/target.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char *
take_part(const uint8_t **p, size_t *left)
{
	const uint8_t *nl = memchr(*p, '\n', *left);
	size_t n = nl != NULL ? (size_t)(nl - *p) : *left;
	char *s = malloc(n + 1);

	if (s != NULL) {
		memcpy(s, *p, n);
		s[n] = '\0';
	}
	*p += n;
	*left -= n;
	if (nl != NULL) {
		(*p)++;
		(*left)--;
	}
	return s;
}

static void
check_string(const char *s, size_t size)
{
	if (memchr(s, '\0', size) == NULL)
		abort();
}

static void
fuzz_proxy(const char *url)
{
	struct proxy p, p2;
	struct creds *c;
	char err[256], fmt[300];

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return;
	err[0] = '\0';
	if (proxyurl_parse(url, &p, c, err, sizeof(err)) == 0) {
		check_string(p.host, sizeof(p.host));
		check_string(c->user, sizeof(c->user));
		check_string(c->pass, sizeof(c->pass));
		if (p.port == 0 || p.port > 65535)
			abort();
		(void)proxy_scheme_name(p.scheme);
		proxy_format(&p, fmt, sizeof(fmt));
		check_string(fmt, sizeof(fmt));
	} else {
		check_string(err, sizeof(err));
		if (err[0] == '\0')
			abort();
	}
	creds_wipe(c);
	free(c);
	if (proxyurl_parse(url, &p2, NULL, err, sizeof(err)) == -1)
		check_string(err, sizeof(err));
}

static void
fuzz_target(const char *host, const char *port)
{
	struct target t, t2;
	char err[256], fmt[300], *h, *colon;
	unsigned pn;

	(void)target_check_host(host, err, sizeof(err));
	(void)target_parse_port(port, &pn);
	err[0] = '\0';
	if (target_parse(&t, host, port, err, sizeof(err)) == -1) {
		check_string(err, sizeof(err));
		if (err[0] == '\0')
			abort();
		return;
	}
	check_string(t.host, sizeof(t.host));
	if (t.port == 0 || t.port > 65535)
		abort();
	target_format(t.host, t.port, fmt, sizeof(fmt));
	check_string(fmt, sizeof(fmt));
	/* "host:port" or "[v6]:port" must parse back to the same target. */
	if ((colon = strrchr(fmt, ':')) == NULL)
		abort();
	*colon = '\0';
	h = strdup(fmt);
	if (h != NULL && target_parse(&t2, h, colon + 1, err,
	    sizeof(err)) == 0) {
		if (strcmp(t.host, t2.host) != 0 || t.port != t2.port)
			abort();
	} else if (h != NULL)
		abort();	/* formatted target does not parse back */
	free(h);
	(void)target_is_ipv6(t.host);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *url, *host, *port;

	url = take_part(&data, &size);
	host = take_part(&data, &size);
	port = take_part(&data, &size);
	if (url != NULL && host != NULL && port != NULL) {
		fuzz_proxy(url);
		fuzz_target(host, port);
	}
	free(port);
	free(host);
	free(url);
	return 0;
}
