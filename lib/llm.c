/*
 * llm.c - LLM providers: wire formats, streaming, retries, fallbacks.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "config.h"
#include "http.h"
#include "httpc.h"
#include "json.h"
#include "llm.h"
#include "log.h"
#include "sse.h"
#include "util.h"

enum { P_OPENROUTER, P_OPENAI, P_ANTHROPIC, P_GEMINI, P_GROK, P_COMPAT, P_COUNT };

static struct llm_provider providers[P_COUNT];

void
llm_init(void)
{
	providers[P_OPENROUTER] = (struct llm_provider){ "openrouter", UP_OPENROUTER,
	    LLM_CHAT, cfg.openrouter_base_url, cfg.openrouter_key,
	    &cfg.openrouter_models, false };
	providers[P_OPENAI] = (struct llm_provider){ "openai", UP_OPENAI, LLM_CHAT,
	    cfg.openai_base_url, cfg.openai_key, &cfg.openai_models, false };
	providers[P_ANTHROPIC] = (struct llm_provider){ "anthropic", UP_ANTHROPIC,
	    LLM_ANTHROPIC, cfg.anthropic_base_url, cfg.anthropic_key,
	    &cfg.anthropic_models, false };
	providers[P_GEMINI] = (struct llm_provider){ "gemini", UP_GEMINI, LLM_GEMINI,
	    cfg.gemini_base_url, cfg.gemini_key, &cfg.gemini_models, false };
	providers[P_GROK] = (struct llm_provider){ "grok", UP_GROK, LLM_CHAT,
	    cfg.grok_base_url, cfg.grok_key, &cfg.grok_models, false };
	providers[P_COMPAT] = (struct llm_provider){ "openai_compatible",
	    UP_OPENAI_COMPATIBLE, LLM_CHAT, cfg.compat_base_url, cfg.compat_key,
	    &cfg.compat_models, true };
}

const struct llm_provider *
llm_providers(size_t *n)
{
	*n = P_COUNT;
	return providers;
}

static bool
in_list(const struct cfg_list *l, const char *s)
{
	size_t i;

	for (i = 0; l != NULL && i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return true;
	return false;
}

const struct llm_provider *
llm_provider_for_model(const char *model)
{
	int i;

	for (i = 0; i < P_COUNT; i++)
		if (*providers[i].base_url != '\0' && in_list(providers[i].models, model))
			return &providers[i];
	return NULL;
}

const struct llm_provider *
llm_provider_named(const char *name)
{
	int i;

	for (i = 0; i < P_COUNT; i++)
		if (strcmp(providers[i].name, name) == 0)
			return &providers[i];
	return NULL;
}

/* Model ids go into URLs (Gemini) and logs: a conservative alphabet. */
bool
llm_model_name_ok(const char *m)
{
	size_t i;

	for (i = 0; m[i] != '\0'; i++)
		if (i >= 128 || !(isalnum((unsigned char)m[i]) || strchr("._:/-@", m[i])))
			return false;
	return i > 0;
}

/* ---- one attempt ---- */

struct attempt {
	struct req			*r;
	const struct llm_req		*in;
	const struct llm_provider	*p;
	const char			*model;
	struct llm_result		*out;
	struct sse			 sse;
	bool				 done;		/* the stream ended properly */
	bool				 bad;		/* an event was not JSON */
	char				 error[200];	/* an error event's reason */
};

static void
set_error(struct llm_result *out, int status, const char *code, const char *msg)
{
	out->status = status;
	out->error_code = code;
	out->error_message = msg;
}

static json_object *
jget(json_object *o, const char *k)
{
	json_object *v = NULL;

	if (o == NULL || !json_object_object_get_ex(o, k, &v))
		return NULL;
	return v;
}

static const char *
jgets(json_object *o, const char *k)
{
	json_object *v = jget(o, k);

	return v != NULL && json_object_is_type(v, json_type_string) ?
	    json_object_get_string(v) : NULL;
}

static int
jgeti(json_object *o, const char *k)
{
	json_object *v = jget(o, k);

	return v != NULL && json_object_is_type(v, json_type_int) ?
	    (int)json_object_get_int64(v) : 0;
}

