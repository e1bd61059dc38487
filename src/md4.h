/*
 * md4.h: MD4 message digest (RFC 1320).  For the NTLM password hash
 * only; MD4 is broken.
 */
#ifndef CULVERT_MD4_H
#define CULVERT_MD4_H

#include <stddef.h>
#include <stdint.h>

#include "hashblock.h"

#define MD4_DIGEST_LEN	16
#define MD4_BLOCK_LEN	HASHBLOCK_LEN

/*
 * struct md4_ctx; streaming use: md4_init() once, md4_update() any number
 * of times, md4_final() once (writes the digest to out and wipes the
 * context).  md4(data, len, out) is the one-shot digest.
 */
HASHBLOCK_PROTOTYPES(md4, MD4_DIGEST_LEN);

#endif
