/*
 * Process titles as ps shows them ("socks5d: worker 10.1.2.3:50312"), so an
 * operator can tell the roles apart (README "Security model").
 */
#ifndef SOCKS5D_PROCTITLE_H
#define SOCKS5D_PROCTITLE_H

/* Call once from main() before anything reads the environment through
 * pointers into it: moves environ out of the way of the argv area. */
void proctitle_init(int argc, char **argv);

/* Set the title (printf-style); also sets the 15-byte comm name. */
void proctitle_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
