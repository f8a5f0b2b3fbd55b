/*
 * h_apikeys.c - API keys for programs: created by a user in the active
 * organisation, shown once, stored hashed, revocable.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "lexar.h"
#include "token.h"
#include "util.h"

#define KEY_COLS "k.id, k.name, k.prefix, array_to_json(k.scopes)::text, k.created_at," \
		 " k.last_used_at, k.expires_at, k.created_at::text"
#define MAX_KEYS 100	/* live (unrevoked, unexpired) keys per user */

static struct db_stmt st_precheck = DB_STMT(
    "SELECT (SELECT count(*) FROM api_keys WHERE user_id = $1 AND revoked_at IS NULL"
    "   AND (expires_at IS NULL OR expires_at > now())),"
    " $2::timestamptz IS NOT NULL AND $2::timestamptz <= now()");
static struct db_stmt st_create = DB_STMT(
    "INSERT INTO api_keys AS k (user_id, org_id, name, prefix, key_hash, scopes, expires_at)"
    " VALUES ($1, $2, $3, $4, $5, string_to_array($6, ','), $7::timestamptz)"
    " RETURNING " KEY_COLS);
static struct db_stmt st_list = DB_STMT(
    "SELECT " KEY_COLS " FROM api_keys k"
    " WHERE k.user_id = $1 AND k.org_id = $2 AND k.revoked_at IS NULL"
    " AND ($3::timestamptz IS NULL OR (k.created_at, k.id) < ($3::timestamptz, $4::uuid))"
    " ORDER BY k.created_at DESC, k.id DESC LIMIT $5");
static struct db_stmt st_revoke = DB_STMT(
    "UPDATE api_keys SET revoked_at = now()"
    " WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL RETURNING id");

static const char *const known_scopes[] = { "llm", "read", "write", NULL };

static json_object *
key_json(PGresult *res, int i)
{
	json_object	*k = json_object_new_object();

	json_object_object_add(k, "id", jpg_str(res, i, 0));
	json_object_object_add(k, "name", jpg_str(res, i, 1));
	json_object_object_add(k, "prefix", jpg_str(res, i, 2));
	json_object_object_add(k, "scopes", jpg_json(res, i, 3));
	json_object_object_add(k, "created_at", jpg_time(res, i, 4));
	json_object_object_add(k, "last_used_at", jpg_time(res, i, 5));
	json_object_object_add(k, "expires_at", jpg_time(res, i, 6));
	return k;
}

