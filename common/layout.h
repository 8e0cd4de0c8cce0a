/*
 * Where the globals a worker writes live.  A worker is a fork: every page
 * it writes becomes its own (a copy-on-write fault at its first write,
 * and one page more per held session).  The globals it writes for its
 * session are few and small.  Initialised ones sit together in .data, but
 * a zero-initialised one goes to .bss, which the static session image's
 * link (forker/image.c) puts past libc's stdio and malloc state, on
 * another page: a worker wrote two pages where one does.
 * SESSION_WRITTEN keeps such a global in .data, beside the others
 * (tests/forker.bats pins a held worker's data pages at one).
 */
#ifndef SOCKS5D_LAYOUT_H
#define SOCKS5D_LAYOUT_H

#define SESSION_WRITTEN __attribute__((section(".data")))

#endif
