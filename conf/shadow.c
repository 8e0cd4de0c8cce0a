/*
 * Lines that can never match (grammar 8): a line is shadowed when an
 * earlier line of the same section matches everything it matches, field by
 * field ("same or wider patterns").  The test is conservative: it never
 * calls a line shadowed when it is not, and it may miss unions (two earlier
 * lines that together cover a third).
 *
 * Comparing every pair would cost O(n^2) at every load; a 10,000-line file
 * would spend most of its load time here.  Instead each section keeps an
 * index of its lines keyed by their host pattern(s), and a new line looks
 * only in the buckets whose keys could cover it:
 *   -                    covered only by -
 *   address, mask len L  by -, by a non-contiguous mask (one "other"
 *                        bucket), and by each prefix length M <= L used in
 *                        the section, at the address cut to M bits
 *   host.name            by -, by the same name, by each .suffix of it
 *   .domain              by -, by each .suffix of it (itself included)
 * Sections with two host fields (permit/deny) key on the pair.  Each line
 * still gets the full field-by-field test before a warning.  A bucket is
 * walked oldest first, so the earliest covering line is named; the walk is
 * capped per line so that a file of near-identical lines stays linear.
 */
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "conf/conf_int.h"

#define NO_LINE UINT32_MAX
#define CAND_MAX 136          /* -, other, 129 prefix lengths, or suffixes */
#define COMPARE_MAX 1024      /* full comparisons per new line */

struct shadow {
	uint64_t *keys;           /* open addressing, linear probing */
	uint32_t *head, *tail;    /* head == NO_LINE: empty slot */
	size_t cap, used;
	uint32_t *next;           /* per line: the next line of its bucket */
	size_t next_cap;
	uint64_t lens[2][3];      /* prefix lengths 0-128 used, per host field */
};

static uint64_t
mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	h *= 0xbf58476d1ce4e5b9ULL;
	return h ^ (h >> 31);
}

enum { KEY_ANY = 1, KEY_OTHER, KEY_ADDR, KEY_NAME, KEY_SUFFIX };

static uint64_t
key_str(uint64_t tag, const char *s, size_t len)
{
	uint64_t h = mix(0, tag);
	size_t i;

	for (i = 0; i < len; i++)
		h = mix(h, (unsigned char)s[i]);
	return mix(h, len);
}

static uint64_t
key_addr(unsigned len, const struct naddr *addr)
{
	struct naddr mask;

	naddr_prefix(&mask, len);
	return mix(mix(mix(mix(0, KEY_ADDR), len), addr->w[0] & mask.w[0]),
	    addr->w[1] & mask.w[1]);
}

/* The bucket key of a pattern itself. */
static uint64_t
key_own(const struct hostpat *h)
{
	switch (h->kind) {
	case HP_ADDR:
		if (h->prefix_len == HP_NONCONTIG)
			return mix(0, KEY_OTHER);
		return key_addr(h->prefix_len, &h->addr);
	case HP_NAME:
		return key_str(KEY_NAME, h->name, h->name_len);
	case HP_SUFFIX:
		return key_str(KEY_SUFFIX, h->name, h->name_len);
	default:
		return mix(0, KEY_ANY);
	}
}

/* Leading one bits of a mask: the longest prefix inside it. */
static unsigned
mask_lead(const struct naddr *mask)
{
	uint8_t b[16];
	unsigned n = 0, i;

	memcpy(b, mask->w, sizeof(b));
	for (i = 0; i < 128 && ((b[i / 8] >> (7 - i % 8)) & 1); i++)
		n++;
	return n;
}

