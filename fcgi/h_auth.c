/*
 * h_auth.c - registration, login, tokens, e-mail verification, password
 * reset, organisation switch.
 */
#include <math.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "lexar.h"
#include "log.h"
#include "password.h"
#include "token.h"
#include "util.h"

#define USER_COLS "u.id, u.email, u.name, u.locale, u.role, u.email_verified, " \
		  "u.created_at"

static struct db_stmt st_register = DB_STMT(
    "SELECT * FROM create_user($1, $2, $3, 'user', false, NULL)");
static struct db_stmt st_login_lookup = DB_STMT(
    "SELECT t.locked_until > now(),"
    "  ceil(extract(epoch FROM t.locked_until - now()))::bigint,"
    "  u.password_hash, u.banned_at IS NOT NULL, u.ban_reason,"
    "  (SELECT m.org_id FROM org_members m JOIN orgs o ON o.id = m.org_id"
    "    WHERE m.user_id = u.id ORDER BY o.personal DESC, m.created_at LIMIT 1), "
    USER_COLS
    " FROM (SELECT lower($1::text) AS e) x"
    " LEFT JOIN login_throttle t ON t.email = x.e"
    " LEFT JOIN users u ON lower(u.email) = x.e AND u.deleted_at IS NULL");
static struct db_stmt st_login_failed = DB_STMT(
    "INSERT INTO login_throttle AS t (email, failures) VALUES (lower($1), 1)"
    " ON CONFLICT (email) DO UPDATE SET failures = t.failures + 1,"
    "  updated_at = now(),"
    "  locked_until = CASE WHEN t.failures + 1 >= $2::int THEN now() +"
    "   make_interval(secs => least(900, power(2, t.failures + 1 - $2::int)))"
    "   ELSE t.locked_until END");
static struct db_stmt st_login_ok = DB_STMT(
    "DELETE FROM login_throttle WHERE email = lower($1)");
static struct db_stmt st_rehash = DB_STMT(
    "UPDATE users SET password_hash = $2 WHERE id = $1");
static struct db_stmt st_refresh = DB_STMT(
    "SELECT status, session_id, user_id, org_id, role, ban_reason"
    " FROM refresh_rotate($1, $2, $3)");
static struct db_stmt st_logout = DB_STMT(
    "UPDATE sessions SET revoked_at = now(), revoked_reason = 'logout'"
    " WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL");
static struct db_stmt st_logout_all = DB_STMT(
    "UPDATE sessions SET revoked_at = now(), revoked_reason = 'logout-all'"
    " WHERE user_id = $1 AND revoked_at IS NULL");
static struct db_stmt st_verify = DB_STMT(
    "WITH t AS (UPDATE one_time_tokens SET used_at = now()"
    "  WHERE token_hash = $1 AND purpose = 'verify' AND used_at IS NULL"
    "  AND expires_at > now() RETURNING user_id)"
    " UPDATE users SET email_verified = true WHERE id = (SELECT user_id FROM t)"
    "  AND deleted_at IS NULL RETURNING id");
static struct db_stmt st_user_by_id = DB_STMT(
    "SELECT " USER_COLS " FROM users u WHERE u.id = $1 AND u.deleted_at IS NULL");
static struct db_stmt st_user_for_reset = DB_STMT(
    "SELECT u.id, u.email FROM users u WHERE lower(u.email) = lower($1)"
    " AND u.deleted_at IS NULL");
static struct db_stmt st_reset_lookup = DB_STMT(
    "SELECT u.id, u.email FROM one_time_tokens t JOIN users u ON u.id = t.user_id"
    " WHERE t.token_hash = $1 AND t.purpose = 'reset' AND t.used_at IS NULL"
    " AND t.expires_at > now() AND u.deleted_at IS NULL");
static struct db_stmt st_reset_apply = DB_STMT(
    "WITH t AS (UPDATE one_time_tokens SET used_at = now()"
    "   WHERE token_hash = $1 AND purpose = 'reset' AND used_at IS NULL"
    "   AND expires_at > now() RETURNING user_id),"
    " u AS (UPDATE users SET password_hash = $2 WHERE id = (SELECT user_id FROM t)"
    "   RETURNING id, email),"
    " s AS (UPDATE sessions SET revoked_at = now(), revoked_reason = 'password reset'"
    "   WHERE user_id = (SELECT id FROM u) AND revoked_at IS NULL),"
    " o AS (UPDATE one_time_tokens SET used_at = now() WHERE purpose = 'reset'"
    "   AND user_id = (SELECT id FROM u) AND used_at IS NULL),"
    " l AS (DELETE FROM login_throttle WHERE email = (SELECT lower(email) FROM u))"
    " SELECT id FROM u");
