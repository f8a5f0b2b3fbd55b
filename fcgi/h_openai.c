/*
 * h_openai.c - the OpenAI-compatible API for programs: POST
 * /v1/chat/completions (streaming or not) and GET /v1/models, in OpenAI's
 * wire format whatever provider serves the model, so OpenAI's SDKs work
 * unchanged. Calls count against the key's owner like any other.
 */
#include <string.h>
#include <time.h>

#include "config.h"
#include "lexar.h"
#include "util.h"

static struct db_stmt st_allowed = DB_STMT(
    "SELECT array_to_json(allowed_models)::text FROM effective_limits($1)");

struct oa_stream {
	struct req	*r;
	const char	*id;
	const char	*model;
	int64_t		 created;
	bool		 started;
};

static json_object *
chunk(struct oa_stream *s, json_object *delta, const char *reason)
{
	json_object *o = json_object_new_object(), *ch, *c;

	json_object_object_add(o, "id", json_object_new_string(s->id));
	json_object_object_add(o, "object", json_object_new_string("chat.completion.chunk"));
	json_object_object_add(o, "created", json_object_new_int64(s->created));
	json_object_object_add(o, "model", json_object_new_string(s->model));
	json_object_object_add(o, "system_fingerprint", NULL);
	ch = json_object_new_array();
	if (delta != NULL) {
		c = json_object_new_object();
		json_object_object_add(c, "index", json_object_new_int(0));
		json_object_object_add(c, "delta", delta);
		json_object_object_add(c, "logprobs", NULL);
		json_object_object_add(c, "finish_reason", jstr(reason));
		json_object_array_add(ch, c);
	}
	json_object_object_add(o, "choices", ch);
	return o;
}

static void
send_data(struct req *r, json_object *o)
{
	struct buf b = BUF_INIT;

	if (!r->headers_sent)
		resp_stream_begin(r, 200, "text/event-stream; charset=utf-8");
	buf_adds(&b, "data: ");
	if (o != NULL)
		json_to_buf(&b, o);
	else
		buf_adds(&b, "[DONE]");
	buf_adds(&b, "\n\n");
	resp_stream_write(r, b.data, b.len);
	buf_free(&b);
	json_object_put(o);
}

static void
on_delta(void *ctx, const char *text, size_t n)
{
	struct oa_stream	*s = ctx;
	json_object		*d;

	if (s->r->client_gone)
		return;
	if (!s->started) {
		d = json_object_new_object();
		json_object_object_add(d, "role", json_object_new_string("assistant"));
		json_object_object_add(d, "content", json_object_new_string(""));
		send_data(s->r, chunk(s, d, NULL));
		s->started = true;
	}
	d = json_object_new_object();
	json_object_object_add(d, "content", json_object_new_string_len(text, (int)n));
	send_data(s->r, chunk(s, d, NULL));
}

static json_object *
usage_json(const struct llm_result *res)
{
	json_object *u = json_object_new_object();

	json_object_object_add(u, "prompt_tokens", json_object_new_int(res->prompt_tokens));
	json_object_object_add(u, "completion_tokens",
	    json_object_new_int(res->completion_tokens));
	json_object_object_add(u, "total_tokens",
	    json_object_new_int(res->prompt_tokens + res->completion_tokens));
	return u;
}

/* Text of a message's content: a string or an array of text parts. */
static const char *
content_text(struct req *r, json_object *c, const char *field)
{
	struct buf	 b = BUF_INIT;
	const char	*out;
	size_t		 i;

	if (c != NULL && json_object_is_type(c, json_type_string))
		return json_object_get_string(c);
	if (c == NULL || !json_object_is_type(c, json_type_array)) {
		jv_error(&r->v, field, "content must be a string or a list of text parts");
		return NULL;
	}
	for (i = 0; i < json_object_array_length(c); i++) {
		json_object *p = json_object_array_get_idx(c, i), *t, *x;

		if (!json_object_object_get_ex(p, "type", &t) ||
		    strcmp(json_object_get_string(t), "text") != 0 ||
		    !json_object_object_get_ex(p, "text", &x) ||
		    !json_object_is_type(x, json_type_string)) {
			jv_error(&r->v, field, "only text content parts are supported");
			buf_free(&b);
			return NULL;
		}
		buf_adds(&b, json_object_get_string(x));
	}
	out = arena_strdup(r->a, b.data);
	buf_free(&b);
	return out;
}

