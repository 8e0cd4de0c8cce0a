/*
 * The sealed configuration (conf/sealed.c, conf_load_sealed): what the
 * master loads, the session image parses again the same, with port names
 * from the sealed table only.  A round trip through a real file (rules,
 * an upstream, set lines and the environment naming ports; flags, path
 * and mode kept); the memfd and its seals; every refusal of the fd and of
 * the decoder (every truncated prefix, each field out of bounds); the
 * table as the image's only source of port names; the 128-name bound.
 * The addresses interface lines are checked against have their own
 * program, test_conf_sealed_ifaddrs.c.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <netinet/in.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/wr.h"
#include "conf/conf_int.h"
#include "tests/unit/addr_fixture.h"
#include "tests/unit/sealed_fixture.h"
#include "tests/unit/unit.h"

#define SA(ss) ((const struct sockaddr *)&(ss))

/* rules_access for a CONNECT from 10.1.1.1 to 192.0.2.1:port: the
 * deciding line, negative for a deny. */
static int
verdict(const struct conf *conf, uint16_t port)
{
	struct sockaddr_storage client = mk_addr("10.1.1.1:4000"),
	    dst = mk_addr("192.0.2.1");
	struct rules_request req;
	struct rules_verdict v;

	memset(&req, 0, sizeof(req));
	req.client = SA(client);
	req.method = CONF_AUTH_NONE;
	req.cmd = CONF_CMD_CONNECT;
	req.dest.addr = SA(dst);
	req.dest.port = port;
	rules_access(conf, &req, &v);
	return v.permit ? (int)v.line : -(int)v.line;
}

static uint16_t
upstream_port(const struct conf *conf)
{
	struct rules_dest d;
	struct rules_route r;

	memset(&d, 0, sizeof(d));
	d.name = "a.up.example";
	d.port = 443;
	rules_route(conf, &d, &r);
	return r.n_upstreams == 1 ? r.upstreams[0].port : 0;
}

static uint16_t
bind_port(const struct conf *conf)
{
	const struct conf_vars *v = conf_vars(conf);

	return v->bind_addr_len == 0 ? 0 :
	    ntohs(((const struct sockaddr_in *)&v->bind_addr)->sin_port);
}

static const char round_text[] =
    "set SOCKS5_FROM_THE_FUTURE 1\n"
    "set SOCKS5_PASSWD pw\n"
    "set SOCKS5_BINDINTFC 127.0.0.1:socks\n"
    "socks5 .up.example - 10.0.0.1:socks\n"
    "deny - - - - - [ssh,ssh]\n"
    "permit - - - - - http\n"
    "permit - - - - - (ssh,http]\n";

/* conf_load_sealed, then conf_parse_sealed of its memfd: the same
 * answers, from the same file name, with the same warnings. */
