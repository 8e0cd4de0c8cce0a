/*
 * libFuzzer harness for the audit logger's record check (auditd/record.c):
 * the bytes any process, a hijacked worker included, sends as a record.
 * The first byte chooses the sender's pid and whether it is the master;
 * the rest is the record.  Invariants on success: the line is the record
 * plus at most a "pid" field and a newline, with no other newline or
 * control byte, checks again as a record, and names the sender's pid
 * unless the sender is trusted.
 */
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auditd/auditd.h"
#include "common/err.h"
#include "common/ipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char line[IPC_AUDIT_RECORD_MAX + 32];
	pid_t sender;
	bool trusted;
	int64_t pid;
	int n;

	if (size < 1 || size - 1 > IPC_AUDIT_RECORD_MAX)
		return 0;
	sender = (pid_t)(data[0] & 0x7f) + 1;
	trusted = (data[0] & 0x80) != 0;
	n = auditd_record_line(data + 1, size - 1, sender, trusted, line,
	    sizeof(line));
	if (n < 0) {
		if (n != ERR_PROTO && n != ERR_DENIED && n != ERR_NOSPACE)
			abort();
		return 0;
	}
	if ((size_t)n < size || line[n - 1] != '\n' || line[0] != '{' ||
	    memcmp(line, data + 1, size - 2) != 0)
		abort();
	for (int i = 0; i < n - 1; i++)
		if ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] > 0x7e)
			abort();
	if (auditd_record_check((const uint8_t *)line, (size_t)n - 1, &pid) != 0)
		abort();
	if (!trusted && pid != sender)
		abort();
	return 0;
}
