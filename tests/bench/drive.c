/*
 * drive: run one tunnel client the way ssh runs a ProxyCommand (stdin and
 * stdout are pipes) and measure it.
 *
 *   drive down  N TIMEOUT [-o FILE] -- CMD...
 *                    read N bytes from the client's stdout; with -o, its
 *                    stdout is FILE (a regular file, truncated, or a
 *                    device such as /dev/null) and the run ends when the
 *                    client has read the whole stream from its socket
 *                    (and a regular FILE holds N bytes), or exits
 *   drive up    N TIMEOUT [-i FILE] -- CMD...
 *                    write N bytes to its stdin, then EOF; with -i, its
 *                    stdin is FILE (N bytes long) instead
 *   drive rtt   K TIMEOUT -- CMD...   K one-byte round trips (echo target)
 *   drive setup M TIMEOUT -- CMD...   M runs: spawn to first byte on stdout
 *   drive cut   C TIMEOUT -k PID -- CMD...
 *                    through an echo target, a 4 KiB record every
 *                    millisecond, each checked when it comes back; after
 *                    a second of that, SIGUSR1 to PID (a cutter), and the
 *                    time until the first record written after the signal
 *                    is back; C times, a second apart; then every record
 *                    must be back, in order, once
 *
 * Prints one line of key=value pairs on stdout.  Always: ok=0|1 and, when
 * not ok, why=WORD.  down/up: t0 (CLOCK_MONOTONIC at spawn), wall (down:
 * spawn to last byte; up: spawn to stdout EOF), user, sys, maxrss_kb of
 * the client from wait4(2), bytes (down -o to a device: -1, nothing
 * counts them), and up also reply=WORD (the first line
 * the client printed, e.g. the sink's count).  rtt and setup: med_us,
 * mean_us, min_us, max_us.  cut: cuts, records, med_ms, min_ms,
 * max_ms and all=MS,MS,... (the times from each signal to data flowing
 * again), and why=noresume when one took over 30 s, why=loss, dup or
 * corrupt when a record came back wrong.  TIMEOUT (seconds) bounds the
 * whole run; the
 * client is killed when it passes.  The client's stderr is inherited.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "benchlib.h"

#define CHUNK	(1024 * 1024)

static char chunk[CHUNK];
static double deadline;

struct child {
	pid_t	pid;
	int	in;		/* write end of the client's stdin */
	int	out;		/* read end of the client's stdout */
	struct rusage ru;
	int	status;
	int	reaped;
};

/* Milliseconds left before the deadline, for poll(); at least 0. */
static int
left_ms(void)
{
	double l = (deadline - bench_now()) * 1000.0;

	return l <= 0 ? 0 : (int)l + 1;
}

/*
 * Start argv with pipes on stdin and stdout, or the files infile and
 * outfile when not NULL (their side of c is then -1).
 */
static void
spawn_with(struct child *c, char **argv, const char *infile,
    const char *outfile)
{
	int pin[2], pout[2];

	memset(c, 0, sizeof(*c));
	if (infile != NULL) {
		pin[1] = -1;
		if ((pin[0] = open(infile, O_RDONLY | O_CLOEXEC)) == -1) {
			perror(infile);
			exit(1);
		}
	} else if (pipe2(pin, O_CLOEXEC) == -1) {
		perror("drive: pipe");
		exit(1);
	}
	if (outfile != NULL) {
		pout[0] = -1;
		if ((pout[1] = open(outfile, O_WRONLY | O_CREAT | O_TRUNC |
		    O_CLOEXEC, 0644)) == -1) {
			perror(outfile);
			exit(1);
		}
	} else if (pipe2(pout, O_CLOEXEC) == -1) {
		perror("drive: pipe");
		exit(1);
	}
	c->pid = fork();
	if (c->pid == -1) {
		perror("drive: fork");
		exit(1);
	}
	if (c->pid == 0) {
		if (dup2(pin[0], STDIN_FILENO) == -1 ||
		    dup2(pout[1], STDOUT_FILENO) == -1)
			_exit(127);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], argv);
		fprintf(stderr, "drive: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(pin[0]);
	close(pout[1]);
	c->in = pin[1];
	c->out = pout[0];
	/* our ends only: the client's ends keep their blocking mode */
	if (c->in != -1)
		(void)fcntl(c->in, F_SETFL, O_NONBLOCK);
	if (c->out != -1)
		(void)fcntl(c->out, F_SETFL, O_NONBLOCK);
}

