/*
 * auth.c - authentication of a request.
 */
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "token.h"
#include "util.h"

static struct db_stmt st_session = DB_STMT(
    "SELECT auth_session($1, $2, $3, $4)");
static struct db_stmt st_api_key = DB_STMT(
    "SELECT key_id, user_id, org_id, role, array_to_string(scopes, ',') "
    "FROM auth_api_key($1)");

static int
unauthorized(struct req *r, const char *code, const char *msg)
{
	resp_header(r, "WWW-Authenticate", "Bearer%s",
	    strcmp(code, "invalid_token") == 0 ? " error=\"invalid_token\"" : "");
	return req_fail(r, 401, code, "%s", msg);
}

static const char *
bearer(struct req *r)
{
	const char *h = req_header(r, "Authorization");

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	h += 7;
	while (*h == ' ')
		h++;
	return *h != '\0' ? h : NULL;
}

static int
with_api_key(struct req *r, const char *key)
{
	const char	*p[1];
	PGresult	*res;

	if (strlen(key) > 128)
		return unauthorized(r, "invalid_token", "the API key is not valid");
	p[0] = token_hash(r->a, key);
	if ((res = req_db(r, &st_api_key, 1, p)) == NULL) {
		if (r->status == 401)
			r->err_msg = "the API key is not valid";
		return -1;
	}
	if (PQntuples(res) != 1)
		return unauthorized(r, "invalid_token", "the API key is not valid");
	r->auth.api_key_id = PQgetvalue(res, 0, 0);
	r->auth.user_id = PQgetvalue(res, 0, 1);
	r->auth.org_id = PQgetvalue(res, 0, 2);
	r->auth.role = PQgetvalue(res, 0, 3);
	r->auth.scopes = PQgetvalue(res, 0, 4);
	return 0;
}

static int
with_access_token(struct req *r, const char *tok)
{
	struct token_claims	 c;
	const char		*why;

	if (token_verify(r->a, tok, &c, &why) != 0) {
		log_msg(LOG_DEBUG, "auth", r->request_id, "token refused: %s", why);
		return unauthorized(r, "invalid_token",
		    "the access token is invalid or expired");
	}
	r->auth.user_id = c.sub;
	r->auth.org_id = c.org;
	r->auth.role = c.role;
	r->auth.session_id = c.sid;
	r->guard = &st_session;
	r->guard_params[0] = c.sid;
	r->guard_params[1] = c.sub;
	r->guard_params[2] = c.org;
	r->guard_params[3] = c.role;
	r->guard_n = 4;
	return 0;
}

static bool
admin_key_ok(struct req *r)
{
	const char *k = req_header(r, "X-Admin-Key");

	if (k == NULL || *cfg.admin_api_key == '\0')
		return false;
	return ct_equal(k, strlen(k), cfg.admin_api_key, strlen(cfg.admin_api_key));
}

int
auth_require_scope(struct req *r, const char *scope)
{
	const char	*s = r->auth.scopes, *e;
	size_t		 n = strlen(scope);

	if (r->auth.api_key_id == NULL)
		return 0;	/* tokens of the user carry every scope */
	while (s != NULL && *s != '\0') {
		e = strchr(s, ',');
		if ((size_t)((e ? e : s + strlen(s)) - s) == n &&
		    strncmp(s, scope, n) == 0)
			return 0;
		s = e ? e + 1 : NULL;
	}
	return req_fail(r, 403, "insufficient_scope",
	    "this API key lacks the \"%s\" scope", scope);
}

int
auth_request(struct req *r, unsigned flags)
{
	const char *tok;

	if ((flags & R_ADMIN) && req_header(r, "X-Admin-Key") != NULL) {
		if (!admin_key_ok(r))
			return unauthorized(r, "invalid_admin_key",
			    "the admin key is not valid");
		r->auth.admin_key = true;
		r->auth.role = "admin";
		return 0;
	}
	if ((tok = bearer(r)) == NULL)
		return unauthorized(r, "unauthorized",
		    "authentication required: send Authorization: Bearer <token>");
	if (strncmp(tok, "lx_", 3) == 0) {
		if (!(flags & R_APIKEY))
			return unauthorized(r, "invalid_token",
			    "API keys are not accepted on this endpoint");
		if (with_api_key(r, tok) != 0)
			return -1;
	} else if (with_access_token(r, tok) != 0)
		return -1;
	if ((flags & R_ADMIN) && strcmp(r->auth.role, "admin") != 0)
		return req_fail(r, 403, "forbidden", "administrators only");
	return 0;
}
