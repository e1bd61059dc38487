/*
 * serve.c: culvert serve, the far end of culvert's tunnels and a small,
 * safe CONNECT proxy, on one port and one event loop.
 *
 * Each client connection reads a request head (bounded, with a deadline),
 * checks its X-Culvert-Auth when there is a token (proto/session.h), and:
 *
 *	CONNECT host:port	opens the target if the --allow rules let it,
 *				answers 200 and relays, as any proxy
 *	POST .../culvert/open	opens a session to a target
 *	POST .../culvert/up	hands upstream bytes to a session
 *	GET  .../culvert/down	long-polls for downstream bytes
 *	POST .../culvert/close	ends a session
 *	POST .../culvert/stream	opens or resumes a session and carries it
 *				in frames on this connection
 *
 * A session (the target connection and the bytes not yet acknowledged
 * each way) outlives the connections that carry it, for --resume-timeout
 * after the last one, so a client can come back after a proxy cut it off.
 * Sessions, buffers, heads and bodies are all bounded; a slow client
 * holds only its own connection.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli/config.h"
#include "cli/token.h"
#include "crypto/hash.h"
#include "crypto/wipe.h"
#include "io/loop.h"
#include "io/net.h"
#include "io/relay.h"
#include "io/resolve.h"
#include "mode/mode.h"
#include "proto/http.h"
#include "proto/session.h"
#include "route/allow.h"
#include "route/target.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/num.h"
#include "util/random.h"

#define HEAD_TIMEOUT_MS		10000	/* a request head must arrive */
#define BODY_TIMEOUT_MS		30000	/* and its body */
#define IDLE_MS			120000	/* a kept-alive connection */
#define CONNECT_TIMEOUT_MS	20000	/* resolving and reaching a target */
#define LINGER_MS		2000	/* draining a client before close */
#define REQ_HEAD_MAX		16384
#define DOWN_CAP		(2 * 1024 * 1024)	/* unacknowledged, per session */
#define UP_CAP			(512 * 1024)	/* not yet written to the target */
#define GET_MAX			(1024 * 1024)	/* body of one long-poll answer */
/*
 * A long-poll answer in chunks (a client that asks for it with c=1) goes
 * on as the target sends, until GET_MAX, DS_IDLE_MS without anything new
 * or DS_MS in all: a proxy that holds whole answers back passes it then.
 */
#define DS_IDLE_MS		20
#define DS_MS			1000
#define DS_CHUNK		(64 * 1024)
#define SERVE_BUFSIZE		(16 * 1024)
#define ACK_EVERY		(128 * 1024)	/* stream: ACK at least this often */
#define NONCES_MAX		65536
#define FRAME_OUT_MAX		(SESS_FRAME_HDR + SESS_FRAME_MAX)
#define IN_MAX			(SESS_BODY_MAX + REQ_HEAD_MAX + 16384)

enum cstate {
	S_HEAD,		/* reading a request head */
	S_BODY,		/* reading its body */
	S_OPEN,		/* resolving and connecting to a target */
	S_RESPOND,	/* writing a response */
	S_WAIT,		/* a long-poll GET waiting for data */
	S_RELAY,	/* CONNECT: relaying */
	S_STREAM,	/* frames of a session */
	S_UPLOAD,	/* an upload's body, taken as it comes */
	S_DOWNSTREAM,	/* a long-poll answer in chunks, as data comes */
	S_LINGER	/* answered and shut down: reading what still comes */
};

enum action { A_CONNECT, A_OPEN, A_UP, A_DOWN, A_CLOSE, A_STREAM };

struct session;

struct sconn {
	struct sconn	*next, *prev;
	struct server	*srv;
	unsigned long	 id;
	int		 fd;
	char		 peer[INET6_ADDRSTRLEN + 8];
	enum cstate	 state;
	long long	 deadline;
	struct head	 head;
	unsigned char	*in;		/* bytes read, not yet used */
	size_t		 inlen, incap;
	/* the request being served */
	char		 method[16];
	enum action	 action;
	char		 path[2048];	/* origin-form, with the query */
	size_t		 body_len, body_got;
	unsigned char	*body;
	bool		 close_after;	/* Connection: close, or an error */
	struct session	*sess;		/* a reference, while attached */
	/* S_OPEN */
	struct target	 target;
	struct resolve	*res;
	struct addrinfo	*addrs;
	struct connector conn;
	bool		 conn_live;
	/* S_RESPOND */
	unsigned char	*out;
	size_t		 outlen, outoff, outcap;
	/* S_RELAY */
	int		 tfd;
	struct relay	 r;
	bool		 relay_live;
	long long	 start_ms;
	/* S_STREAM: how far this connection has sent the session's bytes */
	uint64_t	 sent;
	bool		 sent_eof;
	uint64_t	 acked_up;	/* last ACK frame we sent */
	long long	 ack_at;	/* an ACK owed is due then */
	long long	 last_rx;
	/* a POST held while the session has no room for its body */
	uint64_t	 hold_off;
	bool		 hold_eof;
	/* S_UPLOAD: a body chunked or over SESS_BODY_MAX, taken as it comes */
	bool		 streamed;
	int		 ch_state;	/* CH_* */
	uint64_t	 ch_left;	/* of the chunk, or of a counted body */
	uint64_t	 up_at;		/* the offset of its next byte */
	uint64_t	 up_got;	/* its bytes so far */
	size_t		 trailer;	/* bytes of trailer fields */
	bool		 up_blocked;	/* the session has no room now */
	/* S_DOWNSTREAM */
	bool		 ds_ok;		/* the client takes a chunked answer */
	bool		 ds_ending;	/* its last chunk is queued */
	bool		 ds_gone;	/* a write failed: end it (events) */
	uint64_t	 ds_at;		/* sent up to this offset */
	size_t		 ds_total;
	long long	 ds_start, ds_last;
};

enum { CH_COUNTED, CH_SIZE, CH_DATA, CH_DATA_END, CH_TRAILER, CH_DONE };

struct session {
	struct session	*next, *prev;
	struct server	*srv;
	unsigned	 refs;		/* the server's list, and connections */
	char		 id[SESS_ID_LEN + 1];
	char		 target[300];
	char		 peer[INET6_ADDRSTRLEN + 8];
	int		 fd;		/* the target */
	uint64_t	 up_off;	/* bytes taken from the client */
	unsigned char	*up;		/* [uphead, uphead + uplen) */
	size_t		 uphead, uplen;
	bool		 up_eof;	/* the client's stream has ended */
	bool		 up_shut;
	uint64_t	 down_base;	/* acknowledged by the client */
	unsigned char	*down;		/* [downhead, downhead + downlen) */
	size_t		 downhead, downlen;
	bool		 down_eof;	/* the target has closed */
	bool		 target_err;
	struct sconn	*waiter;	/* a GET waiting for data */
	struct sconn	*upwaiter;	/* a POST waiting for room */
	struct sconn	*upload;	/* a POST whose body comes as it goes */
	struct sconn	*downstream;	/* a GET answered in chunks */
	struct sconn	*stream;	/* a stream connection */
	long long	 last_ms;	/* last sign of the client */
	long long	 opened_ms;
	bool		 over;
	char		 why[200];
};

struct server {
	const struct serve_options *so;
	struct loop	*loop;
	int		 lfd;
	char		 name[300];
	struct allow	 allow;
	unsigned char	 token[SESS_TOKEN_MAX];
	size_t		 toklen;
	bool		 have_token;
	struct nonce_cache nonces;
	struct sconn	*conns;
	size_t		 nconns;
	struct session	*sessions;
	size_t		 nsessions;
	unsigned long	 next_id;
	long		 nofile;
	bool		 stopping;
	struct trim	 trim;
};

