/*
 * test_crypto.c: the primitives against their specifications' vectors
 * (RFC 4648, RFC 1321, RFC 1320, FIPS 180-4, RFC 2104/2202, RFC 4231).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/base64.h"
#include "crypto/hash.h"
#include "crypto/hmac.h"
#include "util/random.h"
#include "crypto/wipe.h"

static int	ntest, nfail;
static char	tap[1 << 16];	/* results, printed after the plan */
static size_t	taplen;

static void
ok(int cond, const char *desc)
{
	int	n;

	ntest++;
	if (!cond)
		nfail++;
	n = snprintf(tap + taplen, sizeof(tap) - taplen, "%sok %d - %s\n",
	    cond ? "" : "not ", ntest, desc);
	if (n > 0 && (size_t)n < sizeof(tap) - taplen)
		taplen += (size_t)n;
}

/* Diagnostics go in the same stream, in order, as TAP comments. */
static void
diag(const char *what, const char *s)
{
	int	n;

	n = snprintf(tap + taplen, sizeof(tap) - taplen, "# %s %s\n", what, s);
	if (n > 0 && (size_t)n < sizeof(tap) - taplen)
		taplen += (size_t)n;
}

static int
hexeq(const uint8_t *p, size_t len, const char *want)
{
	char	buf[256];

	hash_hex(p, len, buf);
	if (strcmp(buf, want) != 0) {
		diag("got ", buf);
		diag("want", want);
		return 0;
	}
	return 1;
}

static void
test_base64(void)
{
	static const struct {
		const char	*plain, *enc;
	} v[] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" }
	};
	static const char *bad[] = {
		"Zg=", "Z", "Zm9v=", "Zm 9v", "Zm9\n", "Z===", "=Zg=", "Zm9v!A==",
		"Zg==Zg=="
	};
	char		 enc[64], desc[80];
	uint8_t		 dec[64], all[256];
	size_t		 i, n;
	int		 good;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		n = base64_encode(v[i].plain, strlen(v[i].plain), enc,
		    sizeof(enc));
		snprintf(desc, sizeof(desc), "base64 encode \"%s\" (RFC 4648)",
		    v[i].plain);
		ok(n == strlen(v[i].enc) && strcmp(enc, v[i].enc) == 0, desc);
		good = base64_decode(v[i].enc, strlen(v[i].enc), dec,
		    sizeof(dec), &n) == 0 && n == strlen(v[i].plain) &&
		    memcmp(dec, v[i].plain, n) == 0;
		snprintf(desc, sizeof(desc), "base64 decode \"%s\" (RFC 4648)",
		    v[i].enc);
		ok(good, desc);
	}
	ok(base64_decode("Zm9vYg", 6, dec, sizeof(dec), &n) == 0 && n == 4 &&
	    memcmp(dec, "foob", 4) == 0, "base64 decode accepts missing padding");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(desc, sizeof(desc), "base64 decode rejects \"%s\"",
		    bad[i]);
		for (n = 0; desc[n] != '\0'; n++)
			if (desc[n] == '\n')
				desc[n] = '~';
		ok(base64_decode(bad[i], strlen(bad[i]), dec, sizeof(dec), &n)
		    == -1, desc);
	}
	ok(base64_encode("foobar", 6, enc, 8) == 0 && enc[0] == '\0',
	    "base64 encode refuses a too small buffer");
	ok(base64_encode("foobar", 6, enc, 9) == 8,
	    "base64 encode fits an exact buffer");
	ok(base64_decode("Zm9vYmFy", 8, dec, 5, &n) == -1,
	    "base64 decode refuses a too small buffer");
	ok(base64_decode("Zm9vYmE=", 8, dec, 5, &n) == 0 && n == 5,
	    "base64 decode fits an exact buffer");
	for (i = 0; i < sizeof(all); i++)
		all[i] = (uint8_t)i;
	{
		char	big[BASE64_ENCODED_SIZE(256)];
		uint8_t	back[BASE64_DECODED_MAX(sizeof(big))];

		n = base64_encode(all, sizeof(all), big, sizeof(big));
		good = n == sizeof(big) - 1 &&
		    base64_decode(big, n, back, sizeof(back), &n) == 0 &&
		    n == sizeof(all) && memcmp(back, all, n) == 0;
		ok(good, "base64 round trip of all 256 byte values");
	}
}

