/*
 * listen.c: culvert -L / -D / -c: listen on local ports and carry each
 * accepted connection through the proxy, all in one process and one
 * event loop (io/loop.h).
 *
 * A connection goes through these states:
 *
 *	C_REQUEST	-D only: reading the client's SOCKS or CONNECT request
 *	C_TUNNEL	the tunnel state machine opens the way
 *	C_REPLY		-D only: the client hears the outcome in its protocol
 *	C_RELAY		bytes flow both ways, half-closes included
 *	C_SESSION	instead of C_TUNNEL to C_RELAY: a session of culvert
 *			serve carries the connection (via tunnel+http://)
 *
 * The configuration (flags and -c FILE) is reloaded on SIGHUP and when the
 * file changes: listeners on the same address and port take the new
 * settings in place, new ones start, removed ones stop listening; open
 * connections keep what they started with (they hold references).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/config.h"
#include "cli/token.h"
#include "io/child.h"
#include "io/loop.h"
#include "io/net.h"
#include "io/relay.h"
#include "io/tunnel.h"
#include "mode/mode.h"
#include "proto/front.h"
#include "route/noproxy.h"
#include "route/proxyenv.h"
#include "util/log.h"

#define REQUEST_TIMEOUT_MS	10000	/* a -D client's request, a reply */
#define ACCEPT_BATCH		64	/* connections accepted per round */
#define BACKOFF_MIN_MS		100	/* after EMFILE and the like */
#define BACKOFF_MAX_MS		2000
#define CONFIG_CHECK_MS		1000	/* the file is looked at this often */
#define RETRY_MS		60000	/* a failed fallback is skipped */
#define DRAIN_MS		5000	/* SIGTERM: open connections finish */
#define PRE_MAX			4096	/* a client's bytes before its tunnel */
#define LISTEN_BUFSIZE		(16 * 1024)	/* memory path, per direction */
#define FDS_PER_TUNNEL		6	/* two sockets, two splice pipes */

enum cstate { C_REQUEST, C_TUNNEL, C_REPLY, C_RELAY, C_SESSION };

struct server;

/* A listening socket and what its connections get. */
struct listener {
	unsigned	 refs;		/* the server's, and each connection's */
	struct server	*srv;
	struct lspec	 spec;
	struct route	*route;		/* the proxies, or a direct route */
	struct route	*direct;	/* for NO_PROXY matches */
	char		*noproxy;	/* the list in force, or NULL */
	double		 timeout;
	struct cidr	 allow[CONFIG_ALLOW_MAX];
	size_t		 nallow;
	const char	*tunnel;	/* culvert serve's URL, or NULL */
	int		 fd;
	char		 name[400];	/* for the log */
	long long	 paused_until;	/* accept errors back off */
	unsigned	 backoff_ms;
};

struct conn {
	struct conn	*next, *prev;	/* the server's list */
	struct server	*srv;
	struct listener	*l;		/* a reference */
	unsigned long	 id;
	char		 prefix[24];	/* "[12] " */
	int		 fd;
	char		 peer[INET6_ADDRSTRLEN + 8];
	enum cstate	 state;
	struct front	*front;		/* -D */
	unsigned char	*pre;		/* client bytes not yet consumed */
	size_t		 prelen;
	size_t		 sent;		/* of the front's reply */
	bool		 rejected;	/* close once the reply is out */
	struct target	 target;
	struct tunnel	*t;
	struct transport tr;
	bool		 have_tr;
	struct relay	 r;
	bool		 relay_live;
	struct tclient	*tc;		/* C_SESSION */
	bool		 replied;	/* -D: the client heard the outcome */
	long long	 start_ms;
	long long	 deadline;
};

struct server {
	struct options	*o;
	struct loop	*loop;
	struct listener	*l[CONFIG_LISTEN_MAX];
	size_t		 nl;
	struct lconfig	*cmdline;	/* listeners from -L and -D */
	struct conn	*conns;
	size_t		 nconns;
	unsigned long	 next_id;
	long		 nofile;
	unsigned char	 token[1024];	/* for culvert serve, if any */
	size_t		 toklen;
	struct stat	 st;		/* of the configuration file */
	long long	 next_check;
	bool		 stopping;
	long long	 stop_at;
	struct trim	 trim;
};

