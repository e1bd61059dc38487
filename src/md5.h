/*
 * md5.h: MD5 message digest (RFC 1321).  For HTTP Digest and HMAC-MD5
 * only; MD5 is not collision resistant.
 */
#ifndef CULVERT_MD5_H
#define CULVERT_MD5_H

#include <stddef.h>
#include <stdint.h>

#define MD5_DIGEST_LEN	16
#define MD5_BLOCK_LEN	64

struct md5_ctx {
	uint32_t	state[4];
	uint64_t	count;			/* bytes hashed so far */
	uint8_t		buf[MD5_BLOCK_LEN];
};

/* Streaming use: init once, update any number of times, final once.
 * md5_final() writes the digest to out and wipes the context. */
void	md5_init(struct md5_ctx *);
void	md5_update(struct md5_ctx *, const void *data, size_t len);
void	md5_final(struct md5_ctx *, uint8_t out[MD5_DIGEST_LEN]);

/* One-shot digest of len bytes at data. */
void	md5(const void *data, size_t len, uint8_t out[MD5_DIGEST_LEN]);

#endif
