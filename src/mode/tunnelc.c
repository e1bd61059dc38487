/*
 * tunnelc.c: culvert --tunnel URL HOST PORT: stdin and stdout carried by
 * a session of culvert serve (proto/session.h), over one of two
 * transports, and resumed when the transport breaks:
 *
 *	stream	a connection of its own to the server, through the proxy
 *		(CONNECT or SOCKS) or straight; frames both ways
 *	http	POST requests carry stdin, long-poll GETs bring stdout back,
 *		through an HTTP proxy that forbids CONNECT
 *
 * Each side keeps what it sent until the other acknowledges it, so after
 * a reset, a proxy restart or an idle cut culvert connects again (at
 * once, then backing off to every 5 s) and both go on from the last byte
 * acknowledged, until --resume-timeout.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "crypto/hash.h"
#include "crypto/wipe.h"
#include "cli/token.h"
#include "io/loop.h"
#include "io/relay.h"
#include "io/transport.h"
#include "io/tunnel.h"
#include "mode/mode.h"
#include "proto/request.h"
#include "proto/session.h"
#include "route/noproxy.h"
#include "route/proxyenv.h"
#include "util/log.h"
#include "util/buf.h"
#include "util/num.h"
#include "util/random.h"

#define UP_CAP		(4 * 1024 * 1024) /* stdin bytes not yet acknowledged */
#define OUTQ_MAX	(4 * 1024 * 1024) /* stdout bytes not yet written */
#define DATA_CHUNK	(64 * 1024)	/* payload of one stream frame */
#define BODY_READ_MAX	(256 * 1024)	/* one read of a response body */
#define ACK_EVERY	(256 * 1024)	/* acknowledge at least this often */
#define BACKOFF_MAX_MS	5000
#define OPEN_TIMEOUT_S	30		/* opening one connection */
#define GOODBYE_MS	2000		/* waiting for the server's goodbye */
#define STALE_MAX	2		/* a conn's kept ones failing in a row */
/*
 * Uploads (http transport).  A little input (typing) goes in a chunked
 * POST that streams the input as it comes: no request per keystroke.  It
 * ends after UPLOAD_IDLE_MS with nothing to send, UPLOAD_MS in all (a
 * proxy that holds whole bodies back passes each on by then), or once
 * input backs up (STREAM_BELOW): proxies pass chunked bodies slowly
 * (squid 5 at a third of the speed), so much input goes in POSTs of
 * known length, up to UPLOAD_MAX each (acknowledged with the answer).
 */
#define UPLOAD_MAX	(2 * 1024 * 1024)
#define STREAM_BELOW	(64 * 1024)
#define UPLOAD_IDLE_MS	20
#define UPLOAD_MS	1000

enum cstate {
	K_IDLE,		/* no connection, or one kept alive between requests */
	K_OPEN,		/* the tunnel machine opens the connection */
	K_SEND,		/* writing a request */
	K_RECV,		/* reading its response */
	K_UPLOAD,	/* http transport: a POST's chunked body */
	K_FRAMES,	/* stream transport: frames both ways */
	K_BYE		/* stream transport: CLOSE sent, waiting for the end */
};

enum creq { R_NONE, R_OPEN, R_UP, R_DOWN, R_CLOSE, R_STREAM };

struct tclient;

struct conn {
	const char	*name;
	struct tclient	*cl;
	enum cstate	 state;
	struct tunnel	*t;
	struct transport tr;
	bool		 have_tr;
	bool		 kept;		/* kept open after an answer */
	unsigned	 stale;		/* kept ones that failed, in a row */
	enum creq	 kind;
	struct request	 rq;
	bool		 rq_live;
	size_t		 sent;		/* of rq.out */
	long long	 deadline;
	long long	 retry_at;
	bool		 due;		/* a retry is owed at retry_at */
	char		 target[2600];	/* the request-target */
	char		 extra[512];	/* header lines */
	/* an http POST in flight: what it carries */
	uint64_t	 post_off;
	size_t		 post_len;
	bool		 post_eof;
	unsigned char	*post;		/* its body, ours: cl->up moves */
	size_t		 postcap;
	/* an upload: a POST whose chunked body streams from cl->up */
	bool		 streaming;
	bool		 post_ending;	/* its last chunk is queued */
	uint64_t	 post_sent;	/* up to here */
	long long	 post_start, post_last;
	/* a GET's answer, taken as it comes: its next byte's offset */
	bool		 down_known;
	uint64_t	 down_at;
	/* frames */
	unsigned char	*in;
	size_t		 inlen, incap;
	unsigned char	*out;
	size_t		 outlen, outoff, outcap;
	long long	 last_rx, last_tx;
	bool		 pinged;
};

struct tclient {
	size_t		 slot[3], cnt[3];	/* pollfd slots of the conns */
	struct route	*route;		/* to the server, or to the proxy */
	int		 in_fd, out_fd;	/* stdin and stdout, or a client */
	bool		 sock_io;	/* in_fd/out_fd: a socket of ours */
	int		 out_kind;	/* relay_local_kind(out_fd) */
	bool		 both_ways;	/* listen mode: done when both are */
	bool		 hold;		/* do not read in_fd yet */
	bool		 shutdown;	/* end of input travels (-N) */
	bool		 out_shut;
	double		 keepalive;
	double		 resume_timeout;
	char		 prefix_log[24];	/* "" or "[12] " */
	bool		 absolute;	/* requests to an HTTP proxy */
	struct target	 server;
	struct target	 proxy;		/* when absolute */
	char		 authority[300];
	char		 prefix[1024];	/* the URL's path, ending in '/' */
	struct target	 target;	/* HOST PORT */
	unsigned char	 token[SESS_TOKEN_MAX];
	size_t		 toklen;
	bool		 have_token;
	int		 transport;	/* TT_STREAM or TT_HTTP */
	bool		 may_fall_back;	/* auto: http when CONNECT is refused */
	bool		 small_posts;	/* the path takes neither chunked
					   bodies nor ones over SESS_BODY_MAX */
	bool		 no_reuse;	/* the path keeps none open */
	char		 sid[SESS_ID_LEN + 1];
	bool		 opened;	/* the session exists */
	/* upstream: stdin -> server */
	unsigned char	*up;
	size_t		 uphead;	/* where up_base's byte is in up */
	size_t		 uplen;		/* bytes from up_base on */
	uint64_t	 up_base;	/* acknowledged by the server */
	uint64_t	 up_sent;	/* stream: sent on this connection */
	bool		 in_eof;	/* stdin is done */
	bool		 eof_acked;
	/* downstream: server -> stdout */
	uint64_t	 down_off;	/* received in order */
	uint64_t	 down_acked;	/* the last ACK sent (stream) */
	long long	 ack_at;	/* an ACK owed is due then */
	unsigned char	*outq;
	size_t		 outqoff, outqlen, outqcap;	/* queue: [off, off+len) */
	bool		 down_eof;
	bool		 out_gone;
	/* health */
	long long	 broken_since;	/* CLOCK_NEVER while it works */
	unsigned	 backoff_ms;
	char		 last_err[600];
	struct conn	 stream, upc, downc;
	struct failure	 fail;
	bool		 failed;
	bool		 finished;
	unsigned long	 counter;
	/* the end: the session's close, and its answer awaited */
	bool		 stop;		/* asked to end (a signal) */
	bool		 bye;		/* the close is on its way */
	bool		 bye_open;	/* it waits for the open's answer */
	struct conn	*byec;		/* carrying it; NULL: done */
	long long	 bye_until;
};

static void	conn_close(struct conn *);
static void	conn_write(struct conn *);

enum { P_IN, P_OUT, P_FIRST };

/* -- setting up ---------------------------------------------------- */

