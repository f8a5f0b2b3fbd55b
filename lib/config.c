/*
 * config.c - the configuration table, conf.yaml (libyaml) and environment.
 */
#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <yaml.h>

#include "buf.h"
#include "config.h"
#include "log.h"
#include "util.h"

struct config cfg;

enum cfg_type {
	T_STR,		/* any string */
	T_URL,		/* empty or http(s)://... */
	T_INT,		/* long in [min, max] */
	T_BOOL,		/* true/false/yes/no/on/off/1/0 */
	T_DURATION,	/* seconds in [min, max]; "15m", "2h", "7d", "900" */
	T_ENV,		/* development | production */
	T_LOGLEVEL,	/* debug | info | warn | error */
	T_LIST,		/* YAML sequence of strings, or comma-separated env */
};

#define F_SECRET	0x01	/* never printed */
#define F_REQUIRED	0x02	/* must be non-empty */

struct cfg_key {
	const char	*key;
	const char	*env;
	enum cfg_type	 type;
	size_t		 off;
	const char	*def;
	long		 min, max;
	unsigned	 flags;
	const char	*help;
};

#define OFF(f)	offsetof(struct config, f)

static const struct cfg_key keys[] = {
	{ "env", "LEXAR_ENV", T_ENV, OFF(env), "development", 0, 0, 0,
	  "`development` or `production` (`NODE_ENV` is read when `LEXAR_ENV` is unset)" },
	{ "port", "PORT", T_INT, OFF(port), "8080", 1, 65535, 0,
	  "HTTP port of the nginx that `make run` starts" },
	{ "public_url", "LEXAR_PUBLIC_URL", T_URL, OFF(public_url), "", 0, 0, 0,
	  "External base URL of the site (links in e-mails, OAuth redirects); empty means http://127.0.0.1:PORT" },

	{ "database.url", "DATABASE_URL", T_STR, OFF(database_url), "", 0, 0, F_REQUIRED | F_SECRET,
	  "libpq connection string or URI" },
	{ "database.acquire_timeout_ms", "LEXAR_DB_ACQUIRE_TIMEOUT_MS", T_INT, OFF(db_acquire_timeout_ms), "3000", 1, 60000, 0,
	  "How long a request waits for a pooled connection before 503" },
	{ "database.statement_timeout_ms", "LEXAR_DB_STATEMENT_TIMEOUT_MS", T_INT, OFF(db_statement_timeout_ms), "10000", 0, 3600000, 0,
	  "PostgreSQL statement_timeout for request queries (0 = none)" },
	{ "database.connect_timeout_s", "LEXAR_DB_CONNECT_TIMEOUT_S", T_INT, OFF(db_connect_timeout_s), "5", 1, 600, 0,
	  "libpq connect_timeout" },
	{ "database.migrations_dir", "LEXAR_MIGRATIONS_DIR", T_STR, OFF(migrations_dir), "sql", 0, 0, F_REQUIRED,
	  "Directory of `NNN_name.sql` migrations" },

	{ "pools.api.processes", "LEXAR_API_PROCESSES", T_INT, OFF(pool_api.processes), "2", 1, 64, 0,
	  "Worker processes of the `api` pool (fast requests)" },
	{ "pools.api.threads", "LEXAR_API_THREADS", T_INT, OFF(pool_api.threads), "32", 1, 4096, 0,
	  "Threads per `api` worker process" },
	{ "pools.api.db_connections", "LEXAR_API_DB_CONNECTIONS", T_INT, OFF(pool_api.db_connections), "2", 1, 500, 0,
	  "PostgreSQL connections per `api` worker process (held only while a request runs queries); about 2 x cores in total is best" },
	{ "pools.llm.processes", "LEXAR_LLM_PROCESSES", T_INT, OFF(pool_llm.processes), "1", 1, 64, 0,
	  "Worker processes of the `llm` pool (requests waiting on LLM / payment upstreams)" },
	{ "pools.llm.threads", "LEXAR_LLM_THREADS", T_INT, OFF(pool_llm.threads), "256", 1, 8192, 0,
	  "Threads per `llm` worker process" },
	{ "pools.llm.db_connections", "LEXAR_LLM_DB_CONNECTIONS", T_INT, OFF(pool_llm.db_connections), "4", 1, 500, 0,
	  "PostgreSQL connections per `llm` worker process (never held across an upstream call)" },
	{ "server.run_dir", "LEXAR_RUN_DIR", T_STR, OFF(run_dir), "var/run", 0, 0, F_REQUIRED,
	  "Sockets, pid files and the shared metrics files" },
	{ "server.shutdown_timeout_s", "LEXAR_SHUTDOWN_TIMEOUT_S", T_INT, OFF(shutdown_timeout_s), "30", 1, 3600, 0,
	  "On SIGTERM, how long in-flight requests may take before the process exits anyway" },
	{ "server.thread_stack_kb", "LEXAR_THREAD_STACK_KB", T_INT, OFF(thread_stack_kb), "256", 128, 16384, 0,
	  "Stack size of each worker thread" },
	{ "server.max_body_bytes", "LEXAR_MAX_BODY_BYTES", T_INT, OFF(max_body_bytes), "1048576", 1024, 67108864, 0,
	  "Largest request body the application reads (nginx has its own, larger `client_max_body_size`)" },

	{ "log.level", "LEXAR_LOG_LEVEL", T_LOGLEVEL, OFF(log_level), "info", 0, 0, 0,
	  "`debug`, `info`, `warn` or `error`" },
	{ "log.file", "LEXAR_LOG_FILE", T_STR, OFF(log_file), "", 0, 0, 0,
	  "Append log lines to this file instead of stderr (spawn-fcgi discards stderr); reopened on SIGHUP" },

	{ "jwt.secret", "JWT_SECRET", T_STR, OFF(jwt_secret), "", 0, 0, F_REQUIRED | F_SECRET,
	  "HS256 signing secret for access tokens; at least 32 bytes in production" },
	{ "jwt.expires", "JWT_EXPIRES", T_DURATION, OFF(jwt_expires_s), "15m", 30, 86400, 0,
	  "Access token lifetime (`900`, `15m`, `1h`)" },
	{ "jwt.refresh_expires", "JWT_REFRESH_EXPIRES", T_DURATION, OFF(jwt_refresh_expires_s), "30d", 3600, 31536000, 0,
	  "Refresh token (session) lifetime" },
	{ "jwt.issuer", "JWT_ISSUER", T_STR, OFF(jwt_issuer), "lexar", 0, 0, F_REQUIRED,
	  "`iss` of issued tokens; tokens with another `iss` are refused" },
	{ "jwt.audience", "JWT_AUDIENCE", T_STR, OFF(jwt_audience), "lexar-api", 0, 0, F_REQUIRED,
	  "`aud` of issued tokens; tokens with another `aud` are refused" },

	{ "auth.argon2_memory_kib", "LEXAR_ARGON2_MEMORY_KIB", T_INT, OFF(argon2_memory_kib), "19456", 19456, 4194304, 0,
	  "argon2id memory cost (KiB); hashes made with less are upgraded at the next login" },
	{ "auth.argon2_iterations", "LEXAR_ARGON2_ITERATIONS", T_INT, OFF(argon2_iterations), "2", 2, 100, 0,
	  "argon2id time cost" },
	{ "auth.argon2_parallelism", "LEXAR_ARGON2_PARALLELISM", T_INT, OFF(argon2_parallelism), "1", 1, 16, 0,
	  "argon2id lanes" },
	{ "auth.hash_concurrency", "LEXAR_HASH_CONCURRENCY", T_INT, OFF(hash_concurrency), "2", 1, 256, 0,
	  "Password hashes computed at once per worker process (others wait), so logins cannot starve other requests" },
	{ "auth.login_max_failures", "LEXAR_LOGIN_MAX_FAILURES", T_INT, OFF(login_max_failures), "5", 1, 1000, 0,
	  "Failed logins for one e-mail before exponential backoff (1 s, 2 s, 4 s ... 15 min)" },
	{ "auth.frontend_url", "LEXAR_FRONTEND_URL", T_URL, OFF(frontend_url), "", 0, 0, 0,
	  "Front-end base URL for links in e-mails and the Google sign-in redirect; empty means `public_url`" },

	{ "smtp.url", "SMTP_URL", T_STR, OFF(smtp_url), "", 0, 0, 0,
	  "`smtps://host:465` (TLS), `smtp://host:587` (STARTTLS required) or `smtp://host:25` (plain, local relays); empty: e-mails are written to the log (development only)" },
	{ "smtp.user", "SMTP_USER", T_STR, OFF(smtp_user), "", 0, 0, 0,
	  "SMTP login" },
	{ "smtp.password", "SMTP_PASSWORD", T_STR, OFF(smtp_password), "", 0, 0, F_SECRET,
	  "SMTP password" },
	{ "smtp.from", "SMTP_FROM", T_STR, OFF(smtp_from), "no-reply@localhost", 0, 0, F_REQUIRED,
	  "Sender address of e-mails" },
	{ "smtp.timeout_ms", "SMTP_TIMEOUT_MS", T_INT, OFF(smtp_timeout_ms), "10000", 100, 120000, 0,
	  "Whole-call timeout of sending one e-mail" },

	{ "google.client_id", "GOOGLE_CLIENT_ID", T_STR, OFF(google_client_id), "", 0, 0, 0,
	  "OAuth client id; empty disables Google sign-in" },
	{ "google.client_secret", "GOOGLE_CLIENT_SECRET", T_STR, OFF(google_client_secret), "", 0, 0, F_SECRET,
	  "OAuth client secret" },
	{ "google.redirect_uri", "GOOGLE_REDIRECT_URI", T_URL, OFF(google_redirect_uri), "", 0, 0, 0,
	  "Registered redirect URI; empty means `public_url`/api/v1/auth/google/callback" },
	{ "google.auth_url", "GOOGLE_AUTH_URL", T_URL, OFF(google_auth_url), "https://accounts.google.com/o/oauth2/v2/auth", 0, 0, 0,
	  "Authorization endpoint" },
	{ "google.token_url", "GOOGLE_TOKEN_URL", T_URL, OFF(google_token_url), "https://oauth2.googleapis.com/token", 0, 0, 0,
	  "Token endpoint" },
	{ "google.userinfo_url", "GOOGLE_USERINFO_URL", T_URL, OFF(google_userinfo_url), "https://openidconnect.googleapis.com/v1/userinfo", 0, 0, 0,
	  "UserInfo endpoint" },

	{ "limits.daily_messages", "DAILY_MESSAGE_LIMIT", T_INT, OFF(daily_message_limit), "50", 0, 1000000, 0,
	  "Daily message limit of the seeded `free` plan" },
	{ "llm.timeout_ms", "LLM_TIMEOUT_MS", T_INT, OFF(llm_timeout_ms), "60000", 100, 600000, 0,
	  "Whole-call timeout of an upstream LLM request" },

	{ "openrouter.base_url", "OPENROUTER_BASE_URL", T_URL, OFF(openrouter_base_url), "https://openrouter.ai/api/v1", 0, 0, 0,
	  "OpenRouter API base URL" },
	{ "openrouter.key", "OPENROUTER_KEY", T_STR, OFF(openrouter_key), "", 0, 0, F_SECRET,
	  "OpenRouter API key" },
	{ "openrouter.model", "OPENROUTER_MODEL", T_STR, OFF(openrouter_model), "openai/gpt-4o-mini", 0, 0, 0,
	  "Default model" },
	{ "openrouter.referer", "OPENROUTER_REFERER", T_STR, OFF(openrouter_referer), "", 0, 0, 0,
	  "Sent as `HTTP-Referer` to OpenRouter" },
	{ "openrouter.title", "OPENROUTER_TITLE", T_STR, OFF(openrouter_title), "Lexar", 0, 0, 0,
	  "Sent as `X-Title` to OpenRouter" },
	{ "openrouter.models", "OPENROUTER_MODELS", T_LIST, OFF(openrouter_models), "openai/gpt-4o,openai/gpt-4o-mini", 0, 0, 0,
	  "Models served through OpenRouter (comma-separated in the environment)" },

	{ "openai.base_url", "OPENAI_BASE_URL", T_URL, OFF(openai_base_url), "https://api.openai.com/v1", 0, 0, 0,
	  "OpenAI API base URL" },
	{ "openai.key", "OPENAI_API_KEY", T_STR, OFF(openai_key), "", 0, 0, F_SECRET,
	  "OpenAI API key (empty: only users' own keys)" },
	{ "openai.models", "OPENAI_MODELS", T_LIST, OFF(openai_models), "gpt-4o,gpt-4o-mini,gpt-5,gpt-5-mini", 0, 0, 0,
	  "Models served by OpenAI directly" },
	{ "openai.responses_models", "OPENAI_RESPONSES_MODELS", T_LIST, OFF(openai_responses_models), "gpt-5,gpt-5-mini", 0, 0, 0,
	  "OpenAI models called through `/v1/responses` instead of chat completions" },
	{ "anthropic.base_url", "ANTHROPIC_BASE_URL", T_URL, OFF(anthropic_base_url), "https://api.anthropic.com", 0, 0, 0,
	  "Anthropic API base URL" },
	{ "anthropic.key", "ANTHROPIC_API_KEY", T_STR, OFF(anthropic_key), "", 0, 0, F_SECRET,
	  "Anthropic API key" },
	{ "anthropic.models", "ANTHROPIC_MODELS", T_LIST, OFF(anthropic_models), "claude-sonnet-4-5,claude-3-5-haiku-latest", 0, 0, 0,
	  "Models served by Anthropic" },
	{ "anthropic.version", "ANTHROPIC_VERSION", T_STR, OFF(anthropic_version), "2023-06-01", 0, 0, 0,
	  "`anthropic-version` header" },
	{ "gemini.base_url", "GEMINI_BASE_URL", T_URL, OFF(gemini_base_url), "https://generativelanguage.googleapis.com/v1beta", 0, 0, 0,
	  "Gemini API base URL (v1beta)" },
	{ "gemini.key", "GEMINI_API_KEY", T_STR, OFF(gemini_key), "", 0, 0, F_SECRET,
	  "Gemini API key" },
	{ "gemini.models", "GEMINI_MODELS", T_LIST, OFF(gemini_models), "gemini-2.0-flash,gemini-2.5-pro", 0, 0, 0,
	  "Models served by Gemini" },
	{ "grok.base_url", "XAI_BASE_URL", T_URL, OFF(grok_base_url), "https://api.x.ai/v1", 0, 0, 0,
	  "x.ai (Grok) API base URL" },
	{ "grok.key", "XAI_API_KEY", T_STR, OFF(grok_key), "", 0, 0, F_SECRET,
	  "x.ai API key" },
	{ "grok.models", "XAI_MODELS", T_LIST, OFF(grok_models), "grok-2,grok-3-mini", 0, 0, 0,
	  "Models served by x.ai" },
	{ "openai_compatible.base_url", "OPENAI_COMPATIBLE_BASE_URL", T_URL, OFF(compat_base_url), "", 0, 0, 0,
	  "Base URL of any OpenAI-compatible server (Ollama `http://127.0.0.1:11434/v1`, vLLM, llama.cpp); empty: off" },
	{ "openai_compatible.key", "OPENAI_COMPATIBLE_KEY", T_STR, OFF(compat_key), "", 0, 0, F_SECRET,
	  "Its API key, if it wants one" },
	{ "openai_compatible.models", "OPENAI_COMPATIBLE_MODELS", T_LIST, OFF(compat_models), "", 0, 0, 0,
	  "Models it serves" },
	{ "llm.fallback_models", "LLM_FALLBACK_MODELS", T_LIST, OFF(llm_fallback_models), "", 0, 0, 0,
	  "Models tried in order when the requested one fails twice (429, 5xx, connection error)" },
	{ "llm.connect_timeout_ms", "LLM_CONNECT_TIMEOUT_MS", T_INT, OFF(llm_connect_timeout_ms), "5000", 100, 60000, 0,
	  "Connect timeout of an upstream LLM call" },
	{ "llm.max_response_bytes", "LLM_MAX_RESPONSE_BYTES", T_INT, OFF(llm_max_response_bytes), "4194304", 65536, 268435456, 0,
	  "Largest upstream response accepted" },
	{ "llm.default_max_tokens", "LLM_DEFAULT_MAX_TOKENS", T_INT, OFF(llm_default_max_tokens), "1024", 1, 1000000, 0,
	  "max_tokens sent when a request gives none (Anthropic requires one)" },
	{ "llm.history_messages", "LLM_HISTORY_MESSAGES", T_INT, OFF(llm_history_messages), "50", 0, 10000, 0,
	  "At most this many earlier messages of a chat are sent (fewer when the model's context is smaller)" },
	{ "llm.retry_backoff_ms", "LLM_RETRY_BACKOFF_MS", T_INT, OFF(llm_retry_backoff_ms), "500", 0, 10000, 0,
	  "Wait before the one retry of a failed call (or the upstream's Retry-After, up to 2 s)" },
	{ "llm.models_cache_s", "LLM_MODELS_CACHE_S", T_INT, OFF(llm_models_cache_s), "3600", 0, 604800, 0,
	  "How long fetched model lists are kept in PostgreSQL" },
	{ "moderation.url", "MODERATION_URL", T_URL, OFF(moderation_url), "", 0, 0, 0,
	  "Base URL of an OpenAI-compatible moderation API (`https://api.openai.com/v1`); empty: no automatic moderation" },
	{ "moderation.key", "MODERATION_KEY", T_STR, OFF(moderation_key), "", 0, 0, F_SECRET,
	  "Its API key" },
	{ "moderation.model", "MODERATION_MODEL", T_STR, OFF(moderation_model), "omni-moderation-latest", 0, 0, 0,
	  "Moderation model" },
	{ "moderation.timeout_ms", "MODERATION_TIMEOUT_MS", T_INT, OFF(moderation_timeout_ms), "5000", 100, 60000, 0,
	  "Timeout of a moderation call; when it fails the message goes through (logged)" },
	{ "crypto.master_keys", "LEXAR_MASTER_KEYS", T_LIST, OFF(master_keys), "", 0, 0, F_SECRET,
	  "Keys encrypting users' provider keys (AES-256-GCM): `id:64-hex-digits`, the first one encrypts, all decrypt (rotation)" },

	{ "admin.api_key", "ADMIN_API_KEY", T_STR, OFF(admin_api_key), "", 0, 0, F_SECRET,
	  "Key for `X-Admin-Key` on `/admin/*`; required in production" },
	{ "admin.email", "ADMIN_EMAIL", T_STR, OFF(admin_email), "", 0, 0, 0,
	  "E-mail of the platform admin created or updated at start" },
	{ "admin.password", "ADMIN_PASSWORD", T_STR, OFF(admin_password), "", 0, 0, F_SECRET,
	  "Initial password of that admin" },
	{ "admin.force_reset", "ADMIN_FORCE_RESET", T_BOOL, OFF(admin_force_reset), "false", 0, 0, 0,
	  "`true`: reset the admin's password from `ADMIN_PASSWORD` at start" },
	{ "admin.rollup_interval_s", "LEXAR_ROLLUP_INTERVAL_S", T_INT, OFF(rollup_interval_s), "5", 0, 3600, 0,
	  "How often the `api` pool's supervisor folds new usage rows into the report roll-ups (0 = never; reports stay exact but slow down)" },
};

