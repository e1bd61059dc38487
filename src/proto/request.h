/*
 * request.h: one HTTP/1.1 request and its response, through an HTTP
 * proxy (absolute-form target, Basic, Digest and NTLM answered as for
 * CONNECT) or straight to a server, as an engine in the manner of
 * proto.h: the driver writes out[outoff..outlen), offers what it reads,
 * and follows the step.  A response body is read by its Content-Length,
 * chunked, or up to the end of the connection; what follows it stays
 * unread (the next response on a persistent connection).
 */
#ifndef CULVERT_PROTO_REQUEST_H
#define CULVERT_PROTO_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "proto/http.h"
#include "proto/proto.h"

struct auth_state;
struct creds;

struct request {
	/* what to send; the caller's, kept valid until request_free() */
	const char		*method;
	const char		*target;	/* as on the request line */
	const char		*host;		/* the Host field */
	const char		*extra;		/* header lines ending in CRLF */
	const unsigned char	*body;
	size_t			 bodylen;
	bool			 chunked_body;	/* no body here: the caller
						   sends it chunked */
	const struct creds	*creds;		/* for the proxy; may be NULL */
	unsigned		 auth_allow;
	bool			 via_proxy;	/* answer 407s */
	size_t			 body_max;	/* response bodies at most */
	/* what to write */
	unsigned char		*out;
	size_t			 outlen, outcap;
	/* the response */
	struct head		 head;
	struct status		 st;
	unsigned char		*rbody;
	size_t			 rlen, rcap;
	bool			 keep;		/* the connection can go on */
	struct failure		 fail;
	/* state */
	int			 state;
	unsigned long long	 left;		/* of the body or a chunk */
	bool			 chunked, to_close;
	struct auth_state	*auth;
	unsigned		 attempts;
	char			 line[32];	/* a chunk-size line */
	size_t			 linelen;
};

/* Build the request into out: STEP_SEND, or STEP_FAIL. */
enum step	request_start(struct request *r);
/*
 * Offer the bytes read (eof: the connection closed).  STEP_NEED,
 * STEP_SEND (out holds the request again, with credentials, on the same
 * connection), STEP_RECONNECT (the same, on a new one), STEP_DONE (the
 * response is in st, head and rbody), STEP_FAIL.
 */
enum step	request_input(struct request *r, const unsigned char *data,
		    size_t len, bool eof, size_t *used);
/*
 * How many bytes of a body (or a chunk) of known length are still to
 * come, 0 when none or when the length is not known: so many can be read
 * and offered at once, without looking at what follows.
 */
size_t		request_body_left(const struct request *r);
/*
 * Is the final answer's head in, and its body coming?  Then the caller
 * may take rbody[0, rlen) as it comes and set rlen to 0 (a long answer
 * that streams).
 */
bool		request_in_body(const struct request *r);
/* After STEP_RECONNECT: build the request again. */
enum step	request_restart(struct request *r);
/* Look a response field up: 0 with *v, *vl, or -1. */
int		request_field(const struct request *r, const char *name,
		    const char **v, size_t *vl);
void		request_free(struct request *r);

#endif
