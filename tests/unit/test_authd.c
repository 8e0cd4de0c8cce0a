/*
 * authd's own codecs and tables: the RFC 1413 reply parser, the
 * IPC_IDENT_ANSWER codec, the first-frame choice of a channel
 * (ipc_recv_either), the throttling counters, the secret-file rule.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "authd/authd.h"
#include "common/err.h"
#include "common/ipc.h"
#include "conf/conf.h"
#include "unit.h"

static int
parse(const char *reply, char *user, unsigned *reason)
{
	return ident_reply_parse((const uint8_t *)reply, strlen(reply), 6191,
	    23, user, IPC_IDENT_USER_MAX + 1, reason);
}

static void
test_ident_reply(void)
{
	char user[IPC_IDENT_USER_MAX + 1], line[1200];
	unsigned reason;

	CHECK(parse("6191, 23 : USERID : UNIX : stjohns\r\n", user,
	    &reason) == 0 && strcmp(user, "stjohns") == 0 &&
	    reason == AUTH_R_OK, "RFC 1413 example reply");
	CHECK(parse("6191,23:USERID:UNIX,US-ASCII:a:b c\n", user, &reason) ==
	    0 && strcmp(user, "a:b c") == 0, "charset, bare LF, ':' in user");
	CHECK(parse("6191 , 23 : ERROR : NO-USER\r\n", user, &reason) ==
	    ERR_DENIED && reason == AUTH_R_IDENT_ERROR && user[0] == '\0',
	    "ERROR reply");
	CHECK(parse("6192, 23 : USERID : UNIX : x\r\n", user, &reason) ==
	    ERR_PROTO && reason == AUTH_R_IDENT_MALFORMED,
	    "a reply for other ports is refused");
	CHECK(parse("23, 6191 : USERID : UNIX : x\r\n", user, &reason) ==
	    ERR_PROTO, "ports swapped are refused");
	CHECK(parse("6191, 23 : USERID : UNIX : x", user, &reason) ==
	    ERR_PROTO, "no end of line is refused");
	CHECK(parse("6191, 23 : USERID : UNIX : x\r\nmore", user, &reason) ==
	    ERR_PROTO, "bytes after the line are refused");
	CHECK(parse("6191, 23 : USERID : UNIX : a\tb\x01\r\n", user,
	    &reason) == ERR_PROTO, "a control byte in the user id is refused");
	CHECK(parse("6191, 23 : USERID : UNIX :   \r\n", user, &reason) ==
	    ERR_PROTO, "an empty user id is refused");
	CHECK(parse("6191, 23 : USERID : : x\r\n", user, &reason) ==
	    ERR_PROTO, "an empty opsys is refused");
	CHECK(parse("6191, 23 : OTHER : UNIX : x\r\n", user, &reason) ==
	    ERR_PROTO, "an unknown reply type is refused");
	CHECK(parse("0, 23 : USERID : UNIX : x\r\n", user, &reason) ==
	    ERR_PROTO && parse("006191, 23 : USERID : UNIX : x\r\n", user,
	    &reason) == ERR_PROTO, "port 0 and six digits are refused");
	CHECK(parse("garbage\r\n", user, &reason) == ERR_PROTO, "garbage");
	snprintf(line, sizeof(line), "6191, 23 : USERID : UNIX : %0256d\r\n",
	    0);
	CHECK(parse(line, user, &reason) == ERR_PROTO,
	    "a 256-byte user id is refused, not cut");
	snprintf(line, sizeof(line), "6191, 23 : USERID : UNIX : %0255d\r\n",
	    0);
	CHECK(parse(line, user, &reason) == 0 && strlen(user) == 255,
	    "a 255-byte user id is accepted");
	memset(line, ' ', sizeof(line));
	memcpy(line, "6191,23:USERID:UNIX:x", 21);
	line[1000] = '\n';
	line[1001] = '\0';
	CHECK(parse(line, user, &reason) == ERR_PROTO,
	    "a line longer than 1000 bytes is refused");
	line[998] = '\n';
	line[999] = '\0';
	CHECK(parse(line, user, &reason) == 0 && strcmp(user, "x") == 0,
	    "a 999-byte line is accepted");
}

static void
test_ident_answer(void)
{
	char user[IPC_IDENT_USER_MAX + 1];
	unsigned reason = 99;
	uint8_t ok[] = { AUTH_R_OK, 3, 'b', 'o', 'b' };
	uint8_t none[] = { AUTH_R_IDENT_UNREACHABLE, 0 };
	uint8_t liar[] = { AUTH_R_IDENT_ERROR, 1, 'x' };
	uint8_t empty_ok[] = { AUTH_R_OK, 0 };
	uint8_t ctl[] = { AUTH_R_OK, 2, 'a', '\n' };
	uint8_t unknown[] = { AUTH_R_MAX, 0 };

	CHECK(ident_answer_parse(ok, sizeof(ok), user, sizeof(user),
	    &reason) == 0 && reason == AUTH_R_OK && strcmp(user, "bob") == 0,
	    "identd answer with a user");
	CHECK(ident_answer_parse(none, sizeof(none), user, sizeof(user),
	    &reason) == 0 && reason == AUTH_R_IDENT_UNREACHABLE,
	    "identd answer without a user");
	CHECK(ident_answer_parse(liar, sizeof(liar), user, sizeof(user),
	    &reason) == ERR_PROTO, "a failure with a user is refused");
	CHECK(ident_answer_parse(empty_ok, sizeof(empty_ok), user,
	    sizeof(user), &reason) == ERR_PROTO,
	    "success without a user is refused");
	CHECK(ident_answer_parse(ctl, sizeof(ctl), user, sizeof(user),
	    &reason) == ERR_PROTO, "a control byte is refused");
	CHECK(ident_answer_parse(unknown, sizeof(unknown), user, sizeof(user),
	    &reason) == ERR_PROTO, "an unknown reason is refused");
	CHECK(ident_answer_parse(ok, sizeof(ok) - 1, user, sizeof(user),
	    &reason) == ERR_PROTO, "a truncated answer is refused");
}

static void
test_either(void)
{
	int p[2];
	uint8_t buf[64], zero = 0;
	enum ipc_type got = IPC_OPEN;
	int passed = -1;
	struct timespec dl;
	size_t len;

	socketpair(AF_UNIX, SOCK_SEQPACKET, 0, p);
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += 2;
	/* IPC_IDENT carries the client's socket (common/ipc.c's table). */
	CHECK(ipc_send(p[0], IPC_IDENT, &zero, 1, -1) == ERR_PROTO,
	    "IPC_IDENT without its descriptor is not sent");
	(void)ipc_send(p[0], IPC_IDENT, &zero, 1, p[0]);
	CHECK(ipc_recv_either(p[1], IPC_AUTH_USERPASS, IPC_IDENT, FROM_WORKER,
	    buf, sizeof(buf), &len, &got, &passed, &dl) == 0 &&
	    got == IPC_IDENT && passed != -1,
	    "a channel may open with IPC_IDENT");
	if (passed != -1)
		close(passed);
	(void)ipc_send(p[0], IPC_RESOLVE, "\1x", 2, -1);
	CHECK(ipc_recv_either(p[1], IPC_AUTH_USERPASS, IPC_IDENT, FROM_WORKER,
	    buf, sizeof(buf), &len, &got, NULL, &dl) == ERR_PROTO,
	    "but not with a resolve request");
	CHECK(ipc_send(p[0], IPC_IDENT, "\0\0", 2, -1) == ERR_PROTO,
	    "IPC_IDENT is exactly one byte");
	close(p[0]);
	close(p[1]);
}