static void	conn_close(struct conn *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static void
listener_unref(struct listener *l)
{
	if (l == NULL || --l->refs > 0)
		return;
	if (l->fd != -1)
		close(l->fd);
	route_unref(l->route);
	route_unref(l->direct);
	free(l->noproxy);
	free(l->spec.proxy);
	free(l->spec.noproxy);
	free(l->spec.tunnel);
	free(l);
}

/* Stop listening; connections keep the listener until they end. */
static void
listener_stop(struct listener *l)
{
	loop_remove(l->srv->loop, l);
	if (l->fd != -1) {
		close(l->fd);
		l->fd = -1;
	}
	listener_unref(l);
}

/* -- connections -------------------------------------------------- */

/* How long a -D client has to send its request. */
static long long
request_ms(const struct listener *l)
{
	if (l->timeout > 0 && l->timeout * 1000 < REQUEST_TIMEOUT_MS)
		return (long long)(l->timeout * 1000);
	return REQUEST_TIMEOUT_MS;
}

static void
conn_free(struct conn *c)
{
	struct server *srv = c->srv;

	if (c->relay_live)
		relay_free(&c->r);
	tclient_free(c->tc);
	if (c->have_tr)
		transport_close(&c->tr);
	tunnel_free(c->t);
	if (c->front != NULL) {
		front_free(c->front);
		free(c->front);
	}
	free(c->pre);
	if (c->fd != -1)
		close(c->fd);
	loop_remove(srv->loop, c);
	srv->trim.pending = true;
	listener_unref(c->l);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	free(c);
	srv->nconns--;
}

static void
conn_close(struct conn *c, const char *fmt, ...)
{
	char why[600];
	va_list ap;
	double secs = (double)(clock_ms() - c->start_ms) / 1000.0;

	va_start(ap, fmt);
	(void)vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (c->relay_live)
		log_notice("%sclosed after %.1f s: %llu bytes up, %llu down "
		    "(%s)", c->prefix, secs, c->r.up.total, c->r.down.total,
		    why);
	else if (c->tc != NULL) {
		unsigned long long up, down;

		tclient_counts(c->tc, &up, &down);
		log_notice("%sclosed after %.1f s: %llu bytes up, %llu down "
		    "(%s)", c->prefix, secs, up, down, why);
	} else
		log_notice("%sclosed after %.1f s: %s", c->prefix, secs, why);
	conn_free(c);
}

/*
 * The client has its answer: the request reader is no longer needed.
 * A thousand tunnels keep a thousand of these otherwise.
 */
static void
drop_front(struct conn *c)
{
	if (c->front == NULL)
		return;
	front_free(c->front);
	free(c->front);
	c->front = NULL;
}

/* Send what is left of the front's reply; 1 done, 0 later, -1 failed. */
static int
send_reply(struct conn *c)
{
	while (c->sent < c->front->outlen) {
		ssize_t n = send(c->fd, c->front->out + c->sent,
		    c->front->outlen - c->sent, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n > 0) {
			c->sent += (size_t)n;
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR))
			return 0;
		return -1;
	}
	return 1;
}

static void
start_relay(struct conn *c)
{
	struct server *srv = c->srv;
	struct relay_config rc;

	memset(&rc, 0, sizeof(rc));
	rc.bufsize = LISTEN_BUFSIZE;
	rc.pipe_size = relay_pipe_budget(srv->nconns);
	/* Splice pipes cost four descriptors: only while there are plenty. */
	rc.splice = !srv->o->no_splice &&
	    (long)(srv->nconns + 16) * FDS_PER_TUNNEL < srv->nofile;
	rc.both_ways = true;
	rc.first = c->tr.buf;
	rc.firstlen = transport_pending(&c->tr);
	rc.up_first = c->pre;
	rc.up_firstlen = c->prelen;
	rc.aux = c->tr.child.err;
	rc.aux_read = NULL;
	if (relay_init(&c->r, c->fd, c->fd, c->tr.rfd, c->tr.wfd, &rc) == -1) {
		conn_close(c, "out of memory");
		return;
	}
	free(c->pre);
	c->pre = NULL;
	c->prelen = 0;
	drop_front(c);
	c->relay_live = true;
	c->state = C_RELAY;
}

static void
tunnel_up(struct conn *c)
{
	c->srv->trim.pending = true;	/* the handshake's memory is free */
	tunnel_take(c->t, &c->tr);
	c->have_tr = true;
	tunnel_free(c->t);
	c->t = NULL;
	log_info("%stunnel is up", c->prefix);
	if (c->front == NULL) {
		start_relay(c);
		return;
	}
	front_reply_ok(c->front);
	c->sent = 0;
	c->state = C_REPLY;
	c->deadline = clock_ms() + REQUEST_TIMEOUT_MS;
	switch (send_reply(c)) {
	case 1:
		start_relay(c);
		break;
	case -1:
		conn_close(c, "client went away before the reply");
		break;
	}
}

