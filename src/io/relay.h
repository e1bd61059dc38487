/*
 * relay.h: move bytes both ways between a local pair of descriptors
 * (stdin and stdout, or an accepted client socket twice) and the tunnel
 * (a socket, or the two pipes of a --proxy-command) until done.
 *
 * The relay is a state machine with a fixed set of poll() slots, so a
 * driver can run one (relay_run) or many in one event loop
 * (relay_pollfds/relay_events).  Each direction moves bytes either
 * through a memory buffer with read/write, or, on Linux, with splice(2):
 * straight when one end is a pipe, else through a private pipe; the loop
 * is the same for all of them.
 */
#ifndef CULVERT_RELAY_H
#define CULVERT_RELAY_H

#include <sys/types.h>

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>

enum relay_slot {
	SLOT_IN,	/* local input readable */
	SLOT_NETIN,	/* tunnel readable */
	SLOT_NETOUT,	/* tunnel writable */
	SLOT_OUT,	/* local output writable, or gone */
	SLOT_AUX,	/* a side channel to drain (a child's stderr) */
	SLOT_MAX
};

struct relay_dir {
	int		 src, dst;
	int		 srckind, dstkind;	/* enum fdkind */
	unsigned char	*buf;			/* memory path */
	size_t		 off, len, cap;		/* bytes buf[off..off+len) */
	size_t		 bufsize;		/* for a late memory path */
	int		 pipe[2];		/* splice path, -1 when unused */
	int		 mode;			/* enum dirmode */
	unsigned char	*first;			/* to write before the rest */
	size_t		 firstoff, firstlen;
	bool		 need_out;		/* direct splice: dst was full */
	bool		 eof;			/* src said EOF */
	bool		 done;			/* nothing more will move */
	unsigned long long total;
};

struct relay {
	int		 in, out, netin, netout;
	int		 aux;			/* -1: none */
	int		(*aux_read)(void *);	/* -1 once aux is done */
	void		*aux_arg;
	bool		 shutdown_on_eof;	/* -N, or both_ways */
	bool		 both_ways;		/* end when both ways are done */
	struct relay_dir up;			/* in -> net */
	struct relay_dir down;			/* net -> out */
	bool		 out_gone;		/* reader of out went away */
	int		 pending;		/* errno to report once drained */
	int		 err;			/* errno of a fatal error */
	const char	*errwhat;		/* what failed, for messages */
};

struct relay_config {
	size_t	 bufsize;	/* per direction, memory path */
	size_t	 pipe_size;	/* splice pipes grown to this; 0: as is */
	bool	 splice;	/* allow the splice(2) path */
	bool	 shutdown_on_eof; /* end of input: shut down the tunnel's
				   sending side */
	/*
	 * A listener's relay: the local side is a socket of ours (splice
	 * into it is safe), half-closes travel both ways, and the relay
	 * ends when both directions are done.  Without it (stdio mode) the
	 * relay ends when the tunnel's side is done, as nc does.
	 */
	bool	 both_ways;
	/*
	 * A descriptor to drain while the relay runs (a proxy command's
	 * stderr): aux_read(aux_arg) is called when it is readable and
	 * returns -1 once it is closed.  aux -1: none.
	 */
	int	 aux;
	int	(*aux_read)(void *);
	void	*aux_arg;
	/* Bytes read past the handshake: written to out before the rest. */
	const unsigned char *first;
	size_t	 firstlen;
	/* Bytes the client sent with its request: to the tunnel first. */
	const unsigned char *up_first;
	size_t	 up_firstlen;
};

/*
 * Set up r between in/out and the tunnel's netin/netout (the same socket
 * twice, or two pipes); the caller keeps ownership of the descriptors.
 * 0, or -1 when out of memory.
 */
int	relay_init(struct relay *r, int in, int out, int netin, int netout,
	    const struct relay_config *);
/* Fill pfd[SLOT_MAX] with what the relay waits for; returns SLOT_MAX. */
size_t	relay_pollfds(struct relay *r, struct pollfd *pfd);
/*
 * Act on poll()'s answer.  Returns 1 while running, 0 when the relay is
 * finished normally, -1 on an I/O error (r->err, r->errwhat).
 */
int	relay_events(struct relay *r, const struct pollfd *pfd);
/*
 * The size of the splice pipes for a relay when `tunnels` relays run at
 * once: the per-user pipe budget (/proc/sys/fs/pipe-user-pages-soft)
 * shared out, between 16 KiB and 1 MiB.
 */
size_t	relay_pipe_budget(size_t tunnels);
/*
 * What kind of descriptor an inherited fd (stdout) is, for
 * relay_write_local(), asked once; a pipe is grown to pipe_size (0: not
 * at all), as a relay grows the pipes it splices with.
 */
int	relay_local_kind(int fd, size_t pipe_size);
/*
 * Write to an inherited descriptor of that kind after poll() said
 * writable, never blocking: bytes written, or -1 with errno (EAGAIN:
 * later).
 */
ssize_t	relay_write_local(int fd, int kind, const void *p, size_t len);
/* Run one relay to its end with its own poll() loop; as above. */
int	relay_run(struct relay *r);
void	relay_free(struct relay *r);

#endif
