/*
 * auth_ntlm.h: NTLMv2 client messages for HTTP proxy authentication
 * ([MS-NLMP]: NEGOTIATE, CHALLENGE, AUTHENTICATE).  Pure: no I/O apart from
 * random_bytes() and the clock when the caller does not supply the client
 * challenge and timestamp.  No signing or sealing, so no session key.
 */
#ifndef CULVERT_AUTH_NTLM_H
#define CULVERT_AUTH_NTLM_H

#include <stddef.h>
#include <stdint.h>

#define NTLM_NAME_MAX		256	/* UTF-16 code units in a name */
#define NTLM_TARGET_INFO_MAX	2048	/* bytes of AV pairs kept */
#define NTLM_TOKEN_MAX		8192	/* base64 AUTHENTICATE, NUL included */

/* NegotiateFlags bits ([MS-NLMP] 2.2.2.5) that culvert uses. */
#define NTLM_FLAG_UNICODE	0x00000001u
#define NTLM_FLAG_OEM		0x00000002u
#define NTLM_FLAG_REQUEST_TARGET 0x00000004u
#define NTLM_FLAG_NTLM		0x00000200u
#define NTLM_FLAG_ALWAYS_SIGN	0x00008000u
#define NTLM_FLAG_TARGET_TYPE_DOMAIN 0x00010000u
#define NTLM_FLAG_EXTENDED_SESSIONSECURITY 0x00080000u
#define NTLM_FLAG_TARGET_INFO	0x00800000u
#define NTLM_FLAG_128		0x20000000u
#define NTLM_FLAG_56		0x80000000u

/* A parsed CHALLENGE message.  Names are kept as UTF-16LE bytes (OEM
 * names are widened) and as UTF-8 for messages. */
struct ntlm_challenge {
	uint32_t	flags;
	uint8_t		server_challenge[8];
	uint8_t		target_name[2 * NTLM_NAME_MAX];	/* UTF-16LE */
	size_t		target_name_len;		/* bytes */
	char		target_name_utf8[3 * NTLM_NAME_MAX + 1];
	uint8_t		nb_domain[2 * NTLM_NAME_MAX];	/* MsvAvNbDomainName */
	size_t		nb_domain_len;			/* bytes */
	uint8_t		target_info[NTLM_TARGET_INFO_MAX]; /* AV pairs */
	size_t		target_info_len;
	int		has_timestamp;			/* MsvAvTimestamp sent */
	uint64_t	timestamp;			/* FILETIME */
};

/*
 * Write the base64 NEGOTIATE (type 1) message, NUL-terminated, into out
 * (outsize bytes, caller's memory); the header value is "NTLM " + out.
 * Returns 0, or -1 if out is too small (64 bytes are enough).
 */
int	ntlm_negotiate_token(char *out, size_t outsize);

/*
 * Parse a CHALLENGE (type 2) message of len bytes into *ch.  Every offset
 * and length is checked against len.  Returns 0, or -1 with *err pointing
 * at a static message (bad signature, wrong message type, truncated,
 * out-of-bounds field, malformed target information).
 */
int	ntlm_parse_challenge(struct ntlm_challenge *ch, const void *msg,
	    size_t len, const char **err);

/* Same, from the base64 token of a "Proxy-Authenticate: NTLM <token>"
 * header (the auth_challenge token68). */
int	ntlm_parse_challenge_token(struct ntlm_challenge *ch, const char *token,
	    const char **err);

/*
 * Build the AUTHENTICATE (type 3) message with an NTLMv2 response into out
 * (outsize bytes, caller's memory) and store its length in *outlen.
 * user is UTF-8, "DOMAIN\user", "user@dns.domain" (sent with an empty
 * domain) or plain "user" (the domain is then the challenge's
 * MsvAvNbDomainName, else its target name).  password is UTF-8 of any
 * length.  workstation may be NULL (empty).  client_challenge (8 bytes) and
 * timestamp (FILETIME) may be NULL: then 8 random bytes, and the
 * challenge's MsvAvTimestamp or the current time.  The LMv2 response is
 * zeros when the challenge carried MsvAvTimestamp ([MS-NLMP] 3.1.5.1.2).
 * The NT hash and every copy of the password are wiped before returning.
 * Returns 0, or -1 with *err set (static string): invalid UTF-8, a name
 * longer than NTLM_NAME_MAX, out too small, no randomness.
 */
int	ntlm_authenticate(uint8_t *out, size_t outsize, size_t *outlen,
	    const struct ntlm_challenge *ch, const char *user,
	    const char *password, const char *workstation,
	    const uint8_t *client_challenge, const uint64_t *timestamp,
	    const char **err);

/*
 * ntlm_authenticate() with a random client challenge, the default
 * timestamp and workstation "CULVERT", base64-encoded NUL-terminated into
 * out (NTLM_TOKEN_MAX bytes are enough for any challenge); the header value
 * is "NTLM " + out.  Returns 0, or -1 with *err set.
 */
int	ntlm_authenticate_token(char *out, size_t outsize,
	    const struct ntlm_challenge *ch, const char *user,
	    const char *password, const char **err);

/* NT hash: MD4 of the UTF-16LE password.  Returns 0, or -1 when password
 * is not valid UTF-8.  The caller wipes out. */
int	ntlm_nt_hash(const char *password, uint8_t out[16]);

#endif