static void
tunnel_failed(struct conn *c)
{
	const struct failure *f = tunnel_failure(c->t);

	if (c->front == NULL) {
		conn_close(c, "%s", f->msg);
		return;
	}
	front_reply_fail(c->front, f);
	log_notice("%s%s (told the client %s %d)", c->prefix, f->msg,
	    c->front->kind == FRONT_HTTP ? "HTTP" : c->front->kind ==
	    FRONT_SOCKS5 ? "SOCKS5 reply" : "SOCKS4 reply",
	    c->front->kind == FRONT_HTTP ? front_http_status(f) :
	    c->front->kind == FRONT_SOCKS5 ? (int)front_socks5_code(f) : 0x5b);
	tunnel_free(c->t);
	c->t = NULL;
	c->rejected = true;
	c->sent = 0;
	c->state = C_REPLY;
	c->deadline = clock_ms() + REQUEST_TIMEOUT_MS;
	if (send_reply(c) != 0)
		conn_close(c, "upstream failed");
}

/* Run the tunnel machine on poll()'s answer and act on its outcome. */
static void
tunnel_step(struct conn *c, const struct pollfd *pfd, size_t n)
{
	switch (tunnel_events(c->t, pfd, n)) {
	case TUNNEL_UP:
		tunnel_up(c);
		break;
	case TUNNEL_FAILED:
		tunnel_failed(c);
		break;
	case TUNNEL_BUSY:
		break;
	}
}

static void
bad_entry(const char *entry, void *arg)
{
	(void)entry;
	(void)arg;
}

/* Tell a -D client how opening its session went. */
static void
session_reply(struct conn *c, const struct failure *f)
{
	c->replied = true;
	if (f != NULL)
		front_reply_fail(c->front, f);
	else
		front_reply_ok(c->front);
	c->sent = 0;
	if (send_reply(c) != 1)
		conn_close(c, "%s", f != NULL ? f->msg : "the client does not "
		    "take its reply");
	else if (f != NULL)
		conn_close(c, "%s", f->msg);
	else {
		tclient_release(c->tc);
		drop_front(c);
	}
}

/* The route goes through culvert serve: a session carries the client. */
static void
open_session(struct conn *c, struct route *r)
{
	struct server *srv = c->srv;
	struct options *o = srv->o;
	struct tclient_params p;
	struct failure f;

	memset(&p, 0, sizeof(p));
	p.route = r;
	p.url = c->l->tunnel;
	p.target = &c->target;
	memcpy(p.token, srv->token, srv->toklen);
	p.toklen = srv->toklen;
	p.in_fd = p.out_fd = c->fd;
	p.sock_io = true;
	p.both_ways = true;
	p.hold = c->front != NULL;
	p.shutdown = true;
	p.keepalive = o->keepalive;
	p.resume_timeout = o->resume_timeout;
	p.transport = o->tunnel_transport;
	p.prefix = c->prefix;
	c->tc = tclient_new(&p, &f);
	memset(p.token, 0, sizeof(p.token));
	if (c->tc == NULL) {
		conn_close(c, "%s", f.msg);
		return;
	}
	c->state = C_SESSION;
	c->replied = c->front == NULL;
}

/* The target is known: open its tunnel. */
static void
open_tunnel(struct conn *c)
{
	struct listener *l = c->l;
	struct route *r = l->route;
	struct deadline d;
	char shown[300], via[340];

	if (l->spec.kind == LISTEN_DYNAMIC && l->noproxy != NULL &&
	    noproxy_match(l->noproxy, c->target.host, c->target.port,
	    bad_entry, NULL))
		r = l->direct;
	target_format(c->target.host, c->target.port, shown, sizeof(shown));
	if (l->tunnel != NULL)
		snprintf(via, sizeof(via), "through culvert serve at %s%s%s",
		    l->tunnel, r->nhops > 0 ? " via " : "", r->nhops > 0 ?
		    route_alt_name(&r->hop[0].alt[0]) : "");
	else if (r->nhops == 0)
		snprintf(via, sizeof(via), "directly");
	else
		snprintf(via, sizeof(via), "via %s%s", route_alt_name(
		    &r->hop[0].alt[0]), r->nhops > 1 || r->hop[0].nalt > 1 ?
		    " and more" : "");
	if (c->front != NULL)
		log_notice("%s%s -> %s (%s) to %s %s", c->prefix, c->peer,
		    l->name, front_kind_name(c->front->kind), shown, via);
	else
		log_notice("%s%s -> %s %s", c->prefix, c->peer, l->name, via);
	if (l->tunnel != NULL) {
		open_session(c, r);
		return;
	}
	deadline_set(&d, l->timeout);
	if ((c->t = tunnel_new(r, &c->target, &d, mode_log_event, c->prefix))
	    == NULL) {
		conn_close(c, "out of memory");
		return;
	}
	c->state = C_TUNNEL;
	tunnel_step(c, NULL, 0);
}

