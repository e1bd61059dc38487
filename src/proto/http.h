/*
 * http.h: a bounded reader for HTTP response heads and the parsers that
 * read its status line and fields.  No I/O: bytes are fed in.
 */
#ifndef CULVERT_HTTP_H
#define CULVERT_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#define HEAD_MAX	(64 * 1024)	/* bytes in a response head */
#define HEAD_LINES_MAX	1000		/* lines in a response head */

struct head {
	char	*buf;		/* heap, grows to HEAD_MAX; NUL-terminated */
	size_t	 len;
	size_t	 cap;
	size_t	 lines;
	bool	 complete;
};

enum head_result {
	HEAD_MORE,		/* all input consumed, head not complete */
	HEAD_COMPLETE,		/* *used bytes consumed, head complete */
	HEAD_TOO_BIG,		/* over HEAD_MAX or HEAD_LINES_MAX */
	HEAD_NOMEM
};

/*
 * Append at most up to the end of the head (the empty line) from data to
 * h; *used says how many bytes were taken.  Lines may end in CRLF or LF.
 */
enum head_result head_feed(struct head *h, const unsigned char *data,
		    size_t len, size_t *used);
void		 head_reset(struct head *h);	/* keep memory, empty */
void		 head_free(struct head *h);

struct status {
	int	 minor;		/* HTTP/1.x */
	int	 code;		/* three digits */
	char	 line[256];	/* the status line as received, sanitised */
};

/* Parse the first line of h.  -1 when it is not HTTP/1.0 or 1.1. */
int		 http_parse_status(const struct head *h, struct status *st);

/*
 * Iterate over the fields of a head: start with *pos = 0.  Returns 1 and
 * sets name/value (not NUL-terminated, value trimmed) per field, 0 at the
 * end.  Obsolete line folding is not supported; folded lines are skipped.
 */
int		 http_next_field(const struct head *h, size_t *pos,
		    const char **name, size_t *namelen, const char **value,
		    size_t *valuelen);
/*
 * Iterate over the lines of a head or request in buf[0..len): start with
 * *pos = 0.  Returns 1 with the line (without its CRLF or LF) in *line and
 * *n, 0 at the end or at the empty line that ends a head.
 */
int		 http_next_line(const char *buf, size_t len, size_t *pos,
		    const char **line, size_t *n);
/*
 * How the peer goes on after an answer with a body it sent with a length
 * (a 407, an error): the body's length when the connection stays open
 * and it is at most max bytes, or -1 when it must be reopened
 * (Connection: close, HTTP/1.0 without keep-alive, no length, chunked).
 */
long long	 http_reuse_length(const struct head *hd, const struct status *st,
		    long long max);
/* Case-insensitive compare of a field name with a NUL-terminated one. */
bool		 http_field_is(const char *name, size_t namelen,
		    const char *want);

#endif
