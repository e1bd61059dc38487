/*
 * num.c: checked decimal parsing.
 */
#include <string.h>

#include "util/num.h"

int
num_parse(const char *s, size_t len, unsigned long long max,
    unsigned long long *out)
{
	unsigned long long v = 0;
	size_t i;

	if (len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (unsigned)(s[i] - '0');
		if (d > max || v > (max - d) / 10)
			return -1;	/* v * 10 + d > max */
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int
num_parse_uint(const char *s, unsigned max, unsigned *out)
{
	unsigned long long v;

	if (num_parse(s, strlen(s), max, &v) == -1)
		return -1;
	*out = (unsigned)v;
	return 0;
}

int
num_parse_seconds(const char *s, double max, double *out)
{
	const char *dot = strchr(s, '.');
	size_t ilen = dot != NULL ? (size_t)(dot - s) : strlen(s);
	unsigned long long whole = 0, frac = 0;
	double v, scale = 1;
	size_t flen = 0, i;

	if (ilen > 0 && num_parse(s, ilen, 1000000000ULL, &whole) == -1)
		return -1;
	if (dot != NULL) {
		flen = strlen(dot + 1);
		/* Nine digits are more than any deadline can use. */
		if (flen > 9 || (flen > 0 &&
		    num_parse(dot + 1, flen, 999999999ULL, &frac) == -1))
			return -1;
	}
	if (ilen == 0 && flen == 0)
		return -1;	/* "" or "." */
	for (i = 0; i < flen; i++)
		scale *= 10;
	v = (double)whole + (double)frac / scale;
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

int
num_hexdigit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
