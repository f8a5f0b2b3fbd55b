/*
 * router.c - path matching for the static route table.
 */
#include <stdio.h>
#include <string.h>

#include "router.h"
#include "util.h"

static const struct {
	int		 m;
	const char	*name;
} methods[] = {
	{ M_GET, "GET" }, { M_HEAD, "HEAD" }, { M_POST, "POST" },
	{ M_PUT, "PUT" }, { M_PATCH, "PATCH" }, { M_DELETE, "DELETE" },
	{ M_OPTIONS, "OPTIONS" },
};

int
method_parse(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(s, methods[i].name) == 0)
			return methods[i].m;
	return 0;
}

const char *
method_name(int m)
{
	size_t i;

	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (methods[i].m == m)
			return methods[i].name;
	return "?";
}

void
method_allow_list(int mask, char *out, size_t size)
{
	size_t	i, o = 0;
	int	n;

	out[0] = '\0';
	if (mask & M_GET)
		mask |= M_HEAD;
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		if (!(mask & methods[i].m))
			continue;
		n = snprintf(out + o, size - o, "%s%s", o ? ", " : "",
		    methods[i].name);
		if (n < 0 || (size_t)n >= size - o)
			break;
		o += (size_t)n;
	}
}

static bool
param_is_id(const char *name, size_t n)
{
	return (n == 2 && memcmp(name, "id", 2) == 0) ||
	    (n > 3 && memcmp(name + n - 3, "_id", 3) == 0);
}

static bool
token_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '~' ||
	    c == '-';
}

/* Is s[0..n) acceptable for parameter name[0..nlen)? */
static bool
param_ok(const char *name, size_t nlen, const char *s, size_t n)
{
	char	tmp[37];
	size_t	i;

	if (param_is_id(name, nlen)) {
		if (n != 36)
			return false;
		memcpy(tmp, s, 36);
		tmp[36] = '\0';
		return uuid_valid(tmp);
	}
	if (n == 0 || n > 128)
		return false;
	if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
		return false;
	for (i = 0; i < n; i++)
		if (!token_char((unsigned char)s[i]))
			return false;
	return true;
}

/* Match one pattern against path, filling params. */
static bool
match_one(const char *pat, const char *path, struct route_match *m)
{
	const char	*pe, *se;
	size_t		 used = 0, plen, slen;

	m->nparams = 0;
	for (;;) {
		if (*pat != '/' || *path != '/')
			return false;
		pat++;
		path++;
		pe = strchr(pat, '/');
		if (pe == NULL)
			pe = pat + strlen(pat);
		se = strchr(path, '/');
		if (se == NULL)
			se = path + strlen(path);
		plen = (size_t)(pe - pat);
		slen = (size_t)(se - path);
		if (plen > 0 && *pat == ':') {
			if (!param_ok(pat + 1, plen - 1, path, slen) ||
			    m->nparams == ROUTE_MAX_PARAMS ||
			    used + slen + 1 > sizeof(m->buf))
				return false;
			memcpy(m->buf + used, path, slen);
			m->buf[used + slen] = '\0';
			m->names[m->nparams] = pat + 1;
			m->name_len[m->nparams] = plen - 1;
			m->values[m->nparams] = m->buf + used;
			m->nparams++;
			used += slen + 1;
		} else if (plen != slen || memcmp(pat, path, plen) != 0)
			return false;
		pat = pe;
		path = se;
		if (*pat == '\0' && *path == '\0')
			return true;
	}
}

int
route_match(const struct route *table, size_t n, int method, const char *path,
    struct route_match *m)
{
	size_t	i;
	int	want = method == M_HEAD ? M_GET : method;
	int	found = -1;

	m->index = -1;
	m->allowed = 0;
	m->nparams = 0;
	for (i = 0; i < n; i++) {
		if (!match_one(table[i].pattern, path, m))
			continue;
		m->allowed |= table[i].method;
		if (table[i].method == want && found < 0) {
			found = (int)i;
			break;
		}
	}
	if (found < 0) {
		m->nparams = 0;
		return -1;
	}
	m->index = found;
	return found;
}

int
route_table_check(const struct route *table, size_t n, char *err,
    size_t errlen)
{
	size_t		 i, j, np;
	const char	*p;

	for (i = 0; i < n; i++) {
		p = table[i].pattern;
		if (p[0] != '/' || strstr(p, "//") != NULL ||
		    (strlen(p) > 1 && p[strlen(p) - 1] == '/')) {
			snprintf(err, errlen, "route %zu: bad pattern %s", i, p);
			return -1;
		}
		for (np = 0; (p = strchr(p, ':')) != NULL; p++)
			np++;
		if (np > ROUTE_MAX_PARAMS) {
			snprintf(err, errlen, "route %s: too many parameters",
			    table[i].pattern);
			return -1;
		}
		if (method_name(table[i].method)[0] == '?' ||
		    table[i].handler == NULL) {
			snprintf(err, errlen, "route %s: bad method or handler",
			    table[i].pattern);
			return -1;
		}
		for (j = 0; j < i; j++) {
			if (table[j].method == table[i].method &&
			    strcmp(table[j].pattern, table[i].pattern) == 0) {
				snprintf(err, errlen, "route %s %s: duplicate",
				    method_name(table[i].method), table[i].pattern);
				return -1;
			}
		}
	}
	return 0;
}