static void
test_round_trip(const char *dir)
{
	char path[256];
	struct diags dg_m, dg_i;
	struct conf *master = NULL, *image = NULL;
	struct conf_sealed s;
	static uint8_t enc[4096];
	unsigned flags = CONF_PARSE_UNKNOWN_VAR_WARNS | CONF_PARSE_ASSUME_OWNED;
	unsigned port = 0;
	size_t len;
	int fd = -1, rc;

	snprintf(path, sizeof(path), "%s/socks5.conf", dir);
	/* Group-readable: the SOCKS5_PASSWD warning must come again. */
	if (!CHECK(put_file(path, round_text, 0640), "write %s", path))
		return;
	setenv("SOCKS5_UDPPORTRANGE", "ssh-http", 1);
	memset(&dg_m, 0, sizeof(dg_m));
	rc = conf_load_sealed(path, flags, &master, &fd, collect, &dg_m);
	CHECK(rc == 0 && master != NULL && fd >= 0 && dg_m.errors == 0 &&
	    dg_m.warnings == 3, "conf_load_sealed loads (%d), warns three "
	    "times (%zu)", rc, dg_m.warnings);
	if (rc != 0) {
		unsetenv("SOCKS5_UDPPORTRANGE");
		return;
	}
	CHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0, "the memfd is O_CLOEXEC");
	CHECK(fcntl(fd, F_GET_SEALS) == ALL_SEALS, "sealed against write, "
	    "grow, shrink and further seals (0x%x)", fcntl(fd, F_GET_SEALS));
	CHECK(lseek(fd, 0, SEEK_CUR) == 0, "at offset 0");

	len = slurp(fd, enc, sizeof(enc));
	rc = conf_sealed_decode(enc, len, &s);
	CHECK(rc == 0 && s.flags == flags && s.world_readable &&
	    strcmp(s.path, path) == 0, "flags, mode and path as given");
	CHECK(rc == 0 && s.file_len == strlen(round_text) &&
	    memcmp(s.file, round_text, s.file_len) == 0, "the file's bytes");
	CHECK(rc == 0 && s.n_svc == 3 && conf_sealed_lookup(&s, "socks",
	    &port) && port == 1080 && conf_sealed_lookup(&s, "ssh", &port) &&
	    port == 22 && conf_sealed_lookup(&s, "http", &port) && port == 80,
	    "each name once, with its port (%zu names)", s.n_svc);

	memset(&dg_i, 0, sizeof(dg_i));
	rc = conf_parse_sealed(fd, &image, collect, &dg_i);
	CHECK(rc == 0 && image != NULL && dg_i.errors == 0 &&
	    dg_i.warnings == dg_m.warnings && strcmp(dg_i.file, path) == 0 &&
	    strcmp(dg_i.first, dg_m.first) == 0 &&
	    strcmp(dg_i.last, dg_m.last) == 0, "conf_parse_sealed parses it "
	    "again with the same warnings (%d, last: %s)", rc, dg_i.last);
	if (rc == 0) {
		CHECK(strcmp(conf_name(image), "socks5.conf") == 0 &&
		    strcmp(conf_name(image), conf_name(master)) == 0,
		    "the same conf_name");
		CHECK(verdict(master, 80) == 6 && verdict(image, 80) == 6 &&
		    verdict(image, 22) == -5 && verdict(master, 22) == -5 &&
		    verdict(image, 23) == 7 && verdict(image, 81) == 0,
		    "http and ssh: the same port patterns in both");
		CHECK(upstream_port(master) == 1080 &&
		    upstream_port(image) == 1080, "the upstream's port name");
		CHECK(bind_port(master) == 1080 && bind_port(image) == 1080,
		    "SOCKS5_BINDINTFC's port name");
		CHECK(conf_vars(image)->udp_port_lo == 22 &&
		    conf_vars(image)->udp_port_hi == 80 &&
		    conf_vars(master)->udp_port_hi == 80,
		    "a port name from the environment");
		CHECK(strcmp(conf_vars(image)->upstream_passwd, "pw") == 0,
		    "SOCKS5_PASSWD");
	}
	conf_free(image);
	image = NULL;
	/* The fd's position does not matter (pread from 0). */
	lseek(fd, 7, SEEK_SET);
	CHECK(conf_parse_sealed(fd, &image, NULL, NULL) == 0,
	    "parsed from any file position");
	conf_free(image);
	conf_free(master);
	close(fd);
	unsetenv("SOCKS5_UDPPORTRANGE");

	/* Flags are carried: without UNKNOWN_VAR_WARNS the load fails. */
	fd = 99;
	CHECK(conf_load_sealed(path, CONF_PARSE_NO_ENV, &master, &fd, NULL,
	    NULL) == ERR_CONFIG && master == NULL && fd == -1,
	    "a failed load: no conf, no fd");
	CHECK(conf_load_sealed(path, 1u << 20, &master, &fd, NULL, NULL) ==
	    ERR_CONFIG && fd == -1, "unknown flags are refused");
	unlink(path);
}

