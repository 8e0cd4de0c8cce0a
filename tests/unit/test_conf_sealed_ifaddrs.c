/*
 * The addresses a sealed configuration carries (conf/sealed.c, load.c):
 * interface lines are checked against this host's list once, in the
 * master, and the session image parses against that list only, however
 * the host has changed since.  A round trip against the real host; then,
 * through a getifaddrs this program defines (below), a host whose
 * addresses change between the master's load and the image's parse, a
 * name the format cannot carry, entries of other families, a failing
 * getifaddrs and the 4096-address bound; the image's answers from
 * hand-built lists (one without lo, a failure, none at all); and every
 * refusal of the decoder and the encoder for the new section.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <dlfcn.h>
#include <errno.h>
#include <ifaddrs.h>
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
#define NO_ENV CONF_PARSE_NO_ENV

/* ---- getifaddrs as load.c sees it in this program ----
 * The executable's definition wins over libc's, so conf_load* call this
 * one.  While fake_on is false it is the host's (through RTLD_NEXT);
 * otherwise the fake[] rows, or a failure with fake_errno.  fake_calls
 * counts every call, so a test can show the image made none. */

struct fake_row {
	const char *name;
	int family;           /* AF_INET, AF_INET6, AF_PACKET, or 0: no address */
	const char *addr;
	uint32_t scope_id;
};

struct fake_ent {
	struct ifaddrs ifa;
	struct sockaddr_storage sa;
	char name[32];
};

static bool fake_on;
static int fake_errno;
static const struct fake_row *fake;
static size_t n_fake;
static unsigned fake_calls;
static struct fake_ent *fake_block;  /* the list handed out, if fake */

int getifaddrs(struct ifaddrs **out);
void freeifaddrs(struct ifaddrs *list);

static void
fake_fill(struct fake_ent *e, const struct fake_row *row)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	snprintf(e->name, sizeof(e->name), "%s", row->name);
	e->ifa.ifa_name = e->name;
	e->sa.ss_family = (sa_family_t)row->family;
	if (row->family == AF_INET) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		inet_pton(AF_INET, row->addr, &sin.sin_addr);
		memcpy(&e->sa, &sin, sizeof(sin));
	} else if (row->family == AF_INET6) {
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		inet_pton(AF_INET6, row->addr, &sin6.sin6_addr);
		sin6.sin6_scope_id = row->scope_id;
		memcpy(&e->sa, &sin6, sizeof(sin6));
	}
	e->ifa.ifa_addr = row->family != 0 ? (struct sockaddr *)&e->sa : NULL;
}

int
getifaddrs(struct ifaddrs **out)
{
	int (*real)(struct ifaddrs **);
	size_t i;

	fake_calls++;
	if (!fake_on) {
		real = (int (*)(struct ifaddrs **))dlsym(RTLD_NEXT,
		    "getifaddrs");
		return real != NULL ? real(out) : -1;
	}
	if (fake_errno != 0) {
		errno = fake_errno;
		return -1;
	}
	if ((fake_block = calloc(n_fake + 1, sizeof(*fake_block))) == NULL)
		return -1;
	for (i = 0; i < n_fake; i++) {
		fake_fill(&fake_block[i], &fake[i]);
		fake_block[i].ifa.ifa_next = i + 1 < n_fake ?
		    &fake_block[i + 1].ifa : NULL;
	}
	*out = n_fake > 0 ? &fake_block[0].ifa : NULL;
	return 0;
}

void
freeifaddrs(struct ifaddrs *list)
{
	void (*real)(struct ifaddrs *);

	if (fake_block != NULL && (list == &fake_block[0].ifa ||
	    list == NULL)) {
		free(fake_block);
		fake_block = NULL;
		return;
	}
	real = (void (*)(struct ifaddrs *))dlsym(RTLD_NEXT, "freeifaddrs");
	if (real != NULL)
		real(list);
}

static void
fake_set(const struct fake_row *rows, size_t n, int error)
{
	fake_on = true;
	fake = rows;
	n_fake = n;
	fake_errno = error;
}

