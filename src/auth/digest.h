/*
 * auth_digest.h: HTTP Digest client responses (RFC 7616; RFC 2069 style
 * when the challenge has no qop).  Pure: no I/O apart from random_bytes()
 * for a cnonce the caller did not supply.
 */
#ifndef CULVERT_AUTH_DIGEST_H
#define CULVERT_AUTH_DIGEST_H

#include <stddef.h>

#include "auth/challenge.h"

/* Large enough for any response built from an auth_challenge. */
#define DIGEST_HEADER_MAX	4096

/* What the response is computed over.  The strings are the caller's (or
 * the challenge's, see below) and must outlive digest_response(). */
struct digest_request {
	const char	*method;	/* "CONNECT" */
	const char	*uri;		/* request target: "host:port" */
	const char	*realm;
	const char	*nonce;
	const char	*opaque;	/* NULL when the challenge had none */
	const char	*qop;		/* the challenge's qop list; NULL: none */
	enum digest_alg	 alg;
	int		 userhash;	/* send username = H(user:realm) */
	unsigned long	 nc;		/* uses of this nonce, from 1 */
	const char	*cnonce;	/* NULL: 128 random bits in hex */
};

/*
 * Fill r from a Digest challenge c: realm ("" when absent), nonce, opaque,
 * qop, algorithm and userhash point into c, which must outlive r; nc is 1
 * and cnonce NULL.  method and uri are stored as given.  Returns 0, or -1
 * with *err set (static string) when c cannot be answered: no nonce, an
 * unknown algorithm, or a qop list without "auth".
 */
int	digest_request_from_challenge(struct digest_request *r,
	    const struct auth_challenge *c, const char *method, const char *uri,
	    const char **err);

/*
 * Write the Proxy-Authorization value for user and password ("Digest
 * username=..., response=...") NUL-terminated into out (outsize bytes,
 * caller's memory).  With a qop list containing "auth" the response uses
 * qop=auth, nc and cnonce; with r->qop NULL it is the RFC 2069 form
 * (-sess algorithms then fail).  Quotes and backslashes in echoed values
 * are escaped.  A user name holding '"' or a control character is refused
 * unless r->userhash is set, and control characters in any other echoed
 * value are refused.  Intermediate secrets are wiped.  Returns 0, or -1
 * with *err set (static string); out is then "".
 */
int	digest_response(char *out, size_t outsize, const char *user,
	    const char *password, const struct digest_request *r,
	    const char **err);

#endif
