/*
 * session.c: authenticating session requests, their frames and queries
 * (see session.h).  Pure: the caller supplies the time and the nonces.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/hash.h"
#include "crypto/hmac.h"
#include "crypto/wipe.h"
#include "proto/session.h"
#include "util/num.h"

void
sess_mac(const unsigned char *token, size_t toklen, const char *method,
    const char *path, const char *nonce, long long when, char *out)
{
	struct hmac_ctx ctx;
	uint8_t mac[SHA256_DIGEST_LEN];
	char when_s[24];

	(void)snprintf(when_s, sizeof(when_s), "%lld", when);
	hmac_init(&ctx, &hash_sha256, token, toklen);
	hmac_update(&ctx, "culvert-v1 ", 11);
	hmac_update(&ctx, method, strlen(method));
	hmac_update(&ctx, " ", 1);
	hmac_update(&ctx, path, strlen(path));
	hmac_update(&ctx, " ", 1);
	hmac_update(&ctx, nonce, strlen(nonce));
	hmac_update(&ctx, " ", 1);
	hmac_update(&ctx, when_s, strlen(when_s));
	hmac_final(&ctx, mac);
	hash_hex(mac, sizeof(mac), out);
	wipe(mac, sizeof(mac));
}

void
sess_auth_value(const unsigned char *token, size_t toklen,
    const char *method, const char *path, const char *nonce, long long when,
    char *out, size_t outlen)
{
	char mac[SESS_MAC_LEN + 1];

	sess_mac(token, toklen, method, path, nonce, when, mac);
	(void)snprintf(out, outlen, "v1 %s %lld %s", nonce, when, mac);
}

bool
sess_is_hex(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' &&
		    s[i] <= 'f')))
			return false;
	return s[len] == '\0';
}

int
nonce_cache_init(struct nonce_cache *nc, size_t n)
{
	size_t size = 16;

	while (size < n * 2)
		size *= 2;
	memset(nc, 0, sizeof(*nc));
	if ((nc->slot = calloc(size, sizeof(*nc->slot))) == NULL)
		return -1;
	nc->n = size;
	return 0;
}

void
nonce_cache_free(struct nonce_cache *nc)
{
	free(nc->slot);
	memset(nc, 0, sizeof(*nc));
}

/* FNV-1a over the nonce: enough to spread random hex. */
static size_t
nonce_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (size_t)h;
}

/*
 * Remember nonce; true when it was already there.  Open addressing; a
 * slot older than the window counts as free, so entries expire as they
 * are passed over.  *full when no room is left.
 */
static bool
nonce_seen(struct nonce_cache *nc, const char *nonce, long long now,
    bool *full)
{
	size_t mask = nc->n - 1, i = nonce_hash(nonce) & mask, k;
	struct nonce_slot *free_slot = NULL;

	*full = false;
	for (k = 0; k < nc->n; k++, i = (i + 1) & mask) {
		struct nonce_slot *s = &nc->slot[i];

		if (s->seen == 0)
			break;
		if (now - s->seen > 2 * SESS_SKEW_S) {
			if (free_slot == NULL)
				free_slot = s;
			continue;
		}
		if (strcmp(s->nonce, nonce) == 0)
			return true;
	}
	if (free_slot == NULL) {
		if (k == nc->n || nc->used + 1 > nc->n / 2 * 3 / 2) {
			*full = true;
			return false;
		}
		free_slot = &nc->slot[i];
		nc->used++;
	}
	memcpy(free_slot->nonce, nonce, SESS_NONCE_LEN + 1);
	free_slot->seen = now;
	return false;
}

