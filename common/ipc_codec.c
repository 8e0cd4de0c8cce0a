/*
 * The payload codecs of the IPC messages (common/ipc.h defines each one
 * once): addresses and endpoints, the forker's and the door's fixed
 * messages, GSS-API results, and the reason strings the answers carry.
 * Every _get reads through the bounds-checked reader and refuses what
 * is short, long or inconsistent; the framing itself is common/ipc.c.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <stdbool.h>
#include <string.h>

#include "common/err.h"
#include "common/ipc.h"
#include "common/net.h"
#include "common/rd.h"
#include "common/version.h"
#include "common/wr.h"

const char *
auth_reason_str(unsigned reason)
{
	static const char *const text[AUTH_R_MAX] = {
		[AUTH_R_BAD_PASSWORD] = "bad password",
		[AUTH_R_UNKNOWN_USER] = "unknown user",
		[AUTH_R_ACCOUNT] = "account expired or locked",
		[AUTH_R_TIMEOUT] = "timeout",
		[AUTH_R_INTERNAL] = "authd could not check",
		[AUTH_R_IDENT_UNREACHABLE] = "identd unreachable",
		[AUTH_R_IDENT_ERROR] = "identd answered ERROR",
		[AUTH_R_IDENT_MALFORMED] = "identd reply malformed",
		[AUTH_R_GSS_DEFECTIVE] = "gssapi: defective token",
		[AUTH_R_GSS_EXPIRED] = "gssapi: ticket expired",
		[AUTH_R_GSS_REPLAY] = "gssapi: replayed token",
		[AUTH_R_GSS_FAILED] = "gssapi: not authenticated",
		[AUTH_R_GSS_ROUNDS] = "gssapi: too many round trips",
		[AUTH_R_GSS_PROTECTION] = "gssapi: protection level refused",
		[AUTH_R_GSS_NAME] = "gssapi: principal has no usable name",
	};

	return reason < AUTH_R_MAX ? text[reason] : NULL;
}

const char *
limit_rule_str(unsigned verdict)
{
	static const char *const text[LIMIT_MAX] = {
		[LIMIT_PENALTY] = "penalty",
		[LIMIT_PER_SOURCE] = "SOCKS5_MAXCHILD_PER_SOURCE",
		[LIMIT_STARTUPS] = "SOCKS5_MAXSTARTUPS_PER_SOURCE",
		[LIMIT_PER_USER] = "SOCKS5_MAXCHILD_PER_USER",
		[LIMIT_EARLY_DROP] = "SOCKS5_MAXSTARTUPS",
	};

	return verdict < LIMIT_MAX ? text[verdict] : NULL;
}

const char *
limit_reason_str(unsigned verdict)
{
	static const char *const text[LIMIT_MAX] = {
		[LIMIT_PENALTY] = "an earlier worker for this address crashed",
		[LIMIT_PER_SOURCE] = "too many sessions from this address",
		[LIMIT_STARTUPS] = "too many connections from this address "
		    "still negotiating",
		[LIMIT_PER_USER] = "too many sessions of this user",
		[LIMIT_EARLY_DROP] = "early drop: too many connections "
		    "negotiating",
	};

	return verdict < LIMIT_MAX ? text[verdict] : NULL;
}

int
ipc_addr_put(struct wr *w, const struct sockaddr *sa)
{
	uint8_t ip[16] = { 0 };
	int rc;

	if (sa->sa_family == AF_INET) {
		memcpy(ip, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		rc = wr_u8(w, 4);
	} else if (sa->sa_family == AF_INET6) {
		memcpy(ip, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		rc = wr_u8(w, 6);
	} else {
		return ERR_PROTO;
	}
	return rc != 0 ? rc : wr_bytes(w, ip, sizeof(ip));
}

int
ipc_addr_get(struct rd *r, struct sockaddr_storage *ss)
{
	const uint8_t *ip;
	uint8_t family;
	int rc;

	if ((rc = rd_u8(r, &family)) != 0 || (rc = rd_bytes(r, 16, &ip)) != 0)
		return rc;
	if (family != 4 && family != 6)
		return ERR_PROTO;
	net_addr_make(ss, family == 4 ? AF_INET : AF_INET6, ip, 0);
	return 0;
}

int
ipc_endpoint_put(struct wr *w, const struct sockaddr *sa)
{
	int rc;

	if ((rc = ipc_addr_put(w, sa)) != 0)
		return rc;
	return wr_u16be(w, net_addr_port(sa));
}

int
ipc_endpoint_get(struct rd *r, struct sockaddr_storage *ss)
{
	uint16_t port;
	int rc;

	if ((rc = ipc_addr_get(r, ss)) != 0 || (rc = rd_u16be(r, &port)) != 0)
		return rc;
	net_addr_set_port(ss, port);
	return 0;
}

int
ipc_fork_put(struct wr *w, uint32_t id, const struct sockaddr *client)
{
	int rc;

	if ((rc = wr_u32be(w, id)) != 0)
		return rc;
	return ipc_endpoint_put(w, client);
}

int
ipc_fork_get(const uint8_t *buf, size_t len, struct ipc_fork *out)
{
	struct rd r;
	int rc;

	rd_init(&r, buf, len);
	if ((rc = rd_u32be(&r, &out->id)) != 0 ||
	    (rc = ipc_endpoint_get(&r, &out->client)) != 0)
		return rc;
	return rd_end(&r);
}

int
ipc_forked_put(struct wr *w, uint32_t id, uint32_t pid)
{
	int rc;

	if ((rc = wr_u32be(w, id)) != 0)
		return rc;
	return wr_u32be(w, pid);
}

int
ipc_forked_get(const uint8_t *buf, size_t len, struct ipc_forked *out)
{
	struct rd r;
	int rc;

	rd_init(&r, buf, len);
	if ((rc = rd_u32be(&r, &out->id)) != 0 ||
	    (rc = rd_u32be(&r, &out->pid)) != 0 || (rc = rd_end(&r)) != 0)
		return rc;
	/* A pid the kernel could not have given. */
	return out->pid > (uint32_t)INT32_MAX ? ERR_PROTO : 0;
}

