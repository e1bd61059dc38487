/*
 * sha256.h: SHA-256 message digest (FIPS 180-4).
 */
#ifndef CULVERT_SHA256_H
#define CULVERT_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "hashblock.h"

#define SHA256_DIGEST_LEN	32
#define SHA256_BLOCK_LEN	HASHBLOCK_LEN

/*
 * struct sha256_ctx; streaming use: sha256_init() once, sha256_update()
 * any number of times, sha256_final() once (writes the digest to out and
 * wipes the context).  sha256(data, len, out) is the one-shot digest.
 */
HASHBLOCK_PROTOTYPES(sha256, SHA256_DIGEST_LEN);

#endif