static void	conn_end(struct sconn *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	session_end(struct session *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	session_kick(struct session *);
static bool	session_done(const struct session *);
static void	up_retry(struct session *, bool);
static void	upload_feed(struct sconn *);
static int	downstream_pump(struct sconn *);
static void	stream_pump(struct sconn *);
static void	next_request(struct sconn *);

/* -- sessions ----------------------------------------------------- */

static void
session_unref(struct session *s)
{
	struct server *srv;

	if (s == NULL || --s->refs > 0)
		return;
	srv = s->srv;
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		srv->sessions = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	srv->nsessions--;
	if (s->fd != -1)
		close(s->fd);
	free(s->up);
	free(s->down);
	free(s);
}

static void
session_end(struct session *s, const char *fmt, ...)
{
	va_list ap;

	if (s->over)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
	s->over = true;
	log_notice("session %.8s closed after %.1f s: %llu bytes up, %llu "
	    "down (%s)", s->id, (double)(clock_ms() - s->opened_ms) / 1000.0,
	    (unsigned long long)s->up_off, (unsigned long long)(s->down_base +
	    s->downlen), s->why);
	loop_remove(s->srv->loop, s);
	if (s->fd != -1) {
		close(s->fd);
		s->fd = -1;
	}
	session_kick(s);
	session_unref(s);	/* the list's reference */
}

static struct session *
session_find(struct server *srv, const char *id)
{
	struct session *s;

	for (s = srv->sessions; s != NULL; s = s->next)
		if (!s->over && strcmp(s->id, id) == 0)
			return s;
	return NULL;
}

static size_t
session_pollfds(void *obj, struct pollfd *pfd)
{
	struct session *s = obj;
	size_t n = 0;
	short ev = 0;

	if (s->fd == -1)
		return 0;
	if (!s->down_eof && s->downlen < DOWN_CAP)
		ev |= POLLIN;
	if (s->uplen > 0)
		ev |= POLLOUT;
	if (ev != 0)
		n += pollfd_set(&pfd[n], s->fd, ev);
	return n;
}

static long long
session_timer(void *obj)
{
	struct session *s = obj;

	if (s->stream != NULL || s->waiter != NULL || s->upwaiter != NULL ||
	    s->upload != NULL || s->downstream != NULL)
		return CLOCK_NEVER;
	return s->last_ms + (long long)(s->srv->so->resume_timeout * 1000);
}

/* Something changed: wake whoever carries the session to the client. */
static void
session_kick(struct session *s)
{
	up_retry(s, false);
	if (s->waiter != NULL) {
		struct sconn *c = s->waiter;

		s->waiter = NULL;
		next_request(c);	/* answers the GET now */
	}
	if (s->stream != NULL)
		stream_pump(s->stream);
	if (s->downstream != NULL)
		(void)downstream_pump(s->downstream);
}

static void
session_events(void *obj, const struct pollfd *pfd, size_t n)
{
	struct session *s = obj;
	bool changed = false, sent = false;
	ssize_t r;

	/*
	 * The timer runs events with the target's slot too (n is what
	 * pollfds filled, not what is ready), so check it first.
	 */
	if (session_timer(s) != CLOCK_NEVER &&
	    clock_ms() >= session_timer(s)) {
		session_end(s, "the client did not come back within %.0f s",
		    s->srv->so->resume_timeout);
		return;
	}
	if (n == 0)
		return;
	if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
		if (!s->down_eof && s->downlen < DOWN_CAP) {
			/* Move the bytes kept to the front only when needed. */
			if (DOWN_CAP - s->downhead - s->downlen < 65536 &&
			    s->downhead > 0) {
				memmove(s->down, s->down + s->downhead,
				    s->downlen);
				s->downhead = 0;
			}
			r = recv(s->fd, s->down + s->downhead + s->downlen,
			    DOWN_CAP - s->downhead - s->downlen, MSG_DONTWAIT);
			if (r > 0) {
				s->downlen += (size_t)r;
				changed = true;
			} else if (r == 0 || (r == -1 && errno != EAGAIN &&
			    errno != EINTR)) {
				s->down_eof = true;
				s->target_err = r == -1;
				changed = true;
			}
		}
	}
	if ((pfd[0].revents & (POLLOUT | POLLERR)) && s->uplen > 0) {
		r = send(s->fd, s->up + s->uphead, s->uplen, MSG_DONTWAIT |
		    MSG_NOSIGNAL);
		if (r > 0) {
			s->uphead += (size_t)r;
			s->uplen -= (size_t)r;
			if (s->uplen == 0)
				s->uphead = 0;
			sent = true;
		} else if (r == -1 && errno != EAGAIN && errno != EINTR) {
			s->uplen = 0;	/* the target takes nothing more */
			s->up_shut = true;
			sent = true;
		}
	}
	if (s->up_eof && s->uplen == 0 && !s->up_shut) {
		(void)shutdown(s->fd, SHUT_WR);
		s->up_shut = true;
	}
	/*
	 * Bytes passed on to the target concern a long poll only when they
	 * were the last the session waited for: answering it for every
	 * write would cost the client a request per keystroke.  The stream
	 * may read frames again.
	 */
	if (changed || (sent && session_done(s)))
		session_kick(s);
	else if (sent) {
		up_retry(s, false);
		if (s->stream != NULL)
			stream_pump(s->stream);
	}
}

static const struct loop_ops session_ops = {
	session_pollfds, session_timer, session_events
};

/*
 * Take upstream bytes at offset off (a retransmission may overlap what
 * was taken); returns the new acknowledged offset.
 */
static uint64_t
session_take(struct session *s, uint64_t off, const unsigned char *p,
    size_t len, bool eof)
{
	size_t skip, take;

	s->last_ms = clock_ms();
	if (off > s->up_off || s->up_eof)
		return s->up_off;	/* a gap, or after the end: resend */
	skip = (size_t)(s->up_off - off);
	if (skip > len)
		return s->up_off;
	take = len - skip;
	if (take > UP_CAP - s->uplen)
		take = UP_CAP - s->uplen;
	if (take > UP_CAP - s->uphead - s->uplen) {
		memmove(s->up, s->up + s->uphead, s->uplen);
		s->uphead = 0;
	}
	if (take > 0 && s->fd != -1) {
		memcpy(s->up + s->uphead + s->uplen, p + skip, take);
		s->uplen += take;
		s->up_off += take;
	}
	if (eof && skip + take == len) {
		s->up_eof = true;
		if (s->uplen == 0 && !s->up_shut && s->fd != -1) {
			(void)shutdown(s->fd, SHUT_WR);
			s->up_shut = true;
		}
	}
	return s->up_off;
}

/* The client has everything before ack: drop it. */
static void
session_ack(struct session *s, uint64_t ack)
{
	size_t drop;

	s->last_ms = clock_ms();
	if (ack <= s->down_base || ack > s->down_base + s->downlen)
		return;
	drop = (size_t)(ack - s->down_base);
	s->downhead += drop;
	s->downlen -= drop;
	if (s->downlen == 0)
		s->downhead = 0;
	s->down_base = ack;
}

/* The stream is over both ways and everything was acknowledged. */
static bool
session_done(const struct session *s)
{
	return s->down_eof && s->downlen == 0 && (s->up_eof ||
	    s->target_err) && s->uplen == 0;
}

static struct session *
session_new(struct server *srv, struct sconn *c, int fd)
{
	struct session *s;
	unsigned char rnd[SESS_ID_LEN / 2];

	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->up = malloc(UP_CAP)) == NULL ||
	    (s->down = malloc(DOWN_CAP)) == NULL ||
	    random_bytes(rnd, sizeof(rnd)) == -1) {
		if (s != NULL) {
			free(s->up);
			free(s);
		}
		return NULL;
	}
	hash_hex(rnd, sizeof(rnd), s->id);
	s->srv = srv;
	s->refs = 1;
	s->fd = fd;
	s->opened_ms = s->last_ms = clock_ms();
	target_format(c->target.host, c->target.port, s->target,
	    sizeof(s->target));
	snprintf(s->peer, sizeof(s->peer), "%s", c->peer);
	if (loop_add(srv->loop, &session_ops, s) == -1) {
		free(s->up);
		free(s->down);
		free(s);
		return NULL;
	}
	s->next = srv->sessions;
	if (srv->sessions != NULL)
		srv->sessions->prev = s;
	srv->sessions = s;
	srv->nsessions++;
	log_notice("session %.8s opened by %s to %s", s->id, c->peer,
	    s->target);
	return s;
}

/* -- connections: responses --------------------------------------- */

static int
out_room(struct sconn *c, size_t more)
{
	return buf_grow(&c->out, &c->outcap, c->outlen + more);
}

static void out_printf(struct sconn *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
out_printf(struct sconn *c, const char *fmt, ...)
{
	va_list ap;
	char buf[2048];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf) || out_room(c, (size_t)n) == -1)
		return;
	memcpy(c->out + c->outlen, buf, (size_t)n);
	c->outlen += (size_t)n;
}

static const char *
reason(int code)
{
	switch (code) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 407:
		return "Proxy Authentication Required";
	case 408:
		return "Request Timeout";
	case 409:
		return "Conflict";
	case 410:
		return "Gone";
	case 413:
		return "Content Too Large";
	case 431:
		return "Request Header Fields Too Large";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	default:
		return "Error";
	}
}

/*
 * Queue a response: status, extra header lines (each ending in CRLF, or
 * ""), and a body of len bytes (text for errors).
 */
static void
respond(struct sconn *c, int code, const char *headers, const void *body,
    size_t len)
{
	c->outlen = c->outoff = 0;
	out_printf(c, "HTTP/1.1 %d %s\r\nCache-Control: no-store, "
	    "no-transform\r\nContent-Length: %zu\r\n%s%s\r\n", code,
	    reason(code), len, headers, c->close_after ?
	    "Connection: close\r\n" : "");
	if (len > 0 && out_room(c, len) == 0) {
		memcpy(c->out + c->outlen, body, len);
		c->outlen += len;
	}
	c->state = S_RESPOND;
	c->deadline = clock_ms() + BODY_TIMEOUT_MS;
}

