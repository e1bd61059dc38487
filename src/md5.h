/*
 * md5.h: MD5 message digest (RFC 1321).  For HTTP Digest and HMAC-MD5
 * only; MD5 is not collision resistant.
 */
#ifndef CULVERT_MD5_H
#define CULVERT_MD5_H

#include <stddef.h>
#include <stdint.h>

#include "hashblock.h"

#define MD5_DIGEST_LEN	16
#define MD5_BLOCK_LEN	HASHBLOCK_LEN

/*
 * struct md5_ctx; streaming use: md5_init() once, md5_update() any number
 * of times, md5_final() once (writes the digest to out and wipes the
 * context).  md5(data, len, out) is the one-shot digest.
 */
HASHBLOCK_PROTOTYPES(md5, MD5_DIGEST_LEN);

#endif
