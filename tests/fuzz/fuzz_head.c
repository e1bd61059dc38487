/*
 * fuzz_head.c: libFuzzer harness for the response-head reader (http.h).
 *
 * Input: byte 0 seeds the chunk sizes, the rest is what a proxy sends.
 * The bytes are fed to head_feed() in pieces of 1 to 64 bytes, as reads
 * off a socket would deliver them.  Each complete head is checked with
 * http_parse_status() and every field is walked with http_next_field();
 * then the head is reset and the remaining bytes fed again, as the
 * handshake does after an interim 1xx answer.  Checks the invariants
 * head_feed() promises: *used never exceeds the offer, a complete head
 * ends in an empty line, and buf stays NUL-terminated within cap.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/http.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_head(const struct head *h)
{
	struct status st;
	const char *name, *value;
	size_t pos = 0, nl, vl, fields = 0;

	if (h->buf != NULL && (h->len >= h->cap || h->buf[h->len] != '\0'))
		abort();
	if (http_parse_status(h, &st) == 0) {
		if (st.code < 100 || st.code > 999 ||
		    (st.minor != 0 && st.minor != 1))
			abort();
	}
	if (strlen(st.line) >= sizeof(st.line))
		abort();
	if (h->buf == NULL)
		return;
	while (http_next_field(h, &pos, &name, &nl, &value, &vl) == 1) {
		if (nl == 0 || name < h->buf || name + nl > h->buf + h->len ||
		    value < h->buf || value + vl > h->buf + h->len)
			abort();
		(void)http_field_is(name, nl, "Content-Length");
		if (++fields > HEAD_LINES_MAX + 1)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct head h;
	unsigned char *buf;
	uint32_t rng;
	size_t off = 0, len;

	if (size < 1)
		return 0;
	rng = (uint32_t)data[0] * 2654435761u + 1;
	len = size - 1;
	/* Exactly sized, so reading past the offer is caught. */
	if ((buf = malloc(len > 0 ? len : 1)) == NULL)
		return 0;
	memcpy(buf, data + 1, len);
	memset(&h, 0, sizeof(h));

	while (off < len) {
		size_t chunk, used;
		enum head_result r;

		rng ^= rng << 13;
		rng ^= rng >> 17;
		rng ^= rng << 5;
		chunk = (rng % 64) + 1;
		if (chunk > len - off)
			chunk = len - off;
		r = head_feed(&h, buf + off, chunk, &used);
		if (used > chunk)
			abort();
		off += used;
		if (r == HEAD_MORE && used != chunk)
			abort();
		if (r == HEAD_COMPLETE) {
			if (!h.complete || h.len == 0 ||
			    h.buf[h.len - 1] != '\n')
				abort();
			check_head(&h);
			head_reset(&h);
		} else if (r == HEAD_TOO_BIG || r == HEAD_NOMEM) {
			check_head(&h);
			break;
		}
	}
	check_head(&h);
	head_free(&h);
	free(buf);
	return 0;
}