/* Read the client's request (-D). */
static void
read_request(struct conn *c)
{
	enum front_step s;
	ssize_t n;
	size_t used;
	bool eof = false;

	if (c->pre == NULL && (c->pre = malloc(PRE_MAX)) == NULL) {
		conn_close(c, "out of memory");
		return;
	}
	n = recv(c->fd, c->pre + c->prelen, PRE_MAX - c->prelen, MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;
	if (n <= 0)
		eof = true;
	else
		c->prelen += (size_t)n;
	for (;;) {
		s = front_input(c->front, c->pre, c->prelen, eof, &used);
		memmove(c->pre, c->pre + used, c->prelen - used);
		c->prelen -= used;
		switch (s) {
		case FRONT_NEED:
			if (c->prelen == PRE_MAX) {
				conn_close(c, "request too large");
				return;
			}
			if (eof)
				conn_close(c, "client closed");
			return;
		case FRONT_SEND:
			c->sent = 0;
			if (send_reply(c) != 1) {
				conn_close(c, "client does not take the reply");
				return;
			}
			continue;
		case FRONT_REQUEST:
			c->target = c->front->target;
			open_tunnel(c);
			return;
		case FRONT_REJECT:
			log_notice("%s%s: refused: %s", c->prefix, c->peer,
			    c->front->reason);
			c->rejected = true;
			c->sent = 0;
			c->state = C_REPLY;
			if (send_reply(c) != 0)
				conn_close(c, "%s", c->front->reason);
			return;
		}
	}
}

static size_t
conn_pollfds(void *obj, struct pollfd *pfd)
{
	struct conn *c = obj;

	switch (c->state) {
	case C_REQUEST:
		return pollfd_set(pfd, c->fd, POLLIN);
	case C_TUNNEL:
		return tunnel_pollfds(c->t, pfd);
	case C_REPLY:
		return pollfd_set(pfd, c->fd, POLLOUT);
	case C_RELAY:
		return relay_pollfds(&c->r, pfd);
	case C_SESSION:
		return tclient_pollfds(c->tc, pfd);
	}
	return 0;
}

static long long
conn_timer(void *obj)
{
	struct conn *c = obj;

	switch (c->state) {
	case C_REQUEST:
	case C_REPLY:
		return c->deadline;
	case C_TUNNEL:
		return tunnel_timer(c->t);
	case C_SESSION:
		return tclient_timer(c->tc);
	default:
		return CLOCK_NEVER;
	}
}

static void
conn_events(void *obj, const struct pollfd *pfd, size_t n)
{
	struct conn *c = obj;
	int rc;

	switch (c->state) {
	case C_REQUEST:
		if (n > 0 && pfd[0].revents != 0)
			read_request(c);
		else if (clock_ms() >= c->deadline)
			conn_close(c, "no request within %lld ms",
			    request_ms(c->l));
		return;
	case C_TUNNEL:
		tunnel_step(c, pfd, n);
		return;
	case C_REPLY:
		if (clock_ms() >= c->deadline) {
			conn_close(c, "client does not read its reply");
			return;
		}
		if ((rc = send_reply(c)) == -1)
			conn_close(c, "client went away before the reply");
		else if (rc == 1 && c->rejected)
			conn_close(c, "refused");
		else if (rc == 1)
			start_relay(c);
		return;
	case C_RELAY:
		rc = relay_events(&c->r, pfd);
		if (rc == 0)
			conn_close(c, "done");
		else if (rc == -1)
			conn_close(c, "%s: %s", c->r.errwhat,
			    strerror(c->r.err));
		return;
	case C_SESSION:
		rc = tclient_events(c->tc, pfd, n);
		if (!c->replied && (rc == -1 || tclient_opened(c->tc)))
			session_reply(c, rc == -1 ? tclient_failure(c->tc) :
			    NULL);
		else if (rc == 0)
			conn_close(c, "done");
		else if (rc == -1)
			conn_close(c, "%s", tclient_failure(c->tc)->msg);
		return;
	}
}

static const struct loop_ops conn_ops = {
	conn_pollfds, conn_timer, conn_events
};

/* -- listeners ---------------------------------------------------- */

static bool
allowed(const struct listener *l, const struct sockaddr *sa)
{
	size_t i;

	for (i = 0; i < l->nallow; i++)
		if (cidr_match(&l->allow[i], sa))
			return true;
	return false;
}

static void
format_peer(const struct sockaddr_storage *ss, socklen_t len, char *buf,
    size_t buflen)
{
	char host[INET6_ADDRSTRLEN], port[8];

	if (getnameinfo((const struct sockaddr *)ss, len, host, sizeof(host),
	    port, sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0 ||
	    snprintf(buf, buflen, strchr(host, ':') != NULL ? "[%s]:%s" :
	    "%s:%s", host, port) < 0)
		snprintf(buf, buflen, "?");
}

static void
accept_one(struct listener *l, int fd, const struct sockaddr_storage *ss,
    socklen_t len)
{
	struct server *srv = l->srv;
	struct conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_error("out of memory: dropping a connection to %s",
		    l->name);
		close(fd);
		return;
	}
	c->srv = srv;
	c->l = l;
	l->refs++;
	c->fd = fd;
	c->id = ++srv->next_id;
	snprintf(c->prefix, sizeof(c->prefix), "[%lu] ", c->id);
	format_peer(ss, len, c->peer, sizeof(c->peer));
	c->start_ms = clock_ms();
	c->tr.rfd = c->tr.wfd = -1;
	c->next = srv->conns;
	if (srv->conns != NULL)
		srv->conns->prev = c;
	srv->conns = c;
	srv->nconns++;
	if (loop_add(srv->loop, &conn_ops, c) == -1) {
		conn_close(c, "out of memory");
		return;
	}
	if (l->spec.kind == LISTEN_FORWARD) {
		c->target = l->spec.target;
		open_tunnel(c);
		return;
	}
	if ((c->front = malloc(sizeof(*c->front))) == NULL) {
		conn_close(c, "out of memory");
		return;
	}
	front_init(c->front, FRONT_ALLOW_ALL);
	c->state = C_REQUEST;
	c->deadline = clock_ms() + request_ms(l);
}

static size_t
listener_pollfds(void *obj, struct pollfd *pfd)
{
	struct listener *l = obj;

	if (l->fd == -1 || l->paused_until > clock_ms())
		return 0;
	return pollfd_set(pfd, l->fd, POLLIN);
}

static long long
listener_timer(void *obj)
{
	struct listener *l = obj;

	return l->paused_until > clock_ms() ? l->paused_until : CLOCK_NEVER;
}

static void
listener_events(void *obj, const struct pollfd *pfd, size_t n)
{
	struct listener *l = obj;
	int i;

	(void)pfd;
	if (n == 0)
		return;		/* a pause ended */
	for (i = 0; i < ACCEPT_BATCH; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		char peer[INET6_ADDRSTRLEN + 8];
		int fd = accept(l->fd, (struct sockaddr *)&ss, &len);

		if (fd == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR || errno == ECONNABORTED)
				break;
			/* EMFILE and the like: wait, never spin. */
			l->backoff_ms = l->backoff_ms == 0 ? BACKOFF_MIN_MS :
			    l->backoff_ms * 2 > BACKOFF_MAX_MS ?
			    BACKOFF_MAX_MS : l->backoff_ms * 2;
			l->paused_until = clock_ms() + l->backoff_ms;
			log_error("%s: accept: %s; pausing %u ms", l->name,
			    strerror(errno), l->backoff_ms);
			return;
		}
		l->backoff_ms = 0;
		if (net_own_fd(fd) == -1) {
			close(fd);
			continue;
		}
		net_nodelay(fd);
		if (!allowed(l, (struct sockaddr *)&ss)) {
			format_peer(&ss, len, peer, sizeof(peer));
			log_notice("%s: refused a connection from %s: not in "
			    "--allow-from", l->name, peer);
			close(fd);
			continue;
		}
		accept_one(l, fd, &ss, len);
	}
}

