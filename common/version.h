#ifndef SOCKS5D_VERSION_H
#define SOCKS5D_VERSION_H

#define SOCKS5D_VERSION "0.1.0"

/* A digest of the objects of this build (the makefile generates it,
 * $(BUILD)/gen/build_id.c), which the master and the session image
 * compare: two programs from two builds refuse to work together, even of
 * one version. */
extern const char socks5d_build_id[];

#endif
