/*
 * RFC 1961 framing (common/rfc1961.c) and the IPC messages of method 0x01
 * (common/ipc_codec.c), table-driven: valid frames, every truncated prefix
 * (ERR_SHORT, reader not moved), wrong versions, types and empty tokens;
 * the largest token both ways; IPC_GSS_ESTABLISHED and
 * IPC_GSS_PROTECT_ANSWER with every inconsistent field; a 65535-byte token
 * through a real SOCK_SEQPACKET pair with ipc_recv_large, and ipc_recv
 * refusing it.
 */
#include <sys/socket.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/ipc.h"
#include "common/rd.h"
#include "common/rfc1961.h"
#include "common/wr.h"
#include "unit.h"

#define B(s) (const uint8_t *)(s), sizeof(s) - 1

struct vec {
	const char *what;
	const uint8_t *bytes;
	size_t len;
	int rc;
	uint8_t mtyp;
	size_t token_len;
};

static const struct vec vecs[] = {
	{ "auth token", B("\x01\x01\x00\x03" "abc"), 0, RFC1961_AUTH, 3 },
	{ "protect token", B("\x01\x02\x00\x01" "\x00"), 0, RFC1961_PROTECT,
	  1 },
	{ "encap token", B("\x01\x03\x00\x02" "zz"), 0, RFC1961_ENCAP, 2 },
	{ "failure", B("\x01\xff"), 0, RFC1961_ABORT, 0 },
	{ "version 5", B("\x05\x01\x00\x01" "a"), ERR_PROTO, 0, 0 },
	{ "version 0", B("\x00\x01\x00\x01" "a"), ERR_PROTO, 0, 0 },
	{ "mtyp 4", B("\x01\x04\x00\x01" "a"), ERR_PROTO, 0, 0 },
	{ "mtyp 0", B("\x01\x00\x00\x01" "a"), ERR_PROTO, 0, 0 },
	{ "empty token", B("\x01\x01\x00\x00"), ERR_PROTO, 0, 0 },
	{ "length beyond the bytes", B("\x01\x01\xff\xff" "abc"), ERR_SHORT, 0,
	  0 },
};

static void
test_vectors(void)
{
	for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
		const struct vec *v = &vecs[i];
		struct rfc1961_frame f;
		struct rd r;
		int rc;

		rd_init(&r, v->bytes, v->len);
		rc = rfc1961_frame_parse(&r, &f);
		CHECK(rc == v->rc, "%s: rc %d, want %d", v->what, rc, v->rc);
		if (rc == 0) {
			CHECK(f.mtyp == v->mtyp && f.len == v->token_len &&
			    r.off == v->len, "%s: type, token and consumed",
			    v->what);
			/* Every shorter prefix asks for more, reader unmoved. */
			for (size_t n = 0; n < v->len; n++) {
				rd_init(&r, v->bytes, n);
				CHECK(rfc1961_frame_parse(&r, &f) == ERR_SHORT &&
				    r.off == 0, "%s: prefix %zu is short",
				    v->what, n);
			}
		} else {
			CHECK(r.off == 0, "%s: nothing consumed", v->what);
		}
	}
}

/* The largest token, written and read back; one byte more is refused. */
static void
test_largest(void)
{
	static uint8_t token[RFC1961_TOKEN_MAX + 1], buf[RFC1961_HDR_LEN +
	    RFC1961_TOKEN_MAX + 8];
	struct rfc1961_frame f;
	struct wr w;
	struct rd r;

	memset(token, 'k', sizeof(token));
	wr_init(&w, buf, sizeof(buf));
	CHECK(rfc1961_frame_put(&w, RFC1961_AUTH, token, RFC1961_TOKEN_MAX) ==
	    0 && w.off == RFC1961_HDR_LEN + RFC1961_TOKEN_MAX,
	    "a 65535-byte token is written");
	rd_init(&r, buf, w.off);
	CHECK(rfc1961_frame_parse(&r, &f) == 0 && f.len == RFC1961_TOKEN_MAX &&
	    memcmp(f.token, token, f.len) == 0, "and read back whole");
	wr_init(&w, buf, sizeof(buf));
	CHECK(rfc1961_frame_put(&w, RFC1961_AUTH, token, sizeof(token)) ==
	    ERR_PROTO && w.off == 0, "65536 bytes do not fit the length");
	CHECK(rfc1961_frame_put(&w, RFC1961_AUTH, token, 0) == ERR_PROTO,
	    "an empty token is never written");
	CHECK(rfc1961_frame_put(&w, RFC1961_ABORT, token, 1) == ERR_PROTO,
	    "the failure message has its own writer");
	wr_init(&w, buf, 2);
	CHECK(rfc1961_failure_put(&w) == 0 && buf[0] == 1 && buf[1] == 0xff,
	    "failure message: 01 ff");
}

struct est_row {
	const char *what;
	const uint8_t *bytes;
	size_t len;
	int rc;
};

static const struct est_row est_rows[] = {
	{ "accepted, token", B("\x00\x00\x01" "a" "\x01" "b" "tok"), 0 },
	{ "accepted, no token", B("\x00\x00\x01" "a" "\x01" "b"), 0 },
	{ "refused", B("\x01\x0b\x00\x00"), 0 },
	{ "refused with a token", B("\x01\x0b\x00\x00" "t"), ERR_PROTO },
	{ "refused with a name", B("\x01\x0b\x01" "a" "\x00"), ERR_PROTO },
	{ "accepted without a principal", B("\x00\x00\x00\x01" "b"),
	  ERR_PROTO },
	{ "accepted without a user", B("\x00\x00\x01" "a" "\x00"), ERR_PROTO },
	{ "accepted with a reason", B("\x00\x01\x01" "a" "\x01" "b"),
	  ERR_PROTO },
	{ "refused without a reason", B("\x01\x00\x00\x00"), ERR_PROTO },
	{ "status 2", B("\x02\x0b\x00\x00"), ERR_PROTO },
	{ "unknown reason", B("\x01\xee\x00\x00"), ERR_PROTO },
	{ "control byte in the user", B("\x00\x00\x01" "a" "\x01" "\n"),
	  ERR_PROTO },
	{ "principal beyond the payload", B("\x00\x00\x09" "a"), ERR_SHORT },
};

