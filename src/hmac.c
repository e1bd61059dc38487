/*
 * hmac.c: HMAC(K, m) = H((K ^ opad) || H((K ^ ipad) || m)), RFC 2104.
 */
#include <string.h>

#include "hmac.h"
#include "wipe.h"

#define HMAC_IPAD	0x36
#define HMAC_OPAD	0x5c

void
hmac_md5_init(struct hmac_md5_ctx *ctx, const void *key, size_t keylen)
{
	uint8_t		k[MD5_BLOCK_LEN], pad[MD5_BLOCK_LEN];
	size_t		i;

	memset(k, 0, sizeof(k));
	/* Keys longer than a block are replaced by their digest. */
	if (keylen > MD5_BLOCK_LEN)
		md5(key, keylen, k);
	else if (keylen > 0)
		memcpy(k, key, keylen);
	for (i = 0; i < MD5_BLOCK_LEN; i++)
		pad[i] = (uint8_t)(k[i] ^ HMAC_IPAD);
	md5_init(&ctx->inner);
	md5_update(&ctx->inner, pad, sizeof(pad));
	for (i = 0; i < MD5_BLOCK_LEN; i++)
		pad[i] = (uint8_t)(k[i] ^ HMAC_OPAD);
	md5_init(&ctx->outer);
	md5_update(&ctx->outer, pad, sizeof(pad));
	wipe(k, sizeof(k));
	wipe(pad, sizeof(pad));
}

void
hmac_md5_update(struct hmac_md5_ctx *ctx, const void *data, size_t len)
{
	md5_update(&ctx->inner, data, len);
}

void
hmac_md5_final(struct hmac_md5_ctx *ctx, uint8_t out[MD5_DIGEST_LEN])
{
	uint8_t		ih[MD5_DIGEST_LEN];

	md5_final(&ctx->inner, ih);
	md5_update(&ctx->outer, ih, sizeof(ih));
	md5_final(&ctx->outer, out);
	wipe(ih, sizeof(ih));
}

void
hmac_md5(const void *key, size_t keylen, const void *data, size_t len,
    uint8_t out[MD5_DIGEST_LEN])
{
	struct hmac_md5_ctx	ctx;

	hmac_md5_init(&ctx, key, keylen);
	hmac_md5_update(&ctx, data, len);
	hmac_md5_final(&ctx, out);
}

void
hmac_sha256_init(struct hmac_sha256_ctx *ctx, const void *key, size_t keylen)
{
	uint8_t		k[SHA256_BLOCK_LEN], pad[SHA256_BLOCK_LEN];
	size_t		i;

	memset(k, 0, sizeof(k));
	if (keylen > SHA256_BLOCK_LEN)
		sha256(key, keylen, k);
	else if (keylen > 0)
		memcpy(k, key, keylen);
	for (i = 0; i < SHA256_BLOCK_LEN; i++)
		pad[i] = (uint8_t)(k[i] ^ HMAC_IPAD);
	sha256_init(&ctx->inner);
	sha256_update(&ctx->inner, pad, sizeof(pad));
	for (i = 0; i < SHA256_BLOCK_LEN; i++)
		pad[i] = (uint8_t)(k[i] ^ HMAC_OPAD);
	sha256_init(&ctx->outer);
	sha256_update(&ctx->outer, pad, sizeof(pad));
	wipe(k, sizeof(k));
	wipe(pad, sizeof(pad));
}

void
hmac_sha256_update(struct hmac_sha256_ctx *ctx, const void *data, size_t len)
{
	sha256_update(&ctx->inner, data, len);
}

void
hmac_sha256_final(struct hmac_sha256_ctx *ctx, uint8_t out[SHA256_DIGEST_LEN])
{
	uint8_t		ih[SHA256_DIGEST_LEN];

	sha256_final(&ctx->inner, ih);
	sha256_update(&ctx->outer, ih, sizeof(ih));
	sha256_final(&ctx->outer, out);
	wipe(ih, sizeof(ih));
}

void
hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
    uint8_t out[SHA256_DIGEST_LEN])
{
	struct hmac_sha256_ctx	ctx;

	hmac_sha256_init(&ctx, key, keylen);
	hmac_sha256_update(&ctx, data, len);
	hmac_sha256_final(&ctx, out);
}
