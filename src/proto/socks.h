/*
 * socks.h: SOCKS4, SOCKS4a (openSOCKS draft) and SOCKS5 (RFC 1928, with
 * RFC 1929 username/password) client handshakes as sans-I/O engines
 * following proto.h.
 */
#ifndef CULVERT_SOCKS_H
#define CULVERT_SOCKS_H

#include <stdbool.h>
#include <stddef.h>

#include "proto/proto.h"

#define SOCKS_FIELD_MAX	255	/* name, user, password: one length byte */

enum socks_version {
	SOCKS_V4,		/* IPv4 address only, resolved by the caller */
	SOCKS_V4A,		/* name sent to the proxy (or an IPv4 address) */
	SOCKS_V5		/* name, IPv4 or IPv6 */
};

/*
 * What to ask for.  The engine copies what it needs in socks_start(), so
 * none of this has to outlive that call.
 *
 * host names the target in messages and, when addrlen is 0, is sent for
 * the proxy to resolve (socks4a, socks5h).  An IP literal host (IPv6 with
 * or without brackets) is always sent as an address.  For socks4 and
 * socks5 the caller resolves the name and passes the address: addr holds
 * addrlen bytes in network order, 4 (IPv4) or 16 (IPv6).
 *
 * user: SOCKS5 offers username/password authentication when user is
 * non-NULL and nonempty (pass NULL is sent as an empty password, as curl
 * does, though RFC 1929 asks for 1 to 255 bytes).  SOCKS4/4a send user as
 * the user id (empty when NULL) and ignore pass.
 */
struct socks_request {
	enum socks_version	 version;
	const char		*host;
	const unsigned char	*addr;
	size_t			 addrlen;
	unsigned		 port;
	const char		*user;
	const char		*pass;
};

struct socks {
	enum socks_version	 version;
	int			 state;
	char			 target[SOCKS_FIELD_MAX + 10]; /* host:port */
	char			 host[SOCKS_FIELD_MAX + 1];
	unsigned char		 addr[16];
	size_t			 addrlen;	/* 0: send host */
	unsigned		 port;
	char			 user[SOCKS_FIELD_MAX + 1];
	size_t			 userlen;
	char			 pass[SOCKS_FIELD_MAX + 1];
	size_t			 passlen;
	bool			 offer_auth;
	size_t			 seen;		/* of the awaited reply */
};

/*
 * Check r before connecting: host, address, port, and user and password
 * lengths (at most 255 bytes; the SOCKS5 user at least 1).  Returns 0, or
 * -1 with f set to FAIL_USAGE and a message naming the bad part.
 */
int		socks_check(const struct socks_request *r, struct failure *f);

/*
 * Check r (as socks_check), copy it into s and put the first message in
 * *out (replacing its contents).  STEP_SEND, or STEP_FAIL with f set.
 */
enum step	socks_start(struct socks *s, const struct socks_request *r,
		    struct outbuf *out, struct failure *f);

/*
 * Offer the len bytes that wait on the socket; eof when the proxy has
 * closed.  Consumes exactly one whole reply at most (*used), never bytes
 * beyond it.  STEP_NEED (nothing consumed), STEP_SEND (next message in
 * *out, replacing and wiping what was there, which may have been the
 * password), STEP_DONE, or STEP_FAIL with f set: FAIL_REFUSED for a
 * refusal, FAIL_AUTH for authentication, FAIL_PROTO for anything
 * malformed, truncated or from a different protocol.  On failure and on
 * STEP_DONE the password is already wiped from s and *out.
 */
enum step	socks_input(struct socks *s, const unsigned char *in,
		    size_t len, bool eof, size_t *used, struct outbuf *out,
		    struct failure *f);

/* Wipe s.  Call it always; safe after any step and more than once. */
void		socks_finish(struct socks *s);

/* "SOCKS4", "SOCKS4a", "SOCKS5". */
const char	*socks_version_name(enum socks_version);

#endif
