/*
 * authd: the root helper that checks RFC 1929 user names and passwords
 * through PAM.  One forked child per worker channel: it accepts exactly
 * one IPC_AUTH_USERPASS (STYLE 3: each request legal once), asks PAM with
 * the service from its own copy of the configuration (never a name the
 * worker supplies), answers, wipes the password and exits.
 *
 * AUTH_USERPASS payload: client address (IPC address, 17 bytes), client
 * port (u16), u8 length + user name (1..255), u8 length + password
 * (0..255).  AUTH_ANSWER: u8, 0 = accepted, 1 = refused.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "authd/authd.h"
#include "authd/pam.h"
#include "common/err.h"
#include "common/ipc.h"
#include "common/log.h"
#include "common/net.h"
#include "common/rd.h"
#include "common/socks.h"
#include "common/wr.h"
#include "conf/conf.h"

/* PAM modules may delay a failure (pam_faildelay); the worker waits at most
 * its negotiation deadline anyway. */
enum { AUTHD_REQUEST_TIMEOUT_S = 10 };

struct pam_creds {
	const char *user;
	const char *pass;
};

/* The conversation answers PAM's prompts from what the client sent: the
 * password for a hidden prompt, the user name for a visible one. */
static int
pam_converse(int n, const struct pam_message **msgs, struct pam_response **out,
    void *data)
{
	const struct pam_creds *creds = data;
	struct pam_response *resp;

	if (n <= 0 || n > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	if ((resp = calloc((size_t)n, sizeof(*resp))) == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		const char *answer = NULL;

		switch (msgs[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
			answer = creds->pass;
			break;
		case PAM_PROMPT_ECHO_ON:
			answer = creds->user;
			break;
		default:
			continue;   /* PAM_TEXT_INFO, PAM_ERROR_MSG */
		}
		if ((resp[i].resp = strdup(answer)) == NULL) {
			for (int j = 0; j < i; j++) {
				if (resp[j].resp != NULL) {
					explicit_bzero(resp[j].resp,
					    strlen(resp[j].resp));
					free(resp[j].resp);
				}
			}
			free(resp);
			return PAM_BUF_ERR;
		}
	}
	*out = resp;
	return PAM_SUCCESS;
}

static bool
pam_check(const char *service, const char *rhost, struct pam_creds *creds)
{
	struct pam_conv conv = { pam_converse, creds };
	pam_handle_t *pamh = NULL;
	int rc;

	if ((rc = pam_fns.start(service, creds->user, &conv, &pamh)) != PAM_SUCCESS) {
		log_warnx("pam_fns.start(%s): %s", service, pam_fns.strerror(pamh, rc));
		return false;
	}
	(void)pam_fns.set_item(pamh, PAM_RHOST, rhost);
	rc = pam_fns.authenticate(pamh, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
	if (rc == PAM_SUCCESS)
		rc = pam_fns.acct_mgmt(pamh, PAM_SILENT);
	if (rc != PAM_SUCCESS)
		log_info("user '%s' from %s refused: %s", creds->user, rhost,
		    pam_fns.strerror(pamh, rc));
	pam_fns.end(pamh, rc);
	return rc == PAM_SUCCESS;
}

int
authd_request_parse(const uint8_t *buf, size_t len,
    struct sockaddr_storage *client, struct socks5_userpass *up)
{
	const uint8_t *b;
	uint8_t ulen, plen;
	struct rd r;

	rd_init(&r, buf, len);
	if (ipc_endpoint_get(&r, client) != 0 || rd_u8(&r, &ulen) != 0 || ulen == 0 || rd_bytes(&r, ulen, &b) != 0 ||
	    memchr(b, '\0', ulen) != NULL)
		return ERR_PROTO;
	memcpy(up->user, b, ulen);
	up->user[ulen] = '\0';
	if (rd_u8(&r, &plen) != 0 || rd_bytes(&r, plen, &b) != 0 ||
	    memchr(b, '\0', plen) != NULL || rd_end(&r) != 0) {
		explicit_bzero(up, sizeof(*up));
		return ERR_PROTO;
	}
	memcpy(up->pass, b, plen);
	up->pass[plen] = '\0';
	return 0;
}

void
authd_serve_channel(int chan, const struct conf *conf)
{
	uint8_t req[IPC_ADDR_LEN + 2 + 2 + 255 + 255], answer = 1;
	struct sockaddr_storage client;
	struct socks5_userpass up;
	struct timespec deadline;
	char rhost[NET_ADDRSTR_MAX];
	size_t len;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += AUTHD_REQUEST_TIMEOUT_S;
	if (ipc_recv(chan, IPC_AUTH_USERPASS, FROM_WORKER, req, sizeof(req),
	    &len, NULL, &deadline) != 0)
		_exit(1);
	rc = authd_request_parse(req, len, &client, &up);
	explicit_bzero(req, sizeof(req));
	if (rc != 0) {
		log_warnx("malformed auth request; channel closed");
		_exit(1);
	}
	/* PAM_RHOST is the address only, as sshd sets it. */
	if (client.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&client)->sin_addr,
		    rhost, sizeof(rhost));
	else
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&client)->sin6_addr,
		    rhost, sizeof(rhost));
	if (authd_pam_load() == 0) {
		struct pam_creds creds = { up.user, up.pass };

		answer = pam_check(conf_vars(conf)->pam_service, rhost,
		    &creds) ? 0 : 1;
	}
	explicit_bzero(&up, sizeof(up));
	(void)ipc_send(chan, IPC_AUTH_ANSWER, &answer, 1, -1);
	_exit(0);
}