static const struct loop_ops listener_ops = {
	listener_pollfds, listener_timer, listener_events
};

/* Open l's socket; -1 with a message logged. */
static int
listener_bind(struct listener *l)
{
	int fd;

	if ((fd = net_listen(l->spec.bind, l->spec.port)) == -1) {
		log_error("cannot listen on %s: %s%s", l->name,
		    strerror(errno), errno == EADDRINUSE ? " (another program "
		    "uses the port; pick another)" : "");
		return -1;
	}
	l->fd = fd;
	if (!config_bind_loopback(l->spec.bind))
		log_warnx("warning: %s is reachable from other machines; "
		    "clients are limited to %s", l->name, l->spec.nallow > 0 ||
		    l->srv->o->nallow_from > 0 ? "--allow-from" :
		    "loopback (add --allow-from to serve others)");
	return 0;
}

/*
 * The routes of a listener: its proxies (or direct), credentials
 * gathered, and a direct route for NO_PROXY matches.  prompt: may ask on
 * the terminal (at start, not on a reload).
 */
static int
listener_routes(struct listener *l, bool prompt)
{
	struct options *o = l->srv->o;
	struct route_origin origin;
	struct failure f;

	if (l->tunnel != NULL && l->spec.proxy == NULL && o->nproxy == 0 &&
	    proxyenv_proxy(NULL) == NULL)
		l->route = route_new();	/* straight to culvert serve */
	else if ((l->route = mode_route_build(o, l->spec.proxy, &origin, &f))
	    != NULL && mode_route_creds(o, l->route, &origin, prompt, &f) ==
	    -1) {
		route_unref(l->route);
		l->route = NULL;
	}
	if (l->route == NULL) {
		if (l->spec.line > 0)
			log_error("%s:%u: %s: %s", o->config, l->spec.line,
			    l->name, f.msg);
		else
			log_error("%s: %s", l->name, f.msg);
		return -1;
	}
	l->route->retry_ms = l->spec.retry >= 0 ?
	    (long long)(l->spec.retry * 1000) : RETRY_MS;
	if ((l->direct = route_new()) == NULL)
		return -1;
	l->direct->family = o->family;
	if (l->spec.kind == LISTEN_FORWARD && l->noproxy != NULL &&
	    noproxy_match(l->noproxy, l->spec.target.host,
	    l->spec.target.port, bad_entry, NULL)) {
		route_unref(l->route);
		l->route = route_ref(l->direct);
	}
	return 0;
}

