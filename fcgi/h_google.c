/*
 * h_google.c - Google sign-in: OAuth 2.0 authorization code with PKCE.
 *
 *   GET  /api/v1/auth/google           302 to Google; state in a cookie
 *   GET  /api/v1/auth/google/callback  code -> tokens -> profile -> user;
 *                                      302 to the front end with a one-time
 *                                      code (never a token in a URL)
 *   POST /api/v1/auth/exchange         one-time code -> token pair
 */
#include <string.h>

#include <curl/curl.h>

#include "config.h"
#include "httpc.h"
#include "lexar.h"
#include "log.h"
#include "token.h"
#include "util.h"

#define STATE_COOKIE	"lexar_oauth_state"
#define COOKIE_PATH	"/api/v1/auth/google"

static struct db_stmt st_state_new = DB_STMT(
    "INSERT INTO oauth_states (state_hash, verifier, expires_at)"
    " VALUES ($1, $2, now() + interval '10 minutes')");
static struct db_stmt st_state_take = DB_STMT(
    "DELETE FROM oauth_states WHERE state_hash = $1 AND expires_at > now()"
    " RETURNING verifier");
static struct db_stmt st_link = DB_STMT(
    "SELECT status, user_id, ban_reason FROM google_link($1, $2, $3)");
static struct db_stmt st_exchange_new = DB_STMT(
    "INSERT INTO one_time_tokens (token_hash, purpose, user_id, expires_at)"
    " VALUES ($1, 'exchange', $2, now() + interval '60 seconds')");
static struct db_stmt st_exchange_take = DB_STMT(
    "WITH t AS (UPDATE one_time_tokens SET used_at = now() WHERE token_hash = $1"
    "   AND purpose = 'exchange' AND used_at IS NULL AND expires_at > now()"
    "   RETURNING user_id)"
    " SELECT u.id, u.email, u.name, u.locale, u.role, u.email_verified,"
    "  u.created_at, u.banned_at IS NOT NULL, u.ban_reason,"
    "  (SELECT m.org_id FROM org_members m JOIN orgs o ON o.id = m.org_id"
    "    WHERE m.user_id = u.id ORDER BY o.personal DESC, m.created_at LIMIT 1)"
    " FROM t JOIN users u ON u.id = t.user_id AND u.deleted_at IS NULL");

static char *
esc(struct arena *a, const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0), *out;

	if (e == NULL)
		die("out of memory");
	out = arena_strdup(a, e);
	curl_free(e);
	return out;
}

static bool
secure_cookies(void)
{
	return strncmp(cfg.public_url, "https://", 8) == 0;
}

static int
redirect(struct req *r, const char *location)
{
	resp_header(r, "Location", "%s", location);
	r->status = 302;
	return 0;
}

/* Back to the front end with ?error=code (and the state cookie cleared). */
static int
redirect_error(struct req *r, const char *code, const char *why)
{
	log_msg(LOG_WARN, "google_signin", r->request_id, "%s: %s", code, why);
	resp_header(r, "Set-Cookie", STATE_COOKIE "=; Path=" COOKIE_PATH
	    "; Max-Age=0; HttpOnly; SameSite=Lax%s", secure_cookies() ? "; Secure" : "");
	return redirect(r, arena_sprintf(r->a, "%s/auth/callback?error=%s",
	    cfg.frontend_url, code));
}

