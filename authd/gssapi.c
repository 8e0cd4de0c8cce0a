/*
 * RFC 1961 in authd: the GSS-API acceptor.  The worker relays the client's
 * message type 1 and 2 tokens over its private channel (common/ipc.h gives
 * the order); everything that needs the service key happens here:
 * gss_accept_sec_context with the keytab of SOCKS5_KEYTAB, the principal's
 * name, and the unwrap/wrap of the protection-level messages.  The worker
 * learns the principal and the user name the rules match, nothing else:
 * no key, no context.
 *
 * Why dlopen and not a link: as for libpam (authd/pam.c), every worker is
 * a fork of the master, and libgssapi_krb5 brings five more libraries
 * (libkrb5, libk5crypto, libcom_err, libkrb5support, libkeyutils) whose
 * mappings every fork would copy.  authd loads it once at start, only when
 * some auth line offers method k; its per-request children inherit it.
 * RTLD_LOCAL and dlsym(handle): unlike PAM there is no interposition to
 * honour, and the symbols stay out of the global scope.
 *
 * Why the keytab is registered, not taken from KRB5_KTNAME:
 * krb5_gss_register_acceptor_identity sets the acceptor keytab for this
 * process alone, so the path comes from the configuration authd holds, and
 * an environment inherited by the master cannot point authd at another
 * file.
 *
 * Per-message protection (levels 1 and 2) is refused: the worker would
 * have to import the exported context, and Debian 12's krb5 1.20 cannot
 * import one in the worker's empty chroot (the serialized context names
 * authd's krb5.conf, and gss_import_sec_context fails with EINVAL when that
 * file cannot be opened; fixed upstream in krb5 commit 66f6fde30e).
 *
 * Globals: gss_fns, the resolved entry points, written once by
 * authd_gss_load in authd before any request.
 */
#include <dlfcn.h>
#include <gssapi/gssapi.h>
#include <krb5/krb5.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "authd/authd.h"
#include "common/err.h"
#include "common/ipc.h"
#include "common/log.h"
#include "common/rfc1961.h"
#include "common/wr.h"
#include "conf/conf.h"

static struct {
	OM_uint32 (*import_name)(OM_uint32 *, gss_buffer_t, gss_OID,
	    gss_name_t *);
	OM_uint32 (*acquire_cred)(OM_uint32 *, gss_name_t, OM_uint32,
	    gss_OID_set, gss_cred_usage_t, gss_cred_id_t *, gss_OID_set *,
	    OM_uint32 *);
	OM_uint32 (*accept_sec_context)(OM_uint32 *, gss_ctx_id_t *,
	    gss_cred_id_t, gss_buffer_t, gss_channel_bindings_t, gss_name_t *,
	    gss_OID *, gss_buffer_t, OM_uint32 *, OM_uint32 *,
	    gss_cred_id_t *);
	OM_uint32 (*display_name)(OM_uint32 *, gss_name_t, gss_buffer_t,
	    gss_OID *);
	OM_uint32 (*localname)(OM_uint32 *, gss_name_t, gss_OID, gss_buffer_t);
	OM_uint32 (*display_status)(OM_uint32 *, OM_uint32, int, gss_OID,
	    OM_uint32 *, gss_buffer_t);
	OM_uint32 (*unwrap)(OM_uint32 *, gss_ctx_id_t, gss_buffer_t,
	    gss_buffer_t, int *, gss_qop_t *);
	OM_uint32 (*wrap)(OM_uint32 *, gss_ctx_id_t, int, gss_qop_t,
	    gss_buffer_t, int *, gss_buffer_t);
	OM_uint32 (*release_buffer)(OM_uint32 *, gss_buffer_t);
	OM_uint32 (*release_name)(OM_uint32 *, gss_name_t *);
	OM_uint32 (*release_cred)(OM_uint32 *, gss_cred_id_t *);
	OM_uint32 (*delete_sec_context)(OM_uint32 *, gss_ctx_id_t *,
	    gss_buffer_t);
	OM_uint32 (*register_acceptor_identity)(const char *);
} gss_fns;

enum {
	/* One wait for the worker's next frame; the worker's own
	 * negotiation deadline (SOCKS5_NEGTIMEOUT) usually ends it first. */
	AUTHD_GSS_WAIT_S = 10,
};

/* GSS_C_NT_HOSTBASED_SERVICE, 1.2.840.113554.1.2.1.4 (RFC 2743 4.1): a
 * data symbol, spelled out rather than looked up. */
static char nt_hostbased_der[] = "\x2a\x86\x48\x86\xf7\x12\x01\x02\x01\x04";
static gss_OID_desc nt_hostbased = { 10, nt_hostbased_der };

/* GSS-API input buffers are not const in its prototypes, though it only
 * reads them: the union drops const without a cast. */
