/*
 * A tiny TAP producer for the C unit tests.  Each CHECK is one test point
 * ("ok N - what" / "not ok N - what"); tests/run.sh counts them.  Include it
 * from exactly one file per test program.
 */
#ifndef SOCKS5D_UNIT_H
#define SOCKS5D_UNIT_H

#include <stdarg.h>
#include <stdio.h>

static int unit_points;
static int unit_failures;

__attribute__((format(printf, 4, 5))) static int
unit_check(int ok, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	unit_points++;
	if (!ok)
		unit_failures++;
	printf("%s %d - ", ok ? "ok" : "not ok", unit_points);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (!ok)
		printf(" (%s:%d)", file, line);
	putchar('\n');
	return ok;
}

/* CHECK(cond, "printf-style description", ...) */
#define CHECK(cond, ...) unit_check(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

/* Print the plan and return main()'s exit status. */
static inline int
unit_done(void)
{
	printf("1..%d\n", unit_points);
	return unit_failures == 0 ? 0 : 1;
}

#endif
