/*
 * auth_ntlm.c: NTLMv2 per [MS-NLMP] sections 2.2 and 3.3.2.
 *
 *   NT hash    = MD4(UTF-16LE(password))
 *   NTOWFv2    = HMAC-MD5(NT hash, UTF-16LE(UPPER(user) || domain))
 *   temp       = 01 01 Z(6) time(8) client_challenge(8) Z(4) target_info Z(4)
 *   NTProofStr = HMAC-MD5(NTOWFv2, server_challenge || temp)
 *   NT response   = NTProofStr || temp
 *   LMv2 response = HMAC-MD5(NTOWFv2, server_challenge || client_challenge)
 *                   || client_challenge
 */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "auth/ntlm.h"
#include "crypto/base64.h"
#include "crypto/hash.h"
#include "crypto/hmac.h"
#include "util/random.h"
#include "crypto/wipe.h"

#define NTLM_SIG		"NTLMSSP"	/* 8 bytes with the NUL */
#define NTLM_TYPE_NEGOTIATE	1
#define NTLM_TYPE_CHALLENGE	2
#define NTLM_TYPE_AUTHENTICATE	3
#define NEGOTIATE_LEN		32
#define CHALLENGE_MIN		32	/* oldest form: no target info */
#define AUTHENTICATE_HDR	64	/* no Version, no MIC */
#define NTLMV2_BLOB_FIXED	28	/* temp without target info and Z(4) */
#define CHALLENGE_TOKEN_MAX	8192	/* base64 characters accepted */

#define AV_EOL			0
#define AV_NB_DOMAIN		2
#define AV_TIMESTAMP		7

/* Seconds from 1601-01-01 (FILETIME epoch) to 1970-01-01. */
#define FILETIME_UNIX_DIFF	11644473600ULL

#define NEGOTIATE_FLAGS	(NTLM_FLAG_UNICODE | NTLM_FLAG_OEM | \
	NTLM_FLAG_REQUEST_TARGET | NTLM_FLAG_NTLM | NTLM_FLAG_ALWAYS_SIGN | \
	NTLM_FLAG_EXTENDED_SESSIONSECURITY | NTLM_FLAG_128 | NTLM_FLAG_56)

/* A name as UTF-16LE code units, bounded. */
struct u16name {
	uint8_t	b[2 * NTLM_NAME_MAX];
	size_t	len;				/* bytes */
};

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static void
put16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void
put64(uint8_t *p, uint64_t v)
{
	unsigned int	i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/*
 * Decode one UTF-8 sequence at *pp (before end) into *cp and advance.
 * Rejects overlong forms, surrogates and values above U+10FFFF: -1.
 */
static int
utf8_next(const uint8_t **pp, const uint8_t *end, uint32_t *cp)
{
	const uint8_t	*p = *pp;
	uint32_t	 c = *p++, min;
	int		 more, i;

	if (c < 0x80) {
		*cp = c;
		*pp = p;
		return 0;
	} else if (c >= 0xc2 && c <= 0xdf) {
		more = 1;
		c &= 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		more = 2;
		c &= 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		more = 3;
		c &= 0x07;
		min = 0x10000;
	} else
		return -1;
	if (end - p < more)
		return -1;
	for (i = 0; i < more; i++) {
		if ((*p & 0xc0) != 0x80)
			return -1;
		c = c << 6 | (*p++ & 0x3fu);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return -1;
	*cp = c;
	*pp = p;
	return 0;
}

/* Encode cp as UTF-16LE into out (4 bytes); returns bytes written. */
static size_t
utf16_put(uint32_t cp, uint8_t out[4])
{
	uint32_t	v;

	if (cp < 0x10000) {
		put16(out, cp);
		return 2;
	}
	v = cp - 0x10000;
	put16(out, 0xd800 | (v >> 10));
	put16(out + 2, 0xdc00 | (v & 0x3ff));
	return 4;
}

/*
 * Upper case as NTOWFv2 needs it for the user name.  Windows uses its own
 * full table; this covers Latin-1, Latin Extended-A, Greek and Cyrillic,
 * which is where nearly all user names live.
 */
static uint32_t
upcase(uint32_t c)
{
	if (c >= 'a' && c <= 'z')
		return c - 0x20;
	if (c >= 0xe0 && c <= 0xfe && c != 0xf7)
		return c - 0x20;
	if (c == 0xff)
		return 0x178;
	if ((c >= 0x100 && c <= 0x137) || (c >= 0x14a && c <= 0x177))
		return c & ~1u;
	if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e))
		return (c & 1u) ? c : c - 1;
	if (c >= 0x3b1 && c <= 0x3c9 && c != 0x3c2)
		return c - 0x20;
	if (c >= 0x430 && c <= 0x44f)
		return c - 0x20;
	if (c >= 0x450 && c <= 0x45f)
		return c - 0x50;
	return c;
}