static void
test_established(void)
{
	struct ipc_gss_established e, in = { .ok = 1 };
	uint8_t buf[600];
	struct wr w;

	for (size_t i = 0; i < sizeof(est_rows) / sizeof(est_rows[0]); i++) {
		const struct est_row *row = &est_rows[i];
		int rc = ipc_gss_established_get(row->bytes, row->len, &e);

		CHECK(rc == row->rc, "established, %s: rc %d, want %d",
		    row->what, rc, row->rc);
	}
	(void)ipc_gss_established_get(B("\x00\x00\x01" "a" "\x01" "b" "tok"),
	    &e);
	CHECK(e.ok && strcmp(e.principal, "a") == 0 &&
	    strcmp(e.user, "b") == 0 && e.token_len == 3 &&
	    memcmp(e.token, "tok", 3) == 0, "established: fields decoded");
	/* put, then get: the same fields. */
	strcpy(in.principal, "alice@EXAMPLE.TEST");
	strcpy(in.user, "alice");
	in.token = (const uint8_t *)"xyz";
	in.token_len = 3;
	wr_init(&w, buf, sizeof(buf));
	CHECK(ipc_gss_established_put(&w, &in) == 0 &&
	    ipc_gss_established_get(buf, w.off, &e) == 0 && e.ok &&
	    strcmp(e.principal, in.principal) == 0 &&
	    strcmp(e.user, "alice") == 0 && e.token_len == 3,
	    "established: put and get agree");
	in.ok = 0;
	in.reason = AUTH_R_GSS_REPLAY;
	wr_init(&w, buf, sizeof(buf));
	CHECK(ipc_gss_established_put(&w, &in) == ERR_PROTO,
	    "established: a refusal carries no token");
}

static void
test_protect_answer(void)
{
	struct ipc_gss_protect_answer a;

	CHECK(ipc_gss_protect_answer_get(B("\x00\x00" "w"), &a) == 0 && a.ok &&
	    a.level == 0 && a.token_len == 1, "protect answer: level 0");
	CHECK(ipc_gss_protect_answer_get(B("\x01\x00"), &a) == 0 && !a.ok,
	    "protect answer: refused");
	CHECK(ipc_gss_protect_answer_get(B("\x00\x00"), &a) == ERR_PROTO,
	    "protect answer: accepted without a token");
	CHECK(ipc_gss_protect_answer_get(B("\x01\x00" "w"), &a) == ERR_PROTO,
	    "protect answer: refused with a token");
	CHECK(ipc_gss_protect_answer_get(B("\x01\x02"), &a) == ERR_PROTO,
	    "protect answer: refused with a level");
	CHECK(ipc_gss_protect_answer_get(B("\x00\x04" "w"), &a) == ERR_PROTO,
	    "protect answer: level 4");
	CHECK(ipc_gss_protect_answer_get(B("\x00"), &a) == ERR_SHORT,
	    "protect answer: one byte");
}

/* A 65535-byte token travels as one large frame; the small receiver
 * refuses it whole. */
static void
test_large_frame(void)
{
	static uint8_t token[IPC_LARGE_MAX], small[IPC_FRAME_MAX];
	static struct ipc_large m;
	struct timespec now = { 0, 0 };
	size_t len;
	int p[2], sz = 4 * IPC_LARGE_MAX;

	for (size_t i = 0; i < sizeof(token); i++)
		token[i] = (uint8_t)i;
	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, p) == 0, "socketpair");
	(void)setsockopt(p[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	CHECK(ipc_send(p[0], IPC_GSS_TOKEN, token, sizeof(token), -1) == 0,
	    "a 65535-byte IPC_GSS_TOKEN is sent");
	CHECK(ipc_recv_large(p[1], IPC_GSS_TOKEN, IPC_GSS_TOKEN, FROM_WORKER,
	    &m, NULL, &now) == 0 && m.type == IPC_GSS_TOKEN &&
	    m.len == sizeof(token) && memcmp(m.payload, token, m.len) == 0,
	    "and received whole by ipc_recv_large");
	CHECK(ipc_send(p[0], IPC_GSS_TOKEN, token, sizeof(token), -1) == 0,
	    "sent again");
	CHECK(ipc_recv(p[1], IPC_GSS_TOKEN, FROM_WORKER, small, sizeof(small),
	    &len, NULL, &now) == ERR_PROTO, "ipc_recv refuses a large frame");
	CHECK(ipc_send(p[1], IPC_GSS_CONTINUE, token, 10, -1) == 0 &&
	    ipc_recv_large(p[0], IPC_GSS_TOKEN, IPC_GSS_TOKEN, FROM_HELPER, &m,
	    NULL, &now) == ERR_PROTO, "ipc_recv_large checks the type");
	CHECK(ipc_send(p[0], IPC_GSS_TOKEN, token, 0, -1) == ERR_PROTO,
	    "an empty token is not sent");
	close(p[0]);
	close(p[1]);
}

int
main(void)
{
	test_vectors();
	test_largest();
	test_established();
	test_protect_answer();
	test_large_frame();
	return unit_done();
}