/* An error answer with a one-line reason; the connection then closes. */
static void fail(struct sconn *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
fail(struct sconn *c, int code, const char *fmt, ...)
{
	char text[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof(text) - 2)
		n = (int)sizeof(text) - 2;
	log_notice("[%lu] %s: %d %s: %s", c->id, c->peer, code, reason(code),
	    text);
	text[n++] = '\n';
	c->close_after = true;
	respond(c, code, "Content-Type: text/plain\r\n", text, (size_t)n);
}

/* -- connections: lifetime ---------------------------------------- */

static void
detach(struct sconn *c)
{
	struct session *s = c->sess;

	if (s == NULL)
		return;
	if (s->waiter == c)
		s->waiter = NULL;
	if (s->upwaiter == c)
		s->upwaiter = NULL;
	if (s->upload == c)
		s->upload = NULL;
	if (s->downstream == c)
		s->downstream = NULL;
	if (s->stream == c)
		s->stream = NULL;
	s->last_ms = clock_ms();
	c->sess = NULL;
	session_unref(s);
}

static void
conn_end(struct sconn *c, const char *fmt, ...)
{
	struct server *srv = c->srv;
	char why[300];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (c->relay_live) {
		log_notice("[%lu] CONNECT %s closed after %.1f s: %llu bytes up, "
		    "%llu down (%s)", c->id, c->path, (double)(clock_ms() -
		    c->start_ms) / 1000.0, c->r.up.total, c->r.down.total, why);
		relay_free(&c->r);
	} else
		log_info("[%lu] %s: connection closed (%s)", c->id, c->peer,
		    why);
	detach(c);
	if (c->res != NULL)
		resolve_cancel(c->res);
	if (c->conn_live)
		connector_free(&c->conn);
	if (c->addrs != NULL)
		freeaddrinfo(c->addrs);
	if (c->tfd != -1)
		close(c->tfd);
	head_free(&c->head);
	free(c->in);
	free(c->body);
	free(c->out);
	close(c->fd);
	loop_remove(srv->loop, c);
	srv->trim.pending = true;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	srv->nconns--;
	free(c);
}

/* Ready for the next request on this connection (keep-alive). */
static void
reset_request(struct sconn *c)
{
	head_reset(&c->head);
	free(c->body);
	c->body = NULL;
	c->body_len = c->body_got = 0;
	c->streamed = false;
	c->state = S_HEAD;
	c->deadline = clock_ms() + IDLE_MS;
}

/* -- requests ----------------------------------------------------- */

/*
 * The value of the field name in the head: 0 with *v and *vl, or -1
 * when absent, leaving them as they were.
 */
static int
header(const struct head *h, const char *name, const char **v, size_t *vl)
{
	const char *n, *fv;
	size_t pos = 0, nl, fvl;

	while (http_next_field(h, &pos, &n, &nl, &fv, &fvl))
		if (http_field_is(n, nl, name)) {
			*v = fv;
			*vl = fvl;
			return 0;
		}
	return -1;
}

/* The request line: method, target (origin-form kept in c->path). */
static int
parse_request_line(struct sconn *c, char *method, size_t mlen)
{
	const char *line, *sp1, *sp2, *t;
	size_t pos = 0, n, tl;

	if (!http_next_line(c->head.buf, c->head.len, &pos, &line, &n))
		return -1;
	sp1 = memchr(line, ' ', n);
	sp2 = sp1 != NULL ? memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 -
	    line)) : NULL;
	if (sp1 == NULL || sp2 == NULL || (size_t)(sp1 - line) >= mlen ||
	    line + n - sp2 != 9 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0)
		return -1;
	memcpy(method, line, (size_t)(sp1 - line));
	method[sp1 - line] = '\0';
	t = sp1 + 1;
	tl = (size_t)(sp2 - t);
	/* absolute-form, as a proxy may pass it on: keep the path */
	if (tl > 7 && strncasecmp(t, "http://", 7) == 0) {
		const char *slash = memchr(t + 7, '/', tl - 7);

		if (slash == NULL)
			return -1;
		tl -= (size_t)(slash - t);
		t = slash;
	}
	if (tl == 0 || tl >= sizeof(c->path))
		return -1;
	memcpy(c->path, t, tl);
	c->path[tl] = '\0';
	return 0;
}

/* An address of the target a name rule did not let in: allowed? */
struct addr_check {
	const struct allow	*allow;
	unsigned		 port;
};

static bool
addr_allowed(const struct addrinfo *ai, void *arg)
{
	const struct addr_check *ac = arg;

	return allow_addr(ac->allow, ai->ai_addr, ac->port);
}

/* Answer a failure to open the target: "BEFORE host:port AFTER". */
static void
open_failed(struct sconn *c, int code, const char *before, const char *after)
{
	char shown[300];

	target_format(c->target.host, c->target.port, shown, sizeof(shown));
	fail(c, code, "%s%s%s", before, shown, after);
}

/* The target is connected: answer as the request asked. */
static void
target_up(struct sconn *c, int fd)
{
	struct server *srv = c->srv;
	struct relay_config rc;
	struct session *s;
	char hdr[200];

	if (c->action == A_CONNECT) {
		c->tfd = fd;
		c->outlen = c->outoff = 0;
		out_printf(c, "HTTP/1.1 200 Connection established\r\n\r\n");
		if (send(c->fd, c->out, c->outlen, MSG_DONTWAIT |
		    MSG_NOSIGNAL) != (ssize_t)c->outlen) {
			conn_end(c, "client gone before the 200");
			return;
		}
		memset(&rc, 0, sizeof(rc));
		rc.bufsize = SERVE_BUFSIZE;
		rc.pipe_size = relay_pipe_budget(srv->nconns);
		rc.splice = (long)(srv->nconns + 16) * 6 < srv->nofile;
		rc.both_ways = true;
		rc.aux = -1;
		rc.up_first = c->in;
		rc.up_firstlen = c->inlen;
		if (relay_init(&c->r, c->fd, c->fd, fd, fd, &rc) == -1) {
			conn_end(c, "out of memory");
			return;
		}
		c->inlen = 0;
		c->relay_live = true;
		c->start_ms = clock_ms();
		target_format(c->target.host, c->target.port, c->path,
		    sizeof(c->path));
		log_notice("[%lu] %s: CONNECT %s", c->id, c->peer, c->path);
		c->state = S_RELAY;
		return;
	}
	if ((s = session_new(srv, c, fd)) == NULL) {
		close(fd);
		fail(c, 503, "out of memory");
		return;
	}
	if (c->action == A_STREAM) {
		s->refs++;
		c->sess = s;
		s->stream = c;
		snprintf(hdr, sizeof(hdr), "X-Culvert-Session: %s\r\n"
		    "X-Culvert-Ack: 0\r\nX-Culvert-Offset: 0\r\n", s->id);
		respond(c, 200, hdr, NULL, 0);
		c->sent = 0;
		c->sent_eof = false;
		c->acked_up = 0;
		c->ack_at = CLOCK_NEVER;
		return;
	}
	snprintf(hdr, sizeof(hdr), "X-Culvert-Session: %s\r\n", s->id);
	respond(c, 200, hdr, NULL, 0);
}

static void
connect_result(struct sconn *c, int fd)
{
	if (fd >= 0) {
		connector_free(&c->conn);
		c->conn_live = false;
		target_up(c, fd);
	} else if (fd == -2) {
		connector_free(&c->conn);
		c->conn_live = false;
		char why[128];

		snprintf(why, sizeof(why), ": %s", strerror(c->conn.err));
		open_failed(c, 502, "cannot connect to ", why);
	}
}

static void
resolved(struct sconn *c)
{
	struct server *srv = c->srv;
	int rc = resolve_finish(c->res, &c->addrs);
	unsigned char a[16];
	bool literal;

	c->res = NULL;
	if (rc != 0) {
		char why[128];

		snprintf(why, sizeof(why), ": %s", gai_strerror(rc));
		open_failed(c, 502, "cannot resolve ", why);
		return;
	}
	literal = inet_pton(AF_INET, c->target.host, a) == 1 ||
	    inet_pton(AF_INET6, c->target.host, a) == 1;
	/*
	 * A name that passes a name rule may be reached at any of its
	 * addresses; otherwise only the addresses (of a name or a literal)
	 * that pass address rules are ever connected to.
	 */
	connector_start(&c->conn, c->addrs, c->target.port, NULL, NULL);
	if (!(!literal && allow_name(&srv->allow, c->target.host,
	    c->target.port))) {
		struct addr_check ac = { &srv->allow, c->target.port };

		if (connector_keep(&c->conn, addr_allowed, &ac) == 0) {
			connector_free(&c->conn);
			open_failed(c, 403, "", literal ? " is not allowed (no "
			    "--allow rule matches it)" : " is not allowed (no "
			    "--allow rule matches it or any of its addresses)");
			return;
		}
	}
	c->conn_live = true;
	c->state = S_OPEN;
	connect_result(c, connector_events(&c->conn, NULL, 0));
}

/* Open c->target for CONNECT, open or stream. */
static void
open_target(struct sconn *c)
{
	struct server *srv = c->srv;

	if (srv->allow.n == 0) {
		open_failed(c, 403, "", " is not allowed: culvert serve was "
		    "started without --allow rules");
		return;
	}
	if (c->action != A_CONNECT && srv->nsessions >= srv->so->max_sessions) {
		fail(c, 503, "too many sessions (%zu); try later",
		    srv->nsessions);
		return;
	}
	c->state = S_OPEN;
	c->deadline = clock_ms() + CONNECT_TIMEOUT_MS;
	if ((c->res = resolve_start(c->target.host, c->target.port,
	    AF_UNSPEC)) == NULL) {
		fail(c, 503, "out of memory");
		return;
	}
	if (resolve_fd(c->res) == -1)
		resolved(c);
}