/* A sealed configuration built by hand: its text, flags and table. */
static size_t
build(uint8_t *buf, size_t cap, const char *text, unsigned flags,
    const char *const *names, const uint16_t *ports, size_t n)
{
	static struct conf_sealed s;
	size_t i, len = 0;

	memset(&s, 0, sizeof(s));
	s.flags = flags;
	snprintf(s.path, sizeof(s.path), "/etc/socks5.conf");
	s.file = (const uint8_t *)text;
	s.file_len = strlen(text);
	for (i = 0; i < n; i++) {
		snprintf(s.svc[i].name, sizeof(s.svc[i].name), "%s", names[i]);
		s.svc[i].port = ports[i];
	}
	s.n_svc = n;
	if (conf_sealed_size(&s) > cap ||
	    conf_sealed_encode(&s, buf, cap, &len) != 0 ||
	    len != conf_sealed_size(&s))
		return 0;
	return len;
}

#define TEST_FLAGS (CONF_PARSE_NO_ENV | CONF_PARSE_ASSUME_OWNED)

/* The image has no NSS: a name is what the table says, and a name the
 * table lacks is unknown, though /etc/services knows it. */
static void
test_table_only(void)
{
	static const char *const names[] = { "http" };
	static const uint16_t ports[] = { 8080 };
	static const char text[] = "permit - - - - - http\n";
	uint8_t buf[256];
	struct conf *conf = NULL;
	struct diags dg;
	size_t len;
	int fd, rc;

	len = build(buf, sizeof(buf), text, TEST_FLAGS, names, ports, 1);
	fd = memfd_with(buf, len, ALL_SEALS);
	rc = conf_parse_sealed(fd, &conf, NULL, NULL);
	CHECK(rc == 0 && verdict(conf, 8080) == 1 && verdict(conf, 80) == 0,
	    "http is 8080 when the table says so");
	conf_free(conf);
	close(fd);

	len = build(buf, sizeof(buf), text, TEST_FLAGS, NULL, NULL, 0);
	fd = memfd_with(buf, len, ALL_SEALS);
	memset(&dg, 0, sizeof(dg));
	rc = conf_parse_sealed(fd, &conf, collect, &dg);
	CHECK(rc == ERR_CONFIG && conf == NULL &&
	    strcmp(dg.file, "/etc/socks5.conf") == 0 &&
	    strncmp(dg.first, "unknown service in port pattern 'http'", 38) ==
	    0, "a name not in the table is unknown: %s", dg.first);
	close(fd);
}