int
ipc_reaped_put(struct wr *w, uint32_t pid, uint32_t status)
{
	int rc;

	if ((rc = wr_u32be(w, pid)) != 0)
		return rc;
	return wr_u32be(w, status);
}

int
ipc_reaped_get(const uint8_t *buf, size_t len, struct ipc_reaped *out)
{
	struct rd r;
	int rc;

	rd_init(&r, buf, len);
	if ((rc = rd_u32be(&r, &out->pid)) != 0 ||
	    (rc = rd_u32be(&r, &out->status)) != 0 || (rc = rd_end(&r)) != 0)
		return rc;
	return out->pid == 0 || out->pid > (uint32_t)INT32_MAX ? ERR_PROTO : 0;
}

int
ipc_pid_put(struct wr *w, uint32_t pid)
{
	return wr_u32be(w, pid);
}

int
ipc_pid_get(const uint8_t *buf, size_t len, uint32_t *pid)
{
	struct rd r;
	int rc;

	rd_init(&r, buf, len);
	if ((rc = rd_u32be(&r, pid)) != 0 || (rc = rd_end(&r)) != 0)
		return rc;
	return *pid == 0 || *pid > (uint32_t)INT32_MAX ? ERR_PROTO : 0;
}

/* This build's id as IPC_IMAGE_SETUP carries it: NUL-padded. */
static void
build_id_field(uint8_t out[IPC_IMAGE_VERSION_LEN])
{
	memset(out, 0, IPC_IMAGE_VERSION_LEN);
	memcpy(out, socks5d_build_id, strnlen(socks5d_build_id,
	    IPC_IMAGE_VERSION_LEN));
}

int
ipc_image_setup_put(struct wr *w, const struct ipc_image_setup *s)
{
	uint8_t version[IPC_IMAGE_VERSION_LEN];
	int rc;

	build_id_field(version);
	if ((rc = wr_u32be(w, IPC_IMAGE_ABI)) != 0 ||
	    (rc = wr_bytes(w, version, sizeof(version))) != 0 ||
	    (rc = wr_u32be(w, s->uid)) != 0 ||
	    (rc = wr_u32be(w, s->gid)) != 0 ||
	    (rc = wr_u32be(w, s->helper_uid)) != 0 ||
	    (rc = wr_u32be(w, s->helper_gid)) != 0 ||
	    (rc = wr_u8(w, s->privileged)) != 0 ||
	    (rc = wr_u8(w, s->relay_copy)) != 0 ||
	    (rc = wr_u8(w, s->audit_on)) != 0 ||
	    (rc = wr_u32be(w, s->health_gen)) != 0)
		return rc;
	for (size_t i = 0; i < IPC_IMAGE_FDS; i++)
		if ((rc = wr_u32be(w, (uint32_t)s->fds[i])) != 0)
			return rc;
	return 0;
}