#define NKEYS	(sizeof(keys) / sizeof(keys[0]))

static const char *const env_names[] = { "development", "production" };
static const char *const level_names[] = { "debug", "info", "warn", "error" };

const char *
config_env_name(int env)
{
	return env_names[env == ENV_PRODUCTION];
}

static void *
field(struct config *c, const struct cfg_key *k)
{
	return (char *)c + k->off;
}

static const struct cfg_key *
find_key(const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].key, name) == 0)
			return &keys[i];
	return NULL;
}

/* True if some key lives below "prefix." */
static bool
is_section(const char *prefix)
{
	size_t i, n = strlen(prefix);

	for (i = 0; i < NKEYS; i++)
		if (strncmp(keys[i].key, prefix, n) == 0 && keys[i].key[n] == '.')
			return true;
	return false;
}

long
config_parse_duration(const char *s)
{
	char		*end;
	long long	 v, mul = 1;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || v < 0)
		return -1;
	if (*end != '\0') {
		switch (*end) {
		case 's': mul = 1; break;
		case 'm': mul = 60; break;
		case 'h': mul = 3600; break;
		case 'd': mul = 86400; break;
		default: return -1;
		}
		if (end[1] != '\0')
			return -1;
	}
	if (v > LONG_MAX / mul)
		return -1;
	return (long)(v * mul);
}