static void
spawn(struct child *c, char **argv)
{
	spawn_with(c, argv, NULL, NULL);
}

/* Wait for the client until the deadline plus grace, then kill it. */
static void
reap(struct child *c, double grace)
{
	double until = bench_now() + grace;
	pid_t r;

	if (c->reaped)
		return;
	for (;;) {
		r = wait4(c->pid, &c->status, WNOHANG, &c->ru);
		if (r == c->pid)
			break;
		if (bench_now() > until) {
			kill(c->pid, SIGKILL);
			while (wait4(c->pid, &c->status, 0, &c->ru) == -1 &&
			    errno == EINTR)
				;
			break;
		}
		usleep(1000);
	}
	c->reaped = 1;
}

static void
close_fd(int *fd)
{
	if (*fd != -1) {
		close(*fd);
		*fd = -1;
	}
}

static void
print_usage(const struct child *c)
{
	printf(" user=%.6f sys=%.6f maxrss_kb=%ld exit=%d",
	    (double)c->ru.ru_utime.tv_sec + (double)c->ru.ru_utime.tv_usec / 1e6,
	    (double)c->ru.ru_stime.tv_sec + (double)c->ru.ru_stime.tv_usec / 1e6,
	    c->ru.ru_maxrss,
	    WIFEXITED(c->status) ? WEXITSTATUS(c->status) :
	    128 + WTERMSIG(c->status));
}

/*
 * Read what is available on fd; bytes go to /dev/null with splice when
 * possible.  The first bytes are kept in cap (NUL-terminated).  Returns
 * bytes moved, 0 at EOF, -1 with EAGAIN when nothing is there.
 */
static ssize_t
drain(int fd, int devnull, char *cap, size_t capsz, size_t *caplen)
{
	ssize_t n;

	if (*caplen + 1 < capsz) {
		n = read(fd, cap + *caplen, capsz - 1 - *caplen);
		if (n > 0) {
			*caplen += (size_t)n;
			cap[*caplen] = '\0';
		}
		return n;
	}
	n = splice(fd, NULL, devnull, NULL, CHUNK, SPLICE_F_NONBLOCK);
	if (n == -1 && errno == EINVAL)
		n = read(fd, chunk, sizeof(chunk));
	return n;
}

/* The client has exited (not yet reaped). */
static int
exited(const struct child *c)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	return waitid(P_PID, (id_t)c->pid, &si, WEXITED | WNOHANG | WNOWAIT) ==
	    0 && si.si_pid == c->pid;
}

/*
 * The client's TCP socket, duplicated into this process with
 * pidfd_getfd(2) so that its state can be read: -1 while it has none,
 * or where the kernel cannot.
 */
static int
client_socket(const struct child *c, int pidfd)
{
#ifdef SYS_pidfd_getfd
	char path[64], link[64], *end;
	struct dirent *e;
	DIR *d;
	ssize_t n;
	socklen_t len;
	long num;
	int fd = -1, s, dom, type;

	if (pidfd == -1)
		return -1;
	snprintf(path, sizeof(path), "/proc/%ld/fd", (long)c->pid);
	if ((d = opendir(path)) == NULL)
		return -1;
	while (fd == -1 && (e = readdir(d)) != NULL) {
		num = strtol(e->d_name, &end, 10);
		if (*end != '\0' || end == e->d_name)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/fd/%ld", (long)c->pid,
		    num);
		if ((n = readlink(path, link, sizeof(link) - 1)) <= 0)
			continue;
		link[n] = '\0';
		if (strncmp(link, "socket:", 7) != 0 ||
		    (s = (int)syscall(SYS_pidfd_getfd, pidfd, (int)num, 0)) == -1)
			continue;
		len = sizeof(dom);
		if (getsockopt(s, SOL_SOCKET, SO_DOMAIN, &dom, &len) == 0 &&
		    (dom == AF_INET || dom == AF_INET6) &&
		    (len = sizeof(type), getsockopt(s, SOL_SOCKET, SO_TYPE,
		    &type, &len) == 0) && type == SOCK_STREAM)
			fd = s;
		else
			close(s);
	}
	closedir(d);
	return fd;
#else
	(void)c;
	(void)pidfd;
	return -1;
#endif
}

