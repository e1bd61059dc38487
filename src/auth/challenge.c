/*
 * auth_challenge.c: Proxy-Authenticate parsing and scheme choice.
 *
 * Grammar (RFC 9110 sections 11.2, 11.6.1, 5.6):
 *   challenge   = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
 *   auth-param  = token BWS "=" BWS ( token / quoted-string )
 *   token68     = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
 * One field value is a comma-separated list of challenges, and a challenge's
 * parameters are separated by commas too, so after each comma we look ahead:
 * "token BWS =" continues the parameters, anything else starts a challenge.
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "auth/challenge.h"

struct cursor {
	const char	*p;
	const char	*end;
};

/* ALPHA / DIGIT, or one of the characters in extra. */
static int
is_alnum_or(unsigned char c, const char *extra)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr(extra, c) != NULL;
}

static int
is_tchar(unsigned char c)
{
	return is_alnum_or(c, "!#$%&'*+-.^_`|~");
}

static int
is_t68char(unsigned char c)
{
	return is_alnum_or(c, "-._~+/");
}

/* Characters accepted in an unquoted parameter value: RFC 9110 allows only
 * tchar, but servers send unquoted base64 nonces and paths, so take every
 * visible character that cannot end the value or start a quoted string. */
static int
is_valuechar(unsigned char c)
{
	return (c > 0x20 && c != 0x7f && c != ',' && c != '"' && c != '\\');
}

static void
skip_ows(struct cursor *cur)
{
	while (cur->p < cur->end && (*cur->p == ' ' || *cur->p == '\t'))
		cur->p++;
}

/* Skip list separators: commas and white space. */
static void
skip_commas(struct cursor *cur)
{
	while (cur->p < cur->end &&
	    (*cur->p == ',' || *cur->p == ' ' || *cur->p == '\t'))
		cur->p++;
}

/* Length of the run of characters at the cursor for which is_ok holds. */
static size_t
span_len(const struct cursor *cur, int (*is_ok)(unsigned char))
{
	const char	*q = cur->p;

	while (q < cur->end && is_ok((unsigned char)*q))
		q++;
	return (size_t)(q - cur->p);
}

/* Length of the run of tchar at the cursor. */
static size_t
token_len(const struct cursor *cur)
{
	return span_len(cur, is_tchar);
}

/* Copy n bytes to a NUL-terminated dst of size dstsize; -1 if too long. */
static int
copy_bounded(char *dst, size_t dstsize, const char *src, size_t n)
{
	if (n >= dstsize)
		return -1;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return 0;
}

/* The cursor is on the opening quote.  Unescape into dst (dstsize bytes);
 * *toolong is set when the value does not fit.  -1 on a syntax error. */
static int
parse_quoted(struct cursor *cur, char *dst, size_t dstsize, int *toolong,
    const char **err)
{
	size_t		n = 0;
	unsigned char	c;

	cur->p++;
	for (;;) {
		if (cur->p == cur->end) {
			*err = "unterminated quoted string";
			return -1;
		}
		c = (unsigned char)*cur->p++;
		if (c == '"')
			break;
		if (c == '\\') {
			if (cur->p == cur->end) {
				*err = "unterminated quoted string";
				return -1;
			}
			c = (unsigned char)*cur->p++;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			*err = "control character in quoted string";
			return -1;
		}
		if (n + 1 < dstsize)
			dst[n++] = (char)c;
		else
			*toolong = 1;
	}
	if (dstsize > 0)
		dst[n] = '\0';
	return 0;
}

/* Names of enum values, matched without regard to case. */
struct name_map {
	int		 value;
	const char	*name;
};

static const struct name_map scheme_names[] = {
	{ AUTH_SCHEME_BASIC, "Basic" },
	{ AUTH_SCHEME_DIGEST, "Digest" },
	{ AUTH_SCHEME_NTLM, "NTLM" },
	{ AUTH_SCHEME_NEGOTIATE, "Negotiate" }
};

static const struct name_map alg_names[] = {
	{ DIGEST_ALG_MD5, "MD5" },
	{ DIGEST_ALG_MD5_SESS, "MD5-sess" },
	{ DIGEST_ALG_SHA256, "SHA-256" },
	{ DIGEST_ALG_SHA256_SESS, "SHA-256-sess" }
};

#define NAME_MAP_LEN(m)	(sizeof(m) / sizeof((m)[0]))

/* The value named s in map (n entries), or notfound. */
static int
map_value(const struct name_map *map, size_t n, const char *s, int notfound)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcasecmp(s, map[i].name) == 0)
			return map[i].value;
	return notfound;
}

/* The name of value in map (n entries), or notfound. */
static const char *
map_name(const struct name_map *map, size_t n, int value, const char *notfound)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (map[i].value == value)
			return map[i].name;
	return notfound;
}

static enum auth_scheme
scheme_from_name(const char *s)
{
	return (enum auth_scheme)map_value(scheme_names,
	    NAME_MAP_LEN(scheme_names), s, AUTH_SCHEME_UNKNOWN);
}