static struct db_stmt st_switch_org = DB_STMT(
    "WITH m AS (SELECT m.role, o.name FROM org_members m JOIN orgs o ON o.id = m.org_id"
    "   WHERE m.org_id = $1 AND m.user_id = $2)"
    " UPDATE sessions SET org_id = $1 WHERE id = $3 AND EXISTS (SELECT 1 FROM m)"
    " RETURNING (SELECT role FROM m), (SELECT name FROM m)");

static const char *
client_field_str(struct req *r, const char *f, size_t max)
{
	return jv_string(&r->v, r->json, f, JV_REQUIRED | JV_SINGLELINE, 1, max, r->a);
}

/* POST /api/v1/auth/register {email, password, name?} */
int
h_auth_register(struct req *r)
{
	static const char *const fields[] = { "email", "password", "name", NULL };
	const char	*email, *pw, *name, *p[3];
	char		*norm = NULL, hash[PASSWORD_HASH_MAX];
	json_object	*out;
	PGresult	*res;

	jv_only(&r->v, r->json, fields);
	email = jv_string(&r->v, r->json, "email", JV_REQUIRED | JV_TRIM, 3, 254, r->a);
	pw = jv_string(&r->v, r->json, "password", JV_REQUIRED, 1, 1024, r->a);
	name = jv_string(&r->v, r->json, "name", JV_TRIM | JV_SINGLELINE | JV_NULLABLE,
	    0, 100, r->a);
	if (email != NULL && (norm = acct_email_normalize(r->a, email)) == NULL)
		jv_error(&r->v, "email", "must be a valid e-mail address");
	acct_password_check(r, "password", pw, norm);
	if (jv_failed(&r->v))
		return req_invalid(r);
	if (password_hash(pw, strlen(pw), hash) != 0)
		return req_internal(r, "password hashing failed");
	p[0] = norm;
	p[1] = name != NULL ? name : "";
	p[2] = hash;
	if ((res = req_db(r, &st_register, 3, p)) == NULL) {
		if (strcmp(r->sqlstate, SQLSTATE_UNIQUE) == 0)
			return req_fail(r, 409, "email_taken",
			    "an account with this e-mail address already exists");
		return -1;
	}
	if (PQntuples(res) != 1)
		return req_internal(r, "create_user returned no row");
	out = jarena(r->a, json_object_new_object());
	json_object_object_add(out, "user", acct_user_json(res, 0, 2));
	if (acct_session_new(r, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), "user",
	    out) != 0)
		return -1;
	acct_mail_token(r, PQgetvalue(res, 0, 0), norm, "verify");
	return resp_json(r, 201, out);
}

static int
invalid_credentials(struct req *r)
{
	return req_fail(r, 401, "invalid_credentials", "wrong e-mail or password");
}

/* POST /api/v1/auth/login {email, password} */
int
h_auth_login(struct req *r)
{
	static const char *const fields[] = { "email", "password", NULL };
	const char	*email, *pw, *p[2], *stored, *uid;
	char		*norm, hash[PASSWORD_HASH_MAX], maxf[16];
	json_object	*out;
	PGresult	*res;
	bool		 ok;

	jv_only(&r->v, r->json, fields);
	email = jv_string(&r->v, r->json, "email", JV_REQUIRED | JV_TRIM, 1, 254, r->a);
	pw = jv_string(&r->v, r->json, "password", JV_REQUIRED, 1, 1024, r->a);
	if (jv_failed(&r->v))
		return req_invalid(r);
	/* A malformed address is simply one that has no account. */
	norm = acct_email_normalize(r->a, email);
	p[0] = norm != NULL ? norm : email;
	if ((res = req_db(r, &st_login_lookup, 1, p)) == NULL)
		return -1;
	if (PQgetvalue(res, 0, 0)[0] == 't') {
		resp_header(r, "Retry-After", "%s", PQgetvalue(res, 0, 1));
		return req_fail(r, 429, "too_many_attempts",
		    "too many failed logins for this e-mail; try again in %s s",
		    PQgetvalue(res, 0, 1));
	}
	stored = PQgetisnull(res, 0, 2) ? NULL : PQgetvalue(res, 0, 2);
	uid = PQgetisnull(res, 0, 6) ? NULL : PQgetvalue(res, 0, 6);
	/* Same work whether the account exists or not. */
	req_db_release(r);
	ok = password_verify(stored, pw, strlen(pw)) && uid != NULL;
	if (!ok) {
		snprintf(maxf, sizeof(maxf), "%ld", cfg.login_max_failures);
		p[1] = maxf;
		if (req_db(r, &st_login_failed, 2, p) == NULL)
			return -1;
		return invalid_credentials(r);
	}
	if (PQgetvalue(res, 0, 3)[0] == 't')
		return req_fail(r, 403, "account_banned", "this account is banned: %s",
		    PQgetvalue(res, 0, 4));
	if (PQgetisnull(res, 0, 5))
		return invalid_credentials(r);
	if (req_db(r, &st_login_ok, 1, p) == NULL)
		return -1;
	if (password_needs_rehash(stored)) {
		req_db_release(r);
		if (password_hash(pw, strlen(pw), hash) == 0) {
			const char *rp[2] = { uid, hash };

			if (req_db(r, &st_rehash, 2, rp) == NULL)
				return -1;
			log_msg(LOG_INFO, "password_rehashed", r->request_id,
			    "upgraded the password hash of user %s", uid);
		}
	}
	out = jarena(r->a, json_object_new_object());
	json_object_object_add(out, "user", acct_user_json(res, 0, 6));
	if (acct_session_new(r, uid, PQgetvalue(res, 0, 5), PQgetvalue(res, 0, 10),
	    out) != 0)
		return -1;
	return resp_json(r, 200, out);
}

