/*
 * json.c - strict JSON parsing and field validation.
 */
#include <math.h>
#include <stdlib.h>

#include <libpq-fe.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "json.h"
#include "utf8.h"

/*
 * json-c 0.16 in strict mode still accepts 'single quotes', NaN, Infinity,
 * "1." and raw control characters in strings. This lexical pass rejects
 * them (RFC 8259 tokens only); json-c then checks the structure.
 */
static const char *
lex_check(const char *s, size_t n)
{
	size_t	i = 0, k;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"') {
			for (i++; i < n && s[i] != '"'; i++) {
				if ((unsigned char)s[i] < 0x20)
					return "control character in a string";
				if (s[i] == '\\')
					i++;
			}
			i++;
			continue;
		}
		if (c == '-' || (c >= '0' && c <= '9')) {
			if (c == '-')
				i++;
			if (i >= n || s[i] < '0' || s[i] > '9')
				return "invalid number";
			while (i < n && s[i] >= '0' && s[i] <= '9')
				i++;
			if (i < n && s[i] == '.') {
				if (++i >= n || s[i] < '0' || s[i] > '9')
					return "invalid number";
				while (i < n && s[i] >= '0' && s[i] <= '9')
					i++;
			}
			if (i < n && (s[i] == 'e' || s[i] == 'E')) {
				i++;
				if (i < n && (s[i] == '+' || s[i] == '-'))
					i++;
				if (i >= n || s[i] < '0' || s[i] > '9')
					return "invalid number";
				while (i < n && s[i] >= '0' && s[i] <= '9')
					i++;
			}
			continue;
		}
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
			for (k = i; k < n && ((s[k] >= 'a' && s[k] <= 'z') ||
			    (s[k] >= 'A' && s[k] <= 'Z')); k++)
				;
			if (!((k - i == 4 && memcmp(s + i, "true", 4) == 0) ||
			    (k - i == 5 && memcmp(s + i, "false", 5) == 0) ||
			    (k - i == 4 && memcmp(s + i, "null", 4) == 0)))
				return "unexpected literal";
			i = k;
			continue;
		}
		if (c == '{' || c == '}' || c == '[' || c == ']' || c == ',' ||
		    c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			i++;
			continue;
		}
		return "unexpected character";
	}
	return NULL;
}

json_object *
json_parse(const char *s, size_t n, const char **why)
{
	struct json_tokener	*tok;
	json_object		*o;
	enum json_tokener_error	 e;
	size_t			 off;

	*why = NULL;
	if (n == 0) {
		*why = "empty body";
		return NULL;
	}
	if (n > INT32_MAX) {
		*why = "document too large";
		return NULL;
	}
	if ((*why = lex_check(s, n)) != NULL)
		return NULL;
	tok = json_tokener_new_ex(JSON_MAX_DEPTH);
	if (tok == NULL) {
		*why = "out of memory";
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, s, (int)n);
	e = json_tokener_get_error(tok);
	off = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (o == NULL || e != json_tokener_success) {
		json_object_put(o);
		if (e == json_tokener_continue)
			*why = "unexpected end of input";
		else if (e == json_tokener_error_depth)
			*why = "nesting too deep";
		else
			*why = json_tokener_error_desc(e);
		return NULL;
	}
	for (; off < n; off++) {
		if (s[off] != ' ' && s[off] != '\t' && s[off] != '\n' &&
		    s[off] != '\r') {
			json_object_put(o);
			*why = "unexpected data after the JSON value";
			return NULL;
		}
	}
	return o;
}

static void
jput(void *o)
{
	json_object_put(o);
}

json_object *
jarena(struct arena *a, json_object *o)
{
	arena_cleanup(a, jput, o);
	return o;
}

