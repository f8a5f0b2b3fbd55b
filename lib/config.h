/*
 * config.h - conf.yaml plus environment overrides, table-driven.
 *
 * Every key is one row of the table in config.c:
 *   {yaml key, env var, type, field offset, default, min, max, flags, help}
 * Loading is: defaults -> conf.yaml (libyaml) -> environment -> validation.
 * Unknown keys, wrong types and out-of-range values are errors that name the
 * key (and the YAML line). Secret values never appear in messages.
 *
 * The global `cfg` is filled once at start, before any thread exists, and is
 * read-only afterwards. Strings are owned by the config (config_free).
 */
#ifndef LEXAR_CONFIG_H
#define LEXAR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct buf;

enum lexar_env { ENV_DEVELOPMENT, ENV_PRODUCTION };

struct cfg_list {
	char	**v;
	size_t	  n;
};

struct cfg_pool {
	long	 processes;
	long	 threads;
	long	 db_connections;
};

struct config {
	int		 env;			/* enum lexar_env */
	long		 port;
	char		*public_url;

	char		*database_url;
	long		 db_acquire_timeout_ms;
	long		 db_statement_timeout_ms;
	long		 db_connect_timeout_s;
	char		*migrations_dir;

	struct cfg_pool	 pool_api;
	struct cfg_pool	 pool_llm;
	char		*run_dir;
	long		 shutdown_timeout_s;
	long		 thread_stack_kb;
	long		 max_body_bytes;

	int		 log_level;		/* enum log_level */
	char		*log_file;

	char		*jwt_secret;
	long		 jwt_expires_s;
	long		 jwt_refresh_expires_s;
	char		*jwt_issuer;
	char		*jwt_audience;

	long		 argon2_memory_kib;
	long		 argon2_iterations;
	long		 argon2_parallelism;
	long		 hash_concurrency;
	long		 login_max_failures;
	char		*frontend_url;

	char		*smtp_url;
	char		*smtp_user;
	char		*smtp_password;
	char		*smtp_from;
	long		 smtp_timeout_ms;

	char		*google_client_id;
	char		*google_client_secret;
	char		*google_redirect_uri;
	char		*google_auth_url;
	char		*google_token_url;
	char		*google_userinfo_url;

	long		 daily_message_limit;
	long		 llm_timeout_ms;

	char		*openrouter_base_url;
	char		*openrouter_key;
	char		*openrouter_model;
	char		*openrouter_referer;
	char		*openrouter_title;
	struct cfg_list	 openrouter_models;

	char		*openai_base_url;
	char		*openai_key;
	struct cfg_list	 openai_models;
	struct cfg_list	 openai_responses_models;
	char		*anthropic_base_url;
	char		*anthropic_key;
	struct cfg_list	 anthropic_models;
	char		*anthropic_version;
	char		*gemini_base_url;
	char		*gemini_key;
	struct cfg_list	 gemini_models;
	char		*grok_base_url;
	char		*grok_key;
	struct cfg_list	 grok_models;
	char		*compat_base_url;
	char		*compat_key;
	struct cfg_list	 compat_models;
	struct cfg_list	 llm_fallback_models;
	long		 llm_connect_timeout_ms;
	long		 llm_max_response_bytes;
	long		 llm_default_max_tokens;
	long		 llm_history_messages;
	long		 llm_retry_backoff_ms;
	long		 llm_models_cache_s;
	struct cfg_list	 master_keys;
	char		*moderation_url;
	char		*moderation_key;
	char		*moderation_model;
	long		 moderation_timeout_ms;

	char		*admin_api_key;
	char		*admin_email;
	char		*admin_password;
	bool		 admin_force_reset;
	long		 rollup_interval_s;
};

extern struct config cfg;

/* Fill c with the defaults of every key. */
void	config_defaults(struct config *c);
/*
 * Apply a YAML document; name is used in messages ("conf.yaml").
 * Errors are appended to err, one line each; returns the number of errors.
 */
int	config_apply_yaml(struct config *c, const char *name, const char *data,
	    size_t len, struct buf *err);
/* Apply environment overrides through getenv_fn (getenv in production). */
int	config_apply_env(struct config *c, const char *(*getenv_fn)(const char *),
	    struct buf *err);
/* Cross-key rules (production secrets etc.); returns the number of errors. */
int	config_validate(struct config *c, struct buf *err);
/* Fill values derived from others (public_url from port, ...). */
void	config_derive(struct config *c);
/*
 * All of the above for a file. path NULL means "conf.yaml if it exists".
 * Returns 0 or -1 with messages in err.
 */
int	config_load(struct config *c, const char *path, struct buf *err);
void	config_free(struct config *c);

/* Markdown table of every key (for README) / the effective values. */
void	config_print_keys(FILE *fp);
void	config_print_values(const struct config *c, FILE *fp);

/* Parse "15m", "900", "900s", "2h", "7d" into seconds; -1 if invalid. */
long	config_parse_duration(const char *s);

const char *config_env_name(int env);

#endif
