/*
 * request.c: an HTTP/1.1 request and its response (see request.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/auth.h"
#include "crypto/wipe.h"
#include "proto/request.h"
#include "util/buf.h"
#include "util/num.h"
#include "util/version.h"

enum { RQ_HEAD, RQ_BODY, RQ_CHUNK_SIZE, RQ_CHUNK_DATA, RQ_CHUNK_END,
    RQ_TRAILER, RQ_DRAIN, RQ_DONE };

#define DRAIN_MAX	(1024 * 1024)	/* a 407 body read to go on */


static enum step
build(struct request *r)
{
	const char *authz = r->via_proxy ? auth_next(r->auth) : NULL;
	char head[8192], length[40];
	int n;

	if (r->chunked_body)
		(void)snprintf(length, sizeof(length),
		    "Transfer-Encoding: chunked");
	else
		(void)snprintf(length, sizeof(length), "Content-Length: %zu",
		    r->bodylen);
	n = snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nHost: %s\r\n"
	    "User-Agent: culvert/%s\r\n%s%s%s%s%s\r\n\r\n",
	    r->method, r->target, r->host, CULVERT_VERSION,
	    authz != NULL ? "Proxy-Authorization: " : "",
	    authz != NULL ? authz : "", authz != NULL ? "\r\n" : "",
	    r->extra != NULL ? r->extra : "", length);
	if (n < 0 || (size_t)n >= sizeof(head)) {
		failure_set(&r->fail, FAIL_USAGE, "the %s request would be too "
		    "long", r->method);
		return STEP_FAIL;
	}
	if (buf_grow(&r->out, &r->outcap, (size_t)n + r->bodylen) == -1) {
		failure_set(&r->fail, FAIL_IO, "out of memory");
		return STEP_FAIL;
	}
	memcpy(r->out, head, (size_t)n);
	if (r->bodylen > 0)
		memcpy(r->out + n, r->body, r->bodylen);
	r->outlen = (size_t)n + r->bodylen;
	wipe(head, sizeof(head));
	r->attempts++;
	r->state = RQ_HEAD;
	head_reset(&r->head);
	r->rlen = 0;
	return STEP_SEND;
}

enum step
request_start(struct request *r)
{
	r->state = RQ_HEAD;
	r->attempts = 0;
	if (r->via_proxy && r->auth == NULL &&
	    (r->auth = auth_new(r->creds, r->auth_allow, r->target)) == NULL) {
		failure_set(&r->fail, FAIL_IO, "out of memory");
		return STEP_FAIL;
	}
	return build(r);
}

enum step
request_restart(struct request *r)
{
	return build(r);
}

bool
request_in_body(const struct request *r)
{
	return r->state == RQ_BODY || r->state == RQ_CHUNK_SIZE ||
	    r->state == RQ_CHUNK_DATA || r->state == RQ_CHUNK_END ||
	    r->state == RQ_TRAILER;
}

size_t
request_body_left(const struct request *r)
{
	if (r->to_close || (r->state != RQ_BODY && r->state != RQ_CHUNK_DATA &&
	    r->state != RQ_DRAIN))
		return 0;
	return r->left > SIZE_MAX ? SIZE_MAX : (size_t)r->left;
}

int
request_field(const struct request *r, const char *name, const char **v,
    size_t *vl)
{
	const char *n;
	size_t pos = 0, nl;

	while (http_next_field(&r->head, &pos, &n, &nl, v, vl))
		if (http_field_is(n, nl, name))
			return 0;
	return -1;
}

/* How the body comes: its length, chunked, or up to the close. */
static enum step
head_complete(struct request *r)
{
	const char *v;
	size_t vl;
	unsigned long long len;
	long long keep;

	if (http_parse_status(&r->head, &r->st) == -1) {
		failure_set(&r->fail, FAIL_PROTO, "the answer to %s %s is not "
		    "HTTP: \"%.80s\"", r->method, r->target, r->st.line);
		return STEP_FAIL;
	}
	if (r->st.code >= 100 && r->st.code < 200) {
		head_reset(&r->head);
		return STEP_NEED;	/* interim; the real one follows */
	}
	if (r->st.code == 407 && r->via_proxy) {
		bool midway = auth_needs_connection(r->auth);

		if (auth_on_407(r->auth, &r->head, &r->st, r->attempts,
		    &r->fail) == -1) {
			r->fail.http_status = 407;
			return STEP_FAIL;
		}
		keep = http_reuse_length(&r->head, &r->st, DRAIN_MAX);
		if (keep == -1) {
			if (midway) {
				failure_set(&r->fail, FAIL_AUTH, "the proxy "
				    "closed the connection in the middle of "
				    "NTLM authentication: %s", r->st.line);
				return STEP_FAIL;
			}
			return STEP_RECONNECT;
		}
		r->left = (unsigned long long)keep;
		r->state = RQ_DRAIN;
		return r->left == 0 ? build(r) : STEP_NEED;
	}
	r->keep = r->st.minor >= 1;
	if (request_field(r, "Connection", &v, &vl) == 0 && vl >= 5 &&
	    strncasecmp(v, "close", 5) == 0)
		r->keep = false;
	r->chunked = request_field(r, "Transfer-Encoding", &v, &vl) == 0 &&
	    vl >= 7 && strncasecmp(v + vl - 7, "chunked", 7) == 0;
	if (r->st.code == 204 || r->st.code == 304 ||
	    strcmp(r->method, "HEAD") == 0) {
		r->state = RQ_DONE;
		return STEP_DONE;
	}
	if (r->chunked) {
		r->state = RQ_CHUNK_SIZE;
		r->linelen = 0;
		return STEP_NEED;
	}
	if (request_field(r, "Content-Length", &v, &vl) == 0) {
		if (num_parse(v, vl, 1ULL << 40, &len) == -1) {
			failure_set(&r->fail, FAIL_PROTO, "bad Content-Length "
			    "in the answer to %s", r->method);
			return STEP_FAIL;
		}
		r->left = len;
		r->state = RQ_BODY;
		if (len == 0) {
			r->state = RQ_DONE;
			return STEP_DONE;
		}
		return STEP_NEED;
	}
	r->to_close = true;
	r->keep = false;
	r->state = RQ_BODY;
	return STEP_NEED;
}

