/*
 * h_me.c - the signed-in user: profile, password, sessions, deletion.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "lexar.h"
#include "password.h"
#include "util.h"

#define USER_COLS "u.id, u.email, u.name, u.locale, u.role, u.email_verified, " \
		  "u.created_at"

/* The session check and the user in one statement (hot path). */
static struct db_stmt st_me = DB_STMT(
    "SELECT * FROM me_get($1, $2, $3, $4)");
static struct db_stmt st_me_update = DB_STMT(
    "UPDATE users u SET name = coalesce($2, name), locale = coalesce($3, locale)"
    " WHERE id = $1 RETURNING " USER_COLS);
static struct db_stmt st_pw_get = DB_STMT(
    "SELECT password_hash, email FROM users WHERE id = $1");
static struct db_stmt st_pw_set = DB_STMT(
    "WITH u AS (UPDATE users SET password_hash = $2 WHERE id = $1 RETURNING id)"
    " UPDATE sessions SET revoked_at = now(), revoked_reason = 'password changed'"
    " WHERE user_id = (SELECT id FROM u) AND id <> $3 AND revoked_at IS NULL");
static struct db_stmt st_sessions = DB_STMT(
    "SELECT s.id, s.created_at, s.last_used_at, s.expires_at, s.user_agent,"
    " s.ip, s.created_at::text FROM sessions s"
    " WHERE s.user_id = $1 AND s.revoked_at IS NULL AND s.expires_at > now()"
    " AND ($2::timestamptz IS NULL OR (s.created_at, s.id) < ($2::timestamptz, $3::uuid))"
    " ORDER BY s.created_at DESC, s.id DESC LIMIT $4");
static struct db_stmt st_shared_owned = DB_STMT(
    "SELECT o.id FROM orgs o JOIN org_members m ON m.org_id = o.id"
    " WHERE m.user_id = $1 AND m.role = 'owner'"
    " AND NOT EXISTS (SELECT 1 FROM org_members x WHERE x.org_id = o.id"
    "   AND x.user_id <> $1 AND x.role = 'owner')"
    " AND EXISTS (SELECT 1 FROM org_members x WHERE x.org_id = o.id AND x.user_id <> $1)");
static struct db_stmt st_delete_user = DB_STMT(
    "WITH solo AS (DELETE FROM orgs o WHERE o.id IN (SELECT m.org_id FROM org_members m"
    "   WHERE m.user_id = $1) AND NOT EXISTS (SELECT 1 FROM org_members x"
    "   WHERE x.org_id = o.id AND x.user_id <> $1) RETURNING o.id),"
    " mem AS (DELETE FROM org_members WHERE user_id = $1"
    "   AND org_id NOT IN (SELECT id FROM solo)),"
    " ses AS (UPDATE sessions SET revoked_at = now(), revoked_reason = 'account deleted'"
    "   WHERE user_id = $1 AND revoked_at IS NULL),"
    " keys AS (DELETE FROM api_keys WHERE user_id = $1),"
    " tok AS (DELETE FROM one_time_tokens WHERE user_id = $1)"
    " UPDATE users SET email = 'deleted-' || id || '@deleted.invalid', name = '',"
    "  password_hash = NULL, google_sub = NULL, email_verified = false,"
    "  deleted_at = now() WHERE id = $1 AND deleted_at IS NULL RETURNING id");