/* "http://host[:port][/path]": the server and the path prefix. */
static int
parse_url(struct tclient *cl, const char *url, struct failure *f)
{
	const char *s = url, *slash, *colon, *hostend;
	char host[300], port[8] = "80", err[256];
	size_t len;

	if (strncasecmp(s, "http://", 7) != 0) {
		failure_set(f, FAIL_USAGE, "--tunnel wants an http:// URL of a "
		    "culvert serve, e.g. http://server.example:8080/");
		return -1;
	}
	s += 7;
	slash = strchr(s, '/');
	hostend = slash != NULL ? slash : s + strlen(s);
	if (memchr(s, '@', (size_t)(hostend - s)) != NULL) {
		failure_set(f, FAIL_USAGE, "--tunnel URL: no user names; the "
		    "token goes in --token-file");
		return -1;
	}
	if (*s == '[') {
		const char *rb = memchr(s, ']', (size_t)(hostend - s));

		if (rb == NULL) {
			failure_set(f, FAIL_USAGE, "--tunnel URL: missing ']'");
			return -1;
		}
		colon = rb + 1 < hostend && rb[1] == ':' ? rb + 1 : NULL;
	} else
		colon = memchr(s, ':', (size_t)(hostend - s));
	len = (size_t)((colon != NULL ? colon : hostend) - s);
	if (len == 0 || len >= sizeof(host) || (colon != NULL &&
	    ((size_t)(hostend - colon - 1) >= sizeof(port) ||
	    hostend == colon + 1))) {
		failure_set(f, FAIL_USAGE, "--tunnel URL: bad host or port");
		return -1;
	}
	memcpy(host, s, len);
	host[len] = '\0';
	if (colon != NULL) {
		memcpy(port, colon + 1, (size_t)(hostend - colon - 1));
		port[hostend - colon - 1] = '\0';
	}
	if (target_parse(&cl->server, host, port, err, sizeof(err)) == -1) {
		failure_set(f, FAIL_USAGE, "--tunnel URL: %s", err);
		return -1;
	}
	target_format(cl->server.host, cl->server.port, cl->authority,
	    sizeof(cl->authority));
	len = slash != NULL ? strcspn(slash, "?#") : 0;
	if (len + 2 >= sizeof(cl->prefix)) {
		failure_set(f, FAIL_USAGE, "--tunnel URL: the path is too long");
		return -1;
	}
	if (len == 0)
		snprintf(cl->prefix, sizeof(cl->prefix), "/");
	else {
		memcpy(cl->prefix, slash, len);
		cl->prefix[len] = '\0';
		if (cl->prefix[len - 1] != '/')
			strcat(cl->prefix, "/");
	}
	for (s = cl->prefix; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f || *s == '%') {
			failure_set(f, FAIL_USAGE, "--tunnel URL: the path "
			    "holds a space, a control byte or '%%'");
			return -1;
		}
	return 0;
}

static void
bad_entry(const char *entry, void *arg)
{
	(void)entry;
	(void)arg;
}

/*
 * The route to the server.  With one HTTP proxy the http transport
 * talks to the proxy itself (absolute-form requests), which works where
 * CONNECT is forbidden; the stream transport goes through it with
 * CONNECT, as everything else does.
 */
static int
make_route(struct tclient *cl, struct options *o, struct failure *f)
{
	struct route_origin origin;
	const char *list;

	if ((cl->route = mode_route_build(o, NULL, &origin, f)) == NULL) {
		if (f->kind != FAIL_USAGE || o->nproxy > 0 ||
		    proxyenv_proxy(NULL) != NULL)
			return -1;
		/* No proxy at all: straight to the server. */
		if ((cl->route = route_new()) == NULL) {
			failure_set(f, FAIL_IO, "out of memory");
			return -1;
		}
		cl->route->family = o->family;
		log_info("no proxy: reaching the server directly");
		return 0;
	}
	list = proxyenv_noproxy(o->no_proxy, NULL);
	if (list != NULL && noproxy_match(list, cl->server.host,
	    cl->server.port, bad_entry, NULL)) {
		log_info("%s matches the no-proxy list: reaching the server "
		    "directly", cl->server.host);
		route_unref(cl->route);
		if ((cl->route = route_new()) == NULL) {
			failure_set(f, FAIL_IO, "out of memory");
			return -1;
		}
		cl->route->family = o->family;
		return 0;
	}
	return mode_route_creds(o, cl->route, &origin, true, f);
}

/*
 * Carry the session in HTTP requests.  Through one HTTP proxy they go to
 * the proxy itself in absolute form, which works where CONNECT is
 * forbidden; otherwise through the route to the server.
 */
static void
use_http(struct tclient *cl)
{
	const struct route_alt *a = &cl->route->hop[0].alt[0];

	cl->transport = TT_HTTP;
	cl->absolute = cl->route->nhops == 1 && cl->route->hop[0].nalt == 1 &&
	    a->px.scheme == SCHEME_HTTP;
	if (cl->absolute) {
		snprintf(cl->proxy.host, sizeof(cl->proxy.host), "%s",
		    a->px.host);
		cl->proxy.port = a->px.port;
	}
}

/* -- requests ------------------------------------------------------ */

/* Write the request-target and the headers of a session request. */
static void
prepare(struct conn *c, enum creq kind, const char *method,
    const char *query)
{
	struct tclient *cl = c->cl;
	static const char *const names[] = {
		[R_OPEN] = "open", [R_UP] = "up", [R_DOWN] = "down",
		[R_CLOSE] = "close", [R_STREAM] = "stream"
	};
	char path[2048], auth[200], nonce[SESS_NONCE_LEN + 1];
	unsigned char rnd[SESS_NONCE_LEN / 2];

	(void)snprintf(path, sizeof(path), "%sculvert/%s?%s&n=%lu", cl->prefix,
	    names[kind], query, ++cl->counter);
	auth[0] = '\0';
	if (cl->have_token) {
		if (random_bytes(rnd, sizeof(rnd)) == -1)
			memset(rnd, 0, sizeof(rnd));
		hash_hex(rnd, sizeof(rnd), nonce);
		sess_auth_value(cl->token, cl->toklen, method, path, nonce,
		    (long long)time(NULL), auth, sizeof(auth));
	}
	(void)snprintf(c->extra, sizeof(c->extra), "Cache-Control: no-store, "
	    "no-transform\r\nPragma: no-cache\r\n%s%s%s", auth[0] != '\0' ?
	    "X-Culvert-Auth: " : "", auth, auth[0] != '\0' ? "\r\n" : "");
	if (cl->absolute && c != &cl->stream)
		(void)snprintf(c->target, sizeof(c->target), "http://%s%s",
		    cl->authority, path);
	else
		(void)snprintf(c->target, sizeof(c->target), "%s", path);
	c->kind = kind;
	request_free(&c->rq);
	memset(&c->rq, 0, sizeof(c->rq));
	c->rq.method = method;
	c->rq.target = c->target;
	c->rq.host = cl->authority;
	c->rq.extra = c->extra;
	c->rq.body_max = 2 * 1024 * 1024;
	c->rq.via_proxy = cl->absolute && c != &cl->stream;
	c->rq.auth_allow = cl->route->auth_allow;
	if (c->rq.via_proxy && cl->route->nhops > 0)
		c->rq.creds = cl->route->hop[0].alt[0].creds;
	c->rq_live = true;
}

/* Start a prepared request on c's open connection. */
static void
send_request(struct conn *c)
{
	struct failure f;

	if (request_start(&c->rq) != STEP_SEND) {
		f = c->rq.fail;
		c->cl->fail = f;
		c->cl->failed = true;
		return;
	}
	c->sent = 0;
	c->state = K_SEND;
	c->deadline = clock_ms() + (long long)(c->cl->keepalive * 2000) +
	    30000;
	c->post_sent = c->post_off;
	c->post_ending = false;
	c->outlen = c->outoff = 0;
	log_debug("%s%s: %s %s", c->cl->prefix_log, c->name, c->rq.method,
	    c->target);
	conn_write(c);	/* at once: the socket is non-blocking */
}

/* -- health --------------------------------------------------------- */

