/*
 * hashblock.c: block buffering and Merkle-Damgard padding for the 64-byte
 * block hashes (RFC 1320 and 1321 section 3.1-3.2, FIPS 180-4 section 5.1.1).
 */
#include <string.h>

#include "hashblock.h"
#include "wipe.h"

void
hashblock_load(uint32_t *w, const uint8_t *p, size_t n,
    enum hashblock_order order)
{
	size_t	i;

	for (i = 0; i < n; i++, p += 4) {
		if (order == HASHBLOCK_BE)
			w[i] = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
			    (uint32_t)p[2] << 8 | (uint32_t)p[3];
		else
			w[i] = (uint32_t)p[0] | (uint32_t)p[1] << 8 |
			    (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	}
}

/* Initial A, B, C, D, RFC 1320 and RFC 1321 section 3.3. */
const uint32_t hashblock_md_iv[4] = {
	0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476
};

void
hashblock_md_compress(uint32_t state[4], const uint8_t *p, unsigned int nsteps,
    uint32_t (*step)(unsigned int, const uint32_t [4], const uint32_t [16]))
{
	uint32_t	x[16], v[4], b;
	unsigned int	i;

	hashblock_load(x, p, 16, HASHBLOCK_LE);
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
hashblock_store(uint8_t *p, const uint32_t *w, size_t n,
    enum hashblock_order order)
{
	size_t		i;
	unsigned int	b, shift;

	for (i = 0; i < n; i++)
		for (b = 0; b < 4; b++) {
			shift = order == HASHBLOCK_BE ? 24 - 8 * b : 8 * b;
			p[4 * i + b] = (uint8_t)(w[i] >> shift);
		}
}

void
hashblock_init(struct hashblock *hb, const struct hashblock_algo *algo)
{
	memset(hb, 0, sizeof(*hb));
	hb->algo = algo;
	memcpy(hb->state, algo->iv, algo->digest_len);
}

void
hashblock_update(struct hashblock *hb, const void *data, size_t len)
{
	const uint8_t	*p = data;
	size_t		 have = (size_t)(hb->count % HASHBLOCK_LEN), take;

	if (len == 0)
		return;
	hb->count += len;
	if (have > 0) {
		take = HASHBLOCK_LEN - have;
		if (take > len)
			take = len;
		memcpy(hb->buf + have, p, take);
		p += take;
		len -= take;
		if (have + take < HASHBLOCK_LEN)
			return;
		hb->algo->compress(hb->state, hb->buf);
	}
	for (; len >= HASHBLOCK_LEN; p += HASHBLOCK_LEN, len -= HASHBLOCK_LEN)
		hb->algo->compress(hb->state, p);
	if (len > 0)
		memcpy(hb->buf, p, len);
}

void
hashblock_final(struct hashblock *hb, uint8_t *out)
{
	static const uint8_t	pad[HASHBLOCK_LEN] = { 0x80 };
	uint8_t			bitlen[8];
	uint64_t		bits = hb->count << 3;
	size_t			have = (size_t)(hb->count % HASHBLOCK_LEN);
	unsigned int		i;

	for (i = 0; i < 8; i++)
		bitlen[hb->algo->order == HASHBLOCK_BE ? 7 - i : i] =
		    (uint8_t)(bits >> (8 * i));
	/* Pad to 56 mod 64, then the 64-bit length in bits. */
	hashblock_update(hb, pad, have < 56 ? 56 - have : 120 - have);
	hashblock_update(hb, bitlen, sizeof(bitlen));
	hashblock_store(out, hb->state, hb->algo->digest_len / 4,
	    hb->algo->order);
	wipe(hb, sizeof(*hb));
}

void
hashblock_digest(const struct hashblock_algo *algo, const void *data,
    size_t len, uint8_t *out)
{
	struct hashblock	hb;

	hashblock_init(&hb, algo);
	hashblock_update(&hb, data, len);
	hashblock_final(&hb, out);
}