static void
emit(struct attempt *at, const char *s, size_t n)
{
	if (n == 0)
		return;
	buf_add(at->out->text, s, n);
	if (at->in->on_delta != NULL) {
		at->out->streamed = true;
		at->in->on_delta(at->in->ctx, s, n);
	}
}

static void
emit_str(struct attempt *at, json_object *v)
{
	if (v != NULL && json_object_is_type(v, json_type_string))
		emit(at, json_object_get_string(v),
		    (size_t)json_object_get_string_len(v));
}

/* -- request bodies -- */

static json_object *
chat_messages(const struct llm_req *in)
{
	json_object	*a = json_object_new_array();
	int		 i;

	for (i = 0; i < in->nmsgs; i++) {
		json_object *m = json_object_new_object();

		json_object_object_add(m, "role", json_object_new_string(in->msgs[i].role));
		json_object_object_add(m, "content", json_object_new_string(in->msgs[i].content));
		json_object_array_add(a, m);
	}
	return a;
}

static int
max_tokens(const struct llm_req *in)
{
	return in->max_tokens > 0 ? in->max_tokens : (int)cfg.llm_default_max_tokens;
}

/*
 * Formats with a separate system field take every system message there,
 * joined; the message list then has only user and assistant turns.
 */
static const char *
system_text(struct arena *a, const struct llm_req *in)
{
	const char	*out = NULL;
	int		 i;

	for (i = 0; i < in->nmsgs; i++)
		if (strcmp(in->msgs[i].role, "system") == 0)
			out = out == NULL ? in->msgs[i].content :
			    arena_sprintf(a, "%s\n\n%s", out, in->msgs[i].content);
	return out;
}

static bool
is_system(const struct llm_msg *m)
{
	return strcmp(m->role, "system") == 0;
}

static bool
uses_responses(const struct llm_provider *p, const char *model)
{
	return p == &providers[P_OPENAI] && in_list(&cfg.openai_responses_models, model);
}

/* URL, headers and body of a call. */
static void
build(struct attempt *at, const char *key, char **url, struct curl_slist **h,
    struct buf *body)
{
	const struct llm_req	*in = at->in;
	const struct llm_provider *p = at->p;
	struct arena		*a = at->r->a;
	json_object		*o = json_object_new_object(), *arr, *m, *parts, *part;
	const char		*sys = system_text(a, in);
	int			 i;

