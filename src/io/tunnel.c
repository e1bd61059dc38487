/*
 * tunnel.c: the tunnel state machine (see tunnel.h).
 *
 * States, for the hop whose handshake runs (t->hop, 0-based):
 *
 *	T_RESOLVE	the first hop's name (or the target's, direct)
 *	T_CONNECT	attempts on its addresses
 *	T_NEXT		the next hop's name, for a SOCKS proxy that wants an
 *			address
 *	T_SEND		the engine's request is being written
 *	T_RECV		waiting for the proxy's answer
 *	T_UP, T_FAILED	the end
 *
 * Only the handshake in progress holds engine state; a hop's engine is
 * freed once its tunnel is up, and a reconnect replays the hops before
 * the one that asked for it with new engines.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/wipe.h"
#include "io/child.h"
#include "io/loop.h"
#include "io/net.h"
#include "io/resolve.h"
#include "io/tunnel.h"
#include "proto/handshake.h"

/* Each alternative's share when there is no deadline at all. */
#define SHARE_DEFAULT_MS	30000

enum tstate { T_RESOLVE, T_CONNECT, T_NEXT, T_SEND, T_RECV, T_UP, T_FAILED };

struct tunnel {
	struct route		*r;
	struct target		 target;
	struct deadline		 deadline;
	tunnel_event_fn		*event;
	void			*event_arg;
	enum tstate		 state;
	size_t			 alt[ROUTE_HOPS_MAX];	/* in use, per hop */
	long long		 share_at[ROUTE_HOPS_MAX]; /* alternative's end */
	size_t			 proven;	/* hops whose proxy answered */
	unsigned		 connects;	/* in this attempt */
	struct resolve		*res;
	struct addrinfo		*addrs;		/* of the first connection */
	struct connector	 conn;
	bool			 conn_live;
	long long		 step_ms;	/* when the step began */
	struct transport	 tr;
	bool			 have_tr;
	size_t			 hop;		/* whose handshake runs */
	struct hs_params	 p[ROUTE_HOPS_MAX];
	struct target		 next[ROUTE_HOPS_MAX];	/* each hop asks for */
	struct handshake	*h[ROUTE_HOPS_MAX];
	size_t			 sent;		/* of h[hop]->out */
	struct failure		 fail;
	char			 tried[512];	/* alternatives given up */
	size_t			 tried_hop;	/* whose they are */
	const char		*child_name;	/* "openssl", "the proxy command" */
	bool			 learned;	/* the route heard the outcome */
};

static void	first_connection(struct tunnel *);
static void	child_words(struct tunnel *);
static void	open_first(struct tunnel *);
static void	hop_begin(struct tunnel *);
static void	handle(struct tunnel *, enum step);

static enum tunnel_phase
phase(const struct tunnel *t)
{
	switch (t->state) {
	case T_RESOLVE:
		return TP_RESOLVE;
	case T_CONNECT:
		return TP_CONNECT;
	case T_NEXT:
		return TP_NEXT;
	case T_SEND:
		return TP_SEND;
	case T_RECV:
	case T_FAILED:
		return TP_RECV;
	case T_UP:
		break;
	}
	return TP_UP;
}

/* Report an event of hop k (0-based), in the step the tunnel is in. */
static void
emit_hop(struct tunnel *t, size_t k, enum tunnel_event_kind kind,
    const char *text, size_t len, int code, long long ms)
{
	struct tunnel_event ev;
	bool direct = t->r->nhops == 0 || t->r->hop[0].alt[t->alt[0]].direct;

	if (t->event == NULL)
		return;
	ev.kind = kind;
	ev.phase = phase(t);
	ev.hop = direct ? 0 : (unsigned)k + 1;
	ev.alt = direct && t->r->nhops == 0 ? 0 : (unsigned)t->alt[k];
	ev.hops = direct ? 0 : (unsigned)t->r->nhops;
	ev.text = text;
	ev.len = len;
	ev.code = code;
	ev.ms = ms;
	t->event(t->event_arg, &ev);
}

/* Report an event of the hop whose handshake runs. */
static void
emit(struct tunnel *t, enum tunnel_event_kind kind, const char *text,
    size_t len, int code, long long ms)
{
	emit_hop(t, t->hop, kind, text, len, code, ms);
}

