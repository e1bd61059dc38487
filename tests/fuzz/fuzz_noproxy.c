/*
 * fuzz_noproxy.c: libFuzzer harness for the NO_PROXY matcher (noproxy.h).
 *
 * Input: bytes 0-1 are the target port (big-endian); the rest is the
 * list, then '\n', then the host.  Each part is copied to an exactly
 * sized NUL-terminated buffer.  noproxy_match() runs with and without a
 * callback for bad entries; the callback checks that the entry it is
 * given is a string.  The answer must not depend on the callback.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "route/noproxy.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
bad_entry(const char *entry, void *arg)
{
	size_t *count = arg;

	if (strlen(entry) > 100000)
		abort();
	(*count)++;
}

static char *
dup_part(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s != NULL) {
		memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl;
	char *list, *host;
	unsigned port;
	size_t rest, listlen, bad = 0;
	bool m1, m2;

	if (size < 2)
		return 0;
	port = (unsigned)data[0] << 8 | data[1];
	data += 2;
	rest = size - 2;
	nl = memchr(data, '\n', rest);
	listlen = nl != NULL ? (size_t)(nl - data) : rest;
	list = dup_part(data, listlen);
	host = nl != NULL ? dup_part(nl + 1, rest - listlen - 1) :
	    dup_part(data, 0);
	if (list != NULL && host != NULL) {
		m1 = noproxy_match(list, host, port, NULL, NULL);
		m2 = noproxy_match(list, host, port, bad_entry, &bad);
		if (m1 != m2)
			abort();
		(void)noproxy_match(NULL, host, port, NULL, NULL);
	}
	free(host);
	free(list);
	return 0;
}
