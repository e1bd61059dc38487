/*
 * test_http.c: the response-head reader and its parsers (proto/http.h),
 * table-driven: head_feed() whole, a byte at a time and split at every
 * position, its limits, http_parse_status(), http_next_field() and
 * http_next_line().  TAP.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/http.h"

static int t, failed;

static void
result(bool ok, const char *what, const char *detail)
{
	if (ok)
		printf("ok %d - %s\n", ++t, what);
	else {
		failed = 1;
		printf("not ok %d - %s%s%s\n", ++t, what, detail ? ": " : "",
		    detail ? detail : "");
	}
}

/* s[0..n) for a message, control bytes escaped, cut to fit buf. */
static const char *
show(const char *s, size_t n, char *buf, size_t len)
{
	size_t i, o = 0;

	for (i = 0; i < n && o + 5 < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\r')
			o += (size_t)snprintf(buf + o, len - o, "\\r");
		else if (c == '\n')
			o += (size_t)snprintf(buf + o, len - o, "\\n");
		else if (c < 0x20 || c >= 0x7f || c == '\\')
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
	return buf;
}

/*
 * Feed in[0..len) to a fresh head: first `first` bytes (0: none apart),
 * then pieces of `chunk` bytes (0: the rest at once), stopping at the
 * first answer other than HEAD_MORE.  *used is the total consumed; *bad
 * is set when HEAD_MORE did not consume its whole piece.
 */
static enum head_result
feed(struct head *h, const char *in, size_t len, size_t first, size_t chunk,
    size_t *used, bool *bad)
{
	enum head_result r = HEAD_MORE;
	size_t off = 0, n, u;

	memset(h, 0, sizeof(*h));
	*used = 0;
	*bad = false;
	while (off < len) {
		n = first > 0 && off == 0 ? first :
		    chunk == 0 ? len - off : chunk;
		if (n > len - off)
			n = len - off;
		r = head_feed(h, (const unsigned char *)in + off, n, &u);
		if (u > n || (r == HEAD_MORE && u != n))
			*bad = true;
		off += u;
		if (r != HEAD_MORE)
			break;
	}
	*used = off;
	return r;
}

struct hcase {
	const char		*what;
	const char		*in;
	size_t			 len;		/* 0: strlen(in) */
	enum head_result	 r;
	size_t			 used;
	size_t			 lines;
};

#define S(s)	s, sizeof(s) - 1

static const struct hcase hcases[] = {
	{ "CRLF head", S("HTTP/1.1 200 OK\r\n\r\n"), HEAD_COMPLETE, 19, 1 },
	{ "bare LF head", S("HTTP/1.1 200 OK\n\n"), HEAD_COMPLETE, 17, 1 },
	{ "CRLF field, LF then CRLF end",
	    S("HTTP/1.1 200 OK\r\nVia: x\n\r\n"), HEAD_COMPLETE, 26, 2 },
	{ "LF field, CRLF then LF end", S("HTTP/1.1 200 OK\nVia: x\r\n\n"),
	    HEAD_COMPLETE, 25, 2 },
	{ "tunnel bytes after the head are not taken",
	    S("HTTP/1.1 200 OK\r\n\r\nSSH-2.0-OpenSSH_9.6\r\n"),
	    HEAD_COMPLETE, 19, 1 },
	{ "a second head after the first is not taken",
	    S("HTTP/1.1 200 OK\r\n\r\nHTTP/1.1 200 OK\r\n\r\n"),
	    HEAD_COMPLETE, 19, 1 },
	{ "status line only", S("HTTP/1.1 200 OK\r\n"), HEAD_MORE, 17, 1 },
	{ "status line and CR", S("HTTP/1.1 200 OK\r\n\r"), HEAD_MORE, 18,
	    1 },
	{ "no line end", S("HTTP/1.1 200 OK"), HEAD_MORE, 15, 0 },
	{ "empty input", S(""), HEAD_MORE, 0, 0 },
	{ "CRLF alone is an empty head", S("\r\n"), HEAD_COMPLETE, 2, 0 },
	{ "LF alone is an empty head", S("\n"), HEAD_COMPLETE, 1, 0 },
	{ "empty line first ends the head at once",
	    S("\nHTTP/1.1 200 OK\r\n\r\n"), HEAD_COMPLETE, 1, 0 },
	{ "a line of one space is not empty", S("A\r\n \r\n\r\n"),
	    HEAD_COMPLETE, 8, 2 },
	{ "CR CR LF is not a line end pair", S("A\r\r\n\r\n"),
	    HEAD_COMPLETE, 6, 1 },
	{ "a line of one CR is not empty", S("A\n\r\r\n"), HEAD_MORE, 5, 2 },
	{ "NUL inside the status line is kept",
	    S("HTTP/1.1 200 OK\0x\r\n\r\n"), HEAD_COMPLETE, 21, 1 },
	/* tests/fuzz/seeds/fuzz_head/200 */
	{ "seed 200",
	    S("HTTP/1.1 200 Connection established\r\n"
	    "Proxy-Agent: squid\r\n\r\n"), HEAD_COMPLETE, 59, 2 },
	/* tests/fuzz/seeds/fuzz_head/100-then-200: the first head */
	{ "seed 100-then-200 stops after the 100",
	    S("HTTP/1.1 100 Continue\n\nHTTP/1.1 200 Connection "
	    "established\r\nProxy-Agent: squid\r\n\r\n"), HEAD_COMPLETE, 23,
	    1 },
	/* tests/fuzz/seeds/fuzz_head/407: the 5-byte body is not taken */
	{ "seed 407 leaves its body",
	    S("HTTP/1.1 407 Proxy Authentication Required\r\n"
	    "Proxy-Authenticate: NTLM\r\n"
	    "Proxy-Authenticate: Digest realm=\"proxy\", "
	    "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
	    "qop=\"auth,auth-int\", algorithm=SHA-256, "
	    "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"\r\n"
	    "Proxy-Authenticate: Basic realm=\"proxy\"\r\n"
	    "Content-Length: 5\r\n\r\nerror"), HEAD_COMPLETE, 301, 5 },
	/* tests/fuzz/crashes/fuzz_handshake-407-body-stall */
	{ "crash 407-body-stall: CRLF then LF ends the head",
	    S("HTTP/1.1 407\nProxy-Authenticate: NTLM\r\n"
	    "Content-Length: 1\r\n\nud\r\n"), HEAD_COMPLETE, 59, 3 },
};

/* Check the head h after feeding c; "" when all is as expected. */
static void
check_head(const struct hcase *c, size_t len, const struct head *h,
    enum head_result r, size_t used, bool bad, char *why, size_t whylen)
{
	why[0] = '\0';
	if (bad)
		(void)snprintf(why, whylen, "HEAD_MORE left bytes");
	else if (r != c->r)
		(void)snprintf(why, whylen, "result %d, want %d", r, c->r);
	else if (used != c->used)
		(void)snprintf(why, whylen, "used %zu, want %zu", used,
		    c->used);
	else if (h->len != used || (used > 0 && (h->buf == NULL ||
	    memcmp(h->buf, c->in, used) != 0)))
		(void)snprintf(why, whylen, "buffer is not the bytes used");
	else if (h->buf != NULL && (h->len >= h->cap || h->buf[h->len] != '\0'))
		(void)snprintf(why, whylen, "buffer not NUL-terminated");
	else if (h->complete != (c->r == HEAD_COMPLETE))
		(void)snprintf(why, whylen, "complete %d", h->complete);
	else if (h->lines != c->lines)
		(void)snprintf(why, whylen, "lines %zu, want %zu", h->lines,
		    c->lines);
	(void)len;
}

static void
test_head_feed(void)
{
	char why[128], detail[512], what[256];
	struct head h;
	size_t i, k, len, used;
	enum head_result r;
	bool bad;

	for (i = 0; i < sizeof(hcases) / sizeof(hcases[0]); i++) {
		const struct hcase *c = &hcases[i];

		len = c->len;
		detail[0] = '\0';
		/* All at once, a byte at a time, then split at every k. */
		r = feed(&h, c->in, len, 0, 0, &used, &bad);
		check_head(c, len, &h, r, used, bad, why, sizeof(why));
		head_free(&h);
		if (why[0] != '\0')
			(void)snprintf(detail, sizeof(detail), "all at once: "
			    "%s", why);
		if (detail[0] == '\0') {
			r = feed(&h, c->in, len, 0, 1, &used, &bad);
			check_head(c, len, &h, r, used, bad, why, sizeof(why));
			head_free(&h);
			if (why[0] != '\0')
				(void)snprintf(detail, sizeof(detail),
				    "byte at a time: %s", why);
		}
		for (k = 1; k < len && detail[0] == '\0'; k++) {
			r = feed(&h, c->in, len, k, 0, &used, &bad);
			check_head(c, len, &h, r, used, bad, why, sizeof(why));
			head_free(&h);
			if (why[0] != '\0')
				(void)snprintf(detail, sizeof(detail),
				    "split at %zu: %s", k, why);
		}
		(void)snprintf(what, sizeof(what), "head_feed: %s", c->what);
		result(detail[0] == '\0', what, detail);
	}
}

/*
 * A head of exactly total bytes: the status line, fields "X: aaa...\r\n"
 * of fieldlen bytes (the last one takes what is left), the empty line.
 */
static char *
big_head(size_t total, size_t fieldlen)
{
	static const char status[] = "HTTP/1.1 200 OK\r\n";
	char *b = malloc(total + 1);
	size_t o = sizeof(status) - 1, rem, n;

	if (b == NULL)
		abort();
	memcpy(b, status, o);
	while ((rem = total - 2 - o) > 0) {
		n = rem >= fieldlen + 5 ? fieldlen : rem;
		memcpy(b + o, "X: ", 3);
		memset(b + o + 3, 'a', n - 5);
		memcpy(b + o + n - 2, "\r\n", 2);
		o += n;
	}
	memcpy(b + o, "\r\n", 2);
	b[total] = '\0';
	return b;
}

/* n lines "X: y" + LF after the status line, then the empty line. */
static char *
many_lines(size_t n, size_t *len)
{
	static const char status[] = "HTTP/1.1 200 OK\n";
	char *b = malloc(sizeof(status) + n * 5 + 2);
	size_t o = sizeof(status) - 1, i;

	if (b == NULL)
		abort();
	memcpy(b, status, o);
	for (i = 0; i < n; i++, o += 5)
		memcpy(b + o, "X: y\n", 5);
	b[o++] = '\n';
	b[o] = '\0';
	*len = o;
	return b;
}

static void
test_limits(void)
{
	static const size_t chunks[] = { 0, 1, 4096 };
	static const char *const how[] = { "all at once", "a byte at a time",
	    "in 4096-byte reads" };
	char detail[256], what[128];
	struct head h;
	size_t i, len, used, want;
	enum head_result r;
	bool bad, ok;
	char *b;

	/* Bytes: HEAD_MAX is the largest head; "over HEAD_MAX" is refused. */
	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		b = big_head(HEAD_MAX - 1, 100);
		r = feed(&h, b, HEAD_MAX - 1, 0, chunks[i], &used, &bad);
		ok = r == HEAD_COMPLETE && used == HEAD_MAX - 1 && !bad &&
		    h.len == used && memcmp(h.buf, b, used) == 0;
		(void)snprintf(detail, sizeof(detail), "result %d used %zu",
		    r, used);
		(void)snprintf(what, sizeof(what), "head of HEAD_MAX - 1 bytes "
		    "(%s)", how[i]);
		result(ok, what, detail);
		head_free(&h);
		free(b);

		b = big_head(HEAD_MAX, 100);
		r = feed(&h, b, HEAD_MAX, 0, chunks[i], &used, &bad);
		ok = r == HEAD_COMPLETE && used == HEAD_MAX && !bad;
		(void)snprintf(detail, sizeof(detail), "result %d used %zu "
		    "(HEAD_TOO_BIG is %d; http.h promises TOO_BIG only over "
		    "HEAD_MAX)", r, used, HEAD_TOO_BIG);
		(void)snprintf(what, sizeof(what), "head of exactly HEAD_MAX "
		    "bytes (%s)", how[i]);
		result(ok, what, detail);
		head_free(&h);
		free(b);

		b = big_head(HEAD_MAX + 1, 100);
		r = feed(&h, b, HEAD_MAX + 1, 0, chunks[i], &used, &bad);
		ok = r == HEAD_TOO_BIG && !bad && used <= HEAD_MAX &&
		    h.len == used && h.len < h.cap && h.buf[h.len] == '\0' &&
		    !h.complete;
		(void)snprintf(detail, sizeof(detail), "result %d used %zu",
		    r, used);
		(void)snprintf(what, sizeof(what), "head of HEAD_MAX + 1 bytes "
		    "is too big (%s)", how[i]);
		result(ok, what, detail);
		head_free(&h);
		free(b);
	}

	/* No line end at all. */
	b = malloc(HEAD_MAX + 100);
	if (b == NULL)
		abort();
	memset(b, 'a', HEAD_MAX + 100);
	r = feed(&h, b, HEAD_MAX + 100, 0, 0, &used, &bad);
	(void)snprintf(detail, sizeof(detail), "result %d used %zu", r, used);
	result(r == HEAD_TOO_BIG && used <= HEAD_MAX && h.len == used,
	    "a line longer than HEAD_MAX is too big", detail);
	head_free(&h);
	free(b);

	/* Lines: HEAD_LINES_MAX lines pass, the next one is refused. */
	for (i = 0; i < 2; i++) {
		b = many_lines(HEAD_LINES_MAX - 1, &len);
		r = feed(&h, b, len, 0, i, &used, &bad);
		(void)snprintf(detail, sizeof(detail), "result %d used %zu "
		    "lines %zu", r, used, h.lines);
		(void)snprintf(what, sizeof(what), "HEAD_LINES_MAX lines (%s)",
		    how[i]);
		result(r == HEAD_COMPLETE && used == len && !bad &&
		    h.lines == HEAD_LINES_MAX, what, detail);
		head_free(&h);
		free(b);

		b = many_lines(HEAD_LINES_MAX, &len);
		/* Refused as line HEAD_LINES_MAX + 1 ends, before the end. */
		want = len - 1;
		r = feed(&h, b, len, 0, i, &used, &bad);
		(void)snprintf(detail, sizeof(detail), "result %d used %zu "
		    "want %zu", r, used, want);
		(void)snprintf(what, sizeof(what), "HEAD_LINES_MAX + 1 lines "
		    "are too many (%s)", how[i]);
		result(r == HEAD_TOO_BIG && used == want && !bad &&
		    !h.complete, what, detail);
		head_free(&h);
		free(b);
	}
}

