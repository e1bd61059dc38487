/*
 * fuzz_ntlm.c: libFuzzer harness for the NTLM CHALLENGE (type 2) parser
 * and the AUTHENTICATE (type 3) builder (auth_ntlm.h).
 *
 * Input: byte 0 picks the user name form ("DOM\user", "user@dns.test",
 * plain "user", a long non-ASCII one); the rest is the raw CHALLENGE
 * message, copied to an exactly sized buffer.  A parsed challenge is
 * answered with ntlm_authenticate() using a fixed client challenge and
 * timestamp, into a buffer of exactly NTLM_TOKEN_MAX bytes.  Checks that
 * the parsed lengths stay within their arrays, the UTF-8 target name is
 * NUL-terminated, and the message length stays within the buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/ntlm.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const users[] = {
	"DOM\\user",
	"user@dns.test",
	"user",
	"\xc3\xa9t\xc3\xa9\\\xe2\x82\xac\xf0\x9f\x98\x80",
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t cc[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	const uint64_t ts = 0x01d0000000000000ull;
	struct ntlm_challenge *ch;
	uint8_t *msg, *out;
	const char *err = NULL, *user;
	size_t len, outlen = 0;

	if (size < 1)
		return 0;
	user = users[data[0] % (sizeof(users) / sizeof(users[0]))];
	len = size - 1;
	ch = malloc(sizeof(*ch));
	msg = malloc(len > 0 ? len : 1);
	out = malloc(NTLM_TOKEN_MAX);
	if (ch == NULL || msg == NULL || out == NULL)
		goto done;
	memcpy(msg, data + 1, len);
	if (ntlm_parse_challenge(ch, msg, len, &err) == -1) {
		if (err == NULL)
			abort();
		goto done;
	}
	if (ch->target_name_len > sizeof(ch->target_name) ||
	    ch->nb_domain_len > sizeof(ch->nb_domain) ||
	    ch->target_info_len > sizeof(ch->target_info) ||
	    memchr(ch->target_name_utf8, '\0',
	    sizeof(ch->target_name_utf8)) == NULL)
		abort();
	err = NULL;
	if (ntlm_authenticate(out, NTLM_TOKEN_MAX, &outlen, ch, user, "p",
	    (data[0] & 0x10) ? "WS" : NULL, cc, (data[0] & 0x20) ? &ts : NULL,
	    &err) == 0) {
		if (outlen > NTLM_TOKEN_MAX)
			abort();
	} else if (err == NULL)
		abort();
done:
	free(out);
	free(msg);
	free(ch);
	return 0;
}