/* The far end has closed and the client has read every byte. */
static int
socket_drained(int s)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	int queued;

	if (getsockopt(s, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1 ||
	    (ti.tcpi_state != TCP_CLOSE_WAIT && ti.tcpi_state != TCP_LAST_ACK &&
	    ti.tcpi_state != TCP_CLOSE))
		return 0;
	return ioctl(s, FIONREAD, &queued) == 0 && queued == 0;
}

/*
 * Download into outfile.  The run ends at the last byte, as with a pipe:
 * when the client's socket has seen the far end close and holds nothing
 * more, and a regular outfile has all want bytes; or when the client
 * exits, whichever comes first.  Then stdin closes, as ssh's would, and
 * the client gets 3 s to finish; a regular file must hold exactly want
 * bytes.  Without pidfd_getfd(2) only the exit ends the run.
 */
static int
run_down_file(uint64_t want, const char *outfile, char **argv)
{
	struct child c;
	struct stat st;
	struct pollfd pfd;
	double t0, t1;
	long long got = -1;
	const char *why = NULL;
	int pidfd = -1, s = -1, regular, by_exit = 0;

	regular = stat(outfile, &st) == -1 || S_ISREG(st.st_mode);
	t0 = bench_now();
	spawn_with(&c, argv, NULL, outfile);
#ifdef SYS_pidfd_open
	pidfd = (int)syscall(SYS_pidfd_open, c.pid, 0);
#endif
	for (;;) {
		if (exited(&c)) {
			by_exit = 1;
			break;
		}
		if (s == -1)
			s = client_socket(&c, pidfd);
		if (s != -1 && socket_drained(s) && (!regular ||
		    (stat(outfile, &st) == 0 && (uint64_t)st.st_size >= want)))
			break;
		if (left_ms() == 0) {
			why = "timeout";
			break;
		}
		/* a millisecond at a time; the pidfd wakes us at the exit */
		if (pidfd != -1) {
			pfd.fd = pidfd;
			pfd.events = POLLIN;
			(void)poll(&pfd, 1, 1);
		} else
			usleep(1000);
	}
	t1 = bench_now();
	if (s != -1)
		close(s);
	if (pidfd != -1)
		close(pidfd);
	close_fd(&c.in);
	reap(&c, why ? 0.0 : 3.0);
	if (why == NULL && by_exit && (!WIFEXITED(c.status) ||
	    WEXITSTATUS(c.status) != 0))
		why = "exitstatus";
	if (regular && stat(outfile, &st) == 0) {
		got = (long long)st.st_size;
		if (why == NULL && (uint64_t)st.st_size != want)
			why = (uint64_t)st.st_size < want ? "short" : "long";
	}
	printf("ok=%d%s%s t0=%.6f wall=%.6f bytes=%lld", why == NULL,
	    why ? " why=" : "", why ? why : "", t0, t1 - t0, got);
	print_usage(&c);
	printf("\n");
	return why == NULL ? 0 : 1;
}

static int
run_down(uint64_t want, char **argv)
{
	struct child c;
	struct pollfd pfd;
	char cap[64];
	size_t caplen = 0;
	uint64_t got = 0;
	double t0, t1 = 0;
	ssize_t n;
	int devnull = open("/dev/null", O_WRONLY);
	const char *why = NULL;

	t0 = bench_now();
	spawn(&c, argv);
	while (got < want) {
		pfd.fd = c.out;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, left_ms()) == 0) {
			why = "timeout";
			break;
		}
		n = drain(c.out, devnull, cap, sizeof(cap), &caplen);
		if (n == 0) {
			why = "short";
			break;
		}
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			why = "readerror";
			break;
		}
		got += (uint64_t)n;
	}
	t1 = bench_now();
	/* done: close stdin as ssh would, let the client finish */
	close_fd(&c.in);
	while (why == NULL) {
		pfd.fd = c.out;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 3000) <= 0)
			break;
		n = drain(c.out, devnull, cap, sizeof(cap), &caplen);
		if (n == 0)
			break;
		if (n > 0) {
			got += (uint64_t)n;
			why = "long";
		}
	}
	close_fd(&c.out);
	reap(&c, 3.0);
	printf("ok=%d%s%s t0=%.6f wall=%.6f bytes=%" PRIu64,
	    why == NULL, why ? " why=" : "", why ? why : "", t0, t1 - t0, got);
	print_usage(&c);
	printf("\n");
	return why == NULL ? 0 : 1;
}

