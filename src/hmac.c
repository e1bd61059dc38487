/*
 * hmac.c: HMAC(K, m) = H((K ^ opad) || H((K ^ ipad) || m)), RFC 2104.
 * One implementation over any 64-byte-block hash (struct hashblock_algo);
 * the public hmac_md5_* and hmac_sha256_* functions are thin wrappers.
 */
#include <string.h>

#include "hmac.h"
#include "wipe.h"

#define HMAC_IPAD	0x36
#define HMAC_OPAD	0x5c

/* Start inner and outer for algo keyed with key (any length). */
static void
hmac_init(struct hashblock *inner, struct hashblock *outer,
    const struct hashblock_algo *algo, const void *key, size_t keylen)
{
	uint8_t		k[HASHBLOCK_LEN], pad[HASHBLOCK_LEN];
	size_t		i;

	memset(k, 0, sizeof(k));
	/* Keys longer than a block are replaced by their digest. */
	if (keylen > HASHBLOCK_LEN)
		hashblock_digest(algo, key, keylen, k);
	else if (keylen > 0)
		memcpy(k, key, keylen);
	for (i = 0; i < HASHBLOCK_LEN; i++)
		pad[i] = (uint8_t)(k[i] ^ HMAC_IPAD);
	hashblock_init(inner, algo);
	hashblock_update(inner, pad, sizeof(pad));
	for (i = 0; i < HASHBLOCK_LEN; i++)
		pad[i] = (uint8_t)(k[i] ^ HMAC_OPAD);
	hashblock_init(outer, algo);
	hashblock_update(outer, pad, sizeof(pad));
	wipe(k, sizeof(k));
	wipe(pad, sizeof(pad));
}

/* Write the MAC (the hash's digest length) to out; wipes inner and outer. */
static void
hmac_final(struct hashblock *inner, struct hashblock *outer, uint8_t *out)
{
	uint8_t		ih[HASHBLOCK_MAX_DIGEST];
	size_t		n = inner->algo->digest_len;

	hashblock_final(inner, ih);
	hashblock_update(outer, ih, n);
	hashblock_final(outer, out);
	wipe(ih, sizeof(ih));
}

/* Defines hmac_NAME_init(), _update(), _final() and hmac_NAME() over
 * NAME_algo, for the struct hmac_NAME_ctx declared in hmac.h. */
#define HMAC_GENERATE(name, dlen)					\
void									\
hmac_##name##_init(struct hmac_##name##_ctx *ctx, const void *key,	\
    size_t keylen)							\
{									\
	hmac_init(&ctx->inner.hb, &ctx->outer.hb, &name##_algo, key,	\
	    keylen);							\
}									\
void									\
hmac_##name##_update(struct hmac_##name##_ctx *ctx, const void *data,	\
    size_t len)								\
{									\
	hashblock_update(&ctx->inner.hb, data, len);			\
}									\
void									\
hmac_##name##_final(struct hmac_##name##_ctx *ctx, uint8_t out[dlen])	\
{									\
	hmac_final(&ctx->inner.hb, &ctx->outer.hb, out);		\
}									\
void									\
hmac_##name(const void *key, size_t keylen, const void *data,		\
    size_t len, uint8_t out[dlen])					\
{									\
	struct hmac_##name##_ctx	ctx;				\
									\
	hmac_##name##_init(&ctx, key, keylen);				\
	hmac_##name##_update(&ctx, data, len);				\
	hmac_##name##_final(&ctx, out);					\
}

HMAC_GENERATE(md5, MD5_DIGEST_LEN)
HMAC_GENERATE(sha256, SHA256_DIGEST_LEN)
