/*
 * md4.c: MD4 as specified in RFC 1320 (needed for the NTLM NT hash).
 */
#include "crypto/hash.h"

/* Word order and rotations of rounds 2 and 3, RFC 1320 section 3.4. */
static const uint8_t md4_k[3][16] = {
	{ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 },
	{ 0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15 },
	{ 0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15 }
};
static const uint8_t md4_s[3][4] = {
	{ 3, 7, 11, 19 }, { 3, 5, 9, 13 }, { 3, 9, 11, 15 }
};
static const uint32_t md4_c[3] = { 0, 0x5a827999, 0x6ed9eba1 };

/* Step i of rounds 1 to 3: the new B, RFC 1320 section 3.4. */
static uint32_t
md4_step(unsigned int i, const uint32_t v[4], const uint32_t x[16])
{
	uint32_t	f;
	unsigned int	r = i / 16;

	if (r == 0)
		f = (v[1] & v[2]) | (~v[1] & v[3]);
	else if (r == 1)
		f = (v[1] & v[2]) | (v[1] & v[3]) | (v[2] & v[3]);
	else
		f = v[1] ^ v[2] ^ v[3];
	return hash_rol32(v[0] + f + x[md4_k[r][i % 16]] + md4_c[r],
	    md4_s[r][i % 4]);
}

static void
md4_compress(uint32_t *state, const uint8_t *p)
{
	hash_md_compress(state, p, 48, md4_step);
}

const struct hash_algo hash_md4 = {
	"MD4", MD4_DIGEST_LEN, md4_compress, hash_md_iv, HASH_LE
};
