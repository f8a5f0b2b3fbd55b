/*
 * h_admin.c - /admin: plans, usage reports, moderation, providers and
 * prices, the audit trail. (Users: h_admin_users.c.)
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "lexar.h"
#include "util.h"

#define PLAN_COLS "p.id, p.name, p.daily_message_limit, p.monthly_token_limit," \
	" array_to_json(p.allowed_models)::text, p.max_tokens_per_request," \
	" p.created_at, p.updated_at, (SELECT count(*) FROM users u WHERE u.plan_id = p.id" \
	" AND u.deleted_at IS NULL)"

static struct db_stmt st_plans = DB_STMT(
    "SELECT " PLAN_COLS " FROM plans p ORDER BY p.name");
static struct db_stmt st_plan_get = DB_STMT(
    "SELECT " PLAN_COLS " FROM plans p WHERE p.id = $1");
static struct db_stmt st_plan_json = DB_STMT(
    "SELECT row_to_json(p)::text, p.name FROM plans p WHERE p.id = $1 FOR UPDATE");
static struct db_stmt st_plan_create = DB_STMT(
    "INSERT INTO plans AS p (name, daily_message_limit, monthly_token_limit,"
    " allowed_models, max_tokens_per_request)"
    " VALUES ($1, $2, $3, string_to_array($4, ','), $5) RETURNING p.id, row_to_json(p)::text");
static struct db_stmt st_plan_update = DB_STMT(
    "UPDATE plans p SET name = coalesce($2, name),"
    " daily_message_limit = coalesce($3::int, daily_message_limit),"
    " monthly_token_limit = CASE WHEN $7 THEN $4::bigint ELSE monthly_token_limit END,"
    " allowed_models = CASE WHEN $8 THEN string_to_array($5, ',') ELSE allowed_models END,"
    " max_tokens_per_request = CASE WHEN $9 THEN $6::int ELSE max_tokens_per_request END"
    " WHERE p.id = $1 RETURNING row_to_json(p)::text");
static struct db_stmt st_plan_delete = DB_STMT(
    "WITH moved AS (UPDATE users SET plan_id = NULL WHERE plan_id = $1)"
    " DELETE FROM plans WHERE id = $1 AND name <> 'free' RETURNING id");

/*
 * Usage reports read the roll-ups (usage_totals: day x provider x model,
 * usage_daily: also user and org) plus the tail of usage rows the
 * background roll-up has not reached yet, so they are exact and current.
 * $1..$2 the UTC day range, $3 one user or NULL, $4 how many groups, $5
 * the roll-up's watermark. Groups are ranked and cut before their labels
 * are looked up.
 */
#define SRC_TOTALS(key) "SELECT " key " AS k, t.provider, t.requests, t.failed," \
	" t.prompt_tokens, t.completion_tokens, t.cost_usd FROM usage_totals t" \
	" WHERE t.day >= $1::date AND t.day <= $2::date AND $3::uuid IS NULL"
#define SRC_DAILY(key) "SELECT " key " AS k, d.provider, d.requests, d.failed," \
	" d.prompt_tokens, d.completion_tokens, d.cost_usd FROM usage_daily d" \
	" WHERE d.day >= $1::date AND d.day <= $2::date" \
	" AND ($3::uuid IS NULL OR d.user_id = $3)"
#define SRC_TAIL(key) "SELECT " key ", u.provider, 1, (u.status <> 'ok')::int," \
	" u.prompt_tokens, u.completion_tokens, u.cost_usd FROM usage u" \
	" WHERE u.id > $5::bigint" \
	" AND u.created_at >= $1::date AND u.created_at < $2::date + 1" \
	" AND ($3::uuid IS NULL OR u.user_id = $3)"
#define BY_KEY_IN " ORDER BY x.k"
#define BY_KEY_OUT " ORDER BY y.k"
#define BY_TOKENS_IN " ORDER BY sum(x.p + x.c) DESC, x.k"
#define BY_TOKENS_OUT " ORDER BY y.p + y.c DESC, y.k"
#define REPORT(src, tail, label, in, out) \
	"SELECT y.k, " label ", y.r, y.f, y.p, y.c, y.cost FROM (SELECT x.k," \
	" min(x.prov) AS prov, sum(x.r) AS r, sum(x.f) AS f, sum(x.p) AS p," \
	" sum(x.c) AS c, sum(x.cost)::text AS cost FROM (" src " UNION ALL " tail \
	") x (k, prov, r, f, p, c, cost) GROUP BY x.k" in " LIMIT $4) y" out
#define DAY_D	"d.day::text"
#define DAY_T	"t.day::text"
#define DAY_U	"to_char(u.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"

static struct db_stmt st_all_days = DB_STMT(
    REPORT(SRC_TOTALS(DAY_T), SRC_TAIL(DAY_U), "NULL", BY_KEY_IN, BY_KEY_OUT));
static struct db_stmt st_all_models = DB_STMT(
    REPORT(SRC_TOTALS("t.model"), SRC_TAIL("u.model"), "y.prov", BY_TOKENS_IN, BY_TOKENS_OUT));
