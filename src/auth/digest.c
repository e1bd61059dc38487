/*
 * auth_digest.c: RFC 7616 Digest access authentication, client side.
 *
 *   A1       = user ":" realm ":" password
 *   -sess A1 = H(user ":" realm ":" password) ":" nonce ":" cnonce
 *   A2       = method ":" uri
 *   response = H(H(A1) ":" nonce ":" nc ":" cnonce ":" qop ":" H(A2))
 *   no qop   = H(H(A1) ":" nonce ":" H(A2))		(RFC 2069)
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "auth/digest.h"
#include "crypto/hash.h"
#include "util/random.h"
#include "crypto/wipe.h"

#define HEX_MAX		(2 * SHA256_DIGEST_LEN + 1)

struct strbuf {
	char	*buf;
	size_t	 size;
	size_t	 len;
	int	 overflow;
};

static void
dh_init(struct hash_ctx *h, enum digest_alg alg)
{
	if (alg == DIGEST_ALG_SHA256 || alg == DIGEST_ALG_SHA256_SESS)
		hash_init(h, &hash_sha256);
	else
		hash_init(h, &hash_md5);
}

static void
dh_add(struct hash_ctx *h, const char *s)
{
	hash_update(h, s, strlen(s));
}

/* Finish into lower-case hex (out holds HEX_MAX bytes); wipes the state. */
static void
dh_final_hex(struct hash_ctx *h, char *out)
{
	uint8_t	d[HASH_MAX_DIGEST];
	size_t	n = hash_len(h->algo);

	hash_final(h, d);
	hash_hex(d, n, out);
	wipe(d, sizeof(d));
}

/* Hex digest of a ":" b, or of a ":" b ":" c when c is not NULL. */
static void
dh_join_hex(enum digest_alg alg, char *out, const char *a, const char *b,
    const char *c)
{
	struct hash_ctx	h;

	dh_init(&h, alg);
	dh_add(&h, a);
	dh_add(&h, ":");
	dh_add(&h, b);
	if (c != NULL) {
		dh_add(&h, ":");
		dh_add(&h, c);
	}
	dh_final_hex(&h, out);
}

static void
sb_add(struct strbuf *sb, const char *s)
{
	size_t	n = strlen(s);

	if (sb->overflow || n >= sb->size - sb->len) {
		sb->overflow = 1;
		return;
	}
	memcpy(sb->buf + sb->len, s, n + 1);
	sb->len += n;
}

/* Append s as a quoted-string, escaping '"' and '\'. */
static void
sb_quoted(struct strbuf *sb, const char *s)
{
	char	esc[3] = { '\\', '\0', '\0' }, one[2] = { '\0', '\0' };

	sb_add(sb, "\"");
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\') {
			esc[1] = *s;
			sb_add(sb, esc);
		} else {
			one[0] = *s;
			sb_add(sb, one);
		}
	}
	sb_add(sb, "\"");
}

