/*
 * The audit logger: the one process that holds the audit file (-a).
 *
 * The master opens the file (as root, O_APPEND, no symlink) and forks the
 * logger with it; the logger drops to SOCKS5_HELPER_USER (never the
 * workers' -u user, so that no worker can signal it) in the empty chroot,
 * under its own seccomp filter, and from then on appends every record:
 *
 *   - the master's, on its control channel (unanswered: the master never
 *     waits for the logger), with IPC_AUDIT_FILE when SIGHUP reopened the
 *     file (log rotation);
 *   - every other process's, on a channel of that process's own, opened
 *     through the logger's door (IPC_OPEN, as for authd): the logger reads
 *     the sender's pid from the channel (SO_PEERCRED, set by the kernel at
 *     socketpair()) and writes it into the record, refusing a record that
 *     names another pid, and answers each record with IPC_AUDIT_ACK once it
 *     is in the file (or is not).
 *
 * So a worker can neither write nor fcntl the file, and cannot pass a
 * record off as another process's.  A write the disk cannot take whole is
 * cut back to the record's start (no torn line), the records lost are
 * counted, and a "lost" record with the count precedes the first record
 * written once the disk takes them again.
 */
#ifndef SOCKS5D_AUDITD_H
#define SOCKS5D_AUDITD_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct auditd {
	pid_t pid;            /* 0 when not running */
	int door;             /* inherited by workers; -1 when down */
	int ctl;              /* the master's channel; -1 when down */
};

/* Who the logger runs as: the ids of SOCKS5_HELPER_USER, chrooted to the
 * empty directory when privileged (the master runs as root).  It needs no
 * right to the audit file: the master opened it and passes the descriptor
 * (again on SIGHUP), and write and ftruncate act on that descriptor. */
struct auditd_ids {
	uid_t uid;
	gid_t gid;
	bool privileged;
};

/*
 * Master side: fork the logger, which keeps file_fd (the master keeps its
 * own copy, to hand to a restarted logger) and closes every other
 * descriptor.  required: SOCKS5_AUDIT_REQUIRED, for the wording of its log
 * lines.  Returns 0 or ERR_SYS.
 */
int auditd_start(struct auditd *a, int file_fd, bool required,
    const struct auditd_ids *ids);

/* Master side: forget a logger that exited (closes its door and channel). */
void auditd_gone(struct auditd *a);

/* Master side: hand the logger a newly opened audit file (it closes the
 * old one).  0, or an error (the logger keeps the old file). */
int auditd_reopen(const struct auditd *a, int file_fd, bool required);

/*
 * Check one record as it came (without its newline): one flat JSON object
 * of the shape audit_format writes, with an "event"; *pid is its "pid"
 * field, 0 when absent.  0 or ERR_PROTO.  Fuzzed (tests/fuzz/fuzz_audit.c).
 */
int auditd_record_check(const uint8_t *rec, size_t len, int64_t *pid);

/*
 * The line to append for rec from sender: rec with "pid":sender added when
 * it has none, and a newline.  A record naming another pid is refused
 * (ERR_DENIED) unless trusted (the master's).  Returns the length written
 * to out, ERR_PROTO, ERR_DENIED or ERR_NOSPACE.
 */
int auditd_record_line(const uint8_t *rec, size_t len, pid_t sender,
    bool trusted, char *out, size_t cap);

#endif