static void stepf(struct tunnel *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
stepf(struct tunnel *t, const char *fmt, ...)
{
	char line[600];
	va_list ap;

	if (t->event == NULL)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	emit(t, TEV_STEP, line, strlen(line), 0, 0);
}

static const struct route_alt *
cur_alt(const struct tunnel *t, size_t k)
{
	return &t->r->hop[k].alt[t->alt[k]];
}

static bool
direct(const struct tunnel *t)
{
	return t->r->nhops == 0 || cur_alt(t, 0)->direct;
}

/* The first connection's peer: its name, port and what to call it. */
static void
first_peer(const struct tunnel *t, const char **host, unsigned *port,
    const char **what)
{
	if (direct(t)) {
		*host = t->target.host;
		*port = t->target.port;
		*what = "target";
	} else {
		*host = cur_alt(t, 0)->px.host;
		*port = cur_alt(t, 0)->px.port;
		*what = "proxy";
	}
}

/* Close the connection and every engine, keeping the route's choices. */
static void
drop_connection(struct tunnel *t)
{
	size_t k;

	if (t->res != NULL) {
		resolve_cancel(t->res);
		t->res = NULL;
	}
	if (t->conn_live) {
		connector_free(&t->conn);
		t->conn_live = false;
	}
	if (t->have_tr) {
		transport_close(&t->tr);
		t->have_tr = false;
	}
	for (k = 0; k < ROUTE_HOPS_MAX; k++)
		if (t->h[k] != NULL) {
			hs_free(t->h[k]);
			free(t->h[k]);
			t->h[k] = NULL;
		}
}

/* The end: report t->fail as TEV_FAILED of hop k, close everything. */
static void
failed_now(struct tunnel *t, size_t k)
{
	emit_hop(t, k, TEV_FAILED, t->fail.msg, strlen(t->fail.msg),
	    t->fail.http_status, 0);
	t->state = T_FAILED;
	drop_connection(t);
}

/* Append ", tried before: ..." when hop k's alternatives gave way. */
static void
add_tried(struct tunnel *t, size_t k)
{
	size_t used = strlen(t->fail.msg);

	if (t->tried[0] != '\0' && t->tried_hop == k)
		(void)snprintf(t->fail.msg + used, sizeof(t->fail.msg) - used,
		    "; tried before: %s", t->tried);
}

/*
 * Give up: f says why.  The message names the hop
 * when there is more than one, and the alternatives given up before.
 */
static void
finish_fail(struct tunnel *t, const struct failure *f, size_t k)
{
	struct failure in = *f;	/* f may be t->fail */
	char prefix[400];
	int n = 0;

	t->fail = in;
	if (t->r->nhops > 1 && !direct(t)) {
		n = snprintf(prefix, sizeof(prefix), "hop %zu (%s): ", k + 1,
		    route_alt_name(cur_alt(t, k)));
		t->fail.hop = (unsigned)k + 1;
	} else if (t->r->nhops == 1 && t->r->hop[0].nalt > 1)
		n = snprintf(prefix, sizeof(prefix), "%s: ",
		    route_alt_name(cur_alt(t, 0)));
	if (n > 0 && snprintf(t->fail.msg, sizeof(t->fail.msg), "%s%s",
	    prefix, in.msg) < 0)
		t->fail.msg[0] = '\0';
	if (t->have_tr && t->tr.child.pid > 0)
		child_words(t);
	if (k < t->r->nhops)
		add_tried(t, k);
	failed_now(t, k);
}

/*
 * A failure over a child's pipes: add how the child ended and its last
 * line on stderr, which say more than "the proxy closed the connection".
 */
static void
child_words(struct tunnel *t)
{
	struct child *c = &t->tr.child;
	char how[64];
	size_t used = strlen(t->fail.msg);
	int i;

	/* Give it a moment to exit after closing its end, and read it all. */
	for (i = 0; i < child_grace() / 50 && !child_exited(c); i++)
		(void)poll(NULL, 0, 10);
	while (c->err != -1 && child_read_err(c) == 0 &&
	    poll(&(struct pollfd){ c->err, POLLIN, 0 }, 1, 0) == 1)
		;
	if (!child_exited(c) && c->last[0] == '\0')
		return;
	child_describe(c, how, sizeof(how));
	(void)snprintf(t->fail.msg + used, sizeof(t->fail.msg) - used,
	    "; %s %s%s%s", t->child_name, how, c->last[0] != '\0' ? ": " : "",
	    c->last);
}

/* When hop k's current alternative stops having a share of its own. */
static void
share_start(struct tunnel *t, size_t k)
{
	size_t left;
	long long room;

	t->share_at[k] = CLOCK_NEVER;
	if (k >= t->r->nhops || t->alt[k] + 1 >= t->r->hop[k].nalt)
		return;		/* the last alternative has the whole deadline */
	left = t->r->hop[k].nalt - t->alt[k];
	room = t->deadline.none ? SHARE_DEFAULT_MS * (long long)left :
	    deadline_ms(&t->deadline) - clock_ms();
	t->share_at[k] = clock_ms() + (room > 0 ? room : 0) / (long long)left;
}

/*
 * Hop k's current alternative failed for reason: try its next one from
 * the start, or fail with f (naming every alternative tried).
 */
static void
alt_failed(struct tunnel *t, size_t k, const char *reason,
    const struct failure *f)
{
	const struct route_hop *hop = &t->r->hop[k];
	size_t used;
	char line[700];

	if (t->r->nhops == 0 || hop->nalt <= 1) {
		finish_fail(t, f, k);
		return;
	}
	if (t->tried_hop != k)
		t->tried[0] = '\0';	/* only this hop's count */
	t->tried_hop = k;
	used = strlen(t->tried);
	(void)snprintf(t->tried + used, sizeof(t->tried) - used, "%s%s (%s)",
	    used > 0 ? ", " : "", route_alt_name(cur_alt(t, k)), reason);
	if (t->r->retry_ms > 0)
		t->r->hop[k].failed_at[t->alt[k]] = clock_ms();
	if (t->alt[k] + 1 >= hop->nalt) {
		if (t->r->nhops == 1)
			failure_set(&t->fail, FAIL_UNREACH, "no proxy could be "
			    "reached: %s", t->tried);
		else {
			failure_set(&t->fail, FAIL_UNREACH, "no proxy of hop %zu "
			    "could be reached: %s", k + 1, t->tried);
			t->fail.hop = (unsigned)k + 1;
		}
		failed_now(t, k);
		return;
	}
	(void)snprintf(line, sizeof(line), "%s: %s; trying %s",
	    route_alt_name(cur_alt(t, k)), reason,
	    route_alt_name(&hop->alt[t->alt[k] + 1]));
	emit_hop(t, k, TEV_SKIPPED, line, strlen(line), 0, 0);
	t->alt[k]++;
	drop_connection(t);
	if (k == 0 && t->addrs != NULL) {
		freeaddrinfo(t->addrs);	/* another first hop */
		t->addrs = NULL;
	}
	first_connection(t);
}

static void
on_hs_event(void *arg, const struct hs_event *ev)
{
	static const enum tunnel_event_kind map[] = {
		[HSE_STEP] = TEV_STEP,
		[HSE_SENT] = TEV_SENT,
		[HSE_RECEIVED] = TEV_RECEIVED,
		[HSE_STATUS] = TEV_STATUS,
		[HSE_AUTH_OFFERED] = TEV_AUTH_OFFERED,
		[HSE_AUTH_USED] = TEV_AUTH_USED
	};

	emit(arg, map[ev->kind], ev->text, ev->len, ev->code, 0);
}

static void
on_attempt(void *arg, const char *addr, int err)
{
	struct tunnel *t = arg;
	const char *host, *what;
	unsigned port;

	first_peer(t, &host, &port, &what);
	if (err == 0)
		stepf(t, "connecting to %s %s", what, addr);
	else
		stepf(t, "cannot connect to %s %s: %s", what, addr,
		    strerror(err));
}

static void
on_connected(struct tunnel *t, int fd)
{
	const char *host, *what;
	char addr[NI_MAXHOST + 16];
	unsigned port;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	connector_free(&t->conn);
	t->conn_live = false;
	transport_socket(&t->tr, fd);
	t->have_tr = true;
	t->connects++;
	first_peer(t, &host, &port, &what);
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0) {
		struct addrinfo ai;

		memset(&ai, 0, sizeof(ai));
		ai.ai_addr = (struct sockaddr *)&ss;
		ai.ai_addrlen = sl;
		net_format_addr(&ai, port, addr, sizeof(addr));
	} else
		(void)snprintf(addr, sizeof(addr), "%s", host);
	emit(t, TEV_CONNECTED, addr, strlen(addr), 0, clock_ms() - t->step_ms);
	if (direct(t)) {
		t->proven = 1;
		t->state = T_UP;
		return;
	}
	t->hop = 0;
	hop_begin(t);
}