/* ---- helpers ---- */

/* rules_interface's address for peer (and name) at port 80, as text
 * with "%scope" for IPv6; "none" when no line applies. */
static const char *
local_for(const struct conf *conf, const char *peer, const char *name,
    char *buf, size_t size)
{
	struct sockaddr_storage p = mk_addr(peer), local;
	char text[INET6_ADDRSTRLEN] = "?";

	if (!rules_interface(conf, SA(p), name, 80, &local)) {
		snprintf(buf, size, "none");
	} else if (local.ss_family == AF_INET) {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&local)->sin_addr,
		    text, sizeof(text));
		snprintf(buf, size, "%s", text);
	} else {
		const struct sockaddr_in6 *sin6 =
		    (const struct sockaddr_in6 *)&local;

		inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof(text));
		snprintf(buf, size, "%s%%%u", text,
		    (unsigned)sin6->sin6_scope_id);
	}
	return buf;
}

/* conf_load_sealed of text in dir; the sealed fd (or -1), *dg filled. */
static int
load_sealed(const char *dir, const char *text, unsigned flags,
    struct conf **conf, struct diags *dg)
{
	char path[256];
	int fd = -1;

	snprintf(path, sizeof(path), "%s/socks5.conf", dir);
	memset(dg, 0, sizeof(*dg));
	*conf = NULL;
	if (!put_file(path, text, 0600) ||
	    conf_load_sealed(path, flags, conf, &fd, collect, dg) != 0)
		fd = -1;
	unlink(path);
	return fd;
}

/* fd's contents decoded into *s (static storage: 160 KiB). */
static bool
decode_fd(int fd, struct conf_sealed *s)
{
	static uint8_t enc[256 * 1024];
	size_t len = slurp(fd, enc, sizeof(enc));

	return len > 0 && conf_sealed_decode(enc, len, s) == 0;
}

static struct conf_sealed sealed;

/* ---- against the real host ---- */

static void
test_host_round_trip(const char *dir)
{
	static const char text[] =
	    "interface 10. - lo\n"
	    "interface 192.0.2. - 127.0.0.5\n"
	    "permit - - - - - -\n";
	struct ifaddrs *list, *ifa;
	struct conf *master = NULL, *image = NULL;
	struct diags dg;
	size_t want = 0, i, lo = SIZE_MAX;
	char a[64], b[64];
	int fd;

	fake_on = false;
	if (!CHECK(getifaddrs(&list) == 0, "the host's getifaddrs"))
		return;
	for (ifa = list; ifa != NULL; ifa = ifa->ifa_next)
		if (ifa->ifa_addr != NULL && (ifa->ifa_addr->sa_family ==
		    AF_INET || ifa->ifa_addr->sa_family == AF_INET6))
			want++;
	freeifaddrs(list);

	fd = load_sealed(dir, text, NO_ENV, &master, &dg);
	CHECK(fd >= 0 && dg.errors == 0, "a file naming lo seals (%s)",
	    dg.last);
	if (fd < 0)
		return;
	CHECK(decode_fd(fd, &sealed) && sealed.if_state == SEALED_IF_LIST &&
	    sealed.n_if == want, "every IPv4 and IPv6 address of the host is "
	    "sealed (%zu of %zu)", sealed.n_if, want);
	for (i = 0; i < sealed.n_if && lo == SIZE_MAX; i++)
		if (strcmp(sealed.ifs[i].name, "lo") == 0 &&
		    sealed.ifs[i].family == AF_INET)
			lo = i;
	CHECK(lo != SIZE_MAX && memcmp(sealed.ifs[lo].addr,
	    "\177\0\0\1", 4) == 0 && sealed.ifs[lo].scope_id == 0,
	    "lo's 127.0.0.1 among them, without a scope");
	CHECK(conf_parse_sealed(fd, &image, NULL, NULL) == 0 && image != NULL,
	    "the image parses it");
	if (image != NULL) {
		CHECK(strcmp(local_for(master, "10.1.1.1", NULL, a, sizeof(a)),
		    "127.0.0.1") == 0 && strcmp(local_for(image, "10.1.1.1",
		    NULL, b, sizeof(b)), a) == 0, "lo is 127.0.0.1 in both "
		    "(%s, %s)", a, b);
		CHECK(strcmp(local_for(image, "192.0.2.9", NULL, b, sizeof(b)),
		    "127.0.0.5") == 0, "and the address line: %s", b);
	}
	conf_free(image);
	conf_free(master);
	close(fd);

	/* No line needs the list: nothing is read, nothing sealed. */
	fake_calls = 0;
	fd = load_sealed(dir, "interface - - 127.0.0.5\npermit - - - - - -\n",
	    NO_ENV, &master, &dg);
	CHECK(fd >= 0 && fake_calls == 0 && decode_fd(fd, &sealed) &&
	    sealed.if_state == SEALED_IF_NONE, "a loopback address needs no "
	    "list: none read, none sealed (%u calls)", fake_calls);
	conf_free(master);
	close(fd);
	fd = load_sealed(dir, "interface - - 198.51.100.7\n"
	    "permit - - - - - -\n", NO_ENV | CONF_PARSE_ASSUME_OWNED, &master,
	    &dg);
	CHECK(fd >= 0 && fake_calls == 0 && decode_fd(fd, &sealed) &&
	    sealed.if_state == SEALED_IF_NONE, "nor an address taken as owned");
	conf_free(master);
	close(fd);
}