	*h = curl_slist_append(NULL, "Content-Type: application/json");
	if (in->stream)
		*h = curl_slist_append(*h, "Accept: text/event-stream");
	if (p->format == LLM_ANTHROPIC) {
		*url = arena_sprintf(a, "%s/v1/messages", p->base_url);
		*h = curl_slist_append(*h, arena_sprintf(a, "x-api-key: %s", key));
		*h = curl_slist_append(*h, arena_sprintf(a, "anthropic-version: %s",
		    cfg.anthropic_version));
		json_object_object_add(o, "model", json_object_new_string(at->model));
		json_object_object_add(o, "max_tokens", json_object_new_int(max_tokens(in)));
		if (sys != NULL)
			json_object_object_add(o, "system", json_object_new_string(sys));
		arr = json_object_new_array();
		for (i = 0; i < in->nmsgs; i++) {
			if (is_system(&in->msgs[i]))
				continue;
			m = json_object_new_object();
			json_object_object_add(m, "role", json_object_new_string(in->msgs[i].role));
			json_object_object_add(m, "content", json_object_new_string(in->msgs[i].content));
			json_object_array_add(arr, m);
		}
		json_object_object_add(o, "messages", arr);
		if (in->has_temperature)
			json_object_object_add(o, "temperature", json_object_new_double(in->temperature));
		if (in->stream)
			json_object_object_add(o, "stream", json_object_new_boolean(1));
	} else if (p->format == LLM_GEMINI) {
		*url = arena_sprintf(a, "%s/models/%s:%s", p->base_url, at->model,
		    in->stream ? "streamGenerateContent?alt=sse" : "generateContent");
		*h = curl_slist_append(*h, arena_sprintf(a, "x-goog-api-key: %s", key));
		arr = json_object_new_array();
		for (i = 0; i < in->nmsgs; i++) {
			if (is_system(&in->msgs[i]))
				continue;
			m = json_object_new_object();
			json_object_object_add(m, "role", json_object_new_string(
			    strcmp(in->msgs[i].role, "assistant") == 0 ? "model" : "user"));
			parts = json_object_new_array();
			part = json_object_new_object();
			json_object_object_add(part, "text", json_object_new_string(in->msgs[i].content));
			json_object_array_add(parts, part);
			json_object_object_add(m, "parts", parts);
			json_object_array_add(arr, m);
		}
		json_object_object_add(o, "contents", arr);
		if (sys != NULL) {
			m = json_object_new_object();
			parts = json_object_new_array();
			part = json_object_new_object();
			json_object_object_add(part, "text", json_object_new_string(sys));
			json_object_array_add(parts, part);
			json_object_object_add(m, "parts", parts);
			json_object_object_add(o, "systemInstruction", m);
		}
		m = json_object_new_object();
		json_object_object_add(m, "maxOutputTokens", json_object_new_int(max_tokens(in)));
		if (in->has_temperature)
			json_object_object_add(m, "temperature", json_object_new_double(in->temperature));
		json_object_object_add(o, "generationConfig", m);
	} else if (uses_responses(p, at->model)) {
		*url = arena_sprintf(a, "%s/responses", p->base_url);
		*h = curl_slist_append(*h, arena_sprintf(a, "Authorization: Bearer %s", key));
		json_object_object_add(o, "model", json_object_new_string(at->model));
		if (sys != NULL)
			json_object_object_add(o, "instructions", json_object_new_string(sys));
		arr = json_object_new_array();
		for (i = 0; i < in->nmsgs; i++) {
			if (is_system(&in->msgs[i]))
				continue;
			m = json_object_new_object();
			json_object_object_add(m, "role", json_object_new_string(in->msgs[i].role));
			json_object_object_add(m, "content", json_object_new_string(in->msgs[i].content));
			json_object_array_add(arr, m);
		}
		json_object_object_add(o, "input", arr);
		json_object_object_add(o, "max_output_tokens", json_object_new_int(max_tokens(in)));
		/* Reasoning models take no temperature. */
		if (in->stream)
			json_object_object_add(o, "stream", json_object_new_boolean(1));
	} else {
		*url = arena_sprintf(a, "%s/chat/completions", p->base_url);
		if (*key != '\0')
			*h = curl_slist_append(*h, arena_sprintf(a, "Authorization: Bearer %s", key));
		if (p == &providers[P_OPENROUTER]) {
			if (*cfg.openrouter_referer != '\0')
				*h = curl_slist_append(*h, arena_sprintf(a, "HTTP-Referer: %s",
				    cfg.openrouter_referer));
			if (*cfg.openrouter_title != '\0')
				*h = curl_slist_append(*h, arena_sprintf(a, "X-Title: %s",
				    cfg.openrouter_title));
		}
		json_object_object_add(o, "model", json_object_new_string(at->model));
		json_object_object_add(o, "messages", chat_messages(in));
		json_object_object_add(o, "max_tokens", json_object_new_int(max_tokens(in)));
		if (in->has_temperature)
			json_object_object_add(o, "temperature", json_object_new_double(in->temperature));
		if (in->stream) {
			json_object_object_add(o, "stream", json_object_new_boolean(1));
			m = json_object_new_object();
			json_object_object_add(m, "include_usage", json_object_new_boolean(1));
			json_object_object_add(o, "stream_options", m);
		}
	}
	json_to_buf(body, o);
	json_object_put(o);
}

/* -- responses (whole) -- */

