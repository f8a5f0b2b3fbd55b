/*
 * test_router.c - route matching, parameters, 404 vs 405.
 */
#include "router.h"
#include "test.h"

static int h(struct req *r) { (void)r; return 0; }

static const struct route table[] = {
	{ M_GET,    "/api/v1/health",			h, 0, 0 },
	{ M_GET,    "/api/v1/chats",			h, 0, 0 },
	{ M_POST,   "/api/v1/chats",			h, 0, 0 },
	{ M_GET,    "/api/v1/chats/:id",		h, 0, 0 },
	{ M_DELETE, "/api/v1/chats/:id",		h, 0, 0 },
	{ M_POST,   "/api/v1/chats/:id/messages",	h, 0, 0 },
	{ M_PUT,    "/api/v1/me/provider-keys/:provider", h, 0, 0 },
};
#define N (sizeof(table) / sizeof(table[0]))

void
suite_router(void)
{
	struct route_match	m;
	char			allow[64], err[128];
	const char		*id = "123e4567-e89b-12d3-a456-426614174000";
	char			path[128];

	TEST("router: literal match, HEAD matches GET") {
		CHECK(route_match(table, N, M_GET, "/api/v1/health", &m) == 0);
		CHECK(route_match(table, N, M_HEAD, "/api/v1/health", &m) == 0);
	}
	TEST("router: same path, method picks the row") {
		CHECK(route_match(table, N, M_POST, "/api/v1/chats", &m) == 2);
	}
	TEST("router: :id must be a UUID") {
		snprintf(path, sizeof(path), "/api/v1/chats/%s", id);
		CHECK(route_match(table, N, M_DELETE, path, &m) == 4);
		CHECK(m.nparams == 1);
		CHECK_STR(m.values[0], id);
		CHECK(route_match(table, N, M_GET, "/api/v1/chats/42", &m) == -1);
		CHECK(m.allowed == 0);
		CHECK(route_match(table, N, M_GET, "/api/v1/chats/..", &m) == -1);
	}
	TEST("router: other parameters are tokens") {
		CHECK(route_match(table, N, M_PUT, "/api/v1/me/provider-keys/openai",
		    &m) == 6);
		CHECK_STR(m.values[0], "openai");
		CHECK(route_match(table, N, M_PUT, "/api/v1/me/provider-keys/a%2fb",
		    &m) == -1);
		CHECK(route_match(table, N, M_PUT, "/api/v1/me/provider-keys/..",
		    &m) == -1);
		CHECK(route_match(table, N, M_PUT, "/api/v1/me/provider-keys/",
		    &m) == -1);
	}
	TEST("router: unknown path is 404, known path other method is 405") {
		CHECK(route_match(table, N, M_GET, "/api/v1/nope", &m) == -1);
		CHECK(m.allowed == 0);
		CHECK(route_match(table, N, M_GET, "/api/v1/health/", &m) == -1);
		CHECK(m.allowed == 0);
		CHECK(route_match(table, N, M_PATCH, "/api/v1/chats", &m) == -1);
		CHECK(m.allowed == (M_GET | M_POST));
		method_allow_list(m.allowed, allow, sizeof(allow));
		CHECK_STR(allow, "GET, HEAD, POST");
		CHECK(route_match(table, N, 0, "/api/v1/health", &m) == -1);
		CHECK(m.allowed == M_GET);
	}
	TEST("router: table check finds duplicates and bad patterns") {
		CHECK(route_table_check(table, N, err, sizeof(err)) == 0);
		const struct route dup[] = { table[0], table[0] };
		CHECK(route_table_check(dup, 2, err, sizeof(err)) != 0);
		const struct route bad[] = { { M_GET, "/a/", h, 0, 0 } };
		CHECK(route_table_check(bad, 1, err, sizeof(err)) != 0);
	}
	TEST("router: methods") {
		CHECK(method_parse("GET") == M_GET);
		CHECK(method_parse("get") == 0);
		CHECK(method_parse("TRACE") == 0);
	}
}