/* ---- a host whose addresses change under the image ---- */

static const struct fake_row before[] = {
	{ "eth9", AF_PACKET, NULL, 0 },
	{ "eth9", AF_INET, "198.51.100.7", 0 },
	{ "eth9", AF_INET6, "fe80::1", 7 },
	{ "eth8", AF_INET6, "fe80::1", 9 },
	{ "tun0", 0, NULL, 0 },
	{ "w\001x", AF_INET, "203.0.113.9", 0 },
};

static const struct fake_row after[] = {
	{ "eth0", AF_INET, "192.0.2.2", 0 },
	{ "eth8", AF_INET6, "fe80::1", 9 },
};

static void
test_host_changes(const char *dir)
{
	static const char text[] =
	    "interface 10. - eth9\n"
	    "interface 2001:db8::/32 - fe80::1\n"
	    "interface - - 203.0.113.9\n"
	    "permit - - - - - -\n";
	struct conf *master = NULL, *image = NULL, *again = NULL;
	struct diags dg;
	char a[64];
	int fd;

	fake_set(before, sizeof(before) / sizeof(before[0]), 0);
	fd = load_sealed(dir, text, NO_ENV, &master, &dg);
	CHECK(fd >= 0 && dg.errors == 0, "the master loads against its "
	    "host (%s)", dg.last);
	if (fd < 0)
		return;
	CHECK(decode_fd(fd, &sealed) && sealed.if_state == SEALED_IF_LIST &&
	    sealed.n_if == 4 && strcmp(sealed.ifs[0].name, "eth9") == 0 &&
	    sealed.ifs[0].family == AF_INET && sealed.ifs[1].scope_id == 7 &&
	    sealed.ifs[2].scope_id == 9, "four addresses sealed, in order; "
	    "no packet or address-less entry (%zu)", sealed.n_if);
	CHECK(sealed.n_if == 4 && strcmp(sealed.ifs[3].name, "?") == 0 &&
	    memcmp(sealed.ifs[3].addr, "\313\0\161\011", 4) == 0,
	    "a name the format cannot carry is sealed as \"?\", its address "
	    "kept (%s)", sealed.ifs[3].name);

	/* The host changes: eth9 and 203.0.113.9 are gone, fe80::1 is
	 * eth8's only.  The master would now refuse the file; the image,
	 * started later, parses what the master did and never asks. */
	fake_set(after, sizeof(after) / sizeof(after[0]), 0);
	memset(&dg, 0, sizeof(dg));
	CHECK(conf_parse_flags("socks5.conf", text, strlen(text), NO_ENV,
	    &again, collect, &dg) == ERR_CONFIG && dg.errors == 2,
	    "the host now refuses two lines (%zu errors)", dg.errors);
	fake_calls = 0;
	CHECK(conf_parse_sealed(fd, &image, NULL, NULL) == 0 && image != NULL &&
	    fake_calls == 0, "the image parses the master's list, without "
	    "getifaddrs (%u calls)", fake_calls);
	if (image != NULL) {
		CHECK(strcmp(local_for(image, "10.1.1.1", NULL, a, sizeof(a)),
		    "198.51.100.7") == 0, "eth9 is still 198.51.100.7: %s", a);
		CHECK(strcmp(local_for(image, "2001:db8::5", NULL, a,
		    sizeof(a)), "fe80::1%7") == 0, "fe80::1 has the first "
		    "entry's scope, 7: %s", a);
		CHECK(strcmp(local_for(image, "192.0.2.9", NULL, a, sizeof(a)),
		    "203.0.113.9") == 0, "the \"?\" entry's address is "
		    "owned: %s", a);
	}
	conf_free(image);
	conf_free(master);
	close(fd);

	/* "?" is no name a line can give: one naming it is refused, in
	 * the master as in the image. */
	memset(&dg, 0, sizeof(dg));
	CHECK(conf_parse_flags("x", "interface - - ?\n", 16, NO_ENV, &again,
	    collect, &dg) == ERR_CONFIG && strstr(dg.first, "invalid "
	    "interface address '?'") == dg.first, "a line cannot name \"?\": "
	    "%s", dg.first);

	/* The master's getifaddrs fails: its load reports it (and so
	 * fails: nothing is sealed). */
	fake_set(NULL, 0, EACCES);
	fd = load_sealed(dir, text, NO_ENV, &master, &dg);
	CHECK(fd < 0 && master == NULL && dg.errors == 3 && strcmp(dg.first,
	    "cannot list this host's addresses to check the interface "
	    "address: Permission denied") == 0, "a failing getifaddrs fails "
	    "the load at each line: %s", dg.first);
	fake_on = false;
}