static int
parse_whole(struct attempt *at, json_object *o)
{
	struct llm_result	*out = at->out;
	json_object		*c, *u, *it, *parts;
	size_t			 i, j;

	switch (at->p->format) {
	case LLM_ANTHROPIC:
		if ((c = jget(o, "content")) == NULL || !json_object_is_type(c, json_type_array))
			return -1;
		for (i = 0; i < json_object_array_length(c); i++) {
			it = json_object_array_get_idx(c, i);
			if (jgets(it, "type") != NULL && strcmp(jgets(it, "type"), "text") == 0)
				emit_str(at, jget(it, "text"));
		}
		u = jget(o, "usage");
		out->prompt_tokens = jgeti(u, "input_tokens");
		out->completion_tokens = jgeti(u, "output_tokens");
		out->finish_reason = jgets(o, "stop_reason");
		return 0;
	case LLM_GEMINI:
		if ((c = jget(o, "candidates")) == NULL || !json_object_is_type(c, json_type_array) ||
		    json_object_array_length(c) == 0)
			return -1;
		it = json_object_array_get_idx(c, 0);
		parts = jget(jget(it, "content"), "parts");
		for (j = 0; parts != NULL && json_object_is_type(parts, json_type_array) &&
		    j < json_object_array_length(parts); j++)
			emit_str(at, jget(json_object_array_get_idx(parts, j), "text"));
		u = jget(o, "usageMetadata");
		out->prompt_tokens = jgeti(u, "promptTokenCount");
		out->completion_tokens = jgeti(u, "candidatesTokenCount");
		out->finish_reason = jgets(it, "finishReason");
		return 0;
	case LLM_RESPONSES:
	case LLM_CHAT:
		break;
	}
	if (uses_responses(at->p, at->model)) {
		if ((c = jget(o, "output")) == NULL || !json_object_is_type(c, json_type_array))
			return -1;
		for (i = 0; i < json_object_array_length(c); i++) {
			it = json_object_array_get_idx(c, i);
			parts = jget(it, "content");
			for (j = 0; parts != NULL && json_object_is_type(parts, json_type_array) &&
			    j < json_object_array_length(parts); j++) {
				json_object *pt = json_object_array_get_idx(parts, j);

				if (jgets(pt, "type") && strcmp(jgets(pt, "type"), "output_text") == 0)
					emit_str(at, jget(pt, "text"));
			}
		}
		u = jget(o, "usage");
		out->prompt_tokens = jgeti(u, "input_tokens");
		out->completion_tokens = jgeti(u, "output_tokens");
		out->finish_reason = jgets(o, "status");
		return 0;
	}
	if ((c = jget(o, "choices")) == NULL || !json_object_is_type(c, json_type_array) ||
	    json_object_array_length(c) == 0)
		return -1;
	it = json_object_array_get_idx(c, 0);
	emit_str(at, jget(jget(it, "message"), "content"));
	out->finish_reason = jgets(it, "finish_reason");
	u = jget(o, "usage");
	out->prompt_tokens = jgeti(u, "prompt_tokens");
	out->completion_tokens = jgeti(u, "completion_tokens");
	return 0;
}

/* -- responses (streamed) -- */

