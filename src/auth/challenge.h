/*
 * auth_challenge.h: parse Proxy-Authenticate header values (RFC 9110
 * section 11.6.1) and choose the strongest scheme culvert can answer.
 * Pure functions: no I/O, no allocation.
 */
#ifndef CULVERT_AUTH_CHALLENGE_H
#define CULVERT_AUTH_CHALLENGE_H

#include <stddef.h>

#define AUTH_CHALLENGES_MAX	16	/* per 407 response, all headers */
#define AUTH_PARAMS_MAX		16	/* per challenge */
#define AUTH_SCHEME_LEN		32	/* scheme name, NUL included */
#define AUTH_NAME_LEN		32	/* parameter name, NUL included */
#define AUTH_VALUE_LEN		256	/* parameter value, NUL included */
#define AUTH_TOKEN68_LEN	4096	/* NTLM challenge in base64 */

enum auth_scheme {
	AUTH_SCHEME_UNKNOWN,
	AUTH_SCHEME_BASIC,
	AUTH_SCHEME_DIGEST,
	AUTH_SCHEME_NTLM,
	AUTH_SCHEME_NEGOTIATE
};

/* Bits of the allowed mask given to auth_choose(). */
#define AUTH_ALLOW_BASIC	0x1u
#define AUTH_ALLOW_DIGEST	0x2u
#define AUTH_ALLOW_NTLM		0x4u
#define AUTH_ALLOW_ANY		(AUTH_ALLOW_BASIC | AUTH_ALLOW_DIGEST | \
				    AUTH_ALLOW_NTLM)

enum digest_alg {
	DIGEST_ALG_UNSUPPORTED,		/* e.g. SHA-512-256 */
	DIGEST_ALG_MD5,			/* also when algorithm is absent */
	DIGEST_ALG_MD5_SESS,
	DIGEST_ALG_SHA256,
	DIGEST_ALG_SHA256_SESS
};

struct auth_param {
	char		name[AUTH_NAME_LEN];	/* lower-cased */
	char		value[AUTH_VALUE_LEN];	/* quotes and escapes removed */
};

struct auth_challenge {
	enum auth_scheme	scheme;
	char			scheme_name[AUTH_SCHEME_LEN]; /* as received */
	char			token68[AUTH_TOKEN68_LEN];    /* "" if none */
	size_t			nparams;
	struct auth_param	params[AUTH_PARAMS_MAX];
};

/* Every challenge of one response; about 140 KiB, keep it off small
 * stacks.  Zero it (or call auth_challenges_init()) before parsing. */
struct auth_challenges {
	size_t			n;
	struct auth_challenge	c[AUTH_CHALLENGES_MAX];
};

enum auth_choice_status {
	AUTH_CHOICE_OK,			/* *out names the challenge to answer */
	AUTH_CHOICE_NONE,		/* no challenge at all */
	AUTH_CHOICE_NOT_ALLOWED,	/* usable schemes, all outside the mask */
	AUTH_CHOICE_NEGOTIATE_ONLY,	/* only Negotiate (Kerberos/SPNEGO) */
	AUTH_CHOICE_UNSUPPORTED		/* only unknown schemes or algorithms */
};

struct auth_choice {
	enum auth_scheme	 scheme;
	enum digest_alg		 alg;		/* Digest only */
	const struct auth_challenge *challenge;	/* points into the set */
};

void	auth_challenges_init(struct auth_challenges *);

/*
 * Parse one Proxy-Authenticate field value (len bytes, need not be
 * NUL-terminated) and append its challenges to set; call once per header.
 * Returns 0 when the whole value was well-formed.  Returns -1 and points
 * *err at a static message when something was wrong: a challenge with an
 * over-long name or value, a duplicate parameter or too many parameters is
 * dropped and parsing goes on; a syntax error (unterminated quoted string,
 * control character, garbage) stops parsing there.  Complete challenges
 * before the problem stay in set either way.  err may be NULL.
 */
int	auth_challenge_parse(struct auth_challenges *set, const char *value,
	    size_t len, const char **err);

/* Value of parameter name (case-insensitive) in c, or NULL. */
const char *auth_challenge_param(const struct auth_challenge *c,
	    const char *name);

/* Digest algorithm named by s (case-insensitive); NULL means MD5. */
enum digest_alg digest_alg_from_name(const char *s);

/* Canonical name of an algorithm, e.g. "SHA-256-sess". */
const char *digest_alg_name(enum digest_alg);

/* Whether the comma-separated qop list s (a Digest qop parameter value)
 * contains the token "auth". */
int	digest_qop_has_auth(const char *s);

/* Scheme name for messages: "Basic", "Digest", "NTLM", "Negotiate". */
const char *auth_scheme_name(enum auth_scheme);

/*
 * Pick the strongest challenge in set whose scheme is in allowed
 * (AUTH_ALLOW_*): NTLM, then Digest SHA-256 or SHA-256-sess, then Digest
 * MD5, MD5-sess or no algorithm, then Basic; the first one wins among
 * equals.  A Digest challenge without a nonce, with an unknown algorithm or
 * with a qop list lacking "auth" counts as unsupported.  On AUTH_CHOICE_OK, *out points into
 * set, so set must outlive it.
 */
enum auth_choice_status auth_choose(const struct auth_challenges *set,
	    unsigned int allowed, struct auth_choice *out);

#endif
