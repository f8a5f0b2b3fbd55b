/*
 * test_json.c - strict parsing and field validation.
 */
#include <libpq-fe.h>

#include "arena.h"
#include "json.h"
#include "test.h"

/* A one-row, one-column result holding s, as libpq would return it. */
static PGresult *
one_value(const char *s)
{
	PGresAttDesc	 att = { .name = "v", .format = 0, .typid = 25, .typlen = -1 };
	PGresult	*res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);

	PQsetResultAttrs(res, 1, &att);
	PQsetvalue(res, 0, 0, (char *)s, s ? (int)strlen(s) : -1);
	return res;
}

static const char *
from_pg(json_object *(*f)(const void *, int, int), const char *s, char *out, size_t n)
{
	PGresult	*res = one_value(s);
	json_object	*o = f(res, 0, 0);

	snprintf(out, n, "%s", o ? json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) : "(null)");
	json_object_put(o);
	PQclear(res);
	return out;
}

static json_object *
parse(const char *s)
{
	const char *why;

	return json_parse(s, strlen(s), &why);
}

static const char *
field_msg(struct jv *v, const char *f)
{
	json_object *m;

	if (v->fields == NULL || !json_object_object_get_ex(v->fields, f, &m))
		return NULL;
	return json_object_get_string(m);
}

