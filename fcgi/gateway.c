/*
 * gateway.c - one LLM call with the platform's rules around it, shared by
 * the chat endpoints and the OpenAI-compatible API:
 *
 *   1. llm_begin (one round trip, pipelined with the session check): limits, model
 *      allowed, today's message reserved atomically, the user's message
 *      stored, the chat history and the user's own provider keys loaded;
 *   2. the upstream call (no database connection held), with retries and
 *      fallbacks, streaming deltas to the caller's callback;
 *   3. llm_finish (one round trip): the usage row with its cost, tokens of
 *      the month, the assistant message (or the failure), the reserved
 *      message given back when the call failed.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "config.h"
#include "crypto.h"
#include "lexar.h"
#include "log.h"
#include "util.h"

static struct db_stmt st_begin = DB_STMT(
    "SELECT status, daily_limit, used_today, max_tokens, user_message_id,"
    " user_message_at, context_tokens, system_prompt, history::text, day,"
    " own_keys::text, model FROM llm_begin($1, $2, $3, $4, $5, $6, $7, $8)");
static struct db_stmt st_flag = DB_STMT(
    "WITH m AS (INSERT INTO messages (chat_id, role, content, status)"
    "   SELECT id, 'user', $5, 'flagged' FROM chats"
    "   WHERE id = $4 AND user_id = $1 AND org_id = $2 RETURNING id, chat_id)"
    " INSERT INTO moderation_flags (user_id, org_id, api_key_id, chat_id,"
    "  message_id, content, categories, request_id)"
    " VALUES ($1, $2, $3, (SELECT chat_id FROM m), (SELECT id FROM m), $5,"
    "  string_to_array($6, ','), $7) RETURNING (SELECT id FROM m)");
static struct db_stmt st_finish = DB_STMT(
    "SELECT message_id, message_at, cost FROM llm_finish($1, $2, $3, $4, $5, $6,"
    " $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)");

/* Rough token estimate: ~4 bytes a token plus framing. */
static long
est_tokens(const char *s)
{
	return (long)(strlen(s) + 3) / 4 + 4;
}

