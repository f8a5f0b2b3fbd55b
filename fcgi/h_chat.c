/*
 * h_chat.c - chats and their messages. A chat belongs to the user who made
 * it, in the organisation active then: anyone else, or the same user
 * signed in to another organisation, gets 404.
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "lexar.h"
#include "util.h"

#define CHAT_COLS "c.id, c.title, c.model, c.system_prompt, c.created_at, " \
		  "c.updated_at, c.updated_at::text"
#define MSG_COLS "m.id, m.role, m.content, m.status, m.error_code, m.model, " \
		 "m.provider, m.prompt_tokens, m.completion_tokens, m.cost_usd, " \
		 "m.latency_ms, m.created_at"

static struct db_stmt st_create = DB_STMT(
    "INSERT INTO chats AS c (user_id, org_id, title, model, system_prompt)"
    " VALUES ($1, $2, $3, $4, $5) RETURNING " CHAT_COLS);
static struct db_stmt st_list = DB_STMT(
    "SELECT " CHAT_COLS " FROM chats c WHERE c.user_id = $1 AND c.org_id = $2"
    " AND ($3::timestamptz IS NULL OR (c.updated_at, c.id) < ($3::timestamptz, $4::uuid))"
    " ORDER BY c.updated_at DESC, c.id DESC LIMIT $5");
static struct db_stmt st_get = DB_STMT(
    "SELECT " CHAT_COLS " FROM chats c WHERE c.id = $1 AND c.user_id = $2"
    " AND c.org_id = $3");
static struct db_stmt st_messages = DB_STMT(
    "SELECT * FROM (SELECT " MSG_COLS " FROM messages m WHERE m.chat_id = $1"
    " AND m.hidden_at IS NULL"
    " ORDER BY m.created_at DESC, m.id DESC LIMIT $2) x ORDER BY created_at, id");
static struct db_stmt st_update = DB_STMT(
    "UPDATE chats c SET title = coalesce($3, title), model = coalesce($4, model),"
    " system_prompt = coalesce($5, system_prompt)"
    " WHERE c.id = $1 AND c.user_id = $2 AND c.org_id = $6 RETURNING " CHAT_COLS);
static struct db_stmt st_delete = DB_STMT(
    "DELETE FROM chats WHERE id = $1 AND user_id = $2 AND org_id = $3 RETURNING id");

static json_object *
chat_json(PGresult *res, int i)
{
	json_object *c = json_object_new_object();

	json_object_object_add(c, "id", jpg_str(res, i, 0));
	json_object_object_add(c, "title", jpg_str(res, i, 1));
	json_object_object_add(c, "model", PQgetisnull(res, i, 2) ?
	    json_object_new_string(cfg.openrouter_model) : jpg_str(res, i, 2));
	json_object_object_add(c, "system_prompt", jpg_str(res, i, 3));
	json_object_object_add(c, "created_at", jpg_time(res, i, 4));
	json_object_object_add(c, "updated_at", jpg_time(res, i, 5));
	return c;
}

static json_object *
message_json(PGresult *res, int i)
{
	json_object *m = json_object_new_object();

	json_object_object_add(m, "id", jpg_str(res, i, 0));
	json_object_object_add(m, "role", jpg_str(res, i, 1));
	json_object_object_add(m, "content", jpg_str(res, i, 2));
	json_object_object_add(m, "status", jpg_str(res, i, 3));
	json_object_object_add(m, "error_code", jpg_str(res, i, 4));
	json_object_object_add(m, "model", jpg_str(res, i, 5));
	json_object_object_add(m, "provider", jpg_str(res, i, 6));
	json_object_object_add(m, "prompt_tokens", jpg_int(res, i, 7));
	json_object_object_add(m, "completion_tokens", jpg_int(res, i, 8));
	json_object_object_add(m, "cost_usd", jpg_num(res, i, 9));
	json_object_object_add(m, "latency_ms", jpg_int(res, i, 10));
	json_object_object_add(m, "created_at", jpg_time(res, i, 11));
	return m;
}

/* A model named by the client must be one a provider serves. */
static const char *
model_field(struct req *r)
{
	const char *m = jv_string(&r->v, r->json, "model", JV_NULLABLE | JV_TRIM,
	    1, 128, r->a);

	if (m != NULL && (!llm_model_name_ok(m) || llm_provider_for_model(m) == NULL)) {
		jv_error(&r->v, "model", "is not an available model");
		return NULL;
	}
	return m;
}