static void
test_reset(void)
{
	static const char in[] = "HTTP/1.1 100 Continue\n\n"
	    "HTTP/1.1 200 Connection established\r\n"
	    "Proxy-Agent: squid\r\n\r\nSSH";
	struct head h;
	char *buf;
	size_t used, cap, off;
	enum head_result r;

	memset(&h, 0, sizeof(h));
	head_reset(&h);
	result(h.buf == NULL && h.len == 0 && h.cap == 0,
	    "head_reset of an empty head", NULL);

	r = head_feed(&h, (const unsigned char *)in, sizeof(in) - 1, &used);
	result(r == HEAD_COMPLETE && used == 23 && h.complete,
	    "1xx then 200: the first head", NULL);
	buf = h.buf;
	cap = h.cap;
	head_reset(&h);
	result(h.buf == buf && h.cap == cap && h.len == 0 && h.lines == 0 &&
	    !h.complete && h.buf[0] == '\0', "head_reset keeps the memory "
	    "and empties the head", NULL);
	off = used;
	r = head_feed(&h, (const unsigned char *)in + off,
	    sizeof(in) - 1 - off, &used);
	result(r == HEAD_COMPLETE && off + used == sizeof(in) - 1 - 3 &&
	    h.len == used && strncmp(h.buf, "HTTP/1.1 200 ", 13) == 0 &&
	    h.lines == 2, "1xx then 200: the second head after a reset",
	    NULL);
	head_free(&h);
	result(h.buf == NULL && h.len == 0 && h.cap == 0 && h.lines == 0 &&
	    !h.complete, "head_free empties the head", NULL);
	head_free(&h);
	result(h.buf == NULL, "head_free twice is safe", NULL);
}