/* The descriptor itself: only a memfd sealed against change is read. */
static void
test_fd_refused(const char *dir)
{
	static const char text[] = "permit - - - - - -\n";
	uint8_t buf[256];
	char path[256];
	struct conf *conf = NULL;
	struct diags dg;
	size_t len = build(buf, sizeof(buf), text, TEST_FLAGS, NULL, NULL, 0);
	int fd, pipe_fd[2];
	static const struct { int seals; const char *what; } rows[] = {
		{ ALL_SEALS, "a sealed memfd is read" },
		{ F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK, "without "
		    "F_SEAL_SEAL too" },
		{ 0, "an unsealed memfd is refused" },
		{ -1, "a memfd that cannot be sealed is refused" },
		{ F_SEAL_GROW | F_SEAL_SHRINK, "one still writable is refused" },
		{ F_SEAL_WRITE | F_SEAL_SHRINK, "one that can grow is refused" },
		{ F_SEAL_WRITE | F_SEAL_GROW, "one that can shrink is refused" },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int want = i < 2 ? 0 : ERR_PROTO, rc;

		fd = memfd_with(buf, len, rows[i].seals);
		memset(&dg, 0, sizeof(dg));
		rc = conf_parse_sealed(fd, &conf, collect, &dg);
		CHECK(fd >= 0 && rc == want && (conf != NULL) == (want == 0) &&
		    dg.errors == (want != 0), "%s (%d)", rows[i].what, rc);
		conf_free(conf);
		close(fd);
	}
	snprintf(path, sizeof(path), "%s/plain", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	CHECK(fd >= 0 && write(fd, buf, len) == (ssize_t)len &&
	    conf_parse_sealed(fd, &conf, NULL, NULL) == ERR_PROTO &&
	    conf == NULL, "a plain file holding a valid encoding is refused");
	close(fd);
	unlink(path);
	CHECK(pipe(pipe_fd) == 0 && conf_parse_sealed(pipe_fd[0], &conf,
	    NULL, NULL) == ERR_PROTO, "a pipe is refused");
	close(pipe_fd[0]);
	close(pipe_fd[1]);
	CHECK(conf_parse_sealed(-1, &conf, NULL, NULL) == ERR_PROTO,
	    "a closed fd is refused");

	buf[0] ^= 0xff;
	fd = memfd_with(buf, len, ALL_SEALS);
	memset(&dg, 0, sizeof(dg));
	CHECK(conf_parse_sealed(fd, &conf, collect, &dg) == ERR_PROTO &&
	    dg.errors == 1 && dg.last_line == 0 && strstr(dg.last,
	    "does not decode") != NULL, "a sealed memfd that does not decode "
	    "is refused: %s", dg.last);
	close(fd);
	buf[0] ^= 0xff;
	fd = memfd_with(buf, len - 1, ALL_SEALS);
	CHECK(conf_parse_sealed(fd, &conf, NULL, NULL) == ERR_PROTO,
	    "a truncated one too");
	close(fd);
}

/* The decoder, byte by byte: the offsets below are those of the format
 * in conf/sealed.c, for the path "/etc/socks5.conf" (16 bytes). */
#define OFF_VERSION 4
#define OFF_FLAGS 6
#define OFF_MODE 10
#define OFF_PATH_LEN 11
#define OFF_PATH 13
#define OFF_N_SVC (OFF_PATH + 16)
#define OFF_SVC (OFF_N_SVC + 2)

/* head's first OFF_N_SVC bytes, then n services "s000", "s001", ...
 * padded with 'x' to name_len bytes (4 or more), port 1, no addresses
 * and an empty file; the length, or 0 when out is short. */
static size_t
table_bytes(const uint8_t *head, uint8_t *out, size_t cap, size_t n,
    size_t name_len)
{
	char name[80];
	struct wr w;
	size_t i;

	wr_init(&w, out, cap);
	if (wr_bytes(&w, head, OFF_N_SVC) != 0 ||
	    wr_u16be(&w, (uint16_t)n) != 0)
		return 0;
	for (i = 0; i < n; i++) {
		memset(name, 'x', sizeof(name));
		snprintf(name, sizeof(name), "s%03zu", i);
		name[4] = 'x';
		if (wr_u8(&w, (uint8_t)name_len) != 0 ||
		    wr_bytes(&w, name, name_len) != 0 || wr_u16be(&w, 1) != 0)
			return 0;
	}
	return wr_u8(&w, 0) == 0 && wr_u32be(&w, 0) == 0 ? w.off : 0;
}

static void
test_decode(void)
{
	static const char *const names[] = { "http", "x11-ssh" };
	static const uint16_t ports[] = { 80, 6010 };
	static const char text[] = "permit - - - - - http\n";
	static struct conf_sealed s;
	uint8_t buf[512], bad[1024];
	size_t len, i, cut_ok = 0;
	static const struct { size_t off; uint8_t val; const char *what; }
	    rows[] = {
		{ 0, 'X', "bad magic" },
		{ OFF_VERSION + 1, 1, "version 1 (no addresses)" },
		{ OFF_VERSION + 1, 3, "another version" },
		{ OFF_FLAGS, 0x80, "an unknown flag" },
		{ OFF_MODE, 2, "a mode byte above 1" },
		{ OFF_PATH_LEN + 1, 0, "an empty path" },
		{ OFF_PATH + 3, 0, "a NUL in the path" },
		{ OFF_N_SVC + 1, 3, "more services than there are" },
		{ OFF_SVC, 0, "an empty service name" },
		{ OFF_SVC + 1, ' ', "a service name with a space" },
		{ OFF_SVC + 6, 0, "port 0" },
	};

	len = build(buf, sizeof(buf), text, TEST_FLAGS, names, ports, 2);
	CHECK(len == OFF_SVC + 7 + 10 + 1 + 4 + sizeof(text) - 1 &&
	    conf_sealed_decode(buf, len, &s) == 0 && s.n_svc == 2 &&
	    s.svc[1].port == 6010 && s.flags == TEST_FLAGS &&
	    !s.world_readable, "a valid encoding decodes (%zu bytes)", len);
	for (i = 0; i < len; i++)
		if (conf_sealed_decode(buf, i, &s) == 0)
			cut_ok++;
	CHECK(cut_ok == 0, "every truncated prefix is refused");
	memcpy(bad, buf, len);
	bad[len] = 0;
	CHECK(conf_sealed_decode(bad, len + 1, &s) == ERR_PROTO,
	    "a byte after the file is refused");
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		memcpy(bad, buf, len);
		bad[rows[i].off] = rows[i].val;
		CHECK(conf_sealed_decode(bad, len, &s) == ERR_PROTO,
		    "%s is refused", rows[i].what);
	}
	/* "x11-ssh" renamed "http": one name twice. */
	memcpy(bad, buf, len);
	memcpy(bad + OFF_SVC + 8, "http\0\0\0", 7);
	bad[OFF_SVC + 7] = 4;
	memmove(bad + OFF_SVC + 12, buf + OFF_SVC + 15, len - OFF_SVC - 15);
	CHECK(conf_sealed_decode(bad, len - 3, &s) == ERR_PROTO,
	    "a name given twice is refused");
	memcpy(bad, buf, len);
	bad[len - (sizeof(text) - 1) - 1] = 30;   /* its low byte */
	CHECK(conf_sealed_decode(bad, len, &s) == ERR_PROTO,
	    "a file length past the end is refused");

	/* Every name and count valid but one bound. */
	CHECK((len = table_bytes(buf, bad, sizeof(bad), 1, 63)) > 0 &&
	    conf_sealed_decode(bad, len, &s) == 0 && s.n_svc == 1 &&
	    strlen(s.svc[0].name) == 63, "a 63-byte service name decodes");
	CHECK((len = table_bytes(buf, bad, sizeof(bad), 1, 64)) > 0 &&
	    conf_sealed_decode(bad, len, &s) == ERR_PROTO,
	    "a 64-byte service name is refused");
	CHECK((len = table_bytes(buf, bad, sizeof(bad), 128, 4)) > 0 &&
	    conf_sealed_decode(bad, len, &s) == 0 && s.n_svc == 128,
	    "128 services decode");
	CHECK((len = table_bytes(buf, bad, sizeof(bad), 129, 4)) > 0 &&
	    conf_sealed_decode(bad, len, &s) == ERR_PROTO,
	    "129 services are refused");

	/* The encoder writes nothing the decoder refuses. */
	s.n_svc = 0;
	snprintf(s.path, sizeof(s.path), "/x");
	s.file_len = 0;
	s.flags = 0;
	snprintf(s.svc[0].name, sizeof(s.svc[0].name), "http");
	s.svc[0].port = 0;
	s.n_svc = 1;
	CHECK(conf_sealed_encode(&s, bad, sizeof(bad), &len) == ERR_RANGE,
	    "encode: port 0 is refused");
	s.svc[0].port = 80;
	s.svc[1] = s.svc[0];
	s.n_svc = 2;
	CHECK(conf_sealed_encode(&s, bad, sizeof(bad), &len) == ERR_RANGE,
	    "encode: a name twice is refused");
	s.n_svc = 1;
	s.flags = 1u << 20;
	CHECK(conf_sealed_encode(&s, bad, sizeof(bad), &len) == ERR_RANGE,
	    "encode: unknown flags are refused");
	s.flags = 0;
	s.path[0] = '\0';
	CHECK(conf_sealed_encode(&s, bad, sizeof(bad), &len) == ERR_RANGE,
	    "encode: an empty path is refused");
	s.path[0] = '/';
	CHECK(conf_sealed_encode(&s, bad, conf_sealed_size(&s) - 1, &len) ==
	    ERR_NOSPACE && conf_sealed_encode(&s, bad, conf_sealed_size(&s),
	    &len) == 0 && len == conf_sealed_size(&s),
	    "encode: conf_sealed_size is exact");
}

