/*
 * relay.h: move bytes both ways between a local pair of descriptors
 * (stdin and stdout) and a connected socket until both ways are done.
 *
 * The relay is a state machine with a fixed set of poll() slots, so a
 * driver can run one (relay_run) or later many in one event loop
 * (relay_pollfds/relay_events).  Each direction moves bytes either
 * through a memory buffer with read/write, or, on Linux, through a kernel
 * pipe with splice(2); the loop is the same for both.
 */
#ifndef CULVERT_RELAY_H
#define CULVERT_RELAY_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>

enum relay_slot {
	SLOT_IN,	/* local input readable */
	SLOT_NETIN,	/* socket readable */
	SLOT_NETOUT,	/* socket writable */
	SLOT_OUT,	/* local output writable, or gone */
	SLOT_MAX
};

struct relay_dir {
	int		 src, dst;
	int		 srckind, dstkind;	/* enum fdkind */
	unsigned char	*buf;			/* memory path */
	size_t		 off, len, cap;		/* bytes buf[off..off+len) */
	int		 pipe[2];		/* splice path, -1 when unused */
	int		 mode;			/* enum dirmode */
	bool		 need_out;		/* direct splice: dst was full */
	bool		 eof;			/* src said EOF */
	bool		 done;			/* nothing more will move */
	unsigned long long total;
};

struct relay {
	int		 in, out, net;
	bool		 shutdown_on_eof;	/* -N */
	struct relay_dir up;			/* in -> net */
	struct relay_dir down;			/* net -> out */
	bool		 out_gone;		/* reader of out went away */
	int		 pending;		/* errno to report once drained */
	int		 err;			/* errno of a fatal error */
	const char	*errwhat;		/* what failed, for messages */
};

struct relay_config {
	size_t	 bufsize;	/* per direction, memory path */
	bool	 splice;	/* allow the splice(2) path */
	bool	 shutdown_on_eof;
};

/* Set up r over in/out/net; the caller keeps ownership of the fds. */
int	relay_init(struct relay *r, int in, int out, int net,
	    const struct relay_config *);
/* Fill pfd[SLOT_MAX] with what the relay waits for. */
void	relay_pollfds(struct relay *r, struct pollfd *pfd);
/*
 * Act on poll()'s answer.  Returns 1 while running, 0 when the relay is
 * finished normally, -1 on an I/O error (r->err, r->errwhat).
 */
int	relay_events(struct relay *r, const struct pollfd *pfd);
/* Run one relay to its end with its own poll() loop; as above. */
int	relay_run(struct relay *r);
void	relay_free(struct relay *r);

#endif