/* The bound: 4096 addresses seal; a 4097th fails the load at line 0,
 * and only when some line needs the list. */
static void
test_bound(const char *dir)
{
	static struct fake_row rows[CONF_SEALED_IF_MAX + 1];
	static char addrs[CONF_SEALED_IF_MAX + 1][16];
	static const char text[] = "interface - - 10.0.0.1\n"
	    "permit - - - - - -\n";
	struct conf *conf = NULL;
	struct diags dg;
	size_t i;
	int fd;

	for (i = 0; i <= CONF_SEALED_IF_MAX; i++) {
		snprintf(addrs[i], sizeof(addrs[i]), "10.0.%zu.%zu", i / 256,
		    i % 256);
		rows[i].name = "eth0";
		rows[i].family = AF_INET;
		rows[i].addr = addrs[i];
	}
	fake_set(rows, CONF_SEALED_IF_MAX, 0);
	fd = load_sealed(dir, text, NO_ENV, &conf, &dg);
	CHECK(fd >= 0 && decode_fd(fd, &sealed) &&
	    sealed.n_if == CONF_SEALED_IF_MAX, "4096 addresses seal");
	conf_free(conf);
	if (fd >= 0)
		close(fd);
	fake_set(rows, CONF_SEALED_IF_MAX + 1, 0);
	fd = load_sealed(dir, text, NO_ENV, &conf, &dg);
	CHECK(fd < 0 && conf == NULL && dg.errors == 1 && dg.last_line == 0 &&
	    strstr(dg.last, "4097 IPv4 and IPv6 addresses, more than the "
	    "4096") != NULL, "a 4097th fails the load at line 0: %s",
	    dg.last);
	memset(&dg, 0, sizeof(dg));
	CHECK(conf_parse_flags("x", text, strlen(text), NO_ENV, &conf, collect,
	    &dg) == 0, "the master's own parse has no bound (%s)", dg.last);
	conf_free(conf);
	fd = load_sealed(dir, "interface - - 127.0.0.5\npermit - - - - - -\n",
	    NO_ENV, &conf, &dg);
	CHECK(fd >= 0, "no line needs the list: 4097 addresses do not "
	    "matter");
	conf_free(conf);
	if (fd >= 0)
		close(fd);
	fake_on = false;
}

