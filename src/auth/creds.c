/*
 * creds.c: wiping credentials.
 */
#include "auth/creds.h"
#include "crypto/wipe.h"

void
creds_wipe(struct creds *c)
{
	wipe(c, sizeof(*c));
}