/* POST /api/v1/chats {title?, model?, system_prompt?} */
int
h_chat_create(struct req *r)
{
	static const char *const fields[] = { "title", "model", "system_prompt", NULL };
	const char	*p[5];
	PGresult	*res;

	jv_only(&r->v, r->json, fields);
	p[0] = r->auth.user_id;
	p[1] = r->auth.org_id;
	p[2] = jv_string(&r->v, r->json, "title", JV_NULLABLE | JV_TRIM | JV_SINGLELINE,
	    0, 200, r->a);
	p[3] = model_field(r);
	p[4] = jv_string(&r->v, r->json, "system_prompt", JV_NULLABLE, 0, 20000, r->a);
	if (jv_failed(&r->v))
		return req_invalid(r);
	if (p[2] == NULL)
		p[2] = "";
	if (p[4] == NULL)
		p[4] = "";
	if ((res = req_db(r, &st_create, 5, p)) == NULL)
		return -1;
	return resp_json(r, 201, jarena(r->a, chat_json(res, 0)));
}

/* GET /api/v1/chats - newest first. */
int
h_chat_list(struct req *r)
{
	struct page	 pg;
	const char	*p[5];
	PGresult	*res;
	json_object	*out, *items;
	int		 i, n;

	if (req_page(r, &pg, 20, 100) != 0)
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
		json_object_array_add(items, chat_json(res, i));
	json_object_object_add(out, "items", items);
	json_object_object_add(out, "next_cursor", n > pg.limit ? jstr(page_cursor(r->a,
	    PQgetvalue(res, (int)pg.limit - 1, 6), PQgetvalue(res, (int)pg.limit - 1, 0))) :
	    NULL);
	return resp_json(r, 200, out);
}

/* GET /api/v1/chats/:id - with its latest messages (?limit, 1..500). */
int
h_chat_get(struct req *r)
{
	const char	*p[3] = { req_path_param(r, "id"), r->auth.user_id,
			    r->auth.org_id };
	const char	*l = req_query(r, "limit");
	long long	 lim = 200;
	PGresult	*res, *msgs;
	json_object	*out, *arr;
	char		 limit[16];
	int		 i;

	if (l != NULL && !parse_int(l, 1, 500, &lim)) {
		jv_error(&r->v, "limit", "must be an integer from 1 to 500");
		return req_invalid(r);
	}
	if ((res = req_db(r, &st_get, 3, p)) == NULL)
		return -1;
	if (PQntuples(res) != 1)
		return req_fail(r, 404, "not_found", "no such chat");
	snprintf(limit, sizeof(limit), "%lld", lim);
	p[1] = limit;
	if ((msgs = req_db(r, &st_messages, 2, p)) == NULL)
		return -1;
	out = jarena(r->a, chat_json(res, 0));
	arr = json_object_new_array();
	for (i = 0; i < PQntuples(msgs); i++)
		json_object_array_add(arr, message_json(msgs, i));
	json_object_object_add(out, "messages", arr);
	return resp_json(r, 200, out);
}

/* PATCH /api/v1/chats/:id {title?, model?, system_prompt?} */
int
h_chat_update(struct req *r)
{
	static const char *const fields[] = { "title", "model", "system_prompt", NULL };
	const char	*p[6];
	PGresult	*res;

	jv_only(&r->v, r->json, fields);
	p[0] = req_path_param(r, "id");
	p[1] = r->auth.user_id;
	p[5] = r->auth.org_id;
	p[2] = jv_string(&r->v, r->json, "title", JV_TRIM | JV_SINGLELINE, 0, 200, r->a);
	p[3] = model_field(r);
	p[4] = jv_string(&r->v, r->json, "system_prompt", 0, 0, 20000, r->a);
	if (jv_failed(&r->v))
		return req_invalid(r);
	if ((res = req_db(r, &st_update, 6, p)) == NULL)
		return -1;
	if (PQntuples(res) != 1)
		return req_fail(r, 404, "not_found", "no such chat");
	return resp_json(r, 200, jarena(r->a, chat_json(res, 0)));
}

/* DELETE /api/v1/chats/:id */
int
h_chat_delete(struct req *r)
{
	const char	*p[3] = { req_path_param(r, "id"), r->auth.user_id,
			    r->auth.org_id };
	PGresult	*res;

	if ((res = req_db(r, &st_delete, 3, p)) == NULL)
		return -1;
	if (PQntuples(res) != 1)
		return req_fail(r, 404, "not_found", "no such chat");
	r->status = 204;
	return 0;
}

/* ---- sending ---- */

/* One SSE event of our own stream: "event: NAME\ndata: JSON\n\n". */
static void
sse_write(struct req *r, const char *event, json_object *o)
{
	struct buf b = BUF_INIT;

	if (!r->headers_sent)
		resp_stream_begin(r, 200, "text/event-stream; charset=utf-8");
	buf_printf(&b, "event: %s\ndata: ", event);
	json_to_buf(&b, o);
	buf_adds(&b, "\n\n");
	resp_stream_write(r, b.data, b.len);	/* a gone client is noted */
	buf_free(&b);
}

static void
on_delta(void *ctx, const char *text, size_t n)
{
	struct req	*r = ctx;
	json_object	*o;

	if (r->client_gone)
		return;		/* keep receiving: the whole answer is stored */
	o = json_object_new_object();
	json_object_object_add(o, "delta", json_object_new_string_len(text, (int)n));
	sse_write(r, "delta", o);
	json_object_put(o);
}