static void *
unconst(const void *p)
{
	return ((union { const void *c; void *v; }){ .c = p }).v;
}

int
authd_gss_load(const struct conf *conf)
{
	void *h;

	if (!rules_offer_gssapi(conf) || gss_fns.accept_sec_context != NULL)
		return 0;
	if ((h = dlopen("libgssapi_krb5.so.2", RTLD_NOW | RTLD_LOCAL)) == NULL) {
		log_warnx("cannot load libgssapi_krb5.so.2: %s; method k "
		    "refuses every client", dlerror());
		return ERR_SYS;
	}
	/* The casts go through void * as POSIX dlsym requires. */
	*(void **)&gss_fns.import_name = dlsym(h, "gss_import_name");
	*(void **)&gss_fns.acquire_cred = dlsym(h, "gss_acquire_cred");
	*(void **)&gss_fns.display_name = dlsym(h, "gss_display_name");
	*(void **)&gss_fns.localname = dlsym(h, "gss_localname");
	*(void **)&gss_fns.display_status = dlsym(h, "gss_display_status");
	*(void **)&gss_fns.unwrap = dlsym(h, "gss_unwrap");
	*(void **)&gss_fns.wrap = dlsym(h, "gss_wrap");
	*(void **)&gss_fns.release_buffer = dlsym(h, "gss_release_buffer");
	*(void **)&gss_fns.release_name = dlsym(h, "gss_release_name");
	*(void **)&gss_fns.release_cred = dlsym(h, "gss_release_cred");
	*(void **)&gss_fns.delete_sec_context = dlsym(h,
	    "gss_delete_sec_context");
	*(void **)&gss_fns.register_acceptor_identity = dlsym(h,
	    "krb5_gss_register_acceptor_identity");
	if (gss_fns.import_name == NULL || gss_fns.acquire_cred == NULL ||
	    gss_fns.display_name == NULL || gss_fns.localname == NULL ||
	    gss_fns.display_status == NULL || gss_fns.unwrap == NULL ||
	    gss_fns.wrap == NULL || gss_fns.release_buffer == NULL ||
	    gss_fns.release_name == NULL || gss_fns.release_cred == NULL ||
	    gss_fns.delete_sec_context == NULL ||
	    gss_fns.register_acceptor_identity == NULL) {
		log_warnx("libgssapi_krb5.so.2 lacks a GSS-API entry point");
		return ERR_SYS;
	}
	if (gss_fns.register_acceptor_identity(
	    conf_vars(conf)->gss_keytab) != 0) {
		log_warnx("cannot use keytab %s", conf_vars(conf)->gss_keytab);
		return ERR_SYS;
	}
	*(void **)&gss_fns.accept_sec_context = dlsym(h,
	    "gss_accept_sec_context");
	return gss_fns.accept_sec_context != NULL ? 0 : ERR_SYS;
}

/* GSS-API's words for (major, minor), for authd's log (never the wire). */
static void
gss_log(const char *what, OM_uint32 major, OM_uint32 minor)
{
	char text[512];
	size_t off = 0;
	OM_uint32 ctx = 0, m;
	gss_buffer_desc b;

	text[0] = '\0';
	for (int type = GSS_C_GSS_CODE; type <= GSS_C_MECH_CODE; type++) {
		OM_uint32 code = type == GSS_C_GSS_CODE ? major : minor;

		ctx = 0;
		do {
			if (GSS_ERROR(gss_fns.display_status(&m, code, type,
			    GSS_C_NO_OID, &ctx, &b)))
				break;
			if (off < sizeof(text))
				off += (size_t)snprintf(text + off,
				    sizeof(text) - off, "%s%.*s",
				    off > 0 ? "; " : "", (int)b.length,
				    (const char *)b.value);
			gss_fns.release_buffer(&m, &b);
		} while (ctx != 0);
	}
	log_info("gssapi: %s: %s", what, text);
}

/* A refusal's reason: the krb5 code says more than GSS-API's major. */
static unsigned
gss_reason(OM_uint32 major, OM_uint32 minor)
{
	if ((krb5_error_code)minor == KRB5KRB_AP_ERR_TKT_EXPIRED ||
	    GSS_ROUTINE_ERROR(major) == GSS_S_CREDENTIALS_EXPIRED)
		return AUTH_R_GSS_EXPIRED;
	if ((krb5_error_code)minor == KRB5KRB_AP_ERR_REPEAT ||
	    (major & GSS_S_DUPLICATE_TOKEN) != 0)
		return AUTH_R_GSS_REPLAY;
	if (GSS_ROUTINE_ERROR(major) == GSS_S_DEFECTIVE_TOKEN)
		return AUTH_R_GSS_DEFECTIVE;
	return AUTH_R_GSS_FAILED;
}

