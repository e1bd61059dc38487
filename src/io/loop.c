/*
 * loop.c: the event loop.  Each round asks every member for its
 * descriptors and its timer, polls once, and hands each member its slice
 * of the answer.  Members removed during a round are skipped and swept
 * out at its end, so a member may end itself (or another) from events().
 */
#include <sys/types.h>
#include <sys/resource.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/loop.h"
#include "util/clock.h"

#define SIG_MAX	65

struct member {
	const struct loop_ops	*ops;
	void			*obj;		/* NULL once removed */
	size_t			 slot, n;	/* its part of pfd */
};

struct loop {
	struct member	*m;
	size_t		 n, cap;
	struct pollfd	*pfd;
	size_t		 pfdcap;
	bool		 dirty;		/* members were removed */
	int		 sigpipe[2];
};

static int sig_wfd = -1;
static volatile sig_atomic_t sig_seen[SIG_MAX];

static void
on_signal(int sig)
{
	int saved = errno;
	unsigned char c = (unsigned char)sig;

	if (sig > 0 && sig < SIG_MAX)
		sig_seen[sig] = 1;
	(void)!write(sig_wfd, &c, 1);
	errno = saved;
}

struct loop *
loop_new(void)
{
	struct loop *l;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	l->sigpipe[0] = l->sigpipe[1] = -1;
	return l;
}

int
loop_add(struct loop *l, const struct loop_ops *ops, void *obj)
{
	if (l->n == l->cap) {
		size_t cap = l->cap == 0 ? 64 : l->cap * 2;
		struct member *m = realloc(l->m, cap * sizeof(*m));

		if (m == NULL)
			return -1;
		l->m = m;
		l->cap = cap;
	}
	l->m[l->n].ops = ops;
	l->m[l->n].obj = obj;
	l->m[l->n].n = 0;
	l->n++;
	return 0;
}

void
loop_remove(struct loop *l, void *obj)
{
	size_t i;

	for (i = l->n; i-- > 0;)
		if (l->m[i].obj == obj) {
			l->m[i].obj = NULL;
			l->dirty = true;
			return;
		}
}

static void
sweep(struct loop *l)
{
	size_t i, o = 0;

	for (i = 0; i < l->n; i++)
		if (l->m[i].obj != NULL)
			l->m[o++] = l->m[i];
	l->n = o;
	l->dirty = false;
}

size_t
loop_size(const struct loop *l)
{
	size_t i, n = 0;

	for (i = 0; i < l->n; i++)
		n += l->m[i].obj != NULL;
	return n;
}

int
loop_once(struct loop *l)
{
	size_t i, count, used = 0, need = (l->n + 1) * LOOP_MEMBER_PFD;
	long long at = CLOCK_NEVER, now;
	int r;

	if (l->dirty)
		sweep(l);
	if (need > l->pfdcap) {
		struct pollfd *p = realloc(l->pfd, need * sizeof(*p));

		if (p == NULL)
			return -1;
		l->pfd = p;
		l->pfdcap = need;
	}
	if (l->sigpipe[0] != -1) {
		l->pfd[used].fd = l->sigpipe[0];
		l->pfd[used].events = POLLIN;
		l->pfd[used++].revents = 0;
	}
	for (i = 0; i < l->n; i++) {
		struct member *m = &l->m[i];

		m->slot = used;
		m->n = m->ops->pollfds(m->obj, l->pfd + used);
		used += m->n;
		at = timer_min(at, m->ops->timer(m->obj));
	}
	r = poll(l->pfd, used, timer_poll_ms(at));
	if (r == -1 && errno != EINTR)
		return -1;
	if (l->sigpipe[0] != -1 && r > 0 && l->pfd[0].revents != 0) {
		unsigned char buf[64];

		while (read(l->sigpipe[0], buf, sizeof(buf)) > 0)
			;
	}
	now = clock_ms();
	/* Members added during this round wait for the next one. */
	for (i = 0, count = l->n; i < count; i++) {
		struct member *m = &l->m[i];
		bool ready = false;
		long long due;
		size_t k;

		if (m->obj == NULL)
			continue;
		for (k = 0; k < m->n && r > 0; k++)
			ready |= l->pfd[m->slot + k].revents != 0;
		due = m->ops->timer(m->obj);
		if (ready || (due != CLOCK_NEVER && due <= now))
			l->m[i].ops->events(l->m[i].obj, l->pfd + l->m[i].slot,
			    l->m[i].n);
	}
	return 0;
}

void
loop_free(struct loop *l)
{
	if (l == NULL)
		return;
	if (l->sigpipe[0] != -1) {
		close(l->sigpipe[0]);
		close(l->sigpipe[1]);
		sig_wfd = -1;
	}
	free(l->m);
	free(l->pfd);
	free(l);
}

int
loop_catch(struct loop *l, int sig)
{
	struct sigaction sa;

	if (sig <= 0 || sig >= SIG_MAX)
		return -1;
	if (l->sigpipe[0] == -1) {
		if (pipe(l->sigpipe) == -1)
			return -1;
		for (int i = 0; i < 2; i++) {
			(void)fcntl(l->sigpipe[i], F_SETFL, O_NONBLOCK);
			(void)fcntl(l->sigpipe[i], F_SETFD, FD_CLOEXEC);
		}
		sig_wfd = l->sigpipe[1];
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	return sigaction(sig, &sa, NULL);
}

bool
loop_caught(struct loop *l, int sig)
{
	(void)l;
	if (sig <= 0 || sig >= SIG_MAX || !sig_seen[sig])
		return false;
	sig_seen[sig] = 0;
	return true;
}

long
loop_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return -1;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1L << 30 ?
	    1L << 30 : (long)rl.rlim_cur;
}
