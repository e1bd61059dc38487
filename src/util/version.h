/*
 * version.h: the one place the version string comes from (the Makefile
 * passes VERSION; a build without it says "dev").
 */
#ifndef CULVERT_UTIL_VERSION_H
#define CULVERT_UTIL_VERSION_H

#ifndef VERSION
#define VERSION "dev"
#endif
#define CULVERT_VERSION	VERSION

#endif