static int
on_event(void *ctx, const char *event, const char *data, size_t len)
{
	struct attempt		*at = ctx;
	struct llm_result	*out = at->out;
	json_object		*o, *c, *it, *u, *parts;
	const char		*why, *t;
	size_t			 j;

	if (at->p->format == LLM_CHAT && !uses_responses(at->p, at->model) &&
	    len == 6 && memcmp(data, "[DONE]", 6) == 0) {
		at->done = true;
		return 0;
	}
	if ((o = json_parse(data, len, &why)) == NULL) {
		at->bad = true;
		return -1;
	}
	switch (at->p->format) {
	case LLM_ANTHROPIC:
		t = jgets(o, "type");
		if (t == NULL)
			break;
		if (strcmp(t, "message_start") == 0)
			out->prompt_tokens = jgeti(jget(jget(o, "message"), "usage"), "input_tokens");
		else if (strcmp(t, "content_block_delta") == 0)
			emit_str(at, jget(jget(o, "delta"), "text"));
		else if (strcmp(t, "message_delta") == 0) {
			if ((u = jget(o, "usage")) != NULL)
				out->completion_tokens = jgeti(u, "output_tokens");
			if (jgets(jget(o, "delta"), "stop_reason"))
				out->finish_reason = jgets(jget(o, "delta"), "stop_reason");
		} else if (strcmp(t, "message_stop") == 0)
			at->done = true;
		else if (strcmp(t, "error") == 0)
			snprintf(at->error, sizeof(at->error), "%s",
			    jgets(jget(o, "error"), "message") ?: "error event");
		break;
	case LLM_GEMINI:
		if ((c = jget(o, "candidates")) != NULL && json_object_is_type(c, json_type_array) &&
		    json_object_array_length(c) > 0) {
			it = json_object_array_get_idx(c, 0);
			parts = jget(jget(it, "content"), "parts");
			for (j = 0; parts != NULL && json_object_is_type(parts, json_type_array) &&
			    j < json_object_array_length(parts); j++)
				emit_str(at, jget(json_object_array_get_idx(parts, j), "text"));
			if (jgets(it, "finishReason") != NULL) {
				out->finish_reason = jgets(it, "finishReason");
				at->done = true;
			}
		}
		if ((u = jget(o, "usageMetadata")) != NULL) {
			out->prompt_tokens = jgeti(u, "promptTokenCount");
			out->completion_tokens = jgeti(u, "candidatesTokenCount");
		}
		if ((it = jget(o, "error")) != NULL)
			snprintf(at->error, sizeof(at->error), "%s",
			    jgets(it, "message") ?: "error event");
		break;
	case LLM_RESPONSES:
	case LLM_CHAT:
		if (uses_responses(at->p, at->model)) {
			t = jgets(o, "type");
			if (t == NULL)
				t = event;
			if (strcmp(t, "response.output_text.delta") == 0)
				emit_str(at, jget(o, "delta"));
			else if (strcmp(t, "response.completed") == 0 ||
			    strcmp(t, "response.incomplete") == 0) {
				/* incomplete: cut by max_output_tokens */
				u = jget(jget(o, "response"), "usage");
				out->prompt_tokens = jgeti(u, "input_tokens");
				out->completion_tokens = jgeti(u, "output_tokens");
				out->finish_reason = t[9] == 'c' ? "stop" : "length";
				at->done = true;
			} else if (strcmp(t, "response.failed") == 0 || strcmp(t, "error") == 0)
				snprintf(at->error, sizeof(at->error), "%s",
				    jgets(jget(jget(o, "response"), "error"), "message") ?:
				    jgets(o, "message") ?: "response failed");
			break;
		}
		if ((c = jget(o, "choices")) != NULL && json_object_is_type(c, json_type_array) &&
		    json_object_array_length(c) > 0) {
			it = json_object_array_get_idx(c, 0);
			emit_str(at, jget(jget(it, "delta"), "content"));
			if (jgets(it, "finish_reason") != NULL)
				out->finish_reason = jgets(it, "finish_reason");
		}
		if ((u = jget(o, "usage")) != NULL && json_object_is_type(u, json_type_object)) {
			out->prompt_tokens = jgeti(u, "prompt_tokens");
			out->completion_tokens = jgeti(u, "completion_tokens");
		}
		if ((it = jget(o, "error")) != NULL)
			snprintf(at->error, sizeof(at->error), "%s",
			    jgets(it, "message") ?: "error event");
		break;
	}
	/* Strings emitted were copied; finish_reason must outlive o. */
	if (out->finish_reason != NULL)
		out->finish_reason = arena_strdup(at->r->a, out->finish_reason);
	json_object_put(o);
	return 0;
}

static int
on_chunk(void *ctx, const char *p, size_t n)
{
	struct attempt *at = ctx;

	if (sse_feed(&at->sse, p, n) != 0)
		at->bad = true;
	return 0;	/* keep reading: the body still tells the status */
}

/* A short, safe reason from an error body: its message, key redacted. */
static const char *
reason(struct attempt *at, const struct httpc_resp *resp, const char *key)
{
	json_object	*o, *e;
	const char	*why, *m = NULL;
	char		*out, *hit;
	size_t		 i;

	if ((o = json_parse(resp->body->data, resp->body->len, &why)) != NULL) {
		jarena(at->r->a, o);
		e = jget(o, "error");
		if (json_object_is_type(e, json_type_string))
			m = json_object_get_string(e);
		else
			m = jgets(e, "message");
		if (m == NULL)
			m = jgets(o, "message");
	}
	out = arena_sprintf(at->r->a, "%.160s", m != NULL ? m : "no details");
	for (i = 0; out[i] != '\0'; i++)
		if ((unsigned char)out[i] < 0x20)
			out[i] = ' ';
	if (key != NULL && strlen(key) >= 8)
		while ((hit = strstr(out, key)) != NULL)
			memset(hit, '*', strlen(key));
	return out;
}

/* "length" when the provider stopped at the token limit, else "stop". */
static const char *
normal_finish(const char *f)
{
	if (f != NULL && (strcmp(f, "length") == 0 || strcmp(f, "max_tokens") == 0 ||
	    strcmp(f, "MAX_TOKENS") == 0 || strcmp(f, "incomplete") == 0))
		return "length";
	return "stop";
}

