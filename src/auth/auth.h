/*
 * auth.h: HTTP proxy authentication across the rounds of one CONNECT
 * handshake: what to send first, and what to send after each 407.
 * Pure: no I/O.  The state holds derived secrets and is wiped on free.
 *
 * Layer auth/: proxy authentication as pure computation: challenge
 * parsing, Basic, Digest, NTLMv2, the struct that holds credentials.
 * Uses crypto/, util/ and the head parser (proto/http.h); never does I/O,
 * logs or exits (tests/layers.sh checks).
 */
#ifndef CULVERT_AUTH_H
#define CULVERT_AUTH_H

#include <stdbool.h>

#include "auth/creds.h"
#include "proto/http.h"
#include "proto/proto.h"

struct auth_state;

struct auth_state *auth_new(const struct creds *c, unsigned allow,
		    const char *authority);
/*
 * The Proxy-Authorization value for the next request, or NULL for none.
 * The string lives in the state until the next call.
 */
const char	*auth_next(struct auth_state *);
/*
 * A 407 answer arrived after `attempts` requests.  Decide the next
 * Proxy-Authorization value (auth_next), or fail: FAIL_AUTH with the
 * scheme, realm and a hint, or FAIL_USAGE for credentials that cannot be
 * sent (a colon in a Basic user name).
 */
int		 auth_on_407(struct auth_state *, const struct head *,
		    const struct status *, unsigned attempts,
		    struct failure *f);
/* The schemes the last 407 offered, described; "" before any. */
const char	*auth_offered(const struct auth_state *);
/* True while a handshake (NTLM) must stay on one connection. */
bool		 auth_needs_connection(const struct auth_state *);
void		 auth_free(struct auth_state *);

#endif
