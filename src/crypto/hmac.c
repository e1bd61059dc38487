/*
 * hmac.c: HMAC(K, m) = H((K ^ opad) || H((K ^ ipad) || m)), RFC 2104, over
 * any 64-byte-block hash from hash.h.
 */
#include <string.h>

#include "crypto/hmac.h"
#include "crypto/wipe.h"

#define HMAC_IPAD	0x36
#define HMAC_OPAD	0x5c

void
hmac_init(struct hmac_ctx *ctx, const struct hash_algo *algo,
    const void *key, size_t keylen)
{
	uint8_t		k[HASH_BLOCK_LEN], pad[HASH_BLOCK_LEN];
	size_t		i;

	memset(k, 0, sizeof(k));
	/* Keys longer than a block are replaced by their digest. */
	if (keylen > HASH_BLOCK_LEN)
		hash(algo, key, keylen, k);
	else if (keylen > 0)
		memcpy(k, key, keylen);
	for (i = 0; i < HASH_BLOCK_LEN; i++)
		pad[i] = (uint8_t)(k[i] ^ HMAC_IPAD);
	hash_init(&ctx->inner, algo);
	hash_update(&ctx->inner, pad, sizeof(pad));
	for (i = 0; i < HASH_BLOCK_LEN; i++)
		pad[i] = (uint8_t)(k[i] ^ HMAC_OPAD);
	hash_init(&ctx->outer, algo);
	hash_update(&ctx->outer, pad, sizeof(pad));
	wipe(k, sizeof(k));
	wipe(pad, sizeof(pad));
}

void
hmac_update(struct hmac_ctx *ctx, const void *data, size_t len)
{
	hash_update(&ctx->inner, data, len);
}

void
hmac_final(struct hmac_ctx *ctx, uint8_t *out)
{
	uint8_t		ih[HASH_MAX_DIGEST];
	size_t		n = hash_len(ctx->inner.algo);

	/* hash_final() wipes inner and outer as it finishes them. */
	hash_final(&ctx->inner, ih);
	hash_update(&ctx->outer, ih, n);
	hash_final(&ctx->outer, out);
	wipe(ih, sizeof(ih));
}

void
hmac(const struct hash_algo *algo, const void *key, size_t keylen,
    const void *data, size_t len, uint8_t *out)
{
	struct hmac_ctx	ctx;

	hmac_init(&ctx, algo, key, keylen);
	hmac_update(&ctx, data, len);
	hmac_final(&ctx, out);
}
