/*
 * router.h - the static route table and its matcher.
 *
 * A route is {method, pattern, handler, flags, max_body}. Patterns are
 * literal segments and ":name" parameters:
 *   - a parameter named "id" or ending in "_id" must be a UUID;
 *   - any other parameter is 1..128 of [A-Za-z0-9._~-], not "." or "..".
 * The flags say what the dispatcher does before the handler runs; handlers
 * never repeat those checks.
 */
#ifndef LEXAR_ROUTER_H
#define LEXAR_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

struct req;

enum http_method {
	M_GET = 0x01, M_HEAD = 0x02, M_POST = 0x04, M_PUT = 0x08,
	M_PATCH = 0x10, M_DELETE = 0x20, M_OPTIONS = 0x40,
};

/* Route flags: what the dispatcher enforces. */
#define R_JSON		0x0001	/* body required: a JSON object (415/400) */
#define R_JSON_OPT	0x0002	/* body optional; if present, a JSON object */
#define R_LOCAL		0x0004	/* only from 127.0.0.1 / ::1 (else 404) */
#define R_USER		0x0010	/* user access token required (401) */
#define R_APIKEY	0x0020	/* an API key is accepted as well as a token */
#define R_ADMIN		0x0040	/* admin key or admin user (401/403) */
#define R_STREAM	0x0080	/* may answer with text/event-stream */
#define R_NOSTORE_OFF	0x0100	/* response may be cached (no Cache-Control: no-store) */
#define R_OPENAI	0x0200	/* errors also carry OpenAI's "type" and "param" */

#define ROUTE_MAX_PARAMS	4

typedef int (*route_fn)(struct req *r);

struct route {
	int		 method;	/* one M_* */
	const char	*pattern;
	route_fn	 handler;
	unsigned	 flags;
	size_t		 max_body;	/* 0 = server.max_body_bytes */
};

struct route_match {
	int		 index;		/* into the table; -1 when none */
	int		 allowed;	/* M_* mask of methods the path has */
	int		 nparams;
	const char	*names[ROUTE_MAX_PARAMS];	/* into the pattern */
	size_t		 name_len[ROUTE_MAX_PARAMS];
	const char	*values[ROUTE_MAX_PARAMS];	/* into buf */
	char		 buf[1024];			/* copies of values */
};

/*
 * Match method+path. Returns the route index, or -1 with m->allowed == 0
 * (no such path: 404) or m->allowed != 0 (path exists: 405).
 * HEAD matches GET routes.
 */
int		 route_match(const struct route *table, size_t n, int method,
		    const char *path, struct route_match *m);
/* Check a table at start: patterns well-formed, no duplicates. */
int		 route_table_check(const struct route *table, size_t n,
		    char *err, size_t errlen);
int		 method_parse(const char *s);
const char	*method_name(int m);
/* "GET, HEAD, POST" for an allowed mask, into out. */
void		 method_allow_list(int mask, char *out, size_t size);

#endif