static void
working(struct tclient *cl)
{
	if (cl->broken_since != CLOCK_NEVER && cl->opened)
		log_info("%sthe session goes on", cl->prefix_log);
	cl->broken_since = CLOCK_NEVER;
	cl->backoff_ms = 0;
}

/* c's connection broke (why): close it, come back after a back-off. */
static void
broken(struct conn *c, const char *why)
{
	struct tclient *cl = c->cl;
	long long now = clock_ms();

	if (cl->bye) {
		/* the server's goodbye, or no answer: either way, done */
		conn_close(c);
		if (cl->byec == c)
			cl->byec = NULL;
		return;
	}
	if (c->kept) {
		/*
		 * A connection kept open after an answer failed before the
		 * next: the proxy closed it between requests (an idle limit,
		 * or no keep-alive at all, as tinyproxy, which does not say
		 * so).  Every request can be repeated: again at once on a
		 * new connection, not a break.
		 */
		if (++c->stale == STALE_MAX && !cl->no_reuse) {
			cl->no_reuse = true;
			log_info("%sthe path closes connections between "
			    "requests; opening one for each", cl->prefix_log);
		}
		log_debug("%s%s: the kept connection failed (%s); again on a "
		    "new one", cl->prefix_log, c->name, why);
		conn_close(c);
		c->retry_at = now;
		c->due = true;
		return;
	}
	snprintf(cl->last_err, sizeof(cl->last_err), "%s", why);
	if (cl->opened)
		log_info("%s%s transport broke: %s; resuming", cl->prefix_log,
		    c->name, why);
	conn_close(c);
	if (cl->broken_since == CLOCK_NEVER)
		cl->broken_since = now;
	c->retry_at = now + cl->backoff_ms;
	c->due = true;
	cl->backoff_ms = cl->backoff_ms == 0 ? 250 : cl->backoff_ms * 2;
	if (cl->backoff_ms > BACKOFF_MAX_MS)
		cl->backoff_ms = BACKOFF_MAX_MS;
}

/* A failure that no retry mends. */
static void
fatal(struct tclient *cl, const struct failure *f)
{
	if (!cl->failed) {
		cl->fail = *f;
		cl->failed = true;
	}
}

/* The server answered a session request with an error status. */
static void
server_refused(struct conn *c)
{
	struct tclient *cl = c->cl;
	struct failure f;
	enum fail_kind kind;
	int code = c->rq.st.code;
	size_t n = c->rq.rlen;

	while (n > 0 && (c->rq.rbody[n - 1] == '\n' || c->rq.rbody[n - 1] ==
	    '\r'))
		n--;
	kind = code == 401 || code == 407 ? FAIL_AUTH : code == 504 ?
	    FAIL_TIMEOUT : code == 403 || code == 502 || code == 503 ?
	    FAIL_REFUSED : code == 410 ? FAIL_IO : FAIL_PROTO;
	if (code == 410)
		failure_set(&f, kind, "the session is gone on the server "
		    "(it ended, or waited longer than its --resume-timeout): "
		    "%.200s", c->rq.st.line);
	else
		failure_set(&f, kind, "culvert serve at %s answered %s%s%.*s",
		    cl->authority, c->rq.st.line, n > 0 ? ": " : "",
		    (int)(n < 300 ? n : 300), c->rq.rbody != NULL ?
		    (const char *)c->rq.rbody : "");
	f.http_status = code;
	fatal(cl, &f);
}

/* -- frames (stream) ------------------------------------------------ */


static void
frame_out(struct conn *c, enum sess_frame_type type, uint64_t off,
    const void *p, size_t len)
{
	if (c->outoff > 0 && c->outoff == c->outlen)
		c->outoff = c->outlen = 0;
	if (buf_grow(&c->out, &c->outcap, c->outlen + SESS_FRAME_HDR + len) == -1)
		return;
	c->outlen += sess_frame_header(c->out + c->outlen, type,
	    (uint32_t)len, off);
	if (len > 0)
		memcpy(c->out + c->outlen, p, len);
	c->outlen += len;
	c->last_tx = clock_ms();
}

/* New downstream bytes at off: the new part goes to stdout's queue. */
static void
deliver(struct tclient *cl, uint64_t off, const unsigned char *p, size_t len)
{
	size_t skip;

	if (off > cl->down_off || off + len <= cl->down_off)
		return;		/* a gap cannot happen; old bytes again */
	skip = (size_t)(cl->down_off - off);
	/* Move the queue to the front only when it must: never per write. */
	if (cl->outqoff > 0 && cl->outqoff + cl->outqlen + len - skip >
	    cl->outqcap) {
		memmove(cl->outq, cl->outq + cl->outqoff, cl->outqlen);
		cl->outqoff = 0;
	}
	if (buf_grow(&cl->outq, &cl->outqcap, cl->outqoff + cl->outqlen + len -
	    skip) == -1)
		return;
	memcpy(cl->outq + cl->outqoff + cl->outqlen, p + skip, len - skip);
	cl->outqlen += len - skip;
	cl->down_off += len - skip;
	if (cl->ack_at == CLOCK_NEVER)
		cl->ack_at = clock_ms() + SESS_ACK_DELAY_MS;
}

/* The server has everything before ack: drop it from the buffer. */
static void
acked(struct tclient *cl, uint64_t ack)
{
	size_t drop;

	if (ack <= cl->up_base || ack > cl->up_base + cl->uplen)
		return;
	drop = (size_t)(ack - cl->up_base);
	cl->uphead += drop;
	cl->uplen -= drop;
	if (cl->uplen == 0)
		cl->uphead = 0;
	cl->up_base = ack;
	if (cl->up_sent < ack)
		cl->up_sent = ack;
}

/* Queue what the stream owes the server: data, EOF, ACK, keep-alive. */
static void
stream_fill(struct conn *c)
{
	struct tclient *cl = c->cl;
	long long now = clock_ms();
	bool sending;

	while (c->outlen - c->outoff < 2 * DATA_CHUNK &&
	    cl->up_sent < cl->up_base + cl->uplen) {
		size_t at = (size_t)(cl->up_sent - cl->up_base);
		size_t len = cl->uplen - at;

		if (len > DATA_CHUNK)
			len = DATA_CHUNK;
		frame_out(c, FRAME_DATA, cl->up_sent, cl->up + cl->uphead + at,
		    len);
		cl->up_sent += len;
	}
	if (cl->in_eof && cl->shutdown && !cl->eof_acked &&
	    cl->up_sent == cl->up_base + cl->uplen) {
		frame_out(c, FRAME_EOF, cl->up_sent, NULL, 0);
		cl->eof_acked = true;	/* sent; a resume sends it again */
	}
	/*
	 * An ACK rides along with other frames, or goes alone once enough
	 * is owed or it has waited SESS_ACK_DELAY_MS: not one per read,
	 * each of which would wake the proxy and the server.
	 */
	sending = c->outoff < c->outlen;
	if (cl->down_off != cl->down_acked && (sending || cl->down_off -
	    cl->down_acked >= ACK_EVERY || cl->down_eof ||
	    (cl->ack_at != CLOCK_NEVER && now >= cl->ack_at))) {
		frame_out(c, FRAME_ACK, cl->down_off, NULL, 0);
		cl->down_acked = cl->down_off;
		cl->ack_at = CLOCK_NEVER;
	}
	if (!c->pinged && now - c->last_tx >= (long long)(cl->keepalive *
	    1000)) {
		frame_out(c, FRAME_PING, 0, NULL, 0);
		c->pinged = true;
	}
}