static void
connect_result(struct tunnel *t, int fd)
{
	const char *host, *what;
	char addr[300];
	unsigned port;
	struct failure f;

	if (fd >= 0) {
		on_connected(t, fd);
		return;
	}
	if (fd == -1)
		return;
	first_peer(t, &host, &port, &what);
	target_format(host, port, addr, sizeof(addr));
	failure_set(&f, FAIL_UNREACH, "cannot connect to %s %s: %s (is the %s "
	    "running and the address right?)", what, addr,
	    strerror(t->conn.err), what);
	alt_failed(t, 0, strerror(t->conn.err), &f);
}

static void
start_connect(struct tunnel *t)
{
	const char *host, *what;
	unsigned port;

	first_peer(t, &host, &port, &what);
	t->state = T_CONNECT;
	t->step_ms = clock_ms();
	connector_start(&t->conn, t->addrs, port, on_attempt, t);
	t->conn_live = true;
	connect_result(t, connector_events(&t->conn, NULL, 0));
}

/* Describe the addresses of a lookup, for --check and -v. */
static void
emit_resolved(struct tunnel *t, const struct addrinfo *res, unsigned port)
{
	char line[600], one[NI_MAXHOST + 16];
	size_t o = 0, n = 0;

	line[0] = '\0';
	for (; res != NULL && o + 2 < sizeof(line); res = res->ai_next) {
		int w;

		net_format_addr(res, port, one, sizeof(one));
		w = snprintf(line + o, sizeof(line) - o, "%s%s",
		    n++ > 0 ? ", " : "", one);
		if (w < 0)
			break;
		o += (size_t)w;
		if (o >= sizeof(line))
			o = sizeof(line) - 1;
	}
	emit(t, TEV_RESOLVED, line, strlen(line), 0, clock_ms() - t->step_ms);
}

static void
first_resolved(struct tunnel *t)
{
	const char *host, *what;
	unsigned port;
	struct failure f;
	int rc;

	rc = resolve_finish(t->res, &t->addrs);
	t->res = NULL;
	first_peer(t, &host, &port, &what);
	if (rc != 0) {
		failure_set(&f, FAIL_UNREACH, "cannot resolve %s %s: %s (check "
		    "the name)", what, host, gai_strerror(rc));
		alt_failed(t, 0, gai_strerror(rc), &f);
		return;
	}
	emit_resolved(t, t->addrs, port);
	start_connect(t);
}