/* UTF-8 (n bytes) to a bounded UTF-16LE name, upper-cased if asked. */
static int
name_from_utf8(struct u16name *nm, const char *s, size_t n, int upper)
{
	const uint8_t	*p = (const uint8_t *)s, *end = p + n;
	uint8_t		 u[4];
	uint32_t	 cp;
	size_t		 k;

	nm->len = 0;
	while (p < end) {
		if (utf8_next(&p, end, &cp) == -1)
			return -1;
		k = utf16_put(upper ? upcase(cp) : cp, u);
		if (nm->len + k > sizeof(nm->b))
			return -1;
		memcpy(nm->b + nm->len, u, k);
		nm->len += k;
	}
	return 0;
}

/* UTF-16LE (len bytes) to UTF-8 for messages; anything odd becomes '?'. */
static void
utf16_to_utf8(const uint8_t *in, size_t len, char *out, size_t outsize)
{
	size_t		i, o = 0;
	uint32_t	c, lo;

	for (i = 0; i + 1 < len && outsize - o > 4; i += 2) {
		c = get16(in + i);
		if (c >= 0xd800 && c <= 0xdbff && i + 3 < len &&
		    (lo = get16(in + i + 2)) >= 0xdc00 && lo <= 0xdfff) {
			c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
			i += 2;
		} else if (c >= 0xd800 && c <= 0xdfff)
			c = '?';
		if (c < 0x20 || c == 0x7f)
			c = '?';
		if (c < 0x80)
			out[o++] = (char)c;
		else if (c < 0x800) {
			out[o++] = (char)(0xc0 | c >> 6);
			out[o++] = (char)(0x80 | (c & 0x3f));
		} else if (c < 0x10000) {
			out[o++] = (char)(0xe0 | c >> 12);
			out[o++] = (char)(0x80 | ((c >> 6) & 0x3f));
			out[o++] = (char)(0x80 | (c & 0x3f));
		} else {
			out[o++] = (char)(0xf0 | c >> 18);
			out[o++] = (char)(0x80 | ((c >> 12) & 0x3f));
			out[o++] = (char)(0x80 | ((c >> 6) & 0x3f));
			out[o++] = (char)(0x80 | (c & 0x3f));
		}
	}
	if (outsize > 0)
		out[o] = '\0';
}

int
ntlm_negotiate_token(char *out, size_t outsize)
{
	uint8_t	msg[NEGOTIATE_LEN];

	memset(msg, 0, sizeof(msg));
	memcpy(msg, NTLM_SIG, 8);
	put32(msg + 8, NTLM_TYPE_NEGOTIATE);
	put32(msg + 12, NEGOTIATE_FLAGS);
	/* Empty domain and workstation fields point at the (empty) payload. */
	put32(msg + 20, NEGOTIATE_LEN);
	put32(msg + 28, NEGOTIATE_LEN);
	if (base64_encode(msg, sizeof(msg), out, outsize) == 0)
		return -1;
	return 0;
}

/* Check that the field descriptor at p (len16, maxlen16, off32) lies inside
 * a message of msglen bytes; store offset and length. */
static int
field_get(const uint8_t *p, size_t msglen, size_t *off, size_t *len)
{
	*len = get16(p);
	*off = get32(p + 4);
	if (*len == 0)
		return 0;
	if (*off > msglen || *len > msglen - *off)
		return -1;
	return 0;
}

static int
parse_target_info(struct ntlm_challenge *ch, const char **err)
{
	const uint8_t	*p = ch->target_info;
	size_t		 left = ch->target_info_len, alen;
	uint16_t	 id;

	while (left >= 4) {
		id = get16(p);
		alen = get16(p + 2);
		p += 4;
		left -= 4;
		if (alen > left) {
			*err = "NTLM challenge has malformed target information";
			return -1;
		}
		if (id == AV_EOL)
			break;
		if (id == AV_NB_DOMAIN && alen <= sizeof(ch->nb_domain) &&
		    alen % 2 == 0) {
			memcpy(ch->nb_domain, p, alen);
			ch->nb_domain_len = alen;
		} else if (id == AV_TIMESTAMP && alen == 8) {
			ch->timestamp = (uint64_t)get32(p) |
			    (uint64_t)get32(p + 4) << 32;
			ch->has_timestamp = 1;
		}
		p += alen;
		left -= alen;
	}
	return 0;
}