static int
flag_get(struct rd *r, bool *out)
{
	uint8_t v;
	int rc;

	if ((rc = rd_u8(r, &v)) != 0)
		return rc;
	if (v > 1)
		return ERR_PROTO;
	*out = v == 1;
	return 0;
}

int
ipc_image_setup_get(const uint8_t *buf, size_t len,
    struct ipc_image_setup *out)
{
	uint8_t mine[IPC_IMAGE_VERSION_LEN];
	const uint8_t *version;
	uint32_t abi, fd;
	struct rd r;
	int rc;

	memset(out, 0, sizeof(*out));
	build_id_field(mine);
	rd_init(&r, buf, len);
	if ((rc = rd_u32be(&r, &abi)) != 0 ||
	    (rc = rd_bytes(&r, IPC_IMAGE_VERSION_LEN, &version)) != 0 ||
	    (rc = rd_u32be(&r, &out->uid)) != 0 ||
	    (rc = rd_u32be(&r, &out->gid)) != 0 ||
	    (rc = rd_u32be(&r, &out->helper_uid)) != 0 ||
	    (rc = rd_u32be(&r, &out->helper_gid)) != 0 ||
	    (rc = flag_get(&r, &out->privileged)) != 0 ||
	    (rc = flag_get(&r, &out->relay_copy)) != 0 ||
	    (rc = flag_get(&r, &out->audit_on)) != 0 ||
	    (rc = rd_u32be(&r, &out->health_gen)) != 0)
		return rc;
	/* A master and an image from two builds would disagree on more than
	 * this message: the image refuses, and the master says why. */
	if (abi != IPC_IMAGE_ABI || memcmp(version, mine, sizeof(mine)) != 0)
		return ERR_PROTO;
	memcpy(out->version, version, IPC_IMAGE_VERSION_LEN);
	for (size_t i = 0; i < IPC_IMAGE_FDS; i++) {
		if ((rc = rd_u32be(&r, &fd)) != 0)
			return rc;
		/* -1 or a descriptor number; never 0-2 (stdio). */
		if (fd != UINT32_MAX && (fd < 3 || fd > (uint32_t)INT32_MAX))
			return ERR_PROTO;
		out->fds[i] = fd == UINT32_MAX ? -1 : (int)fd;
	}
	if (out->fds[IMAGE_FD_CONF] == -1)
		return ERR_PROTO;
	return rd_end(&r);
}

/* A name in IPC_GSS_ESTABLISHED: printable, no NUL or control byte (it
 * goes into audit records and is matched by user lists). */
static int
gss_name_get(struct rd *r, char *out, bool want)
{
	const uint8_t *b;
	uint8_t n;
	int rc;

	if ((rc = rd_u8(r, &n)) != 0 || (rc = rd_bytes(r, n, &b)) != 0)
		return rc;
	if ((n > 0) != want)
		return ERR_PROTO;
	for (size_t i = 0; i < n; i++)
		if (b[i] < 0x20 || b[i] == 0x7f)
			return ERR_PROTO;
	memcpy(out, b, n);
	out[n] = '\0';
	return 0;
}

int
ipc_gss_established_put(struct wr *w, const struct ipc_gss_established *e)
{
	size_t plen = e->ok ? strlen(e->principal) : 0;
	size_t ulen = e->ok ? strlen(e->user) : 0;
	int rc;

	if (plen > IPC_GSS_NAME_MAX || ulen > IPC_GSS_NAME_MAX ||
	    (e->ok && (plen == 0 || ulen == 0)) ||
	    (!e->ok && e->token_len > 0))
		return ERR_PROTO;
	if ((rc = wr_u8(w, e->ok ? 0 : 1)) != 0 ||
	    (rc = wr_u8(w, e->ok ? AUTH_R_OK : e->reason)) != 0 ||
	    (rc = wr_u8(w, (uint8_t)plen)) != 0 ||
	    (rc = wr_bytes(w, e->principal, plen)) != 0 ||
	    (rc = wr_u8(w, (uint8_t)ulen)) != 0 ||
	    (rc = wr_bytes(w, e->user, ulen)) != 0)
		return rc;
	return e->token_len > 0 ? wr_bytes(w, e->token, e->token_len) : 0;
}

int
ipc_gss_established_get(const uint8_t *buf, size_t len,
    struct ipc_gss_established *out)
{
	uint8_t status;
	struct rd r;
	int rc;

