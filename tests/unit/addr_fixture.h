/*
 * Test fixture shared by the rule-engine unit tests: socket addresses from
 * text.  Include from one file per test program.
 */
#ifndef SOCKS5D_ADDR_FIXTURE_H
#define SOCKS5D_ADDR_FIXTURE_H

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "10.1.2.3", "10.1.2.3:80", "::1", "[::1]:80" -> a sockaddr. */
static struct sockaddr_storage
mk_addr(const char *text)
{
	struct sockaddr_storage ss;
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	char host[64];
	const char *colon = strrchr(text, ':');
	unsigned port = 0;

	memset(&ss, 0, sizeof(ss));
	snprintf(host, sizeof(host), "%s", text);
	if (text[0] == '[') {
		snprintf(host, sizeof(host), "%s", text + 1);
		*strchr(host, ']') = '\0';
		port = (unsigned)atoi(strrchr(text, ']') + 2);
	} else if (colon != NULL && strchr(text, ':') == colon) {
		host[colon - text] = '\0';
		port = (unsigned)atoi(colon + 1);
	}
	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	if (inet_pton(AF_INET, host, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)port);
		memcpy(&ss, &sin, sizeof(sin));
	} else if (inet_pton(AF_INET6, host, &sin6.sin6_addr) == 1) {
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons((uint16_t)port);
		memcpy(&ss, &sin6, sizeof(sin6));
	}
	return ss;
}

#endif