static void
listener_name(struct listener *l)
{
	char bind[300], target[300];

	target_format(l->spec.bind, l->spec.port, bind, sizeof(bind));
	if (l->spec.kind == LISTEN_FORWARD) {
		target_format(l->spec.target.host, l->spec.target.port, target,
		    sizeof(target));
		if (snprintf(l->name, sizeof(l->name), "forward %s to %s",
		    bind, target) < 0)
			l->name[0] = '\0';
	} else if (snprintf(l->name, sizeof(l->name), "socks %s", bind) < 0)
		l->name[0] = '\0';
}

/* A listener for spec with the command line's defaults filled in. */
static struct listener *
listener_new(struct server *srv, const struct lspec *spec, bool prompt)
{
	struct options *o = srv->o;
	struct listener *l;
	const char *np;
	char err[256];
	size_t i;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	l->refs = 1;
	l->srv = srv;
	l->fd = -1;
	l->spec = *spec;
	l->spec.proxy = spec->proxy != NULL ? strdup(spec->proxy) : NULL;
	l->spec.noproxy = spec->noproxy != NULL ? strdup(spec->noproxy) : NULL;
	l->spec.tunnel = spec->tunnel != NULL ? strdup(spec->tunnel) : NULL;
	l->tunnel = l->spec.tunnel != NULL ? l->spec.tunnel : o->tunnel;
	listener_name(l);
	l->timeout = spec->timeout >= 0 ? spec->timeout : o->timeout;
	np = spec->noproxy != NULL ? spec->noproxy :
	    proxyenv_noproxy(o->no_proxy, NULL);
	if (np != NULL)
		l->noproxy = strdup(np);
	if (spec->nallow > 0) {
		memcpy(l->allow, spec->allow, sizeof(l->allow));
		l->nallow = spec->nallow;
	} else if (o->nallow_from > 0) {
		for (i = 0; i < o->nallow_from; i++)
			if (cidr_parse(o->allow_from[i], &l->allow[i], err,
			    sizeof(err)) == 0)
				l->nallow++;
	} else {
		cidr_loopback(l->allow);
		l->nallow = 2;
	}
	if (listener_routes(l, prompt) == -1) {
		listener_unref(l);
		return NULL;
	}
	return l;
}

/* -- configuration ------------------------------------------------ */

/*
 * Build the listeners of the flags and the file.  0 with *out filled, or
 * -1 with the error logged (nothing changes).
 */
static int
read_config(struct server *srv, struct lconfig *out)
{
	char err[600];
	size_t i;

	if (srv->o->config != NULL) {
		if (config_load(srv->o->config, out, err, sizeof(err)) == -1) {
			log_error("%s", err);
			return -1;
		}
	} else
		memset(out, 0, sizeof(*out));
	for (i = 0; i < srv->cmdline->n; i++) {
		struct lspec s = srv->cmdline->spec[i];

		s.proxy = NULL;
		s.noproxy = NULL;
		if (config_add(out, &s, err, sizeof(err)) == -1) {
			log_error("%s", err);
			config_free(out);
			return -1;
		}
	}
	return 0;
}

static struct listener *
find_listener(struct server *srv, const struct lspec *s)
{
	size_t i;

	for (i = 0; i < srv->nl; i++)
		if (config_same_bind(&srv->l[i]->spec, s))
			return srv->l[i];
	return NULL;
}

static bool
spec_equal(const struct lspec *a, const struct lspec *b)
{
	return a->kind == b->kind && a->port == b->port &&
	    strcmp(a->bind, b->bind) == 0 &&
	    strcmp(a->target.host, b->target.host) == 0 &&
	    a->target.port == b->target.port && a->timeout == b->timeout &&
	    a->nallow == b->nallow && memcmp(a->allow, b->allow,
	    a->nallow * sizeof(a->allow[0])) == 0 &&
	    ((a->proxy == NULL && b->proxy == NULL) || (a->proxy != NULL &&
	    b->proxy != NULL && strcmp(a->proxy, b->proxy) == 0)) &&
	    ((a->noproxy == NULL && b->noproxy == NULL) ||
	    (a->noproxy != NULL && b->noproxy != NULL &&
	    strcmp(a->noproxy, b->noproxy) == 0)) &&
	    ((a->tunnel == NULL && b->tunnel == NULL) ||
	    (a->tunnel != NULL && b->tunnel != NULL &&
	    strcmp(a->tunnel, b->tunnel) == 0));
}

