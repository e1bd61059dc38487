/*
 * md4.c: MD4 as specified in RFC 1320 (needed for the NTLM NT hash).
 */
#include <string.h>

#include "md4.h"
#include "wipe.h"

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

static uint32_t
rol32(uint32_t x, unsigned int n)
{
	return (x << n) | (x >> (32 - n));
}

static void
md4_block(uint32_t state[4], const uint8_t p[MD4_BLOCK_LEN])
{
	uint32_t	x[16], a, b, c, d, f, tmp;
	unsigned int	i, r;

	for (i = 0; i < 16; i++)
		x[i] = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 |
		    (uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24;
	a = state[0];
	b = state[1];
	c = state[2];
	d = state[3];
	for (i = 0; i < 48; i++) {
		r = i / 16;
		if (r == 0)
			f = (b & c) | (~b & d);
		else if (r == 1)
			f = (b & c) | (b & d) | (c & d);
		else
			f = b ^ c ^ d;
		tmp = rol32(a + f + x[md4_k[r][i % 16]] + md4_c[r],
		    md4_s[r][i % 4]);
		a = d;
		d = c;
		c = b;
		b = tmp;
	}
	state[0] += a;
	state[1] += b;
	state[2] += c;
	state[3] += d;
	wipe(x, sizeof(x));
}

void
md4_init(struct md4_ctx *ctx)
{
	ctx->state[0] = 0x67452301;
	ctx->state[1] = 0xefcdab89;
	ctx->state[2] = 0x98badcfe;
	ctx->state[3] = 0x10325476;
	ctx->count = 0;
}

void
md4_update(struct md4_ctx *ctx, const void *data, size_t len)
{
	const uint8_t	*p = data;
	size_t		 have = (size_t)(ctx->count % MD4_BLOCK_LEN), take;

	if (len == 0)
		return;
	ctx->count += len;
	if (have > 0) {
		take = MD4_BLOCK_LEN - have;
		if (take > len)
			take = len;
		memcpy(ctx->buf + have, p, take);
		p += take;
		len -= take;
		if (have + take < MD4_BLOCK_LEN)
			return;
		md4_block(ctx->state, ctx->buf);
	}
	for (; len >= MD4_BLOCK_LEN; p += MD4_BLOCK_LEN, len -= MD4_BLOCK_LEN)
		md4_block(ctx->state, p);
	if (len > 0)
		memcpy(ctx->buf, p, len);
}

void
md4_final(struct md4_ctx *ctx, uint8_t out[MD4_DIGEST_LEN])
{
	static const uint8_t	pad[MD4_BLOCK_LEN] = { 0x80 };
	uint8_t			lenle[8];
	uint64_t		bits = ctx->count << 3;
	size_t			have = (size_t)(ctx->count % MD4_BLOCK_LEN);
	unsigned int		i;

	for (i = 0; i < 8; i++)
		lenle[i] = (uint8_t)(bits >> (8 * i));
	md4_update(ctx, pad, have < 56 ? 56 - have : 120 - have);
	md4_update(ctx, lenle, 8);
	for (i = 0; i < 4; i++) {
		out[4 * i] = (uint8_t)ctx->state[i];
		out[4 * i + 1] = (uint8_t)(ctx->state[i] >> 8);
		out[4 * i + 2] = (uint8_t)(ctx->state[i] >> 16);
		out[4 * i + 3] = (uint8_t)(ctx->state[i] >> 24);
	}
	wipe(ctx, sizeof(*ctx));
}

void
md4(const void *data, size_t len, uint8_t out[MD4_DIGEST_LEN])
{
	struct md4_ctx	ctx;

	md4_init(&ctx);
	md4_update(&ctx, data, len);
	md4_final(&ctx, out);
}
