/*
 * h_ai.c - models, usage, and users' own provider keys.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "crypto.h"
#include "lexar.h"
#include "log.h"
#include "util.h"

static struct db_stmt st_models_state = DB_STMT(
    "SELECT (SELECT array_to_json(allowed_models) FROM effective_limits($1))::text,"
    " (SELECT json_object_agg(provider, json_build_object('models', models,"
    "   'fresh', fetched_at > now() - make_interval(secs => $2::int))) FROM model_cache)::text");
static struct db_stmt st_models_put = DB_STMT(
    "INSERT INTO model_cache (provider, models, fetched_at) VALUES ($1, $2::jsonb, now())"
    " ON CONFLICT (provider) DO UPDATE SET models = EXCLUDED.models, fetched_at = now()");
static struct db_stmt st_key_get = DB_STMT(
    "SELECT key_id, nonce, ciphertext FROM provider_keys WHERE user_id = $1 AND provider = $2");
static struct db_stmt st_key_put = DB_STMT(
    "INSERT INTO provider_keys AS k (user_id, provider, key_id, nonce, ciphertext, last4)"
    " VALUES ($1, $2, $3, decode($4, 'hex'), decode($5, 'hex'), $6)"
    " ON CONFLICT (user_id, provider) DO UPDATE SET key_id = EXCLUDED.key_id,"
    "  nonce = EXCLUDED.nonce, ciphertext = EXCLUDED.ciphertext, last4 = EXCLUDED.last4,"
    "  updated_at = now()"
    " RETURNING k.provider, k.last4, k.created_at, k.updated_at, xmax = 0");
static struct db_stmt st_key_list = DB_STMT(
    "SELECT provider, last4, created_at, updated_at FROM provider_keys"
    " WHERE user_id = $1 ORDER BY provider");
static struct db_stmt st_key_delete = DB_STMT(
    "DELETE FROM provider_keys WHERE user_id = $1 AND provider = $2 RETURNING provider");
static struct db_stmt st_usage_test = DB_STMT(
    "INSERT INTO usage (user_id, org_id, api_key_id, provider, model, latency_ms,"
    " status, own_key, kind, request_id)"
    " VALUES ($1, $2, $3, $4, '(models list)', $5, $6, $7, 'test', $8)");
static struct db_stmt st_usage = DB_STMT(
    "SELECT CASE WHEN $4 = 'model' THEN model ELSE to_char(created_at AT TIME ZONE 'UTC',"
    "  'YYYY-MM-DD') END AS k, count(*), coalesce(sum(prompt_tokens), 0),"
    " coalesce(sum(completion_tokens), 0), coalesce(sum(cost_usd), 0)::text,"
    " count(*) FILTER (WHERE status <> 'ok')"
    " FROM usage WHERE user_id = $1 AND created_at >= $2::date"
    " AND created_at < $3::date + 1 GROUP BY 1 ORDER BY 1");

/* ---- GET /api/v1/ai/models ---- */

static bool
allowed_by(json_object *allowed, const char *id)
{
	size_t i;

	if (allowed == NULL)
		return true;
	for (i = 0; i < json_object_array_length(allowed); i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(allowed, i)), id) == 0)
			return true;
	return false;
}

/* "available": this provider is the one that serves id, and the plan allows it. */
static void
add_model(json_object *items, const char *id, const struct llm_provider *p,
    json_object *allowed, const char *source)
{
	json_object *m = json_object_new_object();

	json_object_object_add(m, "id", json_object_new_string(id));
	json_object_object_add(m, "provider", json_object_new_string(p->name));
	json_object_object_add(m, "available", json_object_new_boolean(
	    llm_provider_for_model(id) == p && allowed_by(allowed, id)));
	json_object_object_add(m, "source", json_object_new_string(source));
	json_object_array_add(items, m);
}

/*
 * Models of every configured provider: the provider's own list, kept in
 * PostgreSQL for llm.models_cache_s; when it cannot be reached, the last
 * list fetched, else the configured one. "available": the caller may use
 * it (configured for Lexar and allowed by the plan).
 */
