/*
 * libFuzzer harness for the RFC 1413 reply parser (authd/ident.c): the
 * bytes a client's host sends back to authd.  The first two bytes choose
 * the port pair the reply must name (so the fuzzer can reach past the
 * port check); the rest is the reply.  Invariants on success: a user id
 * of 1..255 bytes with no control byte; an ERROR reply gives no user.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authd/authd.h"
#include "common/err.h"
#include "common/ipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char user[IPC_IDENT_USER_MAX + 1];
	uint16_t pc, pl;
	unsigned reason;
	size_t n;
	int rc;

	if (size < 2)
		return 0;
	/* Small port numbers are easy for the fuzzer to spell. */
	pc = (uint16_t)(data[0] % 100 + 1);
	pl = (uint16_t)(data[1] % 100 + 1);
	rc = ident_reply_parse(data + 2, size - 2, pc, pl, user, sizeof(user),
	    &reason);
	if (rc == 0) {
		n = strlen(user);
		if (reason != AUTH_R_OK || n == 0 || n > IPC_IDENT_USER_MAX ||
		    size - 2 > IDENT_LINE_MAX)
			abort();
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)user[i] < 0x20 || user[i] == 0x7f)
				abort();
	} else if (rc == ERR_DENIED) {
		if (reason != AUTH_R_IDENT_ERROR || user[0] != '\0')
			abort();
	} else if (rc != ERR_PROTO || reason != AUTH_R_IDENT_MALFORMED) {
		abort();
	}
	return 0;
}