static int
parse_bool(const char *s)
{
	static const char *const t[] = { "true", "yes", "on", "1" };
	static const char *const f[] = { "false", "no", "off", "0" };
	size_t i;

	for (i = 0; i < 4; i++) {
		if (strcasecmp(s, t[i]) == 0)
			return 1;
		if (strcasecmp(s, f[i]) == 0)
			return 0;
	}
	return -1;
}

static int
parse_choice(const char *s, const char *const *names, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

static void
list_free(struct cfg_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static void
list_add(struct cfg_list *l, const char *s, size_t n)
{
	char **v;

	v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (v == NULL)
		die("out of memory");
	l->v = v;
	if ((l->v[l->n] = strndup(s, n)) == NULL)
		die("out of memory");
	l->n++;
}

/* Split a comma-separated value, trimming blanks, dropping empty items. */
static void
list_set_csv(struct cfg_list *l, const char *s)
{
	const char	*p = s, *e, *q;

	list_free(l);
	while (*p != '\0') {
		e = strchr(p, ',');
		if (e == NULL)
			e = p + strlen(p);
		for (q = p; q < e && (*q == ' ' || *q == '\t'); q++)
			;
		while (e > q && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e > q)
			list_add(l, q, (size_t)(e - q));
		p = strchr(p, ',');
		if (p == NULL)
			break;
		p++;
	}
}

static void
errf(struct buf *err, const char *where, const struct cfg_key *k,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
errf(struct buf *err, const char *where, const struct cfg_key *k,
    const char *fmt, ...)
{
	va_list ap;

	buf_printf(err, "%s: %s: ", where, k != NULL ? k->key : "config");
	va_start(ap, fmt);
	buf_vprintf(err, fmt, ap);
	va_end(ap);
	buf_addch(err, '\n');
}

/* Quote a value for a message, unless it is secret. */
static const char *
shown(const struct cfg_key *k, const char *v, char *tmp, size_t size)
{
	if (k->flags & F_SECRET)
		return "(secret value hidden)";
	snprintf(tmp, size, "\"%.60s%s\"", v, strlen(v) > 60 ? "..." : "");
	return tmp;
}

/* Set one key from text. Returns 0 or -1 (message appended to err). */
static int
set_value(struct config *c, const struct cfg_key *k, const char *v,
    const char *where, struct buf *err)
{
	char	 tmp[96];
	char	**sp;
	long	 d;
	long long n;
	int	 i;

	switch (k->type) {
	case T_URL:
		if (*v != '\0' && strncmp(v, "http://", 7) != 0 &&
		    strncmp(v, "https://", 8) != 0) {
			errf(err, where, k, "expected an http:// or https:// URL, got %s",
			    shown(k, v, tmp, sizeof(tmp)));
			return -1;
		}
		/* FALLTHROUGH */
	case T_STR:
		if (strlen(v) > 8192) {
			errf(err, where, k, "value longer than 8192 bytes");
			return -1;
		}
		sp = field(c, k);
		free(*sp);
		if ((*sp = strdup(v)) == NULL)
			die("out of memory");
		return 0;
	case T_INT:
		if (!parse_int(v, k->min, k->max, &n)) {
			errf(err, where, k, "expected an integer from %ld to %ld, got %s",
			    k->min, k->max, shown(k, v, tmp, sizeof(tmp)));
			return -1;
		}
		*(long *)field(c, k) = (long)n;
		return 0;
	case T_DURATION:
		d = config_parse_duration(v);
		if (d < k->min || d > k->max) {
			errf(err, where, k, "expected a duration from %lds to %lds "
			    "(like 900, 15m, 2h, 1d), got %s", k->min, k->max,
			    shown(k, v, tmp, sizeof(tmp)));
			return -1;
		}
		*(long *)field(c, k) = d;
		return 0;
	case T_BOOL:
		if ((i = parse_bool(v)) < 0) {
			errf(err, where, k, "expected true or false, got %s",
			    shown(k, v, tmp, sizeof(tmp)));
			return -1;
		}
		*(bool *)field(c, k) = i;
		return 0;
	case T_ENV:
		if ((i = parse_choice(v, env_names, 2)) < 0) {
			errf(err, where, k, "expected development or production, got %s",
			    shown(k, v, tmp, sizeof(tmp)));
			return -1;
		}
		*(int *)field(c, k) = i;
		return 0;
	case T_LOGLEVEL:
		if ((i = parse_choice(v, level_names, 4)) < 0) {
			errf(err, where, k, "expected debug, info, warn or error, got %s",
			    shown(k, v, tmp, sizeof(tmp)));
			return -1;
		}
		*(int *)field(c, k) = i;
		return 0;
	case T_LIST:
		list_set_csv(field(c, k), v);
		return 0;
	}
	BUG("unknown config type %d", k->type);
}

void
config_defaults(struct config *c)
{
	struct buf	err = BUF_INIT;
	size_t		i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < NKEYS; i++)
		if (set_value(c, &keys[i], keys[i].def, "default", &err) != 0)
			BUG("bad default for %s: %s", keys[i].key, err.data);
	buf_free(&err);
}

void
config_free(struct config *c)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		switch (keys[i].type) {
		case T_STR:
		case T_URL:
			free(*(char **)field(c, &keys[i]));
			*(char **)field(c, &keys[i]) = NULL;
			break;
		case T_LIST:
			list_free(field(c, &keys[i]));
			break;
		default:
			break;
		}
	}
}

