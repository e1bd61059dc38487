/*
 * net.c: resolving and connecting under a deadline.
 *
 * getaddrinfo() cannot be interrupted, so a name that needs DNS is
 * resolved on a short-lived thread while this one waits on a pipe with
 * poll(); when the deadline passes first, the thread is abandoned and
 * cleans up after itself.  Numeric addresses skip the thread.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"
#include "io/net.h"
#include "route/target.h"

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
deadline_set(struct deadline *d, double seconds)
{
	d->none = seconds <= 0;
	d->at_ms = now_ms() + (long long)(seconds * 1000.0 + 0.5);
}

int
deadline_left(const struct deadline *d)
{
	long long left;

	if (d->none)
		return -1;
	left = d->at_ms - now_ms();
	if (left <= 0)
		return 0;
	return left > 1000000000 ? 1000000000 : (int)left;
}

bool
deadline_expired(const struct deadline *d)
{
	return !d->none && deadline_left(d) == 0;
}

int
net_wait(int fd, short events, const struct deadline *d)
{
	struct pollfd pfd;
	int r;

	pfd.fd = fd;
	pfd.events = events;
	for (;;) {
		int left = deadline_left(d);

		if (left == 0)
			return 0;
		r = poll(&pfd, 1, left);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return r;
		return 1;
	}
}

struct resolve_job {
	pthread_mutex_t	 lock;
	int		 refs;		/* waiter and thread */
	int		 wakefd;	/* write end, -1 once the waiter left */
	char		 host[256];
	char		 port[8];
	struct addrinfo	 hints;
	struct addrinfo	*res;
	int		 rc;
};

static void
job_release(struct resolve_job *j)
{
	int left;

	pthread_mutex_lock(&j->lock);
	left = --j->refs;
	pthread_mutex_unlock(&j->lock);
	if (left > 0)
		return;
	if (j->res != NULL)
		freeaddrinfo(j->res);
	if (j->wakefd != -1)
		close(j->wakefd);
	pthread_mutex_destroy(&j->lock);
	free(j);
}

static void *
resolve_thread(void *arg)
{
	struct resolve_job *j = arg;
	char c = 0;

	j->rc = getaddrinfo(j->host, j->port, &j->hints, &j->res);
	(void)!write(j->wakefd, &c, 1);
	job_release(j);
	return NULL;
}

int
net_resolve(const char *host, unsigned port, int family, int socktype,
    const char *what, const struct deadline *d, struct addrinfo **res, struct failure *f)
{
	struct addrinfo hints;
	struct resolve_job *j;
	pthread_t tid;
	char portstr[8];
	int p[2], rc, r;

	snprintf(portstr, sizeof(portstr), "%u", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = socktype;
	hints.ai_flags = AI_NUMERICSERV | AI_NUMERICHOST;
	if (getaddrinfo(host, portstr, &hints, res) == 0)
		return 0;

	hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		failure_set(f, EXIT_IO, "out of memory");
		return -1;
	}
	if (pipe(p) == -1) {
		free(j);
		failure_set(f, EXIT_IO, "pipe: %s", strerror(errno));
		return -1;
	}
	pthread_mutex_init(&j->lock, NULL);
	j->refs = 2;
	j->wakefd = p[1];
	snprintf(j->host, sizeof(j->host), "%s", host);
	memcpy(j->port, portstr, sizeof(j->port));
	j->hints = hints;
	if (pthread_create(&tid, NULL, resolve_thread, j) != 0) {
		/* No thread: resolve here, without the deadline. */
		close(p[0]);
		close(p[1]);
		pthread_mutex_destroy(&j->lock);
		free(j);
		rc = getaddrinfo(host, portstr, &hints, res);
		goto done;
	}
	pthread_detach(tid);
	r = net_wait(p[0], POLLIN, d);
	close(p[0]);
	if (r <= 0) {
		job_release(j);
		failure_set(f, EXIT_TIMEOUT, "timed out resolving %s %s "
		    "(raise --timeout, or check DNS)", what, host);
		return -1;
	}
	rc = j->rc;
	*res = j->res;
	j->res = NULL;
	job_release(j);
done:
	if (rc != 0) {
		failure_set(f, EXIT_UNREACH, "cannot resolve %s %s: %s (check "
		    "the name)", what, host, gai_strerror(rc));
		return -1;
	}
	return 0;
}

void
net_nodelay(int fd)
{
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static int
set_flags(int fd)
{
	int fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
		return -1;
	return 0;
}

/* Try one address; returns the socket, -1 with errno, or -2 on timeout. */
static int
try_connect(const struct addrinfo *ai, const struct deadline *d)
{
	socklen_t len;
	int fd, err, r;

	if ((fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol))
	    == -1)
		return -1;
	if (set_flags(fd) == -1)
		goto fail;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS && errno != EINTR)
		goto fail;
	r = net_wait(fd, POLLOUT, d);
	if (r == 0) {
		close(fd);
		return -2;
	}
	if (r == -1)
		goto fail;
	len = sizeof(err);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		goto fail;
	if (err != 0) {
		errno = err;
		goto fail;
	}
	return fd;
fail:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

int
net_connect(const char *host, unsigned port, int family, const char *what,
    const struct deadline *d, struct failure *f)
{
	struct addrinfo *res, *ai;
	char addr[300];
	int fd = -1, err = 0;

	target_format(host, port, addr, sizeof(addr));
	log_info("resolving %s %s", what, addr);
	if (net_resolve(host, port, family, SOCK_STREAM, what, d, &res, f)
	    == -1)
		return -1;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		char num[NI_MAXHOST], shown[NI_MAXHOST + 16];

		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, num, sizeof(num),
		    NULL, 0, NI_NUMERICHOST) != 0)
			snprintf(num, sizeof(num), "?");
		target_format(num, port, shown, sizeof(shown));
		log_info("connecting to %s %s", what, shown);
		fd = try_connect(ai, d);
		if (fd >= 0)
			break;
		if (fd == -2) {
			freeaddrinfo(res);
			failure_set(f, EXIT_TIMEOUT, "timed out connecting to "
			    "%s %s (raise --timeout, or check the address)",
			    what, addr);
			return -1;
		}
		err = errno;
		log_info("cannot connect to %s %s: %s", what, shown,
		    strerror(err));
	}
	freeaddrinfo(res);
	if (fd < 0) {
		failure_set(f, EXIT_UNREACH, "cannot connect to %s %s: %s "
		    "(is the %s running and the address right?)", what, addr,
		    strerror(err != 0 ? err : EHOSTUNREACH), what);
		return -1;
	}
	net_nodelay(fd);
	return fd;
}
