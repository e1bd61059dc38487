/*
 * hash.c: block buffering and Merkle-Damgard padding for the 64-byte
 * block hashes (RFC 1320 and 1321 section 3.1-3.2, FIPS 180-4 section 5.1.1).
 */
#include <string.h>

#include "crypto/hash.h"
#include "crypto/wipe.h"

void
hash_load(uint32_t *w, const uint8_t *p, size_t n, enum hash_order order)
{
	size_t	i;

	for (i = 0; i < n; i++, p += 4) {
		if (order == HASH_BE)
			w[i] = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
			    (uint32_t)p[2] << 8 | (uint32_t)p[3];
		else
			w[i] = (uint32_t)p[0] | (uint32_t)p[1] << 8 |
			    (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	}
}

/* Initial A, B, C, D, RFC 1320 and RFC 1321 section 3.3. */
const uint32_t hash_md_iv[4] = {
	0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476
};

void
hash_md_compress(uint32_t state[4], const uint8_t *p, unsigned int nsteps,
    uint32_t (*step)(unsigned int, const uint32_t [4], const uint32_t [16]))
{
	uint32_t	x[16], v[4], b;
	unsigned int	i;

	hash_load(x, p, 16, HASH_LE);
	memcpy(v, state, sizeof(v));
	for (i = 0; i < nsteps; i++) {
		b = step(i, v, x);
		v[0] = v[3];
		v[3] = v[2];
		v[2] = v[1];
		v[1] = b;
	}
	for (i = 0; i < 4; i++)
		state[i] += v[i];
	wipe(x, sizeof(x));
	wipe(v, sizeof(v));
}

/* Write the n words at w to p in the given byte order. */
static void
hash_store(uint8_t *p, const uint32_t *w, size_t n, enum hash_order order)
{
	size_t		i;
	unsigned int	b, shift;

	for (i = 0; i < n; i++)
		for (b = 0; b < 4; b++) {
			shift = order == HASH_BE ? 24 - 8 * b : 8 * b;
			p[4 * i + b] = (uint8_t)(w[i] >> shift);
		}
}

void
hash_init(struct hash_ctx *ctx, const struct hash_algo *algo)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->algo = algo;
	memcpy(ctx->state, algo->iv, algo->digest_len);
}

void
hash_update(struct hash_ctx *ctx, const void *data, size_t len)
{
	const uint8_t	*p = data;
	size_t		 have = (size_t)(ctx->count % HASH_BLOCK_LEN), take;

	if (len == 0)
		return;
	ctx->count += len;
	if (have > 0) {
		take = HASH_BLOCK_LEN - have;
		if (take > len)
			take = len;
		memcpy(ctx->buf + have, p, take);
		p += take;
		len -= take;
		if (have + take < HASH_BLOCK_LEN)
			return;
		ctx->algo->compress(ctx->state, ctx->buf);
	}
	for (; len >= HASH_BLOCK_LEN; len -= HASH_BLOCK_LEN) {
		ctx->algo->compress(ctx->state, p);
		p += HASH_BLOCK_LEN;
	}
	if (len > 0)
		memcpy(ctx->buf, p, len);
}

void
hash_final(struct hash_ctx *ctx, uint8_t *out)
{
	static const uint8_t	pad[HASH_BLOCK_LEN] = { 0x80 };
	uint8_t			bitlen[8];
	uint64_t		bits = ctx->count << 3;
	size_t			have = (size_t)(ctx->count % HASH_BLOCK_LEN);
	unsigned int		i;

	for (i = 0; i < 8; i++)
		bitlen[ctx->algo->order == HASH_BE ? 7 - i : i] =
		    (uint8_t)(bits >> (8 * i));
	/* Pad to 56 mod 64, then the 64-bit length in bits. */
	hash_update(ctx, pad, have < 56 ? 56 - have : 120 - have);
	hash_update(ctx, bitlen, sizeof(bitlen));
	hash_store(out, ctx->state, ctx->algo->digest_len / 4,
	    ctx->algo->order);
	wipe(ctx, sizeof(*ctx));
}

void
hash(const struct hash_algo *algo, const void *data, size_t len, uint8_t *out)
{
	struct hash_ctx	ctx;

	hash_init(&ctx, algo);
	hash_update(&ctx, data, len);
	hash_final(&ctx, out);
}

size_t
hash_len(const struct hash_algo *algo)
{
	return algo->digest_len;
}

void
hash_hex(const uint8_t *p, size_t len, char *out)
{
	static const char	hx[] = "0123456789abcdef";
	size_t			i;

	for (i = 0; i < len; i++) {
		out[2 * i] = hx[p[i] >> 4];
		out[2 * i + 1] = hx[p[i] & 0xf];
	}
	out[2 * len] = '\0';
}