int
h_ai_models(struct req *r)
{
	const struct llm_provider	*p;
	const char			*params[2], *why, *src;
	char				 secs[16];
	json_object			*allowed = NULL, *cache = NULL, *out, *items;
	json_object			*entry, *list, *fresh;
	struct buf			*fetched;
	PGresult			*res;
	size_t				 n, i, j;

	snprintf(secs, sizeof(secs), "%ld", cfg.llm_models_cache_s);
	params[0] = r->auth.user_id;
	params[1] = secs;
	if ((res = req_db(r, &st_models_state, 2, params)) == NULL)
		return -1;
	allowed = jarena(r->a, jpg_json(res, 0, 0));
	cache = jarena(r->a, jpg_json(res, 0, 1));
	out = jarena(r->a, json_object_new_object());
	items = json_object_new_array();
	json_object_object_add(out, "items", items);
	fetched = buf_arena_new(r->a);
	p = llm_providers(&n);
	for (i = 0; i < n; i++) {
		if (*p[i].base_url == '\0')
			continue;
		list = NULL;
		src = "cache";
		entry = NULL;
		if (cache != NULL)
			json_object_object_get_ex(cache, p[i].name, &entry);
		json_object_object_get_ex(entry, "fresh", &fresh);
		if (entry == NULL || !json_object_get_boolean(fresh)) {
			buf_reset(fetched);
			if ((*p[i].key != '\0' || p[i].keyless) &&
			    llm_list_models(r, &p[i], p[i].key, fetched) == 0) {
				params[0] = p[i].name;
				params[1] = fetched->data;
				if (req_db(r, &st_models_put, 2, params) == NULL)
					return -1;
				list = jarena(r->a, json_parse(fetched->data, fetched->len, &why));
				src = "live";
			} else if (req_failed(r))
				return -1;
		}
		if (list == NULL && entry != NULL)
			json_object_object_get_ex(entry, "models", &list);
		if (list != NULL && json_object_is_type(list, json_type_array)) {
			for (j = 0; j < json_object_array_length(list); j++)
				add_model(items, json_object_get_string(
				    json_object_array_get_idx(list, j)), &p[i], allowed, src);
		} else {
			for (j = 0; j < p[i].models->n; j++)
				add_model(items, p[i].models->v[j], &p[i], allowed, "fallback");
		}
	}
	return resp_json(r, 200, out);
}

/* ---- users' own keys ---- */

static const struct llm_provider *
provider_param(struct req *r)
{
	const struct llm_provider *p = llm_provider_named(req_path_param(r, "provider"));

	if (p == NULL || *p->base_url == '\0')
		req_fail(r, 404, "not_found", "no such provider is configured");
	return p;
}

/* PUT /api/v1/me/provider-keys/:provider {key} */
int
h_ai_key_put(struct req *r)
{
	static const char *const fields[] = { "key", NULL };
	const struct llm_provider	*pv;
	const char			*key, *kid, *p[6];
	char				*aad, *nhex, *chex;
	unsigned char			 nonce[CRYPTO_NONCE], *ct;
	size_t				 ctlen, i, n;
	PGresult			*res;
	json_object			*o;

	if ((pv = provider_param(r)) == NULL)
		return -1;
	if (!crypto_enabled())
		return req_fail(r, 503, "not_configured",
		    "storing provider keys needs crypto.master_keys on the server");
	jv_only(&r->v, r->json, fields);
	key = jv_string(&r->v, r->json, "key", JV_REQUIRED | JV_TRIM | JV_SINGLELINE,
	    8, 512, r->a);
	for (i = 0; key != NULL && key[i] != '\0'; i++)
		if ((unsigned char)key[i] <= 0x20 || (unsigned char)key[i] >= 0x7f) {
			jv_error(&r->v, "key", "must be printable ASCII without spaces");
			break;
		}
	if (jv_failed(&r->v))
		return req_invalid(r);
	n = strlen(key);
	aad = arena_sprintf(r->a, "%s/%s", r->auth.user_id, pv->name);
	if (crypto_seal(r->a, key, n, aad, &kid, nonce, &ct, &ctlen) != 0)
		return req_internal(r, "encryption failed");
	nhex = arena_alloc(r->a, 2 * CRYPTO_NONCE + 1);
	hex_encode(nhex, nonce, CRYPTO_NONCE);
	chex = arena_alloc(r->a, 2 * ctlen + 1);
	hex_encode(chex, ct, ctlen);
	p[0] = r->auth.user_id;
	p[1] = pv->name;
	p[2] = kid;
	p[3] = nhex;
	p[4] = chex;
	p[5] = key + n - 4;
	if ((res = req_db(r, &st_key_put, 6, p)) == NULL)
		return -1;
	o = jarena(r->a, json_object_new_object());
	json_object_object_add(o, "provider", jpg_str(res, 0, 0));
	json_object_object_add(o, "last4", jpg_str(res, 0, 1));
	json_object_object_add(o, "created_at", jpg_time(res, 0, 2));
	json_object_object_add(o, "updated_at", jpg_time(res, 0, 3));
	/* xmax = 0: the row was inserted, not updated. */
	return resp_json(r, PQgetvalue(res, 0, 4)[0] == 't' ? 201 : 200, o);
}