/* Start (or start again) from the first connection. */
static void
first_connection(struct tunnel *t)
{
	size_t k;

	t->hop = 0;
	t->proven = 0;
	t->connects = 0;
	for (k = 0; k < ROUTE_HOPS_MAX; k++)
		t->share_at[k] = CLOCK_NEVER;
	share_start(t, 0);
	open_first(t);
}

/* The first hop is reached through a program, not a TCP connection. */
static bool
uses_child(const struct tunnel *t)
{
	return !direct(t) && (cur_alt(t, 0)->px.scheme == SCHEME_HTTPS ||
	    t->r->proxy_command != NULL);
}

/*
 * openssl s_client for an https:// proxy: TLS with the certificate and
 * the host name checked, failing closed.
 */
static int
openssl_argv(const struct tunnel *t, char *hostport, size_t hplen,
    char **argv, struct failure *f)
{
	const struct proxy *px = &cur_alt(t, 0)->px;
	unsigned char a[16];
	size_t n = 0;

	if (!child_in_path("openssl")) {
		failure_set(f, FAIL_USAGE, "an https:// proxy needs openssl to "
		    "speak TLS: install it (apt-get install openssl), or reach "
		    "the proxy with --proxy-command");
		return -1;
	}
	target_format(px->host, px->port, hostport, hplen);
	argv[n++] = "openssl";
	argv[n++] = "s_client";
	argv[n++] = "-quiet";
	argv[n++] = "-verify_quiet";	/* its errors still come */
	argv[n++] = "-verify_return_error";
	if (inet_pton(AF_INET, px->host, a) == 1 ||
	    inet_pton(AF_INET6, px->host, a) == 1) {
		argv[n++] = "-verify_ip";
		argv[n++] = (char *)(uintptr_t)px->host;
	} else {
		argv[n++] = "-verify_hostname";
		argv[n++] = (char *)(uintptr_t)px->host;
		argv[n++] = "-servername";
		argv[n++] = (char *)(uintptr_t)px->host;
	}
	argv[n++] = "-connect";
	argv[n++] = hostport;
	if (t->r->proxy_cacert != NULL) {
		argv[n++] = "-CAfile";
		argv[n++] = t->r->proxy_cacert;
	}
	argv[n] = NULL;
	return 0;
}

static void
spawn_first(struct tunnel *t)
{
	char hostport[300], *argv[16];
	struct child c;
	struct failure f;

	if (cur_alt(t, 0)->px.scheme == SCHEME_HTTPS) {
		t->child_name = "openssl";
		if (openssl_argv(t, hostport, sizeof(hostport), argv, &f) == -1) {
			finish_fail(t, &f, 0);
			return;
		}
		stepf(t, "connecting to proxy %s with TLS (openssl s_client)",
		    hostport);
	} else {
		t->child_name = "the proxy command";
		argv[0] = t->r->proxy_command;
		argv[1] = NULL;
		stepf(t, "reaching proxy %s through the proxy command",
		    route_alt_name(cur_alt(t, 0)));
	}
	t->step_ms = clock_ms();
	if (child_spawn(&c, argv, argv[0] == t->r->proxy_command, &f) == -1) {
		alt_failed(t, 0, f.msg, &f);
		return;
	}
	transport_child(&t->tr, &c);
	t->have_tr = true;
	t->connects++;
	(void)snprintf(hostport, sizeof(hostport), "%s (pid %ld)",
	    t->child_name, (long)c.pid);
	emit(t, TEV_CONNECTED, hostport, strlen(hostport), 0,
	    clock_ms() - t->step_ms);
	t->hop = 0;
	hop_begin(t);
}

/* Open the first connection: a child, or resolve (unless known) and connect. */
static void
open_first(struct tunnel *t)
{
	const char *host, *what;
	char addr[300];
	unsigned port;

	if (uses_child(t)) {
		spawn_first(t);
		return;
	}
	if (t->addrs != NULL) {
		start_connect(t);
		return;
	}
	first_peer(t, &host, &port, &what);
	target_format(host, port, addr, sizeof(addr));
	stepf(t, "resolving %s %s", what, addr);
	t->state = T_RESOLVE;
	t->step_ms = clock_ms();
	if ((t->res = resolve_start(host, port, t->r->family)) == NULL) {
		failure_set(&t->fail, FAIL_IO, "out of memory");
		finish_fail(t, &t->fail, 0);
		return;
	}
	if (resolve_fd(t->res) == -1)
		first_resolved(t);
}

/* Start hop t->hop's handshake: its params are ready. */
static void
hop_handshake(struct tunnel *t)
{
	size_t k = t->hop;
	struct handshake *h = t->h[k];
	enum step s;

	if (k + 1 < t->r->nhops)
		share_start(t, k + 1);	/* its proxy is being reached now */
	if (h == NULL) {
		if ((h = t->h[k] = malloc(sizeof(*h))) == NULL) {
			failure_set(&t->fail, FAIL_IO, "out of memory");
			finish_fail(t, &t->fail, k);
			return;
		}
		if (k > 0)
			stepf(t, "sending %s handshake to %s through the "
			    "tunnel", proxy_scheme_name(cur_alt(t, k)->px.scheme),
			    route_alt_name(cur_alt(t, k)));
		else
			stepf(t, "connected; sending %s handshake",
			    proxy_scheme_name(cur_alt(t, k)->px.scheme));
		s = hs_start(h, &t->p[k], on_hs_event, t);
	} else {
		stepf(t, "connected; sending %s handshake",
		    proxy_scheme_name(cur_alt(t, k)->px.scheme));
		s = hs_restart(h);
	}
	handle(t, s);
}