static int
has_ctl(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

int
digest_request_from_challenge(struct digest_request *r,
    const struct auth_challenge *c, const char *method, const char *uri,
    const char **err)
{
	const char	*v;

	memset(r, 0, sizeof(*r));
	r->method = method;
	r->uri = uri;
	r->nc = 1;
	if ((r->nonce = auth_challenge_param(c, "nonce")) == NULL) {
		*err = "Digest challenge without a nonce";
		return -1;
	}
	if ((r->realm = auth_challenge_param(c, "realm")) == NULL)
		r->realm = "";
	r->opaque = auth_challenge_param(c, "opaque");
	r->qop = auth_challenge_param(c, "qop");
	if (r->qop != NULL && !digest_qop_has_auth(r->qop)) {
		*err = "Digest challenge offers no qop=auth";
		return -1;
	}
	r->alg = digest_alg_from_name(auth_challenge_param(c, "algorithm"));
	if (r->alg == DIGEST_ALG_UNSUPPORTED) {
		*err = "unsupported Digest algorithm";
		return -1;
	}
	v = auth_challenge_param(c, "userhash");
	r->userhash = v != NULL && strcasecmp(v, "true") == 0;
	return 0;
}

int
digest_response(char *out, size_t outsize, const char *user,
    const char *password, const struct digest_request *r, const char **err)
{
	struct hash_ctx	 h;
	struct strbuf	 sb = { out, outsize, 0, 0 };
	char		 ha1[HEX_MAX], ha2[HEX_MAX], resp[HEX_MAX];
	char		 uhash[HEX_MAX], cnonce_buf[33], nc[9];
	uint8_t		 rnd[16];
	const char	*cnonce = r->cnonce;
	int		 sess, qop = r->qop != NULL;

	if (outsize == 0) {
		*err = "no room for the Digest response";
		return -1;
	}
	out[0] = '\0';
	sess = r->alg == DIGEST_ALG_MD5_SESS || r->alg == DIGEST_ALG_SHA256_SESS;
	if (r->alg == DIGEST_ALG_UNSUPPORTED) {
		*err = "unsupported Digest algorithm";
		return -1;
	}
	if (qop && !digest_qop_has_auth(r->qop)) {
		*err = "Digest challenge offers no qop=auth";
		return -1;
	}
	if (sess && !qop) {
		*err = "Digest -sess algorithm without qop";
		return -1;
	}
	if (!r->userhash && (strchr(user, '"') != NULL || has_ctl(user))) {
		*err = "user name with '\"' or a control character cannot be "
		    "sent in Digest (the proxy does not offer userhash)";
		return -1;
	}
	if (has_ctl(r->method) || has_ctl(r->uri) || has_ctl(r->realm) ||
	    has_ctl(r->nonce) || (r->opaque != NULL && has_ctl(r->opaque)) ||
	    (cnonce != NULL && has_ctl(cnonce))) {
		*err = "control character in a Digest parameter";
		return -1;
	}
	if (r->nc == 0 || r->nc > 0xffffffffUL) {
		*err = "Digest nonce count out of range";
		return -1;
	}
	(void)snprintf(nc, sizeof(nc), "%08lx", r->nc);
	if (qop && cnonce == NULL) {
		if (random_bytes(rnd, sizeof(rnd)) == -1) {
			*err = "cannot get random bytes for the Digest cnonce";
			return -1;
		}
		hash_hex(rnd, sizeof(rnd), cnonce_buf);
		cnonce = cnonce_buf;
	}

	dh_join_hex(r->alg, ha1, user, r->realm, password);
	if (sess)
		dh_join_hex(r->alg, ha1, ha1, r->nonce, cnonce);
	dh_join_hex(r->alg, ha2, r->method, r->uri, NULL);
	dh_init(&h, r->alg);
	dh_add(&h, ha1);
	dh_add(&h, ":");
	dh_add(&h, r->nonce);
	dh_add(&h, ":");
	if (qop) {
		dh_add(&h, nc);
		dh_add(&h, ":");
		dh_add(&h, cnonce);
		dh_add(&h, ":auth:");
	}
	dh_add(&h, ha2);
	dh_final_hex(&h, resp);
	wipe(ha1, sizeof(ha1));

	sb_add(&sb, "Digest username=");
	if (r->userhash) {
		dh_join_hex(r->alg, uhash, user, r->realm, NULL);
		sb_quoted(&sb, uhash);
	} else
		sb_quoted(&sb, user);
	sb_add(&sb, ", realm=");
	sb_quoted(&sb, r->realm);
	sb_add(&sb, ", nonce=");
	sb_quoted(&sb, r->nonce);
	sb_add(&sb, ", uri=");
	sb_quoted(&sb, r->uri);
	sb_add(&sb, ", algorithm=");
	sb_add(&sb, digest_alg_name(r->alg));
	sb_add(&sb, ", response=");
	sb_quoted(&sb, resp);
	if (qop) {
		sb_add(&sb, ", qop=auth, nc=");
		sb_add(&sb, nc);
		sb_add(&sb, ", cnonce=");
		sb_quoted(&sb, cnonce);
	}
	if (r->opaque != NULL) {
		sb_add(&sb, ", opaque=");
		sb_quoted(&sb, r->opaque);
	}
	if (r->userhash)
		sb_add(&sb, ", userhash=true");
	wipe(&h, sizeof(h));
	if (sb.overflow) {
		out[0] = '\0';
		*err = "Digest response too long";
		return -1;
	}
	return 0;
}