/* A head holding exactly s[0..n), as the reader would leave it. */
static void
mkhead(struct head *h, const char *s, size_t n)
{
	memset(h, 0, sizeof(*h));
	if ((h->buf = malloc(n + 1)) == NULL)
		abort();
	memcpy(h->buf, s, n);
	h->buf[n] = '\0';
	h->len = n;
	h->cap = n + 1;
	h->complete = true;
}

struct scase {
	const char	*in;
	size_t		 len;
	int		 rc;
	int		 minor;		/* when rc is 0 */
	int		 code;		/* when rc is 0 */
	const char	*line;		/* st.line, always */
};

static const struct scase scases[] = {
	{ S("HTTP/1.1 200 Connection established\r\n\r\n"), 0, 1, 200,
	    "HTTP/1.1 200 Connection established" },
	{ S("HTTP/1.0 407 Proxy Authentication Required\r\n"), 0, 0, 407,
	    "HTTP/1.0 407 Proxy Authentication Required" },
	{ S("HTTP/1.1 200\r\n\r\n"), 0, 1, 200, "HTTP/1.1 200" },
	{ S("HTTP/1.1 200 \r\n"), 0, 1, 200, "HTTP/1.1 200 " },
	{ S("HTTP/1.1 204 No Content\n\n"), 0, 1, 204,
	    "HTTP/1.1 204 No Content" },
	{ S("HTTP/1.1 100 Continue"), 0, 1, 100, "HTTP/1.1 100 Continue" },
	{ S("HTTP/1.1 599 x\r\n"), 0, 1, 599, "HTTP/1.1 599 x" },
	{ S("HTTP/1.1 999 x\r\n"), 0, 1, 999, "HTTP/1.1 999 x" },
	/* tests/fuzz/crashes/fuzz_handshake-407-body-stall */
	{ S("HTTP/1.1 407\nProxy-Authenticate: NTLM\r\n"), 0, 1, 407,
	    "HTTP/1.1 407" },
	/* tests/fuzz/seeds/fuzz_handshake/http-407-ntlm */
	{ S("HTTP/1.1 407 x\r\nProxy-Authenticate: NTLM\r\n"), 0, 1, 407,
	    "HTTP/1.1 407 x" },
	/* The line as shown to the user: control and non-ASCII bytes. */
	{ S("HTTP/1.1 403 \x1b[2Jgone\r\n"), 0, 1, 403,
	    "HTTP/1.1 403 ?[2Jgone" },
	{ S("HTTP/1.1 403 caf\xc3\xa9\x7f\r\n"), 0, 1, 403,
	    "HTTP/1.1 403 caf???" },
	{ S("HTTP/1.1 403 a\0b\r\n"), 0, 1, 403, "HTTP/1.1 403 a?b" },
	{ S("HTTP/1.1 403 a\rb\tc\r\n"), 0, 1, 403, "HTTP/1.1 403 a?b?c" },

	{ S("HTTP/1.1 2000\r\n"), -1, 0, 0, "HTTP/1.1 2000" },
	{ S("HTTP/1.1 2000 OK\r\n"), -1, 0, 0, "HTTP/1.1 2000 OK" },
	{ S("HTTP/1.1 20\r\n"), -1, 0, 0, "HTTP/1.1 20" },
	{ S("HTTP/1.1 20 OK\r\n"), -1, 0, 0, "HTTP/1.1 20 OK" },
	{ S("HTTP/1.1 200OK\r\n"), -1, 0, 0, "HTTP/1.1 200OK" },
	{ S("HTTP/1.1 200\tOK\r\n"), -1, 0, 0, "HTTP/1.1 200?OK" },
	{ S("HTTP/2 200\r\n"), -1, 0, 0, "HTTP/2 200" },
	{ S("HTTP/2.0 200 OK\r\n"), -1, 0, 0, "HTTP/2.0 200 OK" },
	{ S("HTTP/1.2 200 OK\r\n"), -1, 0, 0, "HTTP/1.2 200 OK" },
	{ S("HTTP/1.10 200 OK\r\n"), -1, 0, 0, "HTTP/1.10 200 OK" },
	{ S("HTTP/0.9 200 OK\r\n"), -1, 0, 0, "HTTP/0.9 200 OK" },
	{ S("HTTP/1.1  200 OK\r\n"), -1, 0, 0, "HTTP/1.1  200 OK" },
	{ S("HTTP/1.1\t200 OK\r\n"), -1, 0, 0, "HTTP/1.1?200 OK" },
	{ S(" HTTP/1.1 200 OK\r\n"), -1, 0, 0, " HTTP/1.1 200 OK" },
	{ S("http/1.1 200 OK\r\n"), -1, 0, 0, "http/1.1 200 OK" },
	{ S("HTTP/1.1 099 Low\r\n"), -1, 0, 0, "HTTP/1.1 099 Low" },
	{ S("HTTP/1.1 000\r\n"), -1, 0, 0, "HTTP/1.1 000" },
	{ S("HTTP/1.1 -20 OK\r\n"), -1, 0, 0, "HTTP/1.1 -20 OK" },
	{ S("HTTP/1.1 +20 OK\r\n"), -1, 0, 0, "HTTP/1.1 +20 OK" },
	{ S("HTTP/1.1 2x0 OK\r\n"), -1, 0, 0, "HTTP/1.1 2x0 OK" },
	{ S("HTTP/1.1 2 0 OK\r\n"), -1, 0, 0, "HTTP/1.1 2 0 OK" },
	{ S("HTTP/1.1\r\n"), -1, 0, 0, "HTTP/1.1" },
	{ S("SSH-2.0-OpenSSH_9.6\r\n"), -1, 0, 0, "SSH-2.0-OpenSSH_9.6" },
	{ S("\x05\x00"), -1, 0, 0, "??" },
	{ S("\r\nHTTP/1.1 200 OK\r\n"), -1, 0, 0, "" },
	{ S(""), -1, 0, 0, "" },
	{ S("junk junk junk junk\n\n"), -1, 0, 0, "junk junk junk junk" },
};

