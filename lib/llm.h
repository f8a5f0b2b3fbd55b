/*
 * llm.h - one interface to the LLM providers.
 *
 * The table of providers (llm.c) knows each one's base URL, key and models
 * (from the configuration) and its wire format:
 *   chat       OpenAI chat completions: openrouter, openai, grok,
 *              openai_compatible
 *   responses  OpenAI /v1/responses: openai models in
 *              openai.responses_models (the gpt-5 family)
 *   anthropic  /v1/messages
 *   gemini     v1beta generateContent / streamGenerateContent
 * A model belongs to the first provider whose models list names it.
 *
 * llm_complete() makes the call synchronously (the request must hold no
 * database connection; httpc gives it back), streaming text deltas to a
 * callback when asked. On 429, 5xx or a connection error it retries once
 * after a backoff, then tries each fallback model; a timeout ends the call.
 * Errors carry a short reason from the provider, never its raw body.
 */
#ifndef LEXAR_LLM_H
#define LEXAR_LLM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "metrics.h"

struct req;
struct cfg_list;

enum llm_format { LLM_CHAT, LLM_RESPONSES, LLM_ANTHROPIC, LLM_GEMINI };

struct llm_provider {
	const char		*name;		/* "openai" */
	enum upstream		 up;		/* metrics label */
	enum llm_format		 format;
	const char		*base_url;	/* from the configuration */
	const char		*key;		/* platform key; "" if none */
	const struct cfg_list	*models;
	bool			 keyless;	/* may be called without a key */
};

struct llm_msg {
	const char	*role;		/* "system" | "user" | "assistant" */
	const char	*content;
};

/* Called with each piece of text as it arrives; the return value is
 * ignored (the call goes on if the client left: the text is kept). */
typedef void (*llm_delta_fn)(void *ctx, const char *text, size_t n);

struct llm_req {
	const char		*model;
	const struct llm_msg	*msgs;		/* system first, if any */
	int			 nmsgs;
	int			 max_tokens;	/* 0: llm.default_max_tokens */
	double			 temperature;
	bool			 has_temperature;
	bool			 stream;
	llm_delta_fn		 on_delta;
	void			*ctx;
	/* The caller's own key for a provider, or NULL: looked up per model. */
	const char		*(*user_key)(void *kctx, const char *provider);
	void			*kctx;
};

struct llm_result {
	const struct llm_provider *provider;	/* of the last attempt */
	const char	*model;			/* the model that answered */
	struct buf	*text;			/* in the request arena */
	int		 prompt_tokens;
	int		 completion_tokens;
	const char	*finish_reason;		/* "stop" | "length" */
	int64_t		 latency_ms;		/* of the last attempt */
	bool		 own_key;
	int		 attempts;
	bool		 streamed;		/* deltas reached the callback */
	/* On failure: */
	int		 status;		/* 502 | 504 | 400 */
	const char	*error_code;		/* upstream_error | upstream_timeout */
	const char	*error_message;		/* safe to show */
};

void				 llm_init(void);
const struct llm_provider	*llm_provider_for_model(const char *model);
const struct llm_provider	*llm_provider_named(const char *name);
/* The table, for listings: n providers. */
const struct llm_provider	*llm_providers(size_t *n);
bool				 llm_model_name_ok(const char *model);

/*
 * Complete in->msgs with in->model, then the fallback models. Returns 0
 * with out filled, or -1 with out->status/error_* set (nothing recorded on
 * r unless the request itself failed, e.g. its session check).
 */
int	llm_complete(struct req *r, const struct llm_req *in,
	    const struct cfg_list *fallbacks, struct llm_result *out);

/* One cheap authenticated call (the model list) to check a key. */
int	llm_check_key(struct req *r, const struct llm_provider *p, const char *key,
	    const char **why, int64_t *latency_ms);
/* The provider's model ids (GET models), into a JSON array (arena-owned). */
int	llm_list_models(struct req *r, const struct llm_provider *p, const char *key,
	    struct buf *json_array);

/*
 * Automatic moderation (moderation.url, OpenAI-compatible /moderations).
 * Returns 1 when flagged (*categories: "hate,violence"), 0 when not or when
 * moderation is off or failing (fail open, logged), -1 when the request's
 * own checks failed (error recorded on r).
 */
int	llm_moderate(struct req *r, const char *text, const char **categories);

#endif
