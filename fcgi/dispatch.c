/*
 * dispatch.c - route one request and enforce its route's flags.
 *
 * Order: path sanity -> route (404/405) -> flags (local, body, auth)
 * -> handler -> response. Handlers only see requests that passed.
 */
#include <string.h>

#include "auth.h"
#include "config.h"
#include "lexar.h"
#include "log.h"

/* nginx hands us a decoded, normalised $uri; refuse anything odd in it. */
static bool
path_ok(const char *p)
{
	const unsigned char *s = (const unsigned char *)p;

	if (*s != '/')
		return false;
	for (; *s != '\0'; s++) {
		if (*s < 0x20 || *s == 0x7f || *s == '\\')
			return false;
		if (s[0] == '/' && s[1] == '.' &&
		    (s[2] == '/' || s[2] == '\0' ||
		    (s[2] == '.' && (s[3] == '/' || s[3] == '\0'))))
			return false;
	}
	return (size_t)((const char *)s - p) <= 2048;
}

static int
route_request(struct req *r)
{
	char allow[96];

	if (!path_ok(r->path))
		return req_fail(r, 400, "invalid_path", "the request path is not valid");
	if (route_match(routes, nroutes, r->method, r->path, &r->match) >= 0) {
		r->route_index = r->match.index;
		r->route = &routes[r->match.index];
		if ((r->route->flags & R_LOCAL) && !req_is_local(r))
			return req_fail(r, 404, "not_found", "no such endpoint");
		return 0;
	}
	if (r->match.allowed == 0)
		return req_fail(r, 404, "not_found", "no such endpoint");
	method_allow_list(r->match.allowed, allow, sizeof(allow));
	resp_header(r, "Allow", "%s", allow);
	if (r->method == M_OPTIONS) {
		r->status = 204;
		return 0;
	}
	return req_fail(r, 405, "method_not_allowed",
	    "%s is not allowed here; allowed: %s", r->method_str, allow);
}

static int
read_body(struct req *r)
{
	const struct route	*rt = r->route;
	size_t			 max = rt->max_body ? rt->max_body :
				    (size_t)cfg.max_body_bytes;

	/* A body the endpoint does not take is drained and ignored. */
	if (!(rt->flags & (R_JSON | R_JSON_OPT)))
		return 0;
	if (req_read_body(r, max) != 0)
		return -1;
	return req_parse_json(r, (rt->flags & R_JSON) != 0);
}

/* The scope an API key needs for this route. */
static const char *
route_scope(struct req *r)
{
	if (strncmp(r->route->pattern, "/v1/", 4) == 0)
		return "llm";
	return r->method == M_GET || r->method == M_HEAD ? "read" : "write";
}

void
dispatch(struct req *r)
{
	int rc;

	rc = route_request(r);
	if (rc == 0 && r->route != NULL) {
		if (r->route->flags & (R_USER | R_APIKEY | R_ADMIN))
			rc = auth_request(r, r->route->flags);
		if (rc == 0 && r->auth.api_key_id != NULL)
			rc = auth_require_scope(r, route_scope(r));
		if (rc == 0)
			rc = read_body(r);
		if (rc == 0) {
			rc = r->route->handler(r);
			if (rc != 0 && !req_failed(r))
				req_internal(r, "handler %s returned an error without "
				    "recording one", r->route->pattern);
		}
		/* A session check not yet done (no statement ran) is done now. */
		if (r->guard != NULL && req_auth_confirm(r) != 0)
			buf_reset(r->out);
	}
	/* Never keep a pooled connection while writing to a slow client. */
	req_db_release(r);
	/* Unread input would confuse a kept-alive FastCGI connection. */
	req_drain_body(r);
	resp_finish(r);
	if (r->internal != NULL && r->status >= 500)
		log_msg(LOG_ERROR, r->err_code, r->request_id, "%s %s: %s",
		    r->method_str, r->route ? r->route->pattern : r->path,
		    r->internal);
}
