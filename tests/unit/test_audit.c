/*
 * Audit record formatting: field order and presence, escaping of hostile
 * strings (a record must stay one valid JSON line), no truncation.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <time.h>

#include "common/audit.h"
#include "common/err.h"
#include "unit.h"

int
main(void)
{
	struct timespec ts = { .tv_sec = 1795417200, .tv_nsec = 123456789 };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6,
	    .sin6_port = htons(50312) };
	struct audit_rec rec = AUDIT_REC("request");
	char line[4096], small[40];
	int n;

	inet_pton(AF_INET6, "::1", &sin6.sin6_addr);
	rec.decision = "permit";
	rec.client = (struct sockaddr *)&sin6;
	rec.version = 5;
	rec.method = "none";
	rec.cmd = "connect";
	rec.dest = "example.com:80";
	rec.rule = "socks5.conf:12";
	rec.reply = 0;
	rec.pid = 4242;
	n = audit_format(line, sizeof(line), &rec, &ts);
	CHECK(n > 0 && strcmp(line,
	    "{\"ts\":\"2026-11-23T07:00:00.123Z\",\"event\":\"request\","
	    "\"decision\":\"permit\",\"client\":\"[::1]:50312\",\"version\":5,"
	    "\"method\":\"none\",\"cmd\":\"connect\",\"dest\":\"example.com:80\","
	    "\"rule\":\"socks5.conf:12\",\"reply\":0,\"pid\":4242}\n") == 0,
	    "request record, exact bytes: %s", line);
	CHECK(n == (int)strlen(line), "length returned");

	/* Behind a load balancer: lb right after client, written like it. */
	{
		struct sockaddr_in lb = { .sin_family = AF_INET,
		    .sin_port = htons(41234) };

		inet_pton(AF_INET, "10.0.0.5", &lb.sin_addr);
		rec.lb = (struct sockaddr *)&lb;
		n = audit_format(line, sizeof(line), &rec, &ts);
		CHECK(n > 0 && strstr(line, "\"client\":\"[::1]:50312\","
		    "\"lb\":\"10.0.0.5:41234\",\"version\":5,") != NULL,
		    "lb field after client: %s", line);
		rec.lb = NULL;
	}

	rec = AUDIT_REC("close");
	rec.dest = "a\"b\\c\nd\x01\xff:1";
	rec.bytes_out = 0;
	rec.bytes_in = 1024;
	n = audit_format(line, sizeof(line), &rec, &ts);
	CHECK(n > 0 && strstr(line, "\"dest\":\"a\\\"b\\\\c\\u000ad\\u0001\\u00ff:1\"")
	    != NULL, "hostile bytes escaped: %s", line);
	CHECK(strchr(line, '\n') == line + n - 1, "exactly one newline, at the end");
	CHECK(strstr(line, "\"bytes_out\":0,\"bytes_in\":1024") != NULL,
	    "zero byte count is present, not absent");
	CHECK(strstr(line, "reply") == NULL && strstr(line, "pid") == NULL,
	    "absent fields are left out");

	CHECK(audit_format(small, sizeof(small), &rec, &ts) == ERR_NOSPACE,
	    "a record that does not fit is refused, never cut");

	/* The time stamp is computed without gmtime_r (see audit.c); it must
	 * agree with it on every day from 1970 to 2400 and around leap days. */
	{
		int bad = 0;

		rec = AUDIT_REC("close");
		for (time_t t = 0; t < (time_t)136000 * 86400;
		    t += 86400 * 7 + 3671) {
			struct timespec at = { .tv_sec = t, .tv_nsec = 0 };
			char want[64];
			struct tm tm;

			gmtime_r(&t, &tm);
			strftime(want, sizeof(want), "{\"ts\":\"%Y-%m-%dT%H:%M:%S.000Z\"", &tm);
			if (audit_format(line, sizeof(line), &rec, &at) < 0 ||
			    strncmp(line, want, strlen(want)) != 0)
				bad++;
		}
		CHECK(bad == 0, "time stamps agree with gmtime_r for 1970-2342 "
		    "(%d differ)", bad);
		ts.tv_sec = 951782400;   /* 2000-02-29 */
		audit_format(line, sizeof(line), &rec, &ts);
		CHECK(strncmp(line, "{\"ts\":\"2000-02-29T00:00:00.123Z\"", 32) == 0,
		    "leap day 2000-02-29: %.40s", line);
	}
	return unit_done();
}
