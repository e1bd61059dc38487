/*
 * fuzz_handshake.c: libFuzzer harness for the handshake engines
 * (handshake.h, proto.h): the fuzz input is the proxy's side of the
 * conversation.
 *
 * Input: byte 0 picks the proxy scheme and credentials, byte 1 the
 * allowed authentication schemes (0 means all) and whether the engine
 * reports events, byte 2 seeds the sizes of the reads; the rest is
 * what the proxy sends.  The driver loop behaves like the real one: bytes
 * not consumed through *used are offered again together with the next
 * read, STEP_RECONNECT is answered with hs_restart() and the remaining
 * bytes become the new connection's answer, and the end of input is
 * offered as EOF.  It stops at STEP_DONE or STEP_FAIL and always ends
 * with hs_free().  Checks the proto.h contract: *used never exceeds the
 * offer, the out buffer never overflows, a step that asks the driver
 * to act (SEND, RECONNECT) cannot repeat forever without input, and bytes
 * left unconsumed with STEP_NEED are a partial message that the engine
 * cannot use without more (tunnel.c waits for more with SO_RCVLOWAT);
 * set FUZZ_NO_STALL_CHECK in the environment to skip that last check.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/creds.h"
#include "proto/handshake.h"
#include "auth/challenge.h"
#include "route/proxyurl.h"
#include "route/target.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct variant {
	enum proxy_scheme scheme;
	const char	*host;
	unsigned	 addrlen;	/* address resolved "locally" */
	int		 creds;		/* 0 none, 1 "u"/"p", 2 domain user */
};

static const struct variant variants[] = {
	{ SCHEME_HTTP, "example.com", 0, 0 },
	{ SCHEME_HTTP, "example.com", 0, 1 },
	{ SCHEME_HTTP, "2001:db8::1", 0, 2 },
	{ SCHEME_SOCKS5H, "example.com", 0, 0 },
	{ SCHEME_SOCKS5H, "example.com", 0, 1 },
	{ SCHEME_SOCKS5, "example.com", 4, 1 },
	{ SCHEME_SOCKS5, "example.com", 16, 0 },
	{ SCHEME_SOCKS4A, "example.com", 0, 0 },
	{ SCHEME_SOCKS4A, "example.com", 0, 1 },
	{ SCHEME_SOCKS4, "example.com", 4, 1 },
};
#define NVARIANTS	(sizeof(variants) / sizeof(variants[0]))

/* Read every event's text, so a bad length or pointer is caught. */
static void
sink(void *arg, const struct hs_event *ev)
{
	volatile unsigned char sum = 0;
	size_t i;

	(void)arg;
	for (i = 0; i < ev->len; i++)
		sum ^= (unsigned char)ev->text[i];
	(void)sum;
}

static size_t
next_chunk(uint32_t *rng)
{
	*rng ^= *rng << 13;
	*rng ^= *rng >> 17;
	*rng ^= *rng << 5;
	/* Mostly small reads, sometimes one that takes everything. */
	return (*rng & 0x100) ? (size_t)-1 : (*rng % 48) + 1;
}