static struct db_stmt st_all_providers = DB_STMT(
    REPORT(SRC_TOTALS("t.provider"), SRC_TAIL("u.provider"), "NULL", BY_TOKENS_IN,
    BY_TOKENS_OUT));
static struct db_stmt st_usage[5] = {
	DB_STMT(REPORT(SRC_DAILY(DAY_D), SRC_TAIL(DAY_U), "NULL", BY_KEY_IN, BY_KEY_OUT)),
	DB_STMT(REPORT(SRC_DAILY("d.user_id::text"), SRC_TAIL("u.user_id::text"),
	    "(SELECT email FROM users WHERE id = y.k::uuid)", BY_TOKENS_IN, BY_TOKENS_OUT)),
	DB_STMT(REPORT(SRC_DAILY("d.org_id::text"), SRC_TAIL("u.org_id::text"),
	    "(SELECT name FROM orgs WHERE id = y.k::uuid)", BY_TOKENS_IN, BY_TOKENS_OUT)),
	DB_STMT(REPORT(SRC_DAILY("d.model"), SRC_TAIL("u.model"), "y.prov", BY_TOKENS_IN,
	    BY_TOKENS_OUT)),
	DB_STMT(REPORT(SRC_DAILY("d.provider"), SRC_TAIL("u.provider"), "NULL", BY_TOKENS_IN,
	    BY_TOKENS_OUT)),
};
static const char *const usage_groups[5] = { "day", "user", "org", "model", "provider" };

/*
 * Before the report, in the same transaction: the watermark, passed to it
 * as a value so the planner sees that the tail is a short range of ids
 * (custom plans only: a generic plan cannot know, and would scan the whole
 * date range of usage); and the memory to rank every user of a month
 * (~10^6 rows) without sorting on disk.
 */
static struct db_stmt st_report_setup = DB_STMT(
    "SELECT last_id, set_config('plan_cache_mode', 'force_custom_plan', true),"
    " set_config('work_mem', '64MB', true) FROM rollup_state WHERE name = 'usage'");

/* Everyone by day, model or provider: the small roll-up; else per user. */
static struct db_stmt *
usage_stmt(int group, bool one_user)
{
	if (!one_user && group == 0)
		return &st_all_days;
	if (!one_user && group == 3)
		return &st_all_models;
	if (!one_user && group == 4)
		return &st_all_providers;
	return &st_usage[group];
}

static struct db_stmt st_user_exists = DB_STMT(
    "SELECT 1 FROM users WHERE id = $1");
static struct db_stmt st_user_chats = DB_STMT(
    "SELECT c.id, c.title, c.model, c.org_id, c.created_at, c.updated_at,"
    " (SELECT count(*) FROM messages m WHERE m.chat_id = c.id), c.updated_at::text"
    " FROM chats c WHERE c.user_id = $1"
    " AND ($2::timestamptz IS NULL OR (c.updated_at, c.id) < ($2::timestamptz, $3::uuid))"
    " ORDER BY c.updated_at DESC, c.id DESC LIMIT $4");
static struct db_stmt st_chat_read = DB_STMT(
    "SELECT c.id, c.title, c.model, c.user_id, c.org_id, c.system_prompt, c.created_at,"
    " (SELECT coalesce(json_agg(json_build_object('id', m.id, 'role', m.role,"
    "   'content', m.content, 'status', m.status, 'error_code', m.error_code,"
    "   'model', m.model, 'created_at', m.created_at, 'hidden_at', m.hidden_at,"
    "   'hidden_by', m.hidden_by) ORDER BY m.created_at, m.id), '[]')::text"
    "   FROM messages m WHERE m.chat_id = c.id)"
    " FROM chats c WHERE c.id = $1");
static struct db_stmt st_hide = DB_STMT(
    "UPDATE messages SET hidden_at = coalesce(hidden_at, now()),"
    " hidden_by = coalesce(hidden_by, $2) WHERE id = $1"
    " RETURNING json_build_object('id', id, 'chat_id', chat_id, 'hidden_at', hidden_at,"
    " 'hidden_by', hidden_by)::text");
static struct db_stmt st_flags = DB_STMT(
    "SELECT f.id, f.created_at, f.user_id, u.email, f.org_id, f.api_key_id, f.chat_id,"
    " f.message_id, f.content, array_to_json(f.categories)::text, f.reviewed_at,"
    " f.reviewed_by, f.created_at::text"
    " FROM moderation_flags f JOIN users u ON u.id = f.user_id"
    " WHERE ($1::boolean IS NULL OR (f.reviewed_at IS NOT NULL) = $1)"
    " AND ($2::timestamptz IS NULL OR (f.created_at, f.id) < ($2::timestamptz, $3::uuid))"
    " ORDER BY f.created_at DESC, f.id DESC LIMIT $4");
static struct db_stmt st_flag_review = DB_STMT(
    "UPDATE moderation_flags SET reviewed_at = now(), reviewed_by = $2"
    " WHERE id = $1 AND reviewed_at IS NULL RETURNING id");