/* Copy a GSS buffer as a name for the IPC answer: 1..255 bytes, none a
 * control byte (it reaches audit records and user lists). */
static bool
name_copy(const gss_buffer_desc *b, char *out)
{
	const unsigned char *p = b->value;

	if (b->length == 0 || b->length > IPC_GSS_NAME_MAX)
		return false;
	for (size_t i = 0; i < b->length; i++)
		if (p[i] < 0x20 || p[i] == 0x7f)
			return false;
	memcpy(out, p, b->length);
	out[b->length] = '\0';
	return true;
}

/* The principal and, with SOCKS5_GSS_STRIP_REALM, its local name from the
 * krb5 auth_to_local rules (by default: a one-component principal of the
 * default realm loses the realm; any other has none, and is refused, so a
 * principal of a trusted foreign realm never passes for a local user). */
static unsigned
gss_names(const struct conf *conf, gss_name_t src, struct ipc_gss_established *e)
{
	gss_buffer_desc b = GSS_C_EMPTY_BUFFER;
	OM_uint32 major, minor;
	bool ok;

	if (GSS_ERROR(gss_fns.display_name(&minor, src, &b, NULL)))
		return AUTH_R_GSS_NAME;
	ok = name_copy(&b, e->principal);
	gss_fns.release_buffer(&minor, &b);
	if (!ok)
		return AUTH_R_GSS_NAME;
	if (!conf_vars(conf)->gss_strip_realm) {
		memcpy(e->user, e->principal, sizeof(e->user));
		return AUTH_R_OK;
	}
	major = gss_fns.localname(&minor, src, GSS_C_NO_OID, &b);
	if (GSS_ERROR(major)) {
		gss_log("no local name for the principal", major, minor);
		return AUTH_R_GSS_NAME;
	}
	ok = name_copy(&b, e->user);
	gss_fns.release_buffer(&minor, &b);
	return ok ? AUTH_R_OK : AUTH_R_GSS_NAME;
}

static void
answer_established(int chan, const struct ipc_gss_established *e)
{
	static uint8_t buf[IPC_LARGE_MAX];
	struct wr w;

	wr_init(&w, buf, sizeof(buf));
	if (ipc_gss_established_put(&w, e) == 0)
		(void)ipc_send(chan, IPC_GSS_ESTABLISHED, buf, w.off, -1);
}

static void __attribute__((noreturn))
refuse(int chan, unsigned reason)
{
	struct ipc_gss_established e = { .ok = 0, .reason = (uint8_t)reason };

	answer_established(chan, &e);
	_exit(0);
}

static void
deadline_in(struct timespec *t, unsigned s)
{
	clock_gettime(CLOCK_MONOTONIC, t);
	t->tv_sec += s;
}

/*
 * Section 4: the client's wrapped protection level.  Only level 0 is
 * served (see the top of this file); anything else, or a level the
 * configuration does not list, is refused and the worker closes the
 * session.  The answer is wrapped as the RFC asks (integrity, no
 * confidentiality), with the context whose keys only authd holds.
 */
static void __attribute__((noreturn))
serve_protect(int chan, const struct conf *conf, gss_ctx_id_t ctx)
{
	static struct ipc_large m;
	struct ipc_gss_protect_answer a = { .ok = 0 };
	static uint8_t out[IPC_LARGE_MAX];
	gss_buffer_desc in, plain = GSS_C_EMPTY_BUFFER, wrapped =
	    GSS_C_EMPTY_BUFFER;
	struct timespec deadline;
	OM_uint32 major, minor;
	uint8_t level;
	struct wr w;
	int conf_state = 0;

	deadline_in(&deadline, AUTHD_GSS_WAIT_S);
	if (ipc_recv_large(chan, IPC_GSS_PROTECT, IPC_GSS_PROTECT, FROM_WORKER,
	    &m, NULL, &deadline) != 0)
		_exit(1);
	in.value = unconst(m.payload);
	in.length = m.len;
	major = gss_fns.unwrap(&minor, ctx, &in, &plain, &conf_state, NULL);
	if (GSS_ERROR(major) || plain.length != 1) {
		if (GSS_ERROR(major))
			gss_log("protection message", major, minor);
		else
			log_info("gssapi: protection message of %zu bytes",
			    (size_t)plain.length);
		goto answer;
	}
	level = *(const uint8_t *)plain.value;
	if (level != RFC1961_PROT_NONE ||
	    (conf_vars(conf)->gss_protection & CONF_GSS_PROT_NONE) == 0) {
		log_info("gssapi: client asks for protection level %u; "
		    "refused", level);
		goto answer;
	}
	major = gss_fns.wrap(&minor, ctx, 0, GSS_C_QOP_DEFAULT, &plain, NULL,
	    &wrapped);
	if (GSS_ERROR(major) || wrapped.length == 0 ||
	    wrapped.length > RFC1961_TOKEN_MAX) {
		gss_log("wrapping the protection answer", major, minor);
		goto answer;
	}
	a = (struct ipc_gss_protect_answer){ .ok = 1, .level = level,
	    .token = wrapped.value, .token_len = wrapped.length };
answer:
	wr_init(&w, out, sizeof(out));
	if (ipc_gss_protect_answer_put(&w, &a) == 0)
		(void)ipc_send(chan, IPC_GSS_PROTECT_ANSWER, out, w.off, -1);
	gss_fns.release_buffer(&minor, &plain);
	gss_fns.release_buffer(&minor, &wrapped);
	gss_fns.delete_sec_context(&minor, &ctx, GSS_C_NO_BUFFER);
	_exit(0);
}