/* ---- YAML ---- */

#define YAML_MAX_DEPTH	8

struct yctx {
	yaml_parser_t	 p;
	struct config	*c;
	const char	*name;
	struct buf	*err;
	int		 nerr;
	bool		 seen[NKEYS];
};

static void
ywhere(struct yctx *y, const yaml_mark_t *m, char *out, size_t size)
{
	snprintf(out, size, "%s:%zu", y->name, m->line + 1);
}

static void
yerr(struct yctx *y, const yaml_mark_t *m, const char *key, const char *msg)
{
	char where[300];

	ywhere(y, m, where, sizeof(where));
	buf_printf(y->err, "%s: %s: %s\n", where, key, msg);
	y->nerr++;
}

static int
ynext(struct yctx *y, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&y->p, ev)) {
		buf_printf(y->err, "%s:%zu: invalid YAML: %s\n", y->name,
		    y->p.problem_mark.line + 1,
		    y->p.problem ? y->p.problem : "parse error");
		y->nerr++;
		return -1;
	}
	return 0;
}

/* Consume the rest of a node whose start event was ev. */
static int
yskip(struct yctx *y, yaml_event_t *start)
{
	yaml_event_t	ev;
	int		depth;

	if (start->type != YAML_MAPPING_START_EVENT &&
	    start->type != YAML_SEQUENCE_START_EVENT)
		return 0;
	for (depth = 1; depth > 0;) {
		if (ynext(y, &ev) != 0)
			return -1;
		if (ev.type == YAML_MAPPING_START_EVENT ||
		    ev.type == YAML_SEQUENCE_START_EVENT)
			depth++;
		else if (ev.type == YAML_MAPPING_END_EVENT ||
		    ev.type == YAML_SEQUENCE_END_EVENT)
			depth--;
		yaml_event_delete(&ev);
	}
	return 0;
}