	memset(out, 0, sizeof(*out));
	rd_init(&r, buf, len);
	if ((rc = rd_u8(&r, &status)) != 0 ||
	    (rc = rd_u8(&r, &out->reason)) != 0)
		return rc;
	if (status > 1 || out->reason >= AUTH_R_MAX ||
	    (status == 0) != (out->reason == AUTH_R_OK))
		return ERR_PROTO;
	out->ok = status == 0;
	if ((rc = gss_name_get(&r, out->principal, out->ok)) != 0 ||
	    (rc = gss_name_get(&r, out->user, out->ok)) != 0)
		return rc;
	out->token_len = r.len - r.off;
	out->token = out->token_len > 0 ? buf + r.off : NULL;
	if (!out->ok && out->token_len > 0)
		return ERR_PROTO;
	return 0;
}

int
ipc_gss_protect_answer_put(struct wr *w,
    const struct ipc_gss_protect_answer *a)
{
	int rc;

	if ((a->ok != 0) != (a->token_len > 0) || a->level > 3)
		return ERR_PROTO;
	if ((rc = wr_u8(w, a->ok ? 0 : 1)) != 0 ||
	    (rc = wr_u8(w, a->ok ? a->level : 0)) != 0)
		return rc;
	return a->token_len > 0 ? wr_bytes(w, a->token, a->token_len) : 0;
}

int
ipc_gss_protect_answer_get(const uint8_t *buf, size_t len,
    struct ipc_gss_protect_answer *out)
{
	uint8_t status;
	struct rd r;
	int rc;

	memset(out, 0, sizeof(*out));
	rd_init(&r, buf, len);
	if ((rc = rd_u8(&r, &status)) != 0 || (rc = rd_u8(&r, &out->level)) != 0)
		return rc;
	if (status > 1 || out->level > 3 || (status == 1 && out->level != 0))
		return ERR_PROTO;
	out->ok = status == 0;
	out->token_len = r.len - r.off;
	out->token = out->token_len > 0 ? buf + r.off : NULL;
	return (out->ok != 0) != (out->token_len > 0) ? ERR_PROTO : 0;
}
int
ipc_real_client_put(struct wr *w, uint32_t id, const struct sockaddr *sa)
{
	int rc;

	if ((rc = wr_u32be(w, id)) != 0)
		return rc;
	return ipc_endpoint_put(w, sa);
}

int
ipc_real_client_get(const uint8_t *buf, size_t len, uint32_t *id,
    struct sockaddr_storage *client)
{
	struct rd r;
	int rc;

	rd_init(&r, buf, len);
	if ((rc = rd_u32be(&r, id)) != 0 ||
	    (rc = ipc_endpoint_get(&r, client)) != 0)
		return rc;
	return rd_end(&r);
}

int
ipc_session_user_put(struct wr *w, uint32_t id, const char *user)
{
	size_t n = strlen(user);
	int rc;

	if (n == 0 || n > 255)
		return ERR_PROTO;
	if ((rc = wr_u32be(w, id)) != 0 || (rc = wr_u8(w, (uint8_t)n)) != 0)
		return rc;
	return wr_bytes(w, user, n);
}

int
ipc_session_user_get(const uint8_t *buf, size_t len, uint32_t *id,
    char user[256])
{
	const uint8_t *p;
	uint8_t n;
	struct rd r;
	int rc;

	rd_init(&r, buf, len);
	if ((rc = rd_u32be(&r, id)) != 0 || (rc = rd_u8(&r, &n)) != 0 ||
	    (rc = rd_bytes(&r, n, &p)) != 0 || (rc = rd_end(&r)) != 0)
		return rc;
	/* A name with a NUL would compare equal to its prefix. */
	if (n == 0 || memchr(p, '\0', n) != NULL)
		return ERR_PROTO;
	memcpy(user, p, n);
	user[n] = '\0';
	return 0;
}

int
resolve_answer_parse(const uint8_t *buf, size_t len, uint16_t port,
    struct sockaddr_storage *addrs, size_t max, size_t *n, uint8_t *status)
{
	uint8_t count;
	struct rd r;

	*n = 0;
	rd_init(&r, buf, len);
	if (rd_u8(&r, status) != 0 || rd_u8(&r, &count) != 0)
		return ERR_PROTO;
	if (count > IPC_ADDRS_MAX || (*status == 0) != (count > 0))
		return ERR_PROTO;
	for (uint8_t i = 0; i < count; i++) {
		struct sockaddr_storage ss;

		if (ipc_addr_get(&r, &ss) != 0)
			return ERR_PROTO;
		net_addr_set_port(&ss, port);
		if (*n < max)
			addrs[(*n)++] = ss;
	}
	return rd_end(&r);
}
