/*
 * log.c: one line per message on stderr.  Lines are formatted into one
 * buffer and written with a single write(2) so they do not interleave
 * with other processes sharing the terminal (ssh, for one).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "util/log.h"

static int level = VERB_NORMAL;
static bool use_syslog;

void
log_init(int l)
{
	level = l;
}

void
log_to_syslog(void)
{
	openlog("culvert", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	use_syslog = true;
}

int
log_level(void)
{
	return level;
}

static void vlog(int, const char *, va_list, const char *)
    __attribute__((format(printf, 2, 0)));

static void
vlog(int minlevel, const char *fmt, va_list ap, const char *suffix)
{
	char line[2048];
	size_t n;
	int r;

	r = snprintf(line, sizeof(line), "culvert: ");
	n = (size_t)r;
	r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (r < 0)
		return;
	n += (size_t)r;
	if (n > sizeof(line) - 64)
		n = sizeof(line) - 64;
	if (suffix != NULL) {
		r = snprintf(line + n, sizeof(line) - n - 1, ": %s", suffix);
		if (r > 0)
			n += (size_t)r;
		if (n > sizeof(line) - 2)
			n = sizeof(line) - 2;
	}
	if (use_syslog) {
		static const int prio[] = { LOG_ERR, LOG_NOTICE, LOG_INFO,
		    LOG_DEBUG };

		line[n] = '\0';
		syslog(prio[minlevel + 1], "%s", line + sizeof("culvert: ") - 1);
		return;
	}
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, n);
}

static void logv(int, bool, const char *, va_list)
    __attribute__((format(printf, 3, 0)));

/*
 * The public log functions differ only in the level that shows them and in
 * whether they append strerror(errno); errno is read before anything else
 * can change it.
 */
static void
logv(int minlevel, bool with_errno, const char *fmt, va_list ap)
{
	int	saved = errno;

	if (level < minlevel)
		return;
	vlog(minlevel, fmt, ap, with_errno ? strerror(saved) : NULL);
}

void
log_error(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	logv(VERB_QUIET, false, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	logv(VERB_NORMAL, false, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	logv(VERB_NORMAL, true, fmt, ap);
	va_end(ap);
}

void
log_notice(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	logv(VERB_NORMAL, false, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	logv(VERB_VERBOSE, false, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	logv(VERB_DEBUG, false, fmt, ap);
	va_end(ap);
}

void
log_head_line(const char *prefix, char dir, const char *s, size_t len)
{
	char esc[1024];
	size_t i, n = 0;

	if (level < VERB_DEBUG)
		return;
	for (i = 0; i < len && n < sizeof(esc) - 5; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\r' || c == '\n')
			continue;
		if (c < 0x20 || c == 0x7f) {
			snprintf(esc + n, sizeof(esc) - n, "\\x%02x", c);
			n += 4;
		} else
			esc[n++] = (char)c;
	}
	esc[n] = '\0';
	log_debug("%s%c %s%s", prefix, dir, esc, i < len ? "..." : "");
}