static struct db_stmt st_health = DB_STMT(
    "SELECT coalesce(json_object_agg(provider, json_build_object('last_ok_at', last_ok_at,"
    " 'last_error_at', last_error_at, 'last_error', last_error,"
    " 'last_latency_ms', last_latency_ms)), '{}')::text FROM provider_health");
static struct db_stmt st_prices = DB_STMT(
    "SELECT model, prompt_usd_per_mtok::text, completion_usd_per_mtok::text,"
    " context_tokens, updated_at FROM model_prices ORDER BY model");
static struct db_stmt st_price_before = DB_STMT(
    "SELECT row_to_json(m)::text FROM model_prices m WHERE model = $1 FOR UPDATE");
static struct db_stmt st_price_put = DB_STMT(
    "INSERT INTO model_prices AS m (model, prompt_usd_per_mtok, completion_usd_per_mtok,"
    " context_tokens) VALUES ($1, $2, $3, coalesce($4::int, 16000))"
    " ON CONFLICT (model) DO UPDATE SET prompt_usd_per_mtok = EXCLUDED.prompt_usd_per_mtok,"
    " completion_usd_per_mtok = EXCLUDED.completion_usd_per_mtok,"
    " context_tokens = coalesce($4::int, m.context_tokens), updated_at = now()"
    " RETURNING row_to_json(m)::text");
static struct db_stmt st_price_del = DB_STMT(
    "DELETE FROM model_prices WHERE model = $1 RETURNING row_to_json(model_prices)::text");
static struct db_stmt st_cache_clear = DB_STMT("DELETE FROM model_cache");
static struct db_stmt st_audit_list = DB_STMT(
    "SELECT a.id, a.created_at, a.actor, a.action, a.target_type, a.target_id,"
    " a.before::text, a.after::text, a.request_id, a.created_at::text"
    " FROM admin_audit a WHERE ($1::text IS NULL OR a.actor = $1)"
    " AND ($2::text IS NULL OR a.action = $2"
    "   OR a.action LIKE replace(replace(replace($2, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '.%')"
    " AND ($3::text IS NULL OR a.target_id = $3)"
    " AND ($4::date IS NULL OR a.created_at >= $4::date)"
    " AND ($5::date IS NULL OR a.created_at < $5::date + 1)"
    " AND ($6::timestamptz IS NULL OR (a.created_at, a.id) < ($6::timestamptz, $7::bigint))"
    " ORDER BY a.created_at DESC, a.id DESC LIMIT $8");

/* ---- plans ---- */

static json_object *
plan_json(PGresult *res, int i)
{
	json_object *p = json_object_new_object();

	json_object_object_add(p, "id", jpg_str(res, i, 0));
	json_object_object_add(p, "name", jpg_str(res, i, 1));
	json_object_object_add(p, "daily_message_limit", jpg_int(res, i, 2));
	json_object_object_add(p, "monthly_token_limit", jpg_int(res, i, 3));
	json_object_object_add(p, "allowed_models", jpg_json(res, i, 4));
	json_object_object_add(p, "max_tokens_per_request", jpg_int(res, i, 5));
	json_object_object_add(p, "created_at", jpg_time(res, i, 6));
	json_object_object_add(p, "updated_at", jpg_time(res, i, 7));
	json_object_object_add(p, "users", jpg_int(res, i, 8));
	return p;
}

/* GET /admin/plans */
int
h_admin_plans_list(struct req *r)
{
	PGresult	*res;
	json_object	*out, *items;
	int		 i;

	if ((res = req_db(r, &st_plans, 0, NULL)) == NULL)
		return -1;
	out = jarena(r->a, json_object_new_object());
	items = json_object_new_array();
	for (i = 0; i < PQntuples(res); i++)
		json_object_array_add(items, plan_json(res, i));
	json_object_object_add(out, "items", items);
	return resp_json(r, 200, out);
}

/* GET /admin/plans/:id */
int
h_admin_plans_get(struct req *r)
{
	const char	*p[1] = { req_path_param(r, "id") };
	PGresult	*res;

	if ((res = req_db(r, &st_plan_get, 1, p)) == NULL)
		return -1;
	if (PQntuples(res) != 1)
		return req_fail(r, 404, "not_found", "no such plan");
	return resp_json(r, 200, jarena(r->a, plan_json(res, 0)));
}

/*
 * Plan fields of the body into p[0..4] (name, daily, monthly, models,
 * max_tokens); *set tells which nullable ones were present.
 */
