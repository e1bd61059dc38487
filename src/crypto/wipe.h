/*
 * wipe.h: erase secrets so the compiler cannot drop the store.
 */
#ifndef CULVERT_WIPE_H
#define CULVERT_WIPE_H

#include <stddef.h>

/* Overwrite len bytes at p with zeros; never optimised away.  p may be NULL
 * when len is 0. */
void	wipe(void *p, size_t len);

#endif
