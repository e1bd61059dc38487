/*
 * stdio.c: culvert [options] HOST PORT, relaying stdin and stdout.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <unistd.h>

#include <string.h>

#include "io/child.h"
#include "io/fdpass.h"
#include "io/relay.h"
#include "io/tunnel.h"
#include "mode/mode.h"
#include "util/log.h"

#define RELAY_BUFSIZE	(128 * 1024)
#define RELAY_PIPESIZE	(1024 * 1024)	/* fewer, larger splices */

static int
failed(const struct failure *f)
{
	log_error("%s", f->msg);
	return mode_exit_status(f);
}

/* Hand the connected socket to ssh and step out of the way. */
static int
pass_socket(struct transport *tr)
{
	struct failure f;
	int rc;

	if (tr->rfd != tr->wfd || transport_pending(tr) > 0) {
		failure_set(&f, FAIL_USAGE, "--fdpass needs a plain connection "
		    "to the proxy, not one through openssl");
		transport_close(tr);
		return failed(&f);
	}
	rc = fdpass_send(STDOUT_FILENO, tr->rfd, &f);
	transport_close(tr);
	if (rc == -1)
		return failed(&f);
	log_info("passed the connection to ssh");
	return EXIT_OK;
}

static int
child_drain(void *arg)
{
	return child_read_err(arg);
}

/* The proxy command ended the tunnel with a failure of its own. */
static bool
child_failed(struct child *c)
{
	char how[64];

	if (!child_exited(c) || (WIFEXITED(c->status) &&
	    WEXITSTATUS(c->status) == 0))
		return false;
	child_describe(c, how, sizeof(how));
	log_error("the proxy command %s%s%s", how, c->last[0] != '\0' ?
	    ": " : "", c->last);
	return true;
}

int
mode_stdio(struct options *o)
{
	struct route_origin origin;
	struct route *r;
	struct target t;
	struct deadline d;
	struct failure f;
	struct transport tr;
	struct relay rl;
	struct relay_config rc;
	char err[512], shown[300];
	int status;

	if (target_parse(&t, o->host, o->port, err, sizeof(err)) == -1) {
		failure_set(&f, FAIL_USAGE, "%s", err);
		return failed(&f);
	}
	if (o->fdpass && o->proxy_command != NULL) {
		failure_set(&f, FAIL_USAGE, "--fdpass needs a plain connection "
		    "to the proxy, not a --proxy-command");
		return failed(&f);
	}
	if (o->fdpass && fdpass_check(STDOUT_FILENO, &f) == -1)
		return failed(&f);
	if ((r = mode_route(o, &t, &origin, &f)) == NULL)
		return failed(&f);

	deadline_set(&d, o->timeout);
	/* The tunnel holds the route, and its credentials, until it is up. */
	status = tunnel_open(r, &t, &d, mode_log_event, NULL, &tr, &f);
	route_unref(r);
	if (status == -1)
		return failed(&f);
	target_format(t.host, t.port, shown, sizeof(shown));
	log_info("tunnel to %s is up", shown);
	if (o->fdpass)
		return pass_socket(&tr);

	memset(&rc, 0, sizeof(rc));
	rc.bufsize = RELAY_BUFSIZE;
	rc.pipe_size = RELAY_PIPESIZE;
	rc.splice = !o->no_splice;
	rc.shutdown_on_eof = o->shutdown;
	rc.first = tr.buf;
	rc.firstlen = transport_pending(&tr);
	rc.aux = tr.child.err;
	rc.aux_read = tr.child.pid > 0 ? child_drain : NULL;
	rc.aux_arg = &tr.child;
	if (tr.child.pid > 0)
		child_guard(&tr.child);
	if (relay_init(&rl, STDIN_FILENO, STDOUT_FILENO, tr.rfd, tr.wfd,
	    &rc) == -1) {
		log_error("out of memory");
		transport_close(&tr);
		return EXIT_IO;
	}
	status = relay_run(&rl) == 0 ? EXIT_OK : EXIT_IO;
	if (status != EXIT_OK)
		log_error("%s: %s", rl.errwhat, strerror(rl.err));
	else if (tr.child.pid > 0 && child_failed(&tr.child))
		status = EXIT_IO;
	log_info("tunnel closed: %llu bytes sent, %llu received",
	    rl.up.total, rl.down.total);
	if (rl.netout == -1)
		tr.wfd = -1;	/* the relay closed it to signal EOF */
	relay_free(&rl);
	transport_close(&tr);
	child_guard(NULL);
	return status;
}
