/*
 * h_admin_users.c - /admin/users: search, view, create, role and plan,
 * ban and unban, password reset, sessions, deletion, limit overrides.
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "lexar.h"
#include "password.h"
#include "util.h"

#define LIST_COLS "u.id, u.email, u.name, u.role, coalesce(p.name, 'free'), " \
	"u.banned_at IS NOT NULL, u.ban_reason, u.email_verified, u.created_at"
#define LIST_FROM " FROM users u LEFT JOIN plans p ON p.id = u.plan_id" \
	" WHERE u.deleted_at IS NULL" \
	" AND ($1::text IS NULL OR lower(u.email) LIKE $1 OR lower(u.name) LIKE $1)" \
	" AND ($2::text IS NULL OR u.role = $2)" \
	" AND ($3::text IS NULL OR coalesce(p.name, 'free') = $3)" \
	" AND ($4::boolean IS NULL OR (u.banned_at IS NOT NULL) = $4)" \
	" AND ($5::date IS NULL OR u.created_at >= $5::date)" \
	" AND ($6::date IS NULL OR u.created_at < $6::date + 1)" \
	" AND ($10::text IS NULL OR lower(u.email) = lower($10))"
/* Keyset pagination per sort: the key column, its type, the direction. */
#define LIST_SQL(key, type, cmp, dir) "SELECT " LIST_COLS ", " key "::text" LIST_FROM \
	" AND ($7::text IS NULL OR (" key ", u.id) " cmp " ($7::" type ", $8::uuid))" \
	" ORDER BY " key " " dir ", u.id " dir " LIMIT $9"

static struct db_stmt st_list[4] = {
	DB_STMT(LIST_SQL("u.created_at", "timestamptz", "<", "DESC")),
	DB_STMT(LIST_SQL("u.created_at", "timestamptz", ">", "ASC")),
	DB_STMT(LIST_SQL("lower(u.email)", "text", ">", "ASC")),
	DB_STMT(LIST_SQL("lower(u.email)", "text", "<", "DESC")),
};
static struct db_stmt st_view = DB_STMT(
    "SELECT u.id, u.email, u.name, u.locale, u.role, u.email_verified, u.created_at,"
    " coalesce(p.name, 'free'), u.banned_at, u.ban_reason,"
    " (SELECT row_to_json(l)::text FROM user_limits l WHERE l.user_id = u.id),"
    " (SELECT row_to_json(e)::text FROM effective_limits(u.id) e),"
    " coalesce((SELECT messages FROM usage_counters c WHERE c.user_id = u.id"
    "   AND c.day = (now() AT TIME ZONE 'UTC')::date), 0),"
    " (SELECT coalesce(json_agg(json_build_object('id', s.id, 'created_at', s.created_at,"
    "   'last_used_at', s.last_used_at, 'ip', s.ip, 'user_agent', s.user_agent)"
    "   ORDER BY s.created_at DESC), '[]')::text FROM sessions s WHERE s.user_id = u.id"
    "   AND s.revoked_at IS NULL AND s.expires_at > now()),"
    " (SELECT coalesce(json_agg(json_build_object('id', k.id, 'name', k.name,"
    "   'prefix', k.prefix, 'scopes', k.scopes, 'created_at', k.created_at,"
    "   'last_used_at', k.last_used_at, 'expires_at', k.expires_at)"
    "   ORDER BY k.created_at DESC), '[]')::text FROM api_keys k WHERE k.user_id = u.id"
    "   AND k.revoked_at IS NULL),"
    " u.deleted_at"
    " FROM users u LEFT JOIN plans p ON p.id = u.plan_id WHERE u.id = $1");
static struct db_stmt st_row = DB_STMT(
    "SELECT json_build_object('role', u.role, 'plan', coalesce(p.name, 'free'),"
    " 'name', u.name, 'banned', u.banned_at IS NOT NULL, 'ban_reason', u.ban_reason)::text"
    " FROM users u LEFT JOIN plans p ON p.id = u.plan_id"
    " WHERE u.id = $1 AND u.deleted_at IS NULL FOR UPDATE OF u");
static struct db_stmt st_create = DB_STMT(
    "SELECT user_id FROM create_user($1, $2, $3, $4, true, NULL)");
