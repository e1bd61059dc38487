/*
 * session.h: the protocol between culvert and culvert serve, for
 * tunnels that carry their stream inside ordinary HTTP requests or over
 * a connection of their own, and resume when that connection breaks.
 *
 * A session is one byte stream each way, numbered from 0.  Each side
 * keeps what it sent until the other acknowledges it (the offset up to
 * which it has received everything), so bytes can be sent again after a
 * break and duplicates dropped: nothing is lost, doubled or reordered.
 *
 * Requests (under the URL's path P, e.g. "/" or "/tunnel/"):
 *
 *	POST P/culvert/open?t=HOST:PORT		-> X-Culvert-Session: SID
 *	POST P/culvert/up?s=SID&o=OFF[&eof=1]	body: upstream bytes at OFF
 *						-> X-Culvert-Ack: bytes taken
 *		(a body chunked, or over SESS_BODY_MAX, is taken as it
 *		comes, as far as the session has room; the answer follows
 *		its end)
 *	GET  P/culvert/down?s=SID&a=ACK[&c=1]&n=RAND
 *						-> body: downstream bytes,
 *						   X-Culvert-Offset: first
 *						   byte's offset,
 *						   X-Culvert-Eof: 1 at the end
 *		(c=1: the body may be chunked, and go on as the target
 *		sends, for a while)
 *	POST P/culvert/close?s=SID
 *	POST P/culvert/stream?t=HOST:PORT	(new) or
 *	POST P/culvert/stream?s=SID&a=ACK	(resume): -> 200, then frames
 *						   both ways on this
 *						   connection
 *
 * When the server has a token, every request carries
 *
 *	X-Culvert-Auth: v1 NONCE TIME MAC
 *
 * NONCE 32 hex digits, fresh per request; TIME Unix seconds; MAC the
 * HMAC-SHA256 under the token of "culvert-v1 METHOD PATH NONCE TIME",
 * PATH with its query.  The token is never sent; a request is good once
 * (nonces are remembered) and for five minutes around the server's
 * clock.  The session id, the target and the offsets are in PATH, so a
 * stolen session id is worth nothing without the token.
 *
 * Frames (the stream request, after the 200), 13-byte header:
 *	type (1), length (4, big-endian), offset (8, big-endian), payload
 * D data at offset; A acknowledge: everything before offset arrived;
 * E end of the stream at offset; P keep-alive (answered with an A);
 * C the session is over (payload: why).
 */
#ifndef CULVERT_PROTO_SESSION_H
#define CULVERT_PROTO_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SESS_ID_LEN		32	/* hex digits: 128 bits */
#define SESS_NONCE_LEN		32	/* hex digits */
#define SESS_MAC_LEN		64	/* hex digits of HMAC-SHA256 */
#define SESS_SKEW_S		300	/* clock difference accepted */
#define SESS_TOKEN_MAX		1024
#define SESS_FRAME_HDR		13
#define SESS_FRAME_MAX		(256 * 1024)	/* payload of one frame */
#define SESS_BODY_MAX		(256 * 1024)	/* body of one POST */
#define SESS_UPLOAD_MAX		(16 * 1024 * 1024) /* one up taken as it comes */
#define SESS_ACK_DELAY_MS	10		/* an ACK alone waits this long */

enum sess_frame_type {
	FRAME_DATA = 'D',
	FRAME_ACK = 'A',
	FRAME_EOF = 'E',
	FRAME_PING = 'P',
	FRAME_CLOSE = 'C'
};

struct sess_frame {
	enum sess_frame_type	 type;
	uint32_t		 len;
	uint64_t		 off;
	const unsigned char	*payload;	/* points into the input */
};

/* The MAC of a request, as 64 hex digits and a NUL, into out. */
void	sess_mac(const unsigned char *token, size_t toklen, const char *method,
	    const char *path, const char *nonce, long long when, char *out);
/*
 * The X-Culvert-Auth value for a request (nonce from the caller, who
 * draws it at random) into out (160 bytes are enough).
 */
void	sess_auth_value(const unsigned char *token, size_t toklen,
	    const char *method, const char *path, const char *nonce,
	    long long when, char *out, size_t outlen);

/* Nonces seen within the accepted clock window, to refuse replays. */
struct nonce_cache {
	struct nonce_slot {
		char		 nonce[SESS_NONCE_LEN + 1];
		long long	 seen;		/* Unix seconds; 0: free */
	}		*slot;
	size_t		 n;			/* a power of two */
	size_t		 used;
};

enum sess_verdict {
	SESS_OK,
	SESS_MISSING,		/* no X-Culvert-Auth */
	SESS_MALFORMED,
	SESS_BAD_MAC,
	SESS_STALE,		/* clock difference over SESS_SKEW_S */
	SESS_REPLAY,		/* nonce seen before */
	SESS_BUSY		/* the nonce cache is full */
};

/*
 * Check a request's X-Culvert-Auth value (NULL: absent) against the
 * token at time now, and remember its nonce.  The verdict says why a
 * request is refused (sess_verdict_text()).
 */
enum sess_verdict sess_check(struct nonce_cache *nc,
	    const unsigned char *token, size_t toklen, const char *method,
	    const char *path, const char *value, size_t valuelen,
	    long long now);
const char *sess_verdict_text(enum sess_verdict);
/* A cache for n nonces at most (rounded up to a power of two). */
int	nonce_cache_init(struct nonce_cache *nc, size_t n);
void	nonce_cache_free(struct nonce_cache *nc);

/* Write a frame header for a payload of len bytes; returns 13. */
size_t	sess_frame_header(unsigned char *out, enum sess_frame_type type,
	    uint32_t len, uint64_t off);
/*
 * Parse one frame at the start of in: 1 with *f set and *used its whole
 * length, 0 when more bytes are needed, -1 when it is not a frame (bad
 * type or a payload over SESS_FRAME_MAX).
 */
int	sess_frame_parse(const unsigned char *in, size_t len,
	    struct sess_frame *f, size_t *used);

/*
 * The value of name in a query string "a=1&b=2" (up to the end or '#'),
 * percent-decoded, into out.  0, or -1 when absent or too long.
 */
int	sess_query(const char *query, const char *name, char *out,
	    size_t outlen);
/* A session id, nonce or MAC: exactly len lower-case hex digits? */
bool	sess_is_hex(const char *s, size_t len);

#endif