static void
run(const struct variant *v, unsigned allow, bool debug, bool stall_check,
    uint32_t rng, const unsigned char *in, size_t len)
{
	static const char *const headers[] = { "X-Fuzz: 1" };
	struct proxy proxy;
	struct target target;
	struct creds *creds = NULL;
	struct hs_params p;
	struct handshake *h;
	enum step s;
	size_t off = 0, avail = 0, idle = 0;
	bool recheck = false;

	memset(&proxy, 0, sizeof(proxy));
	proxy.scheme = v->scheme;
	memcpy(proxy.host, "proxy.test", sizeof("proxy.test"));
	proxy.port = 3128;
	memset(&target, 0, sizeof(target));
	memcpy(target.host, v->host, strlen(v->host) + 1);
	target.port = 443;
	memset(&p, 0, sizeof(p));
	p.proxy = &proxy;
	p.target = &target;
	p.headers = headers;
	p.nheaders = rng & 1;
	p.auth_allow = allow;
	if (v->addrlen > 0) {
		memset(p.addr, 0, sizeof(p.addr));
		p.addr[0] = v->addrlen == 4 ? 192 : 0x20;
		p.addr[v->addrlen - 1] = 7;
		p.addrlen = v->addrlen;
	}
	if (v->creds != 0) {
		if ((creds = calloc(1, sizeof(*creds))) == NULL)
			return;
		memcpy(creds->user, v->creds == 1 ? "u" : "DOM\\u",
		    v->creds == 1 ? 2 : 6);
		memcpy(creds->pass, "p", 2);
		creds->have_user = creds->have_pass = true;
		creds->source = "fuzz";
		p.creds = creds;
	}
	if ((h = malloc(sizeof(*h))) == NULL) {
		free(creds);
		return;
	}

	s = hs_start(h, &p, debug ? sink : NULL, NULL);
	while (s == STEP_SEND || s == STEP_NEED || s == STEP_RECONNECT) {
		size_t used = 0, want;
		bool eof;

		if (h->out.len > sizeof(h->out.data))
			abort();
		if (s == STEP_RECONNECT) {
			/* A new connection: what was offered is gone. */
			off += avail;
			avail = 0;
			if ((s = hs_restart(h)) == STEP_FAIL)
				break;
			if (++idle > 64)
				abort();	/* reconnects without end */
			continue;
		}
		if (recheck) {
			/*
			 * STEP_NEED left bytes unconsumed: offer exactly
			 * those again.  tunnel.c now waits (SO_RCVLOWAT) for
			 * more than that, so the engine must not be able to
			 * make progress on them alone.
			 */
			want = 0;
			eof = false;
		} else {
			/* Offer what is left over plus one more read. */
			want = next_chunk(&rng);
			if (want > len - off - avail)
				want = len - off - avail;
			avail += want;
			/* avail == 0 implies want == 0 and so EOF. */
			eof = off + avail == len &&
			    (want == 0 || (rng & 0x200));
		}
		{
			/* Exactly sized, so reading past the offer is caught. */
			unsigned char *b = malloc(avail > 0 ? avail : 1);

			if (b == NULL)
				break;
			memcpy(b, in + off, avail);
			s = hs_input(h, b, avail, eof, &used);
			free(b);
		}
		if (used > avail)
			abort();
		if (recheck && (used > 0 || s != STEP_NEED) && stall_check)
			abort();	/* would stall behind SO_RCVLOWAT */
		recheck = !recheck && s == STEP_NEED && !eof && used < avail;
		off += used;
		avail -= used;
		if (used > 0 || s == STEP_NEED)
			idle = 0;
		else if (++idle > 64)
			abort();	/* steps without end */
		/* At EOF the driver fails a STEP_NEED or STEP_SEND itself. */
		if (eof && (s == STEP_NEED || s == STEP_SEND))
			break;
	}
	if (s == STEP_FAIL && (h->fail.kind == FAIL_NONE ||
	    h->fail.msg[0] == '\0'))
		abort();
	hs_free(h);
	free(h);
	if (creds != NULL) {
		creds_wipe(creds);
		free(creds);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct variant *v;
	unsigned allow;
	bool debug, stall_check;

	if (size < 3)
		return 0;
	v = &variants[data[0] % NVARIANTS];
	allow = data[1] & AUTH_ALLOW_ANY;
	if (allow == 0)
		allow = AUTH_ALLOW_ANY;
	debug = (data[1] & 0x80) != 0;
	/* FUZZ_NO_STALL_CHECK=1 looks past a known stall to find more. */
	stall_check = getenv("FUZZ_NO_STALL_CHECK") == NULL;
	run(v, allow, debug, stall_check, (uint32_t)data[2] * 2654435761u + 1, data + 3,
	    size - 3);
	return 0;
}
