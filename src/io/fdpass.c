/*
 * fdpass.c: SCM_RIGHTS, the way ssh's ProxyUseFdpass expects it: one
 * message carrying one data byte and the descriptor.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>

#include "io/fdpass.h"

int
fdpass_check(int fd, struct failure *f)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct stat st;

	if (fstat(fd, &st) == -1 || !S_ISSOCK(st.st_mode) ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) == -1 ||
	    ss.ss_family != AF_UNIX) {
		failure_set(f, FAIL_USAGE, "--fdpass needs standard output to "
		    "be a Unix socket, as ssh provides with ProxyUseFdpass "
		    "yes; use it only from ssh_config");
		return -1;
	}
	return 0;
}

int
fdpass_send(int chan, int sock, struct failure *f)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct cmsghdr *c;
	struct msghdr msg;
	struct iovec iov;
	char byte = 0;
	int fl;

	/* Hand over an ordinary blocking socket; ssh sets what it needs. */
	if ((fl = fcntl(sock, F_GETFL)) != -1)
		(void)fcntl(sock, F_SETFL, fl & ~O_NONBLOCK);
	memset(&msg, 0, sizeof(msg));
	memset(&cm, 0, sizeof(cm));
	iov.iov_base = &byte;
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof(cm.buf);
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_len = CMSG_LEN(sizeof(int));
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	memcpy(CMSG_DATA(c), &sock, sizeof(int));
	for (;;) {
		ssize_t n = sendmsg(chan, &msg, 0);

		if (n == 1)
			return 0;
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd p = { chan, POLLOUT, 0 };

			(void)poll(&p, 1, -1);
			continue;
		}
		failure_set(f, FAIL_IO, "cannot pass the socket to ssh: %s",
		    n == -1 ? strerror(errno) : "short write");
		return -1;
	}
}
