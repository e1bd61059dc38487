/*
 * manytunnels.c: open many tunnels at once in one process and one poll()
 * loop, through culvert's own tunnel state machine (io/tunnel.h), and
 * report how each one ended and when.
 *
 * usage: manytunnels [-u USER:PASS] [-t SECONDS] PROXY-URL HOST:PORT...
 *
 * Prints one line per tunnel, in the order given:
 *	INDEX HOST:PORT up MS
 *	INDEX HOST:PORT fail KIND HTTP-STATUS MS MESSAGE
 * where MS is the time from the start to the outcome and KIND the
 * failure kind (refused, auth, ...).  Exits 0 when every tunnel ended,
 * 1 on a usage or set-up error.  A tunnel that is up is closed at once.
 */
#include <sys/resource.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/challenge.h"
#include "auth/creds.h"
#include "io/tunnel.h"
#include "route/route.h"
#include "route/target.h"
#include "util/clock.h"

#define MAX_TUNNELS	4096

static const char *const kinds[] = {
	[FAIL_NONE] = "none", [FAIL_IO] = "io", [FAIL_USAGE] = "usage",
	[FAIL_UNREACH] = "unreach", [FAIL_REFUSED] = "refused",
	[FAIL_AUTH] = "auth", [FAIL_TIMEOUT] = "timeout",
	[FAIL_PROTO] = "proto"
};

struct one {
	struct tunnel	*t;
	struct target	 target;
	const char	*arg;
	long long	 ms;
	char		 result[1200];
	size_t		 slot, nslots;
};

static void
usage(void)
{
	fprintf(stderr, "usage: manytunnels [-u USER:PASS] [-t SECONDS] "
	    "PROXY-URL HOST:PORT...\n");
	exit(1);
}

static struct route *
make_route(const char *url, const char *userpass)
{
	struct route *r;
	char err[512];
	const char *colon;

	if ((r = route_new()) == NULL || route_add(r, url, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "manytunnels: %s\n", r == NULL ? "no memory" :
		    err);
		exit(1);
	}
	r->auth_allow = AUTH_ALLOW_ANY;
	if (userpass != NULL && (colon = strchr(userpass, ':')) != NULL) {
		struct creds *c = calloc(1, sizeof(*c));

		if (c == NULL)
			exit(1);
		snprintf(c->user, sizeof(c->user), "%.*s",
		    (int)(colon - userpass), userpass);
		snprintf(c->pass, sizeof(c->pass), "%s", colon + 1);
		c->have_user = c->have_pass = true;
		c->source = "-u";
		r->hop[0].alt[0].creds = c;
	}
	return r;
}

int
main(int argc, char **argv)
{
	static struct one tun[MAX_TUNNELS];
	static struct pollfd pfd[MAX_TUNNELS * TUNNEL_PFD_MAX];
	const char *userpass = NULL;
	double timeout = 30;
	struct rlimit rl;
	struct deadline d;
	struct route *r;
	long long start, at;
	size_t n, i, busy;
	int ch;

	signal(SIGPIPE, SIG_IGN);
	while ((ch = getopt(argc, argv, "t:u:")) != -1) {
		switch (ch) {
		case 't':
			timeout = atof(optarg);
			break;
		case 'u':
			userpass = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2 || (size_t)argc - 1 > MAX_TUNNELS)
		usage();
	/* Many descriptors at once, as a listener raises its limit. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	r = make_route(argv[0], userpass);
	n = (size_t)argc - 1;
	start = clock_ms();
	deadline_set(&d, timeout);
	for (i = 0; i < n; i++) {
		const char *arg = argv[i + 1], *colon = strrchr(arg, ':');
		char host[256], err[256];

		if (colon == NULL || (size_t)(colon - arg) >= sizeof(host))
			usage();
		snprintf(host, sizeof(host), "%.*s", (int)(colon - arg), arg);
		if (target_parse(&tun[i].target, host, colon + 1, err,
		    sizeof(err)) == -1) {
			fprintf(stderr, "manytunnels: %s: %s\n", arg, err);
			return 1;
		}
		tun[i].arg = arg;
		if ((tun[i].t = tunnel_new(r, &tun[i].target, &d, NULL, NULL))
		    == NULL) {
			fprintf(stderr, "manytunnels: out of memory\n");
			return 1;
		}
	}
	route_unref(r);	/* the tunnels hold it now */

	do {
		size_t used = 0;

		at = CLOCK_NEVER;
		busy = 0;
		for (i = 0; i < n; i++) {
			struct one *o = &tun[i];
			enum tunnel_status st;

			if (o->t == NULL)
				continue;
			/* Act on the last poll, then ask again. */
			st = tunnel_events(o->t, pfd + o->slot, o->nslots);
			if (st != TUNNEL_BUSY) {
				const struct failure *f = tunnel_failure(o->t);

				o->ms = clock_ms() - start;
				if (st == TUNNEL_UP)
					snprintf(o->result, sizeof(o->result),
					    "up %lld", o->ms);
				else
					snprintf(o->result, sizeof(o->result),
					    "fail %s %d %lld %s", kinds[f->kind],
					    f->http_status, o->ms, f->msg);
				tunnel_free(o->t);
				o->t = NULL;
				continue;
			}
			o->slot = used;
			o->nslots = tunnel_pollfds(o->t, pfd + used);
			used += o->nslots;
			at = timer_min(at, tunnel_timer(o->t));
			busy++;
		}
		if (busy == 0)
			break;
		if (poll(pfd, used, timer_poll_ms(at)) == -1 &&
		    errno != EINTR) {
			perror("manytunnels: poll");
			return 1;
		}
	} while (busy > 0);

	for (i = 0; i < n; i++)
		printf("%zu %s %s\n", i, tun[i].arg, tun[i].result);
	return fflush(stdout) == 0 ? 0 : 1;
}
