/*
 * child.h: a program that carries the connection to the first proxy
 * (--proxy-command, or openssl for an https:// proxy).  Its stdin and
 * stdout are pipes to us; its stderr is a pipe too, so its last words can
 * go into our error message while every line still reaches the user.
 */
#ifndef CULVERT_IO_CHILD_H
#define CULVERT_IO_CHILD_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>

#include "util/failure.h"

#define CHILD_LINE_MAX	256
#define CHILD_GRACE_MS	1000	/* after SIGTERM, before SIGKILL */

struct child {
	pid_t	 pid;		/* -1: none */
	int	 in, out, err;	/* its stdin (we write), stdout, stderr */
	int	 status;	/* once reaped */
	bool	 reaped;
	char	 last[CHILD_LINE_MAX];	/* last line it wrote to stderr */
	char	 part[CHILD_LINE_MAX];	/* a line being read */
	size_t	 partlen;
};

/*
 * Start argv[0] (searched in PATH) with argv, or with shell set, run
 * "/bin/sh -c 'exec argv[0]'" as ssh runs a ProxyCommand (no second
 * "exec" when argv[0] starts with one).  Our ends are non-blocking and
 * close-on-exec.  0, or -1 with f set.
 */
int	child_spawn(struct child *c, char *const argv[], bool shell,
	    struct failure *f);
/*
 * Read what the child wrote to stderr: copy it to our stderr, keep the
 * last line.  Returns 0 while the pipe is open, -1 once it is closed.
 */
int	child_read_err(struct child *c);
/* Reap the child if it has exited; true when it has. */
bool	child_exited(struct child *c);
/* "exited with status 2", "was killed by signal 9", or "is running". */
void	child_describe(struct child *c, char *buf, size_t len);
/*
 * End it: close our ends, SIGTERM, and reap it (SIGKILL after a grace of
 * wait_ms; 0 reaps only if it is already gone).
 */
void	child_stop(struct child *c, int wait_ms);
/*
 * In a process that runs one tunnel: a hangup, interrupt or termination
 * signal ends c too before it ends us (NULL: forget it).
 */
void	child_guard(const struct child *c);
/*
 * How long child_stop() waits for a child to go by default: a process
 * that runs many tunnels in one loop sets 0 and reaps on SIGCHLD.
 */
void	child_set_grace(int ms);
int	child_grace(void);
/* Is this program in PATH? */
bool	child_in_path(const char *prog);

#endif