enum verdict { V_OK, V_RETRY, V_NEXT, V_STOP };

static enum verdict
attempt_once(struct attempt *at, int *retry_after_ms)
{
	struct httpc_req	 hin = { 0 };
	struct httpc_resp	 resp;
	struct curl_slist	*h = NULL;
	struct llm_result	*out = at->out;
	struct buf		 body = BUF_INIT;
	const char		*key, *own = NULL, *why;
	json_object		*o;
	char			*url;
	int			 rc;
	long			 ra;

	if (at->in->user_key != NULL)
		own = at->in->user_key(at->in->kctx, at->p->name);
	key = own != NULL ? own : at->p->key;
	out->own_key = own != NULL;
	out->provider = at->p;
	if (*key == '\0' && !at->p->keyless) {
		set_error(out, 502, "upstream_error", arena_sprintf(at->r->a,
		    "%s: no API key is configured", at->p->name));
		return V_NEXT;
	}
	buf_reset(out->text);
	out->prompt_tokens = out->completion_tokens = 0;
	out->finish_reason = NULL;
	at->done = at->bad = false;
	at->error[0] = '\0';
	build(at, key, &url, &h, &body);
	hin.method = "POST";
	hin.url = url;
	hin.headers = h;
	hin.body = body.data;
	hin.body_len = body.len;
	hin.timeout_ms = cfg.llm_timeout_ms;
	hin.connect_timeout_ms = cfg.llm_connect_timeout_ms;
	hin.max_response = (size_t)cfg.llm_max_response_bytes;
	hin.upstream = at->p->up;
	if (at->in->stream) {
		sse_init(&at->sse, on_event, at);
		hin.on_chunk = on_chunk;
		hin.chunk_ctx = at;
	}
	rc = httpc_do(at->r, &hin, &resp);
	out->latency_ms = resp.duration_ms;
	out->attempts++;
	curl_slist_free_all(h);
	buf_free(&body);
	if (at->in->stream)
		sse_free(&at->sse);
	if (rc != 0 && req_failed(at->r))
		return V_STOP;		/* the request's own check failed */
	if (rc != 0 && resp.timed_out) {
		set_error(out, 504, "upstream_timeout", arena_sprintf(at->r->a,
		    "%s did not answer within %ld ms", at->p->name, cfg.llm_timeout_ms));
		return V_STOP;
	}
	if (rc != 0 && resp.too_large) {
		set_error(out, 502, "upstream_error", arena_sprintf(at->r->a,
		    "%s: response larger than %ld bytes", at->p->name,
		    cfg.llm_max_response_bytes));
		return V_NEXT;
	}
	if (rc != 0 || resp.status == 0) {
		set_error(out, 502, "upstream_error", arena_sprintf(at->r->a,
		    "%s: connection failed (%s)", at->p->name, resp.error));
		return out->streamed ? V_STOP : V_RETRY;
	}
	if (resp.status != 200) {
		set_error(out, 502, resp.status == 429 ? "upstream_rate_limited" :
		    "upstream_error", arena_sprintf(at->r->a, "%s: %s (HTTP %ld)",
		    at->p->name, reason(at, &resp, key), resp.status));
		if (resp.status == 429 || resp.status >= 500) {
			if (resp.retry_after != NULL && (ra = atol(resp.retry_after)) > 0)
				*retry_after_ms = (int)(ra > 2 ? 2000 : ra * 1000);
			return V_RETRY;
		}
		if (resp.status == 401 || resp.status == 403)
			return V_NEXT;
		out->status = 502;
		return V_STOP;
	}
	if (at->in->stream) {
		if (at->error[0] != '\0' || at->bad || !at->done) {
			set_error(out, 502, "upstream_error", arena_sprintf(at->r->a,
			    "%s: %s", at->p->name, at->error[0] ? at->error :
			    at->bad ? "malformed stream" : "the stream ended early"));
			return out->streamed ? V_STOP : V_NEXT;
		}
	} else {
		if ((o = json_parse(resp.body->data, resp.body->len, &why)) == NULL) {
			set_error(out, 502, "upstream_error", arena_sprintf(at->r->a,
			    "%s: malformed response", at->p->name));
			return V_NEXT;
		}
		rc = parse_whole(at, o);
		if (out->finish_reason != NULL)
			out->finish_reason = arena_strdup(at->r->a, out->finish_reason);
		json_object_put(o);
		if (rc != 0) {
			set_error(out, 502, "upstream_error", arena_sprintf(at->r->a,
			    "%s: unexpected response", at->p->name));
			return V_NEXT;
		}
	}
	out->status = 0;
	out->error_code = out->error_message = NULL;
	out->finish_reason = normal_finish(out->finish_reason);
	return V_OK;
}

