/*
 * num.h: the one checked decimal parser.  Everything culvert reads as a
 * number (ports, lengths, prefix bits, seconds) goes through here: digits
 * only, no sign, no white space, no overflow.
 */
#ifndef CULVERT_UTIL_NUM_H
#define CULVERT_UTIL_NUM_H

#include <stddef.h>

/*
 * Parse the len bytes at s (need not be NUL-terminated) as a nonempty
 * run of decimal digits whose value is at most max.  0 with *out set, or
 * -1 (nothing written) for anything else.
 */
int	num_parse(const char *s, size_t len, unsigned long long max,
	    unsigned long long *out);

/* num_parse() of a whole NUL-terminated string, into an unsigned. */
int	num_parse_uint(const char *s, unsigned max, unsigned *out);

/*
 * Seconds: digits with at most one '.' and a fraction ("10", "2.5",
 * ".5"), at most max.  0 with *out set, or -1.
 */
int	num_parse_seconds(const char *s, double max, double *out);

/* The value of a hexadecimal digit (either case), or -1. */
int	num_hexdigit(int c);

#endif