/* The keys of the patterns that could cover h; returns their count. */
static size_t
key_candidates(const struct shadow *sh, int side, const struct hostpat *h,
    uint64_t *out)
{
	size_t n = 0, k;
	unsigned len, lead;

	out[n++] = mix(0, KEY_ANY);
	switch (h->kind) {
	case HP_ADDR:
		out[n++] = mix(0, KEY_OTHER);
		lead = h->prefix_len == HP_NONCONTIG ? mask_lead(&h->mask) :
		    h->prefix_len;
		for (len = 0; len <= lead && n < CAND_MAX; len++)
			if ((sh->lens[side][len / 64] >> (len % 64)) & 1)
				out[n++] = key_addr(len, &h->addr);
		break;
	case HP_NAME:
	case HP_SUFFIX:
		if (h->kind == HP_NAME)
			out[n++] = key_str(KEY_NAME, h->name, h->name_len);
		for (k = 0; k < h->name_len && n < CAND_MAX; k++)
			if (h->name[k] == '.')
				out[n++] = key_str(KEY_SUFFIX, h->name + k,
				    h->name_len - k);
		break;
	default:
		break;
	}
	return n;
}

bool
hostpat_covers(const struct hostpat *wide, const struct hostpat *narrow)
{
	switch (wide->kind) {
	case HP_ANY:
		return true;
	case HP_ADDR:
		/* Every address narrow matches has wide's mask bits fixed
		 * to wide's values: wide's mask must be inside narrow's, and
		 * narrow's address must agree with wide on those bits. */
		return narrow->kind == HP_ADDR &&
		    (wide->mask.w[0] & ~narrow->mask.w[0]) == 0 &&
		    (wide->mask.w[1] & ~narrow->mask.w[1]) == 0 &&
		    (narrow->addr.w[0] & wide->mask.w[0]) == wide->addr.w[0] &&
		    (narrow->addr.w[1] & wide->mask.w[1]) == wide->addr.w[1];
	case HP_NAME:
		return narrow->kind == HP_NAME &&
		    narrow->name_len == wide->name_len &&
		    memcmp(narrow->name, wide->name, wide->name_len) == 0;
	case HP_SUFFIX:
		return (narrow->kind == HP_NAME || narrow->kind == HP_SUFFIX) &&
		    narrow->name_len >= wide->name_len &&
		    memcmp(narrow->name + narrow->name_len - wide->name_len,
		    wide->name, wide->name_len) == 0;
	default:
		return false;
	}
}

static bool
port_covers(struct portpat wide, struct portpat narrow)
{
	return wide.lo <= narrow.lo && narrow.hi <= wide.hi;
}

static bool
users_cover(const struct userlist *wide, const struct userlist *narrow)
{
	size_t i, j;

	if (wide->n == 0)
		return true;
	/* A list covers only a list; the pairwise test is quadratic, so
	 * very long lists are simply not compared (conservative). */
	if (narrow->n == 0 || narrow->n > 65536 / wide->n)
		return false;
	for (i = 0; i < narrow->n; i++) {
		for (j = 0; j < wide->n; j++)
			if (strcmp(narrow->names[i], wide->names[j]) == 0)
				break;
		if (j == wide->n)
			return false;
	}
	return true;
}

/* Methods and commands a request can actually carry. */
#define AUTH_USED(a) ((a) & (CONF_AUTH_NONE | CONF_AUTH_GSSAPI | \
    CONF_AUTH_USERPASS))
#define CMD_USED(c) ((c) & CONF_CMD_REQUEST)

static bool
line_covers(const struct conf *c, enum shadow_section s, size_t j, size_t i)
{
	const struct acl_line *wa, *na;

	switch (s) {
	case SH_BAN:
		return hostpat_covers(&c->bans[j].src, &c->bans[i].src) &&
		    port_covers(c->bans[j].sport, c->bans[i].sport);
	case SH_AUTH:
		/* The methods do not matter: the earlier line decides. */
		return hostpat_covers(&c->auths[j].src, &c->auths[i].src) &&
		    port_covers(c->auths[j].sport, c->auths[i].sport);
	case SH_IFACE:
		/* rules_interface skips lines of the other address family,
		 * so only a line of the same family shadows. */
		return c->ifaces[j].family == c->ifaces[i].family &&
		    hostpat_covers(&c->ifaces[j].peer, &c->ifaces[i].peer) &&
		    port_covers(c->ifaces[j].port, c->ifaces[i].port);
	case SH_PROXY:
		return hostpat_covers(&c->proxies[j].dst, &c->proxies[i].dst) &&
		    port_covers(c->proxies[j].dport, c->proxies[i].dport);
	case SH_ACL:
		wa = &c->acls[j];
		na = &c->acls[i];
		return (AUTH_USED(na->auth) & ~wa->auth) == 0 &&
		    (CMD_USED(na->cmd) & ~wa->cmd) == 0 &&
		    port_covers(wa->sport, na->sport) &&
		    port_covers(wa->dport, na->dport) &&
		    hostpat_covers(&wa->src, &na->src) &&
		    hostpat_covers(&wa->dst, &na->dst) &&
		    users_cover(&wa->users, &na->users);
	default:
		return false;
	}
}

