/*
 * log.h: every message culvert prints goes through here, to stderr,
 * prefixed "culvert: ".  Nothing here ever writes to stdout.
 */
#ifndef CULVERT_LOG_H
#define CULVERT_LOG_H

#include <stdarg.h>

enum loglevel {
	VERB_QUIET = -1,	/* -q: errors only */
	VERB_NORMAL = 0,	/* errors and warnings */
	VERB_VERBOSE = 1,	/* -v: steps */
	VERB_DEBUG = 2		/* -vv: request and response heads */
};

void	log_init(int level);
/* From now on to syslog (facility daemon) instead of stderr. */
void	log_to_syslog(void);
int	log_level(void);
/* error: always shown. */
void	log_error(const char *, ...) __attribute__((format(printf, 1, 2)));
/* warnings: hidden by -q. */
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
/* news of a running service (a connection, a reload): hidden by -q. */
void	log_notice(const char *, ...) __attribute__((format(printf, 1, 2)));
/* -v and -vv. */
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
/*
 * Print one line of a protocol head under -vv after prefix (a
 * connection's name, or ""), control bytes escaped.
 */
void	log_head_line(const char *prefix, char dir, const char *, size_t);

#endif
