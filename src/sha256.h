/*
 * sha256.h: SHA-256 message digest (FIPS 180-4).
 */
#ifndef CULVERT_SHA256_H
#define CULVERT_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_LEN	32
#define SHA256_BLOCK_LEN	64

struct sha256_ctx {
	uint32_t	state[8];
	uint64_t	count;			/* bytes hashed so far */
	uint8_t		buf[SHA256_BLOCK_LEN];
};

/* Streaming use: init once, update any number of times, final once.
 * sha256_final() writes the digest to out and wipes the context. */
void	sha256_init(struct sha256_ctx *);
void	sha256_update(struct sha256_ctx *, const void *data, size_t len);
void	sha256_final(struct sha256_ctx *, uint8_t out[SHA256_DIGEST_LEN]);

/* One-shot digest of len bytes at data. */
void	sha256(const void *data, size_t len, uint8_t out[SHA256_DIGEST_LEN]);

#endif