static const char *const suite_in[] = {
	"", "a", "abc", "message digest", "abcdefghijklmnopqrstuvwxyz",
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
	("1234567890123456789012345678901234567890"
	"1234567890123456789012345678901234567890")
};

static void
test_md5(void)
{
	static const char *const want[] = {
		"d41d8cd98f00b204e9800998ecf8427e",
		"0cc175b9c0f1b6a831c399e269772661",
		"900150983cd24fb0d6963f7d28e17f72",
		"f96b697d7cb7938d525a2f31aaf161d0",
		"c3fcd3d76192e4007dfb496cca67e13b",
		"d174ab98d277d9f5a5611c2c9f419d9f",
		"57edf4a22be3c955ac49da2e2107b67a"
	};
	uint8_t		d[MD5_DIGEST_LEN];
	struct hash_ctx	ctx;
	char		desc[120];
	size_t		i, j, len;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		hash(&hash_md5, suite_in[i], strlen(suite_in[i]), d);
		snprintf(desc, sizeof(desc), "MD5 (\"%.30s\") (RFC 1321)",
		    suite_in[i]);
		ok(hexeq(d, sizeof(d), want[i]), desc);
	}
	/* Byte at a time, across block boundaries. */
	len = strlen(suite_in[6]);
	hash_init(&ctx, &hash_md5);
	for (j = 0; j < len; j++)
		hash_update(&ctx, suite_in[6] + j, 1);
	hash_final(&ctx, d);
	ok(hexeq(d, sizeof(d), want[6]), "MD5 streamed one byte at a time");
}

static void
test_md4(void)
{
	static const char *const want[] = {
		"31d6cfe0d16ae931b73c59d7e0c089c0",
		"bde52cb31de33e46245e05fbdbd6fb24",
		"a448017aaf21d8525fc10ae87aa6729d",
		"d9130a8164549fe818874806e1c7014b",
		"d79e1c308aa5bbcdeea8ed63df412da9",
		"043f8582f241db351ce627e153e7f0e4",
		"e33b4ddc9c38f2199c3e7b164fcc0536"
	};
	uint8_t		d[MD4_DIGEST_LEN];
	struct hash_ctx	ctx;
	char		desc[120];
	size_t		i, j, len;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		hash(&hash_md4, suite_in[i], strlen(suite_in[i]), d);
		snprintf(desc, sizeof(desc), "MD4 (\"%.30s\") (RFC 1320)",
		    suite_in[i]);
		ok(hexeq(d, sizeof(d), want[i]), desc);
	}
	len = strlen(suite_in[5]);
	hash_init(&ctx, &hash_md4);
	for (j = 0; j < len; j += 7)
		hash_update(&ctx, suite_in[5] + j, len - j < 7 ? len - j : 7);
	hash_final(&ctx, d);
	ok(hexeq(d, sizeof(d), want[5]), "MD4 streamed in 7-byte pieces");
}