static void
test_parse_status(void)
{
	char what[600], detail[600], sh[300], big[400];
	struct status st;
	struct head h;
	size_t i;
	int rc;
	bool ok;

	for (i = 0; i < sizeof(scases) / sizeof(scases[0]); i++) {
		const struct scase *c = &scases[i];

		mkhead(&h, c->in, c->len);
		memset(&st, 0x55, sizeof(st));
		rc = http_parse_status(&h, &st);
		ok = rc == c->rc && strcmp(st.line, c->line) == 0;
		if (ok && rc == 0)
			ok = st.minor == c->minor && st.code == c->code;
		(void)snprintf(what, sizeof(what), "http_parse_status \"%s\"",
		    show(c->in, c->len, sh, sizeof(sh)));
		(void)snprintf(detail, sizeof(detail), "rc %d minor %d code "
		    "%d line \"%s\"", rc, st.minor, st.code, st.line);
		result(ok, what, detail);
		head_free(&h);
	}

	/* A long reason phrase is cut to fit st.line. */
	memcpy(big, "HTTP/1.1 403 ", 13);
	memset(big + 13, 'x', 300);
	memcpy(big + 313, "\r\n", 3);
	mkhead(&h, big, 315);
	rc = http_parse_status(&h, &st);
	result(rc == 0 && st.code == 403 &&
	    strlen(st.line) == sizeof(st.line) - 1 &&
	    strncmp(st.line, big, sizeof(st.line) - 1) == 0,
	    "http_parse_status cuts a 313-byte line to fit", st.line);
	head_free(&h);

	memset(&h, 0, sizeof(h));
	memset(&st, 0x55, sizeof(st));
	rc = http_parse_status(&h, &st);
	result(rc == -1 && st.line[0] == '\0',
	    "http_parse_status of a head never fed", NULL);
}

