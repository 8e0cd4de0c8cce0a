/*
 * Process titles as ps shows them ("socks5d: worker 10.1.2.3:50312"), so an
 * operator can tell the roles apart (README "Security model").
 */
#ifndef SOCKS5D_PROCTITLE_H
#define SOCKS5D_PROCTITLE_H

/* Call once, first thing in main(): moves argv[] and environ out of the
 * argv area, which later titles overwrite; argv[i] then point to copies. */
void proctitle_init(int argc, char **argv);

/* In a child the master forked: ignore what only the master handles (^C,
 * hang-ups reach the whole process group; SIGPIPE), default SIGTERM and
 * SIGCHLD, and unblock every signal the master kept blocked. */
void proc_child_signals(void);

/* Set the title to "socks5d: ROLE" or "socks5d: ROLE DETAIL" (detail may
 * be NULL), cut to the argv area; the comm name (15 bytes) is the same
 * without "socks5d: ". */
void proctitle_set(const char *role, const char *detail);

#endif