static void
next_resolved(struct tunnel *t)
{
	size_t k = t->hop;
	struct addrinfo *res;
	struct hs_params *p = &t->p[k];
	struct failure f;
	int rc;

	rc = resolve_finish(t->res, &res);
	t->res = NULL;
	if (rc != 0) {
		failure_set(&f, FAIL_UNREACH, "cannot resolve %s %s here for "
		    "the %s proxy: %s (check the name, or use %s:// to let the "
		    "proxy resolve it)", k + 1 < t->r->nhops ? "proxy" :
		    "target", t->next[k].host,
		    proxy_scheme_name(cur_alt(t, k)->px.scheme), gai_strerror(rc),
		    cur_alt(t, k)->px.scheme == SCHEME_SOCKS4 ? "socks4a" :
		    "socks5h");
		finish_fail(t, &f, k);
		return;
	}
	emit_resolved(t, res, t->next[k].port);
	if (res->ai_family == AF_INET) {
		memcpy(p->addr, &((struct sockaddr_in *)(void *)res->ai_addr)->
		    sin_addr, 4);
		p->addrlen = 4;
	} else {
		memcpy(p->addr, &((struct sockaddr_in6 *)(void *)res->ai_addr)->
		    sin6_addr, 16);
		p->addrlen = 16;
	}
	freeaddrinfo(res);
	stepf(t, "resolved %s locally (use socks5h:// or socks4a:// to let "
	    "the proxy resolve names)", t->next[k].host);
	hop_handshake(t);
}

/* Fill hop k's params: what it asks for, with whose credentials. */
static void
fill_params(struct tunnel *t, size_t k)
{
	const struct route_alt *a = cur_alt(t, k);
	struct hs_params *p = &t->p[k];
	struct target *next = &t->next[k];

	if (k + 1 < t->r->nhops) {
		const struct proxy *px = &cur_alt(t, k + 1)->px;

		(void)snprintf(next->host, sizeof(next->host), "%s", px->host);
		next->port = px->port;
	} else
		*next = t->target;
	memset(p, 0, sizeof(*p));
	p->proxy = &a->px;
	p->target = next;
	p->headers = (const char *const *)t->r->headers;
	p->nheaders = t->r->nheaders;
	p->creds = a->creds;
	p->auth_allow = t->r->auth_allow;
	p->to_proxy = k + 1 < t->r->nhops;
}

/*
 * What no proxy could change (a request too long, a SOCKS field over its
 * limit) fails before anything is sent: build every hop's first message
 * once.  0, or -1 with the tunnel failed.
 */
static int
precheck(struct tunnel *t)
{
	struct handshake *h;
	size_t k;
	enum step s;

	if (direct(t))
		return 0;
	if ((h = malloc(sizeof(*h))) == NULL) {
		failure_set(&t->fail, FAIL_IO, "out of memory");
		finish_fail(t, &t->fail, 0);
		return -1;
	}
	for (k = 0; k < t->r->nhops; k++) {
		fill_params(t, k);
		if (hs_local_family(t->p[k].proxy, t->p[k].target) != -1)
			t->p[k].addrlen = 4;	/* resolved later */
		s = hs_start(h, &t->p[k], NULL, NULL);
		if (s == STEP_FAIL)
			t->fail = h->fail;
		hs_free(h);
		if (s == STEP_FAIL) {
			free(h);
			finish_fail(t, &t->fail, k);
			return -1;
		}
	}
	free(h);
	return 0;
}

/* Prepare hop t->hop: what it asks for, resolved first if need be. */
static void
hop_begin(struct tunnel *t)
{
	size_t k = t->hop;
	struct target *next = &t->next[k];
	int family;

	fill_params(t, k);
	if ((family = hs_local_family(t->p[k].proxy, next)) == -1) {
		hop_handshake(t);
		return;
	}
	/* -4 and -6 choose how proxies are reached, the next one too. */
	if (family == AF_UNSPEC && k + 1 < t->r->nhops)
		family = t->r->family;
	t->state = T_NEXT;
	t->step_ms = clock_ms();
	if ((t->res = resolve_start(next->host, next->port, family)) == NULL) {
		failure_set(&t->fail, FAIL_IO, "out of memory");
		finish_fail(t, &t->fail, k);
		return;
	}
	if (resolve_fd(t->res) == -1)
		next_resolved(t);
}

/* A proxy's refusal that means it could not reach the next hop. */
static bool
unreachable_next(const struct failure *f)
{
	switch (f->http_status) {
	case 502:
	case 503:
	case 504:
		return true;
	}
	/* SOCKS5: network, host unreachable, refused, TTL; SOCKS4: failed. */
	return f->socks_reply == 3 || f->socks_reply == 4 ||
	    f->socks_reply == 5 || f->socks_reply == 6 ||
	    f->socks_reply == 0x5b;
}

