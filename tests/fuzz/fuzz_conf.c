/*
 * libFuzzer harness for the socks5.conf parser (STYLE 9): the input is a
 * configuration file.  conf_parse must never crash, leak or read out of
 * bounds, whatever the bytes; when it succeeds, a few rule queries run
 * against the result so the matcher sees every shape of compiled line.
 * Diagnostics are formatted (the callback touches every message) and
 * dropped.  No state survives from one input to the next.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "conf/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
diag_sink(void *ctx, const char *file, unsigned line, bool is_error,
    const char *msg)
{
	size_t *total = ctx;

	(void)file;
	(void)line;
	(void)is_error;
	*total += strlen(msg);
}

static void
query(const struct conf *conf)
{
	static const uint8_t v4[][4] = {
		{ 10, 1, 2, 3 }, { 127, 0, 0, 1 }, { 192, 168, 100, 7 },
	};
	static const char *const names[] = {
		"www.example.com", "a.private-net.org.", "LOCALHOST", NULL,
	};
	struct sockaddr_in client, dst;
	struct sockaddr_in6 client6;
	struct rules_request req;
	struct rules_verdict verdict;
	struct rules_route route;
	struct sockaddr_storage local;
	uint8_t methods[4];
	size_t n, i;
	unsigned line;

	memset(&client6, 0, sizeof(client6));
	client6.sin6_family = AF_INET6;
	client6.sin6_addr.s6_addr[10] = 0xff;
	client6.sin6_addr.s6_addr[11] = 0xff;
	client6.sin6_addr.s6_addr[12] = 10;
	client6.sin6_port = htons(1080);
	for (i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
		memset(&client, 0, sizeof(client));
		client.sin_family = AF_INET;
		memcpy(&client.sin_addr, v4[i], 4);
		client.sin_port = htons((uint16_t)(1000 * i + 22));
		dst = client;
		(void)rules_ban(conf, (const struct sockaddr *)&client);
		(void)rules_auth(conf, (const struct sockaddr *)&client,
		    methods, sizeof(methods), &n, &line);
		(void)rules_could_permit(conf, (const struct sockaddr *)&client,
		    CONF_AUTH_NONE, i == 1);
		memset(&req, 0, sizeof(req));
		req.client = i == 2 ? (const struct sockaddr *)&client6 :
		    (const struct sockaddr *)&client;
		req.method = i == 0 ? CONF_AUTH_USERPASS : CONF_AUTH_NONE;
		req.cmd = i == 1 ? CONF_CMD_BIND : CONF_CMD_CONNECT;
		req.dest.name = names[i];
		req.dest.addr = (const struct sockaddr *)&dst;
		req.dest.port = (uint16_t)(80 + i);
		req.dest.ptr_name = names[i + 1];
		req.user = i == 0 ? "alice" : NULL;
		req.client_name = names[i + 1];
		rules_route(conf, &req.dest, &route);
		rules_access(conf, &req, &verdict);
		(void)rules_interface(conf, (const struct sockaddr *)&dst,
		    names[i], req.dest.port, &local);
	}
	(void)rules_interface(conf, (const struct sockaddr *)&client6, NULL,
	    22, &local);
	(void)conf_permit_count(conf);
	(void)conf_vars(conf);
	(void)conf_name(conf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf *conf = NULL;
	size_t total = 0;
	/* The first byte picks the ownership mode, so that interface lines
	 * are parsed both ways; the environment is never read, so a run
	 * depends on its input alone. */
	unsigned flags = CONF_PARSE_NO_ENV;

	if (size > 0 && (data[0] & 1))
		flags |= CONF_PARSE_ASSUME_OWNED;
	if (conf_parse_flags("fuzz.conf", data, size, flags, &conf, diag_sink,
	    &total) == 0) {
		query(conf);
		conf_free(conf);
	}
	return 0;
}