int
llm_complete(struct req *r, const struct llm_req *in,
    const struct cfg_list *fallbacks, struct llm_result *out)
{
	struct attempt	 at;
	struct timespec	 ts;
	const char	*model = in->model;
	size_t		 next = 0;
	int		 tries, ra;
	enum verdict	 v;

	memset(out, 0, sizeof(*out));
	out->text = buf_arena_new(r->a);
	memset(&at, 0, sizeof(at));
	at.r = r;
	at.in = in;
	at.out = out;
	for (;;) {
		at.model = model;
		at.p = llm_provider_for_model(model);
		out->model = model;
		if (at.p == NULL) {
			set_error(out, 502, "upstream_error", arena_sprintf(r->a,
			    "no provider serves %s", model));
			v = V_NEXT;
		} else {
			for (tries = 0; tries < 2; tries++) {
				ra = (int)cfg.llm_retry_backoff_ms;
				v = attempt_once(&at, &ra);
				if (v != V_RETRY || out->streamed)
					break;
				if (tries == 0 && ra > 0) {
					ts.tv_sec = ra / 1000;
					ts.tv_nsec = (long)(ra % 1000) * 1000000;
					nanosleep(&ts, NULL);
				}
			}
			if (v == V_OK)
				return 0;
		}
		if (v == V_STOP || out->streamed || fallbacks == NULL ||
		    next >= fallbacks->n)
			break;
		/* Next fallback that is not the model just tried. */
		while (next < fallbacks->n && strcmp(fallbacks->v[next], model) == 0)
			next++;
		if (next >= fallbacks->n)
			break;
		log_msg(LOG_WARN, "llm_fallback", r->request_id, "%s failed (%s); "
		    "trying %s", model, out->error_message ? out->error_message : "?",
		    fallbacks->v[next]);
		model = fallbacks->v[next++];
	}
	if (out->status == 0)
		out->status = 502;
	if (out->error_code == NULL)
		out->error_code = "upstream_error";
	return -1;
}

/* ---- keys and model lists ---- */

static int
get_models(struct req *r, const struct llm_provider *p, const char *key,
    struct httpc_resp *resp)
{
	struct httpc_req	 in = { 0 };
	struct curl_slist	*h = NULL;
	int			 rc;

	in.method = "GET";
	if (p->format == LLM_ANTHROPIC) {
		in.url = arena_sprintf(r->a, "%s/v1/models", p->base_url);
		h = curl_slist_append(h, arena_sprintf(r->a, "x-api-key: %s", key));
		h = curl_slist_append(h, arena_sprintf(r->a, "anthropic-version: %s",
		    cfg.anthropic_version));
	} else if (p->format == LLM_GEMINI) {
		in.url = arena_sprintf(r->a, "%s/models", p->base_url);
		h = curl_slist_append(h, arena_sprintf(r->a, "x-goog-api-key: %s", key));
	} else {
		in.url = arena_sprintf(r->a, "%s/models", p->base_url);
		if (*key != '\0')
			h = curl_slist_append(h, arena_sprintf(r->a, "Authorization: Bearer %s", key));
	}
	in.headers = h;
	in.timeout_ms = cfg.llm_connect_timeout_ms + 5000;
	in.connect_timeout_ms = cfg.llm_connect_timeout_ms;
	in.max_response = 4 * 1024 * 1024;
	in.upstream = p->up;
	rc = httpc_do(r, &in, resp);
	curl_slist_free_all(h);
	return rc;
}