static void
hop_failed(struct tunnel *t, const struct failure *f)
{
	size_t k = t->hop;

	/*
	 * Hop k could not reach hop k + 1's alternative, which has not
	 * answered yet: the next alternative may do better.  Without one,
	 * the failure is hop k's refusal.
	 */
	if (k + 1 < t->r->nhops && t->r->hop[k + 1].nalt > 1 &&
	    t->proven == k + 1 && f->kind == FAIL_REFUSED &&
	    unreachable_next(f)) {
		char reason[300];

		if (f->http_status != 0)
			(void)snprintf(reason, sizeof(reason), "hop %zu "
			    "answered %d", k + 1, f->http_status);
		else
			(void)snprintf(reason, sizeof(reason), "hop %zu "
			    "answered SOCKS reply %d", k + 1, f->socks_reply);
		alt_failed(t, k + 1, reason, f);
		return;
	}
	finish_fail(t, f, k);
}

static void
reconnect(struct tunnel *t)
{
	size_t k;
	struct failure f;

	transport_close(&t->tr);
	t->have_tr = false;
	if (t->connects >= HS_MAX_CONNECTS) {
		failure_set(&f, FAIL_AUTH, "proxy closed the connection %u "
		    "times during authentication", t->connects);
		finish_fail(t, &f, t->hop);
		return;
	}
	stepf(t, "proxy closed the connection; reconnecting");
	/* Hops before this one start again with new engines. */
	for (k = 0; k < t->hop; k++)
		if (t->h[k] != NULL) {
			hs_free(t->h[k]);
			free(t->h[k]);
			t->h[k] = NULL;
		}
	t->hop = 0;
	open_first(t);
}

static void
do_recv(struct tunnel *t, bool force);

/* Write what is left of the request; then read the answer. */
static void
do_send(struct tunnel *t)
{
	struct outbuf *o = &t->h[t->hop]->out;
	struct failure f;

	while (t->sent < o->len) {
		ssize_t n = transport_write(&t->tr, o->data + t->sent,
		    o->len - t->sent);

		if (n > 0) {
			t->sent += (size_t)n;
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR))
			return;		/* wait for POLLOUT */
		failure_set(&f, FAIL_UNREACH, "cannot send to the proxy: %s",
		    strerror(errno));
		finish_fail(t, &f, t->hop);
		return;
	}
	/* The request may hold credentials: clear it once sent. */
	wipe(o->data, o->len);
	o->len = 0;
	t->state = T_RECV;
	if (transport_pending(&t->tr) > 0)
		do_recv(t, true);	/* bytes already here: offer them */
}

/*
 * The first hop's pipes closed before its proxy said a word: if the
 * child (openssl, the proxy command) failed, the proxy was never
 * reached, and that is what to say (and the next alternative may do
 * better).  true when the tunnel has moved on.
 */
static bool
child_gave_up(struct tunnel *t)
{
	struct child *c = &t->tr.child;
	struct failure f;
	char how[64], reason[CHILD_LINE_MAX + 128];
	const char *hint = "";
	int i;

	if (t->tr.child.pid <= 0)
		return false;
	/* A process of many tunnels waits for no child (child_grace 0). */
	for (i = 0; i < child_grace() / 20 && !child_exited(c); i++)
		(void)poll(NULL, 0, 10);
	while (c->err != -1 && child_read_err(c) == 0 &&
	    poll(&(struct pollfd){ c->err, POLLIN, 0 }, 1, 0) == 1)
		;
	if (!child_exited(c) || (WIFEXITED(c->status) &&
	    WEXITSTATUS(c->status) == 0))
		return false;
	child_describe(c, how, sizeof(how));
	(void)snprintf(reason, sizeof(reason), "%s %s%s%s", t->child_name, how,
	    c->last[0] != '\0' ? ": " : "", c->last);
	if (strcmp(t->child_name, "openssl") == 0)
		hint = strstr(c->last, "verify") != NULL ? " (the proxy's "
		    "certificate is not trusted or not for this name; give "
		    "its CA with --proxy-cacert FILE)" : " (is the proxy "
		    "running, and the address and port right?)";
	failure_set(&f, FAIL_UNREACH, "cannot reach proxy %s: %s%s",
	    route_alt_name(cur_alt(t, 0)), reason, hint);
	/* Its words are in the message already; report it as connecting. */
	transport_close(&t->tr);
	t->have_tr = false;
	t->state = T_CONNECT;
	alt_failed(t, 0, reason, &f);
	return true;
}