/* GET /api/v1/me */
int
h_me_get(struct req *r)
{
	PGresult	*res;
	json_object	*out, *org;

	if ((res = req_db_guarding(r, &st_me, 0, NULL)) == NULL)
		return -1;
	if (PQntuples(res) != 1)
		return req_fail(r, 404, "not_found", "no such user");
	out = jarena(r->a, acct_user_json(res, 0, 0));
	org = json_object_new_object();
	json_object_object_add(org, "id", jpg_str(res, 0, 7));	/* me_get() */
	json_object_object_add(org, "name", jpg_str(res, 0, 8));
	json_object_object_add(org, "personal", jpg_bool(res, 0, 9));
	json_object_object_add(org, "role", jpg_str(res, 0, 10));
	json_object_object_add(out, "org", org);
	org = json_object_new_object();		/* today's allowance (UTC day) */
	json_object_object_add(org, "plan", jpg_str(res, 0, 11));
	json_object_object_add(org, "daily_limit", jpg_int(res, 0, 12));
	json_object_object_add(org, "used_today", jpg_int(res, 0, 13));
	json_object_object_add(org, "remaining_today", json_object_new_int(
	    atoi(PQgetvalue(res, 0, 12)) > atoi(PQgetvalue(res, 0, 13)) ?
	    atoi(PQgetvalue(res, 0, 12)) - atoi(PQgetvalue(res, 0, 13)) : 0));
	json_object_object_add(out, "usage", org);
	return resp_json(r, 200, out);
}

/* BCP 47-ish: "en", "pt-BR", "zh-Hant-TW". */
static bool
locale_ok(const char *s)
{
	size_t i, seg = 0;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == '-') {
			if (seg < 2 || seg > 8)
				return false;
			seg = 0;
		} else if (isalnum((unsigned char)s[i]) && (i > 1 || isalpha((unsigned char)s[i])))
			seg++;
		else
			return false;
	}
	return seg >= 2 && seg <= 8 && i <= 35;
}

/* PATCH /api/v1/me {name?, locale?} - nothing else may be changed here. */
int
h_me_update(struct req *r)
{
	static const char *const fields[] = { "name", "locale", NULL };
	const char	*name, *locale, *p[3];
	PGresult	*res;

	jv_only(&r->v, r->json, fields);
	name = jv_string(&r->v, r->json, "name", JV_TRIM | JV_SINGLELINE, 0, 100, r->a);
	locale = jv_string(&r->v, r->json, "locale", JV_TRIM, 2, 35, r->a);
	if (locale != NULL && !locale_ok(locale))
		jv_error(&r->v, "locale", "must be a language tag like en or pt-BR");
	if (jv_failed(&r->v))
		return req_invalid(r);
	p[0] = r->auth.user_id;
	p[1] = name;
	p[2] = locale;
	if ((res = req_db(r, &st_me_update, 3, p)) == NULL)
		return -1;
	if (PQntuples(res) != 1)
		return req_fail(r, 404, "not_found", "no such user");
	return resp_json(r, 200, jarena(r->a, acct_user_json(res, 0, 0)));
}

/* Check the caller's current password (field): 0, or -1 with 422. */
static int
recheck_password(struct req *r, const char *field, const char *pw,
    const char **email)
{
	const char	*p[1] = { r->auth.user_id };
	const char	*stored;
	PGresult	*res;

	if ((res = req_db(r, &st_pw_get, 1, p)) == NULL)
		return -1;
	if (PQntuples(res) != 1)
		return req_fail(r, 404, "not_found", "no such user");
	stored = PQgetisnull(res, 0, 0) ? NULL : PQgetvalue(res, 0, 0);
	*email = PQgetvalue(res, 0, 1);
	req_db_release(r);
	if (stored == NULL && pw == NULL)
		return 0;	/* no password (Google account): caller decides */
	if (pw == NULL || !password_verify(stored, pw, strlen(pw))) {
		jv_error(&r->v, field, "is not correct");
		return req_invalid(r);
	}
	return 0;
}

/* POST /api/v1/me/password {current_password, new_password} */
int
h_me_password(struct req *r)
{
	static const char *const fields[] = { "current_password", "new_password", NULL };
	const char	*cur, *next, *email, *p[3];
	char		 hash[PASSWORD_HASH_MAX];

	jv_only(&r->v, r->json, fields);
	cur = jv_string(&r->v, r->json, "current_password", JV_NULLABLE, 1, 1024, r->a);
	next = jv_string(&r->v, r->json, "new_password", JV_REQUIRED, 1, 1024, r->a);
	if (jv_failed(&r->v))
		return req_invalid(r);
	if (recheck_password(r, "current_password", cur, &email) != 0)
		return -1;
	acct_password_check(r, "new_password", next, email);
	if (jv_failed(&r->v))
		return req_invalid(r);
	if (password_hash(next, strlen(next), hash) != 0)
		return req_internal(r, "password hashing failed");
	p[0] = r->auth.user_id;
	p[1] = hash;
	p[2] = r->auth.session_id;
	if (req_db(r, &st_pw_set, 3, p) == NULL)
		return -1;
	r->status = 204;
	return 0;
}

