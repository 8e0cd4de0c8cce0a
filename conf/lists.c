/*
 * The comma-separated fields: auth methods (grammar 3.3), commands (3.4),
 * user lists (3.5) and proxy lists (4.5).  A list never contains spaces
 * (the line splitter already cut there) and never an empty element.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <string.h>

#include "common/err.h"
#include "conf/conf_int.h"

/* Walk the comma-separated elements of a field: list_next gives the next
 * one (possibly empty) and returns false when the list is exhausted. */
struct list_iter {
	const struct field *f;
	size_t off;
	bool done;
};

static bool
list_next(struct list_iter *it, const char **elem, size_t *len)
{
	const char *comma;
	size_t left;

	if (it->done)
		return false;
	left = it->f->len - it->off;
	*elem = it->f->s + it->off;
	comma = memchr(*elem, ',', left);
	if (comma == NULL) {
		*len = left;
		it->done = true;
	} else {
		*len = (size_t)(comma - *elem);
		it->off += *len + 1;
	}
	return true;
}

static int
list_empty_elem(struct parser *p, const struct field *f)
{
	char q[QUOTE_MAX];

	parser_error(p, "empty element in list '%s' (expected items separated "
	    "by single commas, without spaces)", conf_quote(q, f->s));
	return ERR_CONFIG;
}

static void
method_add(struct auth_spec *out, uint8_t code)
{
	size_t i;

	for (i = 0; i < out->n_methods; i++)
		if (out->methods[i] == code)
			return;
	if (out->n_methods < AUTH_METHODS_MAX)
		out->methods[out->n_methods++] = code;
}

int
pat_auth(struct parser *p, const struct field *f, struct auth_spec *out)
{
	struct list_iter it = { .f = f };
	const char *elem;
	size_t len;
	char q[QUOTE_MAX];

	memset(out, 0, sizeof(*out));
	while (list_next(&it, &elem, &len)) {
		if (len == 0)
			return list_empty_elem(p, f);
		/* Letters fold to lower case; '-' is compared as itself
		 * (OR-ing 0x20 into a CR would make it a '-'). */
		switch (len != 1 ? 0 : elem[0] == '-' ? '-' : elem[0] | 0x20) {
		case 'n':
			out->mask |= CONF_AUTH_NONE;
			method_add(out, 0x00);
			break;
		case 'u':
			out->mask |= CONF_AUTH_USERPASS;
			method_add(out, 0x02);
			break;
		case 'k':
			out->mask |= CONF_AUTH_GSSAPI;
			method_add(out, 0x01);
			break;
		case '-':
			/* Any supported method; user/password first, see
			 * rules_auth in conf.h for why. */
			out->mask |= CONF_AUTH_ALL;
			method_add(out, 0x02);
			method_add(out, 0x00);
			break;
		default:
			parser_error(p, "invalid auth methods '%s' (expected "
			    "n, u, k or -, comma-separated)",
			    conf_quote(q, f->s));
			return ERR_CONFIG;
		}
	}
	return 0;
}

int
pat_cmd(struct parser *p, const struct field *f, uint8_t *out)
{
	struct list_iter it = { .f = f };
	const char *elem;
	size_t len, i;
	char q[QUOTE_MAX];

	*out = 0;
	if (f->len == 1 && f->s[0] == '-') {
		*out = CONF_CMD_ALL;
		return 0;
	}
	/* Letters may run together (cb) or be comma-separated (c,b). */
	while (list_next(&it, &elem, &len)) {
		if (len == 0)
			return list_empty_elem(p, f);
		for (i = 0; i < len; i++) {
			switch (elem[i] | 0x20) {
			case 'c': *out |= CONF_CMD_CONNECT; break;
			case 'b': *out |= CONF_CMD_BIND; break;
			case 'u': *out |= CONF_CMD_UDP; break;
			case 'p': *out |= CONF_CMD_PING; break;
			case 't': *out |= CONF_CMD_TRACE; break;
			default:
				parser_error(p, "invalid command pattern '%s' "
				    "(expected -, or letters c, b, u, p, t, run "
				    "together or comma-separated)",
				    conf_quote(q, f->s));
				return ERR_CONFIG;
			}
		}
	}
	if (*out & (CONF_CMD_PING | CONF_CMD_TRACE))
		parser_warn(p, "commands 'p' and 't' (ping, traceroute) are not "
		    "supported: they never match a request");
	return 0;
}

