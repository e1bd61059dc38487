/*
 * failure.c: filling a struct failure.
 */
#include <stdarg.h>
#include <stdio.h>

#include "util/failure.h"

void
failure_set(struct failure *f, enum fail_kind kind, const char *fmt, ...)
{
	va_list ap;

	f->kind = kind;
	f->http_status = 0;
	f->socks_reply = -1;
	f->hop = 0;
	va_start(ap, fmt);
	(void)vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
	va_end(ap);
}