static bool
yscalar_is_null(const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;

	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return *v == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
	    strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

static int ymapping(struct yctx *y, const char *prefix, int depth);

static int
ysequence(struct yctx *y, const struct cfg_key *k, const yaml_mark_t *m)
{
	struct cfg_list	*l = field(y->c, k);
	yaml_event_t	 ev;
	int		 rc = 0;

	list_free(l);
	for (;;) {
		if (ynext(y, &ev) != 0)
			return -1;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return rc;
		}
		if (ev.type != YAML_SCALAR_EVENT) {
			yerr(y, &ev.start_mark, k->key, "list items must be plain values");
			rc = yskip(y, &ev);
			yaml_event_delete(&ev);
			if (rc != 0)
				return -1;
			rc = 0;
			continue;
		}
		list_add(l, (const char *)ev.data.scalar.value, ev.data.scalar.length);
		yaml_event_delete(&ev);
	}
	(void)m;
}

static int
yvalue(struct yctx *y, const char *key, yaml_event_t *ev, int depth)
{
	const struct cfg_key	*k = find_key(key);
	char			 where[300];
	size_t			 idx;
	int			 rc;

	if (ev->type == YAML_ALIAS_EVENT) {
		yerr(y, &ev->start_mark, key, "YAML aliases are not supported");
		return 0;
	}
	if (ev->type == YAML_MAPPING_START_EVENT) {
		if (k == NULL && is_section(key))
			return ymapping(y, key, depth + 1);
		yerr(y, &ev->start_mark, key, k != NULL ?
		    "expected a value, got a mapping" : "unknown key");
		return yskip(y, ev);
	}
	if (k == NULL) {
		yerr(y, &ev->start_mark, key, is_section(key) ?
		    "expected a mapping of keys" : "unknown key");
		return yskip(y, ev);
	}
	idx = (size_t)(k - keys);
	if (y->seen[idx])
		yerr(y, &ev->start_mark, key, "duplicate key");
	y->seen[idx] = true;
	if (ev->type == YAML_SEQUENCE_START_EVENT) {
		if (k->type == T_LIST)
			return ysequence(y, k, &ev->start_mark);
		yerr(y, &ev->start_mark, key, "expected a single value, got a list");
		return yskip(y, ev);
	}
	/* Scalar. An explicit null keeps the default. */
	if (yscalar_is_null(ev))
		return 0;
	ywhere(y, &ev->start_mark, where, sizeof(where));
	if (strlen((const char *)ev->data.scalar.value) != ev->data.scalar.length) {
		yerr(y, &ev->start_mark, key, "value contains a NUL byte");
		return 0;
	}
	rc = set_value(y->c, k, (const char *)ev->data.scalar.value, where, y->err);
	if (rc != 0)
		y->nerr++;
	return 0;
}

