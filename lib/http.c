/*
 * http.c - request parameters, bodies, responses and the error schema.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"
#include "log.h"
#include "utf8.h"
#include "util.h"

static const struct {
	int		 code;
	const char	*text;
} statuses[] = {
	{ 200, "OK" }, { 201, "Created" }, { 202, "Accepted" },
	{ 204, "No Content" }, { 301, "Moved Permanently" }, { 302, "Found" },
	{ 303, "See Other" }, { 304, "Not Modified" }, { 400, "Bad Request" },
	{ 401, "Unauthorized" }, { 402, "Payment Required" }, { 403, "Forbidden" },
	{ 404, "Not Found" }, { 405, "Method Not Allowed" }, { 409, "Conflict" },
	{ 410, "Gone" }, { 413, "Payload Too Large" },
	{ 415, "Unsupported Media Type" }, { 422, "Unprocessable Content" },
	{ 429, "Too Many Requests" }, { 500, "Internal Server Error" },
	{ 502, "Bad Gateway" }, { 503, "Service Unavailable" },
	{ 504, "Gateway Timeout" },
};

const char *
http_status_text(int status)
{
	size_t i;

	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (statuses[i].code == status)
			return statuses[i].text;
	return "Unknown";
}

const char *
req_param(const struct req *r, const char *name)
{
	size_t	n = strlen(name);
	char	**e;

	if (r->env == NULL)
		return NULL;
	for (e = r->env; *e != NULL; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

const char *
req_header(struct req *r, const char *name)
{
	char	key[128];
	size_t	i, n = strlen(name);

	if (n + 6 > sizeof(key))
		return NULL;
	memcpy(key, "HTTP_", 5);
	for (i = 0; i < n; i++)
		key[5 + i] = name[i] == '-' ? '_' : (char)toupper((unsigned char)name[i]);
	key[5 + n] = '\0';
	return req_param(r, key);
}

/* nginx's $request_id is 32 hex digits; accept similar ids, else make one. */
static bool
request_id_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i >= 64 || !(isalnum((unsigned char)s[i]) || s[i] == '-' ||
		    s[i] == '_'))
			return false;
	}
	return i > 0;
}

void
req_init(struct req *r, struct arena *a, char **env, struct buf *hdr,
    struct buf *out, const struct req_io *io)
{
	const char	*s;
	long long	 n;
	unsigned char	 rnd[16];
	char		*id;

	memset(r, 0, sizeof(*r));
	r->a = a;
	r->env = env;
	r->hdr = hdr;
	r->out = out;
	if (io != NULL)
		r->io = *io;
	r->route_index = -1;
	r->status = 200;
	r->t_start_us = now_us();
	jv_init(&r->v);

	r->method_str = (s = req_param(r, "REQUEST_METHOD")) ? s : "";
	r->method = method_parse(r->method_str);
	/* Route on $uri (DOCUMENT_URI), never on PATH_INFO. */
	if ((s = req_param(r, "DOCUMENT_URI")) == NULL || *s == '\0')
		s = req_param(r, "SCRIPT_NAME");
	r->path = s != NULL && *s != '\0' ? s : "/";
	r->query = (s = req_param(r, "QUERY_STRING")) ? s : "";
	r->remote_addr = (s = req_param(r, "REMOTE_ADDR")) ? s : "";
	r->content_type = (s = req_param(r, "CONTENT_TYPE")) ? s : "";
	r->pool = "api";
	r->content_length = -1;
	if ((s = req_param(r, "CONTENT_LENGTH")) != NULL && *s != '\0') {
		if (parse_int(s, 0, INT64_MAX, &n))
			r->content_length = n;
		else
			r->content_length = -2;		/* malformed */
	}
	s = req_param(r, "REQUEST_ID");
	if (s != NULL && request_id_ok(s))
		r->request_id = s;
	else {
		rand_bytes(rnd, sizeof(rnd));
		id = arena_alloc(a, 33);
		hex_encode(id, rnd, sizeof(rnd));
		r->request_id = id;
	}
}