/*
 * Apply a configuration.  Listeners on an unchanged address keep their
 * socket (so a reload never drops a queued connection); new ones bind;
 * removed ones stop.  first: at start, where a failure is fatal.
 */
static int
apply_config(struct server *srv, struct lconfig *c, bool first)
{
	struct listener *next[CONFIG_LISTEN_MAX] = { NULL }, *old;
	size_t i, j, n = 0, added = 0, changed = 0, removed = 0, failed = 0;

	for (i = 0; i < c->n; i++) {
		struct listener *l;

		old = find_listener(srv, &c->spec[i]);
		if (old != NULL && spec_equal(&old->spec, &c->spec[i])) {
			old->refs++;
			next[n++] = old;
			continue;
		}
		if ((l = listener_new(srv, &c->spec[i], first)) == NULL) {
			failed++;
			if (old != NULL) {
				old->refs++;	/* keep the running one */
				next[n++] = old;
			}
			continue;
		}
		if (old != NULL) {
			/* Same address: take over the socket. */
			l->fd = old->fd;
			old->fd = -1;
			changed++;
		} else if (listener_bind(l) == -1) {
			failed++;
			listener_unref(l);
			continue;
		} else
			added++;
		if (loop_add(srv->loop, &listener_ops, l) == -1) {
			listener_unref(l);
			failed++;
			continue;
		}
		if (!first)
			log_notice("listening: %s", l->name);
		next[n++] = l;
	}
	if (first && failed > 0) {
		for (i = 0; i < n; i++)
			listener_stop(next[i]);
		return -1;
	}
	for (i = 0; i < srv->nl; i++) {
		bool kept = false;

		for (j = 0; j < n; j++)
			kept |= next[j] == srv->l[i];
		if (!kept) {
			if (srv->l[i]->fd != -1) {
				log_notice("stopped listening: %s",
				    srv->l[i]->name);
				removed++;
			}
			listener_stop(srv->l[i]);
		} else
			listener_unref(srv->l[i]);	/* next holds it */
	}
	memcpy(srv->l, next, n * sizeof(next[0]));
	srv->nl = n;
	if (!first)
		log_notice("reloaded %s: %zu listeners (%zu added, %zu changed, "
		    "%zu removed%s)", srv->o->config != NULL ? srv->o->config :
		    "the configuration", n, added, changed, removed, failed > 0 ?
		    ", some failed: see above" : "");
	return 0;
}

static void
reload(struct server *srv)
{
	struct lconfig *c = malloc(sizeof(*c));

	if (c == NULL) {
		log_error("reload: out of memory");
		return;
	}
	if (read_config(srv, c) == 0) {
		(void)apply_config(srv, c, false);
		config_free(c);
	} else
		log_error("kept the running configuration");
	free(c);
}

/* Has the configuration file changed since we last read it? */
static bool
config_changed(struct server *srv)
{
	struct stat st;

	if (srv->o->config == NULL || stat(srv->o->config, &st) == -1)
		return false;
	if (st.st_mtime == srv->st.st_mtime && st.st_size == srv->st.st_size &&
	    st.st_ino == srv->st.st_ino && st.st_ctime == srv->st.st_ctime
#if defined(__linux__)
	    && st.st_mtim.tv_nsec == srv->st.st_mtim.tv_nsec
#endif
	    )
		return false;
	srv->st = st;
	return true;
}

/* The configuration file's watch: a member with a timer only. */
static size_t
watch_pollfds(void *obj, struct pollfd *pfd)
{
	(void)obj;
	(void)pfd;
	return 0;
}

static long long
watch_timer(void *obj)
{
	struct server *srv = obj;

	return timer_min(trim_timer(&srv->trim), srv->o->config != NULL &&
	    !srv->stopping ? srv->next_check : CLOCK_NEVER);
}

static void
watch_events(void *obj, const struct pollfd *pfd, size_t n)
{
	(void)obj;
	(void)pfd;
	(void)n;	/* mode_listen() looks at the file after each round */
}

static const struct loop_ops watch_ops = {
	watch_pollfds, watch_timer, watch_events
};

/* -- the command line ---------------------------------------------- */

