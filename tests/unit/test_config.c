/*
 * test_config.c - YAML + environment configuration.
 */
#include <stdlib.h>

#include "buf.h"
#include "config.h"
#include "test.h"

static const char *const *fake_env;

static const char *
fake_getenv(const char *name)
{
	const char *const *e;
	size_t n = strlen(name);

	for (e = fake_env; e && *e; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

static int
load(struct config *c, const char *yaml, const char *const *env, struct buf *err)
{
	int n;

	buf_reset(err);
	config_defaults(c);
	n = config_apply_yaml(c, "conf.yaml", yaml, strlen(yaml), err);
	fake_env = env;
	n += config_apply_env(c, fake_getenv, err);
	if (n == 0)
		n += config_validate(c, err);
	return n;
}

void
suite_config(void)
{
	struct config	c;
	struct buf	err = BUF_INIT;

	TEST("config: defaults") {
		config_defaults(&c);
		CHECK(c.env == ENV_DEVELOPMENT);
		CHECK(c.port == 8080);
		CHECK(c.jwt_expires_s == 900);
		CHECK(c.pool_api.threads == 32);
		CHECK_STR(c.openrouter_base_url, "https://openrouter.ai/api/v1");
		config_free(&c);
	}
	TEST("config: YAML values and environment overrides") {
		CHECK(load(&c, "port: 9000\njwt:\n  expires: 2h\ndatabase:\n"
		    "  url: host=/tmp\npools:\n  llm:\n    db_connections: 3\n",
		    (const char *const[]){ "JWT_SECRET=s", "PORT=9100",
		    "DAILY_MESSAGE_LIMIT=7", "ADMIN_FORCE_RESET=yes", NULL }, &err) == 0);
		CHECK(c.port == 9100);
		CHECK(c.jwt_expires_s == 7200);
		CHECK(c.pool_llm.db_connections == 3);
		CHECK(c.daily_message_limit == 7);
		CHECK(c.admin_force_reset);
		CHECK_STR(c.database_url, "host=/tmp");
		config_free(&c);
	}
	TEST("config: unknown key names the key and the line") {
		CHECK(load(&c, "port: 1\ndatabase:\n  urll: x\n", NULL, &err) > 0);
		CHECK(strstr(err.data, "conf.yaml:3: database.urll: unknown key") != NULL);
		config_free(&c);
	}
	TEST("config: wrong type and out of range name the key") {
		CHECK(load(&c, "port: abc\n", NULL, &err) > 0);
		CHECK(strstr(err.data, "conf.yaml:1: port: expected an integer") != NULL);
		config_free(&c);
		CHECK(load(&c, "port: 70000\n", NULL, &err) > 0);
		CHECK(strstr(err.data, "port") != NULL);
		config_free(&c);
		CHECK(load(&c, "pools:\n  api: 3\n", NULL, &err) > 0);
		CHECK(strstr(err.data, "pools.api: expected a mapping") != NULL);
		config_free(&c);
		CHECK(load(&c, "", (const char *const[]){ "LEXAR_API_DB_CONNECTIONS=0", NULL },
		    &err) > 0);
		CHECK(strstr(err.data, "environment LEXAR_API_DB_CONNECTIONS: pools.api.db_connections") != NULL);
		config_free(&c);
	}
	TEST("config: duplicate keys, aliases and lists are refused") {
		CHECK(load(&c, "port: 1\nport: 2\n", NULL, &err) > 0);
		CHECK(strstr(err.data, "duplicate key") != NULL);
		config_free(&c);
		CHECK(load(&c, "a: &x 1\nport: *x\n", NULL, &err) > 0);
		config_free(&c);
		CHECK(load(&c, "port: [1, 2]\n", NULL, &err) > 0);
		CHECK(strstr(err.data, "got a list") != NULL);
		config_free(&c);
		CHECK(load(&c, "- a\n- b\n", NULL, &err) > 0);
		config_free(&c);
		CHECK(load(&c, "port: 1\n  bad: [\n", NULL, &err) > 0);
		CHECK(strstr(err.data, "invalid YAML") != NULL);
		config_free(&c);
	}
	TEST("config: required keys and production rules") {
		CHECK(load(&c, "", NULL, &err) > 0);
		CHECK(strstr(err.data, "database.url: is required") != NULL);
		CHECK(strstr(err.data, "jwt.secret: is required") != NULL);
		config_free(&c);
		CHECK(load(&c, "env: production\n", (const char *const[]){
		    "DATABASE_URL=x", "JWT_SECRET=short", NULL }, &err) > 0);
		CHECK(strstr(err.data, "jwt.secret: must be at least 32 bytes") != NULL);
		CHECK(strstr(err.data, "admin.api_key: is required in production") != NULL);
		CHECK(strstr(err.data, "short") == NULL);	/* secrets never echoed */
		config_free(&c);
		CHECK(load(&c, "", (const char *const[]){ "NODE_ENV=production",
		    "DATABASE_URL=x", "JWT_SECRET=0123456789abcdef0123456789abcdef",
		    "ADMIN_API_KEY=0123456789abcdef01234567", NULL }, &err) == 0);
		CHECK(c.env == ENV_PRODUCTION);
		config_free(&c);
	}
	TEST("config: empty env var counts as unset, null YAML keeps default") {
		CHECK(load(&c, "port: ~\n", (const char *const[]){ "PORT=",
		    "DATABASE_URL=x", "JWT_SECRET=y", NULL }, &err) == 0);
		CHECK(c.port == 8080);
		config_free(&c);
	}
	TEST("config: durations") {
		CHECK(config_parse_duration("15m") == 900);
		CHECK(config_parse_duration("900") == 900);
		CHECK(config_parse_duration("1d") == 86400);
		CHECK(config_parse_duration("1w") == -1);
		CHECK(config_parse_duration("m") == -1);
		CHECK(config_parse_duration("-5") == -1);
		CHECK(config_parse_duration("5ms") == -1);
	}
	buf_free(&err);
}