int
llm_check_key(struct req *r, const struct llm_provider *p, const char *key,
    const char **why, int64_t *latency_ms)
{
	struct httpc_resp	resp;
	struct attempt		at = { .r = r, .p = p };

	if (get_models(r, p, key, &resp) != 0) {
		if (req_failed(r))
			return -1;
		*why = resp.timed_out ? "timed out" : arena_sprintf(r->a,
		    "connection failed (%s)", resp.error);
		return -1;
	}
	*latency_ms = resp.duration_ms;
	if (resp.status != 200) {
		*why = arena_sprintf(r->a, "%s (HTTP %ld)", reason(&at, &resp, key),
		    resp.status);
		return -1;
	}
	return 0;
}

int
llm_list_models(struct req *r, const struct llm_provider *p, const char *key,
    struct buf *out)
{
	struct httpc_resp	 resp;
	json_object		*o, *arr, *ids;
	const char		*why, *id;
	size_t			 i;

	if (get_models(r, p, key, &resp) != 0 || resp.status != 200 ||
	    (o = json_parse(resp.body->data, resp.body->len, &why)) == NULL)
		return -1;
	jarena(r->a, o);
	arr = jget(o, p->format == LLM_GEMINI ? "models" : "data");
	if (arr == NULL || !json_object_is_type(arr, json_type_array))
		return -1;
	ids = json_object_new_array();
	for (i = 0; i < json_object_array_length(arr); i++) {
		json_object *m = json_object_array_get_idx(arr, i);

		id = jgets(m, p->format == LLM_GEMINI ? "name" : "id");
		if (id == NULL)
			continue;
		if (p->format == LLM_GEMINI && strncmp(id, "models/", 7) == 0)
			id += 7;
		if (llm_model_name_ok(id))
			json_object_array_add(ids, json_object_new_string(id));
	}
	json_to_buf(out, ids);
	json_object_put(ids);
	return 0;
}

/* ---- moderation ---- */

int
llm_moderate(struct req *r, const char *text, const char **categories)
{
	struct httpc_req	 in = { 0 };
	struct httpc_resp	 resp;
	struct curl_slist	*h = NULL;
	json_object		*o, *body, *res0, *cats;
	struct buf		*b, *list;
	const char		*why;
	int			 rc;

	*categories = NULL;
	if (*cfg.moderation_url == '\0')
		return 0;
	body = json_object_new_object();
	json_object_object_add(body, "model", json_object_new_string(cfg.moderation_model));
	json_object_object_add(body, "input", json_object_new_string(text));
	b = buf_arena_new(r->a);
	json_to_buf(b, body);
	json_object_put(body);
	h = curl_slist_append(h, "Content-Type: application/json");
	if (*cfg.moderation_key != '\0')
		h = curl_slist_append(h, arena_sprintf(r->a, "Authorization: Bearer %s",
		    cfg.moderation_key));
	in.method = "POST";
	in.url = arena_sprintf(r->a, "%s/moderations", cfg.moderation_url);
	in.headers = h;
	in.body = b->data;
	in.body_len = b->len;
	in.timeout_ms = cfg.moderation_timeout_ms;
	in.connect_timeout_ms = cfg.llm_connect_timeout_ms;
	in.max_response = 1024 * 1024;
	in.upstream = UP_MODERATION;
	rc = httpc_do(r, &in, &resp);
	curl_slist_free_all(h);
	if (rc != 0 && req_failed(r))
		return -1;
	if (rc != 0 || resp.status != 200 ||
	    (o = json_parse(resp.body->data, resp.body->len, &why)) == NULL) {
		log_msg(LOG_WARN, "moderation", r->request_id, "moderation unavailable "
		    "(status %ld %s); the message goes through", resp.status, resp.error);
		return 0;
	}
	jarena(r->a, o);
	res0 = jget(o, "results");
	if (res0 == NULL || !json_object_is_type(res0, json_type_array) ||
	    json_object_array_length(res0) == 0)
		return 0;
	res0 = json_object_array_get_idx(res0, 0);
	if (!json_object_get_boolean(jget(res0, "flagged")))
		return 0;
	list = buf_arena_new(r->a);
	if ((cats = jget(res0, "categories")) != NULL &&
	    json_object_is_type(cats, json_type_object)) {
		json_object_object_foreach(cats, k, v) {
			if (!json_object_get_boolean(v) || !llm_model_name_ok(k))
				continue;
			if (list->len > 0)
				buf_addch(list, ',');
			buf_adds(list, k);
		}
	}
	*categories = list->len > 0 ? list->data : "flagged";
	return 1;
}