/* GET /api/v1/me/provider-keys - provider and last 4 characters only. */
int
h_ai_key_list(struct req *r)
{
	const char	*p[1] = { r->auth.user_id };
	PGresult	*res;
	json_object	*out, *items, *o;
	int		 i;

	if ((res = req_db(r, &st_key_list, 1, p)) == NULL)
		return -1;
	out = jarena(r->a, json_object_new_object());
	items = json_object_new_array();
	for (i = 0; i < PQntuples(res); i++) {
		o = json_object_new_object();
		json_object_object_add(o, "provider", jpg_str(res, i, 0));
		json_object_object_add(o, "last4", jpg_str(res, i, 1));
		json_object_object_add(o, "created_at", jpg_time(res, i, 2));
		json_object_object_add(o, "updated_at", jpg_time(res, i, 3));
		json_object_array_add(items, o);
	}
	json_object_object_add(out, "items", items);
	return resp_json(r, 200, out);
}

/* DELETE /api/v1/me/provider-keys/:provider */
int
h_ai_key_delete(struct req *r)
{
	const struct llm_provider	*pv;
	const char			*p[2];
	PGresult			*res;

	if ((pv = provider_param(r)) == NULL)
		return -1;
	p[0] = r->auth.user_id;
	p[1] = pv->name;
	if ((res = req_db(r, &st_key_delete, 2, p)) == NULL)
		return -1;
	if (PQntuples(res) != 1)
		return req_fail(r, 404, "not_found", "no key stored for %s", pv->name);
	r->status = 204;
	return 0;
}

/* The caller's own key for pv, decrypted, or NULL. */
static const char *
own_key(struct req *r, const struct llm_provider *pv)
{
	const char	*p[2] = { r->auth.user_id, pv->name };
	PGresult	*res;
	size_t		 nn, cn;
	unsigned char	*nonce, *ct;

	if ((res = req_db(r, &st_key_get, 2, p)) == NULL || PQntuples(res) != 1)
		return NULL;
	nonce = PQunescapeBytea((const unsigned char *)PQgetvalue(res, 0, 1), &nn);
	ct = PQunescapeBytea((const unsigned char *)PQgetvalue(res, 0, 2), &cn);
	arena_cleanup(r->a, PQfreemem, nonce);
	arena_cleanup(r->a, PQfreemem, ct);
	if (nonce == NULL || ct == NULL || nn != CRYPTO_NONCE)
		return NULL;
	return crypto_open(r->a, PQgetvalue(res, 0, 0), nonce, ct, cn,
	    arena_sprintf(r->a, "%s/%s", r->auth.user_id, pv->name));
}

/* POST /api/v1/ai/test-connection {provider} - one cheap call with the key
 * that would be used (the caller's own, else the platform's). */
int
h_ai_test_connection(struct req *r)
{
	static const char *const fields[] = { "provider", NULL };
	const struct llm_provider	*pv = NULL;
	const char			*name, *key, *why = NULL, *p[8];
	char				 lat[24];
	int64_t				 latency = 0;
	json_object			*o;
	bool				 own, ok;

	jv_only(&r->v, r->json, fields);
	name = jv_string(&r->v, r->json, "provider", JV_REQUIRED, 1, 32, r->a);
	if (name != NULL && ((pv = llm_provider_named(name)) == NULL || *pv->base_url == '\0'))
		jv_error(&r->v, "provider", "is not a configured provider");
	if (jv_failed(&r->v))
		return req_invalid(r);
	key = own_key(r, pv);
	if (req_failed(r))
		return -1;
	own = key != NULL;
	if (key == NULL)
		key = pv->key;
	if (*key == '\0' && !pv->keyless) {
		ok = false;
		why = arena_sprintf(r->a, "no key: store one with PUT "
		    "/api/v1/me/provider-keys/%s", pv->name);
	} else {
		ok = llm_check_key(r, pv, key, &why, &latency) == 0;
		if (!ok && req_failed(r))
			return -1;
		snprintf(lat, sizeof(lat), "%lld", (long long)latency);
		p[0] = r->auth.user_id;
		p[1] = r->auth.org_id;
		p[2] = r->auth.api_key_id;
		p[3] = pv->name;
		p[4] = lat;
		p[5] = ok ? "ok" : "upstream_error";
		p[6] = own ? "t" : "f";
		p[7] = r->request_id;
		if (req_db(r, &st_usage_test, 8, p) == NULL)
			return -1;
	}
	o = jarena(r->a, json_object_new_object());
	json_object_object_add(o, "provider", json_object_new_string(pv->name));
	json_object_object_add(o, "ok", json_object_new_boolean(ok));
	json_object_object_add(o, "key_source", json_object_new_string(own ? "own" : "platform"));
	json_object_object_add(o, "latency_ms", json_object_new_int64(latency));
	json_object_object_add(o, "error", jstr(ok ? NULL : why));
	return resp_json(r, 200, o);
}