static int
run_up(uint64_t want, const char *infile, char **argv)
{
	struct child c;
	struct pollfd pfd[2];
	struct iovec iov;
	char cap[64], word[64];
	size_t caplen = 0, len, i;
	uint64_t sent = 0;
	double t0, tin = 0, t1;
	ssize_t n;
	int devnull = open("/dev/null", O_WRONLY), use_vmsplice = 1;
	const char *why = NULL;

	t0 = bench_now();
	spawn_with(&c, argv, infile, NULL);
	if (infile != NULL) {
		/* the whole input is there at once */
		sent = want;
		tin = t0;
	}
	for (;;) {
		pfd[0].fd = c.in;
		pfd[0].events = POLLOUT;
		pfd[1].fd = c.out;
		pfd[1].events = POLLIN;
		if (c.in == -1 && c.out == -1)
			break;
		if (poll(pfd, 2, left_ms()) == 0) {
			why = "timeout";
			break;
		}
		if (pfd[0].revents & (POLLERR | POLLHUP)) {
			why = "stdinclosed";
			close_fd(&c.in);
		} else if (pfd[0].revents & POLLOUT) {
			len = want - sent < CHUNK ? (size_t)(want - sent) : CHUNK;
			iov.iov_base = chunk;
			iov.iov_len = len;
			if (use_vmsplice) {
				/* the buffer never changes, so gifting pages by reference is safe */
				n = vmsplice(c.in, &iov, 1, SPLICE_F_NONBLOCK);
				if (n == -1 && errno == EINVAL) {
					use_vmsplice = 0;
					continue;
				}
			} else
				n = write(c.in, chunk, len);
			if (n > 0)
				sent += (uint64_t)n;
			else if (n == -1 && errno != EAGAIN && errno != EINTR) {
				why = "writeerror";
				close_fd(&c.in);
			}
			if (sent == want) {
				tin = bench_now();
				close_fd(&c.in);
			}
		}
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = drain(c.out, devnull, cap, sizeof(cap), &caplen);
			if (n == 0)
				close_fd(&c.out);
			else if (n == -1 && errno != EAGAIN && errno != EINTR)
				close_fd(&c.out);
		}
	}
	t1 = bench_now();
	close_fd(&c.in);
	close_fd(&c.out);
	reap(&c, why ? 0.0 : 3.0);
	for (i = 0, len = 0; i < caplen && len + 1 < sizeof(word); i++)
		if (cap[i] > ' ' && cap[i] < 127)
			word[len++] = cap[i];
		else if (len > 0)
			break;
	word[len] = '\0';
	printf("ok=%d%s%s t0=%.6f wall=%.6f tin=%.6f bytes=%" PRIu64
	    " reply=%s", why == NULL, why ? " why=" : "", why ? why : "", t0,
	    t1 - t0, tin > 0 ? tin - t0 : 0.0, sent, len ? word : "-");
	print_usage(&c);
	printf("\n");
	return why == NULL ? 0 : 1;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
print_stats(double *v, size_t n)
{
	double sum = 0;
	size_t i;

	qsort(v, n, sizeof(*v), cmp_double);
	for (i = 0; i < n; i++)
		sum += v[i];
	printf(" n=%zu med_us=%.2f mean_us=%.2f min_us=%.2f max_us=%.2f", n,
	    n ? v[n / 2] * 1e6 : 0, n ? sum / (double)n * 1e6 : 0,
	    n ? v[0] * 1e6 : 0, n ? v[n - 1] * 1e6 : 0);
}

/* Read exactly one byte from fd before the deadline; 0 on success. */
static int
read_one(int fd)
{
	struct pollfd pfd;
	char b;
	ssize_t n;

	for (;;) {
		n = read(fd, &b, 1);
		if (n == 1)
			return 0;
		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
			return -1;
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, left_ms()) == 0)
			return -1;
	}
}