static void
test_sha256(void)
{
	static const char	*a448 =
	    "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	static const char	*a896 =
	    "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
	    "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
	uint8_t			 d[SHA256_DIGEST_LEN], chunk[1000];
	struct hash_ctx	 ctx;
	size_t			 i;

	hash(&hash_sha256, "", 0, d);
	ok(hexeq(d, sizeof(d), "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855"), "SHA-256 of the empty string");
	hash(&hash_sha256, "abc", 3, d);
	ok(hexeq(d, sizeof(d), "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad"), "SHA-256 (\"abc\") (FIPS 180-4)");
	hash(&hash_sha256, a448, strlen(a448), d);
	ok(hexeq(d, sizeof(d), "248d6a61d20638b8e5c026930c3e6039"
	    "a33ce45964ff2167f6ecedd419db06c1"),
	    "SHA-256 of the 448-bit message (FIPS 180-4)");
	hash(&hash_sha256, a896, strlen(a896), d);
	ok(hexeq(d, sizeof(d), "cf5b16a778af8380036ce59e7b049237"
	    "0b249b11e8f07a51afac45037afee9d1"),
	    "SHA-256 of the 896-bit message (NIST)");
	memset(chunk, 'a', sizeof(chunk));
	hash_init(&ctx, &hash_sha256);
	for (i = 0; i < 1000; i++)
		hash_update(&ctx, chunk, sizeof(chunk));
	hash_final(&ctx, d);
	ok(hexeq(d, sizeof(d), "cdc76e5c9914fb9281a1c7e284d73e67"
	    "f1809a48a497200e046d39ccc7112cd0"),
	    "SHA-256 of one million 'a' (FIPS 180-4)");
	hash_init(&ctx, &hash_sha256);
	for (i = 0; i < 1000000 / 997; i++)
		hash_update(&ctx, chunk, 997);
	hash_update(&ctx, chunk, 1000000 % 997);
	hash_final(&ctx, d);
	ok(hexeq(d, sizeof(d), "cdc76e5c9914fb9281a1c7e284d73e67"
	    "f1809a48a497200e046d39ccc7112cd0"),
	    "SHA-256 of one million 'a' in unaligned pieces");
}