/* A session request's session, attached to c; NULL with an answer sent. */
static struct session *
request_session(struct sconn *c, const char *query)
{
	char id[SESS_ID_LEN + 2];
	struct session *s;

	if (sess_query(query, "s", id, sizeof(id)) == -1 ||
	    !sess_is_hex(id, SESS_ID_LEN)) {
		fail(c, 400, "no session id");
		return NULL;
	}
	if ((s = session_find(c->srv, id)) == NULL) {
		fail(c, 410, "no session %.8s (it ended, or never was)", id);
		return NULL;
	}
	return s;
}

static void
up_answer(struct sconn *c, uint64_t ack)
{
	char hdr[64];

	snprintf(hdr, sizeof(hdr), "X-Culvert-Ack: %llu\r\n",
	    (unsigned long long)ack);
	respond(c, 200, hdr, NULL, 0);
}

/*
 * The held POST takes what there is room for now; it is answered when
 * all of its body is taken, it cannot be (a gap before it, the end of
 * the stream or of the session), or (now) its time is up.
 */
static void
up_retry(struct session *s, bool now)
{
	struct sconn *c = s->upwaiter;
	uint64_t ack;

	if (s->upload != NULL && s->upload->up_blocked)
		upload_feed(s->upload);
	if (c == NULL)
		return;
	ack = session_take(s, c->hold_off, c->body, c->body_len, c->hold_eof);
	if (!now && !s->over && s->fd != -1 && !s->up_eof &&
	    ack >= c->hold_off && ack < c->hold_off + c->body_len)
		return;
	s->upwaiter = NULL;
	detach(c);
	up_answer(c, ack);
}

/*
 * POST up: take the body.  When the session has no room for all of it
 * (the target reads slower than the client sends), the answer waits
 * for room, at most --poll-timeout: answered at once, the client would
 * send the same bytes again and again while the target stalls.
 */
static void
answer_up(struct sconn *c, const char *query)
{
	struct session *s = request_session(c, query);
	char off_s[24], eof_s[4];
	unsigned long long off;

	if (s == NULL)
		return;
	if (sess_query(query, "o", off_s, sizeof(off_s)) == -1 ||
	    num_parse(off_s, strlen(off_s), 1ULL << 62, &off) == -1) {
		fail(c, 400, "no offset");
		return;
	}
	up_retry(s, true);	/* an older one the client gave up on */
	/* the client gave up on that one too: it resends from its ack */
	if (c->streamed && s->upload != NULL)
		conn_end(s->upload, "replaced by a newer upload");
	s->refs++;
	c->sess = s;
	c->hold_off = off;
	c->hold_eof = sess_query(query, "eof", eof_s, sizeof(eof_s)) == 0 &&
	    strcmp(eof_s, "1") == 0;
	if (c->streamed) {
		s->upload = c;
		c->up_at = off;
		c->up_got = 0;
		c->trailer = 0;
		c->up_blocked = false;
		c->state = S_UPLOAD;
		c->deadline = clock_ms() + BODY_TIMEOUT_MS;
		upload_feed(c);
		return;
	}
	s->upwaiter = c;
	c->state = S_WAIT;
	c->deadline = clock_ms() + (long long)(c->srv->so->poll_timeout * 1000);
	up_retry(s, false);	/* at once when there is room for it all */
}

/*
 * An upload's body ends (done) or cannot go on: answer with what the
 * session took.  A body not read to its end closes the connection.
 */
static void
upload_end(struct sconn *c, bool done)
{
	struct session *s = c->sess;
	uint64_t ack = done ? session_take(s, c->up_at, NULL, 0, c->hold_eof) :
	    s->up_off;

	detach(c);
	if (!done)
		c->close_after = true;
	up_answer(c, ack);
}

/* A chunked upload broke the rules: a 400, and the connection closes. */
static void
upload_bad(struct sconn *c, const char *what)
{
	detach(c);
	fail(c, 400, "bad chunked body: %s", what);
}

/*
 * The line at c->in + pos, up to its LF: its length without the CR LF
 * (*next: past the LF), or -1 when it has not all come yet.
 */
static long
upload_line(const struct sconn *c, size_t pos, size_t *next)
{
	const unsigned char *lf = memchr(c->in + pos, '\n', c->inlen - pos);
	size_t len;

	if (lf == NULL)
		return -1;
	len = (size_t)(lf - (c->in + pos));
	*next = pos + len + 1;
	if (len > 0 && c->in[pos + len - 1] == '\r')
		len--;
	return (long)len;
}

/*
 * A chunk-size line's size (hex digits, then an extension or nothing):
 * 0, or -1 when it has none.  Sizes over SESS_UPLOAD_MAX come out as
 * SESS_UPLOAD_MAX + 1.
 */
static int
chunk_size(const unsigned char *p, size_t len, uint64_t *size)
{
	size_t i;
	int d;

	*size = 0;
	for (i = 0; i < len && (d = num_hexdigit(p[i])) >= 0; i++)
		if ((*size = *size * 16 + (uint64_t)d) > SESS_UPLOAD_MAX)
			*size = SESS_UPLOAD_MAX + 1;
	if (i == 0 || (i < len && p[i] != ';' && p[i] != ' ' && p[i] != '\t'))
		return -1;
	return 0;
}

/*
 * Take what the upload's body has brought, as far as the session has
 * room: the rest waits in c->in, and the connection is not read until
 * the target has drained some (up_retry() comes back here).  Chunked
 * bodies are decoded here; their chunks mean nothing to the stream.
 */
static void
upload_feed(struct sconn *c)
{
	struct session *s = c->sess;
	size_t pos = 0, next, n;
	uint64_t ack, took;
	long len;

	c->up_blocked = false;
	while (c->state == S_UPLOAD) {
		if (s->over || s->fd == -1 || s->up_eof) {
			upload_end(c, false);	/* nothing more is taken */
			break;
		}
		switch (c->ch_state) {
		case CH_COUNTED:
		case CH_DATA:
			n = c->inlen - pos;
			if (n > c->ch_left)
				n = (size_t)c->ch_left;
			if (n == 0)
				goto more;
			ack = session_take(s, c->up_at, c->in + pos, n, false);
			if (ack <= c->up_at) {
				if (s->up_off < c->up_at)
					upload_end(c, false);	/* a gap */
				else
					c->up_blocked = true;
				goto more;
			}
			took = ack - c->up_at < n ? ack - c->up_at : n;
			pos += (size_t)took;
			c->up_at += took;
			c->ch_left -= took;
			if (c->ch_left == 0)
				c->ch_state = c->ch_state == CH_COUNTED ?
				    CH_DONE : CH_DATA_END;
			break;
		case CH_SIZE:
			if ((len = upload_line(c, pos, &next)) == -1) {
				if (c->inlen - pos > 256)
					upload_bad(c, "a chunk-size line over "
					    "256 bytes");
				goto more;
			}
			{
				uint64_t size;

				if (chunk_size(c->in + pos, (size_t)len,
				    &size) == -1) {
					upload_bad(c, "no chunk size");
					goto more;
				}
				if (c->up_got + size > SESS_UPLOAD_MAX) {
					detach(c);
					fail(c, 413, "an upload over %d bytes",
					    SESS_UPLOAD_MAX);
					goto more;
				}
				c->up_got += size;
				c->ch_left = size;
				c->ch_state = size == 0 ? CH_TRAILER : CH_DATA;
			}
			pos = next;
			break;
		case CH_DATA_END:
			if ((len = upload_line(c, pos, &next)) == -1) {
				if (c->inlen - pos > 2)
					upload_bad(c, "no CRLF after a chunk");
				goto more;
			}
			if (len != 0) {
				upload_bad(c, "no CRLF after a chunk");
				goto more;
			}
			pos = next;
			c->ch_state = CH_SIZE;
			break;
		case CH_TRAILER:
			if ((len = upload_line(c, pos, &next)) == -1) {
				if (c->trailer + c->inlen - pos > 4096)
					upload_bad(c, "a trailer over 4096 "
					    "bytes");
				goto more;
			}
			c->trailer += next - pos;
			if (c->trailer > 4096) {
				upload_bad(c, "a trailer over 4096 bytes");
				goto more;
			}
			pos = next;
			if (len == 0)
				c->ch_state = CH_DONE;
			break;
		case CH_DONE:
		default:
			upload_end(c, true);
			break;
		}
	}
more:
	/* What follows the body (a next request) stays for after the answer. */
	memmove(c->in, c->in + pos, c->inlen - pos);
	c->inlen -= pos;
}

/*
 * Send what c->out holds on the non-blocking socket: 1 when all of it
 * went, 0 when the socket is full, -1 when the client is gone.
 */
static int
out_send(struct sconn *c)
{
	ssize_t n;

	while (c->outoff < c->outlen) {
		n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0)
			c->outoff += (size_t)n;
		else if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return 0;
		else
			return -1;
	}
	return 1;
}