static int
run_rtt(size_t k, char **argv)
{
	struct child c;
	const size_t warm = 20;
	double *v, t;
	size_t i;
	const char *why = NULL;

	if ((v = calloc(k, sizeof(*v))) == NULL)
		return 1;
	spawn(&c, argv);
	for (i = 0; i < warm + k; i++) {
		t = bench_now();
		if (write(c.in, "x", 1) != 1) {
			why = "writeerror";
			break;
		}
		if (read_one(c.out) == -1) {
			why = bench_now() >= deadline ? "timeout" : "noecho";
			break;
		}
		if (i >= warm)
			v[i - warm] = bench_now() - t;
	}
	close_fd(&c.in);
	close_fd(&c.out);
	reap(&c, 1.0);
	printf("ok=%d%s%s", why == NULL, why ? " why=" : "", why ? why : "");
	print_stats(v, why ? 0 : k);
	print_usage(&c);
	printf("\n");
	free(v);
	return why == NULL ? 0 : 1;
}

static int
run_setup(size_t m, char **argv)
{
	struct child c;
	double *v, t;
	size_t i;
	const char *why = NULL;

	if ((v = calloc(m, sizeof(*v))) == NULL)
		return 1;
	for (i = 0; i < m; i++) {
		t = bench_now();
		spawn(&c, argv);
		if (read_one(c.out) == -1)
			why = bench_now() >= deadline ? "timeout" : "nobyte";
		else
			v[i] = bench_now() - t;
		/* ssh would go on; the tunnel is measured, end it fast */
		kill(c.pid, SIGKILL);
		close_fd(&c.in);
		close_fd(&c.out);
		reap(&c, 5.0);
		if (why != NULL)
			break;
	}
	printf("ok=%d%s%s", why == NULL, why ? " why=" : "", why ? why : "");
	print_stats(v, why ? 0 : m);
	printf("\n");
	free(v);
	return why == NULL ? 0 : 1;
}

#define REC		4096	/* PIPE_BUF: a write is whole or nothing */
#define REC_PERIOD	0.001
#define CUT_FLOW	1.0	/* seconds of data between cuts */
#define CUT_WAIT	30.0	/* longest wait for data after a cut */

/* Record seq: its number, the time it was written, then a pattern. */
static void
rec_fill(unsigned char *r, uint64_t seq, double t)
{
	size_t i;

	memcpy(r, &seq, sizeof(seq));
	memcpy(r + 8, &t, sizeof(t));
	for (i = 16; i < REC; i++)
		r[i] = (unsigned char)(seq * 7 + i);
}

/* A record that came back: "ok", or why it is not record want. */
static const char *
rec_check(const unsigned char *r, uint64_t want)
{
	unsigned char exp[REC];
	uint64_t seq;
	double t;

	memcpy(&seq, r, sizeof(seq));
	memcpy(&t, r + 8, sizeof(t));
	if (seq < want)
		return "dup";
	if (seq > want)
		return "loss";
	rec_fill(exp, seq, t);
	return memcmp(exp, r, REC) == 0 ? "ok" : "corrupt";
}

static int
run_cut(size_t cuts, pid_t cutter, char **argv)
{
	struct child c;
	struct pollfd pfd;
	unsigned char out[REC], in[REC];
	double *v, now, t_next, t_cut = 0, t_flow, wait;
	uint64_t sent = 0, got = 0, first_after = 0;
	size_t inlen = 0, done = 0, i;
	ssize_t n;
	int cutting = 0, draining = 0;
	const char *why = NULL, *r;

	if ((v = calloc(cuts, sizeof(*v))) == NULL)
		return 1;
	spawn(&c, argv);
	t_next = bench_now();
	t_flow = t_next + CUT_FLOW;
	while (why == NULL) {
		now = bench_now();
		if (!draining && now >= t_next) {
			rec_fill(out, sent, now);
			n = write(c.in, out, REC);
			if (n == REC)
				sent++;
			else if (n == -1 && errno != EAGAIN && errno != EINTR) {
				why = "writeerror";
				break;
			}
			/* a full pipe: this record is skipped, not queued */
			t_next += REC_PERIOD;
			if (t_next < now)
				t_next = now + REC_PERIOD;
		}
		if (!cutting && !draining && now >= t_flow && got > 0) {
			if (done == cuts) {
				draining = 1;
			} else {
				first_after = sent;
				t_cut = bench_now();
				if (kill(cutter, SIGUSR1) == -1) {
					why = "kill";
					break;
				}
				cutting = 1;
			}
		}
		if (cutting && now - t_cut > CUT_WAIT) {
			why = "noresume";
			break;
		}
		if (draining && got == sent)
			break;
		if (left_ms() == 0) {
			why = "timeout";
			break;
		}
		wait = draining ? 0.1 : t_next - bench_now();
		pfd.fd = c.out;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, wait <= 0 ? 0 : (int)(wait * 1000) + 1) <= 0)
			continue;
		while ((n = read(c.out, in + inlen, REC - inlen)) > 0) {
			inlen += (size_t)n;
			if (inlen < REC)
				continue;
			inlen = 0;
			if (strcmp(r = rec_check(in, got), "ok") != 0) {
				why = r;
				break;
			}
			got++;
			if (cutting && got > first_after) {
				v[done++] = bench_now() - t_cut;
				cutting = 0;
				t_flow = bench_now() + CUT_FLOW;
			}
		}
		if (why == NULL && (n == 0 || (n == -1 && errno != EAGAIN &&
		    errno != EINTR)))
			why = n == 0 ? "closed" : "readerror";
	}
	close_fd(&c.in);
	close_fd(&c.out);
	reap(&c, 1.0);
	printf("ok=%d%s%s cuts=%zu records=%" PRIu64 " all=", why == NULL,
	    why ? " why=" : "", why ? why : "", done, got);
	for (i = 0; i < done; i++)
		printf("%s%.1f", i ? "," : "", v[i] * 1e3);
	if (done == 0)
		printf("-");
	qsort(v, done, sizeof(*v), cmp_double);
	printf(" med_ms=%.1f min_ms=%.1f max_ms=%.1f",
	    done ? v[done / 2] * 1e3 : 0, done ? v[0] * 1e3 : 0,
	    done ? v[done - 1] * 1e3 : 0);
	print_usage(&c);
	printf("\n");
	free(v);
	return why == NULL ? 0 : 1;
}

