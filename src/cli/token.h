/*
 * token.h: reading the shared secret of culvert serve and --tunnel from a
 * file that only its owner can read (the one place that reads it).
 */
#ifndef CULVERT_CLI_TOKEN_H
#define CULVERT_CLI_TOKEN_H

#include <stddef.h>

#include "util/failure.h"

#define TOKEN_MAX	1024

/*
 * Read the token in path (a regular file of the user's, mode 600 or
 * stricter; a trailing newline dropped) into buf, at least min bytes.
 * 0 with *len set, or -1 with f set (FAIL_USAGE) and buf wiped.
 */
int	token_read(const char *path, unsigned char *buf, size_t *len,
	    size_t min, struct failure *f);

#endif
