/*
 * clock.h: monotonic milliseconds and deadlines.  One deadline bounds the
 * whole way to a working tunnel ("--timeout"); timers inside it (the next
 * connection attempt, an alternative's share) are absolute milliseconds
 * on the same clock.
 */
#ifndef CULVERT_UTIL_CLOCK_H
#define CULVERT_UTIL_CLOCK_H

#include <stdbool.h>

#define CLOCK_NEVER	(-1LL)	/* a timer that is not set */

struct deadline {
	bool	 none;		/* no deadline at all */
	long long at_ms;	/* CLOCK_MONOTONIC milliseconds */
};

long long clock_ms(void);	/* CLOCK_MONOTONIC, milliseconds */

void	deadline_set(struct deadline *, double seconds);	/* 0: none */
/* Milliseconds left for poll(): -1 for none, 0 when expired. */
int	deadline_left(const struct deadline *);
bool	deadline_expired(const struct deadline *);
/* The deadline as a timer: its at_ms, or CLOCK_NEVER. */
long long deadline_ms(const struct deadline *);

/* The earlier of two timers, either of which may be CLOCK_NEVER. */
long long timer_min(long long a, long long b);
/* poll()'s timeout for a timer: -1 for CLOCK_NEVER, else ms from now. */
int	timer_poll_ms(long long at);

#endif