/* Offer the proxy's bytes to the engine; force: even with none new. */
static void
do_recv(struct tunnel *t, bool force)
{
	unsigned char scratch[TRANSPORT_READ_MAX];
	const unsigned char *data = NULL;
	struct handshake *h = t->h[t->hop];
	struct failure f;
	size_t len = 0, used = 0;
	enum step s;
	bool eof;
	int rc;

	rc = transport_read(&t->tr, scratch, &data, &len);
	if (rc == -2) {
		failure_set(&f, FAIL_PROTO, "reading the proxy's answer: %s",
		    strerror(errno));
		finish_fail(t, &f, t->hop);
		return;
	}
	if (rc == -1 && !(force && len > 0))
		return;
	eof = rc == 0;
	if (eof && len == 0 && t->proven == 0 && child_gave_up(t))
		return;
	if ((len > 0 || eof) && t->proven == t->hop) {
		/* This hop's proxy answers: it keeps its alternative. */
		t->share_at[t->hop] = CLOCK_NEVER;
		t->proven = t->hop + 1;
	}
	s = hs_input(h, data, len, eof, &used);
	wipe(scratch, len < sizeof(scratch) ? len : sizeof(scratch));
	if (transport_consume(&t->tr, used, s == STEP_NEED && !eof) == -1) {
		failure_set(&f, FAIL_PROTO, "reading the proxy's answer: %s",
		    errno == ECONNRESET ? "connection closed" :
		    strerror(errno));
		finish_fail(t, &f, t->hop);
		return;
	}
	if (s == STEP_FAIL) {
		hop_failed(t, &h->fail);
		return;
	}
	if (eof && (s == STEP_NEED || s == STEP_SEND)) {
		failure_set(&f, FAIL_PROTO, "proxy closed the connection "
		    "during the handshake");
		finish_fail(t, &f, t->hop);
		return;
	}
	if (s == STEP_NEED && used == 0 &&
	    transport_pending(&t->tr) == TRANSPORT_READ_MAX) {
		failure_set(&f, FAIL_PROTO, "the proxy's answer is larger than "
		    "%d bytes", TRANSPORT_READ_MAX);
		finish_fail(t, &f, t->hop);
		return;
	}
	handle(t, s);
}

static void
handle(struct tunnel *t, enum step s)
{
	size_t k = t->hop;

	switch (s) {
	case STEP_SEND:
		t->state = T_SEND;
		t->sent = 0;
		do_send(t);
		return;
	case STEP_NEED:
		t->state = T_RECV;
		return;
	case STEP_DONE:
		hs_free(t->h[k]);
		free(t->h[k]);
		t->h[k] = NULL;
		if (++t->hop == t->r->nhops) {
			t->hop = k;	/* events name the last hop */
			t->state = T_UP;
			return;
		}
		hop_begin(t);
		return;
	case STEP_RECONNECT:
		reconnect(t);
		return;
	case STEP_FAIL:
		hop_failed(t, &t->h[k]->fail);
		return;
	}
}

/*
 * A route that remembers starts each hop at the first alternative that
 * has not failed within retry_ms: the preferred one comes back after
 * that long, a failed one is not tried on every connection.
 */
static void
start_alternatives(struct tunnel *t)
{
	long long now = clock_ms();
	size_t k, a;

	if (t->r->retry_ms <= 0)
		return;
	for (k = 0; k < t->r->nhops; k++) {
		const struct route_hop *h = &t->r->hop[k];

		for (a = 0; a < h->nalt; a++)
			if (h->failed_at[a] == 0 ||
			    now - h->failed_at[a] >= t->r->retry_ms)
				break;
		t->alt[k] = a < h->nalt ? a : 0;
	}
}

/* Up: the route learns which alternatives worked. */
static void
learn(struct tunnel *t)
{
	size_t k;

	if (t->r->retry_ms <= 0)
		return;
	for (k = 0; k < t->r->nhops; k++) {
		struct route_hop *h = &t->r->hop[k];

		if (h->current != t->alt[k]) {
			char line[700];

			(void)snprintf(line, sizeof(line), "hop %zu: switched "
			    "from %s to %s", k + 1,
			    route_alt_name(&h->alt[h->current]),
			    route_alt_name(&h->alt[t->alt[k]]));
			emit(t, TEV_SKIPPED, line, strlen(line), 0, 0);
			h->current = t->alt[k];
		}
		h->failed_at[t->alt[k]] = 0;
	}
}

struct tunnel *
tunnel_new(struct route *r, const struct target *target,
    const struct deadline *d, tunnel_event_fn *event, void *event_arg)
{
	struct tunnel *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->r = route_ref(r);
	t->target = *target;
	t->deadline = *d;
	t->event = event;
	t->event_arg = event_arg;
	start_alternatives(t);
	if (precheck(t) == 0)
		first_connection(t);
	return t;
}

/* The slots of the current step. */
static size_t
step_pollfds(struct tunnel *t, struct pollfd *pfd)
{
	switch (t->state) {
	case T_RESOLVE:
	case T_NEXT:
		return pollfd_set(pfd, resolve_fd(t->res), POLLIN);
	case T_CONNECT:
		return connector_pollfds(&t->conn, pfd);
	case T_SEND:
		return pollfd_set(pfd, t->tr.wfd, POLLOUT);
	case T_RECV:
		return pollfd_set(pfd, t->tr.rfd, POLLIN);
	default:
		return 0;
	}
}

size_t
tunnel_pollfds(struct tunnel *t, struct pollfd *pfd)
{
	size_t n = step_pollfds(t, pfd);

	/* A child's stderr is read all along, so it never blocks on it. */
	if (t->have_tr && t->tr.child.err != -1)
		n += pollfd_set(&pfd[n], t->tr.child.err, POLLIN);
	return n;
}