/* Seconds until the next UTC day (or month) and its time, for 429s. */
static long
until_reset(char out[32], bool month)
{
	time_t		t = time(NULL), next;
	struct tm	tm;

	gmtime_r(&t, &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	if (month) {
		tm.tm_mday = 1;
		tm.tm_mon++;
		next = timegm(&tm);
	} else
		next = timegm(&tm) + 86400;
	gmtime_r(&next, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return (long)(next - t);
}

static int
refuse(struct req *r, struct gw_call *c, PGresult *res)
{
	const char	*st = PQgetvalue(res, 0, 0);
	char		 reset[32];
	long		 secs;

	if (strcmp(st, "no_chat") == 0)
		return req_fail(r, 404, "not_found", "no such chat");
	if (strcmp(st, "model_not_allowed") == 0) {
		jv_error(&r->v, "model", "is not included in your plan");
		return req_invalid(r);
	}
	if (strcmp(st, "max_tokens") == 0) {
		jv_error(&r->v, "max_tokens", "must be at most %s on your plan",
		    PQgetvalue(res, 0, 3));
		return req_invalid(r);
	}
	secs = until_reset(reset, strcmp(st, "tokens_exceeded") == 0);
	resp_header(r, "Retry-After", "%ld", secs);
	c->daily_limit = atoi(PQgetvalue(res, 0, 1));
	if (strcmp(st, "tokens_exceeded") == 0)
		return req_fail(r, 429, "quota_exceeded",
		    "the monthly token limit of your plan is used up; it resets at %s",
		    reset);
	return req_fail(r, 429, "quota_exceeded",
	    "daily message limit of %d reached; it resets at %s", c->daily_limit, reset);
}

struct keyctx {
	struct req	*r;
	json_object	*keys;		/* {provider: [key_id, nonce, ct]} */
};

static unsigned char *
b64_decode(struct arena *a, const char *s, size_t *n)
{
	size_t		 len = strlen(s);
	unsigned char	*out = arena_alloc(a, len);
	int		 k;

	k = EVP_DecodeBlock(out, (const unsigned char *)s, (int)len);
	if (k < 0)
		return NULL;
	while (len > 0 && s[len - 1] == '=')	/* DecodeBlock counts padding */
		len--, k--;
	*n = (size_t)k;
	return out;
}

/* The caller's own key for provider, decrypted; NULL if none. */
static const char *
own_key(void *ctx, const char *provider)
{
	struct keyctx	*kc = ctx;
	json_object	*e;
	unsigned char	*nonce, *ct;
	size_t		 nn, cn;
	const char	*kid;
	char		*plain, *aad;

	if (kc->keys == NULL || !json_object_object_get_ex(kc->keys, provider, &e) ||
	    json_object_array_length(e) != 3)
		return NULL;
	kid = json_object_get_string(json_object_array_get_idx(e, 0));
	nonce = b64_decode(kc->r->a, json_object_get_string(json_object_array_get_idx(e, 1)), &nn);
	ct = b64_decode(kc->r->a, json_object_get_string(json_object_array_get_idx(e, 2)), &cn);
	aad = arena_sprintf(kc->r->a, "%s/%s", kc->r->auth.user_id, provider);
	if (nonce == NULL || ct == NULL || nn != CRYPTO_NONCE ||
	    (plain = crypto_open(kc->r->a, kid, nonce, ct, cn, aad)) == NULL) {
		log_msg(LOG_ERROR, "provider_key", kc->r->request_id,
		    "the stored %s key of user %s cannot be decrypted (key id %s)",
		    provider, kc->r->auth.user_id, kid ? kid : "?");
		return NULL;
	}
	return plain;
}

/* system + as much history as the context allows + the new turn(s). */
static void
messages(struct req *r, struct gw_call *c, PGresult *res, struct llm_msg **out,
    int *n)
{
	json_object	*hist = NULL;
	const char	*why, *sys = PQgetisnull(res, 0, 7) ? NULL : PQgetvalue(res, 0, 7);
	long		 budget = atol(PQgetvalue(res, 0, 6));
	struct llm_msg	*m;
	size_t		 nh = 0, keep = 0, i;
	int		 k = 0;

	if (c->msgs != NULL) {		/* the OpenAI API: the client's list */
		*out = (struct llm_msg *)c->msgs;
		*n = c->nmsgs;
		return;
	}
	if (!PQgetisnull(res, 0, 8) && (hist = json_parse(PQgetvalue(res, 0, 8),
	    (size_t)PQgetlength(res, 0, 8), &why)) != NULL) {
		jarena(r->a, hist);
		nh = json_object_array_length(hist);
	}
	budget -= (c->max_tokens > 0 ? c->max_tokens : cfg.llm_default_max_tokens);
	budget -= est_tokens(c->content) + (sys && *sys ? est_tokens(sys) : 0);
	/* Newest first: keep while it fits; the oldest are dropped. */
	for (keep = 0; keep < nh; keep++) {
		json_object *h = json_object_array_get_idx(hist, keep), *v;

		json_object_object_get_ex(h, "content", &v);
		budget -= est_tokens(json_object_get_string(v));
		if (budget < 0)
			break;
	}
	m = arena_calloc(r->a, keep + 2, sizeof(*m));
	if (sys != NULL && *sys != '\0')
		m[k++] = (struct llm_msg){ "system", sys };
	for (i = keep; i > 0; i--) {
		json_object *h = json_object_array_get_idx(hist, i - 1), *ro, *co;

		json_object_object_get_ex(h, "role", &ro);
		json_object_object_get_ex(h, "content", &co);
		m[k++] = (struct llm_msg){ json_object_get_string(ro),
		    json_object_get_string(co) };
	}
	m[k++] = (struct llm_msg){ "user", c->content };
	*out = m;
	*n = k;
}

/*
 * Moderation first, when configured: a flagged message is stored as such
 * (and in moderation_flags), is not sent to any model and uses no quota.
 */
static int
moderate(struct req *r, struct gw_call *c)
{
	const char	*cats, *p[7];
	PGresult	*res;
	int		 rc;

	rc = llm_moderate(r, c->content, &cats);
	if (rc <= 0)
		return rc;
	p[0] = r->auth.user_id;
	p[1] = r->auth.org_id;
	p[2] = r->auth.api_key_id;
	p[3] = c->chat_id;
	p[4] = c->content;
	p[5] = cats;
	p[6] = r->request_id;
	if ((res = req_db(r, &st_flag, 7, p)) == NULL)
		return -1;
	if (c->chat_id != NULL && PQgetisnull(res, 0, 0))
		return req_fail(r, 404, "not_found", "no such chat");
	log_msg(LOG_WARN, "content_flagged", r->request_id, "user %s: %s",
	    r->auth.user_id, cats);
	return req_fail(r, 422, "content_flagged",
	    "the message was flagged by moderation (%s) and was not sent", cats);
}

int
gw_run(struct req *r, struct gw_call *c)
{
	struct keyctx	 kc = { r, NULL };
	struct llm_req	 in;
	struct llm_msg	*msgs;
	PGresult	*res, *fin;
	const char	*p[17], *why, *day;
	char		 maxt[16], hist[16], prompt[16], compl[16], lat[16];
	int		 n, rc;
	bool		 ok;

	if (moderate(r, c) != 0)
		return -1;
	snprintf(maxt, sizeof(maxt), "%d", c->max_tokens);
	snprintf(hist, sizeof(hist), "%ld", c->chat_id ? cfg.llm_history_messages : 0L);
	p[0] = r->auth.user_id;
	p[1] = r->auth.org_id;
	p[2] = c->chat_id;
	p[3] = c->model;
	p[4] = c->content;
	p[5] = maxt;
	p[6] = hist;
	p[7] = cfg.openrouter_model;
	/* Pipelined with the session check: one round trip. */
	if ((res = req_db(r, &st_begin, 8, p)) == NULL)
		return -1;
	c->model = PQgetvalue(res, 0, 11);
	if (strcmp(PQgetvalue(res, 0, 0), "ok") != 0)
		return refuse(r, c, res);
	/* A model no provider serves (config changed since the chat was
	 * made) fails below like any upstream failure: stored, refunded. */
	c->daily_limit = atoi(PQgetvalue(res, 0, 1));
	c->used_today = atoi(PQgetvalue(res, 0, 2));
	/* No max_tokens from the client: the default, within the plan's cap. */
	if (c->max_tokens == 0 && atoi(PQgetvalue(res, 0, 3)) > 0 &&
	    atoi(PQgetvalue(res, 0, 3)) < cfg.llm_default_max_tokens)
		c->max_tokens = atoi(PQgetvalue(res, 0, 3));
	c->user_message_id = PQgetisnull(res, 0, 4) ? NULL : PQgetvalue(res, 0, 4);
	c->user_message_res = res;
	day = PQgetvalue(res, 0, 9);
	if (!PQgetisnull(res, 0, 10) && (kc.keys = json_parse(PQgetvalue(res, 0, 10),
	    (size_t)PQgetlength(res, 0, 10), &why)) != NULL)
		jarena(r->a, kc.keys);
	messages(r, c, res, &msgs, &n);

	memset(&in, 0, sizeof(in));
	in.model = c->model;
	in.msgs = msgs;
	in.nmsgs = n;
	in.max_tokens = c->max_tokens;
	in.temperature = c->temperature;
	in.has_temperature = c->has_temperature;
	in.stream = c->stream;
	in.on_delta = c->on_delta;
	in.ctx = c->ctx;
	in.user_key = own_key;
	in.kctx = &kc;
	rc = llm_complete(r, &in, &cfg.llm_fallback_models, &c->res);
	if (rc != 0 && req_failed(r))
		return -1;	/* the request's own check failed: nothing was called */

	/* Account for it whatever happened; the answer waits for this. */
	ok = rc == 0;
	snprintf(prompt, sizeof(prompt), "%d", c->res.prompt_tokens);
	snprintf(compl, sizeof(compl), "%d", c->res.completion_tokens);
	snprintf(lat, sizeof(lat), "%lld", (long long)c->res.latency_ms);
	p[0] = r->auth.user_id;
	p[1] = r->auth.org_id;
	p[2] = r->auth.api_key_id;
	p[3] = c->chat_id;
	p[4] = c->res.provider ? c->res.provider->name : NULL;
	p[5] = c->res.model;
	p[6] = prompt;
	p[7] = compl;
	p[8] = lat;
	p[9] = ok ? "ok" : c->res.error_code;
	p[10] = c->res.own_key ? "t" : "f";
	p[11] = c->kind;
	p[12] = r->request_id;
	p[13] = c->res.text->data;
	p[14] = ok ? "t" : "f";
	p[15] = ok ? "ok" : c->res.text->len > 0 ? "incomplete" : "failed";
	p[16] = day;
	if ((fin = req_db(r, &st_finish, 17, p)) == NULL)
		return -1;
	c->assistant_res = fin;
	c->cost = PQgetvalue(fin, 0, 2);
	if (!ok) {
		c->used_today--;	/* given back */
		log_msg(LOG_WARN, c->res.error_code, r->request_id, "%s",
		    c->res.error_message);
		if (c->res.streamed)
			return -2;	/* the caller tells its stream */
		return req_fail(r, c->res.status, c->res.error_code, "%s",
		    c->res.error_message);
	}
	return 0;
}