/* ---- the image's answers, from lists made by hand ---- */

/* s with text, flags NO_ENV (interface addresses checked) and no
 * services, encoded into a sealed memfd; -1 on failure. */
static int
sealed_fd(struct conf_sealed *s, const char *text)
{
	static uint8_t enc[256 * 1024];
	size_t len = 0;

	s->flags = NO_ENV;
	snprintf(s->path, sizeof(s->path), "/etc/socks5.conf");
	s->file = (const uint8_t *)text;
	s->file_len = strlen(text);
	if (conf_sealed_encode(s, enc, sizeof(enc), &len) != 0 ||
	    len != conf_sealed_size(s))
		return -1;
	return memfd_with(enc, len, ALL_SEALS);
}

static void
ifaddr_set(struct conf_ifaddr *ifa, const char *name, int family,
    const char *addr, uint32_t scope_id)
{
	memset(ifa, 0, sizeof(*ifa));
	snprintf(ifa->name, sizeof(ifa->name), "%s", name);
	ifa->family = (sa_family_t)family;
	inet_pton(family, addr, ifa->addr);
	ifa->scope_id = scope_id;
}

/* The image parses text against s's list: rc, and the first diagnostic. */
static int
image_parse(struct conf_sealed *s, const char *text, struct conf **conf,
    struct diags *dg)
{
	int fd = sealed_fd(s, text), rc;

	memset(dg, 0, sizeof(*dg));
	*conf = NULL;
	rc = fd >= 0 ? conf_parse_sealed(fd, conf, collect, dg) : -1000;
	if (fd >= 0)
		close(fd);
	return rc;
}

static void
test_recorded(void)
{
	struct conf *conf = NULL;
	struct diags dg;
	char a[64];
	int rc;

	memset(&sealed, 0, sizeof(sealed));
	sealed.if_state = SEALED_IF_LIST;
	sealed.n_if = 1;
	ifaddr_set(&sealed.ifs[0], "eth9", AF_INET, "198.51.100.7", 0);
	rc = image_parse(&sealed, "interface - - 198.51.100.7\n"
	    "permit - - - - - -\n", &conf, &dg);
	CHECK(rc == 0 && strcmp(local_for(conf, "10.1.1.1", NULL, a,
	    sizeof(a)), "198.51.100.7") == 0, "an address this host does not "
	    "have is owned when the list says so (%d, %s)", rc, dg.first);
	conf_free(conf);
	rc = image_parse(&sealed, "interface - - lo\npermit - - - - - -\n",
	    &conf, &dg);
	CHECK(rc == ERR_CONFIG && strstr(dg.first, "interface 'lo' has no "
	    "IPv4 address on this host") == dg.first, "a list without lo: lo "
	    "is unknown, though the host has it: %s", dg.first);
	rc = image_parse(&sealed, "interface - - 192.0.2.2\n"
	    "permit - - - - - -\n", &conf, &dg);
	CHECK(rc == ERR_CONFIG && strstr(dg.first, "interface address "
	    "192.0.2.2 is not an address of this host") == dg.first,
	    "nor is any other address of the host: %s", dg.first);

	memset(&sealed, 0, sizeof(sealed));
	sealed.if_state = SEALED_IF_FAILED;
	sealed.if_error = EACCES;
	rc = image_parse(&sealed, "interface - - lo\npermit - - - - - -\n",
	    &conf, &dg);
	CHECK(rc == ERR_CONFIG && strcmp(dg.first, "cannot list this host's "
	    "addresses to check the interface address: Permission denied") ==
	    0, "the master's failure, with its errno: %s", dg.first);

	memset(&sealed, 0, sizeof(sealed));
	rc = image_parse(&sealed, "interface - - lo\npermit - - - - - -\n",
	    &conf, &dg);
	CHECK(rc == ERR_CONFIG && dg.errors == 1 && strstr(dg.first,
	    "no list of this host's addresses was recorded") != NULL,
	    "no list sealed: a line that needs one is refused: %s", dg.first);
}

