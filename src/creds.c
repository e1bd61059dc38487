/*
 * creds.c: the one place that holds proxy credentials.
 */
#include "creds.h"
#include "wipe.h"

void
creds_wipe(struct creds *c)
{
	wipe(c, sizeof(*c));
}