enum sess_verdict
sess_check(struct nonce_cache *nc, const unsigned char *token, size_t toklen,
    const char *method, const char *path, const char *value,
    size_t valuelen, long long now)
{
	char copy[200], *nonce, *when_s, *mac, want[SESS_MAC_LEN + 1];
	unsigned long long when;
	bool full;
	unsigned diff = 0;
	size_t i;

	if (value == NULL)
		return SESS_MISSING;
	if (valuelen >= sizeof(copy))
		return SESS_MALFORMED;
	memcpy(copy, value, valuelen);
	copy[valuelen] = '\0';
	/* "v1 NONCE TIME MAC", single spaces */
	if (strncmp(copy, "v1 ", 3) != 0)
		return SESS_MALFORMED;
	nonce = copy + 3;
	if ((when_s = strchr(nonce, ' ')) == NULL)
		return SESS_MALFORMED;
	*when_s++ = '\0';
	if ((mac = strchr(when_s, ' ')) == NULL)
		return SESS_MALFORMED;
	*mac++ = '\0';
	if (strlen(nonce) != SESS_NONCE_LEN || !sess_is_hex(nonce,
	    SESS_NONCE_LEN) || strlen(mac) != SESS_MAC_LEN ||
	    !sess_is_hex(mac, SESS_MAC_LEN) ||
	    num_parse(when_s, strlen(when_s), 1ULL << 40, &when) == -1)
		return SESS_MALFORMED;
	sess_mac(token, toklen, method, path, nonce, (long long)when, want);
	/* Compare in constant time: the MAC is the secret's witness. */
	for (i = 0; i < SESS_MAC_LEN; i++)
		diff |= (unsigned)(want[i] ^ mac[i]);
	wipe(want, sizeof(want));
	if (diff != 0)
		return SESS_BAD_MAC;
	if ((long long)when > now + SESS_SKEW_S ||
	    (long long)when < now - SESS_SKEW_S)
		return SESS_STALE;
	if (nonce_seen(nc, nonce, now, &full))
		return SESS_REPLAY;
	return full ? SESS_BUSY : SESS_OK;
}

const char *
sess_verdict_text(enum sess_verdict v)
{
	switch (v) {
	case SESS_OK:
		return "ok";
	case SESS_MISSING:
		return "no X-Culvert-Auth (the server wants a token)";
	case SESS_MALFORMED:
		return "malformed X-Culvert-Auth";
	case SESS_BAD_MAC:
		return "wrong token";
	case SESS_STALE:
		return "clocks differ by more than 5 minutes";
	case SESS_REPLAY:
		return "replayed request (nonce seen before)";
	case SESS_BUSY:
		return "too many requests to remember";
	}
	return "?";
}

size_t
sess_frame_header(unsigned char *out, enum sess_frame_type type,
    uint32_t len, uint64_t off)
{
	int i;

	out[0] = (unsigned char)type;
	for (i = 0; i < 4; i++)
		out[1 + i] = (unsigned char)(len >> (24 - 8 * i));
	for (i = 0; i < 8; i++)
		out[5 + i] = (unsigned char)(off >> (56 - 8 * i));
	return SESS_FRAME_HDR;
}

int
sess_frame_parse(const unsigned char *in, size_t len, struct sess_frame *f,
    size_t *used)
{
	int i;

	if (len < 1)
		return 0;
	switch (in[0]) {
	case FRAME_DATA:
	case FRAME_ACK:
	case FRAME_EOF:
	case FRAME_PING:
	case FRAME_CLOSE:
		break;
	default:
		return -1;
	}
	if (len < SESS_FRAME_HDR)
		return 0;
	f->type = (enum sess_frame_type)in[0];
	f->len = 0;
	for (i = 0; i < 4; i++)
		f->len = f->len << 8 | in[1 + i];
	f->off = 0;
	for (i = 0; i < 8; i++)
		f->off = f->off << 8 | in[5 + i];
	if (f->len > SESS_FRAME_MAX)
		return -1;
	if (len - SESS_FRAME_HDR < f->len)
		return 0;
	f->payload = in + SESS_FRAME_HDR;
	*used = SESS_FRAME_HDR + f->len;
	return 1;
}

int
sess_query(const char *query, const char *name, char *out, size_t outlen)
{
	size_t nl = strlen(name);
	const char *p = query;

	while (p != NULL && *p != '\0' && *p != '#') {
		const char *end = p + strcspn(p, "&#");

		if ((size_t)(end - p) > nl && strncmp(p, name, nl) == 0 &&
		    p[nl] == '=') {
			const char *v = p + nl + 1;
			size_t o = 0;

			while (v < end) {
				int c = (unsigned char)*v;

				if (c == '%' && end - v >= 3 &&
				    num_hexdigit(v[1]) >= 0 && num_hexdigit(v[2]) >= 0) {
					c = num_hexdigit(v[1]) * 16 + num_hexdigit(v[2]);
					v += 3;
				} else
					v++;
				if (o + 1 >= outlen || c == '\0')
					return -1;
				out[o++] = (char)c;
			}
			out[o] = '\0';
			return 0;
		}
		p = *end == '&' ? end + 1 : NULL;
	}
	return -1;
}