/* {user_message, assistant_message, usage} of a finished turn. */
static json_object *
turn_json(struct req *r, struct gw_call *c, const char *content)
{
	json_object	*out = json_object_new_object(), *u, *a, *us;
	PGresult	*b = c->user_message_res, *f = c->assistant_res;

	u = json_object_new_object();
	json_object_object_add(u, "id", jpg_str(b, 0, 4));
	json_object_object_add(u, "role", json_object_new_string("user"));
	json_object_object_add(u, "content", json_object_new_string(content));
	json_object_object_add(u, "created_at", jpg_time(b, 0, 5));
	json_object_object_add(out, "user_message", u);
	a = json_object_new_object();
	json_object_object_add(a, "id", jpg_str(f, 0, 0));
	json_object_object_add(a, "role", json_object_new_string("assistant"));
	json_object_object_add(a, "content", json_object_new_string_len(c->res.text->data,
	    (int)c->res.text->len));
	json_object_object_add(a, "status", json_object_new_string(
	    c->res.error_code == NULL ? "ok" : c->res.text->len ? "incomplete" : "failed"));
	json_object_object_add(a, "error_code", jstr(c->res.error_code));
	json_object_object_add(a, "model", jstr(c->res.model));
	json_object_object_add(a, "provider", jstr(c->res.provider ?
	    c->res.provider->name : NULL));
	json_object_object_add(a, "prompt_tokens", json_object_new_int(c->res.prompt_tokens));
	json_object_object_add(a, "completion_tokens",
	    json_object_new_int(c->res.completion_tokens));
	json_object_object_add(a, "cost_usd", jnum(c->cost));
	json_object_object_add(a, "latency_ms", json_object_new_int64(c->res.latency_ms));
	json_object_object_add(a, "finish_reason", jstr(c->res.finish_reason));
	json_object_object_add(a, "created_at", jpg_time(f, 0, 1));
	json_object_object_add(out, "assistant_message", a);
	us = json_object_new_object();
	json_object_object_add(us, "used_today", json_object_new_int(c->used_today));
	json_object_object_add(us, "daily_limit", json_object_new_int(c->daily_limit));
	json_object_object_add(out, "usage", us);
	(void)r;
	return out;
}

/*
 * POST /api/v1/chats/:id/messages {content, model?, temperature?,
 * max_tokens?, stream?}. The user's message is stored before the call; the
 * answer (or the failure) after it, even when a streaming client left.
 */
int
h_chat_send(struct req *r)
{
	static const char *const fields[] = { "content", "model", "temperature",
	    "max_tokens", "stream", NULL };
	struct gw_call	 c;
	json_object	*o, *e;
	int64_t		 mt = 0;
	bool		 stream = false;
	int		 rc;

	memset(&c, 0, sizeof(c));
	jv_only(&r->v, r->json, fields);
	c.content = jv_string(&r->v, r->json, "content", JV_REQUIRED, 1, 100000, r->a);
	c.model = model_field(r);
	c.has_temperature = jv_double(&r->v, r->json, "temperature", JV_NULLABLE, 0, 2,
	    &c.temperature);
	jv_int(&r->v, r->json, "max_tokens", JV_NULLABLE, 1, 200000, &mt);
	jv_bool(&r->v, r->json, "stream", JV_NULLABLE, &stream);
	if (jv_failed(&r->v))
		return req_invalid(r);
	c.kind = "chat";
	c.chat_id = req_path_param(r, "id");
	c.max_tokens = (int)mt;
	c.stream = stream;
	if (stream) {
		c.on_delta = on_delta;
		c.ctx = r;
	}
	rc = gw_run(r, &c);
	if (rc == -1) {
		if (!r->headers_sent)
			return -1;
		/* Streamed, then storing failed: say so on the stream. */
		o = jarena(r->a, json_object_new_object());
		e = json_object_new_object();
		json_object_object_add(e, "code", json_object_new_string(r->err_code));
		json_object_object_add(e, "message", json_object_new_string(r->err_msg));
		json_object_object_add(e, "request_id", json_object_new_string(r->request_id));
		json_object_object_add(o, "error", e);
		sse_write(r, "error", o);
		r->err_code = NULL;
		return 0;
	}
	o = jarena(r->a, turn_json(r, &c, c.content));
	if (!stream)
		return resp_json(r, 201, o);
	if (rc != 0) {
		e = json_object_new_object();
		json_object_object_add(e, "code", json_object_new_string(c.res.error_code ?
		    c.res.error_code : "upstream_error"));
		json_object_object_add(e, "message", jstr(c.res.error_message));
		json_object_object_add(e, "request_id", json_object_new_string(r->request_id));
		json_object_object_add(o, "error", e);
		sse_write(r, "error", o);
		r->err_code = NULL;
		return 0;
	}
	sse_write(r, "done", o);
	return 0;
}