/* The host field(s) a section is keyed on; h2 NULL for one-field sections;
 * *extra separates lines that can never shadow each other. */
static void
line_hosts(const struct conf *c, enum shadow_section s, size_t i,
    const struct hostpat **h1, const struct hostpat **h2, uint64_t *extra)
{
	static const struct hostpat any = { .kind = HP_ANY };

	*h2 = NULL;
	*extra = 0;
	switch (s) {
	case SH_BAN: *h1 = &c->bans[i].src; break;
	case SH_AUTH: *h1 = &c->auths[i].src; break;
	case SH_IFACE:
		*h1 = &c->ifaces[i].peer;
		*extra = c->ifaces[i].family;
		break;
	case SH_PROXY: *h1 = &c->proxies[i].dst; break;
	case SH_ACL:
		*h1 = &c->acls[i].src;
		*h2 = &c->acls[i].dst;
		break;
	default:
		*h1 = &any;   /* not reached: every section is listed */
		break;
	}
}

/* A line that matches nothing is reported by its own warnings (k, p/t)
 * and is neither checked nor able to shadow. */
static bool
line_matches_nothing(const struct conf *c, enum shadow_section s, size_t i)
{
	return s == SH_ACL && (AUTH_USED(c->acls[i].auth) == 0 ||
	    CMD_USED(c->acls[i].cmd) == 0);
}

/* The slot of key, or of the empty slot where it would go. */
static size_t
tab_slot(const struct shadow *sh, uint64_t key)
{
	size_t slot = (size_t)(key ^ (key >> 32)) & (sh->cap - 1);

	while (sh->head[slot] != NO_LINE && sh->keys[slot] != key)
		slot = (slot + 1) & (sh->cap - 1);
	return slot;
}

static int
tab_grow(struct shadow *sh)
{
	struct shadow old = *sh;
	size_t cap = sh->cap == 0 ? 64 : sh->cap * 2, i;

	if (cap > SIZE_MAX / sizeof(uint64_t))
		return ERR_NOMEM;
	sh->keys = malloc(cap * sizeof(*sh->keys));
	sh->head = malloc(cap * sizeof(*sh->head));
	sh->tail = malloc(cap * sizeof(*sh->tail));
	if (sh->keys == NULL || sh->head == NULL || sh->tail == NULL) {
		free(sh->keys);
		free(sh->head);
		free(sh->tail);
		sh->keys = old.keys;
		sh->head = old.head;
		sh->tail = old.tail;
		return ERR_NOMEM;
	}
	sh->cap = cap;
	for (i = 0; i < cap; i++)
		sh->head[i] = NO_LINE;
	for (i = 0; i < old.cap; i++) {
		size_t slot;

		if (old.head[i] == NO_LINE)
			continue;
		slot = tab_slot(sh, old.keys[i]);
		sh->keys[slot] = old.keys[i];
		sh->head[slot] = old.head[i];
		sh->tail[slot] = old.tail[i];
	}
	free(old.keys);
	free(old.head);
	free(old.tail);
	return 0;
}