/* GET /api/v1/auth/google */
int
h_auth_google(struct req *r)
{
	unsigned char	 md[32];
	char		*state, *verifier, *state_hash, challenge[48];
	const char	*p[2];

	if (*cfg.google_client_id == '\0')
		return req_fail(r, 404, "not_found", "Google sign-in is not configured");
	state = token_random(r->a, "", 32, &state_hash);
	verifier = token_random(r->a, "", 32, NULL);
	sha256_raw(md, verifier, strlen(verifier));
	b64url_encode(challenge, md, sizeof(md));
	p[0] = state_hash;
	p[1] = verifier;
	if (req_db(r, &st_state_new, 2, p) == NULL)
		return -1;
	resp_header(r, "Set-Cookie", STATE_COOKIE "=%s; Path=" COOKIE_PATH
	    "; Max-Age=600; HttpOnly; SameSite=Lax%s", state,
	    secure_cookies() ? "; Secure" : "");
	return redirect(r, arena_sprintf(r->a, "%s?response_type=code&client_id=%s"
	    "&redirect_uri=%s&scope=openid%%20email%%20profile&state=%s"
	    "&code_challenge=%s&code_challenge_method=S256&prompt=select_account",
	    cfg.google_auth_url, esc(r->a, cfg.google_client_id),
	    esc(r->a, cfg.google_redirect_uri), state, challenge));
}

/* The value of one cookie from the Cookie header, or NULL. */
static const char *
cookie(struct req *r, const char *name)
{
	const char	*h = req_header(r, "Cookie"), *p, *e;
	size_t		 n = strlen(name);

	for (p = h; p != NULL && *p != '\0'; p = e ? e + 1 : NULL) {
		while (*p == ' ')
			p++;
		e = strchr(p, ';');
		if (strncmp(p, name, n) == 0 && p[n] == '=')
			return arena_strndup(r->a, p + n + 1,
			    e ? (size_t)(e - p - n - 1) : strlen(p + n + 1));
	}
	return NULL;
}

static json_object *
json_body(struct req *r, struct httpc_resp *resp)
{
	const char	*why;
	json_object	*o;

	if ((o = json_parse(resp->body->data, resp->body->len, &why)) == NULL)
		return NULL;
	jarena(r->a, o);
	return json_object_is_type(o, json_type_object) ? o : NULL;
}