/*
 * Parse one auth-param list into c, the cursor on the first name.  Leaves
 * the cursor at the end of input or at the start of the next challenge.
 * *drop is set to a reason when the challenge is well-formed but cannot be
 * kept.  -1 on a syntax error.
 */
static int
parse_params(struct cursor *cur, struct auth_challenge *c, const char **drop,
    const char **err)
{
	struct auth_param	 scratch, *pp;
	struct cursor		 look;
	size_t			 n, i;
	int			 toolong;

	memset(&scratch, 0, sizeof(scratch));
	for (;;) {
		if ((n = token_len(cur)) == 0) {
			*err = "expected a parameter name";
			return -1;
		}
		pp = c->nparams < AUTH_PARAMS_MAX ? &c->params[c->nparams] :
		    &scratch;
		toolong = copy_bounded(pp->name, sizeof(pp->name), cur->p, n)
		    == -1;
		cur->p += n;
		skip_ows(cur);
		if (cur->p == cur->end || *cur->p != '=') {
			*err = "expected '=' after a parameter name";
			return -1;
		}
		cur->p++;
		skip_ows(cur);
		if (cur->p < cur->end && *cur->p == '"') {
			if (parse_quoted(cur, pp->value, sizeof(pp->value),
			    &toolong, err) == -1)
				return -1;
		} else {
			n = span_len(cur, is_valuechar);
			if (n == 0) {
				*err = "missing parameter value";
				return -1;
			}
			if (copy_bounded(pp->value, sizeof(pp->value), cur->p,
			    n) == -1)
				toolong = 1;
			cur->p += n;
		}
		if (toolong) {
			*drop = "parameter name or value too long";
		} else if (pp == &scratch) {
			*drop = "too many parameters";
		} else {
			for (i = 0; pp->name[i] != '\0'; i++)
				if (pp->name[i] >= 'A' && pp->name[i] <= 'Z')
					pp->name[i] = (char)(pp->name[i] -
					    'A' + 'a');
			if (auth_challenge_param(c, pp->name) != NULL)
				*drop = "duplicate parameter";
			c->nparams++;
		}

		skip_ows(cur);
		if (cur->p == cur->end)
			return 0;
		if (*cur->p != ',') {
			*err = "unexpected character after a parameter value";
			return -1;
		}
		skip_commas(cur);
		if (cur->p == cur->end)
			return 0;
		/* "name =" goes on with this challenge, else a new one. */
		look = *cur;
		look.p += token_len(&look);
		skip_ows(&look);
		if (look.p == cur->p || look.p == look.end || *look.p != '=')
			return 0;
	}
}

/* Parse one challenge at the cursor into c.  Same contract as above. */
static int
parse_one(struct cursor *cur, struct auth_challenge *c, const char **drop,
    const char **err)
{
	struct cursor	look;
	const char	*t68end;
	size_t		 n;

	c->nparams = 0;
	c->token68[0] = '\0';
	c->scheme_name[0] = '\0';
	if ((n = token_len(cur)) == 0) {
		*err = "expected an authentication scheme";
		return -1;
	}
	if (copy_bounded(c->scheme_name, sizeof(c->scheme_name), cur->p, n)
	    == -1)
		*drop = "scheme name too long";
	c->scheme = scheme_from_name(c->scheme_name);
	cur->p += n;

	look = *cur;
	skip_ows(&look);
	if (look.p == look.end || *look.p == ',') {
		*cur = look;
		return 0;
	}
	if (look.p == cur->p) {
		*err = "expected a space after the scheme name";
		return -1;
	}
	*cur = look;

	/* token68: its characters, optional '=' padding, then end or ','. */
	look.p += span_len(&look, is_t68char);
	if (look.p > cur->p) {
		while (look.p < look.end && *look.p == '=')
			look.p++;
		t68end = look.p;
		skip_ows(&look);
		if (look.p == look.end || *look.p == ',') {
			if (copy_bounded(c->token68, sizeof(c->token68), cur->p,
			    (size_t)(t68end - cur->p)) == -1)
				*drop = "token too long";
			*cur = look;
			return 0;
		}
	}
	return parse_params(cur, c, drop, err);
}

void
auth_challenges_init(struct auth_challenges *set)
{
	set->n = 0;
}

int
auth_challenge_parse(struct auth_challenges *set, const char *value,
    size_t len, const char **err)
{
	struct cursor		 cur = { value, value + len };
	struct auth_challenge	*c;
	const char		*drop, *syntax = NULL, *problem = NULL;

	for (;;) {
		skip_commas(&cur);
		if (cur.p == cur.end)
			break;
		if (set->n >= AUTH_CHALLENGES_MAX) {
			problem = "too many challenges";
			break;
		}
		/* Parse in place; the slot is only kept by counting it. */
		c = &set->c[set->n];
		drop = NULL;
		if (parse_one(&cur, c, &drop, &syntax) == -1) {
			problem = syntax;
			break;
		}
		if (drop != NULL) {
			problem = drop;
			continue;
		}
		set->n++;
	}
	if (problem == NULL)
		return 0;
	if (err != NULL)
		*err = problem;
	return -1;
}