/* Frames from the server; -1 when the connection is no good. */
static int
stream_frames(struct conn *c)
{
	struct tclient *cl = c->cl;
	struct sess_frame f;
	size_t used, pos = 0;
	int r;

	while ((r = sess_frame_parse(c->in + pos, c->inlen - pos, &f, &used))
	    == 1) {
		switch (f.type) {
		case FRAME_DATA:
			deliver(cl, f.off, f.payload, f.len);
			break;
		case FRAME_EOF:
			if (f.off == cl->down_off)
				cl->down_eof = true;
			break;
		case FRAME_ACK:
			acked(cl, f.off);
			break;
		case FRAME_PING:
			break;
		case FRAME_CLOSE: {
			struct failure fl;

			if (cl->down_eof)
				break;
			failure_set(&fl, FAIL_IO, "culvert serve ended the "
			    "session: %.*s", (int)(f.len < 200 ? f.len : 200),
			    (const char *)f.payload);
			fatal(cl, &fl);
			break;
		}
		}
		pos += used;
	}
	/* One move for all the frames read, not one per frame. */
	memmove(c->in, c->in + pos, c->inlen - pos);
	c->inlen -= pos;
	return r == -1 ? -1 : 0;
}

/* -- connections ----------------------------------------------------- */

static void
conn_close(struct conn *c)
{
	if (c->t != NULL) {
		tunnel_free(c->t);
		c->t = NULL;
	}
	if (c->have_tr) {
		transport_close(&c->tr);
		c->have_tr = false;
	}
	c->kept = false;
	if (c->rq_live) {
		request_free(&c->rq);
		c->rq_live = false;
	}
	c->kind = R_NONE;
	c->inlen = 0;
	c->outlen = c->outoff = 0;
	c->streaming = false;
	c->state = K_IDLE;
	c->deadline = CLOCK_NEVER;
}

/* Open a connection for c: to the proxy (absolute) or to the server. */
static void
conn_open(struct conn *c)
{
	struct tclient *cl = c->cl;
	struct deadline d;
	struct route *r = cl->route;
	const struct target *to = &cl->server;
	struct route *direct = NULL;

	c->kept = false;	/* a new connection: its failure is a break */
	if (cl->absolute && c != &cl->stream) {
		if ((direct = route_new()) == NULL)
			return;
		direct->family = cl->route->family;
		r = direct;
		to = &cl->proxy;
	}
	deadline_set(&d, OPEN_TIMEOUT_S);
	c->t = tunnel_new(r, to, &d, mode_log_event, cl->prefix_log);
	route_unref(direct);
	if (c->t == NULL)
		return;
	c->state = K_OPEN;
	c->deadline = CLOCK_NEVER;
	log_debug("%s%s: connecting", cl->prefix_log, c->name);
}

/* What an http connection should do next, if anything. */
static bool
next_http_request(struct conn *c)
{
	struct tclient *cl = c->cl;
	char q[400];
	size_t len;

	if (c == &cl->upc && !cl->opened) {
		snprintf(q, sizeof(q), "t=%s", cl->target.host);
		if (target_is_ipv6(cl->target.host))
			snprintf(q, sizeof(q), "t=[%s]:%u", cl->target.host,
			    cl->target.port);
		else
			snprintf(q, sizeof(q), "t=%s:%u", cl->target.host,
			    cl->target.port);
		prepare(c, R_OPEN, "POST", q);
		return true;
	}
	if (!cl->opened)
		return false;
	if (c == &cl->downc) {
		if (cl->down_eof || cl->outqlen > OUTQ_MAX / 2)
			return false;
		/* c=1: an answer in chunks that goes on as data comes */
		snprintf(q, sizeof(q), "s=%s&a=%llu&c=1", cl->sid,
		    (unsigned long long)cl->down_off);
		prepare(c, R_DOWN, "GET", q);
		c->down_known = false;
		return true;
	}
	len = cl->small_posts ? SESS_BODY_MAX : UPLOAD_MAX;
	if (len > cl->uplen)
		len = cl->uplen;
	if (len == 0 && !(cl->in_eof && cl->shutdown && !cl->eof_acked))
		return false;
	c->post_off = cl->up_base;
	c->streaming = !cl->small_posts && !cl->in_eof && len > 0 &&
	    len < STREAM_BELOW;
	if (c->streaming) {
		snprintf(q, sizeof(q), "s=%s&o=%llu", cl->sid,
		    (unsigned long long)c->post_off);
		prepare(c, R_UP, "POST", q);
		c->rq.chunked_body = true;
		c->post_eof = false;
		c->post_len = 0;
		return true;
	}
	c->post_len = len;
	c->post_eof = cl->in_eof && cl->shutdown && len == cl->uplen;
	snprintf(q, sizeof(q), "s=%s&o=%llu%s", cl->sid,
	    (unsigned long long)c->post_off, c->post_eof ? "&eof=1" : "");
	/*
	 * The body is built again after a 407 or on a new connection, and
	 * meanwhile an answer on the other connection may acknowledge bytes
	 * and move cl->up: the request keeps a copy of its own.
	 */
	if (len > 0 && buf_grow(&c->post, &c->postcap, len) == -1)
		return false;
	if (len > 0)
		memcpy(c->post, cl->up + cl->uphead, len);
	prepare(c, R_UP, "POST", q);
	c->rq.body = c->post;
	c->rq.bodylen = len;
	return true;
}

/*
 * Downstream bytes of a GET's answer, as they come (a chunked answer
 * goes on while the target sends) or at its end.
 */
static void
down_take(struct conn *c)
{
	const char *v;
	size_t vl;
	unsigned long long n;

	if (!c->down_known) {
		c->down_at = 0;
		if (request_field(&c->rq, "X-Culvert-Offset", &v, &vl) == 0 &&
		    num_parse(v, vl, 1ULL << 62, &n) == 0)
			c->down_at = n;
		c->down_known = true;
	}
	deliver(c->cl, c->down_at, c->rq.rbody, c->rq.rlen);
	c->down_at += c->rq.rlen;
	c->rq.rlen = 0;
}

/* A response arrived on c. */
static void
response(struct conn *c)
{
	struct tclient *cl = c->cl;
	const char *v;
	size_t vl;
	unsigned long long n;
	bool keep = c->rq.keep;

	if (c->kind == R_CLOSE) {
		/* whatever the answer: the server has heard the goodbye */
		conn_close(c);
		if (cl->byec == c)
			cl->byec = NULL;
		return;
	}
	if (c->streaming && c->state == K_UPLOAD)
		keep = false;	/* the body was cut short: the rest is junk */
	if ((c->streaming || c->post_len > SESS_BODY_MAX) &&
	    (c->rq.st.code == 400 || c->rq.st.code == 411 ||
	    c->rq.st.code == 413 || c->rq.st.code == 501 ||
	    c->rq.st.code == 505)) {
		/* an older server, or a proxy that wants small bodies */
		log_info("%sthe path refused a %s upload (%s); sending "
		    "uploads of %d KiB at most", cl->prefix_log,
		    c->streaming ? "chunked" : "large", c->rq.st.line,
		    SESS_BODY_MAX / 1024);
		cl->small_posts = true;
		conn_close(c);
		return;
	}
	if (c->rq.st.code != 200) {
		if (c->rq.st.code == 409 && c->kind == R_STREAM) {
			struct failure f;

			failure_set(&f, FAIL_IO, "the server cannot resume the "
			    "session from byte %llu", (unsigned long long)
			    cl->down_off);
			fatal(cl, &f);
			return;
		}
		server_refused(c);
		return;
	}
	working(cl);
	if ((c->kind == R_OPEN || c->kind == R_STREAM) && !cl->opened) {
		if (request_field(&c->rq, "X-Culvert-Session", &v, &vl) == -1 ||
		    vl != SESS_ID_LEN) {
			struct failure f;

			failure_set(&f, FAIL_PROTO, "%s did not answer like a "
			    "culvert serve (no session id); is the --tunnel "
			    "URL right?", cl->authority);
			fatal(cl, &f);
			return;
		}
		memcpy(cl->sid, v, SESS_ID_LEN);
		cl->sid[SESS_ID_LEN] = '\0';
		cl->opened = true;
		log_info("%ssession %.8s to %s:%u is open over %s",
		    cl->prefix_log, cl->sid,
		    cl->target.host, cl->target.port, cl->transport ==
		    TT_STREAM ? "the stream transport" : "HTTP requests");
	}
	if (request_field(&c->rq, "X-Culvert-Ack", &v, &vl) == 0 &&
	    num_parse(v, vl, 1ULL << 62, &n) == 0) {
		acked(cl, n);
		if (c->kind == R_STREAM) {
			/* resend from here, the end of the input too */
			cl->up_sent = cl->up_base;
			cl->eof_acked = false;
		}
		if (c->kind == R_UP && c->post_eof && n == c->post_off +
		    c->post_len)
			cl->eof_acked = true;
	}
	if (c->kind == R_DOWN) {
		down_take(c);
		if (request_field(&c->rq, "X-Culvert-Eof", &v, &vl) == 0 &&
		    c->down_at == cl->down_off)
			cl->down_eof = true;
	}
	if (c->kind == R_STREAM) {
		request_free(&c->rq);
		c->rq_live = false;
		c->state = K_FRAMES;
		c->last_rx = c->last_tx = clock_ms();
		c->pinged = false;
		cl->down_acked = cl->down_off;
		cl->ack_at = CLOCK_NEVER;
		return;
	}
	request_free(&c->rq);
	c->rq_live = false;
	c->kind = R_NONE;
	c->streaming = false;
	c->state = K_IDLE;
	c->deadline = CLOCK_NEVER;
	if (c->kept)
		c->stale = 0;	/* a kept connection served */
	c->kept = keep && !cl->no_reuse;
	if (!c->kept) {
		transport_close(&c->tr);
		c->have_tr = false;
	}
}