static int
parse_messages(struct req *r, struct gw_call *c)
{
	json_object	*arr, *m, *role, *content;
	struct llm_msg	*out;
	const char	*ro;
	size_t		 i, n;
	char		 field[32];

	if (!json_object_object_get_ex(r->json, "messages", &arr) ||
	    !json_object_is_type(arr, json_type_array) ||
	    (n = json_object_array_length(arr)) == 0 || n > 1000) {
		jv_error(&r->v, "messages", "must be a list of 1 to 1000 messages");
		return -1;
	}
	out = arena_calloc(r->a, n, sizeof(*out));
	for (i = 0; i < n; i++) {
		snprintf(field, sizeof(field), "messages[%zu]", i);
		m = json_object_array_get_idx(arr, i);
		if (!json_object_object_get_ex(m, "role", &role) ||
		    !json_object_is_type(role, json_type_string)) {
			jv_error(&r->v, field, "role is required");
			return -1;
		}
		ro = json_object_get_string(role);
		if (strcmp(ro, "developer") == 0)
			ro = "system";
		if (strcmp(ro, "system") != 0 && strcmp(ro, "user") != 0 &&
		    strcmp(ro, "assistant") != 0) {
			jv_error(&r->v, field, "role must be system, developer, user or assistant");
			return -1;
		}
		json_object_object_get_ex(m, "content", &content);
		if ((out[i].content = content_text(r, content, field)) == NULL)
			return -1;
		out[i].role = ro;
	}
	c->msgs = out;
	c->nmsgs = (int)n;
	c->content = out[n - 1].content;
	return 0;
}