/* "name=value|" for every field of the head s[0..n). */
static void
fields(const char *s, size_t n, char *out, size_t outlen)
{
	const char *name, *value;
	size_t pos = 0, nl, vl, o = 0;
	struct head h;
	int guard = 0;

	mkhead(&h, s, n);
	out[0] = '\0';
	while (http_next_field(&h, &pos, &name, &nl, &value, &vl) == 1 &&
	    ++guard < 100) {
		if (name < h.buf || name + nl > h.buf + h.len ||
		    value < h.buf || value + vl > h.buf + h.len) {
			(void)snprintf(out, outlen, "out of the head");
			break;
		}
		o += (size_t)snprintf(out + o, outlen - o, "%.*s=%.*s|",
		    (int)nl, name, (int)vl, value);
		if (o >= outlen)
			break;
	}
	head_free(&h);
}

struct fcase {
	const char	*what;
	const char	*in;
	size_t		 len;
	const char	*want;
};

static const struct fcase fcases[] = {
	{ "two fields", S("HTTP/1.1 407 x\r\nA: b\r\nC:d\r\n\r\n"),
	    "A=b|C=d|" },
	{ "values trimmed of spaces and tabs",
	    S("S\r\nX:   v  \t\r\nY:\r\nZ: \t \r\nW:\tq  r\t\r\n\r\n"),
	    "X=v|Y=|Z=|W=q  r|" },
	{ "folded lines skipped",
	    S("S\r\nA: b\r\n c\r\n\td: e\r\nE: f\r\n\r\n"), "A=b|E=f|" },
	{ "lines without a name or colon skipped",
	    S("S\r\njunk\r\nA: b\r\n: empty name\r\n:\r\nC: d\r\n\r\n"),
	    "A=b|C=d|" },
	{ "bare LF", S("S\nA: b\nC: d\n\n"), "A=b|C=d|" },
	{ "the empty line ends the fields",
	    S("S\r\nA: b\r\n\r\nC: d\r\n"), "A=b|" },
	{ "the status line is never a field",
	    S("A: b\r\nC: d\r\n\r\n"), "C=d|" },
	{ "colons in a value", S("S\r\nHost: [::1]:22\r\n\r\n"),
	    "Host=[::1]:22|" },
	{ "space before the colon stays in the name",
	    S("S\r\nContent-Length : 5\r\n\r\n"), "Content-Length =5|" },
	{ "a last line without its end", S("S\r\nA: b"), "A=b|" },
	{ "status line only", S("S\r\n\r\n"), "" },
	{ "nothing at all", S(""), "" },
	{ "CR inside a value is kept", S("S\r\nA: b\rc\r\n\r\n"),
	    "A=b\rc|" },
	/* tests/fuzz/crashes/fuzz_handshake-407-body-stall */
	{ "crash 407-body-stall",
	    S("HTTP/1.1 407\nProxy-Authenticate: NTLM\r\n"
	    "Content-Length: 1\r\n\n"),
	    "Proxy-Authenticate=NTLM|Content-Length=1|" },
	/* tests/fuzz/seeds/fuzz_handshake/http-407-reconnect */
	{ "seed http-407-reconnect",
	    S("HTTP/1.0 407 Proxy Authentication Required\r\n"
	    "Proxy-Authenticate: Digest realm=\"proxy\", nonce=\"abc\", "
	    "qop=\"auth\"\r\nConnection: close\r\n\r\n"),
	    "Proxy-Authenticate=Digest realm=\"proxy\", nonce=\"abc\", "
	    "qop=\"auth\"|Connection=close|" },
};