static bool
user_name_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > CONF_USER_MAX || (len == 1 && s[0] == '-'))
		return false;
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		/* Printable, no separator, no comment character (grammar
		 * 1.2: no valid field contains '#'). */
		if (ch <= 0x20 || ch == 0x7f || ch == ',' || ch == '#')
			return false;
	}
	return true;
}

int
pat_users(struct parser *p, const struct field *f, struct userlist *out)
{
	struct list_iter it = { .f = f };
	const char *elem;
	size_t len, n = 0;
	char q[QUOTE_MAX];

	out->names = NULL;
	out->n = 0;
	if (f->len == 1 && f->s[0] == '-')
		return 0;
	while (list_next(&it, &elem, &len)) {
		if (len == 0)
			return list_empty_elem(p, f);
		if (!user_name_ok(elem, len)) {
			parser_error(p, "invalid user list '%s' (expected - or "
			    "user names of at most %u printable bytes, "
			    "comma-separated)", conf_quote(q, f->s),
			    CONF_USER_MAX);
			return ERR_CONFIG;
		}
		n++;
	}
	if ((out->names = conf_alloc(p->conf, n * sizeof(*out->names))) ==
	    NULL)
		return ERR_NOMEM;
	it = (struct list_iter){ .f = f };
	while (list_next(&it, &elem, &len)) {
		char *name = conf_strdup(p->conf, elem, len, false);

		if (name == NULL)
			return ERR_NOMEM;
		out->names[out->n++] = name;
	}
	return 0;
}

/* host[:port] or [v6][:port]; fills up->host without brackets. */
static bool
upstream_parse(const char *s, size_t len, struct conf_upstream *up)
{
	const char *host = s, *port = NULL, *colon;
	size_t host_len, port_len = 0;
	uint8_t v6[16];
	uint32_t v4;
	char text[INET6_ADDRSTRLEN];

	if (len > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', len);

		if (close == NULL)
			return false;
		host = s + 1;
		host_len = (size_t)(close - host);
		if (close + 1 < s + len) {
			if (close[1] != ':')
				return false;
			port = close + 2;
			port_len = len - (size_t)(port - s);
		}
		if (host_len == 0 || host_len >= sizeof(text))
			return false;
		memcpy(text, host, host_len);
		text[host_len] = '\0';
		if (inet_pton(AF_INET6, text, v6) != 1)
			return false;
	} else {
		colon = memchr(s, ':', len);
		host_len = colon == NULL ? len : (size_t)(colon - s);
		if (colon != NULL) {
			port = colon + 1;
			port_len = len - host_len - 1;
			/* A second ':' is an IPv6 address without brackets. */
			if (memchr(port, ':', port_len) != NULL)
				return false;
		}
		if (!pat_ipv4(host, host_len, &v4) &&
		    !pat_hostname_ok(host, host_len))
			return false;
	}
	if (host_len >= sizeof(up->host))
		return false;
	memcpy(up->host, host, host_len);
	up->host[host_len] = '\0';
	up->port = 1080;
	if (port != NULL && pat_port_value(port, port_len, &up->port) != 0)
		return false;
	return true;
}

int
pat_proxies(struct parser *p, const struct field *f,
    struct conf_upstream **out, size_t *n)
{
	struct list_iter it = { .f = f };
	const char *elem;
	size_t len, count = 0;
	struct conf_upstream *ups;
	char q[QUOTE_MAX];

	while (list_next(&it, &elem, &len)) {
		if (len == 0)
			return list_empty_elem(p, f);
		count++;
	}
	if ((ups = conf_alloc(p->conf, count * sizeof(*ups))) == NULL)
		return ERR_NOMEM;
	it = (struct list_iter){ .f = f };
	*n = 0;
	while (list_next(&it, &elem, &len)) {
		if (!upstream_parse(elem, len, &ups[*n])) {
			parser_error(p, "invalid upstream in proxy list '%s' "
			    "(expected host[:port] or [IPv6][:port], port "
			    "1-65535 or a service name, comma-separated)",
			    conf_quote(q, f->s));
			return ERR_CONFIG;
		}
		(*n)++;
	}
	*out = ups;
	return 0;
}