/* GET /api/v1/me/sessions - the user's live sessions. */
int
h_me_sessions(struct req *r)
{
	struct page	 pg;
	const char	*p[4];
	PGresult	*res;
	json_object	*out, *items, *s;
	int		 i, n;

	if (req_page(r, &pg, 20, 100) != 0)
		return -1;
	p[0] = r->auth.user_id;
	p[1] = pg.ts;
	p[2] = pg.id;
	p[3] = pg.fetch;
	if ((res = req_db(r, &st_sessions, 4, p)) == NULL)
		return -1;
	out = jarena(r->a, json_object_new_object());
	items = json_object_new_array();
	n = PQntuples(res);
	for (i = 0; i < n && i < pg.limit; i++) {
		s = json_object_new_object();
		json_object_object_add(s, "id", jpg_str(res, i, 0));
		json_object_object_add(s, "created_at", jpg_time(res, i, 1));
		json_object_object_add(s, "last_used_at", jpg_time(res, i, 2));
		json_object_object_add(s, "expires_at", jpg_time(res, i, 3));
		json_object_object_add(s, "user_agent", jpg_str(res, i, 4));
		json_object_object_add(s, "ip", jpg_str(res, i, 5));
		json_object_object_add(s, "current", json_object_new_boolean(
		    r->auth.session_id != NULL &&
		    strcmp(PQgetvalue(res, i, 0), r->auth.session_id) == 0));
		json_object_array_add(items, s);
	}
	json_object_object_add(out, "items", items);
	json_object_object_add(out, "next_cursor", n > pg.limit ? jstr(page_cursor(r->a,
	    PQgetvalue(res, pg.limit - 1, 6), PQgetvalue(res, pg.limit - 1, 0))) : NULL);
	return resp_json(r, 200, out);
}

/*
 * DELETE /api/v1/me {password} (or {confirm_email} for an account without
 * a password). Personal and solo organisations go with the account; the
 * user row stays, anonymised, so that usage records keep their owner.
 */
int
h_me_delete(struct req *r)
{
	static const char *const fields[] = { "password", "confirm_email", NULL };
	const char	*pw, *confirm, *email, *p[1] = { r->auth.user_id };
	PGresult	*res;

	jv_only(&r->v, r->json, fields);
	pw = jv_string(&r->v, r->json, "password", JV_NULLABLE, 1, 1024, r->a);
	confirm = jv_string(&r->v, r->json, "confirm_email", JV_NULLABLE | JV_TRIM,
	    1, 254, r->a);
	if (jv_failed(&r->v))
		return req_invalid(r);
	if (recheck_password(r, "password", pw, &email) != 0)
		return -1;
	if (pw == NULL && (confirm == NULL || strcasecmp(confirm, email) != 0)) {
		jv_error(&r->v, "confirm_email", "must repeat the account's e-mail address");
		return req_invalid(r);
	}
	if (req_db_begin(r) != 0 || (res = req_db(r, &st_shared_owned, 1, p)) == NULL)
		return -1;
	if (PQntuples(res) > 0)
		return req_fail(r, 409, "transfer_ownership",
		    "you are the only owner of %d shared organisation(s) (first: %s); "
		    "make someone else owner first", PQntuples(res), PQgetvalue(res, 0, 0));
	if ((res = req_db(r, &st_delete_user, 1, p)) == NULL || req_db_commit(r) != 0)
		return -1;
	r->status = 204;
	return 0;
}
