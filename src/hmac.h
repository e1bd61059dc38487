/*
 * hmac.h: HMAC (RFC 2104) over MD5 and SHA-256 (RFC 4231 test vectors).
 */
#ifndef CULVERT_HMAC_H
#define CULVERT_HMAC_H

#include <stddef.h>
#include <stdint.h>

#include "md5.h"
#include "sha256.h"

struct hmac_md5_ctx {
	struct md5_ctx		inner;
	struct md5_ctx		outer;
};

struct hmac_sha256_ctx {
	struct sha256_ctx	inner;
	struct sha256_ctx	outer;
};

/*
 * Streaming use: init with the key (any length; the context keeps only
 * derived state, the caller still owns and wipes the key), update any number
 * of times, final once.  final writes the MAC to out and wipes the context.
 */
void	hmac_md5_init(struct hmac_md5_ctx *, const void *key, size_t keylen);
void	hmac_md5_update(struct hmac_md5_ctx *, const void *data, size_t len);
void	hmac_md5_final(struct hmac_md5_ctx *, uint8_t out[MD5_DIGEST_LEN]);
void	hmac_md5(const void *key, size_t keylen, const void *data, size_t len,
	    uint8_t out[MD5_DIGEST_LEN]);

void	hmac_sha256_init(struct hmac_sha256_ctx *, const void *key,
	    size_t keylen);
void	hmac_sha256_update(struct hmac_sha256_ctx *, const void *data,
	    size_t len);
void	hmac_sha256_final(struct hmac_sha256_ctx *,
	    uint8_t out[SHA256_DIGEST_LEN]);
void	hmac_sha256(const void *key, size_t keylen, const void *data,
	    size_t len, uint8_t out[SHA256_DIGEST_LEN]);

#endif
