/*
 * failure.h: why something failed, as a kind and one line for the user.
 *
 * Every layer below the modes reports failures this way and never decides
 * how they end: the edge maps the kind to an exit status (stdio mode, see
 * mode/mode.h), a SOCKS reply code or an HTTP status (the front ends).
 * http_status and socks_reply keep the proxy's own answer, when it gave
 * one, so a front end can pass it on.
 *
 * Layer util/: what every layer may use: failures, the checked number
 * parser, the clock, logging (for io/ upwards only), random bytes.
 */
#ifndef CULVERT_UTIL_FAILURE_H
#define CULVERT_UTIL_FAILURE_H

enum fail_kind {
	FAIL_NONE,
	FAIL_IO,		/* local I/O error, out of memory */
	FAIL_USAGE,		/* bad configuration or input */
	FAIL_UNREACH,		/* cannot resolve or connect */
	FAIL_REFUSED,		/* a proxy refused the request */
	FAIL_AUTH,		/* authentication required or refused */
	FAIL_TIMEOUT,		/* the deadline passed */
	FAIL_PROTO		/* a peer broke the protocol */
};

struct failure {
	enum fail_kind	kind;
	int		http_status;	/* proxy's HTTP status, or 0 */
	int		socks_reply;	/* proxy's SOCKS reply code, or -1 */
	unsigned	hop;		/* 1-based hop of a chain, or 0 */
	char		msg[1024];
};

/* Set kind and message; clears the proxy's codes and the hop. */
void	failure_set(struct failure *, enum fail_kind, const char *, ...)
	    __attribute__((format(printf, 3, 4)));

#endif