static void
test_next_field(void)
{
	char what[300], got[1024], detail[1200], sh[1100];
	size_t i;

	for (i = 0; i < sizeof(fcases) / sizeof(fcases[0]); i++) {
		const struct fcase *c = &fcases[i];

		fields(c->in, c->len, got, sizeof(got));
		(void)snprintf(what, sizeof(what), "http_next_field: %s",
		    c->what);
		(void)snprintf(detail, sizeof(detail), "got \"%s\"",
		    show(got, strlen(got), sh, sizeof(sh)));
		result(strcmp(got, c->want) == 0, what, detail);
	}
}

static const struct fcase lcases[] = {
	{ "a request: lines up to the empty one",
	    S("CONNECT a:1 HTTP/1.1\r\nHost: a:1\r\n\r\nbody\r\n"),
	    "CONNECT a:1 HTTP/1.1|Host: a:1|" },
	{ "bare LF", S("a\nb\n"), "a|b|" },
	{ "a last line without its end", S("a\r\nb"), "a|b|" },
	{ "empty buffer", S(""), "" },
	{ "empty line first", S("\r\nA"), "" },
	{ "LF LF", S("a\n\nb\n"), "a|" },
	{ "only the last CR is dropped", S("a\r\r\nb"), "a\r|b|" },
	{ "CR without LF at the end is kept", S("a\n\r"), "a|\r|" },
};

