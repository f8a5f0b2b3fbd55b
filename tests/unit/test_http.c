/*
 * test_http.c - requests from FastCGI params, bodies, errors, responses.
 */
#include <stdlib.h>

#include "http.h"
#include "test.h"

struct fake_io {
	const char	*in;
	size_t		 inlen, pos;
	struct buf	 out;
};

static ssize_t
fread_(void *ctx, char *p, size_t n)
{
	struct fake_io *f = ctx;

	if (n > f->inlen - f->pos)
		n = f->inlen - f->pos;
	memcpy(p, f->in + f->pos, n);
	f->pos += n;
	return (ssize_t)n;
}

static int
fwrite_(void *ctx, const char *p, size_t n)
{
	buf_add(&((struct fake_io *)ctx)->out, p, n);
	return 0;
}

static int
fflush_(void *ctx)
{
	(void)ctx;
	return 0;
}

struct t {
	struct arena	a;
	struct buf	hdr, out;
	struct fake_io	f;
	struct req_io	io;
	struct req	r;
};

static void
start(struct t *t, char **env, const char *body)
{
	arena_init(&t->a);
	buf_init(&t->hdr);
	buf_init(&t->out);
	memset(&t->f, 0, sizeof(t->f));
	t->f.in = body ? body : "";
	t->f.inlen = strlen(t->f.in);
	buf_init(&t->f.out);
	t->io.read = fread_;
	t->io.write = fwrite_;
	t->io.flush = fflush_;
	t->io.ctx = &t->f;
	req_init(&t->r, &t->a, env, &t->hdr, &t->out, &t->io);
}

static void
finish(struct t *t)
{
	req_done(&t->r);
	arena_free(&t->a);
	buf_free(&t->hdr);
	buf_free(&t->out);
	buf_free(&t->f.out);
}

