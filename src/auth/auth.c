/*
 * auth.c: Basic (RFC 7617), Digest (RFC 7616) and NTLMv2 (MS-NLMP) as
 * rounds of a CONNECT handshake.
 *
 * With credentials and --proxy-auth any or basic, Basic goes out with
 * the first request, as curl does; --proxy-auth ntlm starts NTLM at once.
 * After a 407 the strongest offered scheme that is allowed is answered:
 * NTLM, Digest SHA-256, Digest MD5, Basic.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/auth.h"
#include "auth/challenge.h"
#include "auth/digest.h"
#include "auth/ntlm.h"
#include "crypto/base64.h"
#include "crypto/wipe.h"

enum ntlm_phase { NTLM_NONE, NTLM_NEGOTIATED, NTLM_AUTHENTICATED };

struct auth_state {
	const struct creds	*c;
	unsigned		 allow;		/* AUTH_ALLOW_* bits */
	char			 authority[300];
	enum auth_scheme	 sent;		/* scheme of the last answer */
	enum ntlm_phase		 ntlm;
	bool			 have_value;
	char			 value[NTLM_TOKEN_MAX + 16];
	char			 offered[512];	/* by the last 407 */
};

static int
make_basic(struct auth_state *a, struct failure *f)
{
	char raw[CREDS_USER_MAX + CREDS_PASS_MAX + 2];
	int n;

	if (strchr(a->c->user, ':') != NULL) {
		failure_set(f, FAIL_USAGE, "proxy user name \"%s\" holds a "
		    "colon, which Basic authentication cannot carry",
		    a->c->user);
		return -1;
	}
	n = snprintf(raw, sizeof(raw), "%s:%s", a->c->user, a->c->pass);
	memcpy(a->value, "Basic ", 6);
	if (n < 0 || base64_encode(raw, (size_t)n, a->value + 6,
	    sizeof(a->value) - 6) == 0) {
		wipe(raw, sizeof(raw));
		failure_set(f, FAIL_USAGE, "proxy credentials too long");
		return -1;
	}
	wipe(raw, sizeof(raw));
	a->sent = AUTH_SCHEME_BASIC;
	a->have_value = true;
	return 0;
}

static int
make_negotiate(struct auth_state *a, struct failure *f)
{
	memcpy(a->value, "NTLM ", 5);
	if (ntlm_negotiate_token(a->value + 5, sizeof(a->value) - 5) == -1) {
		failure_set(f, FAIL_AUTH, "cannot build the NTLM message");
		return -1;
	}
	a->sent = AUTH_SCHEME_NTLM;
	a->ntlm = NTLM_NEGOTIATED;
	a->have_value = true;
	return 0;
}

struct auth_state *
auth_new(const struct creds *c, unsigned allow, const char *authority)
{
	struct auth_state *a;
	struct failure f;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	a->c = c;
	a->allow = allow;
	snprintf(a->authority, sizeof(a->authority), "%s", authority);
	if (c == NULL || !c->have_user)
		return a;
	/* Preemptive first answer; failures surface again after a 407. */
	if (allow & AUTH_ALLOW_BASIC)
		(void)make_basic(a, &f);
	else if (allow == AUTH_ALLOW_NTLM)
		(void)make_negotiate(a, &f);
	return a;
}

const char *
auth_next(struct auth_state *a)
{
	return a->have_value ? a->value : NULL;
}

const char *
auth_offered(const struct auth_state *a)
{
	return a->offered;
}

bool
auth_needs_connection(const struct auth_state *a)
{
	return a->ntlm == NTLM_NEGOTIATED;
}

/* Collect every Proxy-Authenticate field of the head. */
static void
collect(const struct head *h, struct auth_challenges *set)
{
	const char *name, *value, *err;
	size_t pos = 0, nl, vl;

	auth_challenges_init(set);
	while (http_next_field(h, &pos, &name, &nl, &value, &vl))
		if (http_field_is(name, nl, "Proxy-Authenticate"))
			(void)auth_challenge_parse(set, value, vl, &err);
}

/* "Digest realm \"x\"" style description for messages. */
static void
describe(const struct auth_challenges *set, char *buf, size_t len)
{
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < set->n && o + 1 < len; i++) {
		const char *realm = auth_challenge_param(&set->c[i], "realm");
		int r;

		r = snprintf(buf + o, len - o, "%s%s%s%s%s", i > 0 ? ", " : "",
		    set->c[i].scheme_name, realm != NULL ? " realm=\"" : "",
		    realm != NULL ? realm : "", realm != NULL ? "\"" : "");
		if (r < 0)
			break;
		o += (size_t)r;
		if (o >= len)
			o = len - 1;
	}
}

static int
answer_ntlm(struct auth_state *a, const struct auth_challenge *ch,
    struct failure *f)
{
	struct ntlm_challenge *nc;
	const char *err = "no NTLM challenge";
	int rc = -1;