/* RFC 3339 date-time ("2026-12-31T23:59:59Z", offsets allowed) or a date. */
static bool
timestamp_ok(const char *s)
{
	static const char date[] = "dddd-dd-dd";
	size_t i;

	for (i = 0; i < 10; i++)
		if (date[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != date[i])
			return false;
	if (s[10] == '\0')
		return true;
	if (s[10] != 'T' && s[10] != 't' && s[10] != ' ')
		return false;
	for (i = 11; s[i] != '\0'; i++)
		if (!isdigit((unsigned char)s[i]) && !strchr(":.+-Zz", s[i]))
			return false;
	return i >= 16 && i <= 35;
}

/* The scopes array as "a,b" (validated), or NULL with a field error. */
static const char *
scopes_csv(struct req *r)
{
	json_object	*arr, *it;
	struct buf	 b = BUF_INIT;
	const char	*s, *const *k, *out;
	size_t		 i, n;

	if (!json_object_object_get_ex(r->json, "scopes", &arr) || arr == NULL)
		return "llm";
	if (!json_object_is_type(arr, json_type_array) ||
	    (n = json_object_array_length(arr)) == 0 || n > 3) {
		jv_error(&r->v, "scopes", "must be a non-empty list of llm, read, write");
		return NULL;
	}
	for (i = 0; i < n; i++) {
		it = json_object_array_get_idx(arr, i);
		s = json_object_is_type(it, json_type_string) ? json_object_get_string(it) : "";
		for (k = known_scopes; *k != NULL && strcmp(*k, s) != 0; k++)
			;
		if (*k == NULL || (b.len > 0 && strstr(b.data, s) != NULL)) {
			jv_error(&r->v, "scopes", "must be a list of distinct llm, read, write");
			buf_free(&b);
			return NULL;
		}
		if (b.len > 0)
			buf_addch(&b, ',');
		buf_adds(&b, s);
	}
	out = arena_strdup(r->a, b.data);
	buf_free(&b);
	return out;
}

/* POST /api/v1/api-keys {name, scopes?, expires_at?} - the key, once. */
int
h_apikeys_create(struct req *r)
{
	static const char *const fields[] = { "name", "scopes", "expires_at", NULL };
	const char	*name, *scopes, *expires, *p[7];
	char		*key, *hash;
	PGresult	*res;
	json_object	*out;

	jv_only(&r->v, r->json, fields);
	name = jv_string(&r->v, r->json, "name", JV_REQUIRED | JV_TRIM | JV_SINGLELINE,
	    1, 100, r->a);
	expires = jv_string(&r->v, r->json, "expires_at", JV_NULLABLE, 10, 35, r->a);
	if (expires != NULL && !timestamp_ok(expires))
		jv_error(&r->v, "expires_at", "must be an RFC 3339 date-time");
	scopes = scopes_csv(r);
	if (jv_failed(&r->v))
		return req_invalid(r);
	p[0] = r->auth.user_id;
	p[1] = expires;
	if ((res = req_db(r, &st_precheck, 2, p)) == NULL) {
		if (strncmp(r->sqlstate, "22", 2) == 0) {	/* not a date */
			jv_error(&r->v, "expires_at", "must be a valid date-time");
			return req_invalid(r);
		}
		return -1;
	}
	if (PQgetvalue(res, 0, 1)[0] == 't') {
		jv_error(&r->v, "expires_at", "must be in the future");
		return req_invalid(r);
	}
	if (atol(PQgetvalue(res, 0, 0)) >= MAX_KEYS)
		return req_fail(r, 409, "too_many_keys", "at most %d live API keys", MAX_KEYS);
	key = token_random(r->a, "lx_", 32, &hash);
	p[1] = r->auth.org_id;
	p[2] = name;
	p[3] = arena_strndup(r->a, key, 11);
	p[4] = hash;
	p[5] = scopes;
	p[6] = expires;
	if ((res = req_db(r, &st_create, 7, p)) == NULL)
		return -1;
	out = jarena(r->a, key_json(res, 0));
	json_object_object_add(out, "key", json_object_new_string(key));
	return resp_json(r, 201, out);
}

/* GET /api/v1/api-keys - the caller's keys in the active organisation. */
int
h_apikeys_list(struct req *r)
{
	struct page	 pg;
	const char	*p[5];
	PGresult	*res;
	json_object	*out, *items;
	int		 i, n;

	if (req_page(r, &pg, 50, 100) != 0)
		return -1;
	p[0] = r->auth.user_id;
	p[1] = r->auth.org_id;
	p[2] = pg.ts;
	p[3] = pg.id;
	p[4] = pg.fetch;
	if ((res = req_db(r, &st_list, 5, p)) == NULL)
		return -1;
	out = jarena(r->a, json_object_new_object());
	items = json_object_new_array();
	n = PQntuples(res);
	for (i = 0; i < n && i < pg.limit; i++)
		json_object_array_add(items, key_json(res, i));
	json_object_object_add(out, "items", items);
	json_object_object_add(out, "next_cursor", n > pg.limit ? jstr(page_cursor(r->a,
	    PQgetvalue(res, pg.limit - 1, 7), PQgetvalue(res, pg.limit - 1, 0))) : NULL);
	return resp_json(r, 200, out);
}

/* DELETE /api/v1/api-keys/:id - revoke (only one's own). */
int
h_apikeys_revoke(struct req *r)
{
	const char	*p[2] = { req_path_param(r, "id"), r->auth.user_id };
	PGresult	*res;

	if ((res = req_db(r, &st_revoke, 2, p)) == NULL)
		return -1;
	if (PQntuples(res) != 1)
		return req_fail(r, 404, "not_found", "no such API key");
	r->status = 204;
	return 0;
}
