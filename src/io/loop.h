/*
 * loop.h: one poll() loop for many members (listeners, connections,
 * timers), as listen mode and culvert serve need.  A member is an object
 * with three operations in the shape of the tunnel and the relay: the
 * descriptors it waits for, the moment it must run anyway, and what to do
 * with poll()'s answer.  No thread per connection: one process, one loop.
 *
 * Signals reach the loop through a self-pipe, so a handler never runs
 * anything but a write(2).
 */
#ifndef CULVERT_IO_LOOP_H
#define CULVERT_IO_LOOP_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>

#define LOOP_MEMBER_PFD	24	/* pollfd slots one member may fill */

struct loop_ops {
	/* Fill pfd (LOOP_MEMBER_PFD slots at most); returns how many. */
	size_t		(*pollfds)(void *obj, struct pollfd *pfd);
	/* The next moment events must run without an event, or CLOCK_NEVER. */
	long long	(*timer)(void *obj);
	/* Act on poll()'s answer for the slots pollfds filled (or a timer). */
	void		(*events)(void *obj, const struct pollfd *pfd, size_t n);
};

struct loop;

/* Fill one pollfd slot; returns 1, the slots used. */
static inline size_t
pollfd_set(struct pollfd *p, int fd, short events)
{
	p->fd = fd;
	p->events = events;
	p->revents = 0;
	return 1;
}

struct loop	*loop_new(void);
/* Add obj; 0, or -1 when out of memory. */
int		 loop_add(struct loop *, const struct loop_ops *, void *obj);
/* Forget obj; safe at any time, also from inside its own events(). */
void		 loop_remove(struct loop *, void *obj);
/*
 * One round: poll every member's descriptors until one is ready, a
 * timer is due or a caught signal arrives, then run their events.
 * 0, or -1 with errno (poll failed for another reason than EINTR).
 */
int		 loop_once(struct loop *);
size_t		 loop_size(const struct loop *);
void		 loop_free(struct loop *);

/* Catch sig through the self-pipe (one loop per process); 0 or -1. */
int		 loop_catch(struct loop *, int sig);
/* Has sig arrived since the last call?  Clears it. */
bool		 loop_caught(struct loop *, int sig);

/* Raise the soft descriptor limit to the hard one; returns the soft limit. */
long		 loop_raise_nofile(void);

#endif