int
ntlm_parse_challenge(struct ntlm_challenge *ch, const void *msgv, size_t len,
    const char **err)
{
	const uint8_t	*msg = msgv;
	size_t		 off, n, i;

	memset(ch, 0, sizeof(*ch));
	if (len < 12 || memcmp(msg, NTLM_SIG, 8) != 0) {
		*err = "not an NTLM message (bad signature)";
		return -1;
	}
	if (get32(msg + 8) != NTLM_TYPE_CHALLENGE) {
		*err = "NTLM message is not a challenge (type 2)";
		return -1;
	}
	if (len < CHALLENGE_MIN) {
		*err = "NTLM challenge truncated";
		return -1;
	}
	ch->flags = get32(msg + 20);
	memcpy(ch->server_challenge, msg + 24, 8);

	/*
	 * squid's ntlm_fake_auth sends a garbage offset here; the name is
	 * only a fallback for the domain, so a bad field counts as absent.
	 */
	if (field_get(msg + 12, len, &off, &n) == -1)
		n = 0;
	if (n > 0 && (ch->flags & NTLM_FLAG_UNICODE) && n % 2 == 0) {
		if (n > sizeof(ch->target_name)) {
			*err = "NTLM challenge target name too long";
			return -1;
		}
		memcpy(ch->target_name, msg + off, n);
		ch->target_name_len = n;
	} else if (n > 0) {
		/* OEM (or an odd-length "Unicode" name, as some helpers send):
		 * widen byte by byte. */
		if (2 * n > sizeof(ch->target_name)) {
			*err = "NTLM challenge target name too long";
			return -1;
		}
		for (i = 0; i < n; i++)
			put16(ch->target_name + 2 * i, msg[off + i]);
		ch->target_name_len = 2 * n;
	}
	utf16_to_utf8(ch->target_name, ch->target_name_len,
	    ch->target_name_utf8, sizeof(ch->target_name_utf8));

	/* Old servers send 32- or 40-byte headers whose payload may start
	 * where TargetInfoFields would be, so trust it only when flagged. */
	if ((ch->flags & NTLM_FLAG_TARGET_INFO) && len >= 48 &&
	    field_get(msg + 40, len, &off, &n) == 0 && off >= 48) {
		if (n > sizeof(ch->target_info)) {
			*err = "NTLM challenge target information too long";
			return -1;
		}
		memcpy(ch->target_info, msg + off, n);
		ch->target_info_len = n;
		if (parse_target_info(ch, err) == -1)
			return -1;
	}
	return 0;
}

int
ntlm_parse_challenge_token(struct ntlm_challenge *ch, const char *token,
    const char **err)
{
	uint8_t	buf[BASE64_DECODED_MAX(CHALLENGE_TOKEN_MAX)];
	size_t	n = strlen(token), len;

	if (n > CHALLENGE_TOKEN_MAX) {
		memset(ch, 0, sizeof(*ch));
		*err = "NTLM challenge too long";
		return -1;
	}
	if (base64_decode(token, n, buf, sizeof(buf), &len) == -1) {
		memset(ch, 0, sizeof(*ch));
		*err = "NTLM challenge is not valid base64";
		return -1;
	}
	return ntlm_parse_challenge(ch, buf, len, err);
}

int
ntlm_nt_hash(const char *password, uint8_t out[16])
{
	struct hash_ctx	 ctx;
	const uint8_t	*p = (const uint8_t *)password;
	const uint8_t	*end = p + strlen(password);
	uint8_t		 u[4];
	uint32_t	 cp = 0;
	size_t		 k;
	int		 rc = 0;

	/* Convert as we hash so no UTF-16 copy of the password exists. */
	hash_init(&ctx, &hash_md4);
	while (p < end) {
		if (utf8_next(&p, end, &cp) == -1) {
			rc = -1;
			break;
		}
		k = utf16_put(cp, u);
		hash_update(&ctx, u, k);
	}
	hash_final(&ctx, out);
	wipe(u, sizeof(u));
	wipe(&cp, sizeof(cp));
	if (rc == -1)
		wipe(out, 16);
	return rc;
}

