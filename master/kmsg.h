#ifndef SOCKS5D_KMSG_H
#define SOCKS5D_KMSG_H

#include <sys/types.h>

/* /dev/kmsg positioned at its end, or -1. */
int kmsg_open(void);

/* The syscall number in the newest seccomp kill record for pid among the
 * records logged since the last call, or -1. */
int kmsg_seccomp_syscall(int fd, pid_t pid);

#endif