/* ---- the section's encoding ---- */

/* The offsets of the section for the path "/etc/socks5.conf" and no
 * services: the state byte, the count, then eth0's IPv4 entry (10
 * bytes) and its IPv6 one (26 bytes). */
#define OFF_IF (4 + 2 + 4 + 1 + 2 + 16 + 2)
#define OFF_E0 (OFF_IF + 3)
#define OFF_E1 (OFF_E0 + 10)

/* The head of enc up to the section, then n entries of name_len bytes
 * ("e000x..."), family byte fam (4 or 6) with 4 or 16 zero bytes, a
 * scope when with_scope, and an empty file. */
static size_t
if_bytes(const uint8_t *head, uint8_t *out, size_t cap, size_t n,
    size_t name_len, uint8_t fam, bool with_scope)
{
	static const uint8_t zero[16];
	char name[32];
	struct wr w;
	size_t i;

	wr_init(&w, out, cap);
	if (wr_bytes(&w, head, OFF_IF) != 0 || wr_u8(&w, 1) != 0 ||
	    wr_u16be(&w, (uint16_t)n) != 0)
		return 0;
	for (i = 0; i < n; i++) {
		memset(name, 'x', sizeof(name));
		snprintf(name, sizeof(name), "e%03zu", i % 1000);
		name[4] = 'x';
		if (wr_u8(&w, (uint8_t)name_len) != 0 ||
		    wr_bytes(&w, name, name_len) != 0 || wr_u8(&w, fam) != 0 ||
		    wr_bytes(&w, zero, fam == 6 ? 16 : 4) != 0 ||
		    (with_scope && wr_u32be(&w, 5) != 0))
			return 0;
	}
	return wr_u32be(&w, 0) == 0 ? w.off : 0;
}