int
main(int argc, char *argv[])
{
	uint64_t n;
	double timeout;
	char *end;
	const char *infile = NULL, *outfile = NULL;
	long cutter = 0;
	size_t i;
	int cmd = 4;

	while (cmd + 1 < argc && (strcmp(argv[cmd], "-i") == 0 ||
	    strcmp(argv[cmd], "-o") == 0 || strcmp(argv[cmd], "-k") == 0)) {
		if (argv[cmd][1] == 'i')
			infile = argv[cmd + 1];
		else if (argv[cmd][1] == 'o')
			outfile = argv[cmd + 1];
		else {
			cutter = strtol(argv[cmd + 1], &end, 10);
			if (*end != '\0' || cutter <= 0)
				cutter = -1;
		}
		cmd += 2;
	}
	if (argc < cmd + 2 || strcmp(argv[cmd], "--") != 0 ||
	    (infile != NULL && strcmp(argv[1], "up") != 0) ||
	    (outfile != NULL && strcmp(argv[1], "down") != 0) ||
	    ((cutter != 0) != (strcmp(argv[1], "cut") == 0)) || cutter < 0) {
		fprintf(stderr, "usage: drive down|up|rtt|setup N TIMEOUT "
		    "[-i FILE | -o FILE] -- CMD...\n"
		    "       drive cut N TIMEOUT -k PID -- CMD...\n");
		return 2;
	}
	errno = 0;
	n = strtoull(argv[2], &end, 10);
	if (errno != 0 || *end != '\0' || n == 0) {
		fprintf(stderr, "drive: bad count %s\n", argv[2]);
		return 2;
	}
	timeout = strtod(argv[3], &end);
	if (*end != '\0' || timeout <= 0) {
		fprintf(stderr, "drive: bad timeout %s\n", argv[3]);
		return 2;
	}
	for (i = 0; i < sizeof(chunk); i++)
		chunk[i] = (char)('a' + i % 26);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	deadline = bench_now() + timeout;
	if (strcmp(argv[1], "down") == 0)
		return outfile != NULL ? run_down_file(n, outfile,
		    argv + cmd + 1) : run_down(n, argv + cmd + 1);
	if (strcmp(argv[1], "up") == 0)
		return run_up(n, infile, argv + cmd + 1);
	if (strcmp(argv[1], "rtt") == 0)
		return run_rtt((size_t)n, argv + cmd + 1);
	if (strcmp(argv[1], "setup") == 0)
		return run_setup((size_t)n, argv + cmd + 1);
	if (strcmp(argv[1], "cut") == 0)
		return run_cut((size_t)n, (pid_t)cutter, argv + cmd + 1);
	fprintf(stderr, "drive: unknown mode %s\n", argv[1]);
	return 2;
}