static int
ymapping(struct yctx *y, const char *prefix, int depth)
{
	yaml_event_t	 kev, vev;
	char		 key[256];
	const char	*kname;
	int		 rc;

	if (depth > YAML_MAX_DEPTH) {
		buf_printf(y->err, "%s: nesting deeper than %d levels\n", y->name,
		    YAML_MAX_DEPTH);
		y->nerr++;
		return -1;
	}
	for (;;) {
		if (ynext(y, &kev) != 0)
			return -1;
		if (kev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&kev);
			return 0;
		}
		if (kev.type != YAML_SCALAR_EVENT) {
			yerr(y, &kev.start_mark, prefix[0] ? prefix : "(top level)",
			    "keys must be plain strings");
			rc = yskip(y, &kev);
			yaml_event_delete(&kev);
			if (rc != 0 || ynext(y, &vev) != 0)
				return -1;
			rc = yskip(y, &vev);
			yaml_event_delete(&vev);
			if (rc != 0)
				return -1;
			continue;
		}
		kname = (const char *)kev.data.scalar.value;
		if ((size_t)snprintf(key, sizeof(key), "%s%s%s", prefix,
		    prefix[0] ? "." : "", kname) >= sizeof(key)) {
			yerr(y, &kev.start_mark, prefix, "key too long");
			key[0] = '\0';
		}
		if (ynext(y, &vev) != 0) {
			yaml_event_delete(&kev);
			return -1;
		}
		rc = key[0] ? yvalue(y, key, &vev, depth) : yskip(y, &vev);
		yaml_event_delete(&vev);
		yaml_event_delete(&kev);
		if (rc != 0)
			return -1;
	}
}

