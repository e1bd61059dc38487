/*
 * md5.c: MD5 as specified in RFC 1321.
 */
#include "crypto/hash.h"

/* T[i] = floor(2^32 * |sin(i + 1)|), RFC 1321 section 3.4. */
static const uint32_t md5_t[64] = {
	0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee,
	0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
	0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be,
	0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
	0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa,
	0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
	0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
	0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
	0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c,
	0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
	0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05,
	0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
	0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039,
	0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
	0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1,
	0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

/* Per-round left rotations, four per round. */
static const uint8_t md5_s[4][4] = {
	{ 7, 12, 17, 22 }, { 5, 9, 14, 20 }, { 4, 11, 16, 23 }, { 6, 10, 15, 21 }
};

/* Step i of rounds 1 to 4: the new B, RFC 1321 section 3.4. */
static uint32_t
md5_step(unsigned int i, const uint32_t v[4], const uint32_t x[16])
{
	uint32_t	f;
	unsigned int	k;

	switch (i / 16) {
	case 0:
		f = (v[1] & v[2]) | (~v[1] & v[3]);
		k = i;
		break;
	case 1:
		f = (v[1] & v[3]) | (v[2] & ~v[3]);
		k = (5 * i + 1) % 16;
		break;
	case 2:
		f = v[1] ^ v[2] ^ v[3];
		k = (3 * i + 5) % 16;
		break;
	default:
		f = v[2] ^ (v[1] | ~v[3]);
		k = (7 * i) % 16;
		break;
	}
	return v[1] + hash_rol32(v[0] + f + x[k] + md5_t[i],
	    md5_s[i / 16][i % 4]);
}

static void
md5_compress(uint32_t *state, const uint8_t *p)
{
	hash_md_compress(state, p, 64, md5_step);
}

const struct hash_algo hash_md5 = {
	"MD5", MD5_DIGEST_LEN, md5_compress, hash_md_iv, HASH_LE
};
