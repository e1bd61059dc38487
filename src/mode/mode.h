/*
 * mode.h: the drivers, one per way of running culvert.  Each returns an
 * exit status (enum exitcode) and has already printed its one-line error.
 */
#ifndef CULVERT_MODE_H
#define CULVERT_MODE_H

#include "cli/options.h"

int	mode_stdio(struct options *, char **argv);

#endif