/* Keep n body bytes; false when the body is over body_max. */
static bool
keep_body(struct request *r, const unsigned char *p, size_t n)
{
	if (n == 0)
		return true;	/* rbody may still be NULL: no memcpy */
	if (r->rlen + n > r->body_max ||
	    buf_grow(&r->rbody, &r->rcap, r->rlen + n) == -1) {
		failure_set(&r->fail, FAIL_PROTO, "the answer to %s has a body "
		    "over %zu bytes", r->method, r->body_max);
		return false;
	}
	memcpy(r->rbody + r->rlen, p, n);
	r->rlen += n;
	return true;
}

/* A chunk-size line, or the empty line after a chunk or the trailer. */
static int
chunk_line(struct request *r, const unsigned char *in, size_t len,
    size_t *off, bool *complete)
{
	*complete = false;
	while (*off < len) {
		unsigned char c = in[(*off)++];

		if (c == '\n') {
			while (r->linelen > 0 && r->line[r->linelen - 1] == '\r')
				r->linelen--;
			r->line[r->linelen] = '\0';
			*complete = true;
			return 0;
		}
		if (r->linelen + 1 >= sizeof(r->line))
			return -1;
		r->line[r->linelen++] = (char)c;
	}
	return 0;
}

enum step
request_input(struct request *r, const unsigned char *in, size_t len,
    bool eof, size_t *used)
{
	size_t off = 0, n;
	bool complete;
	enum step s;

	*used = 0;
	while (r->state != RQ_DONE) {
		switch (r->state) {
		case RQ_HEAD:
			if (off == len)
				goto more;
			switch (head_feed(&r->head, in + off, len - off, &n)) {
			case HEAD_MORE:
				off += n;
				goto more;
			case HEAD_COMPLETE:
				off += n;
				*used = off;
				if ((s = head_complete(r)) != STEP_NEED)
					return s;
				break;
			case HEAD_TOO_BIG:
				failure_set(&r->fail, FAIL_PROTO, "the answer "
				    "to %s has a head over %d bytes",
				    r->method, HEAD_MAX);
				return STEP_FAIL;
			case HEAD_NOMEM:
				failure_set(&r->fail, FAIL_IO, "out of memory");
				return STEP_FAIL;
			}
			break;
		case RQ_DRAIN:
		case RQ_BODY:
		case RQ_CHUNK_DATA:
			n = len - off;
			if (!r->to_close && n > r->left)
				n = (size_t)r->left;
			if (r->state != RQ_DRAIN && !keep_body(r, in + off, n))
				return STEP_FAIL;
			off += n;
			*used = off;
			if (!r->to_close)
				r->left -= n;
			if (r->to_close || r->left > 0)
				goto more;
			if (r->state == RQ_DRAIN)
				return build(r);
			if (r->state == RQ_CHUNK_DATA) {
				r->state = RQ_CHUNK_END;
				r->linelen = 0;
				break;
			}
			r->state = RQ_DONE;
			break;
		case RQ_CHUNK_SIZE:
		case RQ_CHUNK_END:
		case RQ_TRAILER:
			if (chunk_line(r, in, len, &off, &complete) == -1) {
				failure_set(&r->fail, FAIL_PROTO, "bad chunk "
				    "in the answer to %s", r->method);
				return STEP_FAIL;
			}
			*used = off;
			if (!complete)
				goto more;
			r->linelen = 0;
			if (r->state == RQ_CHUNK_END) {
				r->state = RQ_CHUNK_SIZE;
			} else if (r->state == RQ_TRAILER) {
				if (r->line[0] == '\0')
					r->state = RQ_DONE;
			} else {
				char *semi = strchr(r->line, ';');
				unsigned long long size = 0;
				size_t i, sl;

				if (semi != NULL)
					*semi = '\0';
				sl = strlen(r->line);
				for (i = 0; i < sl && i < 12; i++) {
					int d = num_hexdigit(r->line[i]);

					if (d < 0)
						break;
					size = size * 16 + (unsigned)d;
				}
				if (sl == 0 || i != sl) {
					failure_set(&r->fail, FAIL_PROTO, "bad "
					    "chunk size in the answer to %s",
					    r->method);
					return STEP_FAIL;
				}
				r->left = size;
				r->state = size == 0 ? RQ_TRAILER :
				    RQ_CHUNK_DATA;
			}
			break;
		}
	}
	*used = off;
	return STEP_DONE;
more:
	*used = off;
	if (eof) {
		if (r->state == RQ_BODY && r->to_close) {
			r->state = RQ_DONE;
			return STEP_DONE;
		}
		failure_set(&r->fail, FAIL_PROTO, "the connection closed in "
		    "the middle of the answer to %s %s", r->method, r->target);
		return STEP_FAIL;
	}
	return STEP_NEED;
}

void
request_free(struct request *r)
{
	head_free(&r->head);
	auth_free(r->auth);
	r->auth = NULL;
	if (r->out != NULL) {
		wipe(r->out, r->outcap);
		free(r->out);
	}
	free(r->rbody);
	r->out = NULL;
	r->rbody = NULL;
	r->outlen = r->outcap = r->rlen = r->rcap = 0;
}