void
req_done(struct req *r)
{
	req_db_release(r);
	jv_free(&r->v);
}

struct req_deferred {
	void			(*fn)(struct req *, void *);
	void			*arg;
	struct req_deferred	*next;
};

void
req_defer(struct req *r, void (*fn)(struct req *, void *), void *arg)
{
	struct req_deferred *d = arena_alloc(r->a, sizeof(*d)), **p;

	d->fn = fn;
	d->arg = arg;
	d->next = NULL;
	for (p = &r->deferred; *p != NULL; p = &(*p)->next)
		;
	*p = d;
}

void
req_run_deferred(struct req *r)
{
	struct req_deferred *d;

	if (r->status < 400)
		for (d = r->deferred; d != NULL; d = d->next)
			d->fn(r, d->arg);
	r->deferred = NULL;
}

void
req_detach_env(struct req *r)
{
	r->method_str = arena_strdup(r->a, r->method_str);
	r->path = arena_strdup(r->a, r->path);
	r->request_id = arena_strdup(r->a, r->request_id);
	r->query = "";
	r->remote_addr = "";
	r->content_type = "";
	r->env = NULL;
}

bool
req_is_local(const struct req *r)
{
	return strcmp(r->remote_addr, "127.0.0.1") == 0 ||
	    strcmp(r->remote_addr, "::1") == 0;
}