/* Read what the connection has: a response, or frames. */
static void
conn_read(struct conn *c)
{
	unsigned char scratch[TRANSPORT_READ_MAX];
	const unsigned char *data;
	size_t len, want, used = 0;
	bool direct = false;
	enum step s;
	int rc;

	if (c->state == K_BYE) {
		/* what the server says now does not matter: only its end */
		ssize_t n = read(c->tr.rfd, scratch, sizeof(scratch));

		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
			broken(c, "the server closed the connection");
		return;
	}
	if (c->state == K_FRAMES) {
		ssize_t n;

		if (c->inlen > 0 && transport_pending(&c->tr) == 0 &&
		    buf_grow(&c->in, &c->incap, c->inlen + 65536) == -1)
			return;
		if (buf_grow(&c->in, &c->incap, c->inlen + 65536) == -1)
			return;
		if (transport_pending(&c->tr) > 0) {
			/* Bytes that came with the 200: frames already. */
			memcpy(c->in + c->inlen, c->tr.buf, c->tr.len);
			c->inlen += c->tr.len;
			c->tr.len = 0;
			n = 1;
		} else {
			n = read(c->tr.rfd, c->in + c->inlen, c->incap -
			    c->inlen);
			if (n > 0)
				c->inlen += (size_t)n;
		}
		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
			broken(c, n == 0 ? "the server or the proxy closed "
			    "the connection" : strerror(errno));
			return;
		}
		c->last_rx = clock_ms();
		c->pinged = false;
		if (stream_frames(c) == -1)
			broken(c, "the server sent something that is not a "
			    "frame");
		return;
	}
	if ((want = request_body_left(&c->rq)) > 0 &&
	    transport_pending(&c->tr) == 0) {
		/*
		 * A body of known length: read it in large pieces and never
		 * past its end, with no peek (the next response stays unread).
		 */
		static unsigned char body[BODY_READ_MAX];
		ssize_t n = read(c->tr.rfd, body, want < sizeof(body) ? want :
		    sizeof(body));

		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n == -1 && errno != ECONNRESET) {
			broken(c, strerror(errno));
			return;
		}
		direct = true;
		data = body;
		len = n > 0 ? (size_t)n : 0;
		rc = n > 0;
	} else {
		rc = transport_read(&c->tr, scratch, &data, &len);
		if (rc == -1)
			return;
		if (rc == -2) {
			broken(c, strerror(errno));
			return;
		}
	}
	s = request_input(&c->rq, data, len, rc == 0, &used);
	if (!direct && transport_consume(&c->tr, used, s == STEP_NEED &&
	    rc != 0) == -1) {
		broken(c, "the connection closed");
		return;
	}
	if (s == STEP_NEED && c->kind == R_DOWN && c->rq.st.code == 200 &&
	    c->rq.rlen > 0 && request_in_body(&c->rq)) {
		working(c->cl);	/* the path works: no back-off to wait out */
		down_take(c);	/* to stdout now, not at the answer's end */
	}
	switch (s) {
	case STEP_NEED:
		if (rc == 0)
			broken(c, "the connection closed");
		return;
	case STEP_DONE:
		response(c);
		return;
	case STEP_SEND:
		if (!c->streaming) {
			c->sent = 0;
			c->state = K_SEND;
			return;
		}
		/* what was streamed left the connection unusable */
		transport_close(&c->tr);
		c->have_tr = false;
		conn_open(c);
		return;
	case STEP_RECONNECT:
		transport_close(&c->tr);
		c->have_tr = false;
		conn_open(c);
		return;
	case STEP_FAIL:
		if (c->cl->bye || (c->rq.fail.kind == FAIL_PROTO && rc == 0))
			broken(c, c->rq.fail.msg);
		else
			fatal(c->cl, &c->rq.fail);
		return;
	}
}

/* Queue the upload's next chunks from cl->up, and its end when due. */
static void
upload_fill(struct conn *c)
{
	struct tclient *cl = c->cl;
	long long now = clock_ms();
	uint64_t end = cl->up_base + cl->uplen;
	char size[24];

	if (c->outoff > 0 && c->outoff == c->outlen)
		c->outoff = c->outlen = 0;
	if (c->post_ending)
		return;
	if (c->post_sent < cl->up_base) {
		/*
		 * An answer acknowledged bytes an older upload had carried
		 * past this one's start: they are gone from cl->up, and a
		 * chunked body cannot skip; end it, the next starts there.
		 */
		end = c->post_sent;
	}
	while (c->outlen - c->outoff < 2 * DATA_CHUNK && c->post_sent < end &&
	    c->post_sent - c->post_off < UPLOAD_MAX) {
		size_t at = (size_t)(c->post_sent - cl->up_base);
		size_t len = (size_t)(end - c->post_sent), hl;

		if (len > DATA_CHUNK)
			len = DATA_CHUNK;
		if (len > UPLOAD_MAX - (c->post_sent - c->post_off))
			len = (size_t)(UPLOAD_MAX - (c->post_sent -
			    c->post_off));
		hl = (size_t)snprintf(size, sizeof(size), "%zx\r\n", len);
		if (buf_grow(&c->out, &c->outcap, c->outlen + hl + len + 2) ==
		    -1)
			return;
		memcpy(c->out + c->outlen, size, hl);
		memcpy(c->out + c->outlen + hl, cl->up + cl->uphead + at, len);
		memcpy(c->out + c->outlen + hl + len, "\r\n", 2);
		c->outlen += hl + len + 2;
		c->post_sent += len;
		c->post_last = now;
	}
	if (c->post_sent - c->post_off >= UPLOAD_MAX || cl->in_eof ||
	    cl->bye || c->post_sent < cl->up_base || end - c->post_sent >=
	    STREAM_BELOW || (c->post_sent == end &&
	    (now - c->post_last >= UPLOAD_IDLE_MS || now - c->post_start >=
	    UPLOAD_MS))) {
		if (buf_grow(&c->out, &c->outcap, c->outlen + 5) == -1)
			return;
		memcpy(c->out + c->outlen, "0\r\n\r\n", 5);
		c->outlen += 5;
		c->post_ending = true;
	}
}

