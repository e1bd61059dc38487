/*
 * check.c: culvert --check [options] HOST PORT.  Opens the tunnel as a
 * normal run would, reports every step on stdout as the tunnel's events
 * arrive, then listens up to 2 s for the target to speak first, and ends
 * with one verdict line (all that -q prints), a suggestion when something
 * failed, and the exit status a normal run would have had.  Nothing is
 * relayed and standard input is never read.
 */
#include <sys/types.h>

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/creds.h"
#include "io/child.h"
#include "io/tunnel.h"
#include "mode/mode.h"
#include "route/proxyenv.h"
#include "util/clock.h"
#include "util/log.h"

#define SPEAK_WAIT_MS	2000	/* how long the target may take to speak */
#define SPEAK_MAX	512	/* bytes of it kept */
#define SHOWN_MAX	200	/* bytes of a line shown */

struct report {
	const struct options	*o;
	const struct route	*r;	/* NULL until there is one */
	const struct target	*t;
	bool			 quiet;		/* -q: the verdict only */
	bool			 header;	/* a hop's header is out */
	unsigned		 hop, alt;	/* whose */
	bool			 failed;	/* TEV_FAILED came */
	enum tunnel_phase	 phase;		/* of that failure */
	unsigned		 fail_hop, fail_alt;
	char			 offered[512];	/* a 407's schemes */
	char			 used[64];	/* the scheme answered with */
	long long		 start;
};

/* What the target said, once the tunnel was up. */
struct first_words {
	char		 buf[SPEAK_MAX];
	size_t		 len;
	bool		 eof;		/* it closed */
	int		 err;		/* a read error, or 0 */
	long long	 ms;		/* when the first byte came */
};

/* Copy text to out, control bytes and non-ASCII escaped, at most max. */
static void
escape(char *out, size_t outlen, const char *text, size_t len, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < len && i < max && n + 5 < outlen; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c < 0x20 || c >= 0x7f) {
			(void)snprintf(out + n, outlen - n, "\\x%02x", c);
			n += 4;
		} else
			out[n++] = (char)c;
	}
	if (i < len && n + 4 < outlen) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
}

