/*
 * md4.h: MD4 message digest (RFC 1320).  For the NTLM password hash
 * only; MD4 is broken.
 */
#ifndef CULVERT_MD4_H
#define CULVERT_MD4_H

#include <stddef.h>
#include <stdint.h>

#define MD4_DIGEST_LEN	16
#define MD4_BLOCK_LEN	64

struct md4_ctx {
	uint32_t	state[4];
	uint64_t	count;			/* bytes hashed so far */
	uint8_t		buf[MD4_BLOCK_LEN];
};

/* Streaming use: init once, update any number of times, final once.
 * md4_final() writes the digest to out and wipes the context. */
void	md4_init(struct md4_ctx *);
void	md4_update(struct md4_ctx *, const void *data, size_t len);
void	md4_final(struct md4_ctx *, uint8_t out[MD4_DIGEST_LEN]);

/* One-shot digest of len bytes at data. */
void	md4(const void *data, size_t len, uint8_t out[MD4_DIGEST_LEN]);

#endif