/* Write what c owes: the request, an upload's chunks, or frames. */
static void
conn_write(struct conn *c)
{
	ssize_t n;

	if (c->state == K_UPLOAD) {
		upload_fill(c);
		while (c->outoff < c->outlen) {
			n = transport_write(&c->tr, c->out + c->outoff,
			    c->outlen - c->outoff);
			if (n > 0) {
				c->outoff += (size_t)n;
				c->deadline = clock_ms() + (long long)
				    (c->cl->keepalive * 2000) + 30000;
			} else if (n == -1 && (errno == EAGAIN || errno == EINTR))
				return;
			else {
				broken(c, strerror(errno));
				return;
			}
			upload_fill(c);
		}
		if (c->post_ending) {
			c->state = K_RECV;
			c->outoff = c->outlen = 0;
		}
		return;
	}
	if (c->state == K_FRAMES || c->state == K_BYE) {
		if (c->state == K_FRAMES)
			stream_fill(c);
		while (c->outoff < c->outlen) {
			n = transport_write(&c->tr, c->out + c->outoff,
			    c->outlen - c->outoff);
			if (n > 0)
				c->outoff += (size_t)n;
			else if (n == -1 && (errno == EAGAIN || errno == EINTR))
				return;
			else {
				broken(c, strerror(errno));
				return;
			}
			if (c->state == K_FRAMES)
				stream_fill(c);
		}
		return;
	}
	while (c->sent < c->rq.outlen) {
		n = transport_write(&c->tr, c->rq.out + c->sent,
		    c->rq.outlen - c->sent);
		if (n > 0)
			c->sent += (size_t)n;
		else if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		else {
			broken(c, strerror(errno));
			return;
		}
	}
	c->state = K_RECV;
	if (c->streaming) {
		c->state = K_UPLOAD;
		c->post_start = c->post_last = clock_ms();
		conn_write(c);
	}
}

/* The tunnel machine finished opening c. */
static void
conn_opened(struct conn *c, enum tunnel_status st)
{
	struct tclient *cl = c->cl;
	const struct failure *f = tunnel_failure(c->t);

	if (st == TUNNEL_FAILED) {
		struct failure copy = *f;

		tunnel_free(c->t);
		c->t = NULL;
		c->state = K_IDLE;
		if (!cl->opened && c == &cl->stream && cl->may_fall_back &&
		    copy.kind == FAIL_REFUSED) {
			log_info("%sthe proxy refused CONNECT to the server "
			    "(%s); using HTTP requests", cl->prefix_log,
			    copy.msg);
			use_http(cl);
			return;
		}
		if (!cl->opened) {
			fatal(cl, &copy);	/* nothing to resume yet */
			return;
		}
		broken(c, copy.msg);
		return;
	}
	tunnel_take(c->t, &c->tr);
	c->have_tr = true;
	tunnel_free(c->t);
	c->t = NULL;
	c->state = K_IDLE;
	if (c == &cl->stream) {
		char q[400];

		if (cl->opened)
			snprintf(q, sizeof(q), "s=%s&a=%llu", cl->sid,
			    (unsigned long long)cl->down_off);
		else if (target_is_ipv6(cl->target.host))
			snprintf(q, sizeof(q), "t=[%s]:%u", cl->target.host,
			    cl->target.port);
		else
			snprintf(q, sizeof(q), "t=%s:%u", cl->target.host,
			    cl->target.port);
		prepare(c, R_STREAM, "POST", q);
		send_request(c);
	}
}

/* Start what is due on every connection. */
static void
maintain(struct tclient *cl)
{
	long long now = clock_ms();
	struct conn *list[3];
	size_t i, n = 0;

	if (cl->bye)
		return;		/* nothing new once the session ends */
	if (cl->transport == TT_STREAM)
		list[n++] = &cl->stream;
	else {
		list[n++] = &cl->upc;
		list[n++] = &cl->downc;
	}
	for (i = 0; i < n; i++) {
		struct conn *c = list[i];

		if (cl->failed || c->state != K_IDLE)
			continue;
		if (c->retry_at > now)
			continue;
		c->due = false;
		if (c == &cl->stream) {
			conn_open(c);
			continue;
		}
		if (c == &cl->downc && !cl->opened)
			continue;
		if (!next_http_request(c)) {
			request_free(&c->rq);
			c->rq_live = false;
			continue;
		}
		if (!c->have_tr) {
			conn_open(c);
			continue;
		}
		send_request(c);
	}
}

/* The connection kept alive (or just opened) has a request waiting. */
static void
conn_ready(struct conn *c)
{
	if (c->state == K_IDLE && c->have_tr && c->rq_live && c->kind != R_NONE)
		send_request(c);
}

/* -- the loop --------------------------------------------------------- */

static size_t
conn_pollfds(struct conn *c, struct pollfd *pfd)
{
	size_t n;

	switch (c->state) {
	case K_OPEN:
		return tunnel_pollfds(c->t, pfd);
	case K_SEND:
		return pollfd_set(pfd, c->tr.wfd, POLLOUT);
	case K_RECV:
		return pollfd_set(pfd, c->tr.rfd, POLLIN);
	case K_UPLOAD:
		/* an answer may come early: a refusal, or a 407 */
		return pollfd_set(pfd, c->tr.rfd, POLLIN) + pollfd_set(&pfd[1],
		    c->tr.wfd, c->outoff < c->outlen ? POLLOUT : 0);
	case K_FRAMES:
	case K_BYE:
		if (c->state == K_FRAMES)
			stream_fill(c);
		n = pollfd_set(pfd, c->tr.rfd, c->state == K_BYE ||
		    c->cl->outqlen < OUTQ_MAX ? POLLIN : 0);
		if (c->outoff < c->outlen)
			n += pollfd_set(&pfd[n], c->tr.wfd, POLLOUT);
		return n;
	default:
		return 0;
	}
}

static long long
conn_timer(const struct conn *c)
{
	struct tclient *cl = c->cl;

	switch (c->state) {
	case K_OPEN:
		return tunnel_timer(c->t);
	case K_IDLE:
		/*
		 * A retry owed, even one due now: a connection that broke
		 * while maintain() started it is not seen there again.
		 */
		return c->due && !cl->bye ? c->retry_at : CLOCK_NEVER;
	case K_UPLOAD:
		/* when nothing waits to go: the moment the body ends */
		return c->outoff < c->outlen ? c->deadline : timer_min(
		    c->deadline, timer_min(c->post_last + UPLOAD_IDLE_MS,
		    c->post_start + UPLOAD_MS));
	case K_FRAMES:
		/*
		 * The next keep-alive (none while one is unanswered: its
		 * moment would stay in the past, a spin), or the end of our
		 * patience.
		 */
		return timer_min(timer_min(c->pinged ? CLOCK_NEVER :
		    c->last_tx + (long long)(cl->keepalive * 1000), c->last_rx +
		    (long long)(cl->keepalive * 2000)), cl->down_off !=
		    cl->down_acked && c->outoff == c->outlen ? cl->ack_at :
		    CLOCK_NEVER);
	default:
		return c->deadline;
	}
}

static void
conn_events(struct conn *c, const struct pollfd *pfd, size_t n)
{
	long long now = clock_ms();
	bool rd = false, wr = false;
	size_t i;

	for (i = 0; i < n; i++) {
		if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
			rd = rd || pfd[i].fd == c->tr.rfd;
		if (pfd[i].revents & (POLLOUT | POLLERR))
			wr = wr || pfd[i].fd == c->tr.wfd;
	}
	switch (c->state) {
	case K_OPEN: {
		enum tunnel_status st = tunnel_events(c->t, pfd, n);

		if (st != TUNNEL_BUSY) {
			conn_opened(c, st);
			conn_ready(c);
		}
		return;
	}
	case K_SEND:
		if (wr)
			conn_write(c);
		else if (now >= c->deadline)
			broken(c, "the request could not be sent in time");
		return;
	case K_RECV:
		if (rd)
			conn_read(c);
		else if (now >= c->deadline)
			broken(c, "no answer in time");
		return;
	case K_UPLOAD:
		if (rd)
			conn_read(c);
		if (c->state == K_UPLOAD)
			conn_write(c);
		if (c->state == K_UPLOAD && now >= c->deadline)
			broken(c, "the upload could not be sent in time");
		return;
	case K_FRAMES:
		if (rd)
			conn_read(c);
		/*
		 * Frames owed now (stdin read this round, an ACK due) go at
		 * once on the non-blocking socket: no poll for POLLOUT first.
		 */
		if (c->state == K_FRAMES)
			conn_write(c);
		if (c->state == K_FRAMES && now - c->last_rx >=
		    (long long)(c->cl->keepalive * 2000))
			broken(c, "no sign of the server for two keep-alive "
			    "periods");
		return;
	case K_BYE:
		if (rd)
			conn_read(c);
		if (c->state == K_BYE && (wr || c->outoff < c->outlen))
			conn_write(c);
		if (c->state == K_BYE && now >= c->deadline)
			broken(c, "no goodbye from the server in time");
		return;
	default:
		return;
	}
}