/* POST /api/v1/auth/refresh {refresh_token} */
int
h_auth_refresh(struct req *r)
{
	static const char *const fields[] = { "refresh_token", NULL };
	const char	*tok, *p[3], *status;
	char		*next, *next_hash, life[24];
	json_object	*out;
	PGresult	*res;

	jv_only(&r->v, r->json, fields);
	tok = client_field_str(r, "refresh_token", 200);
	if (jv_failed(&r->v))
		return req_invalid(r);
	next = token_random(r->a, "lxr_", 32, &next_hash);
	snprintf(life, sizeof(life), "%ld", cfg.jwt_refresh_expires_s);
	p[0] = token_hash(r->a, tok);
	p[1] = next_hash;
	p[2] = life;
	if ((res = req_db(r, &st_refresh, 3, p)) == NULL)
		return -1;
	status = PQgetvalue(res, 0, 0);
	if (strcmp(status, "reused") == 0) {
		log_msg(LOG_WARN, "refresh_reuse", r->request_id,
		    "refresh token presented twice; session %s of user %s revoked",
		    PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
		return req_fail(r, 401, "invalid_token",
		    "this refresh token was already used; the session is revoked");
	}
	if (strcmp(status, "banned") == 0)
		return req_fail(r, 403, "account_banned", "this account is banned: %s",
		    PQgetvalue(res, 0, 5));
	if (strcmp(status, "ok") != 0)
		return req_fail(r, 401, "invalid_token",
		    "the refresh token is invalid or expired");
	out = jarena(r->a, json_object_new_object());
	if (acct_access_token(r, PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3),
	    PQgetvalue(res, 0, 4), PQgetvalue(res, 0, 1), out) != 0)
		return -1;
	json_object_object_add(out, "refresh_token", json_object_new_string(next));
	json_object_object_add(out, "refresh_expires_in",
	    json_object_new_int64(cfg.jwt_refresh_expires_s));
	return resp_json(r, 200, out);
}

/* POST /api/v1/auth/logout - this session. */
int
h_auth_logout(struct req *r)
{
	const char *p[2] = { r->auth.session_id, r->auth.user_id };

	if (req_db(r, &st_logout, 2, p) == NULL)
		return -1;
	r->status = 204;
	return 0;
}

/* POST /api/v1/auth/logout-all - every session of the user. */
int
h_auth_logout_all(struct req *r)
{
	const char *p[1] = { r->auth.user_id };

	if (req_db(r, &st_logout_all, 1, p) == NULL)
		return -1;
	r->status = 204;
	return 0;
}

/* POST /api/v1/auth/verify {token} */
int
h_auth_verify(struct req *r)
{
	static const char *const fields[] = { "token", NULL };
	const char	*tok, *p[1];
	PGresult	*res;
	json_object	*out;

	jv_only(&r->v, r->json, fields);
	tok = client_field_str(r, "token", 200);
	if (jv_failed(&r->v))
		return req_invalid(r);
	p[0] = token_hash(r->a, tok);
	if ((res = req_db(r, &st_verify, 1, p)) == NULL)
		return -1;
	if (PQntuples(res) != 1) {
		jv_error(&r->v, "token", "is invalid, expired or already used");
		return req_invalid(r);
	}
	out = jarena(r->a, json_object_new_object());
	json_object_object_add(out, "email_verified", json_object_new_boolean(1));
	return resp_json(r, 200, out);
}