void
suite_json(void)
{
	struct arena	 a;
	struct jv	 v;
	json_object	*o;
	const char	*why, *s;
	int64_t		 n;
	bool		 b;
	char		 deep[200];
	int		 i;

	arena_init(&a);
	TEST("json: accepts one value with surrounding whitespace") {
		o = parse(" {\"a\": [1, 2.5, \"x\", null, true]}\n");
		CHECK(o != NULL);
		json_object_put(o);
	}
	TEST("json: numerics from PostgreSQL print exactly, without trailing zeros") {
		static const char *const in[][2] = {
			{ "13.34040000", "13.3404" }, { "0.00120000", "0.0012" },
			{ "42.000", "42" }, { "-1.50", "-1.5" }, { "7", "7" },
			{ "0", "0" }, { "100", "100" }, { "0.1", "0.1" },
			/* not plain -digits.digits: through strtod */
			{ "007", "7.0" }, { "1e3", "1000.0" }, { "-", "0.0" },
			{ "12.", "12.0" },
		};
		for (i = 0; i < (int)(sizeof(in) / sizeof(in[0])); i++) {
			o = jnum(in[i][0]);
			CHECK_STR(json_object_to_json_string(o), in[i][1]);
			json_object_put(o);
		}
	}
	TEST("json: PostgreSQL timestamps become the API's, in columns and in its JSON") {
		char out[512];

		CHECK_STR(from_pg(jpg_time, "2026-11-22 03:34:25.699123+00", out, sizeof(out)),
		    "\"2026-11-22T03:34:25.699Z\"");
		CHECK_STR(from_pg(jpg_time, "2026-11-22 03:34:25.5+00", out, sizeof(out)),
		    "\"2026-11-22T03:34:25.500Z\"");
		CHECK_STR(from_pg(jpg_time, "2026-11-22 03:34:25+00", out, sizeof(out)),
		    "\"2026-11-22T03:34:25.000Z\"");
		CHECK_STR(from_pg(jpg_time, "infinity", out, sizeof(out)), "\"infinity\"");
		CHECK_STR(from_pg(jpg_time, NULL, out, sizeof(out)), "(null)");
		CHECK_STR(from_pg(jpg_json, "{\"id\":1,\"created_at\":\"2026-11-22T03:34:25.699123+00:00\","
		    "\"s\":[{\"hidden_at\":\"2026-11-22T03:34:25+00:00\",\"expires_at\":null}],"
		    "\"content\":\"2026-11-22T03:34:25.1+00:00\",\"x_at\":\"2026-11-22T03:34:25.1+01:00\","
		    "\"y_at\":\"2026-11-22T03:34:25.+00:00\"}", out, sizeof(out)),
		    "{\"id\":1,\"created_at\":\"2026-11-22T03:34:25.699Z\","
		    "\"s\":[{\"hidden_at\":\"2026-11-22T03:34:25.000Z\",\"expires_at\":null}],"
		    "\"content\":\"2026-11-22T03:34:25.1+00:00\",\"x_at\":\"2026-11-22T03:34:25.1+01:00\","
		    "\"y_at\":\"2026-11-22T03:34:25.+00:00\"}");
		CHECK_STR(from_pg(jpg_json, "[\"a\",2]", out, sizeof(out)), "[\"a\",2]");
		CHECK_STR(from_pg(jpg_json, NULL, out, sizeof(out)), "(null)");
	}
	TEST("json: rejects malformed, trailing data, bad UTF-8, comments") {
		CHECK(parse("{\"a\":1") == NULL);
		CHECK(parse("{\"a\":1} x") == NULL);
		CHECK(parse("{\"a\":1}{}") == NULL);
		CHECK(parse("{'a':1}") == NULL);
		CHECK(parse("{\"a\":1,}") == NULL);
		CHECK(parse("{\"a\":\"\xff\"}") == NULL);
		CHECK(parse("/* c */ {}") == NULL);
		CHECK(parse("{\"a\":NaN}") == NULL);
		CHECK(parse("[Infinity]") == NULL);
		CHECK(parse("[1.]") == NULL);
		CHECK(parse("[01]") == NULL);
		CHECK(parse("[\"a\tb\"]") == NULL);	/* raw control char */
		CHECK(parse("[tru]") == NULL);
		CHECK((o = parse("[-0.5e-3, \"a\\\"b\", true, false, null]")) != NULL);
		json_object_put(o);
		CHECK(json_parse("", 0, &why) == NULL && why != NULL);
	}
	TEST("json: nesting is bounded") {
		for (i = 0; i < 100; i++)
			deep[i] = '[';
		for (i = 100; i < 200; i++)
			deep[i] = ']';
		CHECK(json_parse(deep, 200, &why) == NULL);
		CHECK_STR(why, "nesting too deep");
	}
	TEST("json: field validation collects one message per field") {
		o = parse("{\"name\":\"  Bob \",\"age\":\"x\",\"n\":5,\"ok\":1,"
		    "\"zero\":\"a\\u0000b\",\"extra\":1}");
		jv_init(&v);
		s = jv_string(&v, o, "name", JV_REQUIRED | JV_TRIM, 1, 10, &a);
		CHECK_STR(s, "Bob");
		CHECK(!jv_int(&v, o, "age", 0, 0, 10, &n));
		CHECK(jv_int(&v, o, "n", 0, 0, 10, &n) && n == 5);
		CHECK(!jv_int(&v, o, "n2", JV_REQUIRED, 0, 10, &n));
		CHECK(!jv_bool(&v, o, "ok", 0, &b));
		CHECK(jv_string(&v, o, "zero", 0, 0, 10, &a) == NULL);
		CHECK(jv_string(&v, o, "missing", 0, 0, 10, &a) == NULL);
		jv_only(&v, o, (const char *const[]){ "name", "age", "n", "ok",
		    "zero", NULL });
		CHECK(jv_failed(&v));
		CHECK_STR(field_msg(&v, "age"), "must be an integer");
		CHECK_STR(field_msg(&v, "n2"), "is required");
		CHECK_STR(field_msg(&v, "ok"), "must be true or false");
		CHECK_STR(field_msg(&v, "extra"), "is not a known field");
		CHECK(field_msg(&v, "zero") != NULL);
		CHECK(field_msg(&v, "missing") == NULL);
		jv_free(&v);
		json_object_put(o);
	}
	TEST("json: string length counts characters, ranges are enforced") {
		o = parse("{\"s\":\"\xc3\xa9\xc3\xa9\xc3\xa9\",\"big\":99999999999999999999}");
		jv_init(&v);
		CHECK(jv_string(&v, o, "s", 0, 3, 3, &a) != NULL);
		CHECK(jv_string(&v, o, "s", 0, 1, 2, &a) == NULL);
		CHECK(!jv_int(&v, o, "big", 0, 0, INT64_MAX - 1, &n));
		jv_free(&v);
		json_object_put(o);
	}
	arena_free(&a);
}