void
suite_http(void)
{
	struct t t;

	TEST("http: params, request id passthrough and generation") {
		char *env[] = { "REQUEST_METHOD=POST", "DOCUMENT_URI=/api/v1/x",
		    "QUERY_STRING=a=1&b=h%C3%A9llo+w&c&d=%ff", "REQUEST_ID=abc123",
		    "REMOTE_ADDR=127.0.0.1", "HTTP_AUTHORIZATION=Bearer t",
		    "HTTP_X_CUSTOM_HEADER=v", NULL };

		start(&t, env, NULL);
		CHECK(t.r.method == M_POST);
		CHECK_STR(t.r.path, "/api/v1/x");
		CHECK_STR(t.r.request_id, "abc123");
		CHECK_STR(req_query(&t.r, "a"), "1");
		CHECK_STR(req_query(&t.r, "b"), "h\xc3\xa9llo w");
		CHECK_STR(req_query(&t.r, "c"), "");
		CHECK(req_query(&t.r, "zz") == NULL);
		CHECK(req_query(&t.r, "d") == NULL);	/* not UTF-8 */
		CHECK(jv_failed(&t.r.v));
		CHECK_STR(req_header(&t.r, "Authorization"), "Bearer t");
		CHECK_STR(req_header(&t.r, "X-Custom-Header"), "v");
		CHECK(req_is_local(&t.r));
		finish(&t);

		char *env2[] = { "REQUEST_ID=bad id\n", NULL };
		start(&t, env2, NULL);
		CHECK(strlen(t.r.request_id) == 32);
		CHECK_STR(t.r.path, "/");
		CHECK(t.r.method == 0);
		finish(&t);
	}
	TEST("http: JSON body read and parsed") {
		char *env[] = { "REQUEST_METHOD=POST", "CONTENT_TYPE=application/json; charset=utf-8",
		    "CONTENT_LENGTH=9", NULL };

		start(&t, env, "{\"a\":1}  ");
		CHECK(req_read_body(&t.r, 100) == 0);
		CHECK(req_parse_json(&t.r, true) == 0);
		CHECK(t.r.json != NULL);
		finish(&t);
	}
	TEST("http: 413, 415, 400 for bodies") {
		char *big[] = { "CONTENT_TYPE=application/json", "CONTENT_LENGTH=101", NULL };
		char *txt[] = { "CONTENT_TYPE=text/plain", "CONTENT_LENGTH=2", NULL };
		char *bad[] = { "CONTENT_TYPE=application/json", "CONTENT_LENGTH=3", NULL };
		char *arr[] = { "CONTENT_TYPE=application/json", "CONTENT_LENGTH=2", NULL };
		char *neg[] = { "CONTENT_LENGTH=-1", NULL };
		char *jsonx[] = { "CONTENT_TYPE=application/jsonx", "CONTENT_LENGTH=2", NULL };

		start(&t, big, NULL);
		CHECK(req_read_body(&t.r, 100) == -1 && t.r.status == 413);
		CHECK_STR(t.r.err_code, "payload_too_large");
		finish(&t);
		start(&t, txt, "{}");
		CHECK(req_read_body(&t.r, 100) == 0);
		CHECK(req_parse_json(&t.r, true) == -1 && t.r.status == 415);
		finish(&t);
		start(&t, jsonx, "{}");
		req_read_body(&t.r, 100);
		CHECK(req_parse_json(&t.r, true) == -1 && t.r.status == 415);
		finish(&t);
		start(&t, bad, "{x}");
		req_read_body(&t.r, 100);
		CHECK(req_parse_json(&t.r, true) == -1 && t.r.status == 400);
		CHECK_STR(t.r.err_code, "invalid_json");
		finish(&t);
		start(&t, arr, "[]");
		req_read_body(&t.r, 100);
		CHECK(req_parse_json(&t.r, true) == -1 && t.r.status == 400);
		finish(&t);
		start(&t, neg, NULL);
		CHECK(req_read_body(&t.r, 100) == -1 && t.r.status == 400);
		finish(&t);
		start(&t, NULL, "abc");		/* body ends early */
		t.r.content_length = 10;
		CHECK(req_read_body(&t.r, 100) == -1 && t.r.status == 400);
		finish(&t);
	}
	TEST("http: error rendering has the one schema and the headers") {
		char *env[] = { "REQUEST_METHOD=GET", "REQUEST_ID=rid1", NULL };

		start(&t, env, NULL);
		jv_error(&t.r.v, "email", "is required");
		req_invalid(&t.r);
		resp_header(&t.r, "X-Evil", "a\r\nSet-Cookie: x");
		resp_finish(&t.r);
		CHECK(strstr(t.f.out.data, "Status: 422 Unprocessable Content\r\n") != NULL);
		CHECK(strstr(t.f.out.data, "X-Request-Id: rid1\r\n") != NULL);
		CHECK(strstr(t.f.out.data, "X-Content-Type-Options: nosniff\r\n") != NULL);
		CHECK(strstr(t.f.out.data, "Cache-Control: no-store\r\n") != NULL);
		CHECK(strstr(t.f.out.data, "\r\nSet-Cookie") == NULL);
		CHECK(strstr(t.f.out.data, "{\"error\":{\"code\":\"validation_failed\","
		    "\"message\":\"some fields are missing or invalid\",\"request_id\":"
		    "\"rid1\",\"fields\":{\"email\":\"is required\"}}}") != NULL);
		finish(&t);
	}
	TEST("http: internal errors never leak details") {
		char *env[] = { "REQUEST_METHOD=GET", NULL };

		start(&t, env, NULL);
		req_internal(&t.r, "SELECT secret FROM x failed");
		resp_finish(&t.r);
		CHECK(strstr(t.f.out.data, "Status: 500") != NULL);
		CHECK(strstr(t.f.out.data, "SELECT") == NULL);
		CHECK(strstr(t.f.out.data, "\"internal_error\"") != NULL);
		finish(&t);
	}
	TEST("http: HEAD has no body, 204 has no length body") {
		char *env[] = { "REQUEST_METHOD=HEAD", NULL };

		start(&t, env, NULL);
		resp_raw(&t.r, 200, "application/json", "{}", 2);
		resp_finish(&t.r);
		CHECK(strstr(t.f.out.data, "Content-Length: 2\r\n") != NULL);
		CHECK(strstr(t.f.out.data, "{}") == NULL);
		finish(&t);
	}
}
