/*
 * hashblock.h: the part MD4, MD5 and SHA-256 share: 32-bit words, 64-byte
 * blocks, and the final block padded with 0x80, zeros and the bit length.
 * Each hash supplies only its compression function, initial value and byte
 * order in a struct hashblock_algo.
 */
#ifndef CULVERT_HASHBLOCK_H
#define CULVERT_HASHBLOCK_H

#include <stddef.h>
#include <stdint.h>

#define HASHBLOCK_LEN		64
#define HASHBLOCK_MAX_DIGEST	32

enum hashblock_order {
	HASHBLOCK_LE,			/* MD4, MD5 */
	HASHBLOCK_BE			/* SHA-256 */
};

struct hashblock_algo {
	/* Mix one HASHBLOCK_LEN-byte block into the state words. */
	void			(*compress)(uint32_t *state,
				    const uint8_t *block);
	const uint32_t		*iv;
	size_t			 digest_len;	/* bytes; state words * 4 */
	enum hashblock_order	 order;		/* of words and bit length */
};

struct hashblock {
	const struct hashblock_algo	*algo;
	uint32_t			 state[HASHBLOCK_MAX_DIGEST / 4];
	uint64_t			 count;	/* bytes hashed so far */
	uint8_t				 buf[HASHBLOCK_LEN];
};

/*
 * Streaming use: init once, update any number of times, final once.
 * hashblock_final() writes algo->digest_len bytes to out and wipes hb.
 * hashblock_digest() is the one-shot form.
 */
void	hashblock_init(struct hashblock *hb, const struct hashblock_algo *);
void	hashblock_update(struct hashblock *hb, const void *data, size_t len);
void	hashblock_final(struct hashblock *hb, uint8_t *out);
void	hashblock_digest(const struct hashblock_algo *, const void *data,
	    size_t len, uint8_t *out);

/* Read n words from p in the given byte order (for compress functions). */
void	hashblock_load(uint32_t *w, const uint8_t *p, size_t n,
	    enum hashblock_order);

/*
 * MD4 and MD5 share their initial value and this compression skeleton: load
 * the block as 16 little-endian words x, then for steps i = 0 to nsteps - 1
 * replace v = (a, b, c, d) by (d, step(i, v, x), b, c); finally add v into
 * the four state words.
 */
extern const uint32_t	hashblock_md_iv[4];
void	hashblock_md_compress(uint32_t state[4], const uint8_t *p,
	    unsigned int nsteps, uint32_t (*step)(unsigned int i,
	    const uint32_t v[4], const uint32_t x[16]));

static inline uint32_t
hashblock_rol32(uint32_t x, unsigned int n)
{
	return (x << n) | (x >> (32 - n));
}

/*
 * HASHBLOCK_PROTOTYPES(md5, MD5_DIGEST_LEN) declares, for a hash defined as
 * md5_algo: struct md5_ctx, md5_init(), md5_update(), md5_final() (writes
 * the digest and wipes the context) and the one-shot md5().
 * HASHBLOCK_GENERATE(md5, MD5_DIGEST_LEN, compress, iv, order) defines
 * md5_algo from its arguments and those functions over it.
 */
#define HASHBLOCK_PROTOTYPES(name, dlen)				\
extern const struct hashblock_algo name##_algo;				\
struct name##_ctx {							\
	struct hashblock	hb;					\
};									\
void	name##_init(struct name##_ctx *);				\
void	name##_update(struct name##_ctx *, const void *data, size_t len); \
void	name##_final(struct name##_ctx *, uint8_t out[dlen]);		\
void	name(const void *data, size_t len, uint8_t out[dlen])

#define HASHBLOCK_GENERATE(name, dlen, compress, iv, order)		\
const struct hashblock_algo name##_algo = {				\
	compress, iv, dlen, order					\
};									\
void									\
name##_init(struct name##_ctx *ctx)					\
{									\
	hashblock_init(&ctx->hb, &name##_algo);				\
}									\
void									\
name##_update(struct name##_ctx *ctx, const void *data, size_t len)	\
{									\
	hashblock_update(&ctx->hb, data, len);				\
}									\
void									\
name##_final(struct name##_ctx *ctx, uint8_t out[dlen])			\
{									\
	hashblock_final(&ctx->hb, out);					\
}									\
void									\
name(const void *data, size_t len, uint8_t out[dlen])			\
{									\
	hashblock_digest(&name##_algo, data, len, out);			\
}

#endif
