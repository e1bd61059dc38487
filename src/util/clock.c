/*
 * clock.c: monotonic time, deadlines and timers.
 */
#include <time.h>

#include "util/clock.h"

#define POLL_MS_MAX	1000000000LL	/* poll() takes an int */

long long
clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
deadline_set(struct deadline *d, double seconds)
{
	d->none = seconds <= 0;
	d->at_ms = clock_ms() + (long long)(seconds * 1000.0 + 0.5);
}

int
deadline_left(const struct deadline *d)
{
	return d->none ? -1 : timer_poll_ms(d->at_ms);
}

bool
deadline_expired(const struct deadline *d)
{
	return !d->none && deadline_left(d) == 0;
}

long long
deadline_ms(const struct deadline *d)
{
	return d->none ? CLOCK_NEVER : d->at_ms;
}

long long
timer_min(long long a, long long b)
{
	if (a == CLOCK_NEVER)
		return b;
	if (b == CLOCK_NEVER)
		return a;
	return a < b ? a : b;
}

int
timer_poll_ms(long long at)
{
	long long left;

	if (at == CLOCK_NEVER)
		return -1;
	left = at - clock_ms();
	if (left <= 0)
		return 0;
	return (int)(left > POLL_MS_MAX ? POLL_MS_MAX : left);
}