/* POST /api/v1/auth/verify/resend - a new verification e-mail. */
int
h_auth_verify_resend(struct req *r)
{
	const char	*p[1] = { r->auth.user_id };
	PGresult	*res;

	if ((res = req_db(r, &st_user_by_id, 1, p)) == NULL)
		return -1;
	if (PQntuples(res) != 1)
		return req_fail(r, 404, "not_found", "no such user");
	if (PQgetvalue(res, 0, 5)[0] == 't')
		return req_fail(r, 409, "already_verified", "the e-mail address is already verified");
	if (acct_mail_token(r, r->auth.user_id, PQgetvalue(res, 0, 1), "verify") != 0)
		return -1;
	return resp_raw(r, 202, "application/json", "{\"status\":\"sent\"}", 17);
}

/* POST /api/v1/auth/forgot {email} - always 202. */
int
h_auth_forgot(struct req *r)
{
	static const char *const fields[] = { "email", NULL };
	static const char body[] = "{\"status\":\"accepted\"}";
	const char	*email, *p[1];
	char		*norm;
	PGresult	*res;

	jv_only(&r->v, r->json, fields);
	email = jv_string(&r->v, r->json, "email", JV_REQUIRED | JV_TRIM, 1, 254, r->a);
	if (jv_failed(&r->v))
		return req_invalid(r);
	if ((norm = acct_email_normalize(r->a, email)) != NULL) {
		p[0] = norm;
		if ((res = req_db(r, &st_user_for_reset, 1, p)) == NULL)
			return -1;
		if (PQntuples(res) == 1 && acct_mail_token(r, PQgetvalue(res, 0, 0),
		    PQgetvalue(res, 0, 1), "reset") != 0)
			return -1;
	}
	return resp_raw(r, 202, "application/json", body, sizeof(body) - 1);
}

/* POST /api/v1/auth/reset {token, password} */
int
h_auth_reset(struct req *r)
{
	static const char *const fields[] = { "token", "password", NULL };
	const char	*tok, *pw, *p[2];
	char		 hash[PASSWORD_HASH_MAX];
	PGresult	*res;

	jv_only(&r->v, r->json, fields);
	tok = client_field_str(r, "token", 200);
	pw = jv_string(&r->v, r->json, "password", JV_REQUIRED, 1, 1024, r->a);
	if (jv_failed(&r->v))
		return req_invalid(r);
	p[0] = token_hash(r->a, tok);
	if ((res = req_db(r, &st_reset_lookup, 1, p)) == NULL)
		return -1;
	if (PQntuples(res) != 1) {
		jv_error(&r->v, "token", "is invalid, expired or already used");
		return req_invalid(r);
	}
	acct_password_check(r, "password", pw, PQgetvalue(res, 0, 1));
	if (jv_failed(&r->v))
		return req_invalid(r);
	req_db_release(r);
	if (password_hash(pw, strlen(pw), hash) != 0)
		return req_internal(r, "password hashing failed");
	p[1] = hash;
	if ((res = req_db(r, &st_reset_apply, 2, p)) == NULL)
		return -1;
	if (PQntuples(res) != 1) {	/* used by a concurrent request */
		jv_error(&r->v, "token", "is invalid, expired or already used");
		return req_invalid(r);
	}
	return resp_raw(r, 200, "application/json", "{\"status\":\"password_reset\"}", 27);
}

/* POST /api/v1/auth/switch-org {org_id} - an access token for another org. */
int
h_auth_switch_org(struct req *r)
{
	static const char *const fields[] = { "org_id", NULL };
	const char	*org, *p[3];
	PGresult	*res;
	json_object	*out, *o;

	jv_only(&r->v, r->json, fields);
	org = jv_string(&r->v, r->json, "org_id", JV_REQUIRED, 36, 36, r->a);
	if (org != NULL && !uuid_valid(org))
		jv_error(&r->v, "org_id", "must be a UUID");
	if (jv_failed(&r->v))
		return req_invalid(r);
	p[0] = org;
	p[1] = r->auth.user_id;
	p[2] = r->auth.session_id;
	if ((res = req_db(r, &st_switch_org, 3, p)) == NULL)
		return -1;
	if (PQntuples(res) != 1)
		return req_fail(r, 404, "not_found", "no such organisation");
	out = jarena(r->a, json_object_new_object());
	if (acct_access_token(r, r->auth.user_id, org, r->auth.role,
	    r->auth.session_id, out) != 0)
		return -1;
	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_string(org));
	json_object_object_add(o, "name", jpg_str(res, 0, 1));
	json_object_object_add(o, "role", jpg_str(res, 0, 0));
	json_object_object_add(out, "org", o);
	return resp_json(r, 200, out);
}