int
config_apply_yaml(struct config *c, const char *name, const char *data,
    size_t len, struct buf *err)
{
	struct yctx	y;
	yaml_event_t	ev;
	bool		doc = false;

	memset(&y, 0, sizeof(y));
	y.c = c;
	y.name = name;
	y.err = err;
	if (!yaml_parser_initialize(&y.p))
		die("yaml_parser_initialize");
	yaml_parser_set_input_string(&y.p, (const unsigned char *)data, len);
	for (;;) {
		if (ynext(&y, &ev) != 0)
			break;
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if (ev.type == YAML_DOCUMENT_START_EVENT) {
			if (doc) {
				buf_printf(err, "%s:%zu: only one YAML document is allowed\n",
				    name, ev.start_mark.line + 1);
				y.nerr++;
				yaml_event_delete(&ev);
				break;
			}
			doc = true;
		} else if (ev.type == YAML_MAPPING_START_EVENT) {
			if (ymapping(&y, "", 1) != 0) {
				yaml_event_delete(&ev);
				break;
			}
		} else if (ev.type == YAML_SCALAR_EVENT && yscalar_is_null(&ev)) {
			/* An empty document. */
		} else if (ev.type != YAML_STREAM_START_EVENT &&
		    ev.type != YAML_DOCUMENT_END_EVENT) {
			buf_printf(err, "%s:%zu: the document must be a mapping of keys\n",
			    name, ev.start_mark.line + 1);
			y.nerr++;
			yaml_event_delete(&ev);
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&y.p);
	return y.nerr;
}

int
config_apply_env(struct config *c, const char *(*getenv_fn)(const char *),
    struct buf *err)
{
	const char	*v;
	char		 where[128];
	size_t		 i;
	int		 nerr = 0;

	for (i = 0; i < NKEYS; i++) {
		v = getenv_fn(keys[i].env);
		if (v == NULL && keys[i].type == T_ENV)
			v = getenv_fn("NODE_ENV");
		/* An empty variable counts as unset (as docker-compose passes them). */
		if (v == NULL || *v == '\0')
			continue;
		snprintf(where, sizeof(where), "environment %s", keys[i].env);
		if (set_value(c, &keys[i], v, where, err) != 0)
			nerr++;
	}
	return nerr;
}

int
config_validate(struct config *c, struct buf *err)
{
	size_t	i;
	int	nerr = 0;
	char	*s;

	for (i = 0; i < NKEYS; i++) {
		if (!(keys[i].flags & F_REQUIRED))
			continue;
		s = *(char **)field(c, &keys[i]);
		if (s == NULL || *s == '\0') {
			errf(err, "config", &keys[i], "is required (set it in conf.yaml or %s)",
			    keys[i].env);
			nerr++;
		}
	}
	for (i = 0; i < c->master_keys.n; i++) {
		const char *mk = c->master_keys.v[i], *colon = strchr(mk, ':');
		size_t h;

		for (h = 0; colon != NULL && colon[1 + h] != '\0' &&
		    strchr("0123456789abcdefABCDEF", colon[1 + h]) != NULL; h++)
			;
		if (colon == NULL || colon == mk || colon - mk > 16 || h != 64 ||
		    colon[1 + h] != '\0') {
			errf(err, "config", find_key("crypto.master_keys"),
			    "entry %zu must be id:64-hex-digits (an id of at most 16 "
			    "characters and a 256-bit key)", i + 1);
			nerr++;
		}
	}
	if (c->env == ENV_PRODUCTION) {
		if (c->jwt_secret != NULL && *c->jwt_secret != '\0' &&
		    strlen(c->jwt_secret) < 32) {
			errf(err, "config", find_key("jwt.secret"),
			    "must be at least 32 bytes in production");
			nerr++;
		}
		if (c->admin_api_key == NULL || *c->admin_api_key == '\0') {
			errf(err, "config", find_key("admin.api_key"),
			    "is required in production (ADMIN_API_KEY)");
			nerr++;
		} else if (strlen(c->admin_api_key) < 24) {
			errf(err, "config", find_key("admin.api_key"),
			    "must be at least 24 characters in production");
			nerr++;
		}
	}
	return nerr;
}

static void
set_str(char **dst, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
set_str(char **dst, const char *fmt, ...)
{
	va_list	ap;
	char	*p;

	va_start(ap, fmt);
	if (vasprintf(&p, fmt, ap) < 0)
		die("out of memory");
	va_end(ap);
	free(*dst);
	*dst = p;
}

void
config_derive(struct config *c)
{
	size_t n;

	if (*c->public_url == '\0')
		set_str(&c->public_url, "http://127.0.0.1:%ld", c->port);
	n = strlen(c->public_url);
	while (n > 0 && c->public_url[n - 1] == '/')
		c->public_url[--n] = '\0';
	if (*c->frontend_url == '\0')
		set_str(&c->frontend_url, "%s", c->public_url);
	n = strlen(c->frontend_url);
	while (n > 0 && c->frontend_url[n - 1] == '/')
		c->frontend_url[--n] = '\0';
	if (*c->google_redirect_uri == '\0')
		set_str(&c->google_redirect_uri, "%s/api/v1/auth/google/callback",
		    c->public_url);
}

static const char *
env_lookup(const char *name)
{
	return getenv(name);
}

int
config_load(struct config *c, const char *path, struct buf *err)
{
	struct stat	 st;
	FILE		*fp;
	char		*data = NULL;
	const char	*p = path != NULL ? path : "conf.yaml";
	int		 nerr = 0;
	size_t		 n;

	config_defaults(c);
	if (stat(p, &st) == 0) {
		if (!S_ISREG(st.st_mode) || st.st_size > 1024 * 1024) {
			buf_printf(err, "%s: not a regular file under 1 MiB\n", p);
			return -1;
		}
		if ((fp = fopen(p, "r")) == NULL) {
			buf_printf(err, "%s: %s\n", p, strerror(errno));
			return -1;
		}
		data = malloc((size_t)st.st_size + 1);
		if (data == NULL)
			die("out of memory");
		n = fread(data, 1, (size_t)st.st_size, fp);
		fclose(fp);
		nerr += config_apply_yaml(c, p, data, n, err);
		free(data);
	} else if (path != NULL) {
		buf_printf(err, "%s: %s\n", p, strerror(errno));
		return -1;
	}
	nerr += config_apply_env(c, env_lookup, err);
	if (nerr == 0)
		nerr += config_validate(c, err);
	if (nerr == 0)
		config_derive(c);
	return nerr == 0 ? 0 : -1;
}

static const char *
type_name(enum cfg_type t)
{
	switch (t) {
	case T_STR: return "string";
	case T_URL: return "URL";
	case T_INT: return "integer";
	case T_BOOL: return "boolean";
	case T_DURATION: return "duration";
	case T_ENV: return "enum";
	case T_LOGLEVEL: return "enum";
	case T_LIST: return "list";
	}
	return "?";
}

void
config_print_keys(FILE *fp)
{
	size_t i;

	fprintf(fp, "| key | env var | type | default | meaning |\n");
	fprintf(fp, "|---|---|---|---|---|\n");
	for (i = 0; i < NKEYS; i++) {
		const struct cfg_key *k = &keys[i];
		char range[64] = "";

		if (k->type == T_INT || k->type == T_DURATION)
			snprintf(range, sizeof(range), " %ld–%ld%s", k->min, k->max,
			    k->type == T_DURATION ? " s" : "");
		fprintf(fp, "| `%s` | `%s` | %s%s | %s%s%s | %s%s |\n", k->key, k->env,
		    type_name(k->type), range, *k->def ? "`" : "",
		    *k->def ? k->def : "(empty)", *k->def ? "`" : "", k->help,
		    (k->flags & F_REQUIRED) ? " **Required.**" : "");
	}
}

void
config_print_values(const struct config *c, FILE *fp)
{
	size_t i, j;

	for (i = 0; i < NKEYS; i++) {
		const struct cfg_key *k = &keys[i];
		const void *f = (const char *)c + k->off;

		fprintf(fp, "%s: ", k->key);
		switch (k->type) {
		case T_STR:
		case T_URL:
			if ((k->flags & F_SECRET) && **(char *const *)f != '\0')
				fprintf(fp, "(set, %zu bytes)\n", strlen(*(char *const *)f));
			else
				fprintf(fp, "\"%s\"\n", *(char *const *)f);
			break;
		case T_INT:
		case T_DURATION:
			fprintf(fp, "%ld\n", *(const long *)f);
			break;
		case T_BOOL:
			fprintf(fp, "%s\n", *(const bool *)f ? "true" : "false");
			break;
		case T_ENV:
			fprintf(fp, "%s\n", env_names[*(const int *)f]);
			break;
		case T_LOGLEVEL:
			fprintf(fp, "%s\n", level_names[*(const int *)f]);
			break;
		case T_LIST:
			if (k->flags & F_SECRET) {
				fprintf(fp, "(%zu secret values)\n",
				    ((const struct cfg_list *)f)->n);
				break;
			}
			fprintf(fp, "[");
			for (j = 0; j < ((const struct cfg_list *)f)->n; j++)
				fprintf(fp, "%s\"%s\"", j ? ", " : "",
				    ((const struct cfg_list *)f)->v[j]);
			fprintf(fp, "]\n");
			break;
		}
	}
}
