/*
 * fdpass.h: hand the connected socket to ssh (ProxyUseFdpass yes), which
 * receives it over the Unix socket it gave us as stdout.
 */
#ifndef CULVERT_FDPASS_H
#define CULVERT_FDPASS_H

#include "proto/proto.h"

/* 0 when fd is a Unix-domain socket that can carry descriptors. */
int	fdpass_check(int fd, struct failure *f);
/* Send sock over chan with SCM_RIGHTS; 0 or -1 with f set. */
int	fdpass_send(int chan, int sock, struct failure *f);

#endif