static const char *
jget(json_object *o, const char *k)
{
	json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* Code -> access token -> UserInfo profile. NULL on failure (logged). */
static json_object *
google_profile(struct req *r, const char *code, const char *verifier)
{
	struct httpc_req	 in = { 0 };
	struct httpc_resp	 resp;
	struct curl_slist	*h = NULL;
	json_object		*o;
	const char		*at;
	char			*form;

	form = arena_sprintf(r->a, "grant_type=authorization_code&code=%s"
	    "&redirect_uri=%s&client_id=%s&client_secret=%s&code_verifier=%s",
	    esc(r->a, code), esc(r->a, cfg.google_redirect_uri),
	    esc(r->a, cfg.google_client_id), esc(r->a, cfg.google_client_secret),
	    esc(r->a, verifier));
	h = curl_slist_append(h, "Content-Type: application/x-www-form-urlencoded");
	h = curl_slist_append(h, "Accept: application/json");
	in.method = "POST";
	in.url = cfg.google_token_url;
	in.headers = h;
	in.body = form;
	in.body_len = strlen(form);
	in.timeout_ms = 10000;
	in.max_response = 64 * 1024;
	in.upstream = UP_GOOGLE;
	if (httpc_do(r, &in, &resp) != 0 || resp.status != 200 ||
	    (o = json_body(r, &resp)) == NULL || (at = jget(o, "access_token")) == NULL) {
		curl_slist_free_all(h);
		log_msg(LOG_WARN, "google_token", r->request_id,
		    "token exchange failed: status %ld %s", resp.status, resp.error);
		return NULL;
	}
	curl_slist_free_all(h);
	h = curl_slist_append(NULL, arena_sprintf(r->a, "Authorization: Bearer %s", at));
	in.method = "GET";
	in.url = cfg.google_userinfo_url;
	in.headers = h;
	in.body = NULL;
	in.body_len = 0;
	o = NULL;
	if (httpc_do(r, &in, &resp) != 0 || resp.status != 200 ||
	    (o = json_body(r, &resp)) == NULL)
		log_msg(LOG_WARN, "google_userinfo", r->request_id,
		    "profile request failed: status %ld %s", resp.status, resp.error);
	curl_slist_free_all(h);
	return o;
}

/* GET /api/v1/auth/google/callback?code&state */
int
h_auth_google_callback(struct req *r)
{
	const char	*code = req_query(r, "code"), *state = req_query(r, "state");
	const char	*c = cookie(r, STATE_COOKIE), *sub, *email, *name, *p[3];
	char		*verifier, *norm, *once, *once_hash;
	json_object	*prof, *ev;
	PGresult	*res;

	if (*cfg.google_client_id == '\0')
		return req_fail(r, 404, "not_found", "Google sign-in is not configured");
	if (req_query(r, "error") != NULL)
		return redirect_error(r, "access_denied", "the user or Google refused");
	if (code == NULL || state == NULL || c == NULL ||
	    !ct_equal(state, strlen(state), c, strlen(c)) || strlen(code) > 2048)
		return redirect_error(r, "invalid_state",
		    "state missing or not bound to this browser");
	p[0] = token_hash(r->a, state);
	if ((res = req_db(r, &st_state_take, 1, p)) == NULL)
		return -1;
	if (PQntuples(res) != 1)
		return redirect_error(r, "invalid_state", "unknown or expired state");
	verifier = arena_strdup(r->a, PQgetvalue(res, 0, 0));
	if ((prof = google_profile(r, code, verifier)) == NULL)
		return req_failed(r) ? -1 : redirect_error(r, "google_error",
		    "no profile from Google");
	sub = jget(prof, "sub");
	email = jget(prof, "email");
	name = jget(prof, "name");
	if (sub == NULL || *sub == '\0' || strlen(sub) > 255 || email == NULL ||
	    (norm = acct_email_normalize(r->a, email)) == NULL ||
	    !json_object_object_get_ex(prof, "email_verified", &ev) ||
	    !json_object_get_boolean(ev))
		return redirect_error(r, "unverified_email",
		    "Google gave no verified e-mail address");
	p[0] = sub;
	p[1] = norm;
	p[2] = name != NULL && strlen(name) <= 100 ? name : "";
	if ((res = req_db(r, &st_link, 3, p)) == NULL)
		return -1;
	if (strcmp(PQgetvalue(res, 0, 0), "ok") != 0)
		return redirect_error(r, "account_banned", "banned user");
	once = token_random(r->a, "", 32, &once_hash);
	p[0] = once_hash;
	p[1] = PQgetvalue(res, 0, 1);
	if (req_db(r, &st_exchange_new, 2, p) == NULL)
		return -1;
	resp_header(r, "Set-Cookie", STATE_COOKIE "=; Path=" COOKIE_PATH
	    "; Max-Age=0; HttpOnly; SameSite=Lax%s", secure_cookies() ? "; Secure" : "");
	return redirect(r, arena_sprintf(r->a, "%s/auth/callback?code=%s",
	    cfg.frontend_url, once));
}

/* POST /api/v1/auth/exchange {code} */
int
h_auth_exchange(struct req *r)
{
	static const char *const fields[] = { "code", NULL };
	const char	*code, *p[1];
	PGresult	*res;
	json_object	*out;

	jv_only(&r->v, r->json, fields);
	code = jv_string(&r->v, r->json, "code", JV_REQUIRED | JV_SINGLELINE, 1, 200, r->a);
	if (jv_failed(&r->v))
		return req_invalid(r);
	p[0] = token_hash(r->a, code);
	if ((res = req_db(r, &st_exchange_take, 1, p)) == NULL)
		return -1;
	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 9))
		return req_fail(r, 401, "invalid_token",
		    "the sign-in code is invalid, expired or already used");
	if (PQgetvalue(res, 0, 7)[0] == 't')
		return req_fail(r, 403, "account_banned", "this account is banned: %s",
		    PQgetvalue(res, 0, 8));
	out = jarena(r->a, json_object_new_object());
	json_object_object_add(out, "user", acct_user_json(res, 0, 0));
	if (acct_session_new(r, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 9),
	    PQgetvalue(res, 0, 4), out) != 0)
		return -1;
	return resp_json(r, 200, out);
}