static void
plan_fields(struct req *r, const char **p, char (*num)[24], bool set[3], bool create)
{
	static const char *const fields[] = { "name", "daily_message_limit",
	    "monthly_token_limit", "allowed_models", "max_tokens_per_request", NULL };
	json_object	*arr, *it;
	struct buf	*models;
	int64_t		 v;
	size_t		 i;

	jv_only(&r->v, r->json, fields);
	p[0] = jv_string(&r->v, r->json, "name", (create ? JV_REQUIRED : 0) | JV_TRIM |
	    JV_SINGLELINE, 1, 64, r->a);
	p[1] = jv_int(&r->v, r->json, "daily_message_limit", create ? JV_REQUIRED : 0, 0,
	    10000000, &v) ? (snprintf(num[0], 24, "%lld", (long long)v), num[0]) : NULL;
	set[0] = json_object_object_get_ex(r->json, "monthly_token_limit", NULL);
	p[2] = jv_int(&r->v, r->json, "monthly_token_limit", JV_NULLABLE, 0, INT64_MAX / 2,
	    &v) ? (snprintf(num[1], 24, "%lld", (long long)v), num[1]) : NULL;
	set[2] = json_object_object_get_ex(r->json, "max_tokens_per_request", NULL);
	p[4] = jv_int(&r->v, r->json, "max_tokens_per_request", JV_NULLABLE, 1, 10000000,
	    &v) ? (snprintf(num[2], 24, "%lld", (long long)v), num[2]) : NULL;
	set[1] = json_object_object_get_ex(r->json, "allowed_models", &arr);
	p[3] = NULL;
	if (set[1] && arr != NULL) {
		if (!json_object_is_type(arr, json_type_array) ||
		    json_object_array_length(arr) > 500) {
			jv_error(&r->v, "allowed_models", "must be a list of model ids");
			return;
		}
		models = buf_arena_new(r->a);
		for (i = 0; i < json_object_array_length(arr); i++) {
			it = json_object_array_get_idx(arr, i);
			if (!json_object_is_type(it, json_type_string) ||
			    !llm_model_name_ok(json_object_get_string(it))) {
				jv_error(&r->v, "allowed_models", "must be a list of model ids");
				return;
			}
			if (i > 0)
				buf_addch(models, ',');
			buf_adds(models, json_object_get_string(it));
		}
		p[3] = models->data;
	}
}

/* POST /admin/plans {name, daily_message_limit, monthly_token_limit?,
 * allowed_models?, max_tokens_per_request?} */
int
h_admin_plans_create(struct req *r)
{
	const char	*p[5];
	char		 num[3][24];
	bool		 set[3];
	PGresult	*res;

	plan_fields(r, p, num, set, true);
	if (jv_failed(&r->v))
		return req_invalid(r);
	if (req_db_begin(r) != 0)
		return -1;
	if ((res = req_db(r, &st_plan_create, 5, p)) == NULL) {
		if (strcmp(r->sqlstate, SQLSTATE_UNIQUE) == 0)
			return req_fail(r, 409, "plan_exists", "a plan with this name exists");
		return -1;
	}
	if (admin_audit(r, "plan.create", "plan", PQgetvalue(res, 0, 0), NULL,
	    PQgetvalue(res, 0, 1)) != 0 || req_db_commit(r) != 0)
		return -1;
	r->match.nparams = 1;
	r->match.names[0] = "id";
	r->match.name_len[0] = 2;
	r->match.values[0] = arena_strdup(r->a, PQgetvalue(res, 0, 0));
	if (h_admin_plans_get(r) != 0)
		return -1;
	r->status = 201;
	return 0;
}

/* PATCH /admin/plans/:id - any of the fields; null clears the nullable ones. */
int
h_admin_plans_update(struct req *r)
{
	const char	*id = req_path_param(r, "id"), *p[9], *f[5];
	char		 num[3][24];
	bool		 set[3];
	PGresult	*before, *res;

	plan_fields(r, f, num, set, false);
	if (jv_failed(&r->v))
		return req_invalid(r);
	p[0] = id;
	if (req_db_begin(r) != 0 || (before = req_db(r, &st_plan_json, 1, p)) == NULL)
		return -1;
	if (PQntuples(before) != 1)
		return req_fail(r, 404, "not_found", "no such plan");
	if (f[0] != NULL && strcmp(PQgetvalue(before, 0, 1), "free") == 0 &&
	    strcmp(f[0], "free") != 0)
		return req_fail(r, 409, "free_plan", "the free plan cannot be renamed");
	p[1] = f[0];
	p[2] = f[1];
	p[3] = f[2];
	p[4] = f[3];
	p[5] = f[4];
	p[6] = set[0] ? "t" : "f";
	p[7] = set[1] ? "t" : "f";
	p[8] = set[2] ? "t" : "f";
	if ((res = req_db(r, &st_plan_update, 9, p)) == NULL) {
		if (strcmp(r->sqlstate, SQLSTATE_UNIQUE) == 0)
			return req_fail(r, 409, "plan_exists", "a plan with this name exists");
		return -1;
	}
	if (admin_audit(r, "plan.update", "plan", id, PQgetvalue(before, 0, 0),
	    PQgetvalue(res, 0, 0)) != 0 || req_db_commit(r) != 0)
		return -1;
	return h_admin_plans_get(r);
}

/* DELETE /admin/plans/:id - its users fall back to free. */
int
h_admin_plans_delete(struct req *r)
{
	const char	*id = req_path_param(r, "id"), *p[1] = { id };
	PGresult	*before, *res;

	if (req_db_begin(r) != 0 || (before = req_db(r, &st_plan_json, 1, p)) == NULL)
		return -1;
	if (PQntuples(before) != 1)
		return req_fail(r, 404, "not_found", "no such plan");
	if (strcmp(PQgetvalue(before, 0, 1), "free") == 0)
		return req_fail(r, 409, "free_plan", "the free plan cannot be deleted");
	if ((res = req_db(r, &st_plan_delete, 1, p)) == NULL ||
	    admin_audit(r, "plan.delete", "plan", id, PQgetvalue(before, 0, 0), NULL) != 0 ||
	    req_db_commit(r) != 0)
		return -1;
	r->status = 204;
	return 0;
}

