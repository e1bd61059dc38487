/*
 * base64.h: RFC 4648 section 4 base64 (standard alphabet, '=' padding).
 */
#ifndef CULVERT_BASE64_H
#define CULVERT_BASE64_H

#include <stddef.h>

/* Characters base64_encode() writes for len input bytes, NUL included. */
#define BASE64_ENCODED_SIZE(len)	((((len) + 2) / 3) * 4 + 1)
/* Upper bound of the bytes base64_decode() writes for len characters. */
#define BASE64_DECODED_MAX(len)		(((len) + 3) / 4 * 3)

/*
 * Encode len bytes of src into dst (dstsize bytes, caller's memory) as a
 * NUL-terminated, padded string.  Returns the string length, or 0 when
 * dstsize is smaller than BASE64_ENCODED_SIZE(len) (dst is then "" if
 * dstsize > 0).  An empty input also returns 0 with dst "".
 */
size_t	base64_encode(const void *src, size_t len, char *dst, size_t dstsize);

/*
 * Decode len characters of src into dst (dstsize bytes, caller's memory)
 * and store the byte count in *outlen.  Padding may be omitted; a character
 * outside the alphabet (whitespace included), misplaced '=', a length that
 * cannot be base64 or a too small dst returns -1.  Returns 0 on success.
 */
int	base64_decode(const char *src, size_t len, void *dst, size_t dstsize,
	    size_t *outlen);

#endif
