/*
 * child.c: spawning and ending the proxy command.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/child.h"
#include "io/net.h"

static void
close_pair(int p[2])
{
	if (p[0] != -1)
		close(p[0]);
	if (p[1] != -1)
		close(p[1]);
	p[0] = p[1] = -1;
}

int
child_spawn(struct child *c, char *const argv[], bool shell,
    struct failure *f)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
	char *sh[] = { "/bin/sh", "-c", NULL, NULL }, *script = NULL;
	size_t len;

	memset(c, 0, sizeof(*c));
	c->pid = -1;
	c->in = c->out = c->err = -1;
	if (shell) {
		/*
		 * "exec CMD", as ssh runs a ProxyCommand: the shell becomes
		 * the command, so the process we stop and reap is the
		 * command itself, not a shell that would leave it behind.
		 * A CMD that says "exec" itself is left alone ("exec exec"
		 * would look for a program called exec).  Built before
		 * fork(): the child of a threaded process may not allocate.
		 */
		const char *p = argv[0] + strspn(argv[0], " \t");

		len = strlen(argv[0]) + sizeof("exec ");
		if ((script = malloc(len)) == NULL) {
			failure_set(f, FAIL_IO, "out of memory");
			return -1;
		}
		(void)snprintf(script, len, "%s%s", strncmp(p, "exec", 4) == 0 &&
		    (p[4] == ' ' || p[4] == '\t') ? "" : "exec ", argv[0]);
		sh[2] = script;
	}
	if (pipe(in) == -1 || pipe(out) == -1 || pipe(err) == -1) {
		failure_set(f, FAIL_IO, "cannot start the proxy command: %s",
		    strerror(errno));
		goto fail;
	}
	if ((c->pid = fork()) == -1) {
		failure_set(f, FAIL_IO, "cannot start the proxy command: %s",
		    strerror(errno));
		goto fail;
	}
	if (c->pid == 0) {
#ifdef __linux__
		/* It must not outlive us, even if we are killed outright. */
		(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
		(void)signal(SIGPIPE, SIG_DFL);
		if (dup2(in[0], STDIN_FILENO) == -1 ||
		    dup2(out[1], STDOUT_FILENO) == -1 ||
		    dup2(err[1], STDERR_FILENO) == -1)
			_exit(127);
		close_pair(in);
		close_pair(out);
		close_pair(err);
		if (shell)
			execv(sh[0], sh);
		else
			execvp(argv[0], argv);
		dprintf(STDERR_FILENO, "cannot run %s: %s\n",
		    shell ? sh[0] : argv[0], strerror(errno));
		_exit(127);
	}
	free(script);
	close(in[0]);
	close(out[1]);
	close(err[1]);
	c->in = in[1];
	c->out = out[0];
	c->err = err[0];
	if (net_own_fd(c->in) == -1 || net_own_fd(c->out) == -1 ||
	    net_own_fd(c->err) == -1) {
		failure_set(f, FAIL_IO, "cannot set up the proxy command's "
		    "pipes: %s", strerror(errno));
		child_stop(c, 0);
		return -1;
	}
	return 0;
fail:
	free(script);
	close_pair(in);
	close_pair(out);
	close_pair(err);
	return -1;
}

int
child_read_err(struct child *c)
{
	char buf[4096];
	ssize_t n, i;

	if (c->err == -1)
		return -1;
	n = read(c->err, buf, sizeof(buf));
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		close(c->err);
		c->err = -1;
		if (c->partlen > 0) {
			memcpy(c->last, c->part, c->partlen);
			c->last[c->partlen] = '\0';
		}
		return -1;
	}
	/* Its messages are the user's to see, as ssh shows a ProxyCommand's. */
	(void)!write(STDERR_FILENO, buf, (size_t)n);
	for (i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			if (c->partlen > 0) {
				memcpy(c->last, c->part, c->partlen);
				c->last[c->partlen] = '\0';
			}
			c->partlen = 0;
		} else if (c->partlen + 1 < sizeof(c->part) &&
		    (unsigned char)buf[i] >= 0x20 && buf[i] != 0x7f)
			c->part[c->partlen++] = buf[i];
	}
	return 0;
}

bool
child_exited(struct child *c)
{
	pid_t r;

	if (c->reaped)
		return true;
	if (c->pid <= 0)
		return false;
	while ((r = waitpid(c->pid, &c->status, WNOHANG)) == -1 &&
	    errno == EINTR)
		;
	if (r == c->pid)
		c->reaped = true;
	return c->reaped;
}

void
child_describe(struct child *c, char *buf, size_t len)
{
	if (!child_exited(c))
		(void)snprintf(buf, len, "is running");
	else if (WIFEXITED(c->status))
		(void)snprintf(buf, len, "exited with status %d",
		    WEXITSTATUS(c->status));
	else if (WIFSIGNALED(c->status))
		(void)snprintf(buf, len, "was killed by signal %d",
		    WTERMSIG(c->status));
	else
		(void)snprintf(buf, len, "ended");
}

void
child_stop(struct child *c, int wait_ms)
{
	int waited;

	if (c->in != -1)
		close(c->in);
	if (c->out != -1)
		close(c->out);
	if (c->err != -1) {
		/* Its last words first, while they are there. */
		while (child_read_err(c) == 0 && poll(&(struct pollfd){
		    c->err, POLLIN, 0 }, 1, 0) == 1)
			;
		if (c->err != -1)
			close(c->err);
	}
	c->in = c->out = c->err = -1;
	if (c->pid <= 0 || c->reaped)
		return;
	(void)kill(c->pid, SIGTERM);
	for (waited = 0; !child_exited(c) && waited < wait_ms; waited += 10)
		(void)poll(NULL, 0, 10);
	if (!c->reaped && wait_ms > 0) {
		(void)kill(c->pid, SIGKILL);
		while (waitpid(c->pid, &c->status, 0) == -1 && errno == EINTR)
			;
		c->reaped = true;
	}
}

bool
child_in_path(const char *prog)
{
	const char *path = getenv("PATH");
	char full[4096];
	size_t n;

	if (strchr(prog, '/') != NULL)
		return access(prog, X_OK) == 0;
	if (path == NULL)
		path = "/usr/bin:/bin";
	while (*path != '\0') {
		n = strcspn(path, ":");
		if (snprintf(full, sizeof(full), "%.*s/%s", (int)n, path,
		    prog) > 0 && access(full, X_OK) == 0)
			return true;
		path += n;
		if (*path == ':')
			path++;
	}
	return false;
}

static int grace_ms = CHILD_GRACE_MS;

void
child_set_grace(int ms)
{
	grace_ms = ms;
}

int
child_grace(void)
{
	return grace_ms;
}

/* The child that a fatal signal to us must take along (stdio mode). */
static volatile pid_t guarded = -1;

static void
guard_signal(int sig)
{
	if (guarded > 0)
		(void)kill(guarded, SIGTERM);
	(void)signal(sig, SIG_DFL);
	(void)raise(sig);
}

void
child_guard(const struct child *c)
{
	static const int sigs[] = { SIGHUP, SIGINT, SIGTERM, SIGQUIT };
	struct sigaction sa;
	size_t i;

	guarded = c != NULL ? c->pid : -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = c != NULL ? guard_signal : SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		(void)sigaction(sigs[i], &sa, NULL);
}