const char *
req_path_param(const struct req *r, const char *name)
{
	size_t	n = strlen(name);
	int	i;

	for (i = 0; i < r->match.nparams; i++)
		if (r->match.name_len[i] == n &&
		    memcmp(r->match.names[i], name, n) == 0)
			return r->match.values[i];
	return NULL;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode s[0..n) (and '+' to space) into the arena. */
static char *
form_decode(struct arena *a, const char *s, size_t n, size_t *outlen)
{
	char	*o = arena_alloc(a, n + 1);
	size_t	 i, k = 0;
	int	 h, l;

	for (i = 0; i < n; i++) {
		if (s[i] == '+')
			o[k++] = ' ';
		else if (s[i] == '%' && i + 2 < n &&
		    (h = hexval((unsigned char)s[i + 1])) >= 0 &&
		    (l = hexval((unsigned char)s[i + 2])) >= 0) {
			o[k++] = (char)(h << 4 | l);
			i += 2;
		} else
			o[k++] = s[i];
	}
	o[k] = '\0';
	*outlen = k;
	return o;
}

const char *
req_query(struct req *r, const char *name)
{
	const char	*p = r->query, *amp, *eq;
	size_t		 nlen = strlen(name), klen, vlen, dlen;
	char		*key, *val;

	while (*p != '\0') {
		amp = strchr(p, '&');
		if (amp == NULL)
			amp = p + strlen(p);
		eq = memchr(p, '=', (size_t)(amp - p));
		klen = (size_t)((eq ? eq : amp) - p);
		key = form_decode(r->a, p, klen, &dlen);
		if (dlen == nlen && memcmp(key, name, nlen) == 0) {
			vlen = eq ? (size_t)(amp - eq - 1) : 0;
			val = form_decode(r->a, eq ? eq + 1 : amp, vlen, &dlen);
			if (!utf8_valid(val, dlen)) {
				jv_error(&r->v, name, "must be valid UTF-8");
				return NULL;
			}
			return val;
		}
		p = *amp ? amp + 1 : amp;
	}
	return NULL;
}

/* ---- bodies ---- */

int
req_read_body(struct req *r, size_t max)
{
	size_t	want, got = 0;
	ssize_t	n;

	if (r->content_length == -2)
		return req_fail(r, 400, "bad_request", "Content-Length is not a number");
	if (r->content_length <= 0)
		return 0;
	if ((unsigned long long)r->content_length > max) {
		req_drain_body(r);
		return req_fail(r, 413, "payload_too_large",
		    "request body is larger than %zu bytes", max);
	}
	want = (size_t)r->content_length;
	r->body = arena_alloc(r->a, want + 1);
	while (got < want) {
		n = r->io.read ? r->io.read(r->io.ctx, r->body + got, want - got) : -1;
		if (n <= 0)
			return req_fail(r, 400, "bad_request", "request body ended early");
		got += (size_t)n;
	}
	r->body[got] = '\0';
	r->body_len = got;
	return 0;
}

void
req_drain_body(struct req *r)
{
	char	tmp[8192];
	ssize_t	n;

	if (r->io.read == NULL || r->body != NULL)
		return;
	do {
		n = r->io.read(r->io.ctx, tmp, sizeof(tmp));
	} while (n > 0);
}

/* application/json, optionally with parameters (charset=utf-8). */
static bool
is_json_type(const char *t)
{
	size_t n = strlen("application/json");

	while (*t == ' ')
		t++;
	if (strncasecmp(t, "application/json", n) != 0)
		return false;
	t += n;
	while (*t == ' ')
		t++;
	return *t == '\0' || *t == ';';
}

int
req_parse_json(struct req *r, bool required)
{
	const char *why;

	if (r->body_len == 0) {
		if (!required)
			return 0;
		if (*r->content_type != '\0' && !is_json_type(r->content_type))
			return req_fail(r, 415, "unsupported_media_type",
			    "send the body as application/json");
		return req_fail(r, 400, "invalid_json",
		    "a JSON object is required as the request body");
	}
	if (!is_json_type(r->content_type))
		return req_fail(r, 415, "unsupported_media_type",
		    "send the body as application/json");
	r->json = json_parse(r->body, r->body_len, &why);
	if (r->json == NULL)
		return req_fail(r, 400, "invalid_json", "malformed JSON: %s", why);
	jarena(r->a, r->json);
	if (!json_object_is_type(r->json, json_type_object))
		return req_fail(r, 400, "invalid_json",
		    "the request body must be a JSON object");
	return 0;
}

/* ---- errors ---- */

int
req_fail(struct req *r, int status, const char *code, const char *fmt, ...)
{
	va_list ap;

	r->status = status;
	r->err_code = code;
	va_start(ap, fmt);
	r->err_msg = arena_vsprintf(r->a, fmt, ap);
	va_end(ap);
	return -1;
}

int
req_invalid(struct req *r)
{
	return req_fail(r, 422, "validation_failed",
	    "some fields are missing or invalid");
}

int
req_internal(struct req *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	r->internal = arena_vsprintf(r->a, fmt, ap);
	va_end(ap);
	r->status = 500;
	r->err_code = "internal_error";
	r->err_msg = "internal error";
	return -1;
}

bool
req_failed(const struct req *r)
{
	return r->err_code != NULL;
}

/* ---- responses ---- */

int
resp_json(struct req *r, int status, json_object *o)
{
	r->status = status;
	r->resp_type = "application/json";
	buf_reset(r->out);
	json_to_buf(r->out, o);
	return 0;
}

int
resp_raw(struct req *r, int status, const char *type, const char *body,
    size_t len)
{
	r->status = status;
	r->resp_type = type;
	buf_reset(r->out);
	buf_add(r->out, body, len);
	return 0;
}

void
resp_header(struct req *r, const char *name, const char *fmt, ...)
{
	va_list	ap;
	size_t	start = r->hdr->len, i;

	buf_printf(r->hdr, "%s: ", name);
	va_start(ap, fmt);
	buf_vprintf(r->hdr, fmt, ap);
	va_end(ap);
	/* No header splitting, whatever the value. */
	for (i = start; i < r->hdr->len; i++)
		if (r->hdr->data[i] == '\r' || r->hdr->data[i] == '\n')
			r->hdr->data[i] = ' ';
	buf_adds(r->hdr, "\r\n");
}

/* OpenAI's SDKs read error.type and error.param as well. */
static void
openai_error_fields(struct req *r, json_object *e)
{
	const char *type = "api_error", *param = NULL;

	switch (r->status) {
	case 400: case 404: case 413: case 415: case 422:
		type = "invalid_request_error";
		break;
	case 401:
		type = "authentication_error";
		break;
	case 403:
		type = "permission_error";
		break;
	case 429:
		type = strcmp(r->err_code, "quota_exceeded") == 0 ?
		    "insufficient_quota" : "rate_limit_error";
		break;
	}
	if (r->v.fields != NULL) {
		json_object_object_foreach(r->v.fields, k, v) {
			(void)v;
			param = k;
			break;
		}
	}
	json_object_object_add(e, "type", json_object_new_string(type));
	json_object_object_add(e, "param", param ? json_object_new_string(param) : NULL);
}

static void
render_error(struct req *r)
{
	json_object *e, *o;

	if (r->status < 400)
		r->status = 500;
	o = json_object_new_object();
	e = json_object_new_object();
	json_object_object_add(e, "code", json_object_new_string(r->err_code));
	json_object_object_add(e, "message", json_object_new_string(
	    r->err_msg ? r->err_msg : http_status_text(r->status)));
	json_object_object_add(e, "request_id",
	    json_object_new_string(r->request_id));
	if (r->status == 422 && r->v.fields != NULL)
		json_object_object_add(e, "fields", json_object_get(r->v.fields));
	if (r->route != NULL && (r->route->flags & R_OPENAI))
		openai_error_fields(r, e);
	json_object_object_add(o, "error", e);
	resp_json(r, r->status, o);
	json_object_put(o);
}

static void
write_head(struct req *r, struct buf *h, bool with_length)
{
	buf_printf(h, "Status: %d %s\r\n", r->status, http_status_text(r->status));
	if (r->resp_type != NULL)
		buf_printf(h, "Content-Type: %s\r\n", r->resp_type);
	if (with_length)
		buf_printf(h, "Content-Length: %zu\r\n", r->out->len);
	buf_printf(h, "X-Request-Id: %s\r\n", r->request_id);
	buf_adds(h, "X-Content-Type-Options: nosniff\r\n"
	    "Referrer-Policy: no-referrer\r\n"
	    "X-Frame-Options: DENY\r\n");
	if (r->route == NULL || !(r->route->flags & R_NOSTORE_OFF))
		buf_adds(h, "Cache-Control: no-store\r\n");
	buf_add(h, r->hdr->data, r->hdr->len);
	buf_adds(h, "\r\n");
}

static int
io_write(struct req *r, const char *p, size_t n)
{
	if (r->client_gone || r->io.write == NULL)
		return -1;
	if (n > 0 && r->io.write(r->io.ctx, p, n) != 0) {
		r->client_gone = true;
		return -1;
	}
	return 0;
}

void
resp_finish(struct req *r)
{
	struct buf h = BUF_INIT;

	if (r->headers_sent) {
		if (r->io.flush != NULL)
			r->io.flush(r->io.ctx);
		return;
	}
	if (req_failed(r)) {
		render_error(r);
		if (strcmp(r->err_code, "database_unavailable") == 0)
			resp_header(r, "Retry-After", "1");
	}
	if (r->status == 204 || r->status == 304)
		buf_reset(r->out);
	else if (r->resp_type == NULL && r->out->len > 0)
		r->resp_type = "application/octet-stream";
	write_head(r, &h, r->status != 204 && r->status != 304);
	if (r->method != M_HEAD)
		buf_add(&h, r->out->data, r->out->len);
	io_write(r, h.data, h.len);
	buf_free(&h);
}

int
resp_stream_begin(struct req *r, int status, const char *type)
{
	struct buf	h = BUF_INIT;
	int		rc;

	r->status = status;
	r->resp_type = type;
	resp_header(r, "X-Accel-Buffering", "no");
	write_head(r, &h, false);
	r->headers_sent = true;
	rc = io_write(r, h.data, h.len);
	buf_free(&h);
	if (rc == 0 && r->io.flush != NULL && r->io.flush(r->io.ctx) != 0) {
		r->client_gone = true;
		rc = -1;
	}
	return rc;
}

int
resp_stream_write(struct req *r, const char *p, size_t n)
{
	if (io_write(r, p, n) != 0)
		return -1;
	if (r->io.flush != NULL && r->io.flush(r->io.ctx) != 0) {
		r->client_gone = true;
		return -1;
	}
	return 0;
}

/* ---- database ---- */

static void
pqclear_cb(void *p)
{
	PQclear(p);
}

static int
db_failed(struct req *r, enum db_err e, const char *msg)
{
	if (e == DB_QUERY && strcmp(r->sqlstate, "LX401") == 0) {
		resp_header(r, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
		return req_fail(r, 401, "invalid_token",
		    "the credentials are no longer valid; sign in again");
	}
	if (e == DB_QUERY && strcmp(r->sqlstate, "LX403") == 0)
		return req_fail(r, 403, "account_banned", "this account is banned%s%s",
		    *msg ? ": " : "", msg);
	/* A forged cursor's key that is not of the column's type. */
	if (e == DB_QUERY && r->cursor_used && strncmp(r->sqlstate, "22", 2) == 0) {
		jv_error(&r->v, "cursor", "is not a cursor this API returned");
		return req_invalid(r);
	}
	/*
	 * Any other data exception comes from a value of the request that
	 * passed its syntax check but not PostgreSQL's (2026-02-30): the
	 * client's error, not ours. Handlers that can name the field do so.
	 */
	if (e == DB_QUERY && strncmp(r->sqlstate, "22", 2) == 0) {
		r->internal = arena_strdup(r->a, msg);
		return req_fail(r, 422, "invalid_value",
		    "a value of the request is out of range: %s", msg);
	}
	if (e == DB_UNAVAILABLE || e == DB_TIMEOUT) {
		r->internal = arena_strdup(r->a, msg);
		return req_fail(r, 503, "database_unavailable",
		    e == DB_TIMEOUT ? "the database is busy, try again" :
		    "the database is unavailable, try again shortly");
	}
	return req_internal(r, "query failed: %s", msg);
}

static int
ensure_db(struct req *r)
{
	enum db_err e;

	if (r->db != NULL)
		return 0;
	if ((r->db = db_acquire(&e)) == NULL)
		return db_failed(r, e, e == DB_TIMEOUT ?
		    "no pooled connection within acquire_timeout" : "connect failed");
	return 0;
}

PGresult *
req_db(struct req *r, struct db_stmt *st, int n, const char *const *params)
{
	PGresult	*res;
	enum db_err	 e;
	char		 msg[512];

	r->sqlstate[0] = '\0';
	if (ensure_db(r) != 0)
		return NULL;
	if (r->guard != NULL) {
		res = db_exec_guarded(r->db, r->guard, r->guard_n, r->guard_params,
		    st, n, params, &e, r->sqlstate, msg, sizeof(msg));
		r->guard = NULL;
	} else
		res = db_exec(r->db, st, n, params, &e, r->sqlstate, msg, sizeof(msg));
	if (res == NULL) {
		db_failed(r, e, msg);
		return NULL;
	}
	arena_cleanup(r->a, pqclear_cb, res);
	return res;
}

PGresult *
req_db_guarding(struct req *r, struct db_stmt *st, int n,
    const char *const *params)
{
	const char	**p = arena_alloc(r->a, sizeof(*p) * (size_t)(n + 4));
	int		  i;

	if (r->guard != NULL) {
		for (i = 0; i < 4; i++)
			p[i] = i < r->guard_n ? r->guard_params[i] : NULL;
	} else {
		/* Nothing pending (e.g. an API key, already checked). */
		p[0] = NULL;
		p[1] = r->auth.user_id;
		p[2] = r->auth.org_id;
		p[3] = r->auth.role;
	}
	for (i = 0; i < n; i++)
		p[4 + i] = params[i];
	r->guard = NULL;	/* st does the check */
	return req_db(r, st, n + 4, p);
}

static struct db_stmt st_begin = DB_STMT("BEGIN");

int
req_db_begin(struct req *r)
{
	return req_db(r, &st_begin, 0, NULL) != NULL ? 0 : -1;
}

int
req_auth_confirm(struct req *r)
{
	struct db_stmt	*g = r->guard;
	PGresult	*res;
	enum db_err	 e;
	char		 msg[512];

	if (g == NULL)
		return 0;
	r->guard = NULL;
	if (ensure_db(r) != 0)
		return -1;
	res = db_exec(r->db, g, r->guard_n, r->guard_params, &e, r->sqlstate,
	    msg, sizeof(msg));
	if (res == NULL)
		return db_failed(r, e, msg);
	PQclear(res);
	return 0;
}

int
req_db_commit(struct req *r)
{
	enum db_err	e;
	char		msg[512];

	if (r->db == NULL)
		BUG("commit without a connection");
	if (db_simple(r->db, "COMMIT", &e, msg, sizeof(msg)) != 0)
		return db_failed(r, e, msg);
	return 0;
}

void
req_db_release(struct req *r)
{
	if (r->db != NULL) {
		db_release(r->db);
		r->db = NULL;
	}
}

/* ---- pagination ---- */

char *
page_cursor(struct arena *a, const char *ts, const char *id)
{
	char	*raw = arena_sprintf(a, "%s|%s", ts, id);
	size_t	 n = strlen(raw);
	char	*out = arena_alloc(a, n * 4 / 3 + 4);

	b64url_encode(out, raw, n);
	return out;
}

static int
b64url_val(int c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '-') return 62;
	if (c == '_') return 63;
	return -1;
}

int
req_page(struct req *r, struct page *p, long def, long max)
{
	const char	*l = req_query(r, "limit"), *c = req_query(r, "cursor");
	long long	 n;
	size_t		 len, i, o = 0;
	unsigned	 acc = 0;
	int		 bits = 0, v;
	char		*raw, *bar;
	int64_t		 id64;

	p->limit = def;
	p->ts = p->id = NULL;
	if (l != NULL) {
		if (!parse_int(l, 1, max, &n)) {
			jv_error(&r->v, "limit", "must be an integer from 1 to %ld", max);
			return req_invalid(r);
		}
		p->limit = (long)n;
	}
	snprintf(p->fetch, sizeof(p->fetch), "%ld", p->limit + 1);
	if (c == NULL || *c == '\0')
		return jv_failed(&r->v) ? req_invalid(r) : 0;
	len = strlen(c);
	if (len > 200)
		goto bad;
	raw = arena_alloc(r->a, len + 1);
	for (i = 0; i < len; i++) {
		if ((v = b64url_val((unsigned char)c[i])) < 0)
			goto bad;
		acc = acc << 6 | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			raw[o++] = (char)(acc >> bits & 0xff);
		}
	}
	raw[o] = '\0';
	/* "key|uuid": the key is any text (it is only ever a bound parameter). */
	if ((bar = strrchr(raw, '|')) == NULL || bar == raw ||
	    !(uuid_valid(bar + 1) || parse_id64(bar + 1, &id64)) ||
	    !utf8_valid(raw, (size_t)(bar - raw)))
		goto bad;
	*bar = '\0';
	p->ts = raw;
	p->id = bar + 1;
	r->cursor_used = true;
	return 0;
bad:
	jv_error(&r->v, "cursor", "is not a cursor this API returned");
	return req_invalid(r);
}