static void
test_hmac(void)
{
	static const char	*big1 =
	    "Test Using Larger Than Block-Size Key - Hash Key First";
	static const char	*big2 =
	    "Test Using Larger Than Block-Size Key and Larger Than One "
	    "Block-Size Data";
	static const char	*big3 =
	    "This is a test using a larger than block-size key and a larger "
	    "than block-size data. The key needs to be hashed before being "
	    "used by the HMAC algorithm.";
	uint8_t			 key[131], data[50], d5[MD5_DIGEST_LEN];
	uint8_t			 d2[SHA256_DIGEST_LEN];
	struct hmac_ctx	 ctx;
	size_t			 i;

	memset(key, 0x0b, 16);
	hmac(&hash_md5, key, 16, "Hi There", 8, d5);
	ok(hexeq(d5, sizeof(d5), "9294727a3638bb1c13f48ef8158bfc9d"),
	    "HMAC-MD5 case 1 (RFC 2104)");
	hmac(&hash_md5, "Jefe", 4, "what do ya want for nothing?", 28, d5);
	ok(hexeq(d5, sizeof(d5), "750c783e6ab0b503eaa86e310a5db738"),
	    "HMAC-MD5 case 2 (RFC 2104)");
	memset(key, 0xaa, 16);
	memset(data, 0xdd, 50);
	hmac(&hash_md5, key, 16, data, 50, d5);
	ok(hexeq(d5, sizeof(d5), "56be34521d144c88dbb8c733f0e8b3f6"),
	    "HMAC-MD5 case 3 (RFC 2104)");
	for (i = 0; i < 25; i++)
		key[i] = (uint8_t)(i + 1);
	memset(data, 0xcd, 50);
	hmac(&hash_md5, key, 25, data, 50, d5);
	ok(hexeq(d5, sizeof(d5), "697eaf0aca3a3aea3a75164746ffaa79"),
	    "HMAC-MD5 case 4 (RFC 2202)");
	memset(key, 0xaa, 80);
	hmac(&hash_md5, key, 80, big1, strlen(big1), d5);
	ok(hexeq(d5, sizeof(d5), "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd"),
	    "HMAC-MD5 with an 80-byte key (RFC 2202 case 6)");
	hmac(&hash_md5, key, 80, big2, strlen(big2), d5);
	ok(hexeq(d5, sizeof(d5), "6f630fad67cda0ee1fb1f562db3aa53e"),
	    "HMAC-MD5 with an 80-byte key and data (RFC 2202 case 7)");

	memset(key, 0x0b, 20);
	hmac(&hash_sha256, key, 20, "Hi There", 8, d2);
	ok(hexeq(d2, sizeof(d2), "b0344c61d8db38535ca8afceaf0bf12b"
	    "881dc200c9833da726e9376c2e32cff7"), "HMAC-SHA-256 case 1 (RFC 4231)");
	hmac(&hash_sha256, "Jefe", 4, "what do ya want for nothing?", 28, d2);
	ok(hexeq(d2, sizeof(d2), "5bdcc146bf60754e6a042426089575c7"
	    "5a003f089d2739839dec58b964ec3843"), "HMAC-SHA-256 case 2 (RFC 4231)");
	memset(key, 0xaa, 20);
	memset(data, 0xdd, 50);
	hmac(&hash_sha256, key, 20, data, 50, d2);
	ok(hexeq(d2, sizeof(d2), "773ea91e36800e46854db8ebd09181a7"
	    "2959098b3ef8c122d9635514ced565fe"), "HMAC-SHA-256 case 3 (RFC 4231)");
	for (i = 0; i < 25; i++)
		key[i] = (uint8_t)(i + 1);
	memset(data, 0xcd, 50);
	hmac(&hash_sha256, key, 25, data, 50, d2);
	ok(hexeq(d2, sizeof(d2), "82558a389a443c0ea4cc819899f2083a"
	    "85f0faa3e578f8077a2e3ff46729665b"), "HMAC-SHA-256 case 4 (RFC 4231)");
	memset(key, 0xaa, 131);
	hmac(&hash_sha256, key, 131, big1, strlen(big1), d2);
	ok(hexeq(d2, sizeof(d2), "60e431591ee0b67f0d8a26aacbf5b77f"
	    "8e0bc6213728c5140546040f0ee37f54"), "HMAC-SHA-256 case 6 (RFC 4231)");
	hmac(&hash_sha256, key, 131, big3, strlen(big3), d2);
	ok(hexeq(d2, sizeof(d2), "9b09ffa71b942fcb27635fbcd5b0e944"
	    "bfdc63644f0713938a7f51535c3a35e2"), "HMAC-SHA-256 case 7 (RFC 4231)");
	hmac_init(&ctx, &hash_sha256, key, 131);
	for (i = 0; big3[i] != '\0'; i++)
		hmac_update(&ctx, big3 + i, 1);
	hmac_final(&ctx, d2);
	ok(hexeq(d2, sizeof(d2), "9b09ffa71b942fcb27635fbcd5b0e944"
	    "bfdc63644f0713938a7f51535c3a35e2"),
	    "HMAC-SHA-256 case 7 streamed one byte at a time");
}

static void
test_misc(void)
{
	uint8_t	a[64], b[64], z[64];
	size_t	i;
	int	same = 1;

	memset(z, 0, sizeof(z));
	ok(random_bytes(a, sizeof(a)) == 0 && random_bytes(b, sizeof(b)) == 0,
	    "random_bytes fills a buffer");
	ok(memcmp(a, b, sizeof(a)) != 0 && memcmp(a, z, sizeof(a)) != 0,
	    "random_bytes gives different, non-zero output");
	ok(random_bytes(a, 0) == 0, "random_bytes accepts a zero length");
	memset(a, 0x5a, sizeof(a));
	wipe(a, sizeof(a));
	for (i = 0; i < sizeof(a); i++)
		if (a[i] != 0)
			same = 0;
	ok(same, "wipe zeroes the buffer");
	wipe(NULL, 0);
	ok(1, "wipe accepts NULL with length 0");
}

int
main(void)
{
	test_base64();
	test_md5();
	test_md4();
	test_sha256();
	test_hmac();
	test_misc();
	printf("1..%d\n%s", ntest, tap);
	return nfail == 0 ? 0 : 1;
}