/* ---- usage ---- */

static bool
date_ok(const char *s)
{
	int i;

	for (i = 0; i < 10; i++)
		if (i == 4 || i == 7 ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
			return false;
	return s[10] == '\0';
}

/* A CSV field, quoted when it has to be (RFC 4180). */
static void
csv_field(struct buf *b, const char *s)
{
	if (s == NULL)
		return;
	if (strpbrk(s, ",\"\r\n") == NULL) {
		buf_adds(b, s);
		return;
	}
	buf_addch(b, '"');
	for (; *s != '\0'; s++) {
		if (*s == '"')
			buf_addch(b, '"');
		buf_addch(b, *s);
	}
	buf_addch(b, '"');
}

/*
 * GET /admin/usage?from&to&group_by=day|user|org|model|provider&user&limit
 * Totals over the range by the group (top N by tokens for user, org, model,
 * provider); Accept: text/csv gives the same as CSV.
 */
int
h_admin_usage(struct req *r)
{
	const char	*from = req_query(r, "from"), *to = req_query(r, "to");
	const char	*by = req_query(r, "group_by"), *user = req_query(r, "user");
	const char	*lim = req_query(r, "limit"), *accept = req_header(r, "Accept");
	const char	*p[5], *label;
	long long	 n = 1000;
	PGresult	*res;
	json_object	*out, *items, *o;
	struct buf	*csv;
	int		 g, i;

	for (g = 0; g < 5 && by != NULL && strcmp(by, usage_groups[g]) != 0; g++)
		;
	if (by == NULL)
		g = 0;
	if (g == 5)
		jv_error(&r->v, "group_by", "must be day, user, org, model or provider");
	if (from == NULL || !date_ok(from))
		jv_error(&r->v, "from", "is required, a date YYYY-MM-DD");
	if (to == NULL || !date_ok(to))
		jv_error(&r->v, "to", "is required, a date YYYY-MM-DD");
	if (user != NULL && !uuid_valid(user))
		jv_error(&r->v, "user", "must be a user id");
	if (lim != NULL && !parse_int(lim, 1, 100000, &n))
		jv_error(&r->v, "limit", "must be an integer from 1 to 100000");
	if (jv_failed(&r->v))
		return req_invalid(r);
	p[0] = from;
	p[1] = to;
	p[2] = user;
	p[3] = arena_sprintf(r->a, "%lld", n);
	if (req_db_begin(r) != 0 || (res = req_db(r, &st_report_setup, 0, NULL)) == NULL)
		return -1;
	p[4] = PQntuples(res) == 1 ? arena_strdup(r->a, PQgetvalue(res, 0, 0)) : "0";
	if ((res = req_db(r, usage_stmt(g, user != NULL), 5, p)) == NULL) {
		if (strncmp(r->sqlstate, "22", 2) == 0) {
			jv_error(&r->v, "from", "from and to must be valid dates");
			return req_invalid(r);
		}
		return -1;
	}
	if (req_db_commit(r) != 0)
		return -1;
	label = g == 1 ? "email" : g == 2 ? "name" : g == 3 ? "provider" : NULL;
	if (accept != NULL && strncasecmp(accept, "text/csv", 8) == 0) {
		csv = buf_arena_new(r->a);
		buf_printf(csv, "%s%s%s,requests,failed,prompt_tokens,completion_tokens,"
		    "cost_usd\r\n", usage_groups[g], label ? "," : "", label ? label : "");
		for (i = 0; i < PQntuples(res); i++) {
			csv_field(csv, PQgetvalue(res, i, 0));
			if (label != NULL) {
				buf_addch(csv, ',');
				csv_field(csv, PQgetvalue(res, i, 1));
			}
			buf_printf(csv, ",%s,%s,%s,%s,%s\r\n", PQgetvalue(res, i, 2),
			    PQgetvalue(res, i, 3), PQgetvalue(res, i, 4),
			    PQgetvalue(res, i, 5), PQgetvalue(res, i, 6));
		}
		return resp_raw(r, 200, "text/csv; charset=utf-8", csv->data, csv->len);
	}
	out = jarena(r->a, json_object_new_object());
	json_object_object_add(out, "group_by", json_object_new_string(usage_groups[g]));
	json_object_object_add(out, "from", json_object_new_string(from));
	json_object_object_add(out, "to", json_object_new_string(to));
	items = json_object_new_array();
	for (i = 0; i < PQntuples(res); i++) {
		o = json_object_new_object();
		json_object_object_add(o, usage_groups[g], jpg_str(res, i, 0));
		if (label != NULL)
			json_object_object_add(o, label, jpg_str(res, i, 1));
		json_object_object_add(o, "requests", jpg_int(res, i, 2));
		json_object_object_add(o, "failed", jpg_int(res, i, 3));
		json_object_object_add(o, "prompt_tokens", jpg_int(res, i, 4));
		json_object_object_add(o, "completion_tokens", jpg_int(res, i, 5));
		json_object_object_add(o, "cost_usd", jpg_num(res, i, 6));
		json_object_array_add(items, o);
	}
	json_object_object_add(out, "items", items);
	return resp_json(r, 200, out);
}

/* ---- moderation ---- */

/* GET /admin/users/:id/chats - audited. */
int
h_admin_user_chats(struct req *r)
{
	struct page	 pg;
	const char	*id = req_path_param(r, "id"), *p[4];
	PGresult	*res;
	json_object	*out, *items, *c;
	int		 i, n;

	if (req_page(r, &pg, 50, 200) != 0)
		return -1;
	p[0] = id;
	p[1] = pg.ts;
	p[2] = pg.id;
	p[3] = pg.fetch;
	if ((res = req_db(r, &st_user_exists, 1, p)) == NULL)
		return -1;
	if (PQntuples(res) != 1)
		return req_fail(r, 404, "not_found", "no such user");
	if ((res = req_db(r, &st_user_chats, 4, p)) == NULL ||
	    admin_audit(r, "chat.list", "user", id, NULL, NULL) != 0)
		return -1;
	out = jarena(r->a, json_object_new_object());
	items = json_object_new_array();
	n = PQntuples(res);
	for (i = 0; i < n && i < pg.limit; i++) {
		c = json_object_new_object();
		json_object_object_add(c, "id", jpg_str(res, i, 0));
		json_object_object_add(c, "title", jpg_str(res, i, 1));
		json_object_object_add(c, "model", jpg_str(res, i, 2));
		json_object_object_add(c, "org_id", jpg_str(res, i, 3));
		json_object_object_add(c, "created_at", jpg_time(res, i, 4));
		json_object_object_add(c, "updated_at", jpg_time(res, i, 5));
		json_object_object_add(c, "messages", jpg_int(res, i, 6));
		json_object_array_add(items, c);
	}
	json_object_object_add(out, "items", items);
	json_object_object_add(out, "next_cursor", n > pg.limit ? jstr(page_cursor(r->a,
	    PQgetvalue(res, (int)pg.limit - 1, 7), PQgetvalue(res, (int)pg.limit - 1, 0))) :
	    NULL);
	return resp_json(r, 200, out);
}

/* GET /admin/chats/:id - every message, hidden ones too; audited. */
int
h_admin_chat_read(struct req *r)
{
	const char	*id = req_path_param(r, "id"), *p[1] = { id };
	PGresult	*res;
	json_object	*c;

	if ((res = req_db(r, &st_chat_read, 1, p)) == NULL)
		return -1;
	if (PQntuples(res) != 1)
		return req_fail(r, 404, "not_found", "no such chat");
	if (admin_audit(r, "chat.read", "chat", id, NULL, NULL) != 0)
		return -1;
	c = jarena(r->a, json_object_new_object());
	json_object_object_add(c, "id", jpg_str(res, 0, 0));
	json_object_object_add(c, "title", jpg_str(res, 0, 1));
	json_object_object_add(c, "model", jpg_str(res, 0, 2));
	json_object_object_add(c, "user_id", jpg_str(res, 0, 3));
	json_object_object_add(c, "org_id", jpg_str(res, 0, 4));
	json_object_object_add(c, "system_prompt", jpg_str(res, 0, 5));
	json_object_object_add(c, "created_at", jpg_time(res, 0, 6));
	json_object_object_add(c, "messages", jpg_json(res, 0, 7));
	return resp_json(r, 200, c);
}

/* POST /admin/messages/:id/hide - the user no longer sees it, nor the model. */
int
h_admin_message_hide(struct req *r)
{
	const char	*id = req_path_param(r, "id"), *p[2] = { id, admin_actor(r) };
	PGresult	*res;

	if (req_db_begin(r) != 0 || (res = req_db(r, &st_hide, 2, p)) == NULL)
		return -1;
	if (PQntuples(res) != 1)
		return req_fail(r, 404, "not_found", "no such message");
	if (admin_audit(r, "message.hide", "message", id, NULL, PQgetvalue(res, 0, 0)) != 0 ||
	    req_db_commit(r) != 0)
		return -1;
	return resp_json(r, 200, jarena(r->a, jpg_json(res, 0, 0)));
}

/* GET /admin/moderation/flags?reviewed=true|false */
int
h_admin_flags(struct req *r)
{
	struct page	 pg;
	const char	*rev = req_query(r, "reviewed"), *p[4];
	PGresult	*res;
	json_object	*out, *items, *f;
	int		 i, n;

	if (rev != NULL && strcmp(rev, "true") != 0 && strcmp(rev, "false") != 0) {
		jv_error(&r->v, "reviewed", "must be true or false");
		return req_invalid(r);
	}
	if (req_page(r, &pg, 50, 200) != 0)
		return -1;
	p[0] = rev;
	p[1] = pg.ts;
	p[2] = pg.id;
	p[3] = pg.fetch;
	if ((res = req_db(r, &st_flags, 4, p)) == NULL)
		return -1;
	out = jarena(r->a, json_object_new_object());
	items = json_object_new_array();
	n = PQntuples(res);
	for (i = 0; i < n && i < pg.limit; i++) {
		f = json_object_new_object();
		json_object_object_add(f, "id", jpg_str(res, i, 0));
		json_object_object_add(f, "created_at", jpg_time(res, i, 1));
		json_object_object_add(f, "user_id", jpg_str(res, i, 2));
		json_object_object_add(f, "email", jpg_str(res, i, 3));
		json_object_object_add(f, "org_id", jpg_str(res, i, 4));
		json_object_object_add(f, "api_key_id", jpg_str(res, i, 5));
		json_object_object_add(f, "chat_id", jpg_str(res, i, 6));
		json_object_object_add(f, "message_id", jpg_str(res, i, 7));
		json_object_object_add(f, "content", jpg_str(res, i, 8));
		json_object_object_add(f, "categories", jpg_json(res, i, 9));
		json_object_object_add(f, "reviewed_at", jpg_time(res, i, 10));
		json_object_object_add(f, "reviewed_by", jpg_str(res, i, 11));
		json_object_array_add(items, f);
	}
	json_object_object_add(out, "items", items);
	json_object_object_add(out, "next_cursor", n > pg.limit ? jstr(page_cursor(r->a,
	    PQgetvalue(res, (int)pg.limit - 1, 12), PQgetvalue(res, (int)pg.limit - 1, 0))) :
	    NULL);
	return resp_json(r, 200, out);
}

/* POST /admin/moderation/flags/:id/review */
int
h_admin_flag_review(struct req *r)
{
	const char	*id = req_path_param(r, "id"), *p[2] = { id, admin_actor(r) };
	PGresult	*res;

	if (req_db_begin(r) != 0 || (res = req_db(r, &st_flag_review, 2, p)) == NULL)
		return -1;
	if (PQntuples(res) != 1)
		return req_fail(r, 404, "not_found", "no such unreviewed flag");
	if (admin_audit(r, "flag.review", "flag", id, NULL, NULL) != 0 ||
	    req_db_commit(r) != 0)
		return -1;
	r->status = 204;
	return 0;
}

/* ---- providers and models ---- */

/* GET /admin/providers - configuration (no keys), health, prices. */
int
h_admin_providers(struct req *r)
{
	const struct llm_provider	*pv;
	PGresult			*health, *prices;
	json_object			*out, *items, *o, *h, *arr, *ph;
	size_t				 n, i, j;
	int				 k;

	if ((health = req_db(r, &st_health, 0, NULL)) == NULL ||
	    (prices = req_db(r, &st_prices, 0, NULL)) == NULL)
		return -1;
	h = jarena(r->a, jpg_json(health, 0, 0));
	out = jarena(r->a, json_object_new_object());
	items = json_object_new_array();
	pv = llm_providers(&n);
	for (i = 0; i < n; i++) {
		o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(pv[i].name));
		json_object_object_add(o, "configured", json_object_new_boolean(*pv[i].base_url != '\0'));
		json_object_object_add(o, "base_url", json_object_new_string(pv[i].base_url));
		json_object_object_add(o, "has_key", json_object_new_boolean(*pv[i].key != '\0'));
		arr = json_object_new_array();
		for (j = 0; j < pv[i].models->n; j++)
			json_object_array_add(arr, json_object_new_string(pv[i].models->v[j]));
		json_object_object_add(o, "models", arr);
		ph = NULL;
		if (h != NULL && json_object_object_get_ex(h, pv[i].name, &ph))
			json_object_get(ph);
		json_object_object_add(o, "health", ph);
		json_object_array_add(items, o);
	}
	json_object_object_add(out, "providers", items);
	arr = json_object_new_array();
	for (k = 0; k < PQntuples(prices); k++) {
		o = json_object_new_object();
		json_object_object_add(o, "model", jpg_str(prices, k, 0));
		json_object_object_add(o, "prompt_usd_per_mtok", jpg_num(prices, k, 1));
		json_object_object_add(o, "completion_usd_per_mtok", jpg_num(prices, k, 2));
		json_object_object_add(o, "context_tokens", jpg_int(prices, k, 3));
		json_object_object_add(o, "updated_at", jpg_time(prices, k, 4));
		json_object_array_add(arr, o);
	}
	json_object_object_add(out, "prices", arr);
	return resp_json(r, 200, out);
}