/* Queue the chunks of what the target sent since, and the end when due. */
static void
downstream_fill(struct sconn *c)
{
	struct session *s = c->sess;
	uint64_t end = s->down_base + s->downlen;
	long long now = clock_ms();
	size_t n;

	if (c->outoff > 0 && c->outoff == c->outlen)
		c->outoff = c->outlen = 0;
	if (c->ds_ending)
		return;
	while (c->ds_at >= s->down_base && c->ds_at < end && c->ds_total <
	    GET_MAX && c->outlen - c->outoff < 4 * DS_CHUNK) {
		n = (size_t)(end - c->ds_at);
		if (n > DS_CHUNK)
			n = DS_CHUNK;
		if (n > GET_MAX - c->ds_total)
			n = GET_MAX - c->ds_total;
		out_printf(c, "%zx\r\n", n);
		if (out_room(c, n + 2) == -1)
			return;
		memcpy(c->out + c->outlen, s->down + s->downhead + (c->ds_at -
		    s->down_base), n);
		memcpy(c->out + c->outlen + n, "\r\n", 2);
		c->outlen += n + 2;
		c->ds_at += n;
		c->ds_total += n;
		c->ds_last = now;
	}
	if (c->ds_total >= GET_MAX || s->over || c->ds_at < s->down_base ||
	    (c->ds_at == end && (s->down_eof || now - c->ds_last >=
	    DS_IDLE_MS || now - c->ds_start >= DS_MS))) {
		out_printf(c, "0\r\n\r\n");
		c->ds_ending = true;
	}
}

/*
 * Write what the chunked answer has; once it is over, as any answer.
 * -1 when the client is gone: c is ended by its own events (conn_timer
 * says now), never here, where a caller may still be using it.
 */
static int
downstream_pump(struct sconn *c)
{
	size_t was;
	int rc;

	if (c->state != S_DOWNSTREAM || c->ds_gone)
		return c->ds_gone ? -1 : 0;
	downstream_fill(c);
	while (c->outoff < c->outlen) {
		was = c->outoff;
		rc = out_send(c);
		if (c->outoff > was)
			c->deadline = clock_ms() + BODY_TIMEOUT_MS;
		if (rc == -1) {
			c->ds_gone = true;
			return -1;
		}
		if (rc == 0)
			return 0;
		downstream_fill(c);
	}
	if (c->ds_ending) {
		detach(c);
		c->state = S_RESPOND;	/* written: what follows an answer */
	}
	return 0;
}

/*
 * GET down: answer with what there is after the client's ack, or wait
 * for the target (session_kick() calls back here).
 */
static void
answer_down(struct sconn *c)
{
	struct session *s = c->sess;
	size_t len;
	char hdr[160];
	bool eof;

	len = s->downlen < GET_MAX ? s->downlen : GET_MAX;
	eof = s->down_eof && len == s->downlen;
	if (len == 0 && !eof && !s->over && clock_ms() < c->deadline) {
		s->waiter = c;
		c->state = S_WAIT;
		return;
	}
	snprintf(hdr, sizeof(hdr), "Content-Type: application/octet-stream\r\n"
	    "X-Culvert-Offset: %llu\r\nX-Culvert-Ack: %llu\r\n%s",
	    (unsigned long long)s->down_base, (unsigned long long)s->up_off,
	    eof ? "X-Culvert-Eof: 1\r\n" : "");
	if (c->ds_ok && len > 0 && !eof && !s->over) {
		/* the first bytes, and then what comes, in chunks */
		c->outlen = c->outoff = 0;
		out_printf(c, "HTTP/1.1 200 OK\r\nCache-Control: no-store, "
		    "no-transform\r\nTransfer-Encoding: chunked\r\n%s%s\r\n",
		    hdr, c->close_after ? "Connection: close\r\n" : "");
		s->downstream = c;
		c->ds_at = s->down_base;
		c->ds_total = 0;
		c->ds_ending = false;
		c->ds_gone = false;
		c->ds_start = c->ds_last = clock_ms();
		c->state = S_DOWNSTREAM;
		c->deadline = clock_ms() + BODY_TIMEOUT_MS;
		(void)downstream_pump(c);
		return;
	}
	respond(c, 200, hdr, s->down + s->downhead, len);
	if (eof && s->up_eof)
		c->close_after = false;
	detach(c);
}

static void
start_down(struct sconn *c, const char *query)
{
	struct session *s = request_session(c, query);
	char ack_s[24];
	unsigned long long ack;

	if (s == NULL)
		return;
	if (sess_query(query, "a", ack_s, sizeof(ack_s)) == -1 ||
	    num_parse(ack_s, strlen(ack_s), 1ULL << 62, &ack) == -1) {
		fail(c, 400, "no ack");
		return;
	}
	/* one the client gave up on, unfinished: it asks again */
	if (s->downstream != NULL)
		conn_end(s->downstream, "replaced by a newer poll");
	session_ack(s, ack);
	c->ds_ok = sess_query(query, "c", ack_s, sizeof(ack_s)) == 0 &&
	    strcmp(ack_s, "1") == 0;
	if (s->waiter != NULL && s->waiter != c) {
		/* An older poll the client gave up on: answer it empty. */
		struct sconn *old = s->waiter;

		s->waiter = NULL;
		old->deadline = 0;
		old->ds_ok = false;	/* no stream that nobody reads */
		answer_down(old);
	}
	s->refs++;
	c->sess = s;
	c->deadline = clock_ms() + (long long)(c->srv->so->poll_timeout * 1000);
	answer_down(c);
	if (session_done(s))
		session_end(s, "done");
}

static void
start_stream_resume(struct sconn *c, const char *query)
{
	struct session *s = request_session(c, query);
	char ack_s[24], hdr[200];
	unsigned long long ack;

	if (s == NULL)
		return;
	if (sess_query(query, "a", ack_s, sizeof(ack_s)) == -1 ||
	    num_parse(ack_s, strlen(ack_s), 1ULL << 62, &ack) == -1 ||
	    ack < s->down_base || ack > s->down_base + s->downlen) {
		fail(c, 409, "cannot resume session %.8s from byte %s",
		    s->id, ack_s);
		return;
	}
	session_ack(s, ack);
	/* The old connection is dead to the client: drop it. */
	if (s->stream != NULL)
		conn_end(s->stream, "replaced by a resumed connection");
	s->refs++;
	c->sess = s;
	s->stream = c;
	c->sent = ack;
	c->sent_eof = false;
	c->acked_up = s->up_off;
	c->ack_at = CLOCK_NEVER;
	log_notice("session %.8s resumed by %s from %llu down, %llu up",
	    s->id, c->peer, ack, (unsigned long long)s->up_off);
	snprintf(hdr, sizeof(hdr), "X-Culvert-Session: %s\r\nX-Culvert-Ack: "
	    "%llu\r\nX-Culvert-Offset: %llu\r\n", s->id,
	    (unsigned long long)s->up_off, ack);
	respond(c, 200, hdr, NULL, 0);
}

/* Check X-Culvert-Auth; false with a 401 answered. */
static bool
authorized(struct sconn *c, const char *method)
{
	struct server *srv = c->srv;
	enum sess_verdict v;
	const char *val = NULL;
	size_t vl = 0;

	if (!srv->have_token)
		return true;
	(void)header(&c->head, "X-Culvert-Auth", &val, &vl);
	v = sess_check(&srv->nonces, srv->token, srv->toklen, method, c->path,
	    val, vl, (long long)time(NULL));
	if (v == SESS_OK)
		return true;
	fail(c, strcmp(method, "CONNECT") == 0 ? 407 : 401, "refused: %s",
	    sess_verdict_text(v));
	return false;
}

/* What the path asks for: "/any/prefix/culvert/NAME?query". */
static const char *
endpoint(const char *path, const char **query)
{
	const char *q = strchr(path, '?'), *name;
	size_t len = q != NULL ? (size_t)(q - path) : strlen(path);

	*query = q != NULL ? q + 1 : "";
	for (name = path + len; name > path && name[-1] != '/'; name--)
		;
	if (name - path < 9 || strncmp(name - 9, "/culvert/", 9) != 0)
		return NULL;
	return name;
}