/* ---- GET /api/v1/usage?from=YYYY-MM-DD&to=...&group_by=day|model ---- */

static bool
date_ok(const char *s)
{
	int i;

	for (i = 0; i < 10; i++)
		if (i == 4 || i == 7 ? s[i] != '-' : !isdigit((unsigned char)s[i]))
			return false;
	return s[10] == '\0';
}

int
h_ai_usage(struct req *r)
{
	const char	*from = req_query(r, "from"), *to = req_query(r, "to");
	const char	*by = req_query(r, "group_by"), *p[4];
	PGresult	*res;
	json_object	*out, *items, *o, *tot;
	long		 reqs = 0, pt = 0, ct = 0, fails = 0;
	double		 cost = 0;
	char		 costs[64];
	int		 i;

	if (by == NULL)
		by = "day";
	if (strcmp(by, "day") != 0 && strcmp(by, "model") != 0)
		jv_error(&r->v, "group_by", "must be day or model");
	if (from != NULL && !date_ok(from))
		jv_error(&r->v, "from", "must be a date YYYY-MM-DD");
	if (to != NULL && !date_ok(to))
		jv_error(&r->v, "to", "must be a date YYYY-MM-DD");
	if (jv_failed(&r->v))
		return req_invalid(r);
	p[0] = r->auth.user_id;
	p[1] = from != NULL ? from : arena_sprintf(r->a, "%s", "-infinity");
	p[2] = to != NULL ? to : "infinity";
	p[3] = by;
	if ((res = req_db(r, &st_usage, 4, p)) == NULL) {
		if (strncmp(r->sqlstate, "22", 2) == 0) {
			jv_error(&r->v, "from", "from and to must be valid dates");
			return req_invalid(r);
		}
		return -1;
	}
	out = jarena(r->a, json_object_new_object());
	items = json_object_new_array();
	for (i = 0; i < PQntuples(res); i++) {
		o = json_object_new_object();
		json_object_object_add(o, by, jpg_str(res, i, 0));
		json_object_object_add(o, "requests", jpg_int(res, i, 1));
		json_object_object_add(o, "prompt_tokens", jpg_int(res, i, 2));
		json_object_object_add(o, "completion_tokens", jpg_int(res, i, 3));
		json_object_object_add(o, "cost_usd", jpg_num(res, i, 4));
		json_object_object_add(o, "failed", jpg_int(res, i, 5));
		json_object_array_add(items, o);
		reqs += atol(PQgetvalue(res, i, 1));
		pt += atol(PQgetvalue(res, i, 2));
		ct += atol(PQgetvalue(res, i, 3));
		cost += strtod(PQgetvalue(res, i, 4), NULL);
		fails += atol(PQgetvalue(res, i, 5));
	}
	json_object_object_add(out, "group_by", json_object_new_string(by));
	json_object_object_add(out, "items", items);
	tot = json_object_new_object();
	json_object_object_add(tot, "requests", json_object_new_int64(reqs));
	json_object_object_add(tot, "prompt_tokens", json_object_new_int64(pt));
	json_object_object_add(tot, "completion_tokens", json_object_new_int64(ct));
	snprintf(costs, sizeof(costs), "%.8f", cost);
	json_object_object_add(tot, "cost_usd", jnum(costs));
	json_object_object_add(tot, "failed", json_object_new_int64(fails));
	json_object_object_add(out, "totals", tot);
	return resp_json(r, 200, out);
}
