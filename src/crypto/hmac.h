/*
 * hmac.h: HMAC (RFC 2104) over any hash in hash.h; RFC 2202 and RFC 4231
 * test vectors for MD5 and SHA-256.
 */
#ifndef CULVERT_HMAC_H
#define CULVERT_HMAC_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/hash.h"

struct hmac_ctx {
	struct hash_ctx	inner;
	struct hash_ctx	outer;
};

/*
 * Streaming use: hmac_init() with the key (any length; the context keeps
 * only derived state, the caller still owns and wipes the key),
 * hmac_update() any number of times, hmac_final() once; it writes
 * hash_len(algo) bytes to out and wipes the context.  hmac() is the
 * one-shot form.
 */
void	hmac_init(struct hmac_ctx *ctx, const struct hash_algo *algo,
	    const void *key, size_t keylen);
void	hmac_update(struct hmac_ctx *ctx, const void *data, size_t len);
void	hmac_final(struct hmac_ctx *ctx, uint8_t *out);
void	hmac(const struct hash_algo *algo, const void *key, size_t keylen,
	    const void *data, size_t len, uint8_t *out);

#endif