/* A whole request is in: act on it. */
static void
dispatch(struct sconn *c)
{
	const char *method = c->method;
	const char *query, *name = NULL;
	char t[300];
	size_t nl = 0;

	if (strcmp(method, "CONNECT") == 0) {
		char *colon;

		c->action = A_CONNECT;
		if ((nl = strlen(c->path)) >= sizeof(t)) {
			fail(c, 400, "CONNECT target too long");
			return;
		}
		memcpy(t, c->path, nl + 1);
		if ((colon = strrchr(t, ':')) == NULL) {
			fail(c, 400, "CONNECT wants host:port");
			return;
		}
		*colon = '\0';
		if (target_parse(&c->target, t, colon + 1, t, sizeof(t)) == -1) {
			fail(c, 400, "bad CONNECT target: %s", t);
			return;
		}
		if (authorized(c, method))
			open_target(c);
		return;
	}
	if ((name = endpoint(c->path, &query)) != NULL)
		nl = strcspn(name, "?");
	if (name == NULL) {
		fail(c, 404, "this is culvert serve: tunnels and CONNECT "
		    "only");
		return;
	}
	if (!authorized(c, method))
		return;
	if (nl == 4 && strncmp(name, "down", 4) == 0 &&
	    strcmp(method, "GET") == 0) {
		c->action = A_DOWN;
		start_down(c, query);
		return;
	}
	if (strcmp(method, "POST") != 0) {
		fail(c, 405, "%s is not served here", method);
		return;
	}
	if (nl == 2 && strncmp(name, "up", 2) == 0) {
		c->action = A_UP;
		answer_up(c, query);
	} else if (nl == 5 && strncmp(name, "close", 5) == 0) {
		char id[SESS_ID_LEN + 2];
		struct session *s;

		c->action = A_CLOSE;
		/* Closing a session that has already ended is no error. */
		if (sess_query(query, "s", id, sizeof(id)) == 0 &&
		    sess_is_hex(id, SESS_ID_LEN) &&
		    (s = session_find(c->srv, id)) == NULL) {
			log_info("[%lu] %s: close of session %.8s, already over",
			    c->id, c->peer, id);
			respond(c, 200, "", NULL, 0);
		} else if ((s = request_session(c, query)) != NULL) {
			session_end(s, "closed by the client");
			respond(c, 200, "", NULL, 0);
		}
	} else if ((nl == 4 && strncmp(name, "open", 4) == 0) ||
	    (nl == 6 && strncmp(name, "stream", 6) == 0)) {
		c->action = name[0] == 'o' ? A_OPEN : A_STREAM;
		if (c->action == A_STREAM && sess_query(query, "s", t,
		    sizeof(t)) == 0) {
			start_stream_resume(c, query);
			return;
		}
		{
			char *colon;

			if (sess_query(query, "t", t, sizeof(t)) == -1 ||
			    (colon = strrchr(t, ':')) == NULL) {
				fail(c, 400, "no target");
				return;
			}
			*colon = '\0';
			if (target_parse(&c->target, t, colon + 1, t,
			    sizeof(t)) == -1) {
				fail(c, 400, "bad target: %s", t);
				return;
			}
		}
		open_target(c);
	} else
		fail(c, 404, "no such endpoint");
}

/*
 * The body's length: 0 without a Content-Length; -1 when one is not a
 * number or two disagree (a proxy in front might take the other one,
 * and see a request of its own in what is our body).
 */
static int
content_length(const struct head *h, unsigned long long *len)
{
	const char *n, *v;
	size_t pos = 0, nl, vl;
	unsigned long long one;
	bool seen = false;

	*len = 0;
	while (http_next_field(h, &pos, &n, &nl, &v, &vl)) {
		if (!http_field_is(n, nl, "Content-Length"))
			continue;
		if (num_parse(v, vl, 1ULL << 40, &one) == -1 ||
		    (seen && one != *len))
			return -1;
		*len = one;
		seen = true;
	}
	return 0;
}

/* A POST to culvert/up, whose body may be taken as it comes? */
static bool
is_upload(struct sconn *c)
{
	const char *query, *name = endpoint(c->path, &query);

	return name != NULL && strcmp(c->method, "POST") == 0 &&
	    strncmp(name, "up", 2) == 0 && (name[2] == '\0' || name[2] == '?');
}

/* The head is complete: its line, its fields, its body's length. */
static void
head_done(struct sconn *c)
{
	const char *v;
	size_t vl;
	unsigned long long len = 0;

	if (parse_request_line(c, c->method, sizeof(c->method)) == -1) {
		fail(c, 400, "not an HTTP/1.x request");
		return;
	}
	if (header(&c->head, "Connection", &v, &vl) == 0 && vl == 5 &&
	    strncasecmp(v, "close", 5) == 0)
		c->close_after = true;
	if (header(&c->head, "Transfer-Encoding", &v, &vl) == 0) {
		/* both would let a proxy in front see another request */
		if (vl != 7 || strncasecmp(v, "chunked", 7) != 0 ||
		    header(&c->head, "Content-Length", &v, &vl) == 0) {
			fail(c, 400, "a Transfer-Encoding other than chunked, "
			    "or with a Content-Length");
			return;
		}
		if (!is_upload(c)) {
			fail(c, 400, "chunked request bodies are taken by "
			    "uploads (culvert/up) only; send a Content-Length");
			return;
		}
		c->streamed = true;
		c->ch_state = CH_SIZE;
	} else if (content_length(&c->head, &len) == -1) {
		fail(c, 400, "bad Content-Length");
		return;
	}
	if (len > SESS_BODY_MAX && (!is_upload(c) || len > SESS_UPLOAD_MAX)) {
		fail(c, 413, "a body of %llu bytes; at most %d", len,
		    is_upload(c) ? SESS_UPLOAD_MAX : SESS_BODY_MAX);
		return;
	}
	if (len > SESS_BODY_MAX) {
		c->streamed = true;
		c->ch_state = CH_COUNTED;
		c->ch_left = len;
	}
	if (c->streamed) {
		/* taken as it comes, by the upload (answer_up()) */
		c->state = S_BODY;
		c->deadline = clock_ms() + BODY_TIMEOUT_MS;
		dispatch(c);
		return;
	}
	c->body_len = (size_t)len;
	c->body_got = 0;
	if (c->body_len > 0 && (c->body = malloc(c->body_len)) == NULL) {
		fail(c, 503, "out of memory");
		return;
	}
	c->state = S_BODY;
	c->deadline = clock_ms() + BODY_TIMEOUT_MS;
	if (c->body_len == 0)
		dispatch(c);
}

/* Use the bytes in c->in: head, then body. */
static void
consume_input(struct sconn *c)
{
	size_t used;

	while (c->inlen > 0 && (c->state == S_HEAD || c->state == S_BODY)) {
		if (c->state == S_HEAD) {
			enum head_result r = head_feed(&c->head, c->in,
			    c->inlen, &used);

			memmove(c->in, c->in + used, c->inlen - used);
			c->inlen -= used;
			/* a whole head may come in one read: check it too */
			if (r != HEAD_NOMEM && c->head.len > REQ_HEAD_MAX)
				r = HEAD_TOO_BIG;
			if (r == HEAD_TOO_BIG) {
				fail(c, 431, "request head over %d bytes",
				    REQ_HEAD_MAX);
				return;
			}
			if (r == HEAD_NOMEM) {
				fail(c, 503, "out of memory");
				return;
			}
			if (r == HEAD_COMPLETE) {
				if (c->head.len <= 2) {
					head_reset(&c->head);
					continue;	/* stray CRLF */
				}
				head_done(c);
			}
			continue;
		}
		used = c->body_len - c->body_got;
		if (used > c->inlen)
			used = c->inlen;
		memcpy(c->body + c->body_got, c->in, used);
		c->body_got += used;
		memmove(c->in, c->in + used, c->inlen - used);
		c->inlen -= used;
		if (c->body_got == c->body_len)
			dispatch(c);
	}
}