static int
cmdline_specs(struct server *srv)
{
	struct options *o = srv->o;
	struct lspec s;
	char err[300];
	size_t i;

	for (i = 0; i < o->nlisten + o->ndynamic; i++) {
		bool fwd = i < o->nlisten;
		const char *arg = fwd ? o->listen[i] : o->dynamic[i - o->nlisten];

		memset(&s, 0, sizeof(s));
		s.kind = fwd ? LISTEN_FORWARD : LISTEN_DYNAMIC;
		s.timeout = -1;
		s.retry = -1;
		if (config_parse_bind(arg, s.bind, sizeof(s.bind), &s.port, err,
		    sizeof(err)) == -1) {
			log_error("-%c %s", fwd ? 'L' : 'D', err);
			return -1;
		}
		if (fwd && target_parse(&s.target, o->host, o->port, err,
		    sizeof(err)) == -1) {
			log_error("%s", err);
			return -1;
		}
		if (config_add(srv->cmdline, &s, err, sizeof(err)) == -1) {
			log_error("%s", err);
			return -1;
		}
	}
	for (i = 0; i < o->nallow_from; i++) {
		struct cidr c;

		if (cidr_parse(o->allow_from[i], &c, err, sizeof(err)) == -1) {
			log_error("--allow-from: %s", err);
			return -1;
		}
	}
	return 0;
}

static void
reap_children(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

int
mode_listen(struct options *o)
{
	struct server srv;
	struct lconfig *c;
	size_t i;
	int rc = EXIT_OK;

	memset(&srv, 0, sizeof(srv));
	srv.o = o;
	if (o->syslog)
		log_to_syslog();
	srv.nofile = loop_raise_nofile();
	{
		const char *tf = o->token_file != NULL ? o->token_file :
		    getenv("CULVERT_TOKEN_FILE");
		struct failure f;

		if (tf != NULL && *tf != '\0' && token_read(tf, srv.token,
		    &srv.toklen, 1, &f) == -1) {
			log_error("%s", f.msg);
			return EXIT_USAGE;
		}
	}
	child_set_grace(0);	/* children are reaped on SIGCHLD */
	if ((srv.loop = loop_new()) == NULL ||
	    (srv.cmdline = calloc(1, sizeof(*srv.cmdline))) == NULL ||
	    (c = malloc(sizeof(*c))) == NULL) {
		log_error("out of memory");
		return EXIT_IO;
	}
	if (cmdline_specs(&srv) == -1 || read_config(&srv, c) == -1) {
		config_free(srv.cmdline);
		free(srv.cmdline);
		loop_free(srv.loop);
		free(c);
		return EXIT_USAGE;
	}
	if (o->config != NULL)
		(void)stat(o->config, &srv.st);
	if (apply_config(&srv, c, true) == -1) {
		config_free(c);
		free(c);
		config_free(srv.cmdline);
		free(srv.cmdline);
		loop_free(srv.loop);
		return EXIT_USAGE;
	}
	config_free(c);
	free(c);
	for (i = 0; i < srv.nl; i++)
		log_notice("listening: %s", srv.l[i]->name);
	if (loop_add(srv.loop, &watch_ops, &srv) == -1 ||
	    loop_catch(srv.loop, SIGHUP) == -1 ||
	    loop_catch(srv.loop, SIGTERM) == -1 ||
	    loop_catch(srv.loop, SIGINT) == -1 ||
	    loop_catch(srv.loop, SIGCHLD) == -1) {
		log_error("cannot catch signals: %s", strerror(errno));
		rc = EXIT_IO;
		goto out;
	}
	srv.next_check = clock_ms() + CONFIG_CHECK_MS;
	for (;;) {
		if (loop_once(srv.loop) == -1 && errno != EINTR) {
			log_error("poll: %s", strerror(errno));
			rc = EXIT_IO;
			break;
		}
		if (loop_caught(srv.loop, SIGCHLD))
			reap_children();
		trim_memory(&srv.trim);
		if (!srv.stopping && (loop_caught(srv.loop, SIGTERM) ||
		    loop_caught(srv.loop, SIGINT))) {
			log_notice("stopping: no new connections; %zu open ones "
			    "get %d s to finish", srv.nconns, DRAIN_MS / 1000);
			for (i = 0; i < srv.nl; i++)
				listener_stop(srv.l[i]);
			srv.nl = 0;
			srv.stopping = true;
			srv.stop_at = clock_ms() + DRAIN_MS;
		}
		if (srv.stopping && (srv.nconns == 0 ||
		    clock_ms() >= srv.stop_at))
			break;
		if (srv.stopping)
			continue;
		if (loop_caught(srv.loop, SIGHUP)) {
			log_notice("SIGHUP: reloading");
			reload(&srv);
		} else if (clock_ms() >= srv.next_check) {
			srv.next_check = clock_ms() + CONFIG_CHECK_MS;
			if (config_changed(&srv)) {
				log_notice("%s changed: reloading", o->config);
				reload(&srv);
			}
		}
	}
out:
	if (srv.nconns > 0)
		log_notice("closing %zu connections", srv.nconns);
	while (srv.conns != NULL)
		conn_close(srv.conns, "culvert stopped");
	for (i = 0; i < srv.nl; i++)
		listener_stop(srv.l[i]);
	config_free(srv.cmdline);
	free(srv.cmdline);
	loop_free(srv.loop);
	memset(srv.token, 0, sizeof(srv.token));
	return rc;
}