long long
tunnel_timer(const struct tunnel *t)
{
	long long at = deadline_ms(&t->deadline);
	size_t k;

	if (t->state == T_UP || t->state == T_FAILED)
		return CLOCK_NEVER;
	for (k = t->proven; k < t->r->nhops && k <= t->hop + 1; k++)
		at = timer_min(at, t->share_at[k]);
	if (t->state == T_CONNECT)
		at = timer_min(at, connector_timer(&t->conn));
	return at;
}

/* The deadline passed in the middle of the current step. */
static void
timed_out(struct tunnel *t)
{
	const char *host, *what;
	char addr[300];
	unsigned port;

	first_peer(t, &host, &port, &what);
	target_format(host, port, addr, sizeof(addr));
	switch (t->state) {
	case T_RESOLVE:
		failure_set(&t->fail, FAIL_TIMEOUT, "timed out resolving %s %s "
		    "(raise --timeout, or check DNS)", what, host);
		break;
	case T_CONNECT:
		failure_set(&t->fail, FAIL_TIMEOUT, "timed out connecting to %s "
		    "%s (raise --timeout, or check the address)", what, addr);
		break;
	case T_NEXT:
		failure_set(&t->fail, FAIL_TIMEOUT, "timed out resolving target "
		    "%s (raise --timeout, or check DNS)", t->next[t->hop].host);
		break;
	case T_SEND:
		failure_set(&t->fail, FAIL_TIMEOUT, "timed out sending the "
		    "request to the proxy");
		break;
	default:
		failure_set(&t->fail, FAIL_TIMEOUT, "timed out waiting for the "
		    "proxy's answer (raise --timeout, or check that this is a "
		    "proxy)");
		break;
	}
	finish_fail(t, &t->fail, t->hop);
}

/* An alternative's share ran out before it answered. */
static bool
share_expired(struct tunnel *t)
{
	long long now = clock_ms();
	size_t k;

	for (k = t->proven; k < t->r->nhops && k <= t->hop + 1; k++) {
		char reason[64];
		struct failure f;

		if (t->share_at[k] == CLOCK_NEVER || t->share_at[k] > now)
			continue;
		(void)snprintf(reason, sizeof(reason), "no answer in its share "
		    "of the deadline");
		failure_set(&f, FAIL_TIMEOUT, "%s did not answer",
		    route_alt_name(cur_alt(t, k)));
		alt_failed(t, k, reason, &f);
		return true;
	}
	return false;
}

static enum tunnel_status
status(struct tunnel *t)
{
	if (t->state == T_UP) {
		if (!t->learned) {
			t->learned = true;
			learn(t);
		}
		return TUNNEL_UP;
	}
	return t->state == T_FAILED ? TUNNEL_FAILED : TUNNEL_BUSY;
}

enum tunnel_status
tunnel_events(struct tunnel *t, const struct pollfd *pfd, size_t n)
{
	bool ready = false;
	size_t i;

	for (i = 0; i < n; i++) {
		if (pfd[i].fd == -1 || pfd[i].revents == 0)
			continue;
		if (t->have_tr && pfd[i].fd == t->tr.child.err)
			(void)child_read_err(&t->tr.child);
		else
			ready = true;
	}
	switch (t->state) {
	case T_RESOLVE:
		if (ready)
			first_resolved(t);
		break;
	case T_NEXT:
		if (ready)
			next_resolved(t);
		break;
	case T_CONNECT:
		connect_result(t, connector_events(&t->conn, pfd, n));
		break;
	case T_SEND:
		if (ready)
			do_send(t);
		break;
	case T_RECV:
		if (ready)
			do_recv(t, false);
		break;
	default:
		break;
	}
	if (t->state != T_UP && t->state != T_FAILED) {
		if (deadline_expired(&t->deadline))
			timed_out(t);
		else
			(void)share_expired(t);
	}
	return status(t);
}

const struct failure *
tunnel_failure(const struct tunnel *t)
{
	return &t->fail;
}

void
tunnel_take(struct tunnel *t, struct transport *out)
{
	*out = t->tr;
	t->have_tr = false;
}

void
tunnel_free(struct tunnel *t)
{
	if (t == NULL)
		return;
	drop_connection(t);
	if (t->addrs != NULL)
		freeaddrinfo(t->addrs);
	route_unref(t->r);
	free(t);
}

int
tunnel_open(struct route *r, const struct target *target,
    const struct deadline *d, tunnel_event_fn *event, void *event_arg,
    struct transport *out, struct failure *f)
{
	struct pollfd pfd[TUNNEL_PFD_MAX];
	struct tunnel *t;
	enum tunnel_status st;
	size_t n;

	if ((t = tunnel_new(r, target, d, event, event_arg)) == NULL) {
		failure_set(f, FAIL_IO, "out of memory");
		return -1;
	}
	while ((st = status(t)) == TUNNEL_BUSY) {
		n = tunnel_pollfds(t, pfd);
		if (poll(pfd, n, timer_poll_ms(tunnel_timer(t))) == -1 &&
		    errno != EINTR) {
			failure_set(f, FAIL_IO, "poll: %s", strerror(errno));
			tunnel_free(t);
			return -1;
		}
		(void)tunnel_events(t, pfd, n);
	}
	if (st == TUNNEL_FAILED) {
		*f = *tunnel_failure(t);
		tunnel_free(t);
		return -1;
	}
	tunnel_take(t, out);
	tunnel_free(t);
	return 0;
}