/* Read the local input into the upstream buffer. */
static void
read_local(struct tclient *cl)
{
	unsigned char *at;
	size_t room;
	ssize_t n;

	if (cl->uphead + cl->uplen == UP_CAP) {
		memmove(cl->up, cl->up + cl->uphead, cl->uplen);
		cl->uphead = 0;
	}
	at = cl->up + cl->uphead + cl->uplen;
	room = UP_CAP - cl->uphead - cl->uplen;
	n = cl->sock_io ? recv(cl->in_fd, at, room, MSG_DONTWAIT) :
	    read(cl->in_fd, at, room);

	if (n > 0)
		cl->uplen += (size_t)n;
	else if (n == 0 || (errno != EAGAIN && errno != EINTR))
		cl->in_eof = true;
}

static void
write_local(struct tclient *cl)
{
	ssize_t n = relay_write_local(cl->out_fd, cl->out_kind, cl->outq +
	    cl->outqoff, cl->outqlen);

	if (n > 0) {
		cl->outqoff += (size_t)n;
		cl->outqlen -= (size_t)n;
		if (cl->outqlen == 0)
			cl->outqoff = 0;
	} else if (n == -1 && errno != EAGAIN && errno != EINTR)
		cl->out_gone = true;
}

/*
 * Tell the server the session is over, so it ends it now rather than
 * waiting --resume-timeout for us: a CLOSE frame on the stream, or a
 * close request.  The answer is awaited (at most GOODBYE_MS): closing a
 * socket with unread bytes in it resets the connection, and the reset
 * can destroy the goodbye before the server has read it.  Sets
 * cl->byec to the connection carrying it, or leaves it NULL when there
 * is nothing to wait for.
 */
static void
say_goodbye(struct tclient *cl)
{
	struct conn *c;
	char q[100];

	if (!cl->bye) {
		cl->bye = true;
		cl->bye_until = clock_ms() + GOODBYE_MS;
	}
	cl->byec = NULL;
	cl->bye_open = false;
	/*
	 * Always, even when both ways have ended: the server may not have
	 * heard the last acknowledgement, and would keep the session.
	 */
	if (!cl->opened) {
		/*
		 * An open request on its way may have made a session that
		 * only its answer names: wait for it (within the same
		 * time), then say goodbye.
		 */
		c = cl->transport == TT_STREAM ? &cl->stream : &cl->upc;
		if ((c->state == K_SEND || c->state == K_RECV) &&
		    (c->kind == R_STREAM || c->kind == R_OPEN)) {
			cl->byec = c;
			cl->bye_open = true;
		}
		return;
	}
	if (cl->transport == TT_STREAM) {
		c = &cl->stream;
		if (c->state != K_FRAMES)
			return;		/* broken: nothing to say it on */
		frame_out(c, FRAME_CLOSE, 0, "done", 4);
		c->state = K_BYE;
		c->deadline = cl->bye_until;
		cl->byec = c;
		conn_write(c);
		return;
	}
	/* An idle connection, or the long poll's, which can be dropped. */
	c = cl->upc.state == K_IDLE ? &cl->upc : &cl->downc;
	if (c->state != K_IDLE)
		conn_close(c);
	snprintf(q, sizeof(q), "s=%s", cl->sid);
	prepare(c, R_CLOSE, "POST", q);
	cl->byec = c;
	if (c->have_tr)
		send_request(c);
	else
		conn_open(c);
	if (c->state == K_IDLE) {
		/* neither could start */
		conn_close(c);
		cl->byec = NULL;
	}
}

/* Is the session over, one way or the other? */
static bool
over(struct tclient *cl)
{
	if (cl->failed || cl->out_gone || cl->stop)
		return true;
	if (!cl->down_eof || cl->outqlen > 0)
		return false;
	if (cl->sock_io && !cl->out_shut) {
		(void)shutdown(cl->out_fd, SHUT_WR);
		cl->out_shut = true;
	}
	/* A listener waits for its client's side to end too. */
	return !cl->both_ways || (cl->in_eof && cl->uplen == 0 &&
	    cl->eof_acked);
}

size_t
tclient_pollfds(struct tclient *cl, struct pollfd *pfd)
{
	struct conn *conns[3] = { &cl->stream, &cl->upc, &cl->downc };
	size_t i, used = P_FIRST;

	maintain(cl);
	if (cl->broken_since != CLOCK_NEVER && clock_ms() -
	    cl->broken_since > (long long)(cl->resume_timeout * 1000) &&
	    !cl->failed && !cl->bye) {
		failure_set(&cl->fail, FAIL_IO, "could not %s the session "
		    "within %.0f s (--resume-timeout): %s", cl->opened ?
		    "resume" : "open", cl->resume_timeout, cl->last_err);
		cl->failed = true;
	}
	(void)pollfd_set(&pfd[P_IN], !cl->in_eof && !cl->hold && !cl->bye &&
	    cl->uplen < UP_CAP && (cl->opened || cl->transport == TT_STREAM) ?
	    cl->in_fd : -1, POLLIN);
	(void)pollfd_set(&pfd[P_OUT], cl->outqlen > 0 ? cl->out_fd : -1,
	    POLLOUT);
	for (i = 0; i < 3; i++) {
		cl->slot[i] = used;
		cl->cnt[i] = conn_pollfds(conns[i], pfd + used);
		used += cl->cnt[i];
	}
	return used;
}

long long
tclient_timer(struct tclient *cl)
{
	struct conn *conns[3] = { &cl->stream, &cl->upc, &cl->downc };
	long long at;
	size_t i;

	if (over(cl) && (!cl->bye || cl->byec == NULL ||
	    clock_ms() >= cl->bye_until))
		return clock_ms();
	at = cl->broken_since != CLOCK_NEVER && !cl->bye ?
	    cl->broken_since + (long long)(cl->resume_timeout * 1000) + 1 :
	    CLOCK_NEVER;
	if (cl->bye)
		at = timer_min(at, cl->bye_until);
	for (i = 0; i < 3; i++)
		at = timer_min(at, conn_timer(conns[i]));
	return at;
}

int
tclient_events(struct tclient *cl, const struct pollfd *pfd, size_t n)
{
	struct conn *conns[3] = { &cl->stream, &cl->upc, &cl->downc };
	size_t i;

	if (n >= P_FIRST) {
		if (pfd[P_IN].fd != -1 && pfd[P_IN].revents != 0)
			read_local(cl);
		if (pfd[P_OUT].fd != -1 && pfd[P_OUT].revents != 0)
			write_local(cl);
		for (i = 0; i < 3; i++)
			if (cl->slot[i] + cl->cnt[i] <= n)
				conn_events(conns[i], pfd + cl->slot[i],
				    cl->cnt[i]);
		/* What came this round goes out at once, without a poll. */
		if (cl->outqlen > 0 && !cl->out_gone)
			write_local(cl);
	}
	if (!over(cl))
		return 1;
	if (cl->failed)
		return -1;
	if (!cl->bye || (cl->bye_open && cl->opened))
		say_goodbye(cl);
	return cl->byec != NULL && clock_ms() < cl->bye_until ? 1 : 0;
}