static void
test_decode(void)
{
	static uint8_t enc[256], bad[200 * 1024];
	static struct conf_sealed s;
	size_t len = 0, i, cut_ok = 0;
	static const struct { size_t off; uint8_t val; const char *what; }
	    rows[] = {
		{ OFF_IF, 3, "an unknown state" },
		{ OFF_IF + 2, 3, "more addresses than there are" },
		{ OFF_E0, 0, "an empty name" },
		{ OFF_E0 + 1, ' ', "a space in a name" },
		{ OFF_E0 + 2, 0, "a NUL in a name" },
		{ OFF_E0 + 3, 0x7f, "a DEL in a name" },
		{ OFF_E0 + 4, 0xc3, "a byte above 0x7e in a name" },
		{ OFF_E0 + 5, 0, "family 0" },
		{ OFF_E0 + 5, 5, "family 5" },
		{ OFF_E0 + 5, AF_INET, "AF_INET's own number (2)" },
		{ OFF_E1 + 5, AF_INET6, "AF_INET6's own number (10)" },
	};

	memset(&s, 0, sizeof(s));
	s.if_state = SEALED_IF_LIST;
	s.n_if = 2;
	ifaddr_set(&s.ifs[0], "eth0", AF_INET, "192.0.2.2", 0);
	ifaddr_set(&s.ifs[1], "eth0", AF_INET6, "fe80::1", 0x01020304);
	snprintf(s.path, sizeof(s.path), "/etc/socks5.conf");
	CHECK(conf_sealed_encode(&s, enc, sizeof(enc), &len) == 0 &&
	    len == OFF_E1 + 26 + 4 && len == conf_sealed_size(&s),
	    "an IPv4 entry is 10 bytes, an IPv6 one 26 (%zu)", len);
	CHECK(enc[OFF_E0 + 5] == 4 && enc[OFF_E1 + 5] == 6 &&
	    memcmp(enc + OFF_E1 + 22, "\1\2\3\4", 4) == 0,
	    "families 4 and 6; the scope after the IPv6 address only");
	CHECK(conf_sealed_decode(enc, len, &s) == 0 && s.n_if == 2 &&
	    s.if_state == SEALED_IF_LIST && s.ifs[0].family == AF_INET &&
	    s.ifs[0].scope_id == 0 && s.ifs[1].family == AF_INET6 &&
	    s.ifs[1].scope_id == 0x01020304 && strcmp(s.ifs[1].name, "eth0") ==
	    0 && memcmp(s.ifs[0].addr, "\300\0\2\2", 4) == 0,
	    "it decodes to the same list");
	for (i = 0; i < len; i++)
		if (conf_sealed_decode(enc, i, &s) == 0)
			cut_ok++;
	CHECK(cut_ok == 0, "every truncated prefix is refused");
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		memcpy(bad, enc, len);
		bad[rows[i].off] = rows[i].val;
		CHECK(conf_sealed_decode(bad, len, &s) == ERR_PROTO,
		    "%s is refused", rows[i].what);
	}

	/* A failure: errno 1-4095 only. */
	memcpy(bad, enc, OFF_IF);
	memcpy(bad + OFF_IF, "\2\0\15\0\0\0\0", 7);
	CHECK(conf_sealed_decode(bad, OFF_IF + 7, &s) == 0 &&
	    s.if_state == SEALED_IF_FAILED && s.if_error == EACCES &&
	    s.n_if == 0, "a failure with EACCES decodes");
	memcpy(bad + OFF_IF, "\2\0\0", 3);
	CHECK(conf_sealed_decode(bad, OFF_IF + 7, &s) == ERR_PROTO,
	    "a failure with errno 0 is refused");
	memcpy(bad + OFF_IF, "\2\x10\0", 3);
	CHECK(conf_sealed_decode(bad, OFF_IF + 7, &s) == ERR_PROTO,
	    "errno 4096 is refused");
	memcpy(bad + OFF_IF, "\2\x0f\xff", 3);
	CHECK(conf_sealed_decode(bad, OFF_IF + 7, &s) == 0 &&
	    s.if_error == 4095, "errno 4095 decodes");

	/* One bound at a time. */
	CHECK((len = if_bytes(enc, bad, sizeof(bad), 1, 15, 4, false)) > 0 &&
	    conf_sealed_decode(bad, len, &s) == 0 &&
	    strlen(s.ifs[0].name) == 15, "a 15-byte name decodes");
	CHECK((len = if_bytes(enc, bad, sizeof(bad), 1, 16, 4, false)) > 0 &&
	    conf_sealed_decode(bad, len, &s) == ERR_PROTO,
	    "a 16-byte name (IFNAMSIZ) is refused");
	CHECK((len = if_bytes(enc, bad, sizeof(bad), 1, 4, 4, true)) > 0 &&
	    conf_sealed_decode(bad, len, &s) == ERR_PROTO,
	    "an IPv4 entry with a scope is refused");
	CHECK((len = if_bytes(enc, bad, sizeof(bad), 1, 4, 6, false)) > 0 &&
	    conf_sealed_decode(bad, len, &s) == ERR_PROTO,
	    "an IPv6 entry without one is refused");
	CHECK((len = if_bytes(enc, bad, sizeof(bad), CONF_SEALED_IF_MAX, 15,
	    6, true)) > 0 && conf_sealed_decode(bad, len, &s) == 0 &&
	    s.n_if == CONF_SEALED_IF_MAX, "4096 of the longest entries "
	    "decode");
	CHECK((len = if_bytes(enc, bad, sizeof(bad), CONF_SEALED_IF_MAX + 1,
	    4, 4, false)) > 0 && conf_sealed_decode(bad, len, &s) == ERR_PROTO,
	    "4097 are refused");
}