const char *
auth_challenge_param(const struct auth_challenge *c, const char *name)
{
	size_t	i;

	for (i = 0; i < c->nparams; i++)
		if (strcasecmp(c->params[i].name, name) == 0)
			return c->params[i].value;
	return NULL;
}

/* A challenge without an algorithm parameter means MD5 (RFC 7616 3.3). */
enum digest_alg
digest_alg_from_name(const char *s)
{
	if (s == NULL)
		return DIGEST_ALG_MD5;
	return (enum digest_alg)map_value(alg_names, NAME_MAP_LEN(alg_names),
	    s, DIGEST_ALG_UNSUPPORTED);
}

const char *
digest_alg_name(enum digest_alg alg)
{
	return map_name(alg_names, NAME_MAP_LEN(alg_names), (int)alg,
	    "unsupported");
}

const char *
auth_scheme_name(enum auth_scheme scheme)
{
	return map_name(scheme_names, NAME_MAP_LEN(scheme_names), (int)scheme,
	    "unknown");
}

int
digest_qop_has_auth(const char *s)
{
	const char	*start;
	size_t		 n;

	while (*s != '\0') {
		while (*s == ' ' || *s == '\t' || *s == ',')
			s++;
		start = s;
		while (*s != '\0' && *s != ',' && *s != ' ' && *s != '\t')
			s++;
		n = (size_t)(s - start);
		if (n == 4 && strncasecmp(start, "auth", 4) == 0)
			return 1;
	}
	return 0;
}

/* Strength of a challenge we can answer, 0 if we cannot. */
static int
challenge_rank(const struct auth_challenge *c, enum digest_alg *alg)
{
	const char	*qop;

	*alg = DIGEST_ALG_UNSUPPORTED;
	switch (c->scheme) {
	case AUTH_SCHEME_NTLM:
		return 4;
	case AUTH_SCHEME_DIGEST:
		if (auth_challenge_param(c, "nonce") == NULL)
			return 0;
		qop = auth_challenge_param(c, "qop");
		if (qop != NULL && !digest_qop_has_auth(qop))
			return 0;
		*alg = digest_alg_from_name(auth_challenge_param(c,
		    "algorithm"));
		if (*alg == DIGEST_ALG_SHA256 || *alg == DIGEST_ALG_SHA256_SESS)
			return 3;
		if (*alg == DIGEST_ALG_MD5 || *alg == DIGEST_ALG_MD5_SESS)
			return 2;
		return 0;
	case AUTH_SCHEME_BASIC:
		return 1;
	case AUTH_SCHEME_NEGOTIATE:
	case AUTH_SCHEME_UNKNOWN:
		break;
	}
	return 0;
}

static unsigned int
scheme_bit(enum auth_scheme scheme)
{
	switch (scheme) {
	case AUTH_SCHEME_BASIC:
		return AUTH_ALLOW_BASIC;
	case AUTH_SCHEME_DIGEST:
		return AUTH_ALLOW_DIGEST;
	case AUTH_SCHEME_NTLM:
		return AUTH_ALLOW_NTLM;
	case AUTH_SCHEME_NEGOTIATE:
	case AUTH_SCHEME_UNKNOWN:
		break;
	}
	return 0;
}

enum auth_choice_status
auth_choose(const struct auth_challenges *set, unsigned int allowed,
    struct auth_choice *out)
{
	const struct auth_challenge	*c;
	enum digest_alg			 alg;
	size_t				 i;
	int				 rank, best = 0, disallowed = 0;
	int				 negotiate = 0;

	out->scheme = AUTH_SCHEME_UNKNOWN;
	out->alg = DIGEST_ALG_UNSUPPORTED;
	out->challenge = NULL;
	for (i = 0; i < set->n && i < AUTH_CHALLENGES_MAX; i++) {
		c = &set->c[i];
		if (c->scheme == AUTH_SCHEME_NEGOTIATE)
			negotiate = 1;
		if ((rank = challenge_rank(c, &alg)) == 0)
			continue;
		if ((scheme_bit(c->scheme) & allowed) == 0) {
			disallowed = 1;
			continue;
		}
		if (rank > best) {
			best = rank;
			out->scheme = c->scheme;
			out->alg = alg;
			out->challenge = c;
		}
	}
	if (best > 0)
		return AUTH_CHOICE_OK;
	if (disallowed)
		return AUTH_CHOICE_NOT_ALLOWED;
	if (set->n == 0)
		return AUTH_CHOICE_NONE;
	if (negotiate)
		return AUTH_CHOICE_NEGOTIATE_ONLY;
	return AUTH_CHOICE_UNSUPPORTED;
}