static void
test_next_line(void)
{
	char what[300], got[512], detail[700], sh[600];
	const char *line;
	size_t i, pos, n, o;
	int guard;

	for (i = 0; i < sizeof(lcases) / sizeof(lcases[0]); i++) {
		const struct fcase *c = &lcases[i];

		pos = 0;
		o = 0;
		got[0] = '\0';
		guard = 0;
		while (http_next_line(c->in, c->len, &pos, &line, &n) == 1 &&
		    ++guard < 100 && o < sizeof(got))
			o += (size_t)snprintf(got + o, sizeof(got) - o,
			    "%.*s|", (int)n, line);
		(void)snprintf(what, sizeof(what), "http_next_line: %s",
		    c->what);
		(void)snprintf(detail, sizeof(detail), "got \"%s\"",
		    show(got, strlen(got), sh, sizeof(sh)));
		result(strcmp(got, c->want) == 0 && pos <= c->len, what,
		    detail);
	}
}

static void
test_field_is(void)
{
	static const struct {
		const char	*name;
		size_t		 len;
		const char	*want;
		bool		 is;
	} c[] = {
		{ "Content-Length", 14, "content-length", true },
		{ "CONTENT-LENGTH: 5", 14, "Content-Length", true },
		{ "Content-Lengt", 13, "Content-Length", false },
		{ "Content-Lengthx", 15, "Content-Length", false },
		{ "Content-Length ", 15, "Content-Length", false },
		{ "", 0, "", true },
		{ "", 0, "Host", false },
	};
	char what[128];
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		(void)snprintf(what, sizeof(what), "http_field_is(\"%.*s\", "
		    "\"%s\") is %s", (int)c[i].len, c[i].name, c[i].want,
		    c[i].is ? "true" : "false");
		result(http_field_is(c[i].name, c[i].len, c[i].want) ==
		    c[i].is, what, NULL);
	}
}

int
main(void)
{
	test_head_feed();
	test_limits();
	test_reset();
	test_parse_status();
	test_next_field();
	test_next_line();
	test_field_is();
	printf("1..%d\n", t);
	return failed;
}