static struct throttle t;

static void
test_throttle(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET }, b = a;
	struct sockaddr_in6 c = { .sin6_family = AF_INET6 }, d = c;
	uint8_t ka[IPC_ADDR_LEN], kb[IPC_ADDR_LEN], kc[IPC_ADDR_LEN],
	    kd[IPC_ADDR_LEN];
	size_t la, lb, lc, ld;
	uint32_t ms[8];
	char name[32];

	inet_pton(AF_INET, "192.0.2.1", &a.sin_addr);
	inet_pton(AF_INET, "192.0.2.2", &b.sin_addr);
	inet_pton(AF_INET6, "2001:db8:1:2::1", &c.sin6_addr);
	inet_pton(AF_INET6, "2001:db8:1:2:ffff::9", &d.sin6_addr);
	la = throttle_addr_key((struct sockaddr *)&a, ka, sizeof(ka));
	lb = throttle_addr_key((struct sockaddr *)&b, kb, sizeof(kb));
	lc = throttle_addr_key((struct sockaddr *)&c, kc, sizeof(kc));
	ld = throttle_addr_key((struct sockaddr *)&d, kd, sizeof(kd));
	CHECK(la == IPC_ADDR_LEN && lc == ld && memcmp(kc, kd, lc) == 0,
	    "an IPv6 address counts per /64");

	for (int i = 0; i < 7; i++) {
		ms[i] = throttle_ask(&t, ka, la, "alice", 4);
		throttle_result(&t, ka, la, "alice", THROTTLE_FAILURE);
	}
	CHECK(ms[0] == 0 && ms[1] == 0 && ms[2] == 0 && ms[3] == 500 &&
	    ms[4] == 1000 && ms[5] == 2000 && ms[6] == 4000,
	    "free until the third failure, then 0.5 s doubling (%u %u %u %u)",
	    ms[2], ms[3], ms[4], ms[5]);
	CHECK(throttle_ask(&t, ka, la, "alice", 4) == 4000,
	    "capped at SOCKS5_AUTH_DELAY_MAX");
	throttle_result(&t, ka, la, "alice", THROTTLE_NOT_COUNTED);
	CHECK(throttle_ask(&t, kb, lb, "carol", 4) == 0,
	    "another address and user are not slowed");
	throttle_result(&t, kb, lb, "carol", THROTTLE_FAILURE);
	CHECK(throttle_ask(&t, kb, lb, "alice", 4) == 4000,
	    "the user's own count slows another address too");
	throttle_result(&t, kb, lb, "alice", THROTTLE_SUCCESS);
	CHECK(throttle_ask(&t, kb, lb, "alice", 4) == 0,
	    "a success forgets the address's and the user's failures");
	throttle_result(&t, kb, lb, "alice", THROTTLE_SUCCESS);
	CHECK(throttle_ask(&t, ka, la, "dave", 0) == 0,
	    "SOCKS5_AUTH_DELAY_MAX 0 turns the delay off");
	throttle_result(&t, ka, la, "dave", THROTTLE_NOT_COUNTED);
	CHECK(throttle_ask(&t, ka, la, "dave", 4) == 4000,
	    "the address still counts");
	throttle_result(&t, ka, la, "dave", THROTTLE_NOT_COUNTED);
	/* Flood the user table: the entry with the oldest failure goes, the
	 * table never grows. */
	for (int i = 0; i < THROTTLE_SLOTS + 10; i++) {
		snprintf(name, sizeof(name), "u%d", i);
		(void)throttle_ask(&t, kb, lb, name, 4);
		throttle_result(&t, kb, lb, name, THROTTLE_SUCCESS);
	}
	CHECK(throttle_ask(&t, kc, lc, "u5000", 4) == 0,
	    "a flooded table still answers");
}

static void
test_secret_file(void)
{
	struct stat st = { .st_mode = S_IFREG | 0600, .st_uid = 0 };
	char why[200];

	CHECK(conf_secret_file_problem(&st, why, sizeof(why)) == NULL,
	    "root 0600 is fine");
	st.st_mode = S_IFREG | 0640;
	CHECK(conf_secret_file_problem(&st, why, sizeof(why)) != NULL &&
	    strstr(why, "0640") != NULL, "group-readable refused, mode named");
	st.st_mode = S_IFREG | 0602;
	CHECK(conf_secret_file_problem(&st, why, sizeof(why)) != NULL,
	    "other-writable refused");
	st.st_mode = S_IFREG | 0600;
	st.st_uid = 1000;
	CHECK(conf_secret_file_problem(&st, why, sizeof(why)) != NULL,
	    "not owned by root refused");
	st.st_uid = 0;
	st.st_mode = S_IFDIR | 0700;
	CHECK(conf_secret_file_problem(&st, why, sizeof(why)) != NULL,
	    "a directory refused");
}

int
main(void)
{
	test_ident_reply();
	test_ident_answer();
	test_either();
	test_throttle();
	test_secret_file();
	return unit_done();
}