/* PUT /admin/model-prices {model, prompt_usd_per_mtok, completion_usd_per_mtok,
 * context_tokens?} (a model id may contain "/": it is in the body) */
int
h_admin_price_put(struct req *r)
{
	static const char *const fields[] = { "model", "prompt_usd_per_mtok",
	    "completion_usd_per_mtok", "context_tokens", NULL };
	const char	*model, *p[4], *before;
	double		 pp = 0, cp = 0;
	int64_t		 ctx;
	char		 a[32], b[32], c[24];
	PGresult	*res;

	jv_only(&r->v, r->json, fields);
	model = jv_string(&r->v, r->json, "model", JV_REQUIRED | JV_TRIM, 1, 128, r->a);
	if (model != NULL && !llm_model_name_ok(model))
		jv_error(&r->v, "model", "is not a model id");
	jv_double(&r->v, r->json, "prompt_usd_per_mtok", JV_REQUIRED, 0, 1000000, &pp);
	jv_double(&r->v, r->json, "completion_usd_per_mtok", JV_REQUIRED, 0, 1000000, &cp);
	p[3] = jv_int(&r->v, r->json, "context_tokens", JV_NULLABLE, 1, 100000000, &ctx) ?
	    (snprintf(c, sizeof(c), "%lld", (long long)ctx), c) : NULL;
	if (jv_failed(&r->v))
		return req_invalid(r);
	snprintf(a, sizeof(a), "%.6f", pp);
	snprintf(b, sizeof(b), "%.6f", cp);
	p[0] = model;
	p[1] = a;
	p[2] = b;
	if (req_db_begin(r) != 0 || (res = req_db(r, &st_price_before, 1, p)) == NULL)
		return -1;
	before = PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : NULL;
	if ((res = req_db(r, &st_price_put, 4, p)) == NULL ||
	    admin_audit(r, "price.set", "model", model, before, PQgetvalue(res, 0, 0)) != 0 ||
	    req_db_commit(r) != 0)
		return -1;
	return resp_json(r, 200, jarena(r->a, jpg_json(res, 0, 0)));
}

