/*
 * hash.h: MD4, MD5 and SHA-256 behind one interface.  The three share
 * 32-bit words, 64-byte blocks and the final block padded with 0x80, zeros
 * and the bit length; each supplies only a struct hash_algo (compression
 * function, initial value, byte order) in md4.c, md5.c and sha256.c.
 * MD4 is for the NTLM NT hash only and MD5 for Digest and NTLMv2 only:
 * neither is collision resistant.
 *
 * Layer crypto/: MD4, MD5, SHA-256, HMAC, base64 and wiping, each tested
 * on its RFC vectors.  Depends on nothing; never does I/O, logs or exits
 * (tests/layers.sh checks).
 */
#ifndef CULVERT_HASH_H
#define CULVERT_HASH_H

#include <stddef.h>
#include <stdint.h>

#define MD4_DIGEST_LEN		16
#define MD5_DIGEST_LEN		16
#define SHA256_DIGEST_LEN	32
#define HASH_MAX_DIGEST		32
#define HASH_BLOCK_LEN		64	/* for every algorithm here */

enum hash_order {
	HASH_LE,			/* MD4, MD5 */
	HASH_BE				/* SHA-256 */
};

struct hash_algo {
	const char	*name;
	size_t		 digest_len;	/* bytes; state words * 4 */
	/* Mix one HASH_BLOCK_LEN-byte block into the state words. */
	void		(*compress)(uint32_t *state, const uint8_t *block);
	const uint32_t	*iv;		/* digest_len / 4 words */
	enum hash_order	 order;		/* of words and bit length */
};

extern const struct hash_algo	hash_md4;	/* RFC 1320, md4.c */
extern const struct hash_algo	hash_md5;	/* RFC 1321, md5.c */
extern const struct hash_algo	hash_sha256;	/* FIPS 180-4, sha256.c */

struct hash_ctx {
	const struct hash_algo	*algo;
	uint32_t		 state[HASH_MAX_DIGEST / 4];
	uint64_t		 count;	/* bytes hashed so far */
	uint8_t			 buf[HASH_BLOCK_LEN];
};

/*
 * Streaming use: hash_init() once, hash_update() any number of times,
 * hash_final() once; it writes hash_len(algo) bytes to out and wipes ctx.
 * hash() is the one-shot form.
 */
void	hash_init(struct hash_ctx *ctx, const struct hash_algo *algo);
void	hash_update(struct hash_ctx *ctx, const void *data, size_t len);
void	hash_final(struct hash_ctx *ctx, uint8_t *out);
void	hash(const struct hash_algo *algo, const void *data, size_t len,
	    uint8_t *out);
size_t	hash_len(const struct hash_algo *algo);

/* Write len bytes as lower-case hex, as digests are shown, to out, which
 * holds 2 * len + 1 bytes; out ends with a NUL. */
void	hash_hex(const uint8_t *p, size_t len, char *out);

/*
 * For the compression functions in md4.c, md5.c and sha256.c only.
 *
 * hash_load() reads n words from p in the given byte order.
 * hash_md_iv and hash_md_compress() are what MD4 and MD5 share: the initial
 * value, and a compression skeleton that loads the block as 16
 * little-endian words x, then for steps i = 0 to nsteps - 1 replaces
 * v = (a, b, c, d) by (d, step(i, v, x), b, c), and finally adds v into the
 * four state words.
 */
void	hash_load(uint32_t *w, const uint8_t *p, size_t n, enum hash_order);
extern const uint32_t	hash_md_iv[4];
void	hash_md_compress(uint32_t state[4], const uint8_t *p,
	    unsigned int nsteps, uint32_t (*step)(unsigned int i,
	    const uint32_t v[4], const uint32_t x[16]));

static inline uint32_t
hash_rol32(uint32_t x, unsigned int n)
{
	return (x << n) | (x >> (32 - n));
}

#endif
