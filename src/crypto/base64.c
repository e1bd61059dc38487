/*
 * base64.c: RFC 4648 base64 encoding and strict decoding.
 */
#include <stdint.h>

#include "crypto/base64.h"

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t
base64_encode(const void *src, size_t len, char *dst, size_t dstsize)
{
	const uint8_t	*in = src;
	size_t		 i, o = 0;
	uint32_t	 v;

	if (dstsize == 0)
		return 0;
	dst[0] = '\0';
	if (len > (SIZE_MAX - 1) / 4 * 3 - 2 || dstsize < BASE64_ENCODED_SIZE(len))
		return 0;
	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		dst[o++] = b64_alphabet[v >> 18];
		dst[o++] = b64_alphabet[(v >> 12) & 0x3f];
		dst[o++] = b64_alphabet[(v >> 6) & 0x3f];
		dst[o++] = b64_alphabet[v & 0x3f];
	}
	if (len - i == 1) {
		v = (uint32_t)in[i] << 16;
		dst[o++] = b64_alphabet[v >> 18];
		dst[o++] = b64_alphabet[(v >> 12) & 0x3f];
		dst[o++] = '=';
		dst[o++] = '=';
	} else if (len - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		dst[o++] = b64_alphabet[v >> 18];
		dst[o++] = b64_alphabet[(v >> 12) & 0x3f];
		dst[o++] = b64_alphabet[(v >> 6) & 0x3f];
		dst[o++] = '=';
	}
	dst[o] = '\0';
	return o;
}

/* Value of one alphabet character, or -1. */
static int
b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int
base64_decode(const char *src, size_t len, void *dst, size_t dstsize,
    size_t *outlen)
{
	uint8_t		*out = dst;
	size_t		 i, o = 0, pad = 0, n;
	uint32_t	 v = 0;
	int		 d, k = 0;

	*outlen = 0;
	/* Padding, if any, ends the input: at most two '='. */
	while (pad < 2 && pad < len && src[len - 1 - pad] == '=')
		pad++;
	n = len - pad;
	if (pad > 0 && len % 4 != 0)
		return -1;
	if (n % 4 == 1)
		return -1;
	if (n / 4 * 3 + (n % 4 == 0 ? 0 : n % 4 - 1) > dstsize)
		return -1;
	for (i = 0; i < n; i++) {
		if ((d = b64_value(src[i])) == -1)
			return -1;
		v = v << 6 | (uint32_t)d;
		if (++k == 4) {
			out[o++] = (uint8_t)(v >> 16);
			out[o++] = (uint8_t)(v >> 8);
			out[o++] = (uint8_t)v;
			v = 0;
			k = 0;
		}
	}
	if (k == 2) {
		out[o++] = (uint8_t)(v >> 4);
	} else if (k == 3) {
		out[o++] = (uint8_t)(v >> 10);
		out[o++] = (uint8_t)(v >> 2);
	}
	*outlen = o;
	return 0;
}