static struct db_stmt st_set_plan = DB_STMT(
    "UPDATE users SET plan_id = (SELECT id FROM plans WHERE name = $2)"
    " WHERE id = $1 AND EXISTS (SELECT 1 FROM plans WHERE name = $2) RETURNING id");
static struct db_stmt st_update = DB_STMT(
    "UPDATE users SET role = coalesce($2, role), name = coalesce($3, name)"
    " WHERE id = $1");
static struct db_stmt st_ban = DB_STMT(
    "WITH u AS (UPDATE users SET banned_at = now(), ban_reason = $2 WHERE id = $1"
    "   RETURNING id)"
    " UPDATE sessions SET revoked_at = now(), revoked_reason = 'banned'"
    " WHERE user_id = (SELECT id FROM u) AND revoked_at IS NULL");
static struct db_stmt st_unban = DB_STMT(
    "UPDATE users SET banned_at = NULL, ban_reason = NULL WHERE id = $1");
static struct db_stmt st_revoke = DB_STMT(
    "UPDATE sessions SET revoked_at = now(), revoked_reason = 'revoked by admin'"
    " WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now() RETURNING id");
static struct db_stmt st_email = DB_STMT(
    "SELECT email FROM users WHERE id = $1 AND deleted_at IS NULL");
static struct db_stmt st_shared_owned = DB_STMT(
    "SELECT o.id FROM orgs o JOIN org_members m ON m.org_id = o.id"
    " WHERE m.user_id = $1 AND m.role = 'owner'"
    " AND NOT EXISTS (SELECT 1 FROM org_members x WHERE x.org_id = o.id"
    "   AND x.user_id <> $1 AND x.role = 'owner')"
    " AND EXISTS (SELECT 1 FROM org_members x WHERE x.org_id = o.id AND x.user_id <> $1)");
