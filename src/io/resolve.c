/*
 * resolve.c: getaddrinfo() on a thread, answered through a pipe.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/resolve.h"

/* getaddrinfo() needs far less; the default would reserve megabytes. */
#define RESOLVE_STACK	(256 * 1024)

struct resolve {
	pthread_mutex_t	 lock;
	int		 refs;		/* the caller and the thread */
	int		 rfd, wfd;	/* completion pipe; -1 when unused */
	char		 host[256];
	char		 port[8];
	struct addrinfo	 hints;
	struct addrinfo	*res;
	int		 rc;
};

static void
release(struct resolve *r)
{
	int left;

	pthread_mutex_lock(&r->lock);
	left = --r->refs;
	pthread_mutex_unlock(&r->lock);
	if (left > 0)
		return;
	if (r->res != NULL)
		freeaddrinfo(r->res);
	if (r->rfd != -1)
		close(r->rfd);
	if (r->wfd != -1)
		close(r->wfd);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

static void *
lookup(void *arg)
{
	struct resolve *r = arg;
	struct addrinfo *res = NULL;
	char c = 0;
	int rc;

	rc = getaddrinfo(r->host, r->port, &r->hints, &res);
	pthread_mutex_lock(&r->lock);
	r->rc = rc;
	r->res = res;
	pthread_mutex_unlock(&r->lock);
	(void)!write(r->wfd, &c, 1);
	release(r);
	return NULL;
}

struct resolve *
resolve_start(const char *host, unsigned port, int family)
{
	struct resolve *r;
	pthread_attr_t attr;
	pthread_t tid;
	int p[2], ok;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	pthread_mutex_init(&r->lock, NULL);
	r->refs = 1;
	r->rfd = r->wfd = -1;
	(void)snprintf(r->host, sizeof(r->host), "%s", host);
	(void)snprintf(r->port, sizeof(r->port), "%u", port);
	r->hints.ai_family = family;
	r->hints.ai_socktype = SOCK_STREAM;
	r->hints.ai_flags = AI_NUMERICSERV | AI_NUMERICHOST;
	if ((r->rc = getaddrinfo(r->host, r->port, &r->hints, &r->res)) == 0)
		return r;	/* an address literal: answered */
	r->res = NULL;
	r->hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
	if (pipe(p) == -1)
		goto inline_lookup;
	r->rfd = p[0];
	r->wfd = p[1];
	(void)fcntl(r->rfd, F_SETFD, FD_CLOEXEC);
	(void)fcntl(r->wfd, F_SETFD, FD_CLOEXEC);
	r->refs = 2;
	ok = pthread_attr_init(&attr) == 0;
	if (ok) {
		(void)pthread_attr_setstacksize(&attr, RESOLVE_STACK);
		(void)pthread_attr_setdetachstate(&attr,
		    PTHREAD_CREATE_DETACHED);
		ok = pthread_create(&tid, &attr, lookup, r) == 0;
		pthread_attr_destroy(&attr);
	}
	if (ok)
		return r;
	r->refs = 1;
	close(r->rfd);
	close(r->wfd);
	r->rfd = r->wfd = -1;
inline_lookup:
	/* No pipe or no thread: resolve here, without the deadline. */
	r->rc = getaddrinfo(r->host, r->port, &r->hints, &r->res);
	return r;
}

int
resolve_fd(const struct resolve *r)
{
	return r->rfd;
}

int
resolve_finish(struct resolve *r, struct addrinfo **res)
{
	int rc;

	pthread_mutex_lock(&r->lock);
	rc = r->rc;
	*res = r->res;
	r->res = NULL;
	pthread_mutex_unlock(&r->lock);
	if (rc != 0 && *res != NULL) {
		freeaddrinfo(*res);
		*res = NULL;
	}
	release(r);
	return rc;
}

void
resolve_cancel(struct resolve *r)
{
	release(r);
}