	if (ch->token68[0] == '\0') {
		/* A bare "NTLM": start the exchange. */
		return make_negotiate(a, f);
	}
	if ((nc = calloc(1, sizeof(*nc))) == NULL) {
		failure_set(f, FAIL_IO, "out of memory");
		return -1;
	}
	memcpy(a->value, "NTLM ", 5);
	if (ntlm_parse_challenge_token(nc, ch->token68, &err) == 0 &&
	    ntlm_authenticate_token(a->value + 5, sizeof(a->value) - 5, nc,
	    a->c->user, a->c->pass, &err) == 0) {
		a->ntlm = NTLM_AUTHENTICATED;
		a->sent = AUTH_SCHEME_NTLM;
		a->have_value = true;
		rc = 0;
	} else
		failure_set(f, FAIL_AUTH, "proxy sent a bad NTLM challenge "
		    "for CONNECT %s: %s", a->authority, err);
	wipe(nc, sizeof(*nc));
	free(nc);
	return rc;
}

static int
answer_digest(struct auth_state *a, const struct auth_challenge *ch,
    struct failure *f)
{
	struct digest_request r;
	const char *err, *stale;

	stale = auth_challenge_param(ch, "stale");
	if (a->sent == AUTH_SCHEME_DIGEST &&
	    (stale == NULL || strcasecmp(stale, "true") != 0))
		return 1;	/* same credentials, refused again */
	if (digest_request_from_challenge(&r, ch, "CONNECT", a->authority,
	    &err) == -1 || digest_response(a->value, sizeof(a->value),
	    a->c->user, a->c->pass, &r, &err) == -1) {
		failure_set(f, FAIL_AUTH, "cannot answer the proxy's Digest "
		    "challenge for CONNECT %s: %s", a->authority, err);
		return -1;
	}
	a->sent = AUTH_SCHEME_DIGEST;
	a->have_value = true;
	return 0;
}

int
auth_on_407(struct auth_state *a, const struct head *h,
    const struct status *st, unsigned attempts, struct failure *f)
{
	struct auth_challenges *set;
	struct auth_choice choice;
	char *offered = a->offered;
	int rc = -1, r;

	if ((set = malloc(sizeof(*set))) == NULL) {
		failure_set(f, FAIL_IO, "out of memory");
		return -1;
	}
	collect(h, set);
	describe(set, offered, sizeof(a->offered));
	a->have_value = false;

	if (a->c == NULL || !a->c->have_user) {
		failure_set(f, FAIL_AUTH, "proxy requires authentication for "
		    "CONNECT %s: %s%s%s (give a user with -U or "
		    "CULVERT_PROXY_USER and a password with --auth-file or "
		    "CULVERT_PROXY_PASSWORD)", a->authority, st->line,
		    offered[0] != '\0' ? "; offers " : "", offered);
		goto out;
	}
	switch (auth_choose(set, a->allow, &choice)) {
	case AUTH_CHOICE_OK:
		break;
	case AUTH_CHOICE_NONE:
		failure_set(f, FAIL_AUTH, "proxy answered CONNECT %s with %s "
		    "but offered no authentication scheme", a->authority,
		    st->line);
		goto out;
	case AUTH_CHOICE_NOT_ALLOWED:
		failure_set(f, FAIL_AUTH, "proxy offers %s for CONNECT %s, "
		    "which --proxy-auth does not allow (try --proxy-auth any)",
		    offered, a->authority);
		goto out;
	case AUTH_CHOICE_NEGOTIATE_ONLY:
		failure_set(f, FAIL_AUTH, "proxy offers only Negotiate "
		    "(Kerberos) for CONNECT %s, which culvert does not speak; "
		    "ask for Basic, Digest or NTLM, or use a local helper such "
		    "as cntlm", a->authority);
		goto out;
	case AUTH_CHOICE_UNSUPPORTED:
		failure_set(f, FAIL_AUTH, "proxy offers only authentication "
		    "culvert does not speak for CONNECT %s: %s", a->authority,
		    offered);
		goto out;
	}

	r = 1;
	if (attempts < HS_MAX_REQUESTS) {
		switch (choice.scheme) {
		case AUTH_SCHEME_NTLM:
			if (a->ntlm == NTLM_AUTHENTICATED)
				break;	/* our answer was refused */
			r = answer_ntlm(a, choice.challenge, f);
			break;
		case AUTH_SCHEME_DIGEST:
			r = answer_digest(a, choice.challenge, f);
			break;
		case AUTH_SCHEME_BASIC:
			if (a->sent != AUTH_SCHEME_BASIC)
				r = make_basic(a, f);
			break;
		default:
			break;
		}
	}
	if (r == 0)
		rc = 0;
	else if (r == 1)
		failure_set(f, FAIL_AUTH, "proxy refused the credentials of "
		    "user %s for CONNECT %s: %s (%s%s%s; check the user name "
		    "and password)", a->c->user, a->authority, st->line,
		    auth_scheme_name(choice.scheme),
		    auth_challenge_param(choice.challenge, "realm") != NULL ?
		    ", realm " : "",
		    auth_challenge_param(choice.challenge, "realm") != NULL ?
		    auth_challenge_param(choice.challenge, "realm") : "");
out:
	wipe(set, sizeof(*set));
	free(set);
	return rc;
}

void
auth_free(struct auth_state *a)
{
	if (a == NULL)
		return;
	wipe(a, sizeof(*a));
	free(a);
}