void
json_to_buf(struct buf *b, json_object *o)
{
	const char	*s;
	size_t		 n;

	s = json_object_to_json_string_length(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	buf_add(b, s, n);
}

json_object *
jstr(const char *s)
{
	return s != NULL ? json_object_new_string(s) : NULL;
}

json_object *
jpg_str(const void *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return NULL;
	return json_object_new_string_len(PQgetvalue(res, row, col),
	    PQgetlength(res, row, col));
}

json_object *
jpg_bool(const void *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return NULL;
	return json_object_new_boolean(PQgetvalue(res, row, col)[0] == 't');
}

json_object *
jpg_int(const void *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return NULL;
	return json_object_new_int64(strtoll(PQgetvalue(res, row, col), NULL, 10));
}

json_object *
jnum(const char *numeric)
{
	const char	*digits = "0123456789";
	const char	*s = numeric + (numeric[0] == '-'), *end;
	size_t		 ni = strspn(s, digits), n;
	char		 tmp[64];

	/* Only -?digits(.digits)? without leading zeros is kept as printed. */
	end = s + ni;
	if (*end == '.' && strspn(end + 1, digits) > 0)
		end += 1 + strspn(end + 1, digits);
	n = strlen(numeric);
	if (ni == 0 || (s[0] == '0' && ni > 1) || *end != '\0' || n >= sizeof(tmp))
		return json_object_new_double(strtod(numeric, NULL));
	memcpy(tmp, numeric, n + 1);
	if (strchr(tmp, '.') != NULL) {
		while (tmp[n - 1] == '0')
			tmp[--n] = '\0';
		if (tmp[n - 1] == '.')
			tmp[--n] = '\0';
	}
	return json_object_new_double_s(strtod(tmp, NULL), tmp);
}

json_object *
jpg_num(const void *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return NULL;
	return jnum(PQgetvalue(res, row, col));
}

/*
 * PostgreSQL's UTC timestamp, as text ("2026-11-22 03:34:25.699123+00") or
 * inside its JSON ("2026-11-22T03:34:25.699123+00:00"), as the API's
 * "2026-11-22T03:34:25.699Z" in out[24]. -1 for anything else.
 */
static int
iso_ms(const char *s, size_t n, char out[24])
{
	static const char	 shape[] = "dddd-dd-ddTdd:dd:dd";
	size_t			 i, tz;

	if (n >= 25 && strcmp(s + n - 6, "+00:00") == 0)
		tz = n - 6;
	else if (n >= 22 && strcmp(s + n - 3, "+00") == 0)
		tz = n - 3;
	else
		return -1;
	for (i = 0; i < 19; i++) {
		if (shape[i] == 'd' ? s[i] < '0' || s[i] > '9' :
		    s[i] != shape[i] && !(i == 10 && s[i] == ' '))
			return -1;
	}
	if (tz > 19 && (s[19] != '.' || tz == 20 || strspn(s + 20, "0123456789") != tz - 20))
		return -1;
	memcpy(out, s, 19);
	out[10] = 'T';
	out[19] = '.';
	for (i = 20; i < 23; i++)
		out[i] = i < tz ? s[i] : '0';
	out[23] = 'Z';
	return 0;
}

json_object *
jpg_time(const void *res, int row, int col)
{
	const char	*s;
	char		 out[24];
	size_t		 n;

	if (PQgetisnull(res, row, col))
		return NULL;
	s = PQgetvalue(res, row, col);
	n = (size_t)PQgetlength(res, row, col);
	if (iso_ms(s, n, out) != 0)
		return json_object_new_string_len(s, (int)n);	/* infinity, BC... */
	return json_object_new_string_len(out, 24);
}

/* Timestamps ("*_at" members) in JSON built by PostgreSQL, as jpg_time's. */
static void
iso_members(json_object *o, int depth)
{
	struct json_object_iterator	 it, end;
	const char			*key, *v;
	json_object			*m;
	char				 out[24];
	size_t				 n, i;

	if (depth > 16)
		return;
	if (json_object_is_type(o, json_type_array)) {
		for (i = 0; i < json_object_array_length(o); i++)
			iso_members(json_object_array_get_idx(o, i), depth + 1);
		return;
	}
	if (!json_object_is_type(o, json_type_object))
		return;
	it = json_object_iter_begin(o);
	end = json_object_iter_end(o);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		key = json_object_iter_peek_name(&it);
		m = json_object_iter_peek_value(&it);
		n = strlen(key);
		if (n > 3 && strcmp(key + n - 3, "_at") == 0 &&
		    json_object_is_type(m, json_type_string)) {
			v = json_object_get_string(m);
			if (iso_ms(v, (size_t)json_object_get_string_len(m), out) == 0)
				json_object_set_string_len(m, out, 24);
		} else {
			iso_members(m, depth + 1);
		}
	}
}

json_object *
jpg_json(const void *res, int row, int col)
{
	json_object	*o;
	const char	*why;

	if (PQgetisnull(res, row, col))
		return NULL;
	o = json_parse(PQgetvalue(res, row, col), (size_t)PQgetlength(res, row, col), &why);
	if (o != NULL)
		iso_members(o, 0);
	return o;
}

void
jv_init(struct jv *v)
{
	v->fields = NULL;
}

void
jv_free(struct jv *v)
{
	json_object_put(v->fields);
	v->fields = NULL;
}

bool
jv_failed(const struct jv *v)
{
	return v->fields != NULL;
}