/* Where a string field goes in the AUTHENTICATE message. */
struct payload {
	uint8_t	*msg;
	size_t	 size;
	size_t	 len;
};

static int
payload_add(struct payload *pl, size_t desc, const void *data, size_t n)
{
	if (n > 0xffff || n > pl->size - pl->len)
		return -1;
	put16(pl->msg + desc, n);
	put16(pl->msg + desc + 2, n);
	put32(pl->msg + desc + 4, (uint32_t)pl->len);
	if (n > 0)
		memcpy(pl->msg + pl->len, data, n);
	pl->len += n;
	return 0;
}

/* A UTF-16LE name as OEM bytes: code units above 0xff become '?'. */
static void
name_narrow(struct u16name *nm)
{
	size_t		i;
	uint16_t	c;

	for (i = 0; 2 * i < nm->len; i++) {
		c = get16(nm->b + 2 * i);
		nm->b[i] = c > 0xff ? '?' : (uint8_t)c;
	}
	nm->len /= 2;
}

static uint64_t
filetime_now(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1 || ts.tv_sec < 0)
		return 0;
	return ((uint64_t)ts.tv_sec + FILETIME_UNIX_DIFF) * 10000000u +
	    (uint64_t)ts.tv_nsec / 100u;
}

int
ntlm_authenticate(uint8_t *out, size_t outsize, size_t *outlen,
    const struct ntlm_challenge *ch, const char *user, const char *password,
    const char *workstation, const uint8_t *client_challenge,
    const uint64_t *timestamp, const char **err)
{
	struct u16name		 nuser, udom, uupper, uws;
	struct hmac_ctx		 hm;
	struct payload		 pl = { out, outsize, AUTHENTICATE_HDR };
	uint8_t			 nthash[16], ntowf[16], proof[16], lm[24];
	uint8_t			 cc[8], blobhdr[NTLMV2_BLOB_FIXED];
	const char		*name = user, *slash;
	uint64_t		 ts;
	uint32_t		 flags;
	size_t			 ntlen, ntoff;
	int			 rc = -1;

	*outlen = 0;
	if (outsize < AUTHENTICATE_HDR) {
		*err = "no room for the NTLM message";
		return -1;
	}
	/* DOMAIN\user; user@domain goes as is with an empty domain. */
	udom.len = 0;
	if ((slash = strchr(user, '\\')) != NULL) {
		name = slash + 1;
		if (name_from_utf8(&udom, user, (size_t)(slash - user), 0)
		    == -1) {
			*err = "NTLM domain is not valid UTF-8 or too long";
			return -1;
		}
	} else if (strchr(user, '@') == NULL) {
		if (ch->nb_domain_len > 0) {
			memcpy(udom.b, ch->nb_domain, ch->nb_domain_len);
			udom.len = ch->nb_domain_len;
		} else {
			memcpy(udom.b, ch->target_name, ch->target_name_len);
			udom.len = ch->target_name_len;
		}
	}
	if (name_from_utf8(&nuser, name, strlen(name), 0) == -1 ||
	    name_from_utf8(&uupper, name, strlen(name), 1) == -1) {
		*err = "NTLM user name is not valid UTF-8 or too long";
		return -1;
	}
	if (workstation == NULL)
		workstation = "";
	if (name_from_utf8(&uws, workstation, strlen(workstation), 0) == -1) {
		*err = "NTLM workstation name is not valid UTF-8 or too long";
		return -1;
	}
	if (client_challenge != NULL)
		memcpy(cc, client_challenge, sizeof(cc));
	else if (random_bytes(cc, sizeof(cc)) == -1) {
		*err = "cannot get random bytes for the NTLM client challenge";
		return -1;
	}
	if (timestamp != NULL)
		ts = *timestamp;
	else if (ch->has_timestamp)
		ts = ch->timestamp;
	else
		ts = filetime_now();

	if (ntlm_nt_hash(password, nthash) == -1) {
		*err = "password is not valid UTF-8";
		goto done;
	}
	hmac_init(&hm, &hash_md5, nthash, sizeof(nthash));
	hmac_update(&hm, uupper.b, uupper.len);
	hmac_update(&hm, udom.b, udom.len);
	hmac_final(&hm, ntowf);

	if (ch->has_timestamp)
		memset(lm, 0, sizeof(lm));
	else {
		hmac_init(&hm, &hash_md5, ntowf, sizeof(ntowf));
		hmac_update(&hm, ch->server_challenge, 8);
		hmac_update(&hm, cc, sizeof(cc));
		hmac_final(&hm, lm);
		memcpy(lm + 16, cc, sizeof(cc));
	}

	memset(blobhdr, 0, sizeof(blobhdr));
	blobhdr[0] = 1;			/* RespType */
	blobhdr[1] = 1;			/* HiRespType */
	put64(blobhdr + 8, ts);
	memcpy(blobhdr + 16, cc, sizeof(cc));
	hmac_init(&hm, &hash_md5, ntowf, sizeof(ntowf));
	hmac_update(&hm, ch->server_challenge, 8);
	hmac_update(&hm, blobhdr, sizeof(blobhdr));
	hmac_update(&hm, ch->target_info, ch->target_info_len);
	hmac_update(&hm, "\0\0\0\0", 4);
	hmac_final(&hm, proof);

	/* Unicode strings whenever the server can take them: squid's
	 * helpers read every name as OEM as soon as the OEM bit is set. */
	flags = ch->flags & (NEGOTIATE_FLAGS | NTLM_FLAG_TARGET_TYPE_DOMAIN);
	flags |= NTLM_FLAG_NTLM;
	if (ch->flags & NTLM_FLAG_UNICODE)
		flags &= ~NTLM_FLAG_OEM;
	else {
		flags = (flags & ~NTLM_FLAG_UNICODE) | NTLM_FLAG_OEM;
		name_narrow(&udom);
		name_narrow(&nuser);
		name_narrow(&uws);
	}

	memset(out, 0, AUTHENTICATE_HDR);
	memcpy(out, NTLM_SIG, 8);
	put32(out + 8, NTLM_TYPE_AUTHENTICATE);
	put32(out + 60, flags);
	ntlen = sizeof(proof) + sizeof(blobhdr) + ch->target_info_len + 4;
	if (payload_add(&pl, 28, udom.b, udom.len) == -1 ||
	    payload_add(&pl, 36, nuser.b, nuser.len) == -1 ||
	    payload_add(&pl, 44, uws.b, uws.len) == -1 ||
	    payload_add(&pl, 12, lm, sizeof(lm)) == -1 ||
	    ntlen > 0xffff || ntlen > pl.size - pl.len) {
		*err = "NTLM message too long";
		goto done;
	}
	/* The NT response is assembled in place. */
	ntoff = pl.len;
	put16(out + 20, ntlen);
	put16(out + 22, ntlen);
	put32(out + 24, (uint32_t)ntoff);
	memcpy(out + ntoff, proof, sizeof(proof));
	memcpy(out + ntoff + 16, blobhdr, sizeof(blobhdr));
	if (ch->target_info_len > 0)
		memcpy(out + ntoff + 16 + sizeof(blobhdr), ch->target_info,
		    ch->target_info_len);
	memset(out + ntoff + ntlen - 4, 0, 4);
	pl.len += ntlen;
	/* No key exchange: an empty session key field. */
	put32(out + 56, (uint32_t)pl.len);
	*outlen = pl.len;
	rc = 0;
done:
	wipe(nthash, sizeof(nthash));
	wipe(ntowf, sizeof(ntowf));
	wipe(&hm, sizeof(hm));
	if (rc == -1 && outsize > 0)
		wipe(out, outsize < pl.len ? outsize : pl.len);
	return rc;
}

int
ntlm_authenticate_token(char *out, size_t outsize,
    const struct ntlm_challenge *ch, const char *user, const char *password,
    const char **err)
{
	uint8_t	msg[AUTHENTICATE_HDR + 6 * NTLM_NAME_MAX + 24 + 16 +
	    NTLMV2_BLOB_FIXED + NTLM_TARGET_INFO_MAX + 4];
	size_t	len;

	if (outsize > 0)
		out[0] = '\0';
	if (ntlm_authenticate(msg, sizeof(msg), &len, ch, user, password,
	    "CULVERT", NULL, NULL, err) == -1)
		return -1;
	if (base64_encode(msg, len, out, outsize) == 0) {
		*err = "no room for the NTLM token";
		return -1;
	}
	return 0;
}