static struct db_stmt st_delete = DB_STMT(
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
static struct db_stmt st_limits_get = DB_STMT(
    "SELECT row_to_json(l)::text FROM user_limits l WHERE user_id = $1 FOR UPDATE");
static struct db_stmt st_limits_put = DB_STMT(
    "INSERT INTO user_limits AS l (user_id, daily_message_limit, monthly_token_limit,"
    " allowed_models, max_tokens_per_request, expires_at, updated_at)"
    " VALUES ($1, $2, $3, string_to_array($4, ','), $5, $6::timestamptz, now())"
    " ON CONFLICT (user_id) DO UPDATE SET daily_message_limit = EXCLUDED.daily_message_limit,"
    "  monthly_token_limit = EXCLUDED.monthly_token_limit,"
    "  allowed_models = EXCLUDED.allowed_models,"
    "  max_tokens_per_request = EXCLUDED.max_tokens_per_request,"
    "  expires_at = EXCLUDED.expires_at, updated_at = now()"
    " RETURNING row_to_json(l)::text");
static struct db_stmt st_limits_del = DB_STMT(
    "DELETE FROM user_limits WHERE user_id = $1 RETURNING user_id");

static json_object *
list_json(PGresult *res, int i)
{
	json_object *u = json_object_new_object();

	json_object_object_add(u, "id", jpg_str(res, i, 0));
	json_object_object_add(u, "email", jpg_str(res, i, 1));
	json_object_object_add(u, "name", jpg_str(res, i, 2));
	json_object_object_add(u, "role", jpg_str(res, i, 3));
	json_object_object_add(u, "plan", jpg_str(res, i, 4));
	json_object_object_add(u, "banned", jpg_bool(res, i, 5));
	json_object_object_add(u, "ban_reason", jpg_str(res, i, 6));
	json_object_object_add(u, "email_verified", jpg_bool(res, i, 7));
	json_object_object_add(u, "created_at", jpg_time(res, i, 8));
	return u;
}

static bool
date_param_ok(const char *s)
{
	int i;

	for (i = 0; s != NULL && i < 10; i++)
		if (i == 4 || i == 7 ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
			return false;
	return s == NULL || s[10] == '\0';
}

/* GET /admin/users?search&email&role&plan&banned&created_from&created_to
 * &sort=created_at|email&order=asc|desc&limit&cursor */
int
h_admin_users_list(struct req *r)
{
	const char	*search = req_query(r, "search"), *role = req_query(r, "role");
	const char	*plan = req_query(r, "plan"), *banned = req_query(r, "banned");
	const char	*from = req_query(r, "created_from"), *to = req_query(r, "created_to");
	const char	*sort = req_query(r, "sort"), *order = req_query(r, "order");
	const char	*email = req_query(r, "email"), *p[10];
	struct page	 pg;
	PGresult	*res;
	json_object	*out, *items;
	int		 which, i, n;
	bool		 by_email, asc;

	if (search != NULL && (strlen(search) < 1 || strlen(search) > 100))
		jv_error(&r->v, "search", "must be 1 to 100 characters");
	if (role != NULL && strcmp(role, "user") != 0 && strcmp(role, "admin") != 0)
		jv_error(&r->v, "role", "must be user or admin");
	if (banned != NULL && strcmp(banned, "true") != 0 && strcmp(banned, "false") != 0)
		jv_error(&r->v, "banned", "must be true or false");
	if (!date_param_ok(from))
		jv_error(&r->v, "created_from", "must be a date YYYY-MM-DD");
	if (!date_param_ok(to))
		jv_error(&r->v, "created_to", "must be a date YYYY-MM-DD");
	by_email = sort != NULL && strcmp(sort, "email") == 0;
	if (sort != NULL && !by_email && strcmp(sort, "created_at") != 0)
		jv_error(&r->v, "sort", "must be created_at or email");
	asc = order != NULL ? strcmp(order, "asc") == 0 : by_email;
	if (order != NULL && !asc && strcmp(order, "desc") != 0)
		jv_error(&r->v, "order", "must be asc or desc");
	if (jv_failed(&r->v))
		return req_invalid(r);
	if (req_page(r, &pg, 50, 500) != 0)
		return -1;
	which = by_email ? (asc ? 2 : 3) : (asc ? 1 : 0);
	if (search != NULL) {
		/* LIKE metacharacters in the search are literal. */
		struct buf *b = buf_arena_new(r->a);

		buf_addch(b, '%');
		for (i = 0; search[i] != '\0'; i++) {
			if (strchr("%_\\", search[i]))
				buf_addch(b, '\\');
			buf_addch(b, search[i] >= 'A' && search[i] <= 'Z' ?
			    search[i] + 32 : search[i]);
		}
		buf_addch(b, '%');
		search = b->data;
	}
	p[0] = search;
	p[1] = role;
	p[2] = plan;
	p[3] = banned;
	p[4] = from;
	p[5] = to;
	p[6] = pg.ts;
	p[7] = pg.id;
	p[8] = pg.fetch;
	p[9] = email;
	if ((res = req_db(r, &st_list[which], 10, p)) == NULL)
		return -1;
	out = jarena(r->a, json_object_new_object());
	items = json_object_new_array();
	n = PQntuples(res);
	for (i = 0; i < n && i < pg.limit; i++)
		json_object_array_add(items, list_json(res, i));
	json_object_object_add(out, "items", items);
	json_object_object_add(out, "next_cursor", n > pg.limit ? jstr(page_cursor(r->a,
	    PQgetvalue(res, (int)pg.limit - 1, 9), PQgetvalue(res, (int)pg.limit - 1, 0))) :
	    NULL);
	return resp_json(r, 200, out);
}

/* GET /admin/users/:id - with plan, limits, today's usage, sessions, keys. */
int
h_admin_users_get(struct req *r)
{
	const char	*p[1] = { req_path_param(r, "id") };
	PGresult	*res;
	json_object	*u;

	if ((res = req_db(r, &st_view, 1, p)) == NULL)
		return -1;
	if (PQntuples(res) != 1)
		return req_fail(r, 404, "not_found", "no such user");
	u = jarena(r->a, acct_user_json(res, 0, 0));
	json_object_object_add(u, "plan", jpg_str(res, 0, 7));
	json_object_object_add(u, "banned_at", jpg_time(res, 0, 8));
	json_object_object_add(u, "ban_reason", jpg_str(res, 0, 9));
	json_object_object_add(u, "limits_override", jpg_json(res, 0, 10));
	json_object_object_add(u, "limits", jpg_json(res, 0, 11));
	json_object_object_add(u, "messages_today", jpg_int(res, 0, 12));
	json_object_object_add(u, "sessions", jpg_json(res, 0, 13));
	json_object_object_add(u, "api_keys", jpg_json(res, 0, 14));
	json_object_object_add(u, "deleted_at", jpg_time(res, 0, 15));
	return resp_json(r, 200, u);
}

/* The row's state for the audit trail, locked; NULL with 404. */
static const char *
locked_state(struct req *r, const char *id)
{
	const char	*p[1] = { id };
	PGresult	*res;

	if ((res = req_db(r, &st_row, 1, p)) == NULL)
		return NULL;
	if (PQntuples(res) != 1) {
		req_fail(r, 404, "not_found", "no such user");
		return NULL;
	}
	return PQgetvalue(res, 0, 0);
}

/* Commit an audited change and answer with the user as it is now. */
static int
finish_change(struct req *r, const char *id, const char *action, const char *before)
{
	const char *after;

	if ((after = locked_state(r, id)) == NULL ||
	    admin_audit(r, action, "user", id, before, after) != 0 ||
	    req_db_commit(r) != 0)
		return -1;
	return h_admin_users_get(r);
}

/* POST /admin/users {email, password?, name?, role?, plan?} */
int
h_admin_users_create(struct req *r)
{
	static const char *const fields[] = { "email", "password", "name", "role",
	    "plan", NULL };
	const char	*email, *pw, *name, *role, *plan, *p[4], *after;
	char		*norm = NULL, hash[PASSWORD_HASH_MAX];
	PGresult	*res;

	jv_only(&r->v, r->json, fields);
	email = jv_string(&r->v, r->json, "email", JV_REQUIRED | JV_TRIM, 3, 254, r->a);
	pw = jv_string(&r->v, r->json, "password", JV_NULLABLE, 1, 1024, r->a);
	name = jv_string(&r->v, r->json, "name", JV_TRIM | JV_SINGLELINE, 0, 100, r->a);
	role = jv_string(&r->v, r->json, "role", 0, 1, 10, r->a);
	plan = jv_string(&r->v, r->json, "plan", 0, 1, 64, r->a);
	if (email != NULL && (norm = acct_email_normalize(r->a, email)) == NULL)
		jv_error(&r->v, "email", "must be a valid e-mail address");
	if (role != NULL && strcmp(role, "user") != 0 && strcmp(role, "admin") != 0)
		jv_error(&r->v, "role", "must be user or admin");
	acct_password_check(r, "password", pw, norm);
	if (jv_failed(&r->v))
		return req_invalid(r);
	if (pw != NULL && password_hash(pw, strlen(pw), hash) != 0)
		return req_internal(r, "password hashing failed");
	p[0] = norm;
	p[1] = name != NULL ? name : "";
	p[2] = pw != NULL ? hash : NULL;
	p[3] = role != NULL ? role : "user";
	if (req_db_begin(r) != 0)
		return -1;
	if ((res = req_db(r, &st_create, 4, p)) == NULL) {
		if (strcmp(r->sqlstate, SQLSTATE_UNIQUE) == 0)
			return req_fail(r, 409, "email_taken",
			    "an account with this e-mail address already exists");
		return -1;
	}
	p[0] = PQgetvalue(res, 0, 0);
	if (plan != NULL) {
		p[1] = plan;
		if ((res = req_db(r, &st_set_plan, 2, p)) == NULL)
			return -1;
		if (PQntuples(res) != 1) {
			jv_error(&r->v, "plan", "is not a plan");
			return req_invalid(r);
		}
	}
	r->match.nparams = 1;		/* answer as GET /admin/users/:id */
	r->match.names[0] = "id";
	r->match.name_len[0] = 2;
	r->match.values[0] = arena_strdup(r->a, p[0]);
	if ((after = locked_state(r, p[0])) == NULL ||
	    admin_audit(r, "user.create", "user", p[0], NULL, after) != 0 ||
	    req_db_commit(r) != 0 || h_admin_users_get(r) != 0)
		return -1;
	r->status = 201;
	return 0;
}

/* PATCH /admin/users/:id {role?, plan?, name?} */
int
h_admin_users_update(struct req *r)
{
	static const char *const fields[] = { "role", "plan", "name", NULL };
	const char	*id = req_path_param(r, "id"), *role, *plan, *name, *before, *p[3];
	PGresult	*res;

	jv_only(&r->v, r->json, fields);
	role = jv_string(&r->v, r->json, "role", 0, 1, 10, r->a);
	plan = jv_string(&r->v, r->json, "plan", 0, 1, 64, r->a);
	name = jv_string(&r->v, r->json, "name", JV_TRIM | JV_SINGLELINE, 0, 100, r->a);
	if (role != NULL && strcmp(role, "user") != 0 && strcmp(role, "admin") != 0)
		jv_error(&r->v, "role", "must be user or admin");
	if (jv_failed(&r->v))
		return req_invalid(r);
	if (req_db_begin(r) != 0 || (before = locked_state(r, id)) == NULL)
		return -1;
	p[0] = id;
	p[1] = role;
	p[2] = name;
	if (req_db(r, &st_update, 3, p) == NULL)
		return -1;
	if (plan != NULL) {
		p[1] = plan;
		if ((res = req_db(r, &st_set_plan, 2, p)) == NULL)
			return -1;
		if (PQntuples(res) != 1) {
			jv_error(&r->v, "plan", "is not a plan");
			return req_invalid(r);
		}
	}
	return finish_change(r, id, "user.update", before);
}

/* POST /admin/users/:id/ban {reason} - effective at once, sessions revoked. */
int
h_admin_users_ban(struct req *r)
{
	static const char *const fields[] = { "reason", NULL };
	const char	*id = req_path_param(r, "id"), *reason, *before, *p[2];

	jv_only(&r->v, r->json, fields);
	reason = jv_string(&r->v, r->json, "reason", JV_REQUIRED | JV_TRIM | JV_SINGLELINE,
	    1, 500, r->a);
	if (jv_failed(&r->v))
		return req_invalid(r);
	if (req_db_begin(r) != 0 || (before = locked_state(r, id)) == NULL)
		return -1;
	p[0] = id;
	p[1] = reason;
	if (req_db(r, &st_ban, 2, p) == NULL)
		return -1;
	return finish_change(r, id, "user.ban", before);
}

/* POST /admin/users/:id/unban */
int
h_admin_users_unban(struct req *r)
{
	const char *id = req_path_param(r, "id"), *before, *p[1] = { id };

	if (req_db_begin(r) != 0 || (before = locked_state(r, id)) == NULL ||
	    req_db(r, &st_unban, 1, p) == NULL)
		return -1;
	return finish_change(r, id, "user.unban", before);
}

/* POST /admin/users/:id/revoke-sessions */
int
h_admin_users_revoke(struct req *r)
{
	const char	*id = req_path_param(r, "id"), *before, *p[1] = { id };
	PGresult	*res;
	json_object	*o;
	char		 n[32];

	if (req_db_begin(r) != 0 || (before = locked_state(r, id)) == NULL ||
	    (res = req_db(r, &st_revoke, 1, p)) == NULL)
		return -1;
	snprintf(n, sizeof(n), "{\"revoked_sessions\": %d}", PQntuples(res));
	if (admin_audit(r, "user.revoke_sessions", "user", id, before, n) != 0 ||
	    req_db_commit(r) != 0)
		return -1;
	o = jarena(r->a, json_object_new_object());
	json_object_object_add(o, "revoked_sessions", json_object_new_int(PQntuples(res)));
	return resp_json(r, 200, o);
}

/* POST /admin/users/:id/password-reset - mails the user a reset link. */
int
h_admin_users_reset(struct req *r)
{
	const char	*id = req_path_param(r, "id"), *p[1] = { id };
	PGresult	*res;

	if ((res = req_db(r, &st_email, 1, p)) == NULL)
		return -1;
	if (PQntuples(res) != 1)
		return req_fail(r, 404, "not_found", "no such user");
	if (admin_audit(r, "user.password_reset", "user", id, NULL, NULL) != 0 ||
	    acct_mail_token(r, id, PQgetvalue(res, 0, 0), "reset") != 0)
		return -1;
	return resp_raw(r, 202, "application/json", "{\"status\":\"sent\"}", 17);
}

/* DELETE /admin/users/:id - like the user's own deletion (same rules). */
int
h_admin_users_delete(struct req *r)
{
	const char	*id = req_path_param(r, "id"), *before, *p[1] = { id };
	PGresult	*res;

	if (req_db_begin(r) != 0 || (before = locked_state(r, id)) == NULL ||
	    (res = req_db(r, &st_shared_owned, 1, p)) == NULL)
		return -1;
	if (PQntuples(res) > 0)
		return req_fail(r, 409, "transfer_ownership",
		    "the user is the only owner of %d shared organisation(s) (first: %s); "
		    "make someone else owner first", PQntuples(res), PQgetvalue(res, 0, 0));
	if ((res = req_db(r, &st_delete, 1, p)) == NULL ||
	    admin_audit(r, "user.delete", "user", id, before, NULL) != 0 ||
	    req_db_commit(r) != 0)
		return -1;
	r->status = 204;
	return 0;
}

/*
 * PUT /admin/users/:id/limits {daily_message_limit?, monthly_token_limit?,
 * allowed_models?, max_tokens_per_request?, expires_at?} - replaces the
 * override; an absent field means "the plan's".
 */
int
h_admin_limits_put(struct req *r)
{
	static const char *const fields[] = { "daily_message_limit",
	    "monthly_token_limit", "allowed_models", "max_tokens_per_request",
	    "expires_at", NULL };
	const char	*id = req_path_param(r, "id"), *p[6], *before, *expires;
	char		 d[24], m[24], t[24];
	int64_t		 dv, mv, tv;
	json_object	*arr, *it;
	struct buf	*models = NULL;
	PGresult	*res;
	size_t		 i;

	jv_only(&r->v, r->json, fields);
	p[1] = jv_int(&r->v, r->json, "daily_message_limit", JV_NULLABLE, 0, 10000000, &dv) ?
	    (snprintf(d, sizeof(d), "%lld", (long long)dv), d) : NULL;
	p[2] = jv_int(&r->v, r->json, "monthly_token_limit", JV_NULLABLE, 0,
	    INT64_MAX / 2, &mv) ? (snprintf(m, sizeof(m), "%lld", (long long)mv), m) : NULL;
	p[4] = jv_int(&r->v, r->json, "max_tokens_per_request", JV_NULLABLE, 1, 10000000,
	    &tv) ? (snprintf(t, sizeof(t), "%lld", (long long)tv), t) : NULL;
	expires = jv_string(&r->v, r->json, "expires_at", JV_NULLABLE, 10, 35, r->a);
	if (json_object_object_get_ex(r->json, "allowed_models", &arr) && arr != NULL) {
		if (!json_object_is_type(arr, json_type_array) ||
		    json_object_array_length(arr) > 500)
			jv_error(&r->v, "allowed_models", "must be a list of model ids");
		else {
			models = buf_arena_new(r->a);
			for (i = 0; i < json_object_array_length(arr); i++) {
				it = json_object_array_get_idx(arr, i);
				if (!json_object_is_type(it, json_type_string) ||
				    !llm_model_name_ok(json_object_get_string(it))) {
					jv_error(&r->v, "allowed_models", "must be a list of model ids");
					break;
				}
				if (i > 0)
					buf_addch(models, ',');
				buf_adds(models, json_object_get_string(it));
			}
		}
	}
	if (jv_failed(&r->v))
		return req_invalid(r);
	p[0] = id;
	p[3] = models != NULL ? models->data : NULL;
	p[5] = expires;
	if (req_db_begin(r) != 0 || locked_state(r, id) == NULL ||
	    (res = req_db(r, &st_limits_get, 1, p)) == NULL)
		return -1;
	before = PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : NULL;
	if ((res = req_db(r, &st_limits_put, 6, p)) == NULL) {
		if (strncmp(r->sqlstate, "22", 2) == 0) {
			jv_error(&r->v, "expires_at", "must be an RFC 3339 date-time");
			return req_invalid(r);
		}
		return -1;
	}
	if (admin_audit(r, "limits.set", "user", id, before, PQgetvalue(res, 0, 0)) != 0 ||
	    req_db_commit(r) != 0)
		return -1;
	return h_admin_users_get(r);
}

/* DELETE /admin/users/:id/limits - back to the plan. */
int
h_admin_limits_delete(struct req *r)
{
	const char	*id = req_path_param(r, "id"), *p[1] = { id };
	PGresult	*res;

	if (req_db_begin(r) != 0 || (res = req_db(r, &st_limits_get, 1, p)) == NULL)
		return -1;
	if (PQntuples(res) != 1)
		return req_fail(r, 404, "not_found", "no override for this user");
	if (req_db(r, &st_limits_del, 1, p) == NULL ||
	    admin_audit(r, "limits.clear", "user", id, PQgetvalue(res, 0, 0), NULL) != 0 ||
	    req_db_commit(r) != 0)
		return -1;
	r->status = 204;
	return 0;
}