/* DELETE /admin/model-prices?model=... */
int
h_admin_price_delete(struct req *r)
{
	const char	*model = req_query(r, "model"), *p[1] = { model };
	PGresult	*res;

	if (model == NULL || !llm_model_name_ok(model)) {
		jv_error(&r->v, "model", "is required");
		return req_invalid(r);
	}
	if (req_db_begin(r) != 0 || (res = req_db(r, &st_price_del, 1, p)) == NULL)
		return -1;
	if (PQntuples(res) != 1)
		return req_fail(r, 404, "not_found", "no price for this model");
	if (admin_audit(r, "price.delete", "model", model, PQgetvalue(res, 0, 0), NULL) != 0 ||
	    req_db_commit(r) != 0)
		return -1;
	r->status = 204;
	return 0;
}

/* POST /admin/models/refresh - forget the cached lists, fetch them again. */
int
h_admin_models_refresh(struct req *r)
{
	if (req_db(r, &st_cache_clear, 0, NULL) == NULL ||
	    admin_audit(r, "models.refresh", "models", NULL, NULL, NULL) != 0)
		return -1;
	return h_ai_models(r);
}

/* ---- audit ---- */

/* GET /admin/audit?actor&action&target&from&to&limit&cursor */
int
h_admin_audit(struct req *r)
{
	const char	*actor = req_query(r, "actor"), *action = req_query(r, "action");
	const char	*target = req_query(r, "target"), *from = req_query(r, "from");
	const char	*to = req_query(r, "to"), *p[8];
	struct page	 pg;
	PGresult	*res;
	json_object	*out, *items, *a;
	int		 i, n;

	if (from != NULL && !date_ok(from))
		jv_error(&r->v, "from", "must be a date YYYY-MM-DD");
	if (to != NULL && !date_ok(to))
		jv_error(&r->v, "to", "must be a date YYYY-MM-DD");
	if (jv_failed(&r->v))
		return req_invalid(r);
	if (req_page(r, &pg, 50, 500) != 0)
		return -1;
	p[0] = actor;
	p[1] = action;
	p[2] = target;
	p[3] = from;
	p[4] = to;
	p[5] = pg.ts;
	p[6] = pg.id;
	p[7] = pg.fetch;
	if ((res = req_db(r, &st_audit_list, 8, p)) == NULL)
		return -1;
	out = jarena(r->a, json_object_new_object());
	items = json_object_new_array();
	n = PQntuples(res);
	for (i = 0; i < n && i < pg.limit; i++) {
		a = json_object_new_object();
		json_object_object_add(a, "id", jpg_int(res, i, 0));
		json_object_object_add(a, "created_at", jpg_time(res, i, 1));
		json_object_object_add(a, "actor", jpg_str(res, i, 2));
		json_object_object_add(a, "action", jpg_str(res, i, 3));
		json_object_object_add(a, "target_type", jpg_str(res, i, 4));
		json_object_object_add(a, "target_id", jpg_str(res, i, 5));
		json_object_object_add(a, "before", jpg_json(res, i, 6));
		json_object_object_add(a, "after", jpg_json(res, i, 7));
		json_object_object_add(a, "request_id", jpg_str(res, i, 8));
		json_object_array_add(items, a);
	}
	json_object_object_add(out, "items", items);
	json_object_object_add(out, "next_cursor", n > pg.limit ? jstr(page_cursor(r->a,
	    PQgetvalue(res, (int)pg.limit - 1, 9), PQgetvalue(res, (int)pg.limit - 1, 0))) :
	    NULL);
	return resp_json(r, 200, out);
}
