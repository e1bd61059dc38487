/*
 * http.c: response heads.  The head is read into a buffer that grows as
 * needed up to HEAD_MAX and is freed as soon as the handshake is over, so
 * a process with many tunnels keeps little memory.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto/http.h"
#include "util/num.h"

enum head_result
head_feed(struct head *h, const unsigned char *data, size_t len,
    size_t *used)
{
	size_t i;

	*used = 0;
	for (i = 0; i < len; i++) {
		unsigned char c = data[i];

		if (h->len + 2 > h->cap) {
			size_t ncap = h->cap == 0 ? 1024 : h->cap * 2;
			char *n;

			/* HEAD_MAX bytes fit, with the NUL after them. */
			if (h->len + 1 > HEAD_MAX) {
				*used = i;
				return HEAD_TOO_BIG;
			}
			if (ncap > HEAD_MAX + 1)
				ncap = HEAD_MAX + 1;
			if ((n = realloc(h->buf, ncap)) == NULL) {
				*used = i;
				return HEAD_NOMEM;
			}
			h->buf = n;
			h->cap = ncap;
		}
		h->buf[h->len++] = (char)c;
		h->buf[h->len] = '\0';
		if (c != '\n')
			continue;
		/* A line ends: is it the empty one? */
		if (h->len == 1 || (h->len == 2 && h->buf[0] == '\r') ||
		    (h->len >= 2 && h->buf[h->len - 2] == '\n') ||
		    (h->len >= 3 && h->buf[h->len - 2] == '\r' &&
		    h->buf[h->len - 3] == '\n')) {
			h->complete = true;
			*used = i + 1;
			return HEAD_COMPLETE;
		}
		if (++h->lines > HEAD_LINES_MAX) {
			*used = i + 1;
			return HEAD_TOO_BIG;
		}
	}
	*used = len;
	return HEAD_MORE;
}

void
head_reset(struct head *h)
{
	if (h->buf != NULL)
		h->buf[0] = '\0';
	h->len = 0;
	h->lines = 0;
	h->complete = false;
}

void
head_free(struct head *h)
{
	free(h->buf);
	memset(h, 0, sizeof(*h));
}

/* Length of the line starting at p, without its CRLF or LF. */
static size_t
linelen(const char *p, const char *end, size_t *next)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	size_t n;

	if (nl == NULL) {
		*next = (size_t)(end - p);
		return *next;
	}
	n = (size_t)(nl - p);
	*next = n + 1;
	if (n > 0 && p[n - 1] == '\r')
		n--;
	return n;
}

int
http_next_line(const char *buf, size_t len, size_t *pos, const char **line,
    size_t *n)
{
	size_t next;

	if (*pos >= len)
		return 0;
	*line = buf + *pos;
	*n = linelen(*line, buf + len, &next);
	*pos += next;
	return *n > 0;
}

int
http_parse_status(const struct head *h, struct status *st)
{
	const char *p = h->buf;
	size_t next, n, i, o = 0;

	memset(st, 0, sizeof(*st));
	if (p == NULL)
		return -1;
	n = linelen(p, p + h->len, &next);
	/* Keep a printable copy for messages. */
	for (i = 0; i < n && o + 1 < sizeof(st->line); i++) {
		unsigned char c = (unsigned char)p[i];

		st->line[o++] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	st->line[o] = '\0';

	if (n < 12 || memcmp(p, "HTTP/1.", 7) != 0 ||
	    (p[7] != '0' && p[7] != '1') || p[8] != ' ')
		return -1;
	for (i = 9; i < 12; i++)
		if (p[i] < '0' || p[i] > '9')
			return -1;
	if (n > 12 && p[12] != ' ')
		return -1;	/* four digits or junk after the code */
	st->minor = p[7] - '0';
	st->code = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	if (st->code < 100)
		return -1;
	return 0;
}

int
http_next_field(const struct head *h, size_t *pos, const char **name,
    size_t *namelen, const char **value, size_t *valuelen)
{
	const char *end = h->buf + h->len;

	if (*pos == 0) {
		size_t next;

		(void)linelen(h->buf, end, &next);
		*pos = next;
	}
	while (*pos < h->len) {
		const char *p = h->buf + *pos, *colon, *v, *ve;
		size_t next, n = linelen(p, end, &next);

		*pos += next;
		if (n == 0)
			return 0;
		if (p[0] == ' ' || p[0] == '\t')
			continue;	/* obsolete folding: ignored */
		colon = memchr(p, ':', n);
		if (colon == NULL || colon == p)
			continue;
		v = colon + 1;
		ve = p + n;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		*name = p;
		*namelen = (size_t)(colon - p);
		*value = v;
		*valuelen = (size_t)(ve - v);
		return 1;
	}
	return 0;
}

bool
http_field_is(const char *name, size_t namelen, const char *want)
{
	return strlen(want) == namelen && strncasecmp(name, want, namelen) == 0;
}

long long
http_reuse_length(const struct head *hd, const struct status *st,
    long long max)
{
	const char *name, *value;
	size_t pos = 0, nl, vl, i;
	long long len = -1;
	bool keep = st->minor >= 1;

	while (http_next_field(hd, &pos, &name, &nl, &value, &vl)) {
		if (http_field_is(name, nl, "Content-Length")) {
			unsigned long long v;

			if (num_parse(value, vl, 999999999999ULL, &v) == -1 ||
			    (len != -1 && (unsigned long long)len != v))
				return -1;
			len = (long long)v;
		} else if (http_field_is(name, nl, "Transfer-Encoding"))
			return -1;
		else if (http_field_is(name, nl, "Connection") ||
		    http_field_is(name, nl, "Proxy-Connection")) {
			for (i = 0; i + 5 <= vl; i++) {
				if (strncasecmp(value + i, "close", 5) == 0)
					return -1;
				if (i + 10 <= vl &&
				    strncasecmp(value + i, "keep-alive", 10) == 0)
					keep = true;
			}
		}
	}
	if (!keep || len > max)
		return -1;
	return len;
}