void
jv_error(struct jv *v, const char *field, const char *fmt, ...)
{
	char	msg[256];
	va_list	ap;

	if (v->fields == NULL)
		v->fields = json_object_new_object();
	if (json_object_object_get_ex(v->fields, field, NULL))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(v->fields, field, json_object_new_string(msg));
}

/* Look a field up; returns NULL when absent (or null and nullable). */
static json_object *
jv_get(struct jv *v, json_object *obj, const char *field, unsigned flags,
    bool *absent)
{
	json_object *f = NULL;

	*absent = true;
	if (obj == NULL || !json_object_object_get_ex(obj, field, &f) ||
	    (f == NULL && (flags & JV_NULLABLE))) {
		if (flags & JV_REQUIRED)
			jv_error(v, field, "is required");
		return NULL;
	}
	if (f == NULL) {
		jv_error(v, field, "must not be null");
		return NULL;
	}
	*absent = false;
	return f;
}

const char *
jv_string(struct jv *v, json_object *obj, const char *field, unsigned flags,
    size_t min, size_t max, struct arena *a)
{
	json_object	*f;
	const char	*s;
	size_t		 n, i, cps;
	bool		 absent;

	if ((f = jv_get(v, obj, field, flags, &absent)) == NULL)
		return NULL;
	if (!json_object_is_type(f, json_type_string)) {
		jv_error(v, field, "must be a string");
		return NULL;
	}
	s = json_object_get_string(f);
	n = (size_t)json_object_get_string_len(f);
	if (flags & JV_TRIM) {
		while (n > 0 && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')) {
			s++;
			n--;
		}
		while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
		    s[n - 1] == '\n' || s[n - 1] == '\r'))
			n--;
	}
	if (!utf8_valid(s, n)) {
		jv_error(v, field, "must be valid UTF-8 without NUL characters");
		return NULL;
	}
	if (flags & JV_SINGLELINE) {
		for (i = 0; i < n; i++) {
			if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
				jv_error(v, field, "must not contain control characters");
				return NULL;
			}
		}
	}
	cps = utf8_count(s, n);
	if (cps < min) {
		if (min == 1)
			jv_error(v, field, "must not be empty");
		else
			jv_error(v, field, "must be at least %zu characters", min);
		return NULL;
	}
	if (cps > max) {
		jv_error(v, field, "must be at most %zu characters", max);
		return NULL;
	}
	return arena_strndup(a, s, n);
}

bool
jv_int(struct jv *v, json_object *obj, const char *field, unsigned flags,
    int64_t min, int64_t max, int64_t *out)
{
	json_object	*f;
	int64_t		 x;
	bool		 absent;

	if ((f = jv_get(v, obj, field, flags, &absent)) == NULL)
		return false;
	if (!json_object_is_type(f, json_type_int)) {
		jv_error(v, field, "must be an integer");
		return false;
	}
	x = json_object_get_int64(f);
	if (x < min || x > max || (x == INT64_MAX &&
	    json_object_get_uint64(f) > (uint64_t)INT64_MAX)) {
		jv_error(v, field, "must be between %lld and %lld",
		    (long long)min, (long long)max);
		return false;
	}
	*out = x;
	return true;
}

bool
jv_double(struct jv *v, json_object *obj, const char *field, unsigned flags,
    double min, double max, double *out)
{
	json_object	*f;
	double		 x;
	bool		 absent;

	if ((f = jv_get(v, obj, field, flags, &absent)) == NULL)
		return false;
	if (!json_object_is_type(f, json_type_double) &&
	    !json_object_is_type(f, json_type_int)) {
		jv_error(v, field, "must be a number");
		return false;
	}
	x = json_object_get_double(f);
	if (!isfinite(x) || x < min || x > max) {
		jv_error(v, field, "must be between %g and %g", min, max);
		return false;
	}
	*out = x;
	return true;
}

bool
jv_bool(struct jv *v, json_object *obj, const char *field, unsigned flags,
    bool *out)
{
	json_object	*f;
	bool		 absent;

	if ((f = jv_get(v, obj, field, flags, &absent)) == NULL)
		return false;
	if (!json_object_is_type(f, json_type_boolean)) {
		jv_error(v, field, "must be true or false");
		return false;
	}
	*out = json_object_get_boolean(f);
	return true;
}

void
jv_only(struct jv *v, json_object *obj, const char *const *allowed)
{
	const char *const *a;

	if (obj == NULL || !json_object_is_type(obj, json_type_object))
		return;
	json_object_object_foreach(obj, key, val) {
		(void)val;
		for (a = allowed; *a != NULL; a++)
			if (strcmp(*a, key) == 0)
				break;
		if (*a == NULL)
			jv_error(v, key, "is not a known field");
	}
}