/* The names of the first n TCP services of /etc/services (no aliases);
 * how many it found. */
static size_t
services_names(char names[][64], size_t n)
{
	FILE *f = fopen("/etc/services", "r");
	char line[512], name[64], proto[16];
	size_t got = 0, i;
	unsigned port;

	if (f == NULL)
		return 0;
	while (got < n && fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%63s %u/%15s", name, &port, proto) != 3 ||
		    strcmp(proto, "tcp") != 0 || port == 0)
			continue;
		for (i = 0; i < got && strcmp(names[i], name) != 0; i++)
			;
		if (i == got)
			snprintf(names[got++], 64, "%s", name);
	}
	fclose(f);
	return got;
}

/* 128 distinct names seal; the 129th fails the load at line 0. */
static void
test_table_bound(const char *dir)
{
	static char names[CONF_SEALED_SVC_MAX + 1][64];
	static char text[CONF_SEALED_SVC_MAX * 96];
	char path[256];
	struct conf *conf = NULL;
	struct diags dg;
	size_t n = services_names(names, CONF_SEALED_SVC_MAX + 1), i, off;
	int fd = -1, rc;

	if (!CHECK(n == CONF_SEALED_SVC_MAX + 1, "/etc/services has %zu TCP "
	    "names for the bound test", n))
		return;
	snprintf(path, sizeof(path), "%s/many.conf", dir);
	for (off = 0, i = 0; i < CONF_SEALED_SVC_MAX; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
		    "permit - - - - - %s\n", names[i]);
	if (!CHECK(put_file(path, text, 0600), "write %s", path))
		return;
	rc = conf_load_sealed(path, TEST_FLAGS, &conf, &fd, NULL, NULL);
	CHECK(rc == 0 && fd >= 0, "128 distinct names seal (%d)", rc);
	conf_free(conf);
	if (fd >= 0)
		close(fd);
	snprintf(text + off, sizeof(text) - off, "deny - - - - - %s\n",
	    names[CONF_SEALED_SVC_MAX]);
	CHECK(put_file(path, text, 0600), "write %s again", path);
	memset(&dg, 0, sizeof(dg));
	rc = conf_load_sealed(path, TEST_FLAGS, &conf, &fd, collect, &dg);
	CHECK(rc == ERR_CONFIG && conf == NULL && fd == -1 &&
	    dg.errors == 1 && dg.last_line == 0 && strstr(dg.last,
	    "more than 128 distinct service names") != NULL,
	    "the 129th fails the load at line 0: %s", dg.last);
	/* conf_load itself has no table and no bound. */
	rc = conf_load_flags(path, TEST_FLAGS, &conf, NULL, NULL);
	CHECK(rc == 0, "conf_load_flags loads the same file");
	conf_free(conf);
	unlink(path);
}

int
main(void)
{
	char dir[] = "/tmp/test_conf_sealed.XXXXXX";

	if (mkdtemp(dir) == NULL) {
		CHECK(0, "mkdtemp");
		return unit_done();
	}
	test_round_trip(dir);
	test_table_only();
	test_fd_refused(dir);
	test_decode();
	test_table_bound(dir);
	rmdir(dir);
	return unit_done();
}