/* POST /v1/chat/completions */
int
h_openai_chat(struct req *r)
{
	struct gw_call		 c;
	struct oa_stream	 s;
	json_object		*o, *ch, *choice, *msg, *so, *iu, *e;
	const char		*model;
	int64_t			 mt = 0, n = 1;
	bool			 stream = false, usage = false;
	int			 rc;

	memset(&c, 0, sizeof(c));
	model = jv_string(&r->v, r->json, "model", JV_REQUIRED | JV_TRIM, 1, 128, r->a);
	if (model != NULL && (!llm_model_name_ok(model) || llm_provider_for_model(model) == NULL))
		return req_fail(r, 404, "model_not_found",
		    "The model `%s` does not exist or you do not have access to it.", model);
	c.has_temperature = jv_double(&r->v, r->json, "temperature", JV_NULLABLE, 0, 2,
	    &c.temperature);
	if (!jv_int(&r->v, r->json, "max_completion_tokens", JV_NULLABLE, 1, 200000, &mt))
		jv_int(&r->v, r->json, "max_tokens", JV_NULLABLE, 1, 200000, &mt);
	jv_int(&r->v, r->json, "n", JV_NULLABLE, 1, 1, &n);
	jv_bool(&r->v, r->json, "stream", JV_NULLABLE, &stream);
	if (json_object_object_get_ex(r->json, "stream_options", &so) &&
	    json_object_object_get_ex(so, "include_usage", &iu))
		usage = json_object_get_boolean(iu);
	parse_messages(r, &c);
	if (jv_failed(&r->v))
		return req_invalid(r);
	c.kind = "completions";
	c.model = model;
	c.max_tokens = (int)mt;
	c.stream = stream;
	memset(&s, 0, sizeof(s));
	s.r = r;
	s.id = arena_sprintf(r->a, "chatcmpl-%s", r->request_id);
	s.model = model;
	s.created = now_unix();
	if (stream) {
		c.on_delta = on_delta;
		c.ctx = &s;
	}
	rc = gw_run(r, &c);
	if (rc == -1 && !r->headers_sent)
		return -1;
	if (stream) {
		if (rc != 0) {
			o = json_object_new_object();
			e = json_object_new_object();
			json_object_object_add(e, "message", json_object_new_string(
			    c.res.error_message ? c.res.error_message : r->err_msg));
			json_object_object_add(e, "type", json_object_new_string("api_error"));
			json_object_object_add(e, "param", NULL);
			json_object_object_add(e, "code", json_object_new_string(
			    c.res.error_code ? c.res.error_code : r->err_code));
			json_object_object_add(e, "request_id", json_object_new_string(r->request_id));
			json_object_object_add(o, "error", e);
			send_data(r, o);
			r->err_code = NULL;
			return 0;
		}
		s.model = c.res.model;		/* a fallback may have answered */
		if (!s.started)
			on_delta(&s, "", 0);
		send_data(r, chunk(&s, json_object_new_object(), c.res.finish_reason));
		if (usage) {
			o = chunk(&s, NULL, NULL);
			json_object_object_add(o, "usage", usage_json(&c.res));
			send_data(r, o);
		}
		send_data(r, NULL);
		return 0;
	}
	o = jarena(r->a, json_object_new_object());
	json_object_object_add(o, "id", json_object_new_string(s.id));
	json_object_object_add(o, "object", json_object_new_string("chat.completion"));
	json_object_object_add(o, "created", json_object_new_int64(s.created));
	json_object_object_add(o, "model", json_object_new_string(c.res.model));
	ch = json_object_new_array();
	choice = json_object_new_object();
	json_object_object_add(choice, "index", json_object_new_int(0));
	msg = json_object_new_object();
	json_object_object_add(msg, "role", json_object_new_string("assistant"));
	json_object_object_add(msg, "content", json_object_new_string_len(
	    c.res.text->data, (int)c.res.text->len));
	json_object_object_add(msg, "refusal", NULL);
	json_object_object_add(choice, "message", msg);
	json_object_object_add(choice, "logprobs", NULL);
	json_object_object_add(choice, "finish_reason",
	    json_object_new_string(c.res.finish_reason));
	json_object_array_add(ch, choice);
	json_object_object_add(o, "choices", ch);
	json_object_object_add(o, "usage", usage_json(&c.res));
	json_object_object_add(o, "system_fingerprint", NULL);
	return resp_json(r, 200, o);
}

/* GET /v1/models - the models the caller may use. */
int
h_openai_models(struct req *r)
{
	const struct llm_provider	*p;
	const char			*params[1] = { r->auth.user_id };
	json_object			*allowed = NULL, *o, *data, *m;
	PGresult			*res;
	size_t				 n, i, j, k;
	bool				 ok;

	if ((res = req_db(r, &st_allowed, 1, params)) == NULL)
		return -1;
	if (PQntuples(res) == 1)
		allowed = jarena(r->a, jpg_json(res, 0, 0));
	o = jarena(r->a, json_object_new_object());
	json_object_object_add(o, "object", json_object_new_string("list"));
	data = json_object_new_array();
	p = llm_providers(&n);
	for (i = 0; i < n; i++) {
		if (*p[i].base_url == '\0')
			continue;
		for (j = 0; j < p[i].models->n; j++) {
			const char *id = p[i].models->v[j];

			if (llm_provider_for_model(id) != &p[i])
				continue;	/* listed under an earlier provider */
			ok = allowed == NULL;
			for (k = 0; !ok && k < json_object_array_length(allowed); k++)
				ok = strcmp(json_object_get_string(
				    json_object_array_get_idx(allowed, k)), id) == 0;
			if (!ok)
				continue;
			m = json_object_new_object();
			json_object_object_add(m, "id", json_object_new_string(id));
			json_object_object_add(m, "object", json_object_new_string("model"));
			json_object_object_add(m, "created", json_object_new_int(0));
			json_object_object_add(m, "owned_by", json_object_new_string(p[i].name));
			json_object_array_add(data, m);
		}
	}
	json_object_object_add(o, "data", data);
	return resp_json(r, 200, o);
}