static int
shadow_index(struct shadow *sh, uint64_t key, size_t line_idx)
{
	size_t slot;

	if ((sh->used + 1) * 2 > sh->cap && tab_grow(sh) != 0)
		return ERR_NOMEM;
	if (conf_grow((void **)&sh->next, &sh->next_cap, line_idx,
	    sizeof(*sh->next)) != 0)
		return ERR_NOMEM;
	sh->next[line_idx] = NO_LINE;
	slot = tab_slot(sh, key);
	if (sh->head[slot] == NO_LINE) {
		sh->keys[slot] = key;
		sh->head[slot] = (uint32_t)line_idx;
		sh->used++;
	} else {
		sh->next[sh->tail[slot]] = (uint32_t)line_idx;
	}
	sh->tail[slot] = (uint32_t)line_idx;
	return 0;
}

static void
note_lens(struct shadow *sh, int side, const struct hostpat *h)
{
	if (h != NULL && h->kind == HP_ADDR && h->prefix_len <= 128)
		sh->lens[side][h->prefix_len / 64] |=
		    (uint64_t)1 << (h->prefix_len % 64);
}

static size_t
section_count(const struct conf *c, enum shadow_section s)
{
	switch (s) {
	case SH_BAN: return c->n_bans;
	case SH_AUTH: return c->n_auths;
	case SH_IFACE: return c->n_ifaces;
	case SH_PROXY: return c->n_proxies;
	default: return c->n_acls;
	}
}

static unsigned
line_number(const struct conf *c, enum shadow_section s, size_t i)
{
	switch (s) {
	case SH_BAN: return c->bans[i].line;
	case SH_AUTH: return c->auths[i].line;
	case SH_IFACE: return c->ifaces[i].line;
	case SH_PROXY: return c->proxies[i].line;
	default: return c->acls[i].line;
	}
}

int
shadow_add(struct parser *p, enum shadow_section s)
{
	const struct conf *c = p->conf;
	size_t i = section_count(c, s) - 1, n1, n2, a, b, compares = 0;
	size_t best = NO_LINE;
	const struct hostpat *h1, *h2;
	uint64_t extra, k1[CAND_MAX], k2[CAND_MAX];
	struct shadow *sh;

	if (i >= NO_LINE)
		return 0;   /* past 4 billion lines: stop indexing */
	if ((sh = p->shadow[s]) == NULL) {
		if ((sh = calloc(1, sizeof(*sh))) == NULL)
			return ERR_NOMEM;
		p->shadow[s] = sh;
	}
	line_hosts(c, s, i, &h1, &h2, &extra);
	if (line_matches_nothing(c, s, i))
		return 0;
	n1 = key_candidates(sh, 0, h1, k1);
	n2 = h2 != NULL ? key_candidates(sh, 1, h2, k2) : 1;
	if (h2 == NULL)
		k2[0] = 0;
	for (a = 0; a < n1 && sh->cap > 0; a++) {
		for (b = 0; b < n2; b++) {
			size_t slot = tab_slot(sh, mix(mix(k1[a], k2[b]), extra));
			uint32_t j;

			if (sh->head[slot] == NO_LINE)
				continue;
			for (j = sh->head[slot]; j != NO_LINE && j < best &&
			    compares < COMPARE_MAX; j = sh->next[j]) {
				compares++;
				if (line_covers(c, s, j, i)) {
					best = j;
					break;
				}
			}
		}
	}
	if (best != NO_LINE)
		parser_warn(p, "this line can never match: line %u of the same "
		    "section matches everything it matches (same or wider "
		    "patterns)", line_number(c, s, best));
	note_lens(sh, 0, h1);
	note_lens(sh, 1, h2);
	return shadow_index(sh, mix(mix(key_own(h1),
	    h2 != NULL ? key_own(h2) : 0), extra), i);
}

void
shadow_release(struct parser *p)
{
	size_t s;

	for (s = 0; s < SH_COUNT; s++) {
		struct shadow *sh = p->shadow[s];

		if (sh == NULL)
			continue;
		free(sh->keys);
		free(sh->head);
		free(sh->tail);
		free(sh->next);
		free(sh);
		p->shadow[s] = NULL;
	}
}