/* The encoder writes nothing the decoder refuses. */
static void
test_encode(void)
{
	static struct conf_sealed s;
	static uint8_t enc[512];
	size_t len;

	memset(&s, 0, sizeof(s));
	snprintf(s.path, sizeof(s.path), "/x");
	s.if_state = SEALED_IF_LIST;
	s.n_if = 1;
	ifaddr_set(&s.ifs[0], "eth0", AF_INET, "192.0.2.2", 0);
	CHECK(conf_sealed_encode(&s, enc, sizeof(enc), &len) == 0,
	    "encode: a list of one");
	s.ifs[0].scope_id = 1;
	CHECK(conf_sealed_encode(&s, enc, sizeof(enc), &len) == ERR_RANGE,
	    "encode: an IPv4 entry with a scope is refused");
	s.ifs[0].scope_id = 0;
	s.ifs[0].addr[15] = 1;
	CHECK(conf_sealed_encode(&s, enc, sizeof(enc), &len) == ERR_RANGE,
	    "encode: an IPv4 entry with bytes past the 4th is refused");
	s.ifs[0].addr[15] = 0;
	s.ifs[0].family = AF_UNIX;
	CHECK(conf_sealed_encode(&s, enc, sizeof(enc), &len) == ERR_RANGE,
	    "encode: AF_UNIX is refused");
	s.ifs[0].family = AF_INET;
	s.ifs[0].name[0] = '\0';
	CHECK(conf_sealed_encode(&s, enc, sizeof(enc), &len) == ERR_RANGE,
	    "encode: an empty name is refused");
	memcpy(s.ifs[0].name, "a b", 4);
	CHECK(conf_sealed_encode(&s, enc, sizeof(enc), &len) == ERR_RANGE,
	    "encode: a name with a space is refused");
	memset(s.ifs[0].name, 'a', sizeof(s.ifs[0].name));
	CHECK(conf_sealed_encode(&s, enc, sizeof(enc), &len) == ERR_RANGE,
	    "encode: a name without its NUL is refused");
	snprintf(s.ifs[0].name, sizeof(s.ifs[0].name), "eth0");
	s.n_if = CONF_SEALED_IF_MAX + 1;
	CHECK(conf_sealed_encode(&s, enc, sizeof(enc), &len) == ERR_RANGE,
	    "encode: 4097 addresses are refused");
	s.n_if = 1;
	s.if_state = SEALED_IF_NONE;
	CHECK(conf_sealed_encode(&s, enc, sizeof(enc), &len) == ERR_RANGE,
	    "encode: addresses without the list state are refused");
	s.n_if = 0;
	s.if_state = SEALED_IF_FAILED;
	CHECK(conf_sealed_encode(&s, enc, sizeof(enc), &len) == ERR_RANGE,
	    "encode: a failure without an errno is refused");
	s.if_error = 4096;
	CHECK(conf_sealed_encode(&s, enc, sizeof(enc), &len) == ERR_RANGE,
	    "encode: errno 4096 is refused");
	s.if_error = EACCES;
	CHECK(conf_sealed_encode(&s, enc, sizeof(enc), &len) == 0 &&
	    len == conf_sealed_size(&s) && conf_sealed_decode(enc, len, &s) ==
	    0 && s.if_error == EACCES, "encode: a failure round-trips");
	s.if_state = 3;
	CHECK(conf_sealed_encode(&s, enc, sizeof(enc), &len) == ERR_RANGE,
	    "encode: an unknown state is refused");
}

int
main(void)
{
	char dir[] = "/tmp/test_conf_sealed_ifaddrs.XXXXXX";

	if (mkdtemp(dir) == NULL) {
		CHECK(0, "mkdtemp");
		return unit_done();
	}
	test_host_round_trip(dir);
	test_host_changes(dir);
	test_bound(dir);
	test_recorded();
	test_decode();
	test_encode();
	rmdir(dir);
	return unit_done();
}
