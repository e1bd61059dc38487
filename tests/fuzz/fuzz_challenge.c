/*
 * fuzz_challenge.c: libFuzzer harness for Proxy-Authenticate parsing
 * (auth_challenge.h) and the answers built from what it yields
 * (auth_digest.h, auth_ntlm.h).
 *
 * Input: the values of the 407's Proxy-Authenticate fields, one per line
 * ('\n'), each copied to an exactly sized buffer without a terminating
 * NUL (auth_challenge_parse() takes a length).  Then auth_choose() runs
 * with every allowed mask; a Digest choice is answered with
 * digest_request_from_challenge() and digest_response() (fixed cnonce,
 * plain and hashed user names), and every NTLM challenge carrying a token
 * with ntlm_parse_challenge_token() and ntlm_authenticate_token().  Checks
 * that the outputs are NUL-terminated within their buffers and that a
 * choice points into the set.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/challenge.h"
#include "auth/digest.h"
#include "auth/ntlm.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_string(const char *s, size_t size)
{
	if (memchr(s, '\0', size) == NULL)
		abort();
}

static void
answer_digest(const struct auth_challenge *c, int userhash)
{
	struct digest_request r;
	const char *err = NULL;
	char *out;

	if (digest_request_from_challenge(&r, c, "CONNECT",
	    "example.com:443", &err) == -1) {
		if (err == NULL)
			abort();
		return;
	}
	r.cnonce = "0a4f113b";
	if (userhash)
		r.userhash = !r.userhash;
	if ((out = malloc(DIGEST_HEADER_MAX)) == NULL)
		return;
	err = NULL;
	if (digest_response(out, DIGEST_HEADER_MAX, userhash ? "u\"ser" : "u",
	    "p", &r, &err) == 0)
		check_string(out, DIGEST_HEADER_MAX);
	else if (err == NULL || out[0] != '\0')
		abort();
	free(out);
}

static void
answer_ntlm(const struct auth_challenge *c)
{
	struct ntlm_challenge *ch;
	const char *err = NULL;
	char *out;

	if (c->token68[0] == '\0')
		return;
	check_string(c->token68, sizeof(c->token68));
	ch = malloc(sizeof(*ch));
	out = malloc(NTLM_TOKEN_MAX);
	if (ch != NULL && out != NULL &&
	    ntlm_parse_challenge_token(ch, c->token68, &err) == 0) {
		if (ntlm_authenticate_token(out, NTLM_TOKEN_MAX, ch, "u", "p",
		    &err) == 0)
			check_string(out, NTLM_TOKEN_MAX);
	}
	free(out);
	free(ch);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct auth_challenges *set;
	struct auth_choice choice;
	size_t off = 0, i;
	unsigned allowed;

	if ((set = malloc(sizeof(*set))) == NULL)
		return 0;
	auth_challenges_init(set);
	while (off <= size) {
		const uint8_t *nl = memchr(data + off, '\n', size - off);
		size_t n = nl != NULL ? (size_t)(nl - (data + off)) :
		    size - off;
		char *v = malloc(n > 0 ? n : 1);
		const char *err = NULL;

		if (v == NULL)
			break;
		memcpy(v, data + off, n);
		if (auth_challenge_parse(set, v, n, &err) == -1 && err == NULL)
			abort();
		free(v);
		if (set->n > AUTH_CHALLENGES_MAX)
			abort();
		off += n + 1;
	}

	for (i = 0; i < set->n; i++) {
		const struct auth_challenge *c = &set->c[i];
		size_t j;

		check_string(c->scheme_name, sizeof(c->scheme_name));
		if (c->nparams > AUTH_PARAMS_MAX)
			abort();
		for (j = 0; j < c->nparams; j++) {
			check_string(c->params[j].name,
			    sizeof(c->params[j].name));
			check_string(c->params[j].value,
			    sizeof(c->params[j].value));
		}
		(void)auth_scheme_name(c->scheme);
		(void)digest_qop_has_auth(c->token68);
		if (c->scheme == AUTH_SCHEME_NTLM)
			answer_ntlm(c);
	}

	for (allowed = 0; allowed <= AUTH_ALLOW_ANY; allowed++) {
		memset(&choice, 0, sizeof(choice));
		if (auth_choose(set, allowed, &choice) != AUTH_CHOICE_OK)
			continue;
		if (choice.challenge < &set->c[0] ||
		    choice.challenge >= &set->c[set->n] ||
		    choice.challenge->scheme != choice.scheme)
			abort();
		if (choice.scheme == AUTH_SCHEME_DIGEST) {
			(void)digest_alg_name(choice.alg);
			answer_digest(choice.challenge, 0);
			answer_digest(choice.challenge, 1);
		}
	}
	free(set);
	return 0;
}