static void item(const struct report *, const char *, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* One line of the report: "  label     text". */
static void
item(const struct report *rep, const char *label, const char *fmt, ...)
{
	char text[1200];
	va_list ap;

	if (rep->quiet)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	printf("  %-9s %s\n", label, text);
}

/* An event's text, escaped, as one line of the report. */
static void
item_text(const struct report *rep, const char *label,
    const struct tunnel_event *ev, const char *after)
{
	char shown[SHOWN_MAX * 4 + 8];

	escape(shown, sizeof(shown), ev->text, ev->len, SHOWN_MAX);
	item(rep, label, "%s%s", shown, after);
}

static const struct route_alt *
alt_of(const struct report *rep, unsigned hop, unsigned alt)
{
	if (rep->r == NULL || hop == 0 || hop > rep->r->nhops ||
	    alt >= rep->r->hop[hop - 1].nalt)
		return NULL;
	return &rep->r->hop[hop - 1].alt[alt];
}

/* "hop 2 of 3: socks5h://b:1080 (alternative 2 of 2)" when it changes. */
static void
hop_header(struct report *rep, const struct tunnel_event *ev)
{
	const struct route_alt *a = alt_of(rep, ev->hop, ev->alt);
	size_t nalt;

	if (rep->header && rep->hop == ev->hop && rep->alt == ev->alt)
		return;
	rep->header = true;
	rep->hop = ev->hop;
	rep->alt = ev->alt;
	if (rep->quiet)
		return;
	nalt = rep->r != NULL && rep->r->nhops > 0 ?
	    rep->r->hop[0].nalt : 1;
	if (ev->hop == 0) {
		printf("direct connection to the target%s\n", nalt > 1 ?
		    " (the last alternative)" : "");
		return;
	}
	nalt = rep->r->hop[ev->hop - 1].nalt;
	printf("hop %u", ev->hop);
	if (ev->hops > 1)
		printf(" of %u", ev->hops);
	printf(": %s", a != NULL ? route_alt_name(a) : "?");
	if (nalt > 1)
		printf(" (alternative %u of %zu)", ev->alt + 1, nalt);
	printf("\n");
}

static void
on_event(void *arg, const struct tunnel_event *ev)
{
	struct report *rep = arg;
	char ms[64];

	mode_log_event(NULL, ev);	/* -v still logs to stderr */
	if (ev->kind == TEV_FAILED) {
		rep->failed = true;
		rep->phase = ev->phase;
		rep->fail_hop = ev->hop;
		rep->fail_alt = ev->alt;
		return;
	}
	hop_header(rep, ev);
	(void)snprintf(ms, sizeof(ms), " (%lld ms)", ev->ms);
	switch (ev->kind) {
	case TEV_STEP:
		item_text(rep, "step", ev, "");
		break;
	case TEV_SKIPPED:
		item_text(rep, "skipped", ev, "");
		break;
	case TEV_RESOLVED:
		item_text(rep, "resolved", ev, ms);
		break;
	case TEV_CONNECTED:
		item_text(rep, "connected", ev, ms);
		break;
	case TEV_SENT:
		item_text(rep, "sent", ev, "");
		break;
	case TEV_RECEIVED:
		item_text(rep, "received", ev, "");
		break;
	case TEV_STATUS:
		item_text(rep, "status", ev, "");
		break;
	case TEV_AUTH_OFFERED:
		escape(rep->offered, sizeof(rep->offered), ev->text, ev->len,
		    sizeof(rep->offered) / 4 - 4);
		item(rep, "auth", "the proxy offers %s", rep->offered);
		break;
	case TEV_AUTH_USED:
		escape(rep->used, sizeof(rep->used), ev->text, ev->len,
		    sizeof(rep->used) / 4 - 4);
		item(rep, "auth", "answering with %s", rep->used);
		break;
	case TEV_FAILED:
		break;
	}
}

/* Where the route came from, and whose credentials it carries. */
static void
report_route(const struct report *rep, const struct route_origin *origin)
{
	const struct options *o = rep->o;
	const char *list = proxyenv_noproxy(o->no_proxy, NULL);
	char shown[1024], esc[1100];
	size_t h, a;

	if (rep->quiet)
		return;
	if (origin->matched_noproxy) {
		item(rep, "proxy", "none: %s matches %s, so culvert connects "
		    "directly", rep->t->host, origin->noproxy_var != NULL ?
		    origin->noproxy_var : "--no-proxy");
		return;
	}
	mode_describe_route(rep->r, shown, sizeof(shown));
	item(rep, "proxy", "%s (from %s)", shown, origin->proxy_var);
	if (list == NULL)
		item(rep, "no-proxy", "no list (--no-proxy, NO_PROXY, "
		    "no_proxy): every target goes through the proxy");
	else {
		escape(esc, sizeof(esc), list, strlen(list), 120);
		item(rep, "no-proxy", "%s=\"%s\" does not match %s",
		    origin->noproxy_var != NULL ? origin->noproxy_var :
		    "--no-proxy", esc, rep->t->host);
	}
	if (rep->r->proxy_command != NULL) {
		escape(esc, sizeof(esc), rep->r->proxy_command,
		    strlen(rep->r->proxy_command), 200);
		item(rep, "command", "the first proxy is reached through: %s",
		    esc);
	}
	for (h = 0; h < rep->r->nhops; h++)
		for (a = 0; a < rep->r->hop[h].nalt; a++) {
			const struct route_alt *alt = &rep->r->hop[h].alt[a];

			if (alt->creds == NULL || !alt->creds->have_user)
				continue;
			escape(esc, sizeof(esc), alt->creds->user,
			    strlen(alt->creds->user), 100);
			item(rep, "user", "%s for %s (from %s)%s", esc,
			    alt->url, alt->creds->source != NULL ?
			    alt->creds->source : "?", alt->creds->have_pass ?
			    ", with a password" : ", no password");
		}
	if (o->timeout > 0)
		item(rep, "deadline", "%g s for the whole tunnel (-t)",
		    o->timeout);
	else
		item(rep, "deadline", "none (-t 0)");
}

/*
 * Listen for what the target says first: bytes already read with the
 * proxy's answer, then up to SPEAK_WAIT_MS for the first line.  A proxy
 * command's stderr is drained meanwhile.
 */
static void
listen_target(struct transport *tr, struct first_words *w)
{
	long long start = clock_ms(), left;
	struct pollfd pfd[2];
	nfds_t n;
	ssize_t got;

	memset(w, 0, sizeof(*w));
	w->ms = -1;
	if ((w->len = transport_pending(tr)) > 0) {
		if (w->len > sizeof(w->buf))
			w->len = sizeof(w->buf);
		memcpy(w->buf, tr->buf, w->len);
		w->ms = 0;
	}
	while (memchr(w->buf, '\n', w->len) == NULL && w->len < sizeof(w->buf)) {
		if ((left = start + SPEAK_WAIT_MS - clock_ms()) <= 0)
			break;
		pfd[0].fd = tr->rfd;
		pfd[0].events = POLLIN;
		pfd[1].fd = tr->child.err;
		pfd[1].events = POLLIN;
		n = tr->child.err != -1 ? 2 : 1;
		if (poll(pfd, n, (int)left) == -1) {
			if (errno == EINTR)
				continue;
			w->err = errno;
			break;
		}
		if (n == 2 && pfd[1].revents != 0)
			(void)child_read_err(&tr->child);
		if (pfd[0].revents == 0)
			continue;
		got = read(tr->rfd, w->buf + w->len, sizeof(w->buf) - w->len);
		if (got == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			w->err = errno;
			break;
		}
		if (got == 0) {
			w->eof = true;
			break;
		}
		if (w->ms < 0)
			w->ms = clock_ms() - start;
		w->len += (size_t)got;
	}
}

/* The first line of what the target said, escaped, into out. */
static void
first_line(const struct first_words *w, char *out, size_t outlen)
{
	const char *nl = memchr(w->buf, '\n', w->len);
	size_t len = nl != NULL ? (size_t)(nl - w->buf) : w->len;

	if (len > 0 && w->buf[len - 1] == '\r')
		len--;
	escape(out, outlen, w->buf, len, SHOWN_MAX);
}

static bool
looks_like_ssh(const struct first_words *w)
{
	return w->len >= 4 && memcmp(w->buf, "SSH-", 4) == 0;
}

static bool
looks_like_http(const struct first_words *w)
{
	return w->len >= 5 && memcmp(w->buf, "HTTP/", 5) == 0;
}

/* Report what the target said; returns the exit status. */
static int
report_target(const struct report *rep, struct transport *tr,
    char *verdict, size_t vlen)
{
	struct first_words w;
	char target[300], line[SHOWN_MAX * 4 + 8];
	long long up_ms = clock_ms() - rep->start;

	target_format(rep->t->host, rep->t->port, target, sizeof(target));
	if (!rep->quiet)
		printf("target %s\n", target);
	item(rep, "up", "the tunnel is up after %lld ms", up_ms);
	listen_target(tr, &w);
	first_line(&w, line, sizeof(line));
	if (w.len > 0)
		item(rep, "spoke", "%s (after %lld ms)", line, w.ms);
	if (w.len > 0 && looks_like_http(&w)) {
		item(rep, "warning", "the first bytes look like an HTTP "
		    "response: the proxy, or a box behind it, intercepts the "
		    "tunnel and answers in the target's place; ssh would fail "
		    "with \"kex_exchange_identification\"");
		item(rep, "suggest", "try port 443 (ssh.github.com:443, "
		    "altssh.gitlab.com:443) or another proxy, and ask the "
		    "proxy's administrators about CONNECT to this port");
		(void)snprintf(verdict, vlen, "warning: the tunnel to %s is up, "
		    "but the proxy seems to answer in the target's place: %s",
		    target, line);
		return EXIT_OK;
	}
	if (w.len > 0) {
		if (looks_like_ssh(&w))
			item(rep, "tip", "if ssh drops after minutes of quiet, "
			    "the proxy cuts idle tunnels: add "
			    "\"ServerAliveInterval 30\" to the Host in "
			    "~/.ssh/config");
		(void)snprintf(verdict, vlen, "ok: the tunnel to %s is up "
		    "(%lld ms); the target says %s", target, up_ms, line);
		return EXIT_OK;
	}
	if (w.err != 0) {
		item(rep, "error", "reading from the tunnel: %s",
		    strerror(w.err));
		(void)snprintf(verdict, vlen, "failed (exit %d): the tunnel to "
		    "%s was up, then reading from it failed: %s", EXIT_IO,
		    target, strerror(w.err));
		return EXIT_IO;
	}
	if (w.eof) {
		item(rep, "closed", "the tunnel closed at once without a "
		    "byte; ssh would say \"kex_exchange_identification: "
		    "Connection closed by remote host\"");
		item(rep, "suggest", "the proxy may cut tunnels to ports or "
		    "protocols it does not allow, or nothing answers at the "
		    "target's port; check the port, or try port 443");
		(void)snprintf(verdict, vlen, "warning: the tunnel to %s was "
		    "up, but closed at once without a byte", target);
		return EXIT_OK;
	}
	item(rep, "silent", "the target said nothing in %d s: normal for "
	    "HTTP and TLS servers, which wait for the client; an ssh server "
	    "speaks first", SPEAK_WAIT_MS / 1000);
	if (rep->t->port == 22)
		item(rep, "suggest", "an ssh server would have spoken: check "
		    "that something other than ssh does not answer there");
	(void)snprintf(verdict, vlen, "ok: the tunnel to %s is up (%lld ms); "
	    "the target did not speak first", target, up_ms);
	return EXIT_OK;
}

/* The step that failed, in words. */
static const char *
step_name(const struct report *rep, const struct failure *f)
{
	bool direct = rep->fail_hop == 0;
	bool child = rep->r != NULL && rep->fail_hop == 1 &&
	    (rep->r->proxy_command != NULL ||
	    rep->r->hop[0].alt[rep->fail_alt].px.scheme == SCHEME_HTTPS);

	if (!rep->failed)
		return f->kind == FAIL_AUTH ? "gathering credentials" :
		    "the configuration";
	if (f->kind == FAIL_USAGE)
		return "the configuration";
	switch (rep->phase) {
	case TP_RESOLVE:
		return direct ? "resolving the target's name" :
		    "resolving the proxy's name";
	case TP_CONNECT:
		return direct ? "connecting to the target" : child ?
		    "reaching the proxy through a command" :
		    "connecting to the proxy";
	case TP_NEXT:
		return "resolving the next name here for a SOCKS proxy";
	case TP_SEND:
		return "sending the request";
	case TP_RECV:
		return "the proxy's answer";
	case TP_UP:
		break;
	}
	return "the tunnel";
}

/* Suggestions for a 407 or a SOCKS authentication failure. */
static void
suggest_auth(const struct report *rep, const struct failure *f,
    const struct route_alt *a)
{
	if (rep->used[0] != '\0')
		item(rep, "suggest", "the proxy refused the credentials sent "
		    "(%s): check the user name and password (NTLM: "
		    "DOMAIN\\user); --proxy-auth SCHEME restricts culvert to "
		    "one scheme", rep->used);
	else if (rep->fail_hop > 1)
		item(rep, "suggest", "give hop %u's user in its URL (%s://USER@"
		    "host:port); culvert asks for the password", rep->fail_hop,
		    a != NULL ? proxy_scheme_name(a->px.scheme) : "http");
	else
		item(rep, "suggest", "give credentials: a user in the URL "
		    "(http://USER@proxy:port, culvert asks for the password), "
		    "-U USER, CULVERT_PROXY_USER and CULVERT_PROXY_PASSWORD, or "
		    "--auth-file FILE");
	if (rep->offered[0] != '\0')
		item(rep, "suggest", "the proxy offers: %s; culvert speaks "
		    "Basic, Digest and NTLM", rep->offered);
	else if (f->http_status == 407)
		item(rep, "suggest", "the proxy offered no scheme culvert "
		    "knows");
}

/* Suggestions for a refusal. */
static void
suggest_refused(const struct report *rep, const struct failure *f,
    const struct route_alt *a)
{
	bool last = rep->r == NULL || rep->fail_hop >= rep->r->nhops;
	int code = f->http_status, sr = f->socks_reply;

	if (!last) {
		item(rep, "suggest", "hop %u would not open a tunnel to the "
		    "next proxy: check that proxy's address and port, and "
		    "whether hop %u allows it", rep->fail_hop, rep->fail_hop);
		return;
	}
	if ((code == 403 || sr == 2) && rep->t->port != 443) {
		item(rep, "suggest", "many proxies allow CONNECT only to port "
		    "443; GitHub answers ssh on ssh.github.com port 443, "
		    "GitLab on altssh.gitlab.com port 443");
		item(rep, "suggest", "in ~/.ssh/config: Host github.com / "
		    "HostName ssh.github.com / Port 443");
		return;
	}
	if (code == 403 || sr == 2 || sr == 0x5b) {
		item(rep, "suggest", "the proxy's policy forbids this target; "
		    "ask its administrators what it allows");
		return;
	}
	if (code == 502 || code == 503 || code == 504 || (sr >= 3 &&
	    sr <= 6)) {
		item(rep, "suggest", "the proxy could not reach the target: "
		    "check its name and port, and that it runs%s",
		    a != NULL && a->px.scheme == SCHEME_SOCKS5H && sr == 4 ?
		    " (a socks5h proxy also says this when the name does not "
		    "resolve there)" : "");
		return;
	}
	if (code == 400 || code == 404 || code == 405 || code == 501) {
		item(rep, "suggest", "this may not be a proxy that supports "
		    "CONNECT: check its address, port and scheme");
		return;
	}
	item(rep, "suggest", "check the target and the proxy's policy");
}

/* Concrete suggestions for failure f. */
static void
suggest(const struct report *rep, const struct failure *f)
{
	const struct route_alt *a = alt_of(rep, rep->fail_hop, rep->fail_alt);
	bool direct = rep->failed && rep->fail_hop == 0;
	const char *what = direct ? "target" : "proxy";

	switch (f->kind) {
	case FAIL_NONE:
	case FAIL_IO:
		return;
	case FAIL_USAGE:
		item(rep, "suggest", "fix the command line or the environment "
		    "(culvert --help, man culvert)");
		return;
	case FAIL_AUTH:
		suggest_auth(rep, f, a);
		return;
	case FAIL_REFUSED:
		suggest_refused(rep, f, a);
		return;
	case FAIL_PROTO:
		item(rep, "suggest", "the answer is not what %s expects: check "
		    "the scheme (http:// for an HTTP proxy, socks5h:// for a "
		    "SOCKS one) and the port", a != NULL ?
		    proxy_scheme_name(a->px.scheme) : "culvert");
		return;
	case FAIL_TIMEOUT:
		if (rep->phase == TP_RESOLVE || rep->phase == TP_NEXT)
			item(rep, "suggest", "name resolution does not answer: "
			    "check the DNS servers (a VPN?), or raise --timeout");
		else if (rep->phase == TP_CONNECT)
			item(rep, "suggest", "nothing answered the connection "
			    "attempt: a firewall may drop packets to this "
			    "address and port; check both, or raise --timeout");
		else {
			item(rep, "suggest", "the proxy accepted the connection "
			    "but said nothing: check that it is a%s proxy and "
			    "the port is right, or raise --timeout",
			    a != NULL && !proxy_speaks_http(a->px.scheme) ?
			    " SOCKS" : "n HTTP");
			item(rep, "suggest", "in ssh_config, \"ConnectTimeout "
			    "30\" makes ssh give up too instead of hanging");
		}
		return;
	case FAIL_UNREACH:
		break;
	}
	if (strstr(f->msg, "could be reached: ") != NULL)
		item(rep, "suggest", "no alternative could be reached: check "
		    "each address above, and that those proxies run");
	else if (rep->phase == TP_RESOLVE)
		item(rep, "suggest", "check the %s's name: it does not resolve "
		    "here (a typo, or a name known only inside a network or "
		    "VPN?)", what);
	else if (rep->phase == TP_NEXT)
		item(rep, "suggest", "use socks5h:// (or socks4a://) so the "
		    "proxy resolves the name: names behind a proxy often "
		    "resolve only there");
	else if (strstr(f->msg, strerror(ECONNREFUSED)) != NULL)
		item(rep, "suggest", "nothing listens there: check the %s's "
		    "address and port, and that it runs", what);
	else if (strcmp(step_name(rep, f),
	    "reaching the proxy through a command") == 0)
		item(rep, "suggest", "the program that reaches the proxy "
		    "failed: its last words are above; run it by hand to see "
		    "more");
	else
		item(rep, "suggest", "check the %s's address and the network "
		    "(routes, VPN, firewall)", what);
}

/* The failure section and the verdict; returns the exit status. */
static int
report_failure(const struct report *rep, const struct failure *f,
    char *verdict, size_t vlen)
{
	int status = mode_exit_status(f);
	char shown[sizeof(f->msg) + 8];

	escape(shown, sizeof(shown), f->msg, strlen(f->msg), sizeof(f->msg));
	if (!rep->quiet && rep->failed && rep->r != NULL &&
	    rep->r->nhops > 1 && rep->fail_hop > 0)
		printf("failed at %s, hop %u\n", step_name(rep, f),
		    rep->fail_hop);
	else if (!rep->quiet)
		printf("failed at %s\n", step_name(rep, f));
	item(rep, "error", "%s", shown);
	suggest(rep, f);
	(void)snprintf(verdict, vlen, "failed (exit %d) at %s: %s", status,
	    step_name(rep, f), shown);
	return status;
}

int
mode_check(struct options *o)
{
	struct report rep;
	struct route_origin origin;
	struct route *r = NULL;
	struct target t;
	struct deadline d;
	struct failure f;
	struct transport tr;
	char err[512], verdict[sizeof(f.msg) + 600], shown[300];
	int status;

	(void)setvbuf(stdout, NULL, _IOLBF, 0);
	memset(&rep, 0, sizeof(rep));
	memset(&t, 0, sizeof(t));
	rep.o = o;
	rep.t = &t;
	rep.quiet = o->verbosity < 0;
	rep.start = clock_ms();
	if (o->fdpass)
		failure_set(&f, FAIL_USAGE, "--check and --fdpass do not go "
		    "together: --check relays nothing");
	else if (target_parse(&t, o->host, o->port, err, sizeof(err)) == -1)
		failure_set(&f, FAIL_USAGE, "%s", err);
	else {
		target_format(t.host, t.port, shown, sizeof(shown));
		if (!rep.quiet)
			printf("checking a tunnel to %s\n", shown);
		r = mode_route(o, &t, &origin, &f);
	}
	if (r == NULL) {
		status = report_failure(&rep, &f, verdict, sizeof(verdict));
		goto out;
	}
	rep.r = r;
	report_route(&rep, &origin);
	deadline_set(&d, o->timeout);
	rep.start = clock_ms();
	if (tunnel_open(r, &t, &d, on_event, &rep, &tr, &f) == -1)
		status = report_failure(&rep, &f, verdict, sizeof(verdict));
	else {
		status = report_target(&rep, &tr, verdict, sizeof(verdict));
		transport_close(&tr);
	}
	route_unref(r);
out:
	printf("verdict: %s\n", verdict);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		log_error("writing the report: %s", strerror(errno));
		return status == EXIT_OK ? EXIT_IO : status;
	}
	return status;
}