/* Read what the client sent. 0, or -1 when it closed or failed. */
static int
read_input(struct sconn *c)
{
	ssize_t n;

	/* an upload is read in large pieces: a round per 16 KiB is slow */
	if (c->incap - c->inlen < 4096 || (c->state == S_UPLOAD &&
	    c->incap < IN_MAX)) {
		size_t cap = c->incap == 0 ? 16384 : c->state == S_UPLOAD ?
		    IN_MAX : c->incap * 2;
		unsigned char *p;

		/* At most IN_MAX, which holds a whole frame of any size. */
		if (c->incap >= IN_MAX)
			return 0;	/* full: use what is there first */
		if (cap > IN_MAX)
			cap = IN_MAX;
		if ((p = realloc(c->in, cap)) == NULL)
			return -1;
		c->in = p;
		c->incap = cap;
	}
	n = recv(c->fd, c->in + c->inlen, c->incap - c->inlen, MSG_DONTWAIT);
	if (n > 0) {
		c->inlen += (size_t)n;
		return 0;
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	return -1;
}

/* After a response or an answered long-poll: the next request. */
static void
next_request(struct sconn *c)
{
	if (c->state == S_WAIT) {
		c->deadline = 0;	/* answer now */
		answer_down(c);
	}
}

/* -- the stream transport ----------------------------------------- */

/* Queue a frame; false when the output buffer is full. */
static bool
frame_out(struct sconn *c, enum sess_frame_type type, uint64_t off,
    const void *p, size_t len)
{
	if (c->outlen - c->outoff + SESS_FRAME_HDR + len > FRAME_OUT_MAX * 2)
		return false;
	if (c->outoff > 0 && c->outoff == c->outlen)
		c->outoff = c->outlen = 0;
	if (out_room(c, SESS_FRAME_HDR + len) == -1)
		return false;
	c->outlen += sess_frame_header(c->out + c->outlen, type,
	    (uint32_t)len, off);
	if (len > 0)
		memcpy(c->out + c->outlen, p, len);
	c->outlen += len;
	return true;
}

/* Send what the session has for this stream, and write it out. */
static void
stream_pump(struct sconn *c)
{
	struct session *s = c->sess;

	if (s == NULL || c->state != S_STREAM)
		return;
	/*
	 * An ACK rides along with other frames, answers a PING, or goes
	 * alone once enough is owed or it has waited SESS_ACK_DELAY_MS.
	 */
	if (s->up_off != c->acked_up) {
		long long now = clock_ms();

		if (c->ack_at == CLOCK_NEVER)
			c->ack_at = now + SESS_ACK_DELAY_MS;
		if ((c->acked_up == (uint64_t)-1 || c->outoff < c->outlen ||
		    c->sent < s->down_base + s->downlen || s->down_eof ||
		    s->over || s->up_off - c->acked_up >= ACK_EVERY ||
		    now >= c->ack_at) && frame_out(c, FRAME_ACK, s->up_off,
		    NULL, 0)) {
			c->acked_up = s->up_off;
			c->ack_at = CLOCK_NEVER;
		}
	}
	while (c->sent < s->down_base + s->downlen) {
		size_t at = (size_t)(c->sent - s->down_base);
		size_t len = s->downlen - at;

		if (len > SESS_FRAME_MAX)
			len = SESS_FRAME_MAX;
		if (!frame_out(c, FRAME_DATA, c->sent, s->down + s->downhead +
		    at, len))
			break;
		c->sent += len;
	}
	if (s->down_eof && !c->sent_eof && c->sent == s->down_base +
	    s->downlen && frame_out(c, FRAME_EOF, c->sent, NULL, 0))
		c->sent_eof = true;
	if (s->over && frame_out(c, FRAME_CLOSE, 0, s->why, strlen(s->why)))
		detach(c);
	(void)out_send(c);	/* a failure shows when reading */
}

/*
 * Must the first frame in c->in wait?  A DATA frame waits while the
 * session has no room for its new bytes: the client sends bytes once on
 * a stream (again only after a resume), so what is not taken now must
 * stay here, and the stream is not read meanwhile (TCP pushes back).
 */
static bool
stream_blocked_at(const struct sconn *c, size_t pos)
{
	const struct session *s = c->sess;
	struct sess_frame f;
	size_t used;

	if (s == NULL || s->fd == -1 || s->up_shut || s->up_eof ||
	    sess_frame_parse(c->in + pos, c->inlen - pos, &f, &used) != 1 ||
	    f.type != FRAME_DATA || f.off > s->up_off ||
	    f.off + f.len <= s->up_off)
		return false;
	return f.off + f.len - s->up_off > UP_CAP - s->uplen;
}

static bool
stream_blocked(const struct sconn *c)
{
	return stream_blocked_at(c, 0);
}

/* A frame in c->in can be used now (after the target took some bytes). */
static bool
stream_ready(const struct sconn *c)
{
	struct sess_frame f;
	size_t used;

	return c->inlen > 0 && !stream_blocked(c) &&
	    sess_frame_parse(c->in, c->inlen, &f, &used) != 0;
}

/* Frames from the client. -1 when the connection must end. */
static int
stream_input(struct sconn *c)
{
	struct session *s;
	struct sess_frame f;
	size_t used, pos = 0;

	while (!stream_blocked_at(c, pos) &&
	    sess_frame_parse(c->in + pos, c->inlen - pos, &f, &used) == 1) {
		c->last_rx = clock_ms();
		/*
		 * Read c->sess again each time: a frame that ends the
		 * session detaches c, and the session may be freed.
		 */
		if ((s = c->sess) != NULL) {
			switch (f.type) {
			case FRAME_DATA:
				(void)session_take(s, f.off, f.payload, f.len,
				    false);
				break;
			case FRAME_EOF:
				(void)session_take(s, f.off, NULL, 0, true);
				break;
			case FRAME_ACK:
				session_ack(s, f.off);
				break;
			case FRAME_PING:
				s->last_ms = clock_ms();
				c->acked_up = (uint64_t)-1;	/* answer */
				break;
			case FRAME_CLOSE:
				session_end(s, "closed by the client");
				break;
			}
		}
		pos += used;
	}
	/* One move for all the frames taken, not one per frame. */
	memmove(c->in, c->in + pos, c->inlen - pos);
	c->inlen -= pos;
	if (c->inlen > 0 && sess_frame_parse(c->in, c->inlen, &f, &used) == -1)
		return -1;
	if ((s = c->sess) != NULL && session_done(s))
		session_end(s, "done");
	stream_pump(c);
	return 0;
}

/* -- connection events -------------------------------------------- */

/*
 * How long a stream may stay silent.  A client sends keep-alives, so a
 * silent stream is a dead path (no reset ever came): end it, and the
 * session then waits --resume-timeout for the client as after any
 * break, instead of forever.
 */
static long long
stream_quiet_ms(const struct sconn *c)
{
	long long ms = (long long)(c->srv->so->resume_timeout * 1000);

	return ms < 1000 ? 1000 : ms;
}

static size_t
conn_pollfds(void *obj, struct pollfd *pfd)
{
	struct sconn *c = obj;

	switch (c->state) {
	case S_HEAD:
	case S_BODY:
	case S_LINGER:
		return pollfd_set(pfd, c->fd, POLLIN);
	case S_WAIT:
		/* once the next request has begun, only the timer and errors */
		return pollfd_set(pfd, c->fd, c->inlen == 0 ? POLLIN : 0);
	case S_RESPOND:
		return pollfd_set(pfd, c->fd, POLLOUT);
	case S_UPLOAD:
		return pollfd_set(pfd, c->fd, c->up_blocked ? 0 : POLLIN);
	case S_DOWNSTREAM:
		/* reading only to see the client close: as S_WAIT */
		return pollfd_set(pfd, c->fd, (short)((c->outoff < c->outlen ?
		    POLLOUT : 0) | (c->inlen == 0 ? POLLIN : 0)));
	case S_STREAM:
		return pollfd_set(pfd, c->fd, (short)((stream_blocked(c) ? 0 :
		    POLLIN) | (c->outoff < c->outlen ? POLLOUT : 0)));
	case S_OPEN:
		if (c->res != NULL)
			return pollfd_set(pfd, resolve_fd(c->res), POLLIN);
		return connector_pollfds(&c->conn, pfd);
	case S_RELAY:
		return relay_pollfds(&c->r, pfd);
	}
	return 0;
}

static long long
conn_timer(void *obj)
{
	struct sconn *c = obj;

	switch (c->state) {
	case S_RELAY:
		return CLOCK_NEVER;
	case S_DOWNSTREAM:
		if (c->ds_gone)
			return 0;
		return c->outoff < c->outlen ? c->deadline : timer_min(
		    c->ds_last + DS_IDLE_MS, c->ds_start + DS_MS);
	case S_STREAM:
		/*
		 * Frames that waited for room: now; else an ACK owed (when
		 * nothing is being sent, which it would ride along with), or
		 * a silent client.
		 */
		if (stream_ready(c))
			return 0;
		return timer_min(c->sess != NULL && c->sess->up_off !=
		    c->acked_up && c->outoff == c->outlen ? c->ack_at :
		    CLOCK_NEVER, c->last_rx + stream_quiet_ms(c));
	case S_OPEN:
		return c->conn_live ? timer_min(c->deadline,
		    connector_timer(&c->conn)) : c->deadline;
	default:
		return c->deadline;
	}
}

static void
conn_events(void *obj, const struct pollfd *pfd, size_t n)
{
	struct sconn *c = obj;
	bool ready = n > 0 && pfd[0].revents != 0;
	bool late = c->deadline != 0 && clock_ms() >= c->deadline;
	int rc;

	switch (c->state) {
	case S_HEAD:
	case S_BODY:
		if (ready && read_input(c) == -1) {
			conn_end(c, c->state == S_HEAD && c->head.len == 0 ?
			    "client closed" : "client closed mid-request");
			return;
		}
		if (ready)
			consume_input(c);
		else if (late) {
			if (c->state == S_HEAD && c->head.len == 0)
				conn_end(c, "idle");
			else
				fail(c, 408, "the request did not arrive in "
				    "time");
		}
		return;
	case S_WAIT:
		/*
		 * A client that closes its poll: nothing to answer.  Bytes
		 * of a next request are kept for after the answer (peeking
		 * at them instead would leave the socket readable: a spin).
		 */
		if (ready && read_input(c) == -1) {
			conn_end(c, "client closed its poll");
			return;
		}
		if (late && c->action == A_UP)
			up_retry(c->sess, true);
		else if (late) {
			c->sess->waiter = NULL;
			answer_down(c);
		}
		return;
	case S_DOWNSTREAM:
		if (ready && (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    read_input(c) == -1) {
			conn_end(c, "client closed its poll");
			return;
		}
		if (late && c->outoff < c->outlen && !c->ds_gone) {
			conn_end(c, "client does not read its answer");
			return;
		}
		if (downstream_pump(c) == -1)
			conn_end(c, "client gone");
		return;
	case S_UPLOAD:
		if (ready && read_input(c) == -1) {
			conn_end(c, "client closed mid-upload");
			return;
		}
		if (ready) {
			c->deadline = clock_ms() + BODY_TIMEOUT_MS;
			upload_feed(c);
		} else if (late && c->up_blocked)
			upload_end(c, false);	/* the target took nothing */
		else if (late)
			conn_end(c, "the upload stopped coming");
		return;
	case S_LINGER:
		if (late) {
			conn_end(c, "answered");
			return;
		}
		if (ready) {
			char junk[4096];
			ssize_t r = recv(c->fd, junk, sizeof(junk),
			    MSG_DONTWAIT);

			if (r == 0 || (r == -1 && errno != EAGAIN &&
			    errno != EINTR))
				conn_end(c, "answered");
		}
		return;
	case S_RESPOND:
		if (late) {
			conn_end(c, "client does not read its answer");
			return;
		}
		if ((rc = out_send(c)) <= 0) {
			if (rc == -1)
				conn_end(c, "client gone");
			return;
		}
		c->outoff = c->outlen = 0;
		if (c->sess != NULL && c->sess->stream == c) {
			c->state = S_STREAM;
			c->last_rx = clock_ms();
			stream_pump(c);
			return;
		}
		if (c->close_after) {
			/*
			 * Closing with unread bytes (the rest of an oversized
			 * head, a body not taken) would reset the connection
			 * and could destroy the answer before the client
			 * reads it: end our side, drain theirs a moment.
			 */
			(void)shutdown(c->fd, SHUT_WR);
			c->state = S_LINGER;
			c->deadline = clock_ms() + LINGER_MS;
			return;
		}
		reset_request(c);
		consume_input(c);	/* a pipelined request */
		return;
	case S_OPEN:
		if (late) {
			open_failed(c, 504, "no answer from ", " within 20 s");
			return;
		}
		if (c->res != NULL) {
			if (ready)
				resolved(c);
			return;
		}
		connect_result(c, connector_events(&c->conn, pfd, n));
		return;
	case S_RELAY:
		rc = relay_events(&c->r, pfd);
		if (rc == 0)
			conn_end(c, "done");
		else if (rc == -1)
			conn_end(c, "%s: %s", c->r.errwhat, strerror(c->r.err));
		return;
	case S_STREAM:
		if ((pfd[0].revents & POLLIN) && read_input(c) == -1) {
			conn_end(c, "transport closed");
			return;
		}
		if (c->inlen > 0 && stream_input(c) == -1) {
			conn_end(c, "not a frame");
			return;
		}
		if ((pfd[0].revents & (POLLOUT | POLLERR | POLLHUP)) ||
		    (c->ack_at != CLOCK_NEVER && clock_ms() >= c->ack_at))
			stream_pump(c);
		if ((pfd[0].revents & (POLLERR | POLLHUP)) &&
		    !(pfd[0].revents & POLLIN))
			conn_end(c, "transport reset");
		else if (c->sess == NULL && c->outoff == c->outlen)
			conn_end(c, "session over");
		else if (clock_ms() - c->last_rx >= stream_quiet_ms(c))
			conn_end(c, "no frame for %.0f s",
			    (double)stream_quiet_ms(c) / 1000.0);
		return;
	}
}

static const struct loop_ops conn_ops = {
	conn_pollfds, conn_timer, conn_events
};

/* -- listening ---------------------------------------------------- */

static size_t
listener_pollfds(void *obj, struct pollfd *pfd)
{
	struct server *srv = obj;

	if (srv->lfd == -1)
		return 0;
	return pollfd_set(pfd, srv->lfd, POLLIN);
}

static long long
listener_timer(void *obj)
{
	struct server *srv = obj;

	return trim_timer(&srv->trim);
}

static void
listener_events(void *obj, const struct pollfd *pfd, size_t n)
{
	struct server *srv = obj;
	int i;

	(void)pfd;
	for (i = 0; i < 64 && n > 0; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		char host[INET6_ADDRSTRLEN], port[8];
		struct sconn *c;
		int fd = accept(srv->lfd, (struct sockaddr *)&ss, &len);

		if (fd == -1) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_error("accept: %s", strerror(errno));
			return;
		}
		if (net_own_fd(fd) == -1 || (c = calloc(1, sizeof(*c))) ==
		    NULL) {
			close(fd);
			continue;
		}
		net_nodelay(fd);
		c->srv = srv;
		c->id = ++srv->next_id;
		c->fd = fd;
		c->tfd = -1;
		if (getnameinfo((struct sockaddr *)&ss, len, host,
		    sizeof(host), port, sizeof(port), NI_NUMERICHOST |
		    NI_NUMERICSERV) != 0 || snprintf(c->peer, sizeof(c->peer),
		    strchr(host, ':') != NULL ? "[%s]:%s" : "%s:%s", host,
		    port) < 0)
			snprintf(c->peer, sizeof(c->peer), "?");
		c->state = S_HEAD;
		c->deadline = clock_ms() + HEAD_TIMEOUT_MS;
		if (loop_add(srv->loop, &conn_ops, c) == -1) {
			close(fd);
			free(c);
			continue;
		}
		c->next = srv->conns;
		if (srv->conns != NULL)
			srv->conns->prev = c;
		srv->conns = c;
		srv->nconns++;
		if (srv->nconns > srv->so->max_conns) {
			fail(c, 503, "too many connections (%zu)",
			    srv->nconns - 1);
		}
	}
}

static const struct loop_ops listener_ops = {
	listener_pollfds, listener_timer, listener_events
};

/* -- start -------------------------------------------------------- */

static int
read_allow_file(struct server *srv, const char *path)
{
	char line[512], err[300];
	unsigned lineno = 0;
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL) {
		log_error("cannot open --allow-file %s: %s", path,
		    strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *p = line, *end;

		lineno++;
		line[strcspn(line, "#\r\n")] = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		end = p + strlen(p);
		while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (*p == '\0')
			continue;
		if (allow_add(&srv->allow, p, err, sizeof(err)) == -1) {
			log_error("%s:%u: %s", path, lineno, err);
			fclose(fp);
			return -1;
		}
	}
	fclose(fp);
	return 0;
}

static int
serve_listen(struct server *srv)
{
	const struct serve_options *so = srv->so;
	char bind_s[64];
	unsigned port;
	char err[300];

	if (config_parse_bind(so->listen, bind_s, sizeof(bind_s), &port, err,
	    sizeof(err)) == -1) {
		log_error("--listen: %s", err);
		return -1;
	}
	if (!config_bind_loopback(bind_s) && !srv->have_token &&
	    !so->insecure_no_token) {
		log_error("culvert serve on %s without a token would let anyone "
		    "who reaches it use it: give --token-file FILE, or "
		    "--insecure-no-token if something else guards it", bind_s);
		return -1;
	}
	target_format(bind_s, port, srv->name, sizeof(srv->name));
	if ((srv->lfd = net_listen(bind_s, port)) == -1) {
		log_error("cannot listen on %s: %s", srv->name,
		    strerror(errno));
		return -1;
	}
	if (!config_bind_loopback(bind_s))
		log_warnx("warning: culvert serve on %s is reachable from other "
		    "machines%s", srv->name, srv->have_token ? "" :
		    " and takes no token");
	return 0;
}

int
mode_serve(const struct serve_options *so)
{
	struct server srv;
	struct failure tf;
	char err[300];
	size_t i;
	int rc = EXIT_OK;

	memset(&srv, 0, sizeof(srv));
	srv.so = so;
	srv.lfd = -1;
	if (so->syslog)
		log_to_syslog();
	for (i = 0; i < so->nallow; i++)
		if (allow_add(&srv.allow, so->allow[i], err, sizeof(err)) ==
		    -1) {
			log_error("--allow: %s", err);
			rc = EXIT_USAGE;
			goto out;
		}
	if (so->token_file != NULL) {
		if (token_read(so->token_file, srv.token, &srv.toklen, 16,
		    &tf) == -1) {
			log_error("%s", tf.msg);
			rc = EXIT_USAGE;
			goto out;
		}
		srv.have_token = true;
	}
	if ((so->allow_file != NULL && read_allow_file(&srv, so->allow_file)
	    == -1) || nonce_cache_init(&srv.nonces, NONCES_MAX) == -1 ||
	    serve_listen(&srv) == -1) {
		rc = EXIT_USAGE;
		goto out;
	}
	if (srv.allow.n == 0)
		log_warnx("warning: no --allow rules: every target will be "
		    "refused with 403");
	srv.nofile = loop_raise_nofile();
	if ((srv.loop = loop_new()) == NULL ||
	    loop_add(srv.loop, &listener_ops, &srv) == -1 ||
	    loop_catch(srv.loop, SIGTERM) == -1 ||
	    loop_catch(srv.loop, SIGINT) == -1) {
		log_error("cannot start: %s", strerror(errno));
		rc = EXIT_IO;
		goto out;
	}
	(void)signal(SIGHUP, SIG_IGN);
	log_notice("serving on %s%s", srv.name, srv.have_token ?
	    " (token required)" : "");
	for (;;) {
		if (loop_once(srv.loop) == -1) {
			log_error("poll: %s", strerror(errno));
			rc = EXIT_IO;
			break;
		}
		trim_memory(&srv.trim);
		if (loop_caught(srv.loop, SIGTERM) ||
		    loop_caught(srv.loop, SIGINT)) {
			log_notice("stopping: %zu connections, %zu sessions",
			    srv.nconns, srv.nsessions);
			break;
		}
	}
out:
	while (srv.conns != NULL)
		conn_end(srv.conns, "culvert serve stopped");
	while (srv.sessions != NULL) {
		struct session *s = srv.sessions;

		s->refs = 1;
		session_end(s, "culvert serve stopped");
	}
	if (srv.lfd != -1)
		close(srv.lfd);
	loop_free(srv.loop);
	allow_free(&srv.allow);
	nonce_cache_free(&srv.nonces);
	wipe(srv.token, sizeof(srv.token));
	return rc;
}