void
authd_serve_gss(int chan, const struct conf *conf, const uint8_t *first,
    size_t first_len)
{
	static struct ipc_large m;
	struct ipc_gss_established e = { .ok = 1 };
	gss_buffer_desc svc, in, out = GSS_C_EMPTY_BUFFER;
	gss_cred_id_t cred = GSS_C_NO_CREDENTIAL;
	gss_ctx_id_t ctx = GSS_C_NO_CONTEXT;
	gss_name_t svc_name = GSS_C_NO_NAME, src = GSS_C_NO_NAME;
	const char *service = conf_vars(conf)->gss_service;
	struct timespec deadline;
	OM_uint32 major, minor;
	unsigned reason;

	if (gss_fns.accept_sec_context == NULL) {
		log_warnx("gssapi: libgssapi_krb5 is not loaded; refused");
		refuse(chan, AUTH_R_INTERNAL);
	}
	/* "rcmd" without "@host": MIT matches any host part, so the keytab
	 * may hold rcmd/<every name the clients use>, and only keys of
	 * this service are accepted. */
	svc.value = unconst(service);
	svc.length = strlen(service);
	major = gss_fns.import_name(&minor, &svc, &nt_hostbased, &svc_name);
	if (!GSS_ERROR(major))
		major = gss_fns.acquire_cred(&minor, svc_name, GSS_C_INDEFINITE,
		    GSS_C_NO_OID_SET, GSS_C_ACCEPT, &cred, NULL, NULL);
	if (GSS_ERROR(major)) {
		gss_log("no acceptor credential (keytab)", major, minor);
		refuse(chan, AUTH_R_INTERNAL);
	}
	in.value = unconst(first);
	in.length = first_len;
	for (unsigned round = 1;; round++) {
		major = gss_fns.accept_sec_context(&minor, &ctx, cred, &in,
		    GSS_C_NO_CHANNEL_BINDINGS, &src, NULL, &out, NULL, NULL,
		    NULL);
		if (GSS_ERROR(major)) {
			gss_log("context not established", major, minor);
			refuse(chan, gss_reason(major, minor));
		}
		if (out.length > RFC1961_TOKEN_MAX) {
			log_info("gssapi: a %zu-byte token does not fit RFC "
			    "1961", (size_t)out.length);
			refuse(chan, AUTH_R_GSS_FAILED);
		}
		if ((major & GSS_S_CONTINUE_NEEDED) == 0)
			break;
		if (round >= RFC1961_ROUNDS_MAX || out.length == 0)
			refuse(chan, AUTH_R_GSS_ROUNDS);
		if (ipc_send(chan, IPC_GSS_CONTINUE, out.value, out.length,
		    -1) != 0)
			_exit(1);
		gss_fns.release_buffer(&minor, &out);
		deadline_in(&deadline, AUTHD_GSS_WAIT_S);
		if (ipc_recv_large(chan, IPC_GSS_TOKEN, IPC_GSS_TOKEN,
		    FROM_WORKER, &m, NULL, &deadline) != 0)
			_exit(1);
		in.value = unconst(m.payload);
		in.length = m.len;
	}
	gss_fns.release_cred(&minor, &cred);
	if ((reason = gss_names(conf, src, &e)) != AUTH_R_OK) {
		log_info("gssapi: principal '%s' has no usable name",
		    e.principal);
		refuse(chan, reason);
	}
	gss_fns.release_name(&minor, &src);
	gss_fns.release_name(&minor, &svc_name);
	/* The name the rules match (SOCKS5_GSS_STRIP_REALM applied) is
	 * decided here, from authd's own configuration. */
	e.token = out.value;
	e.token_len = out.length;
	log_info("gssapi: %s authenticated", e.principal);
	answer_established(chan, &e);
	gss_fns.release_buffer(&minor, &out);
	serve_protect(chan, conf, ctx);
}