void
tclient_stop(struct tclient *cl)
{
	cl->stop = true;
}

bool
tclient_opened(const struct tclient *cl)
{
	return cl->opened;
}

void
tclient_release(struct tclient *cl)
{
	cl->hold = false;
}

const struct failure *
tclient_failure(const struct tclient *cl)
{
	return &cl->fail;
}

void
tclient_counts(const struct tclient *cl, unsigned long long *up,
    unsigned long long *down)
{
	*up = cl->up_base + cl->uplen;
	*down = cl->down_off;
}

void
tclient_free(struct tclient *cl)
{
	struct conn *conns[3];
	size_t i;

	if (cl == NULL)
		return;
	conns[0] = &cl->stream;
	conns[1] = &cl->upc;
	conns[2] = &cl->downc;
	for (i = 0; i < 3; i++) {
		conn_close(conns[i]);
		free(conns[i]->in);
		free(conns[i]->out);	/* frames, or an upload's chunks */
		free(conns[i]->post);
	}
	free(cl->up);
	free(cl->outq);
	route_unref(cl->route);
	wipe(cl->token, sizeof(cl->token));
	free(cl);
}

struct tclient *
tclient_new(const struct tclient_params *p, struct failure *f)
{
	struct tclient *cl;

	if ((cl = calloc(1, sizeof(*cl))) == NULL ||
	    (cl->up = malloc(UP_CAP)) == NULL) {
		free(cl);
		failure_set(f, FAIL_IO, "out of memory");
		return NULL;
	}
	cl->route = route_ref(p->route);
	cl->in_fd = p->in_fd;
	cl->out_fd = p->out_fd;
	cl->out_kind = relay_local_kind(cl->out_fd, p->sock_io ? 0 :
	    relay_pipe_budget(1));
	cl->sock_io = p->sock_io;
	cl->both_ways = p->both_ways;
	cl->hold = p->hold;
	cl->shutdown = p->shutdown;
	cl->keepalive = p->keepalive;
	cl->ack_at = CLOCK_NEVER;
	cl->resume_timeout = p->resume_timeout;
	cl->target = *p->target;
	if (p->prefix != NULL)
		snprintf(cl->prefix_log, sizeof(cl->prefix_log), "%s",
		    p->prefix);
	cl->broken_since = CLOCK_NEVER;
	cl->stream.name = "stream";
	cl->upc.name = "upstream";
	cl->downc.name = "downstream";
	cl->stream.cl = cl->upc.cl = cl->downc.cl = cl;
	cl->stream.deadline = cl->upc.deadline = cl->downc.deadline =
	    CLOCK_NEVER;
	if (parse_url(cl, p->url, f) == -1) {
		tclient_free(cl);
		return NULL;
	}
	if (p->toklen > 0) {
		memcpy(cl->token, p->token, p->toklen);
		cl->toklen = p->toklen;
		cl->have_token = true;
	}
	cl->transport = p->transport == TT_HTTP ? TT_HTTP : TT_STREAM;
	cl->may_fall_back = p->transport == TT_AUTO;
	if (cl->transport == TT_HTTP)
		use_http(cl);
	return cl;
}


/*
 * stdio mode: SIGHUP (what ssh sends its ProxyCommand when it is done),
 * SIGINT and SIGTERM end the session with a goodbye, so the server ends
 * it too instead of keeping it for a resume; then the signal does what
 * it would have done.  The handler only writes to a pipe the loop polls.
 */
static int stop_pipe[2] = { -1, -1 };
static volatile sig_atomic_t stop_sig;
static const int stop_sigs[] = { SIGHUP, SIGINT, SIGTERM };

static void
on_stop(int sig)
{
	int saved = errno;

	stop_sig = sig;
	(void)!write(stop_pipe[1], "", 1);
	errno = saved;
}

static void
catch_stop(void)
{
	struct sigaction sa;
	size_t i;

	if (pipe(stop_pipe) == -1)
		return;
	for (i = 0; i < 2; i++) {
		(void)fcntl(stop_pipe[i], F_SETFL, O_NONBLOCK);
		(void)fcntl(stop_pipe[i], F_SETFD, FD_CLOEXEC);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(stop_sigs) / sizeof(stop_sigs[0]); i++)
		(void)sigaction(stop_sigs[i], &sa, NULL);
}

/* Back to the defaults; a signal that stopped us now takes its course. */
static void
release_stop(void)
{
	size_t i;

	for (i = 0; i < sizeof(stop_sigs) / sizeof(stop_sigs[0]); i++)
		(void)signal(stop_sigs[i], SIG_DFL);
	if (stop_pipe[0] != -1) {
		close(stop_pipe[0]);
		close(stop_pipe[1]);
		stop_pipe[0] = stop_pipe[1] = -1;
	}
	if (stop_sig != 0)
		(void)raise(stop_sig);
}

int
mode_tunnel(struct options *o)
{
	struct tclient_params p;
	struct tclient *cl = NULL;
	struct pollfd pfd[TCLIENT_PFD_MAX + 1];
	const char *tokfile;
	struct target target;
	struct failure f;
	struct tclient tmp;
	char err[512];
	size_t n;
	int rc;

	memset(&p, 0, sizeof(p));
	memset(&tmp, 0, sizeof(tmp));
	if (target_parse(&target, o->host, o->port, err, sizeof(err)) == -1) {
		failure_set(&f, FAIL_USAGE, "%s", err);
		goto failed;
	}
	if (o->fdpass) {
		failure_set(&f, FAIL_USAGE, "--fdpass cannot go with --tunnel: "
		    "culvert carries the tunnel's bytes itself");
		goto failed;
	}
	/* The URL first: a bad one needs no proxy and no password. */
	if (parse_url(&tmp, o->tunnel, &f) == -1)
		goto failed;
	tokfile = o->token_file != NULL ? o->token_file :
	    getenv("CULVERT_TOKEN_FILE");
	if (tokfile != NULL && *tokfile != '\0' && token_read(tokfile,
	    p.token, &p.toklen, 1, &f) == -1)
		goto failed;
	if (make_route(&tmp, o, &f) == -1)
		goto failed;
	p.route = tmp.route;
	p.url = o->tunnel;
	p.target = &target;
	p.in_fd = STDIN_FILENO;
	p.out_fd = STDOUT_FILENO;
	p.shutdown = o->shutdown;
	p.keepalive = o->keepalive;
	p.resume_timeout = o->resume_timeout;
	p.transport = o->tunnel_transport;
	cl = tclient_new(&p, &f);
	route_unref(tmp.route);
	tmp.route = NULL;
	wipe(p.token, sizeof(p.token));
	if (cl == NULL)
		goto failed;
	catch_stop();
	do {
		n = tclient_pollfds(cl, pfd);
		(void)pollfd_set(&pfd[n], stop_pipe[0], POLLIN);
		if (poll(pfd, n + 1, timer_poll_ms(tclient_timer(cl))) == -1 &&
		    errno != EINTR) {
			failure_set(&f, FAIL_IO, "poll: %s", strerror(errno));
			goto failed;
		}
		if (pfd[n].revents != 0) {
			char junk[16];

			while (read(stop_pipe[0], junk, sizeof(junk)) > 0)
				;
		}
		if (stop_sig != 0)
			tclient_stop(cl);
	} while ((rc = tclient_events(cl, pfd, n)) == 1);
	if (rc == -1) {
		f = *tclient_failure(cl);
		goto failed;
	}
	log_info("session closed: %llu bytes sent, %llu received",
	    (unsigned long long)(cl->up_base + cl->uplen),
	    (unsigned long long)cl->down_off);
	tclient_free(cl);
	release_stop();
	return EXIT_OK;
failed:
	tclient_free(cl);
	release_stop();
	route_unref(tmp.route);
	wipe(p.token, sizeof(p.token));
	log_error("%s", f.msg);
	return mode_exit_status(&f);
}
